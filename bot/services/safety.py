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
from typing import TYPE_CHECKING

from bot.database import Database
from bot.errors import AdmissionRefused, ContentBlocked
from bot.models import Job, JobKind, Requester, StoredImage
from bot.safety.classifier import load_classifier
from bot.safety.image_checker import ImageChecker
from bot.safety.policy import ChannelKind, channel_kind, refusal, refused_category
from bot.safety.prompt_filter import PromptFilter, screen_text
from bot.safety.terms import Category
from bot.services.safety_records import LOG_PAGE, BlockRecord, GuildSafety, SafetyFront, SafetyRecords, TermEntry

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.admission import AdmissionPlan

log = logging.getLogger(__name__)

__all__ = ["LOG_PAGE", "BlockRecord", "GuildSafety", "SafetyFront", "SafetyService", "TermEntry", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """Why a finished job is withheld (its owner is told `reason`)."""

    category: Category
    reason: str


class SafetyService(SafetyRecords):
    """The checks on jobs: the prompt at submit, the images at delivery, images shown again."""

    def __init__(self, db: Database, settings: Settings, checker: ImageChecker | None,
                 clock: Callable[[], float] = time.time):
        super().__init__(db, settings, clock)
        self.checker = checker
        # The learned layer loads here (a bad SAFETY_PROMPT_CLASSIFIER is a ConfigError at start-up).
        self.filter = PromptFilter(load_classifier(settings.safety_prompt_classifier))
        # One thread: checks run one at a time off the event loop, beside the renderers.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="image-check")
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
        # In the checking thread: the learned layer is numpy work (under a millisecond, but not the loop's).
        category, result = await asyncio.get_running_loop().run_in_executor(
            self._executor, screen_text, self.filter, prompt, plan.params.negative_prompt,
            await self.server_terms(requester.guild_id), kind)
        if category is not None:
            log.info("prompt refused as %s by the %s layer (learned score %s)", category.value, result.layer,
                     "none" if result.score is None else f"{result.score:.2f}")
            await self._block(guild, requester.guild_id, requester.channel_id, requester.user_id, None,
                              "prompt", category, result.score, prompt)
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
