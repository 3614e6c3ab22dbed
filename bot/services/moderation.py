"""Bans and the queue pause: the moderator tools that are not about credits. Discord-free.

A ban refuses a member's commands and button clicks in one server (the front end asks `ban_of`
before anything runs), and ends their queued jobs through JobService.end, which refunds them.
A pause stops new renders on every worker (running ones finish) until a moderator resumes; new
requests are still admitted and told why the queue holds. Both are stored in SQLite and survive a
restart; each action is written to the audit log in its own transaction.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot import credits
from bot.database import Database
from bot.errors import NotAllowed
from bot.i18n import N_
from bot.models import Job
from bot.services.audit import AuditLog
from bot.services.lifecycle import JobService

PAUSE_KEY = "queue_pause"
MAX_BAN_HOURS = 24 * 365


@dataclass(frozen=True)
class Ban:
    guild_id: int
    user_id: int
    moderator_id: int
    reason: str | None
    until: float | None  # None: until a moderator unbans

    def active(self, now: float) -> bool:
        return self.until is None or self.until > now

    def describe(self, now: float) -> str:
        """How long it lasts, in words: "ends in 3 h 0 min (14:00 UTC)"."""
        return (N_("lasts until a moderator lifts it") if self.until is None
                else N_("ends {when}", when=credits.until(self.until, now)))


@dataclass(frozen=True)
class Pause:
    guild_id: int
    moderator_id: int
    reason: str | None
    since: float


@dataclass(frozen=True)
class BanResult:
    ban: Ban
    cancelled_jobs: list[int]


class ModerationService:
    def __init__(self, db: Database, audit: AuditLog, jobs: JobService, clock: Callable[[], float] = time.time):
        self.db = db
        self.audit = audit
        self.jobs = jobs
        self.clock = clock
        self._bans: dict[tuple[int, int], Ban] = {}  # mirrors the table: checked on every interaction
        self.paused: Pause | None = None

    async def load(self) -> None:
        """Read bans and the pause at start (the dispatcher starts paused if it was)."""
        rows = await self.db.fetchall("SELECT * FROM bans")
        self._bans = {(r["guild_id"], r["user_id"]): Ban(r["guild_id"], r["user_id"], r["moderator_id"], r["reason"],
                                                         r["until"]) for r in rows}
        raw = await self.jobs.store.get_state(PAUSE_KEY)
        self.paused = Pause(**json.loads(raw)) if raw else None
        if self.paused is not None:
            self.jobs.dispatcher.pause()

    # ---- bans ----
    def ban_of(self, guild_id: int | None, user_id: int) -> Ban | None:
        """The member's ban in this server if one is in force (no database read)."""
        ban = self._bans.get((guild_id or 0, user_id))
        return ban if ban is not None and ban.active(self.clock()) else None

    async def ban(self, moderator_id: int, guild_id: int, user_id: int, reason: str | None,
                  hours: int | None) -> BanResult:
        if user_id == moderator_id:
            raise NotAllowed(N_("You cannot ban yourself."))
        if hours is not None and not 1 <= hours <= MAX_BAN_HOURS:
            raise NotAllowed(N_("A ban lasts between 1 and {max} hours, or leave hours out for no end.",
                                max=MAX_BAN_HOURS))
        now = self.clock()
        ban = Ban(guild_id, user_id, moderator_id, reason, None if hours is None else now + hours * 3600)
        before = self.ban_of(guild_id, user_id)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO bans (guild_id, user_id, moderator_id, reason, until, created_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET moderator_id = excluded.moderator_id, "
                "reason = excluded.reason, until = excluded.until, created_at = excluded.created_at",
                (guild_id, user_id, moderator_id, reason, ban.until, now))
            await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=user_id,
                                    action="ban", before=_ban_text(before), after=_ban_text(ban), reason=reason,
                                    now=now)
            # No notice: the member's next reply is the refusal itself, with the reason and the end.
        self._bans[(guild_id, user_id)] = ban
        # After the ban is in force, so that nothing new slips in; each is refunded by JobService.end.
        ended = await self.jobs.cancel_queued(
            guild_id, user_id, N_("Cancelled: a moderator banned you from the bot ({reason}).", reason=reason)
            if reason else N_("Cancelled: a moderator banned you from the bot."))
        return BanResult(ban, [job.id for job in ended])

    async def unban(self, moderator_id: int, guild_id: int, user_id: int) -> Ban | None:
        """Lift the member's ban; the ban that was lifted, or None if there was none in force."""
        now = self.clock()
        before = self.ban_of(guild_id, user_id)
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM bans WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            if before is not None:
                await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=user_id,
                                        action="unban", before=_ban_text(before), after="not banned", reason=None,
                                        now=now)
                await self.audit.notify(conn, guild_id, user_id,
                                        N_("A moderator lifted your ban: you can use the image bot again."), now)
        self._bans.pop((guild_id, user_id), None)
        return before

    # ---- pause ----
    async def pause(self, moderator_id: int, guild_id: int, reason: str | None) -> Pause:
        now = self.clock()
        pause = Pause(guild_id, moderator_id, reason, now)
        async with self.db.transaction() as conn:
            await conn.execute("INSERT INTO bot_state (key, value) VALUES (?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               (PAUSE_KEY, json.dumps(pause.__dict__)))
            await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=None,
                                    action="pause", before=_pause_text(self.paused), after=_pause_text(pause),
                                    reason=reason, now=now)
        self.paused = pause
        self.jobs.dispatcher.pause()
        return pause

    async def resume(self, moderator_id: int, guild_id: int) -> Pause | None:
        """Release the queue; the pause that ended, or None if it was not paused."""
        now = self.clock()
        before = self.paused
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM bot_state WHERE key = ?", (PAUSE_KEY,))
            if before is not None:
                await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=None,
                                        action="resume", before=_pause_text(before), after="running", reason=None,
                                        now=now)
        self.paused = None
        self.jobs.dispatcher.resume()
        return before


    # ---- a moderator acting on someone else's job (Delete, Cancel) ----
    async def result_deleted(self, job: Job, by_user_id: int, original: bool = True) -> None:
        """The job's message (`original`) or a /show repost of it was deleted; when a moderator
        deleted someone else's result (a report handled, most often), the audit log says so in the
        same transaction."""
        now = self.clock()
        async with self.db.transaction() as conn:
            if original:
                await conn.execute("UPDATE jobs SET message_deleted_at = ? WHERE id = ?", (now, job.id))
            if by_user_id != job.user_id:
                reported = await conn.execute_fetchall("SELECT reported_at FROM jobs WHERE id = ?", (job.id,))
                why = "reported by a member" if reported and reported[0]["reported_at"] else None  # type: ignore[index]
                await self.audit.record(conn, guild_id=job.requester.guild_id or 0, moderator_id=by_user_id,
                                        target_id=job.user_id, action="delete result", before=f"job #{job.id} shown",
                                        after="message deleted", reason=why, now=now)

    async def job_cancelled(self, job: Job, by_user_id: int) -> None:
        """A moderator cancelled someone else's job (JobService.end did the cancelling): audited."""
        if by_user_id == job.user_id:
            return
        now = self.clock()
        async with self.db.transaction() as conn:
            await self.audit.record(conn, guild_id=job.requester.guild_id or 0, moderator_id=by_user_id,
                                    target_id=job.user_id, action="cancel job", before=f"job #{job.id} active",
                                    after="cancelled (refunded)", reason=None, now=now)


def _ban_text(ban: Ban | None) -> str:
    if ban is None:
        return "not banned"
    if ban.until is None:
        return "banned until unbanned"
    return "banned until " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ban.until))


def _pause_text(pause: Pause | None) -> str:
    return "running" if pause is None else "paused"
