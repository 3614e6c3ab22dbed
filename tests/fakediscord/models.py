"""Records the fake server keeps, and their Discord JSON shapes.

The JSON builders produce what real Discord sends (and what the OpenAPI spec's *Response schemas
require), because discord.py indexes many keys without .get() and crashes on a missing one.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import mimetypes
import struct
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1

DEFAULT_USER_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | EMBED_LINKS | ATTACH_FILES
    | ADD_REACTIONS | USE_EXTERNAL_EMOJIS | USE_APPLICATION_COMMANDS | CREATE_INSTANT_INVITE
)
DEFAULT_APP_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
DM_CHANNEL = 1  # channel type of a DM between the bot and one user


class Snowflakes:
    """Monotonic snowflakes carrying the current time, like Discord's (discord.py derives
    Interaction.created_at / expires_at from the id)."""

    def __init__(self) -> None:
        self._seq = itertools.count()
        self._last = 0

    def next(self) -> int:
        value = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (next(self._seq) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat()


def guess_content_type(filename: str) -> str:
    # discord.py uploads every file as application/octet-stream; Discord infers the type from the name.
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def image_size(data: bytes) -> tuple | None:
    """(width, height) of a PNG, else None (Discord adds width/height for images)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


@dataclass
class User:
    id: int
    username: str
    permissions: int = DEFAULT_USER_PERMISSIONS
    bot: bool = False
    role_id: int = 0  # personal role carrying `permissions`, so discord.py computes the same perms
    roles: dict[int, int] = field(default_factory=dict)  # shared roles given (FakeDiscord.give_role): id -> bits
    # None: a member of every guild with `permissions`. Else the guilds joined, each with its own
    # permissions (FakeDiscord.add_user(guilds=...)): a moderator in one server, a member in another.
    guild_permissions: dict[int, int] | None = None

    def is_member(self, guild_id: int) -> bool:
        return self.guild_permissions is None or guild_id in self.guild_permissions

    def permissions_in(self, guild_id: int | None) -> int:
        """The personal role's bits in that guild (`permissions` when joined everywhere)."""
        if self.guild_permissions is None or guild_id is None:
            return self.permissions
        return self.guild_permissions.get(guild_id, 0)

    def effective_permissions(self, guild_id: int | None = None) -> int:
        """Guild-wide permissions: the personal role's and every shared role's (@everyone has none)."""
        bits = self.permissions_in(guild_id)
        for role_bits in self.roles.values():
            bits |= role_bits
        return ALL_PERMISSIONS if bits & ADMINISTRATOR else bits


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    created: float = field(default_factory=time.time)
    locale: str = "en-US"  # the server's preferred locale (Community servers choose it)


@dataclass
class Channel:
    id: int
    guild_id: int  # 0: a DM channel (type 1), which belongs to no guild
    name: str
    nsfw: bool = False
    type: int = 0  # GUILD_TEXT
    position: int = 0
    topic: str | None = None
    app_permissions: int = DEFAULT_APP_PERMISSIONS
    recipient_id: int | None = None  # a DM channel: the user the bot talks to

    @property
    def is_dm(self) -> bool:
        return self.type == DM_CHANNEL


@dataclass
class Attachment:
    id: int
    filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False)
    description: str | None = None
    spoiler: bool = False


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    created: float = field(default_factory=time.time)
    edited_timestamp: str | None = None
    edit_count: int = 0
    interaction_id: int | None = None
    webhook_id: int | None = None
    deleted: bool = False
    mentions: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    message_reference: dict[str, Any] | None = None
    edit_times: list[float] = field(default_factory=list, repr=False)  # monotonic, for the edit rate rule

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None


def walk_components(components: list[dict[str, Any]]):
    """Depth-first over action rows, containers, sections, labels and their children."""
    for comp in components or []:
        yield comp
        yield from walk_components(comp.get("components") or [])
        for key in ("accessory", "component"):  # section accessory; label wrapping one component
            if isinstance(comp.get(key), dict):
                yield comp[key]


def user_json(user: User) -> dict[str, Any]:
    data = {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": None if user.bot else user.username,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "banner": None,
        "accent_color": None,
    }
    if user.bot:
        data["bot"] = True
    return data


def role_json(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
        "description": None,
    }


def member_json(user: User, guild: Guild, permissions: int | None = None) -> dict[str, Any]:
    data = {
        "user": user_json(user),
        "roles": ([str(user.role_id)] if user.role_id else []) + [str(r) for r in user.roles],
        "joined_at": iso(guild.created),
        "nick": None,
        "avatar": None,
        "banner": None,
        "premium_since": None,
        "communication_disabled_until": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
    }
    if permissions is not None:  # interactions carry the computed channel permissions
        data["permissions"] = str(permissions)
    return data


def dm_channel_json(channel: Channel, recipient: User) -> dict[str, Any]:
    """A DM channel as Discord sends it (PrivateChannelResponse): no guild, no name, recipients."""
    return {"id": str(channel.id), "type": DM_CHANNEL, "last_message_id": None, "flags": 0,
            "recipients": [user_json(recipient)]}


def channel_json(channel: Channel, bot: User | None = None) -> dict[str, Any]:
    overwrites = []
    if bot is not None:
        # The bot's channel permissions are expressed as a member overwrite, so discord.py's
        # channel.permissions_for(guild.me) agrees with what the server enforces.
        overwrites.append({
            "id": str(bot.id), "type": 1,
            "allow": str(channel.app_permissions), "deny": str(ALL_PERMISSIONS & ~channel.app_permissions),
        })
    return {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "flags": 0,
        "parent_id": None,
        "topic": channel.topic,
        "nsfw": channel.nsfw,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "permission_overwrites": overwrites,
    }


def attachment_json(att: Attachment, base_url: str, channel_id: int, ephemeral: bool = False) -> dict[str, Any]:
    url = f"{base_url}/attachments/{channel_id}/{att.id}/{att.filename}"
    data: dict[str, Any] = {
        "id": str(att.id),
        "filename": att.filename,
        "size": att.size,
        "url": url,
        "proxy_url": url,
        "content_type": att.content_type,
    }
    dims = image_size(att.data)
    if dims:
        data["width"], data["height"] = dims
    if att.description is not None:
        data["description"] = att.description
    if ephemeral:
        data["ephemeral"] = True
    return data


@dataclass(eq=False)
class Interaction:
    """One interaction the server dispatched, and everything the bot did with it."""

    id: int
    type: int  # 2 application command, 3 message component, 4 autocomplete, 5 modal submit
    token: str = field(repr=False)  # never printed: it is a credential
    user_id: int = 0
    guild_id: int = 0
    channel_id: int = 0
    name: str = ""  # command name or custom_id, for readable reports
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    message_id: int | None = None  # the message a component was clicked on
    opened_by: int | None = None  # for a modal submit: the interaction answered with the modal
    dispatched_at: float | None = None  # time.monotonic() when INTERACTION_CREATE was written
    first_callback_at: float | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)  # accepted callbacks {type, data}
    callback_attempts: list[dict[str, Any]] = field(default_factory=list)  # every attempt + status/code
    acknowledged: bool = False
    ephemeral: bool = False
    original_message_id: int | None = None  # message created by a type 4/5 response
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = field(default=None, repr=False)  # data of a type 9 response
    choices: list[dict[str, Any]] | None = None  # the autocomplete answer (type 8)
    expired: bool = False  # forced by FakeDiscord.expire_tokens()
    expired_uses: int = 0

    def __post_init__(self) -> None:
        self._first_callback = None  # asyncio.Event, created lazily on the running loop

    def _event(self):
        import asyncio

        if self._first_callback is None:
            self._first_callback = asyncio.Event()
        return self._first_callback

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the first callback attempt (accepted or not)."""
        if self.first_callback_at is None or self.dispatched_at is None:
            return None
        return self.first_callback_at - self.dispatched_at

    @property
    def original_target_id(self) -> int | None:
        """What /messages/@original refers to: the response message, else the clicked message."""
        return self.original_message_id if self.original_message_id is not None else self.message_id

    async def wait_ack(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the first callback attempt; returns its payload {type, data, status, code}."""
        import asyncio

        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"interaction {self.id} ({self.name!r}) got no callback within {timeout}s"
            ) from None
        return self.callback_attempts[0]
