"""Admission rules for GPU work: /imagine, Re-roll and Variation all come through here.

`plan()` validates a request against the model profile and the settings and resolves it into the
job it would create; `admit()` inserts that job under the queue limits. `JobService.submit` calls
them in that order, with the safety check and the quota debit in between. Anything refused raises
a BotError whose message tells the user which limit they hit; nothing is queued in that case.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

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
)
from bot.renderer.profiles import ASPECTS, ModelProfile, sizes_for_aspect
from bot.services.jobs import JobStore

MAX_COUNT = 4


@dataclass(frozen=True)
class AdmissionPlan:
    """A validated request: the job `admit()` would insert."""

    kind: JobKind
    params: JobParams
    parent_job_id: int | None = None
    image_index: int | None = None
    dedupe_key: str | None = None


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

    def priority_for(self, requester: Requester) -> Priority:
        if requester.is_moderator:
            return Priority.MODERATOR
        if requester.is_bulk:
            return Priority.BULK
        return Priority.INTERACTIVE

    # ---- the three ways to ask for GPU work, resolved into one plan ----
    async def plan(self, requester: Requester, request: WorkRequest) -> AdmissionPlan:
        """Validate `request` and resolve it into the job it would create (nothing stored yet)."""
        if isinstance(request, GenerationRequest):
            return AdmissionPlan(JobKind.IMAGINE, self.validate(request))
        if isinstance(request, RerollRequest):
            return await self._reroll(requester, request.parent_job_id)
        if isinstance(request, VariationRequest):
            return await self._variation(requester, request.parent_job_id, request.index)
        raise TypeError(f"not a work request: {request!r}")

    async def admit(self, requester: Requester, plan: AdmissionPlan, now: float | None = None) -> Job:
        """Insert the planned job under the queue limits (one conditional INSERT)."""
        return await self.store.insert(
            kind=plan.kind, requester=requester, params=plan.params,
            priority=self.priority_for(requester),
            max_per_user=self.settings.max_queued_per_user,
            max_total=self.settings.max_queue_size,
            parent_job_id=plan.parent_job_id,
            parent_image_index=plan.image_index, dedupe_key=plan.dedupe_key, now=now,
        )

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
