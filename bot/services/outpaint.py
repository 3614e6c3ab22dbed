"""Admission of outpaints (Zoom Out 1.5×/2×, Pan ⬅➡⬆⬇, Make Square): the plan `Admission.plan`
makes for an OutpaintRequest, before the safety check and the quota debit of the one submit path.

An outpaint is a new job (kind 'outpaint', task 'inpaint') from one stored image of its parent,
with the parent's prompt, negative, steps and guidance, a new seed, and the canvas size of
`outpaint_geometry.output_size` under the model's pixel limit (MAX_UPSCALE_PIXELS, else the
profile's: four times its trained area). It is priced like an image-to-image job of its output
size at its strength (1.0: every step renders), through the one price function. Lineage: the parent
job and image index (as for V and U) plus `edit`, shown by Info and written into the PNG.
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import (
    MAX_SEED,
    AdmissionPlan,
    Job,
    JobKind,
    JobTask,
    OutpaintRequest,
    RegionRequest,
    Requester,
    StoredImage,
)
from bot.renderer import outpaint_geometry as geometry
from bot.renderer.profiles import ratio_label

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.renderer.profiles import ModelProfile


class Admission(Protocol):
    """What an outpaint's plan needs of bot/services/admission.py's Admission (which calls it)."""

    settings: Settings
    profile: ModelProfile

    async def load_parent(self, job_id: int) -> Job: ...

    async def stored_image(self, parent: Job, index: int, action: str, done: str) -> StoredImage: ...

    def relative_path(self, path: str) -> str: ...

    def profile_of(self, model: str) -> ModelProfile: ...

OUTPAINT_STRENGTH = 1.0  # the renderer's (bot/renderer/outpaint.py): the new area starts from noise


def pixel_limit(admission: Admission, profile: ModelProfile | None = None) -> int:
    """The largest canvas an outpaint may have (width × height) on `profile` (None: the default model's)."""
    return admission.settings.max_upscale_pixels or (profile or admission.profile).max_upscale_pixels


def target(admission: Admission, edit: str, width: int, height: int,
           model: str | None = None) -> tuple[int, int] | None:
    """The canvas of `edit` on a width × height image of `model` (a job's; None: the default's),
    under that model's limits as `plan` applies them; None when it cannot be made."""
    profile = admission.profile if model is None else admission.profile_of(model)
    try:
        return geometry.output_size(edit, width, height, pixel_limit(admission, profile), profile.size_multiple)
    except geometry.OutpaintRefused:
        return None


async def plan(admission: Admission, requester: Requester,
               request: OutpaintRequest | RegionRequest) -> AdmissionPlan:
    """The job an outpaint (or a Vary Region: the same size, the chosen cells redrawn with the new
    prompt or the parent's, kind 'region') would create, priced."""
    region = isinstance(request, RegionRequest)
    if region and not request.edit.startswith("region:"):
        raise ValidationError(N_("Choose the part of the image to redraw."))
    if not region and request.edit.startswith("region:"):
        raise ValidationError(f"Unknown outpaint {request.edit!r}.")
    try:
        geometry.parse(request.edit)
    except geometry.OutpaintRefused as exc:
        raise ValidationError(exc.args[0]) from None  # a Msg: said in the member's language
    parent = await admission.load_parent(request.parent_job_id)
    image = await admission.stored_image(parent, request.index, N_("extend"), N_("extended"))
    profile = admission.profile_of(parent.params.model)  # the job's model's limits
    try:
        width, height = geometry.output_size(request.edit, image.width, image.height, pixel_limit(admission, profile),
                                             profile.size_multiple)
    except geometry.OutpaintRefused as exc:
        raise ValidationError(exc.args[0]) from None  # a Msg: said in the member's language
    params = replace(
        parent.params, width=width, height=height, aspect=ratio_label(width, height), count=1,
        seed=secrets.randbelow(MAX_SEED + 1), strength=OUTPAINT_STRENGTH,
        init_image=admission.relative_path(image.path), task=JobTask.INPAINT, upscale_factor=None, edit=request.edit,
    )
    if (isinstance(request, RegionRequest) and request.prompt is not None
            and request.prompt.strip() != parent.params.prompt):
        # A new prompt for the region: checked as /imagine checks one (the safety check follows).
        prompt = request.prompt.strip()
        if not prompt:
            raise ValidationError(N_("The prompt is empty: describe what the region should show."))
        if len(prompt) > admission.settings.max_prompt_length:
            raise ValidationError(N_("Your prompt is {length} characters; the limit is {limit}.", length=len(prompt),
                                     limit=admission.settings.max_prompt_length))
        params = replace(params, prompt=prompt)
    kind = JobKind.REGION if region else JobKind.OUTPAINT
    return AdmissionPlan(kind, params, parent_job_id=parent.id, image_index=request.index,
                         dedupe_key=f"{kind.value}:{parent.id}:{request.index}:{request.edit}:{requester.user_id}")
