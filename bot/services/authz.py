"""Who may do what to a job: every button, menu and /show asks here, and the answer comes from
stored state alone (the job's server, owner and the messages the bot posted for it), never from a
custom_id. Discord-free.

A custom_id is written by the bot but sent back by the client: anyone can send any custom_id from
any message. Discord and discord.py both check that the id is on the clicked message today; this
service does not rely on either (defence in depth), so each rule below holds on its own:

- the place: a server's job is acted on only in that server; a DM job only in a DM, by its owner
  or the bot's operators (OWNER_USER_IDS); DMs are refused altogether unless ALLOW_DMS is on;
- the message: a click counts only on one of the job's own messages (job_messages, migration
  0007: its message, a /show repost, a /queue list), in the channel that message is in;
- the person: anyone there may look (Info), re-use (V, U, Re-roll) or report it; Delete and Cancel
  are for the job's owner or a moderator of the job's server (moderator rights come from the
  server the interaction comes from, which the place rule makes the job's server); /show is for
  the owner or a moderator of the job's server.

Every refusal is a NotAllowed (or NotFound) whose text is shown once, ephemerally, by the front
end's one error reply; nothing has been read for the member or changed by then.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from bot.database import Database
from bot.errors import NotAllowed, NotFound
from bot.i18n import N_
from bot.models import Job
from bot.services.jobs import JobStore

DMS_OFF = N_("This bot does not work in direct messages: use it in a server.")
WRONG_PLACE = N_("That job belongs to another server or DM, so nothing was done.")
WRONG_DM = N_("That job is not one of yours, so nothing was done.")
WRONG_MESSAGE = N_("This button does not belong to the message it was clicked on, so nothing was done.")


class JobAction(str, enum.Enum):
    INFO = "see"
    VARY = "vary"
    UPSCALE = "upscale"
    OUTPAINT = "extend"  # Zoom Out, Pan, Make Square
    REROLL = "re-roll"
    REPORT = "report"
    DELETE = "delete"
    CANCEL = "cancel"
    SHOW = "show"


# The verb of "Only the person who asked for this job ... can {action} it", translatable.
VERBS = {JobAction.INFO: N_("see"), JobAction.VARY: N_("vary"), JobAction.UPSCALE: N_("upscale"),
         JobAction.OUTPAINT: N_("extend"), JobAction.REROLL: N_("re-roll"), JobAction.REPORT: N_("report"),
         JobAction.DELETE: N_("delete"), JobAction.CANCEL: N_("cancel"), JobAction.SHOW: N_("show")}

# Actions that change or reveal someone else's job beyond what its message shows.
_OWNER_OR_MODERATOR = (JobAction.DELETE, JobAction.CANCEL, JobAction.SHOW)


@dataclass(frozen=True)
class Actor:
    """Who asks, where, and on which message; the front end fills it from the interaction.

    `is_moderator`: moderator rights in `guild_id`, the server the interaction comes from (channel
    permissions or a moderator role there); ignored in DMs, where the bot's operators decide."""

    user_id: int
    guild_id: int | None  # None: a DM
    channel_id: int | None
    message_id: int | None = None  # the message a component was clicked on; None for a command
    is_moderator: bool = False


class JobAuthorizer:
    def __init__(self, db: Database, store: JobStore, *, allow_dms: bool, owner_ids: frozenset[int]):
        self.db = db
        self.store = store
        self.allow_dms = allow_dms
        self.owner_ids = owner_ids

    def check_dms(self, actor: Actor) -> None:
        if actor.guild_id is None and not self.allow_dms:
            raise NotAllowed(DMS_OFF)

    def is_operator(self, user_id: int) -> bool:
        return user_id in self.owner_ids

    def moderates(self, actor: Actor) -> bool:
        """Moderator rights where the actor is: a server's moderators there, in DMs the bot's operators."""
        if actor.guild_id is None:
            return self.is_operator(actor.user_id)
        return actor.is_moderator

    async def job(self, actor: Actor, job_id: int, action: JobAction) -> Job:
        """The job, if `actor` may do `action` to it here; NotAllowed/NotFound otherwise."""
        self.check_dms(actor)
        job = await self.store.get(job_id)
        if job is None:
            raise NotFound(N_("There is no job #{job}.", job=job_id) if action is JobAction.SHOW
                           else N_("That job no longer exists."))
        self._check_place(actor, job)
        if actor.message_id is not None and not await self.is_job_message(job.id, actor.message_id,
                                                                          actor.channel_id):
            raise NotAllowed(WRONG_MESSAGE)
        if action in _OWNER_OR_MODERATOR and job.user_id != actor.user_id and not self.moderates(actor):
            if action is JobAction.SHOW:
                raise NotAllowed(N_("Job #{job} is not yours: you can show your own jobs (moderators: any job of "
                                    "this server).", job=job.id))
            raise NotAllowed(N_("Only the person who asked for this job or a moderator of this server can "
                                "{action} it.", action=VERBS.get(action, action.value)))
        return job

    def _check_place(self, actor: Actor, job: Job) -> None:
        job_guild = job.requester.guild_id
        if job_guild is None:  # a DM job: its owner's and the operators' alone, and only in a DM
            if actor.guild_id is not None:
                raise NotAllowed(WRONG_PLACE)
            if actor.user_id != job.user_id and not self.is_operator(actor.user_id):
                raise NotAllowed(WRONG_DM)
        elif actor.guild_id != job_guild:
            raise NotAllowed(WRONG_PLACE)

    # ---- the job's messages ----
    async def is_job_message(self, job_id: int, message_id: int, channel_id: int | None) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM job_messages WHERE job_id = ? AND message_id = ? "
            "AND (channel_id IS NULL OR channel_id IS ?)", (job_id, message_id, channel_id))
        return row is not None

    async def record(self, job_ids: list[int], message_id: int | None, channel_id: int | None) -> None:
        """`message_id` (in `channel_id`) shows these jobs with their buttons (/show, /queue)."""
        if message_id is None or not job_ids:
            return
        now = time.time()
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT OR IGNORE INTO job_messages (message_id, job_id, channel_id, created_at) VALUES (?,?,?,?)",
                [(message_id, job_id, channel_id, now) for job_id in job_ids])
