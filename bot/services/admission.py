"""Admission rules for GPU work: /imagine (with or without an image prompt), Re-roll, Variation
and Upscale all come through here.

`plan()` validates a request against the model profile and the settings and resolves it into the
job it would create, and its price; `admit()` inserts that job under the queue limits and, with
quotas, debits its price in the same transaction. `JobService.submit` calls them in that order,
with the safety check in between. Anything refused raises a BotError whose message tells the user
which limit they hit; nothing is queued or charged in that case.

A job's price comes from bot/prices.py (the one price formula: seconds measured on this device for
its task, size, steps, count and strength, over those of one default image, which costs 1.0), once,
here at submit: the job stores it, and refunds give back what was charged.
"""
from __future__ import annotations

import math
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import NotFound, ValidationError
from bot.i18n import N_
from bot.models import (
    MAX_SEED,
    AdmissionPlan,
    GenerationRequest,
    Job,
    JobKind,
    JobParams,
    JobStatus,
    JobTask,
    OutpaintRequest,
    Priority,
    RegionRequest,
    Requester,
    RerollRequest,
    StoredImage,
    UpscaleRequest,
    VariationRequest,
    WorkRequest,
)
from bot.models_catalog import ModelCatalog, ModelEntry, format_loras
from bot.prices import PriceBook, PriceContext
from bot.prompt_params import aspect_ratio
from bot.renderer.profiles import ASPECTS, DEFAULT_IMAGE_STRENGTH, ModelProfile, sizes_for_ratio, upscale_size
from bot.services.inline_checks import check_chaos, check_job_model, check_model, check_tile
from bot.services.jobs import JobStore

if TYPE_CHECKING:
    from bot.services.quotas import QuotaService

MAX_COUNT = 4
MIN_STRENGTH, MAX_STRENGTH = 0.05, 1.0  # image prompts (the /imagine `strength` option)


class Admission:
    def __init__(self, settings: Settings, profile: ModelProfile, store: JobStore, model_label: str,
                 scheduler_name: str = "", catalog: ModelCatalog | None = None):
        self.settings = settings
        self.profile = profile  # the default model's
        self.store = store
        self.model_label = model_label
        self.scheduler_name = scheduler_name
        # IMAGE_MODELS and LORA_DIR; with IMAGE_MODEL alone, that one model under its label.
        self.catalog = catalog or ModelCatalog((ModelEntry(model_label, settings.image_model, profile),), model_label,
                                               settings.lora_dir, settings.max_loras)
        # Its table follows the cost measurement (bot/services/costs.py); defaults until then.
        self.prices = PriceBook(PriceContext(profile, settings.upscale_strength, settings.max_upscale_pixels),
                                dict(settings.price_factors))

    # ---- validation ----
    def profile_of(self, model: str) -> ModelProfile:
        """The profile of the model named `model` (a job's): the default's is `self.profile`."""
        entry = self.catalog.get(model)
        return self.profile if entry is None or entry.name == self.model_label else entry.profile

    def validate(self, request: GenerationRequest) -> JobParams:
        s = self.settings
        model = check_model(request.model, self.catalog)  # refused first: the limits below are its
        p = self.profile_of(model)
        prompt = (request.prompt or "").strip()
        if not prompt:
            raise ValidationError(N_("The prompt is empty: describe the image you want."))
        if len(prompt) > s.max_prompt_length:
            raise ValidationError(
                N_("Your prompt is {length} characters; the limit is {limit}.", length=len(prompt),
                   limit=s.max_prompt_length)
            )
        negative = (request.negative_prompt or "").strip()
        if len(negative) > s.max_prompt_length:
            raise ValidationError(
                N_("Your negative prompt is {length} characters; the limit is {limit}.", length=len(negative),
                   limit=s.max_prompt_length)
            )
        ratio = aspect_ratio(request.aspect) if request.aspect in ASPECTS or request.inline else None
        if request.image is None and ratio is None:  # any W:H within 1:4..4:1 from --ar, the five otherwise
            raise ValidationError(N_("Aspect must be one of {aspects} or a ratio W:H between 1:4 and 4:1.",
                                     aspects=", ".join(ASPECTS)) if request.inline
                                  else N_("Aspect must be one of {aspects}.", aspects=", ".join(ASPECTS)))
        if not 1 <= request.count <= MAX_COUNT:
            raise ValidationError(N_("Count must be between 1 and {max}.", max=MAX_COUNT))
        steps = p.default_steps if request.steps is None else request.steps
        if not p.min_steps <= steps <= p.max_steps:
            raise ValidationError(N_("Steps must be between {min} and {max} for this model.", min=p.min_steps,
                                     max=p.max_steps))
        guidance = p.default_guidance if request.guidance is None else float(request.guidance)
        if not (math.isfinite(guidance) and p.min_guidance <= guidance <= p.max_guidance):
            raise ValidationError(
                N_("Guidance must be between {min:g} and {max:g} for this model.", min=p.min_guidance,
                   max=p.max_guidance)
            )
        seed = secrets.randbelow(MAX_SEED + 1) if request.seed is None else request.seed
        if not 0 <= seed <= MAX_SEED:
            raise ValidationError(N_("Seed must be between 0 and {max}.", max=MAX_SEED))
        if request.image is None:
            if request.strength is not None:
                raise ValidationError(N_("Strength only applies to an image prompt: attach an image too."))
            assert ratio is not None  # refused above when there is no image and no ratio
            width, height = sizes_for_ratio(p, ratio)
            return self._inline(request, JobParams(
                prompt=prompt, negative_prompt=negative, aspect=request.aspect, width=width,
                height=height, steps=steps, guidance=guidance, count=request.count, seed=seed,
                model=model, scheduler=self.scheduler_name,
            ))
        # An image prompt: its stored size was already fitted to this model for its own aspect.
        strength = DEFAULT_IMAGE_STRENGTH if request.strength is None else float(request.strength)
        if not (math.isfinite(strength) and MIN_STRENGTH <= strength <= MAX_STRENGTH):
            raise ValidationError(N_("Strength must be between {min:g} and {max:g}.", min=MIN_STRENGTH,
                                     max=MAX_STRENGTH))
        image = request.image
        return self._inline(request, JobParams(
            prompt=prompt, negative_prompt=negative, aspect=image.aspect, width=image.width,
            height=image.height, steps=steps, guidance=guidance, count=request.count, seed=seed,
            model=model, scheduler=self.scheduler_name, strength=strength,
            init_image=image.path, task=JobTask.IMG2IMG,
        ))

    def _inline(self, request: GenerationRequest, params: JobParams) -> JobParams:
        """The prompt parameters beyond the options' (bot/prompt_params.py), validated."""
        profile = self.profile_of(params.model)
        return replace(params, chaos=check_chaos(request, profile), tile=check_tile(request, profile),
                       inline=request.inline, loras=format_loras(self.catalog.check_loras(tuple(request.loras))))

    def price(self, params: JobParams) -> int:
        """What a job with these parameters costs now, in tenths of a credit."""
        return self.prices.price(params)

    def priority_for(self, requester: Requester) -> Priority:
        if requester.is_moderator:
            return Priority.MODERATOR
        if requester.is_bulk:
            return Priority.BULK
        return Priority.INTERACTIVE

    # ---- the ways to ask for GPU work, resolved into one plan ----
    async def plan(self, requester: Requester, request: WorkRequest) -> AdmissionPlan:
        """Validate `request` and resolve it into the job it would create, priced (nothing stored yet)."""
        if isinstance(request, GenerationRequest):
            plan = AdmissionPlan(JobKind.IMAGINE, self.validate(request))
        elif isinstance(request, RerollRequest):
            plan = await self._reroll(requester, request.parent_job_id)
        elif isinstance(request, VariationRequest):
            plan = await self._variation(requester, request.parent_job_id, request.index, request.strength)
        elif isinstance(request, UpscaleRequest):
            plan = await self._upscale(requester, request.parent_job_id, request.index)
        elif isinstance(request, (OutpaintRequest, RegionRequest)):
            from bot.services import outpaint

            plan = await outpaint.plan(self, requester, request)
        else:
            raise TypeError(f"not a work request: {request!r}")
        if not isinstance(request, GenerationRequest):  # a job's model and LoRAs must still be there
            plan = replace(plan, params=check_job_model(plan.params, self.catalog))
        return replace(plan, cost=self.price(plan.params))

    async def admit(self, requester: Requester, plan: AdmissionPlan, now: float | None = None,
                    quotas: QuotaService | None = None) -> Job:
        """Insert the planned job under the queue limits (one conditional INSERT). With quotas, its
        price is debited first in the same transaction: a refused insert (queue full, a double
        click) rolls the debit back, and a refused debit queues nothing."""
        now = time.time() if now is None else now
        fields: dict[str, Any] = dict(
            kind=plan.kind, requester=requester, params=plan.params,
            priority=self.priority_for(requester),
            max_per_user=self.settings.max_queued_per_user,
            max_total=self.settings.max_queue_size,
            parent_job_id=plan.parent_job_id,
            parent_image_index=plan.image_index, dedupe_key=plan.dedupe_key, now=now, cost=plan.cost,
        )
        if quotas is None or not quotas.enabled:
            return await self.store.insert(**fields)
        async with self.store.db.transaction() as conn:
            charge = await quotas.debit(conn, requester, plan.cost, now)
            job = await self.store.insert(**fields, charged=charge.amount, conn=conn)
            await quotas.record_debit(conn, charge, job.id, now)
        job.balance_left = charge.account.available
        return job

    async def load_parent(self, job_id: int) -> Job:
        parent = await self.store.get(job_id)
        if parent is None:
            raise NotFound(N_("That image's job no longer exists."))
        return parent

    def _kept_for(self) -> str:
        days = self.settings.image_retention_days
        if not days:
            return N_("it is no longer stored")
        return N_("images are kept for {days} day", days=days) if days == 1 else N_("images are kept for {days} days",
                                                                                     days=days)

    async def stored_image(self, parent: Job, index: int, action: str, done: str) -> StoredImage:
        """Image `index` of a finished job, still on disk; NotFound naming why not otherwise."""
        if parent.status not in (JobStatus.DONE, JobStatus.DELIVERED):
            raise NotFound(N_("That job has no finished images to {action}.", action=action))
        images = {image.index: image for image in await self.store.images(parent.id)}
        image = images.get(index)
        if image is not None and image.pruned_at is not None:
            raise NotFound(N_("Image {n} of job #{job} was removed by the retention policy ({kept}), so it cannot "
                              "be {done}.", n=index + 1, job=parent.id, kept=self._kept_for(), done=done))
        if image is None or not Path(image.path).is_file():
            raise NotFound(N_("Image {n} of that job is no longer stored, so it cannot be {done}.", n=index + 1,
                              done=done))
        return image

    def relative_path(self, path: str) -> str:
        return str(Path(path).resolve().relative_to(self.store.data_dir.resolve()))

    async def _reroll(self, requester: Requester, parent_job_id: int) -> AdmissionPlan:
        """Same parameters, new seed; the new job belongs to whoever clicked."""
        parent = await self.load_parent(parent_job_id)
        if parent.params.task is JobTask.UPSCALE:
            raise ValidationError(N_("An upscale cannot be re-rolled: re-roll the original, or vary this image."))
        init = parent.params.init_image
        if init is not None and not (self.store.data_dir / init).is_file():
            # The image prompt (or the image a variation started from) went with the retention policy.
            raise NotFound(N_("The image job #{job} started from was removed ({kept}), so it cannot be re-rolled.",
                              job=parent.id, kept=self._kept_for()))
        params = replace(parent.params, seed=secrets.randbelow(MAX_SEED + 1))
        return AdmissionPlan(JobKind.REROLL, params, parent_job_id=parent.id,
                             dedupe_key=f"reroll:{parent.id}:{requester.user_id}")

    async def _variation(self, requester: Requester, parent_job_id: int, index: int,
                         strength: float | None = None) -> AdmissionPlan:
        """img2img from the stored image `index` of the parent job, at the clicker's /settings
        strength or else the profile's."""
        parent = await self.load_parent(parent_job_id)
        image = await self.stored_image(parent, index, N_("vary"), N_("varied"))
        params = replace(
            parent.params, seed=secrets.randbelow(MAX_SEED + 1), count=parent.params.count,
            strength=self.profile.variation_strength if strength is None else strength,
            init_image=self.relative_path(image.path), task=JobTask.IMG2IMG, upscale_factor=None,
            width=image.width, height=image.height,
            edit=None,  # an outpaint's result varies like any image
        )
        # The strength is part of the key: Vary (Subtle) then Vary (Strong) of one image are two jobs.
        return AdmissionPlan(JobKind.VARIATION, params, parent_job_id=parent.id, image_index=index,
                             dedupe_key=f"variation:{parent.id}:{index}:{requester.user_id}:{params.strength:g}")

    async def _upscale(self, requester: Requester, parent_job_id: int, index: int) -> AdmissionPlan:
        """Image `index` enlarged 2x (Lanczos or UPSCALER_MODEL) and re-detailed by image-to-image at
        UPSCALE_STRENGTH with the same weights and the image's own seed; capped by the profile."""
        parent = await self.load_parent(parent_job_id)
        image = await self.stored_image(parent, index, N_("upscale"), N_("upscaled"))
        target = self.upscale_target(image.width, image.height, parent.params.model)
        if target is None:
            cap = self.settings.max_upscale_pixels or self.profile_of(parent.params.model).max_upscale_pixels
            raise ValidationError(N_("Image {n} is already {width}×{height}: upscales stop at {megapixels:.2g} "
                                     "megapixels for this model.", n=index + 1, width=image.width,
                                     height=image.height, megapixels=cap / 1e6))
        width, height, factor = target
        params = replace(
            parent.params, width=width, height=height, count=1, seed=image.seed,
            strength=self.settings.upscale_strength, init_image=self.relative_path(image.path),
            task=JobTask.UPSCALE, upscale_factor=factor, edit=None,
        )
        return AdmissionPlan(JobKind.UPSCALE, params, parent_job_id=parent.id, image_index=index,
                             dedupe_key=f"upscale:{parent.id}:{index}:{requester.user_id}")

    def upscale_target(self, width: int, height: int, model: str | None = None) -> tuple[int, int, float] | None:
        """(width, height, factor) an upscale of a width x height image gets on `model` (None: the
        default's profile); None: it cannot grow."""
        profile = self.profile if model is None else self.profile_of(model)
        return upscale_size(profile, width, height, self.settings.max_upscale_pixels)
