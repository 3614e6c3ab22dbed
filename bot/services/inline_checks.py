"""Admission's checks of the values only prompt parameters set (--chaos, --model): the options'
checks are in Admission.validate. Raised as ValidationError, so the member reads them ephemerally."""
from __future__ import annotations

from dataclasses import replace

from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import GenerationRequest, JobParams
from bot.models_catalog import ModelCatalog, read_loras
from bot.prompt_params import MAX_CHAOS, MIN_CHAOS, quoted
from bot.renderer.profiles import ModelProfile

# Pipelines whose initial noise the renderer can mix (bot/renderer/chaos.py): 4-D latents. FLUX
# packs its latents into tokens.
CHAOS_FAMILIES = ("sd15", "sd2", "sdxl", "sd3")
# Pipelines that tile by circular padding (bot/renderer/tiling.py): a UNet's convolutions. SD 3 and
# FLUX patchify with transformers: nothing there would wrap.
TILE_FAMILIES = ("sd15", "sd2", "sdxl")


def check_tile(request: GenerationRequest, profile: ModelProfile) -> bool:
    if request.tile and profile.family not in TILE_FAMILIES:
        raise ValidationError(N_("--tile is not available for this model."))
    return request.tile


def check_chaos(request: GenerationRequest, profile: ModelProfile) -> int | None:
    chaos = request.chaos
    if chaos is None:
        return None
    if not MIN_CHAOS <= chaos <= MAX_CHAOS:
        raise ValidationError(N_("--chaos must be a whole number from {min} to {max}.", min=MIN_CHAOS, max=MAX_CHAOS))
    if request.image is not None:
        raise ValidationError(N_("--chaos applies to text prompts only: an image prompt starts from its image, "
                                 "not from noise."))
    if profile.family not in CHAOS_FAMILIES:
        raise ValidationError(N_("--chaos is not available for this model."))
    return chaos


def check_model(name: str | None, catalog: ModelCatalog) -> str:
    """The name of the model `name` names (None: the default); refused naming it and listing the
    models there are (IMAGE_MODELS, or IMAGE_MODEL's one)."""
    return catalog.resolve(name).name


def check_job_model(params: JobParams, catalog: ModelCatalog) -> JobParams:
    """A stored job's model and LoRAs (Re-roll, V, U, outpaints use them) must still be configured.
    With one model only (IMAGE_MODEL alone), a job of an earlier IMAGE_MODEL renders on today's, as
    it always did."""
    if catalog.get(params.model) is None and len(catalog.entries) == 1:
        params = replace(params, model=catalog.default)
    if catalog.get(params.model) is None:
        available = ", ".join(f"`{quoted(n, 100)}`" for n in catalog.names)
        raise ValidationError(N_("Model `{model}` of that job is no longer available. Available: {available}.",
                                 model=quoted(params.model), available=available))
    catalog.check_loras(read_loras(params.loras))
    return params
