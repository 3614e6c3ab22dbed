"""What every web handler shares: the services, the web's job events, sessions, and the checks that
run before any action (CSRF, bans) and before any image is shown."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.errors import Banned, NotFound
from bot.models import Job, JobStatus, StoredImage
from bot.web.events import WebEvents
from bot.web.identity import WEB_SERVER_ID, Viewer, local_owner
from bot.web.sessions import Sessions, csrf_ok

log = logging.getLogger(__name__)

@dataclass
class WebContext:
    core: Any  # bot.wiring.Services
    events: WebEvents
    sessions: Sessions
    settings: Any
    local_owner: bool  # bound to loopback without sign-in: every visitor is the owner
    discord_client: Any = None  # the Discord client when both run (its servers decide who signs in)
    http: Any = None  # aiohttp.ClientSession for sign-in
    review: Any = None  # bot.services.review.ReviewService

    def served_guilds(self) -> set[int]:
        """The Discord servers signed-in members may use here: the bot's servers when the Discord
        client runs beside, else WEB_GUILD_IDS."""
        if self.discord_client is not None:
            return {guild.id for guild in self.discord_client.guilds}
        return set(self.settings.web_guild_ids)

    def is_moderator(self, guild_id: int, user_id: int) -> bool:
        """Whether a member named in a moderator's form is a moderator there (they cannot be banned)."""
        if guild_id == WEB_SERVER_ID:
            return user_id == local_owner(self.settings).user_id
        guild = self.discord_client.get_guild(guild_id) if self.discord_client is not None else None
        member = guild.get_member(user_id) if guild is not None else None
        if member is None:
            return False
        roles = {role.id for role in getattr(member, "roles", [])}
        return bool(member.guild_permissions.manage_messages or roles & self.settings.moderator_role_ids)

    @property
    def signin_configured(self) -> bool:
        return bool(self.settings.web_oauth_client_id and self.settings.web_oauth_client_secret)

    def check_csrf(self, request: web.Request, sent: object) -> None:
        """`sent` is the form's csrf field as posted: anything but the session's token (a file, say) fails."""
        if not csrf_ok(request.get("session"), sent):
            raise web.HTTPForbidden(text="This form is out of date or did not come from this site (CSRF check "
                                         "failed): reload the page and try again.")

    def check_ban(self, viewer: Viewer) -> None:
        """The bot's one check before every command and button: a banned member is refused with the
        reason and when the ban ends. Moderators pass, so a ban can always be lifted."""
        ban = self.core.moderation.ban_of(viewer.guild_id, viewer.user_id)
        if ban is None or viewer.is_moderator:
            return
        why = f": {ban.reason}" if ban.reason else ""
        raise Banned(f"A moderator banned you from the image bot here{why}. The ban {ban.describe(time.time())}.")

    async def take_notices(self, viewer: Viewer) -> list[str]:
        try:
            return await self.core.audit.take_notices(viewer.guild_id, viewer.user_id, time.time())
        except Exception:  # a notice is never worth failing the page it rides on
            log.warning("reading notices failed", exc_info=True)
            return []

    async def deleted(self, job_id: int) -> bool:
        row = await self.core.db.fetchone("SELECT message_deleted_at FROM jobs WHERE id = ?", (job_id,))
        return bool(row and row["message_deleted_at"])

    async def showable(self, job: Job) -> list[StoredImage]:
        """The images of `job` a member may see here: delivered, not deleted, still stored, and what
        content safety would post again in an ordinary (not age-restricted) channel of its server."""
        if job.status is not JobStatus.DELIVERED:
            raise NotFound(f"Job #{job.id} has no images to show (it is {job.status.value}).")
        if await self.deleted(job.id):
            raise NotFound(f"Job #{job.id} was deleted.")
        kept = await self.core.history.showable(job, self.settings.image_retention_days)
        return await self.core.safety.showable(job, kept, job.requester.guild_id, False)

    def image_path(self, image: StoredImage) -> Path:
        return Path(image.path)


WEB = web.AppKey("pixelforge_web", WebContext)
