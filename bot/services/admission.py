"""Admission rules for GPU work: /imagine, Re-roll and Variation all come through here.

`plan()` validates a request against the model profile and the settings and resolves it into the
job it would create, and its price; `admit()` inserts that job under the queue limits and, with
quotas, debits its price in the same transaction. `JobService.submit` calls them in that order,
with the safety check in between. Anything refused raises a BotError whose message tells the user
which limit they hit; nothing is queued or charged in that case.

A job's price is its GPU work (`JobParams.work`, the one cost formula) over the work of one image at
the model's default size and steps, rounded up to a tenth: that image costs 1.0, a 4-image job four
times as much, a variation what its img2img steps render.
"""
from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot import credits
from bot.config import Settings
from bot.errors import NotFound, ValidationError
from bot.models import (
    MAX_SEED,
    GenerationRequest,
    Job,
    JobKind,
    JobParams,
    JobStatus,
    JobTask,
    Priority,
    Requester,
    RerollRequest,
    VariationRequest,
    WorkRequest,
    work_units,
)
from bot.renderer.profiles import ASPECTS, ModelProfile, sizes_for_aspect
from bot.services.jobs import JobStore

if TYPE_CHECKING:
    from bot.services.quotas import QuotaService

MAX_COUNT = 4


@dataclass(frozen=True)
class AdmissionPlan:
    """A validated request: the job `admit()` would insert."""

    kind: JobKind
    params: JobParams
    parent_job_id: int | None = None
    image_index: int | None = None
    dedupe_key: str | None = None
    cost: int = 10  # tenths of a credit (see the module docstring)


class Admission:
    def __init__(self, settings: Settings, profile: ModelProfile, store: JobStore, model_label: str,
                 scheduler_name: str = ""):
        self.settings = settings
        self.profile = profile
        self.store = store
        self.model_label = model_label
        self.scheduler_name = scheduler_name

    # ---- validation ----
    def validate(self, request: GenerationRequest) -> JobParams:
        s, p = self.settings, self.profile
        prompt = (request.prompt or "").strip()
        if not prompt:
            raise ValidationError("The prompt is empty: describe the image you want.")
        if len(prompt) > s.max_prompt_length:
            raise ValidationError(
                f"Your prompt is {len(prompt)} characters; the limit is {s.max_prompt_length}."
            )
        negative = (request.negative_prompt or "").strip()
        if len(negative) > s.max_prompt_length:
            raise ValidationError(
                f"Your negative prompt is {len(negative)} characters; the limit is {s.max_prompt_length}."
            )
        if request.aspect not in ASPECTS:
            raise ValidationError(f"Aspect must be one of {', '.join(ASPECTS)}.")
        if not 1 <= request.count <= MAX_COUNT:
            raise ValidationError(f"Count must be between 1 and {MAX_COUNT}.")
        steps = p.default_steps if request.steps is None else request.steps
        if not p.min_steps <= steps <= p.max_steps:
            raise ValidationError(f"Steps must be between {p.min_steps} and {p.max_steps} for this model.")
        guidance = p.default_guidance if request.guidance is None else float(request.guidance)
        if not (math.isfinite(guidance) and p.min_guidance <= guidance <= p.max_guidance):
            raise ValidationError(
                f"Guidance must be between {p.min_guidance:g} and {p.max_guidance:g} for this model."
            )
        seed = secrets.randbelow(MAX_SEED + 1) if request.seed is None else request.seed
        if not 0 <= seed <= MAX_SEED:
            raise ValidationError(f"Seed must be between 0 and {MAX_SEED}.")
        width, height = sizes_for_aspect(p, request.aspect)
        return JobParams(
            prompt=prompt, negative_prompt=negative, aspect=request.aspect, width=width,
            height=height, steps=steps, guidance=guidance, count=request.count, seed=seed,
            model=self.model_label, scheduler=self.scheduler_name,
        )

    @property
    def unit_work(self) -> float:
        """The work of one image at the model's default size and steps: it costs 1.0 credit."""
        p = self.profile
        return work_units(p.default_size, p.default_size, p.default_steps, 1)

    def price(self, params: JobParams) -> int:
        """What a job with these parameters costs, in tenths of a credit."""
        return credits.price(params.work, self.unit_work)

    def priority_for(self, requester: Requester) -> Priority:
        if requester.is_moderator:
            return Priority.MODERATOR
        if requester.is_bulk:
            return Priority.BULK
        return Priority.INTERACTIVE

    # ---- the three ways to ask for GPU work, resolved into one plan ----
    async def plan(self, requester: Requester, request: WorkRequest) -> AdmissionPlan:
        """Validate `request` and resolve it into the job it would create, priced (nothing stored yet)."""
        if isinstance(request, GenerationRequest):
            plan = AdmissionPlan(JobKind.IMAGINE, self.validate(request))
        elif isinstance(request, RerollRequest):
            plan = await self._reroll(requester, request.parent_job_id)
        elif isinstance(request, VariationRequest):
            plan = await self._variation(requester, request.parent_job_id, request.index)
        else:
            raise TypeError(f"not a work request: {request!r}")
        return replace(plan, cost=self.price(plan.params))

    async def admit(self, requester: Requester, plan: AdmissionPlan, now: float | None = None,
                    quotas: QuotaService | None = None) -> Job:
        """Insert the planned job under the queue limits (one conditional INSERT). With quotas, its
        price is debited first in the same transaction: a refused insert (queue full, a double
        click) rolls the debit back, and a refused debit queues nothing."""
        now = time.time() if now is None else now
        fields = dict(
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

    async def _parent(self, job_id: int) -> Job:
        parent = await self.store.get(job_id)
        if parent is None:
            raise NotFound("That image's job no longer exists.")
        return parent

    async def _reroll(self, requester: Requester, parent_job_id: int) -> AdmissionPlan:
        """Same parameters, new seed; the new job belongs to whoever clicked."""
        parent = await self._parent(parent_job_id)
        params = replace(parent.params, seed=secrets.randbelow(MAX_SEED + 1))
        return AdmissionPlan(JobKind.REROLL, params, parent_job_id=parent.id,
                             dedupe_key=f"reroll:{parent.id}:{requester.user_id}")

    async def _variation(self, requester: Requester, parent_job_id: int, index: int) -> AdmissionPlan:
        """img2img from the stored image `index` of the parent job, at the profile's strength."""
        parent = await self._parent(parent_job_id)
        if parent.status not in (JobStatus.DONE, JobStatus.DELIVERED):
            raise NotFound("That job has no finished images to vary.")
        images = {image.index: image for image in await self.store.images(parent.id)}
        image = images.get(index)
        if image is None or not Path(image.path).is_file():
            raise NotFound(f"Image {index + 1} of that job is no longer stored, so it cannot be varied.")
        rel = str(Path(image.path).resolve().relative_to(self.store.data_dir.resolve()))
        params = replace(
            parent.params, seed=secrets.randbelow(MAX_SEED + 1),
            strength=self.profile.variation_strength, init_image=rel, task=JobTask.IMG2IMG,
        )
        return AdmissionPlan(JobKind.VARIATION, params, parent_job_id=parent.id, image_index=index,
                             dedupe_key=f"variation:{parent.id}:{index}:{requester.user_id}")
