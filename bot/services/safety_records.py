"""Content safety's records: per-server settings and terms, the block log and members' reports.
Plain SQL, no Discord. bot/services/safety.py (the checks on jobs) builds on it."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.database import Database
from bot.errors import AdmissionRefused
from bot.i18n import N_
from bot.models import Job, JobStatus
from bot.safety.prompt_filter import ServerTerms, phrase_key
from bot.safety.terms import Category
from bot.services.refusals import RefusalLimiter, RefusalPolicy

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.audit import AuditLog

log = logging.getLogger(__name__)

LOG_PAGE = 10


@dataclass(frozen=True)
class GuildSafety:
    nsfw_enabled: bool
    threshold: float
    log_channel_id: int | None


@dataclass(frozen=True)
class BlockRecord:
    id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    job_id: int | None
    kind: str  # prompt or image
    category: Category
    score: float | None
    prompt: str
    created_at: float


@dataclass(frozen=True)
class TermEntry:
    kind: str  # block or allow
    display: str
    added_by: int


class SafetyFront(Protocol):
    """What the Discord side does for content safety (bot/frontend/safety.py)."""

    async def channel_nsfw(self, channel_id: int) -> bool:
        """Whether the channel is age-restricted now; False when it cannot tell (fail closed)."""

    async def announce_block(self, log_channel_id: int, record: BlockRecord, images: list[str]) -> None: ...
    async def announce_report(self, log_channel_id: int, job: Job, reporter_id: int) -> None: ...


class SafetyRecords:
    """Settings, terms, the block log and reports of every server (cached per server)."""

    def __init__(self, db: Database, settings: Settings, clock: Callable[[], float] = time.time):
        self.db = db
        self.settings = settings
        self.clock = clock
        self.front: SafetyFront | None = None  # set by the bot once its front end exists
        self.audit: AuditLog | None = None  # set by the bot: moderators' changes go to the audit log
        self.refusals = RefusalLimiter(RefusalPolicy.from_settings(settings), clock)
        self._guilds: dict[int, GuildSafety] = {}
        self._terms: dict[int, ServerTerms] = {}
        self._tasks: set[asyncio.Task] = set()

    # ---- per-server settings and terms ----
    async def guild(self, guild_id: int | None) -> GuildSafety:
        default = GuildSafety(False, self.settings.safety_image_threshold, None)
        if guild_id is None:
            return default  # a DM: SFW
        cached = self._guilds.get(guild_id)
        if cached is None:
            row = await self.db.fetchone("SELECT * FROM safety_settings WHERE guild_id = ?", (guild_id,))
            cached = default if row is None else GuildSafety(
                bool(row["nsfw_enabled"]),
                row["image_threshold"] if row["image_threshold"] is not None else default.threshold,
                row["log_channel_id"])
            self._guilds[guild_id] = cached
        return cached

    async def _audit(self, conn, guild_id: int, moderator_id: int | None, action: str, before: str,
                     after: str) -> None:
        """A moderator's change, in the change's own transaction (None: a change made by code)."""
        if moderator_id is not None and self.audit is not None:
            await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=None,
                                    action=action, before=before, after=after, reason=None, now=self.clock())

    async def _set(self, guild_id: int, column: str, value, moderator_id: int | None, action: str, before: str,
                   after: str) -> None:
        # `column` is one of this module's literals, never user input.
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO safety_settings (guild_id, {column}, updated_at) VALUES (?, ?, ?) "
                f"ON CONFLICT(guild_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at",
                (guild_id, value, self.clock()))
            await self._audit(conn, guild_id, moderator_id, action, before, after)
        self._guilds.pop(guild_id, None)

    async def set_nsfw(self, guild_id: int, enabled: bool, moderator_id: int | None = None) -> None:
        before = "on" if (await self.guild(guild_id)).nsfw_enabled else "off"
        await self._set(guild_id, "nsfw_enabled", int(enabled), moderator_id, "safety nsfw", before,
                        "on" if enabled else "off")

    async def set_threshold(self, guild_id: int, value: float, moderator_id: int | None = None) -> None:
        before = f"{(await self.guild(guild_id)).threshold:g}"
        await self._set(guild_id, "image_threshold", float(value), moderator_id, "safety threshold", before,
                        f"{float(value):g}")

    async def set_log_channel(self, guild_id: int, channel_id: int, moderator_id: int | None = None) -> None:
        old = (await self.guild(guild_id)).log_channel_id
        await self._set(guild_id, "log_channel_id", channel_id, moderator_id, "safety logchannel",
                        f"channel {old}" if old else "none", f"channel {channel_id}")

    async def server_terms(self, guild_id: int | None) -> ServerTerms:
        if guild_id is None:
            return ServerTerms()
        cached = self._terms.get(guild_id)
        if cached is None:
            rows = await self.db.fetchall("SELECT kind, term FROM safety_terms WHERE guild_id = ? ORDER BY term",
                                          (guild_id,))
            cached = ServerTerms(tuple(tuple(r["term"].split()) for r in rows if r["kind"] == "block"),
                                 tuple(tuple(r["term"].split()) for r in rows if r["kind"] == "allow"))
            self._terms[guild_id] = cached
        return cached

    async def add_term(self, guild_id: int, kind: str, text: str, moderator_id: int) -> str:
        """`block`: refused everywhere in the server from now on (and no longer exempted).
        `allow`: lifts the server's own block of that term if it had one, else exempts it from the
        built-in lists (never from the rules that hold everywhere). Returns what changed."""
        key = " ".join(phrase_key(text))
        if not key:
            raise AdmissionRefused(N_("That term has no letters or digits to match."))
        other = "allow" if kind == "block" else "block"
        display = " ".join(text.split())[:100]
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM safety_terms WHERE guild_id = ? AND kind = ? AND term = ?",
                                        (guild_id, other, key))
            undone = cursor.rowcount > 0
            if kind == "block" or not undone:
                await conn.execute(
                    "INSERT OR REPLACE INTO safety_terms (guild_id, kind, term, display, added_by, added_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, kind, key, display, moderator_id, self.clock()))
            before = f"{other}ed" if undone else "not listed"
            after = f"{kind}ed" if kind == "block" or not undone else "not listed"
            await self._audit(conn, guild_id, moderator_id, f"safety {kind}", f"“{display}” {before}",
                              f"“{display}” {after}")
        self._terms.pop(guild_id, None)
        if kind == "allow" and undone:
            return f"“{display}” is no longer blocked in this server."
        if kind == "allow":
            return (f"“{display}” is exempt from the built-in lists in this server (the rules that hold "
                    "everywhere still apply).")
        return f"“{display}” is now refused everywhere in this server."

    async def terms(self, guild_id: int) -> list[TermEntry]:
        rows = await self.db.fetchall(
            "SELECT kind, display, added_by FROM safety_terms WHERE guild_id = ? ORDER BY kind, display", (guild_id,))
        return [TermEntry(r["kind"], r["display"], r["added_by"]) for r in rows]

    # ---- the log ----
    async def _block(self, guild: GuildSafety, guild_id: int | None, channel_id: int, user_id: int,
                     job_id: int | None, kind: str, category: Category, score: float | None, prompt: str,
                     images: list[str] | None = None) -> BlockRecord:
        now = self.clock()
        block_id = await self.db.insert(
            "INSERT INTO safety_blocks (guild_id, channel_id, user_id, job_id, kind, category, score, prompt, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, user_id, job_id, kind, category.value, score, prompt, now))
        record = BlockRecord(block_id or 0, guild_id, channel_id, user_id, job_id, kind, category, score, prompt, now)
        if job_id is None:  # a request refused at submit (not a finished image withheld): it counts
            self.refusals.refused(guild_id, user_id)
        log.info("content safety: %s blocked (%s) for user %s in channel %s, job %s", kind, category.value,
                 user_id, channel_id, job_id)
        if guild.log_channel_id and self.front is not None:
            self._background(self.front.announce_block(guild.log_channel_id, record, list(images or ())))
        return record

    async def blocks(self, guild_id: int, member_id: int | None = None, before_id: int | None = None,
                     limit: int = LOG_PAGE) -> list[BlockRecord]:
        """Newest first; `before_id` pages back."""
        sql, args = "SELECT * FROM safety_blocks WHERE guild_id = ?", [guild_id]
        if member_id is not None:
            sql, args = sql + " AND user_id = ?", [*args, member_id]
        if before_id is not None:
            sql, args = sql + " AND id < ?", [*args, before_id]
        rows = await self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*args, limit])
        return [BlockRecord(r["id"], r["guild_id"], r["channel_id"], r["user_id"], r["job_id"], r["kind"],
                            Category(r["category"]), r["score"], r["prompt"], r["created_at"]) for r in rows]

    # ---- reports ----
    async def report(self, job: Job, reporter_id: int) -> bool:
        """Record `reporter_id`'s report of a delivered result; False if they had reported it already."""
        if job.status not in (JobStatus.DONE, JobStatus.DELIVERED):
            raise AdmissionRefused(N_("Only delivered results can be reported."))
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO safety_reports (job_id, user_id, created_at) VALUES (?, ?, ?)",
                (job.id, reporter_id, self.clock()))
            if not cursor.rowcount:
                return False
            await conn.execute("UPDATE jobs SET reported_at = COALESCE(reported_at, ?) WHERE id = ?",
                               (self.clock(), job.id))
        guild = await self.guild(job.requester.guild_id)
        if guild.log_channel_id and self.front is not None:
            self._background(self.front.announce_report(guild.log_channel_id, job, reporter_id))
        return True

    def _background(self, coro) -> None:
        """Announcements never hold up the member's reply (Discord wants it within 3 s)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception() is None
                               or log.warning("a moderator announcement failed", exc_info=t.exception()))  # type: ignore[func-returns-value]
