"""FakeDiscord: a Discord-compatible test server for an unmodified discord.py bot.

State lives here; REST routes are in rest.py, the gateway in gateway.py, Discord's rules in
rules.py, message handling in messages.py and interaction payloads in interactions.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from . import interactions as I
from . import messages as M
from . import spec as spec_mod
from .gateway import INTENT_GUILD_MEMBERS, INTENT_GUILD_MESSAGES, Gateway
from .models import (
    ATTACHMENT_SIZE_LIMIT,
    DEFAULT_APP_PERMISSIONS,
    DEFAULT_USER_PERMISSIONS,
    DM_CHANNEL,
    Attachment,
    Channel,
    Guild,
    Interaction,
    Message,
    Snowflakes,
    User,
    channel_json,
    dm_channel_json,
    iso,
    member_json,
    role_json,
    user_json,
)
from .oauth import OAuth
from .rest import RequestRecord, Rest

UserRef = User | int
ChannelRef = Channel | int


class FakeDiscord:
    def __init__(self, token: str = "test-token", token_ttl: float = 900.0, ack_deadline: float = 3.0,
                 spec_path: Path | None = None, *, edit_rate: tuple = (5, 5.0), expired_token_retries: int = 2,
                 max_identifies: int = 1000, global_rate: int = 50,
                 attachment_size_limit: int = ATTACHMENT_SIZE_LIMIT, bot_name: str = "PixelForge") -> None:
        self.token = token
        # The Discord client only sends a click for a component that is on the clicked message (and
        # enabled, and a select value that was offered). False turns that off, to send what a
        # hostile client could: any custom_id (or value) on any message the user can see.
        self.validate_components = True
        # user id -> seconds: the responses to that user's next interaction callbacks reach the bot
        # this much later (replies that come back out of order); see delay_replies().
        self.reply_delays: dict[int, list[float]] = {}
        self.token_ttl = token_ttl
        self.ack_deadline = ack_deadline
        self.edit_rate = edit_rate  # (edits, seconds) allowed per message
        self.expired_token_retries = expired_token_retries  # uses of an expired token tolerated (races)
        self.max_identifies = max_identifies
        self.global_rate = global_rate
        self.attachment_size_limit = attachment_size_limit
        self.spec = spec_mod.load(str(spec_path) if spec_path else None)

        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        self.bot_user_id = self.application_id  # for current apps the bot user id is the application id
        self.bot_user = User(self.bot_user_id, bot_name, DEFAULT_APP_PERMISSIONS, bot=True, role_id=self.ids.next())
        self.owner = User(self.ids.next(), "owner")

        self.guilds: dict[int, Guild] = {}
        self.shared_roles: dict[int, tuple[str, int]] = {}  # role id -> (name, permission bits), every guild
        self.channels: dict[int, Channel] = {}
        self.users: dict[int, User] = {self.bot_user_id: self.bot_user}
        self.attachments: dict[int, Attachment] = {}
        # Attachment URLs are signed and expire; expire_attachment_urls() makes every one issued so
        # far answer 404, as Discord's CDN does. attachment_delay: seconds each download waits.
        self.expired_attachments: set[int] = set()
        self.attachment_delay = 0.0
        self.attachment_downloads: list[int] = []  # attachment ids, one per download served
        self.all_messages: list[Message] = []
        self._messages_by_id: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple] = []  # (guild_id or None, [names]) per bulk overwrite

        self.violations: list[str] = []
        self.expired_token_uses: list[dict[str, Any]] = []
        self.requests: list[RequestRecord] = []

        self.gateway = Gateway(self)
        self.rest = Rest(self)
        self.oauth = OAuth(self)  # sign-in with Discord (the web front end): tests/fakediscord/oauth.py
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._change = asyncio.Event()  # replaced on every change; see _changed()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/oauth2/authorize", self.oauth.authorize)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        return self

    async def _api(self, request: web.Request) -> web.StreamResponse:
        """The bot's REST API, or OAuth2 (the token endpoint and bearer-token reads)."""
        if self.oauth.handles(request):
            return await self.oauth.handle(request)
        return await self.rest.handle(request)

    def add_oauth_client(self, client_id: int, secret: str, redirect_uri: str) -> None:
        self.oauth.clients[client_id] = (secret, redirect_uri)

    async def stop(self) -> None:
        if self._runner is not None:
            await self.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    def env(self) -> dict[str, str]:
        """Environment for a bot subprocess pointed at this server."""
        return {"DISCORD_API_BASE": self.api_base, "DISCORD_GATEWAY_URL": self.gateway_url, "DISCORD_TOKEN": self.token}

    # --- world setup ----------------------------------------------------------------------------

    def add_guild(self, name: str = "Test", *, locale: str = "en-US") -> Guild:
        guild = Guild(self.ids.next(), name, self.owner.id, locale=locale)
        self.guilds[guild.id] = guild
        self.gateway.dispatch_soon("GUILD_CREATE", self.guild_create_json(guild, self._intents()))
        return guild

    def add_channel(self, guild_id: int, name: str = "general", nsfw: bool = False, *,
                    app_permissions: int = DEFAULT_APP_PERMISSIONS) -> Channel:
        if guild_id not in self.guilds:
            raise ValueError(f"unknown guild {guild_id}")
        position = sum(1 for c in self.channels.values() if c.guild_id == guild_id)
        channel = Channel(self.ids.next(), guild_id, name, nsfw, position=position, app_permissions=app_permissions)
        self.channels[channel.id] = channel
        self.gateway.dispatch_soon("CHANNEL_CREATE", channel_json(channel, self.bot_user))
        return channel

    def add_user(self, username: str, permissions: int = DEFAULT_USER_PERMISSIONS, *,
                 guilds: dict[int, int] | None = None) -> User:
        """A human member of every guild; pass MANAGE_MESSAGES (etc.) for moderators. `guilds`
        (guild id -> permissions): a member of those guilds only, with their own permissions in each
        (a moderator of one server who is a plain member, or not a member at all, of another)."""
        joined = None if guilds is None else {int(getattr(g, "id", g)): bits for g, bits in guilds.items()}
        user = User(self.ids.next(), username, permissions, role_id=self.ids.next(), guild_permissions=joined)
        self.users[user.id] = user
        if self._intents() & INTENT_GUILD_MEMBERS:
            for guild in self.guilds.values():
                if not user.is_member(guild.id):
                    continue
                member = dict(self.member_json(user, guild), guild_id=str(guild.id))
                self.gateway.dispatch_soon("GUILD_MEMBER_ADD", member)
        for guild in self.guilds.values():
            if user.is_member(guild.id):
                self.gateway.dispatch_soon("GUILD_ROLE_CREATE", {"guild_id": str(guild.id),
                                                                 "role": self._user_role(user, guild.id)})
        return user

    def open_dm(self, user: UserRef) -> Channel:
        """The DM channel between the bot and `user` (one per user, as on Discord): type 1, no guild."""
        user = self._user(user)
        for channel in self.channels.values():
            if channel.is_dm and channel.recipient_id == user.id:
                return channel
        channel = Channel(self.ids.next(), 0, f"dm-{user.username}", type=DM_CHANNEL, recipient_id=user.id)
        self.channels[channel.id] = channel
        return channel

    def add_role(self, name: str, permissions: int = 0) -> int:
        """A role in every guild (a moderator role, a quota tier); give it with give_role()."""
        role_id = self.ids.next()
        self.shared_roles[role_id] = (name, permissions)
        for guild in self.guilds.values():
            self.gateway.dispatch_soon("GUILD_ROLE_CREATE", {"guild_id": str(guild.id),
                                                             "role": role_json(role_id, name, permissions, 2)})
        return role_id

    def give_role(self, user: UserRef, role_id: int) -> None:
        """Give a member a role made with add_role(); interactions carry it from now on."""
        user = self._user(user)
        if role_id not in self.shared_roles:
            raise ValueError(f"unknown role {role_id}: make it with add_role()")
        user.roles[role_id] = self.shared_roles[role_id][1]
        if self._intents() & INTENT_GUILD_MEMBERS:
            for guild in self.guilds.values():
                if not user.is_member(guild.id):
                    continue
                self.gateway.dispatch_soon("GUILD_MEMBER_UPDATE", dict(self.member_json(user, guild),
                                                                       guild_id=str(guild.id)))
        self._changed()

    def set_app_permissions(self, channel_id: ChannelRef, bits: int) -> None:
        channel = self._channel(channel_id)
        channel.app_permissions = bits
        self.gateway.dispatch_soon("CHANNEL_UPDATE", channel_json(channel, self.bot_user))
        self._changed()

    def set_channel_nsfw(self, channel_id: ChannelRef, nsfw: bool) -> None:
        """A server admin toggles the channel's age restriction (sent to the bot as CHANNEL_UPDATE)."""
        channel = self._channel(channel_id)
        channel.nsfw = nsfw
        self.gateway.dispatch_soon("CHANNEL_UPDATE", channel_json(channel, self.bot_user))
        self._changed()

    def add_message(self, channel_id: ChannelRef, author: UserRef, content: str) -> Message:
        """A message posted by a (human) user, e.g. to check the bot cannot edit it."""
        channel, user = self._channel(channel_id), self._user(author)
        msg = Message(self.ids.next(), channel.id, channel.guild_id, user.id, content=content)
        self._store_message(msg)
        return msg

    # --- observation ----------------------------------------------------------------------------

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Latest synced commands: global ones, then each guild's (those carry guild_id)."""
        out = list(self.global_commands)
        for cmds in self.guild_commands.values():
            out.extend(cmds)
        return out

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def connected(self) -> bool:
        """The bot has a live, READY gateway session."""
        return self.gateway.ready

    def messages(self, channel_id: ChannelRef) -> list[Message]:
        """Visible messages in order: no deleted and no ephemeral ones."""
        cid = self._channel(channel_id).id
        return [m for m in self.all_messages if m.channel_id == cid and not m.deleted and not m.ephemeral]

    def get_message(self, message_id: int) -> Message | None:
        return self._messages_by_id.get(int(message_id))

    def violation(self, text: str) -> None:
        self.violations.append(text)
        self._changed()

    async def wait_for(self, predicate: Callable[[FakeDiscord], Any], timeout: float = 10.0,
                       description: str | None = None) -> Any:
        """Wait until predicate(server) is truthy (re-checked on every state change); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._describe_timeout(predicate, timeout, description))
            event = self._change
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.5))

    def _describe_timeout(self, predicate: Callable, timeout: float, description: str | None) -> str:
        what = description or getattr(predicate, "__qualname__", repr(predicate))
        recent = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-12:]) or "  (none)"
        return (f"timed out after {timeout}s waiting for {what}\n"
                f"gateway: connected={self.connected} identifies={self.identify_count}\n"
                f"last requests:\n{recent}\nviolations: {self.violations or 'none'}")

    async def wait_ready(self, timeout: float = 30.0, *, logins: int | None = None) -> None:
        """The bot IDENTIFIED (or RESUMED) and got READY plus every GUILD_CREATE.

        `logins=n` also waits for the n-th IDENTIFY (e.g. 2 after a restart)."""
        # Let the loop read a just-killed bot's closed socket first, so a stale session of the
        # previous process does not count as ready.
        await asyncio.sleep(0.05)
        await self.wait_for(lambda s: s.gateway.ready and (logins is None or s.identify_count >= logins), timeout,
                            "the bot to connect and get READY" + (f" (login #{logins})" if logins else ""))

    async def wait_commands(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda s: s.command_syncs, timeout, "a command sync (PUT .../commands)")
        return self.commands

    def expire_tokens(self) -> None:
        """Every interaction token issued so far expires now (as 15 minutes later would)."""
        for i in self.interactions.values():
            i.expired = True
        self._changed()

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Drop the bot's websocket as Discord sometimes does (discord.py should RESUME)."""
        await self.gateway.disconnect(code)

    # --- interactions ---------------------------------------------------------------------------

    def delay_replies(self, user: UserRef, *seconds: float) -> None:
        """Hold back the HTTP responses to `user`'s next interaction callbacks, one delay each."""
        self.reply_delays.setdefault(self._user(user).id, []).extend(seconds)

    async def invoke_slash(self, user: UserRef, channel: ChannelRef, name: str,
                           options: dict[str, Any] | None = None, *, locale: str = "en-US",
                           admin_override: bool = False) -> Interaction:
        """Run `/name` (or "group sub") as `user` in `channel`, as the Discord client would."""
        user, channel = self._user(user), self._channel(channel)
        guild = self.guilds.get(channel.guild_id)  # None in a DM
        root, path = I.split_command(name)
        cmd = I.find_command(self, channel.guild_id, root)
        I.check_command_access(cmd, user, channel, admin_override)
        resolved: dict[str, dict[str, Any]] = {}
        perms = user.effective_permissions(channel.guild_id)
        opts = I.build_options(self, cmd, path, dict(options or {}), guild, perms, resolved)
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if opts:  # Discord omits `options` when the user gave none
            data["options"] = opts
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch_interaction(2, user, channel, data, " ".join([root, *path]), locale=locale)

    async def autocomplete(self, user: UserRef, channel: ChannelRef, name: str, options: dict[str, Any] | None,
                           focused: str, typed: str = "", *, locale: str = "en-US") -> Interaction:
        """Type `typed` into option `focused` of `/name` (with `options` filled in so far), as the
        client does while the member types: an APPLICATION_COMMAND_AUTOCOMPLETE interaction. The
        bot's answer (type 8) lands in `interaction.choices`."""
        user, channel = self._user(user), self._channel(channel)
        guild = self.guilds.get(channel.guild_id)  # None in a DM
        root, path = I.split_command(name)
        cmd = I.find_command(self, channel.guild_id, root)
        I.check_command_access(cmd, user, channel, False)
        resolved: dict[str, dict[str, Any]] = {}
        perms = user.effective_permissions(channel.guild_id)
        opts = I.build_options(self, cmd, path, dict(options or {}), guild, perms, resolved)
        I.add_focused(cmd, path, opts, focused, typed)
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": opts}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch_interaction(4, user, channel, data, " ".join([root, *path]), locale=locale)

    def expire_attachment_urls(self) -> None:
        """Every attachment URL issued so far stops resolving (404), as signed CDN URLs do."""
        self.expired_attachments.update(self.attachments)
        self._changed()

    async def click_button(self, user: UserRef, message_id: int, custom_id: str, *,
                           locale: str = "en-US") -> Interaction:
        user, msg = self._user(user), self._clickable(user, message_id)
        # validate_components off: a forged click, whatever custom_id the client sends, on this message
        comp = I.find_button(msg, custom_id) if self.validate_components else msg.find_component(custom_id) or {}
        data = {"custom_id": custom_id, "component_type": 2, "id": comp.get("id")}
        return await self._dispatch_interaction(3, user, self.channels[msg.channel_id], data, custom_id,
                                                message=msg, locale=locale)

    async def select(self, user: UserRef, message_id: int, custom_id: str, values: list[str], *,
                     locale: str = "en-US") -> Interaction:
        user, msg = self._user(user), self._clickable(user, message_id)
        if self.validate_components:
            comp = I.find_select(msg, custom_id, values)
        else:  # a forged choice: any custom_id and values, on this message
            comp = msg.find_component(custom_id) or {"type": 3}
        data = {"custom_id": custom_id, "component_type": comp["type"], "values": list(values), "id": comp.get("id")}
        return await self._dispatch_interaction(3, user, self.channels[msg.channel_id], data, custom_id,
                                                message=msg, locale=locale)

    async def submit_modal(self, user: UserRef, opened_by: Interaction, values: dict[str, str], *,
                           locale: str = "en-US") -> Interaction:
        """Submit the modal the bot answered `opened_by` with (a type 9 response)."""
        user = self._user(user)
        if opened_by.modal is None:
            raise ValueError(f"interaction {opened_by.id} ({opened_by.name!r}) was not answered with a modal")
        if user.id != opened_by.user_id:
            raise ValueError("only the user who opened a modal can submit it")
        modal = opened_by.modal
        data = {"custom_id": modal["custom_id"], "components": I.modal_submit_components(modal, values)}
        msg = self.get_message(opened_by.message_id) if opened_by.message_id else None
        return await self._dispatch_interaction(5, user, self.channels[opened_by.channel_id], data, modal["custom_id"],
                                                message=msg, locale=locale, opened_by=opened_by.id)

    def _clickable(self, user: User, message_id: int) -> Message:
        msg = self.get_message(message_id)
        if msg is None or msg.deleted:
            raise ValueError(f"message {message_id} does not exist (or was deleted)")
        channel = self.channels[msg.channel_id]
        visible = channel.recipient_id == user.id if channel.is_dm else user.is_member(channel.guild_id)
        if not visible:
            raise ValueError(f"{user.username} cannot see message {message_id} (not in that guild or DM)")
        if msg.ephemeral:
            owner = self.interactions.get(msg.interaction_id)
            if owner is None or owner.user_id != user.id:
                raise ValueError(f"message {message_id} is ephemeral: only its recipient sees it")
        return msg

    async def _dispatch_interaction(self, itype: int, user: User, channel: Channel, data: dict[str, Any], name: str,
                                    *, message: Message | None = None, locale: str = "en-US",
                                    opened_by: int | None = None) -> Interaction:
        guild = self.guilds.get(channel.guild_id)  # None in a DM
        i = Interaction(id=self.ids.next(), type=itype, token=secrets.token_urlsafe(48), user_id=user.id,
                        guild_id=guild.id if guild else 0, channel_id=channel.id, name=name, data=data,
                        message_id=message.id if message else None, opened_by=opened_by)
        payload: dict[str, Any] = {
            "id": str(i.id), "application_id": str(self.application_id), "type": itype, "token": i.token,
            "version": 1, "channel_id": str(channel.id), "app_permissions": str(channel.app_permissions),
            "locale": locale, "entitlements": [], "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit, "data": data,
        }
        if guild is None:
            # A bot DM (context 1): no guild, no member; the user object itself, and the guild
            # install's integration owner is "0".
            payload.update({"channel": dm_channel_json(channel, user), "user": user_json(user),
                            "authorizing_integration_owners": {"0": "0"}, "context": 1})
        else:
            perms = user.effective_permissions(guild.id)
            channel_data = channel_json(channel)
            channel_data["permissions"] = str(perms)
            payload.update({
                "guild_id": str(guild.id), "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
                "channel": channel_data, "member": self.member_json(user, guild, permissions=perms),
                "guild_locale": guild.locale, "authorizing_integration_owners": {"0": str(guild.id)}, "context": 0,
            })
        if message is not None:
            payload["message"] = M.message_json(self, message)
        self.interactions[i.id] = i
        self._by_token[i.token] = i
        i.dispatched_at = time.monotonic()  # the 3 s clock starts as the event leaves
        i.dispatched_at = await self.gateway.dispatch("INTERACTION_CREATE", payload)
        self._changed()
        return i

    # --- JSON for the gateway and REST ------------------------------------------------------------

    def bot_user_json(self) -> dict[str, Any]:
        data = user_json(self.bot_user)
        data.update({"verified": True, "mfa_enabled": False, "email": None})
        return data

    def all_members(self, guild: Guild | None = None) -> list[User]:
        return [u for u in self.users.values() if guild is None or u.is_member(guild.id)]

    def member_json(self, user: User, guild: Guild, permissions: int | None = None) -> dict[str, Any]:
        return member_json(user, guild, permissions)

    def _user_role(self, user: User, guild_id: int | None = None) -> dict[str, Any]:
        # One role per member carries its guild-wide permissions (@everyone has none), so
        # discord.py's member.guild_permissions matches what interactions report.
        return role_json(user.role_id, f"{'bot' if user.bot else 'member'}:{user.username}",
                         user.permissions_in(guild_id), 1)

    def roles(self, guild: Guild) -> dict[int, dict[str, Any]]:
        roles = {guild.id: I.everyone_role(guild)}
        roles.update({u.role_id: self._user_role(u, guild.id) for u in self.users.values() if u.is_member(guild.id)})
        roles.update({rid: role_json(rid, name, bits, 2) for rid, (name, bits) in self.shared_roles.items()})
        return roles

    def guild_create_json(self, guild: Guild, intents: int) -> dict[str, Any]:
        members = self.all_members(guild) if intents & INTENT_GUILD_MEMBERS else [self.bot_user]
        return {
            "id": str(guild.id), "name": guild.name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": str(guild.owner_id), "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 1,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": guild.locale, "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "public_updates_channel_id": None,
            "safety_alerts_channel_id": None, "vanity_url_code": None, "max_members": 500000,
            "premium_progress_bar_enabled": False, "application_id": None,
            "unavailable": False, "large": False, "lazy": True, "joined_at": iso(guild.created),
            "member_count": len(self.all_members(guild)),
            "roles": list(self.roles(guild).values()),
            "channels": [channel_json(c, self.bot_user) for c in self.channels.values() if c.guild_id == guild.id],
            "members": [self.member_json(u, guild) for u in members],
            "threads": [], "presences": [], "voice_states": [], "emojis": [], "stickers": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    def _intents(self) -> int:
        current = self.gateway.current
        return current.intents if current is not None else 0

    # --- internal state changes -------------------------------------------------------------------

    def _changed(self) -> None:
        """Wake wait_for() callers: any request, event or state change may satisfy a predicate."""
        self._change.set()
        self._change = asyncio.Event()

    def _store_message(self, msg: Message) -> None:
        self.all_messages.append(msg)
        self._messages_by_id[msg.id] = msg
        if not msg.ephemeral and self._intents() & INTENT_GUILD_MESSAGES:
            self.gateway.dispatch_soon("MESSAGE_CREATE", M.message_json(self, msg, gateway=True))
        self._changed()

    def _message_changed(self, msg: Message) -> None:
        if not msg.ephemeral and self._intents() & INTENT_GUILD_MESSAGES:
            self.gateway.dispatch_soon("MESSAGE_UPDATE", M.message_json(self, msg, gateway=True))
        self._changed()

    def _delete_message(self, msg: Message) -> None:
        msg.deleted = True
        if not msg.ephemeral and self._intents() & INTENT_GUILD_MESSAGES:
            self.gateway.dispatch_soon("MESSAGE_DELETE", {"id": str(msg.id), "channel_id": str(msg.channel_id),
                                                          "guild_id": str(msg.guild_id)})
        self._changed()

    def _store_commands(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite: keep ids of commands that still exist (same name and type), like Discord."""
        previous = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        old_ids = {(c["name"], c["type"]): c["id"] for c in previous}
        stored = []
        for cmd in commands:
            ctype = cmd.get("type") or 1
            perms = cmd.get("default_member_permissions")
            record = {k: v for k, v in cmd.items() if v is not None}
            record.update({
                "id": old_ids.get((cmd["name"], ctype)) or str(self.ids.next()),
                "application_id": str(self.application_id), "version": str(self.ids.next()), "type": ctype,
                "description": cmd.get("description") or "",
                "default_member_permissions": None if perms is None else str(perms),
                "nsfw": bool(cmd.get("nsfw")),
            })
            if guild_id is not None:
                record.pop("dm_permission", None)  # meaningless for guild commands; Discord drops it
                record["guild_id"] = str(guild_id)
            stored.append(record)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.command_syncs.append((guild_id, [c["name"] for c in stored]))
        return stored

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        aid = request.match_info["attachment_id"]
        att = self.attachments.get(int(aid)) if aid.isdigit() else None
        if att is None or att.filename != request.match_info["filename"] or att.id in self.expired_attachments:
            return web.Response(status=404, body=b"This content is no longer available.")
        if self.attachment_delay:
            await asyncio.sleep(self.attachment_delay)
        self.attachment_downloads.append(att.id)
        self._changed()
        return web.Response(body=att.data, headers={"Content-Type": att.content_type})

    def _user(self, ref: UserRef) -> User:
        user = self.users.get(int(getattr(ref, "id", ref)))
        if user is None:
            raise ValueError(f"unknown user {ref!r}")
        return user

    def _channel(self, ref: ChannelRef) -> Channel:
        channel = self.channels.get(int(getattr(ref, "id", ref)))
        if channel is None:
            raise ValueError(f"unknown channel {ref!r}")
        return channel
