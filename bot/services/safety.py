"""Content safety for jobs: the prompt filter at submit, the image check at delivery, and what
moderators review (per-server settings and terms, the block log, reports). Plain SQL, no Discord.

Check points (README "Content safety" has the policy table):
- `screen`, from JobService.submit after validation and before the quota debit: the prompt and the
  member's negative against the channel's policy (a re-roll, variation or upscale clicked in another
  channel obeys *that* channel), the negative-steering rule (bot/safety/negative.py), a flagged
  parent image, the uploaded image prompt scored in every channel, and the safety negative prompt
  for the channel. A refusal raises ContentBlocked: nothing is stored, queued or charged, and the
  attempt is logged.
- `review`, from the dispatcher between storing a job's images and delivering them (also after a
  restart): the channel is asked again, the prompt and negative are checked again, and every image
  is scored in the checking thread, in every channel. Where NSFW is allowed a flagged result is
  still withheld (sexual-minors) when the prompt names a minor, the negative steers away from adults,
  or the upload it started from was flagged: no age estimator runs offline, so minors are inferred
  from the text and from the upload. A withheld job ends BLOCKED through JobService.end (where
  refunds live); its images stay on disk for moderators. A checker that fails, or answers anything
  but a number in 0..1 (NaN included), withholds the image; a NaN prompt-classifier score refuses
  the prompt (fail closed).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.database import Database
from bot.errors import AdmissionRefused, ContentBlocked
from bot.i18n import N_
from bot.models import Job, JobKind, JobParams, JobStatus, Requester, StoredImage
from bot.safety.classifier import load_classifier
from bot.safety.decision import TextCheck, check_text
from bot.safety.image_checker import ImageChecker, InvalidScore, checked_score
from bot.safety.policy import ChannelKind, channel_kind
from bot.safety.prompt_filter import PromptFilter
from bot.safety.scores import is_probability
from bot.safety.semantic import build_semantic
from bot.safety.terms import Category
from bot.services.safety_records import LOG_PAGE, BlockRecord, GuildSafety, SafetyFront, SafetyRecords, TermEntry
from bot.services.safety_terms import check_blockable

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.models import AdmissionPlan

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
        self.semantic = build_semantic(settings)  # SAFETY_SEMANTIC=on: a child process; off: None
        # One thread: checks run one at a time off the event loop, beside the renderers.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="image-check")
        self._stopped = False

    async def start(self) -> None:
        if self.semantic is not None:
            await self.semantic.start()  # before any prompt is taken (a failure refuses every prompt)
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
        if self.semantic is not None:
            await self.semantic.close()
        self._executor.shutdown(wait=False)

    # ---- moderators' terms ----
    async def add_term(self, guild_id: int, kind: str, text: str, moderator_id: int) -> str:
        """SafetyRecords.add_term, but a block that would change nothing is refused with the reason
        (a term the built-in lists already decide, or a phrase they treat as harmless)."""
        if kind == "block":
            check_blockable(self.filter, text, await self.server_terms(guild_id))
        return await super().add_term(guild_id, kind, text, moderator_id)

    # ---- the prompt and the negative ----
    async def _kind(self, guild_id: int | None, channel_nsfw: bool) -> tuple[ChannelKind, GuildSafety]:
        guild = await self.guild(guild_id)
        return channel_kind(channel_nsfw, guild.nsfw_enabled), guild

    async def _read_text(self, params: JobParams, guild_id: int | None, kind: ChannelKind,
                         delivering: bool = False) -> TextCheck:
        """The prompt and the member's negative against the channel's policy (check_text: the same
        decision `python -m bot safety-eval` measures)."""
        # In the checking thread: the learned layer is numpy work (under a millisecond, but not the loop's).
        text = await asyncio.get_running_loop().run_in_executor(
            self._executor, check_text, self.filter, params.prompt, params.negative_prompt,
            await self.server_terms(guild_id), kind, delivering)
        if text.category is None and self.semantic is not None:
            # What the other layers let through, by meaning (SAFETY_SEMANTIC=on; its errors refuse).
            text = await self.semantic.check(text, params.prompt, kind, delivering)
        if text.result.layer == "classifier-error":
            log.warning("the prompt classifier gave no valid score: the prompt is refused (layer classifier-error)")
        elif text.category is not None:
            log.info("prompt refused as %s by the %s layer (learned score %s)", text.category.value,
                     "negative" if text.by_negative else text.result.layer,
                     "none" if text.result.score is None else f"{text.result.score:.2f}")
        return text

    async def screen(self, requester: Requester, plan: AdmissionPlan) -> AdmissionPlan:
        # A member cooling down after repeated refusals is not checked (nor logged) again for now.
        self.refusals.check(requester.guild_id, requester.user_id, requester.is_moderator)
        kind, guild = await self._kind(requester.guild_id, requester.channel_nsfw)
        if self.checker is None and not kind.allows_nsfw:
            raise AdmissionRefused(N_("This bot runs without an image checker, so it only renders in age-restricted "
                                      "channels of servers that enabled NSFW."))
        params, prompt = plan.params, plan.params.prompt
        text = await self._read_text(params, requester.guild_id, kind)

        async def block(kind_: str, category: Category, score: float | None, job_id: int | None = None,
                        shown: str = prompt) -> None:
            await self._block(guild, requester.guild_id, requester.channel_id, requester.user_id, job_id, kind_,
                              category, score, shown)

        if text.category is not None:
            await block("prompt", text.category, text.result.score, shown=text.recorded(params))
            raise ContentBlocked(text.reason)
        reused = plan.kind in (JobKind.VARIATION, JobKind.UPSCALE, JobKind.OUTPAINT, JobKind.REGION)
        if reused and not kind.allows_nsfw and plan.parent_job_id is not None:
            row = await self.db.fetchone("SELECT score FROM safety_image_checks WHERE job_id = ? AND idx = ? "
                                         "AND flagged = 1", (plan.parent_job_id, plan.image_index))
            if row is not None:
                await block("image", Category.SEXUAL, row["score"], plan.parent_job_id)
                verb = {JobKind.UPSCALE: N_("upscaled"), JobKind.OUTPAINT: N_("extended"),
                        JobKind.REGION: N_("redrawn")}.get(plan.kind, N_("varied"))
                raise ContentBlocked(N_("🚫 The image check flagged that image, so it cannot be {verb} in this "
                                        "channel. Nothing was queued or charged.", verb=verb))
        if _is_upload(params.init_image) and self.checker is not None:
            # An image prompt (a re-roll of one too) is scored in every channel before anything is
            # queued; the result is scored again before delivery like every image.
            score = await self._score(str(self.settings.data_dir / params.init_image))  # type: ignore[operator]
            if score is None:
                await block("image", Category.UNCHECKED, None)
                raise ContentBlocked(N_("🚫 The image check could not check your image, so it was refused. Nothing "
                                        "was queued or charged; please try again."))
            if score >= guild.threshold:
                if not kind.allows_nsfw:
                    await block("image", Category.SEXUAL, score)
                    raise ContentBlocked(N_("🚫 The image check flagged your image, which this channel does not "
                                            "allow. Nothing was queued or charged."))
                if text.suggests_minor:
                    await block("image", Category.SEXUAL_MINORS, score, shown=text.recorded(params, always=True))
                    raise ContentBlocked(N_("🚫 The image check flagged your image as sexual, and your prompt or "
                                            "negative prompt suggests a minor: sexual content involving minors is "
                                            "never allowed, age-restricted channels included. Nothing was queued or "
                                            "charged."))
        # Where NSFW may be rendered the minors negative prompt goes in instead of the SFW one.
        negative = (self.settings.safety_minors_negative_prompt if kind.allows_nsfw
                    else self.settings.safety_negative_prompt)
        return replace(plan, params=replace(params, safety_negative=negative))

    # ---- the images at delivery ----
    async def review(self, job: Job, images: list[StoredImage]) -> Verdict | None:
        """None: deliver. A Verdict: withhold (the caller ends the job BLOCKED)."""
        r = job.requester
        channel_nsfw = await self.front.channel_nsfw(r.channel_id) if self.front is not None else False
        kind, guild = await self._kind(r.guild_id, channel_nsfw)
        # Asked again: e.g. the channel lost its age restriction while the job waited.
        text = await self._read_text(job.params, r.guild_id, kind, delivering=True)
        if text.category is not None:
            await self._block(guild, r.guild_id, r.channel_id, r.user_id, job.id, "prompt", text.category,
                              text.result.score, text.recorded(job.params))
            return Verdict(text.category, text.reason)
        if self.checker is None:
            if kind.allows_nsfw:
                return None
            return await self._withhold(guild, job, Category.UNCHECKED, None, [],
                                        "🚫 Not delivered: this bot has no image checker, so it cannot post "
                                        "images in this channel. Nothing was charged.")
        worst, flagged, failed = 0.0, [], False
        for image in images:  # every image, in every channel: the minors rule needs the scores there too
            score = await self._score(image.path)
            hit = score is None or score >= guild.threshold
            await self._record_check(job.id, image.index, score, guild.threshold, hit)
            if score is None:
                log.warning("job %s image %s: the image check failed; the image is withheld", job.id, image.index)
                failed = True
            elif hit:
                worst = max(worst, score)
                flagged.append(image.path)
        if failed:
            return await self._withhold(guild, job, Category.UNCHECKED, None, [],
                                        "🚫 Not delivered: the image could not be safety-checked, so it was "
                                        "withheld. Nothing was charged; please try again.")
        if not flagged:
            return None
        if not kind.allows_nsfw:
            return await self._withhold(guild, job, Category.SEXUAL, worst, flagged,
                                        "🚫 Not delivered: the image check flagged the result as explicit, which "
                                        "this channel does not allow. Nothing was charged; moderators can review "
                                        "it.")
        # Where NSFW is allowed: a sexual result is withheld when anything suggests a minor.
        if text.suggests_minor:
            return await self._withhold(guild, job, Category.SEXUAL_MINORS, worst, flagged, _MINOR_RESULT.format(
                what="your prompt or negative prompt suggests a minor"), text.recorded(job.params, always=True))
        if _is_upload(job.params.init_image):
            upload = await self._score(str(self.settings.data_dir / job.params.init_image))  # type: ignore[operator]
            if upload is None or upload >= guild.threshold:
                # No age estimator runs here (README): a sexual upload may show a real minor.
                return await self._withhold(guild, job, Category.SEXUAL_MINORS, worst, flagged, _MINOR_RESULT.format(
                    what="the uploaded image it started from was flagged too, and the bot cannot tell the age of "
                         "a real person in an uploaded photo"))
        return None

    async def passes_review(self, job: Job, images: list[StoredImage],
                            end: Callable[[Job, JobStatus, str], Awaitable[object]]) -> bool:
        """Content safety between storing and showing: a withheld job ends BLOCKED (images kept on
        disk for moderators). Any failure of the review itself withholds too: fail closed."""
        try:
            verdict = await self.review(job, images)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the safety review of job %s failed; its images are withheld", job.id)
            await end(job, JobStatus.BLOCKED,
                      "🚫 Not delivered: the safety check failed, so the image was withheld. Nothing was "
                      "charged.")
            return False
        if verdict is None:
            return True
        await end(job, JobStatus.BLOCKED, verdict.reason)
        return False

    async def _withhold(self, guild: GuildSafety, job: Job, category: Category, score: float | None,
                        images: list[str], reason: str, shown: str | None = None) -> Verdict:
        r = job.requester
        await self._block(guild, r.guild_id, r.channel_id, r.user_id, job.id, "image", category, score,
                          shown or job.params.prompt, images)
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
        """The checker's score of one file, in the checking thread; None if the check failed or its
        answer was not a number in 0..1 (NaN, missing, out of range): fail closed."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, checked_score, self.checker,  # type: ignore[arg-type]
                                                                    path)
        except InvalidScore as exc:  # the checker ran but answered nonsense: no traceback to show
            log.warning("checking %s failed: %s", path, exc)
            return None
        except Exception:
            log.warning("checking %s failed", path, exc_info=True)
            return None

    # ---- images shown again (/show) ----
    async def showable(self, job: Job, images: list[StoredImage], guild_id: int | None,
                       channel_nsfw: bool) -> list[StoredImage]:
        """Which stored images of `job` may be posted again in a channel: delivery's rules, asked for
        that channel now. The prompt and negative against its policy (ContentBlocked if refused), then
        each image: its recorded score (checked now if it never was) under the server's threshold.
        Where NSFW is allowed, everything, unless something suggests a minor (then the same test)."""
        kind, guild = await self._kind(guild_id, channel_nsfw)
        text = await self._read_text(job.params, guild_id, kind)
        if text.category is not None:
            what = (N_("its negative prompt steers the image away from clothing or adults") if text.by_negative
                    else N_("its prompt could not be safety-checked") if text.category is Category.UNCHECKED
                    else N_("its prompt asks for {label}", label=text.category.label))
            raise ContentBlocked(N_("🚫 Job #{job} cannot be shown here: {what}, which this channel does not "
                                    "allow.", job=job.id, what=what))
        if self.checker is None:
            if kind.allows_nsfw:
                return list(images)
            raise ContentBlocked(N_("🚫 This bot has no image checker, so it cannot post images in this channel."))
        if kind.allows_nsfw and not text.suggests_minor:
            if not _is_upload(job.params.init_image):
                return list(images)
            upload = await self._score(str(self.settings.data_dir / job.params.init_image))  # type: ignore[operator]
            if upload is not None and upload < guild.threshold:
                return list(images)
        shown = []
        for image in images:
            row = await self.db.fetchone("SELECT score FROM safety_image_checks WHERE job_id = ? AND idx = ?",
                                         (job.id, image.index))
            score = row["score"] if row is not None else await self._score(image.path)
            if row is None:
                await self._record_check(job.id, image.index, score, guild.threshold,
                                         score is None or score >= guild.threshold)
            if is_probability(score) and score < guild.threshold:
                shown.append(image)
        return shown


def _is_upload(init_image: str | None) -> bool:
    """An image prompt a member uploaded (stored under inputs/), not one of the bot's own images."""
    return bool(init_image and init_image.startswith("inputs/"))


_MINOR_RESULT = ("🚫 Not delivered: the image check flagged the result as sexual, and {what}. Sexual content "
                 "involving minors is never allowed, age-restricted channels included. Nothing was charged; "
                 "moderators can review it.")
