"""Who a web visitor is in the services' terms (server, channel, user), and what they may do.

The services know members by (server, channel, user), as Discord gives them. The web maps:

- **The local owner** (bound to loopback, no sign-in configured): user `OWNER_USER_IDS`' smallest id
  (so their /settings defaults and presets are the same as in Discord), or 1 without one; server
  `WEB_SERVER_ID` (1, "the web", never a Discord id: snowflakes are far larger); a moderator there.
- **A member signed in with Discord**: their Discord user id, and the Discord server they chose
  among their servers that this front end serves; moderator as in the bot (Manage Messages in that
  server, or a `MODERATOR_ROLE_IDS` role); their roles for quota tiers and the bulk class.
- **The channel** of every web job is `WEB_CHANNEL_ID` (1): never age-restricted, so content safety
  applies its SFW rules, as in an ordinary Discord channel. It also tells the web's jobs apart from
  Discord's: their events go to the web front end (bot/wiring.py's EventsRouter).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.models import Job, Requester
from bot.services.authz import Actor

WEB_SERVER_ID = 1
WEB_CHANNEL_ID = 1
LOCAL_USER_ID = 1
MANAGE_MESSAGES = 1 << 13
ADMINISTRATOR = 1 << 3


def is_web_job(job: Job) -> bool:
    return job.requester.channel_id == WEB_CHANNEL_ID


@dataclass(frozen=True)
class Membership:
    """One server a signed-in member may use here, as Discord told us at sign-in."""

    guild_id: int
    name: str
    is_moderator: bool
    role_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    guild_id: int
    is_moderator: bool
    role_ids: frozenset[int] = frozenset()
    is_bulk: bool = False
    local_owner: bool = False
    servers: tuple[Membership, ...] = field(default=())

    def requester(self) -> Requester:
        return Requester(user_id=self.user_id, channel_id=WEB_CHANNEL_ID, guild_id=self.guild_id,
                         is_moderator=self.is_moderator, is_bulk=self.is_bulk, role_ids=self.role_ids,
                         channel_nsfw=False)

    def actor(self) -> Actor:
        # message_id None: a web page is not a Discord message; the place and person rules still hold.
        return Actor(user_id=self.user_id, guild_id=self.guild_id, channel_id=WEB_CHANNEL_ID, message_id=None,
                     is_moderator=self.is_moderator)


def local_owner(settings) -> Viewer:
    user_id = min(settings.owner_user_ids) if settings.owner_user_ids else LOCAL_USER_ID
    server = Membership(WEB_SERVER_ID, "this computer", True)
    return Viewer(user_id, "owner", WEB_SERVER_ID, True, local_owner=True, servers=(server,))


def membership(settings, guild: dict, role_ids: frozenset[int]) -> Membership:
    """A server from Discord's /users/@me/guilds (permissions as a decimal string) and the member's
    roles there: moderator exactly as the bot decides it."""
    perms = int(guild.get("permissions") or 0)
    moderator = bool(perms & (MANAGE_MESSAGES | ADMINISTRATOR) or guild.get("owner")
                     or role_ids & settings.moderator_role_ids)
    return Membership(int(guild["id"]), str(guild.get("name") or guild["id"]), moderator, role_ids)


def signed_in(settings, user_id: int, name: str, servers: tuple[Membership, ...],
              guild_id: int | None) -> Viewer | None:
    """The viewer in the chosen server (the first one when none was chosen); None without any."""
    if not servers:
        return None
    chosen = next((s for s in servers if s.guild_id == guild_id), servers[0])
    return Viewer(user_id, name, chosen.guild_id, chosen.is_moderator, chosen.role_ids,
                  bool(chosen.role_ids & settings.bulk_role_ids), servers=servers)
