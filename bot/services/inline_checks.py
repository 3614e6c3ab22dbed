"""Admission's checks of the values only prompt parameters set (--chaos, --model): the options'
checks are in Admission.validate. Raised as ValidationError, so the member reads them ephemerally."""
from __future__ import annotations

from pathlib import PurePath

from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import GenerationRequest
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


def model_names(label: str, image_model: str) -> list[str]:
    """The names --model accepts for the loaded model: its label, its hub id or folder, and the
    last part of that (case-insensitive)."""
    names = [label, image_model, PurePath(image_model).name, image_model.rsplit("/", 1)[-1]]
    return list(dict.fromkeys(name for name in names if name))


def check_model(name: str | None, label: str, image_model: str) -> str:
    """The model's label when `name` names the loaded model (or is None); refused otherwise, with
    the models there are (one today; IMAGE_MODELS will list more)."""
    if name is None:
        return label
    if name.lower() in {n.lower() for n in model_names(label, image_model)}:
        return label
    raise ValidationError(N_("There is no model named `{name}`. Available: `{available}`.", name=quoted(name),
                             available=quoted(label, 100)))
