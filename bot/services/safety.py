"""Content safety for jobs: the prompt filter at submit, the image check at delivery, and what
moderators review (per-server settings and terms, the block log, reports). Plain SQL, no Discord.

Check points (README "Content safety" has the policy table):
- `screen`, from JobService.submit after validation and before the quota debit: the prompt against
  the channel's policy (a re-roll or variation clicked in another channel obeys *that* channel), a
  flagged parent image, and the safety negative prompt for the channel. A refusal raises
  ContentBlocked: nothing is stored, queued or charged, and the attempt is logged.
- `review`, from the dispatcher between storing a job's images and delivering them (also after a
  restart): the channel is asked again, the prompt is checked again, and every image is scored in
  the checking thread. A withheld job ends BLOCKED through JobService.end (where refunds live); its
  images stay on disk for moderators. A checker that fails withholds the image (fail closed).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from bot.database import Database
from bot.errors import AdmissionRefused, ContentBlocked
from bot.models import Job, JobKind, JobStatus, Requester, StoredImage
from bot.safety.image_checker import ImageChecker
from bot.safety.policy import ChannelKind, channel_kind, refusal, refused_category
from bot.safety.prompt_filter import PromptFilter, ServerTerms, phrase_key
from bot.safety.terms import Category

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.admission import AdmissionPlan

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


@dataclass(frozen=True)
class Verdict:
    """Why a finished job is withheld (its owner is told `reason`)."""

    category: Category
    reason: str


class SafetyFront(Protocol):
    """What the Discord side does for content safety (bot/frontend/safety.py)."""

    async def channel_nsfw(self, channel_id: int) -> bool:
        """Whether the channel is age-restricted now; False when it cannot tell (fail closed)."""

    async def announce_block(self, log_channel_id: int, record: BlockRecord, images: list[str]) -> None: ...
    async def announce_report(self, log_channel_id: int, job: Job, reporter_id: int) -> None: ...


class SafetyService:
    def __init__(self, db: Database, settings: Settings, checker: ImageChecker | None,
                 clock: Callable[[], float] = time.time):
        self.db = db
        self.settings = settings
        self.checker = checker
        self.clock = clock
        self.filter = PromptFilter()
        self.front: SafetyFront | None = None  # set by the bot once its front end exists
        # One thread: checks run one at a time off the event loop, beside the renderers.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="image-check")
        self._guilds: dict[int, GuildSafety] = {}
        self._terms: dict[int, ServerTerms] = {}
        self._tasks: set[asyncio.Task] = set()
        self._stopped = False

    async def start(self) -> None:
        if self.checker is None:
            log.warning("SAFETY_IMAGE_CHECKER=none: images are not checked, so only age-restricted channels "
                        "of servers that enabled NSFW are served")
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.checker.load)
            log.info("image checker %s loaded", self.checker.name)
        except Exception:
            log.exception("the image checker %s could not be loaded: every image is withheld until it loads",
                          self.checker.name)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.checker is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.checker.close)
        self._executor.shutdown(wait=False)

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

    async def _set(self, guild_id: int, column: str, value) -> None:
        # `column` is one of this module's literals, never user input.
        await self.db.execute(
            f"INSERT INTO safety_settings (guild_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(guild_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at",
            (guild_id, value, self.clock()))
        self._guilds.pop(guild_id, None)

    async def set_nsfw(self, guild_id: int, enabled: bool) -> None:
        await self._set(guild_id, "nsfw_enabled", int(enabled))

    async def set_threshold(self, guild_id: int, value: float) -> None:
        await self._set(guild_id, "image_threshold", float(value))

    async def set_log_channel(self, guild_id: int, channel_id: int) -> None:
        await self._set(guild_id, "log_channel_id", channel_id)

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
            raise AdmissionRefused("That term has no letters or digits to match.")
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

    # ---- the prompt at submit ----
    async def _kind(self, guild_id: int | None, channel_nsfw: bool) -> tuple[ChannelKind, GuildSafety]:
        guild = await self.guild(guild_id)
        return channel_kind(channel_nsfw, guild.nsfw_enabled), guild

    async def screen(self, requester: Requester, plan: AdmissionPlan) -> AdmissionPlan:
        kind, guild = await self._kind(requester.guild_id, requester.channel_nsfw)
        if self.checker is None and not kind.allows_nsfw:
            raise AdmissionRefused("This bot runs without an image checker, so it only renders in age-restricted "
                                   "channels of servers that enabled NSFW.")
        prompt = plan.params.prompt
        category = refused_category(
            self.filter.check(prompt, await self.server_terms(requester.guild_id)).categories, kind)
        if category is not None:
            await self._block(guild, requester.guild_id, requester.channel_id, requester.user_id, None,
                              "prompt", category, None, prompt)
            raise ContentBlocked(refusal(category, kind))
        reused = plan.kind in (JobKind.VARIATION, JobKind.UPSCALE)
        if reused and not kind.allows_nsfw and plan.parent_job_id is not None:
            row = await self.db.fetchone("SELECT score FROM safety_image_checks WHERE job_id = ? AND idx = ? "
                                         "AND flagged = 1", (plan.parent_job_id, plan.image_index))
            if row is not None:
                await self._block(guild, requester.guild_id, requester.channel_id, requester.user_id,
                                  plan.parent_job_id, "image", Category.SEXUAL, row["score"], prompt)
                verb = "upscaled" if plan.kind is JobKind.UPSCALE else "varied"
                raise ContentBlocked(f"🚫 The image check flagged that image, so it cannot be {verb} in this "
                                     "channel. Nothing was queued or charged.")
        init = plan.params.init_image
        if init and init.startswith("inputs/") and not kind.allows_nsfw and self.checker is not None:
            # An image prompt (a re-roll of one too): the upload itself is checked before anything
            # is queued; the result is checked again before delivery like every image.
            score = await self._score(str(self.settings.data_dir / init))
            if score is None or score >= guild.threshold:
                category = Category.SEXUAL if score is not None else Category.UNCHECKED
                await self._block(guild, requester.guild_id, requester.channel_id, requester.user_id, None,
                                  "image", category, score, prompt)
                raise ContentBlocked("🚫 The image check flagged your image (or could not check it), which this "
                                     "channel does not allow. Nothing was queued or charged.")
        # Where NSFW may be rendered the minors negative prompt goes in instead of the SFW one.
        negative = (self.settings.safety_minors_negative_prompt if kind.allows_nsfw
                    else self.settings.safety_negative_prompt)
        return replace(plan, params=replace(plan.params, safety_negative=negative))

    # ---- the images at delivery ----
    async def review(self, job: Job, images: list[StoredImage]) -> Verdict | None:
        """None: deliver. A Verdict: withhold (the caller ends the job BLOCKED)."""
        r = job.requester
        channel_nsfw = await self.front.channel_nsfw(r.channel_id) if self.front is not None else False
        kind, guild = await self._kind(r.guild_id, channel_nsfw)
        category = refused_category(
            self.filter.check(job.params.prompt, await self.server_terms(r.guild_id)).categories, kind)
        if category is not None:  # e.g. the channel lost its age restriction while the job waited
            await self._block(guild, r.guild_id, r.channel_id, r.user_id, job.id, "prompt", category, None,
                              job.params.prompt)
            return Verdict(category, refusal(category, kind, delivering=True))
        if self.checker is None:
            if kind.allows_nsfw:
                return None
            return await self._withhold(guild, job, Category.UNCHECKED, None, [],
                                        "🚫 Not delivered: this bot has no image checker, so it cannot post "
                                        "images in this channel. Nothing was charged.")
        worst, flagged, failed = 0.0, [], False
        for image in images:
            try:
                score = await asyncio.get_running_loop().run_in_executor(self._executor, self.checker.score,
                                                                         image.path)
            except Exception:
                log.warning("job %s image %s: the image check failed; the image is withheld", job.id, image.index,
                            exc_info=True)
                await self._record_check(job.id, image.index, None, guild.threshold, True)
                failed = True
                continue
            hit = score >= guild.threshold
            await self._record_check(job.id, image.index, score, guild.threshold, hit)
            worst = max(worst, score)
            if hit:
                flagged.append(image.path)
        if failed:
            return await self._withhold(guild, job, Category.UNCHECKED, None, [],
                                        "🚫 Not delivered: the image could not be safety-checked, so it was "
                                        "withheld. Nothing was charged; please try again.")
        if flagged and not kind.allows_nsfw:
            return await self._withhold(guild, job, Category.SEXUAL, worst, flagged,
                                        "🚫 Not delivered: the image check flagged the result as explicit, which "
                                        "this channel does not allow. Nothing was charged; moderators can review "
                                        "it.")
        return None

    async def _withhold(self, guild: GuildSafety, job: Job, category: Category, score: float | None,
                        images: list[str], reason: str) -> Verdict:
        r = job.requester
        await self._block(guild, r.guild_id, r.channel_id, r.user_id, job.id, "image", category, score,
                          job.params.prompt, images)
        return Verdict(category, reason)

    async def _record_check(self, job_id: int, index: int, score: float | None, threshold: float,
                            flagged: bool) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO safety_image_checks (job_id, idx, checker, score, threshold, flagged, checked_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (job_id, index, self.checker.name if self.checker else "none", score, threshold, int(flagged),
             self.clock()))

    async def image_flagged(self, job_id: int, index: int) -> bool:
        """Whether the check flagged (or could not check) image `index` of `job_id`."""
        row = await self.db.fetchone("SELECT flagged FROM safety_image_checks WHERE job_id = ? AND idx = ?",
                                     (job_id, index))
        return bool(row and row["flagged"])

    async def _score(self, path: str) -> float | None:
        """The checker's score of one file, in the checking thread; None if the check failed."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self.checker.score, path)
        except Exception:
            log.warning("checking %s failed", path, exc_info=True)
            return None

    # ---- images shown again (/show) ----
    async def showable(self, job: Job, images: list[StoredImage], guild_id: int | None,
                       channel_nsfw: bool) -> list[StoredImage]:
        """Which stored images of `job` may be posted again in a channel: delivery's rules, asked for
        that channel now. The prompt against its policy (ContentBlocked if refused), then each image:
        its recorded score (checked now if it never was) under the server's threshold; where NSFW is
        allowed, everything."""
        kind, guild = await self._kind(guild_id, channel_nsfw)
        category = refused_category(
            self.filter.check(job.params.prompt, await self.server_terms(guild_id)).categories, kind)
        if category is not None:
            raise ContentBlocked(f"🚫 Job #{job.id} cannot be shown here: its prompt asks for {category.label}, "
                                 "which this channel does not allow.")
        if kind.allows_nsfw:
            return list(images)
        if self.checker is None:
            raise ContentBlocked("🚫 This bot has no image checker, so it cannot post images in this channel.")
        shown = []
        for image in images:
            row = await self.db.fetchone("SELECT score FROM safety_image_checks WHERE job_id = ? AND idx = ?",
                                         (job.id, image.index))
            score = row["score"] if row is not None else await self._score(image.path)
            if row is None:
                await self._record_check(job.id, image.index, score, guild.threshold,
                                         score is None or score >= guild.threshold)
            if score is not None and score < guild.threshold:
                shown.append(image)
        return shown

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
            raise AdmissionRefused("Only delivered results can be reported.")
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
                               or log.warning("a moderator announcement failed", exc_info=t.exception()))
