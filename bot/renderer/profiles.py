"""Model profiles: default size, step and guidance ranges per model family (no torch).

The bot's main process uses these to validate /imagine options and to turn an aspect ratio into
pixel sizes before a job reaches the renderer. The family comes from the diffusers pipeline class
(`model_index.json`'s `_class_name`, or `ModelInfo.pipeline_class` once the renderer is up), the
default size from the model's own config (UNet/transformer `sample_size` x VAE scale factor).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

ASPECTS: dict[str, tuple[int, int]] = {
    "1:1": (1, 1),
    "3:2": (3, 2),
    "2:3": (2, 3),
    "16:9": (16, 9),
    "9:16": (9, 16),
}

# Variation ("V" button) = image-to-image from a finished image. `strength` is the fraction of the
# denoising schedule that is re-run on the noised init image: 0 returns the init image, 1 ignores it.
# 0.6 keeps the composition, layout and colours and changes the details (faces, textures, small
# objects), which is what users expect from a "variation". With N steps img2img runs int(N * 0.6).
DEFAULT_VARIATION_STRENGTH = 0.6
# Image prompts (/imagine image:) when `strength` is left empty: A1111's default denoising strength,
# enough to re-draw the picture in the prompt's terms while keeping its composition.
DEFAULT_IMAGE_STRENGTH = 0.75
# Upscales: 2x in each direction, capped at this multiple of the model's trained area
# (MAX_UPSCALE_PIXELS overrides it): SDXL 2048x2048, SD 1.5 1024x1024.
UPSCALE_FACTOR = 2
DEFAULT_UPSCALE_AREA = 4
MIN_UPSCALE_FACTOR = 1.25  # below that the cap leaves too little room: an upscale is refused


@dataclass(frozen=True)
class ModelProfile:
    family: str  # "sd15", "sd2", "sdxl", "sd3", "flux"
    default_size: int  # square edge in pixels at which the model was trained
    size_multiple: int  # width and height must be multiples of this
    default_steps: int
    min_steps: int
    max_steps: int
    default_guidance: float
    min_guidance: float
    max_guidance: float
    variation_strength: float = DEFAULT_VARIATION_STRENGTH
    # sizes_for_aspect rounds to this grid: SDXL/SD3/FLUX were trained on 64-px buckets
    # (1216x832, 1344x768, ...); SD1.x/2.x on multiples of 8. Always a multiple of size_multiple.
    size_bucket: int = 8

    @property
    def max_upscale_pixels(self) -> int:
        """The default cap on an upscale's output (width x height)."""
        return DEFAULT_UPSCALE_AREA * self.default_size**2


FAMILIES: dict[str, ModelProfile] = {
    "sd15": ModelProfile("sd15", 512, 8, 25, 1, 100, 7.0, 0.0, 20.0, size_bucket=8),
    "sd2": ModelProfile("sd2", 768, 8, 25, 1, 100, 7.0, 0.0, 20.0, size_bucket=8),
    "sdxl": ModelProfile("sdxl", 1024, 8, 30, 1, 100, 6.0, 0.0, 20.0, size_bucket=64),
    "sd3": ModelProfile("sd3", 1024, 16, 28, 1, 100, 7.0, 0.0, 20.0, size_bucket=64),
    "flux": ModelProfile("flux", 1024, 16, 28, 1, 100, 3.5, 0.0, 20.0, size_bucket=64),
}


def family_for(pipeline_class_name: str | None, sample_size: int | None = None) -> str:
    """Family of a diffusers pipeline class name ("StableDiffusionXLPipeline" -> "sdxl").

    Unknown classes count as "sd15" (the most permissive small profile). StableDiffusionPipeline is
    "sd2" when its native size is 768 or more (SD 2.x 768-v), else "sd15".
    """
    name = (pipeline_class_name or "").lower()
    if "flux" in name:
        return "flux"
    if "stablediffusion3" in name:
        return "sd3"
    if "stablediffusionxl" in name or "sdxl" in name:
        return "sdxl"
    if sample_size is not None and sample_size >= 768 and "stablediffusion" in name:
        return "sd2"
    return "sd15"


def profile_for(pipeline_class_name: str | None, sample_size: int | None = None) -> ModelProfile:
    """Profile for a pipeline class; `sample_size` is the model's native edge in PIXELS (UNet or
    transformer `sample_size` x VAE scale factor, see `detect_sample_size`).

    When the model's own size is smaller than the family default (tiny test models, 256-px
    fine-tunes), it becomes the default size and the bucket grid shrinks to size_multiple.
    """
    profile = FAMILIES[family_for(pipeline_class_name, sample_size)]
    if sample_size and 0 < sample_size < profile.default_size:
        edge = max(profile.size_multiple, sample_size - sample_size % profile.size_multiple)
        profile = replace(profile, default_size=edge, size_bucket=profile.size_multiple)
    return profile


def sizes_for_aspect(profile: ModelProfile, aspect: str) -> tuple[int, int]:
    """(width, height) for an aspect ratio ("1:1", "3:2", "2:3", "16:9", "9:16").

    Keeps the pixel area close to default_size**2 without exceeding it (memory), with both sides
    multiples of profile.size_bucket (at least one bucket each): sdxl 3:2 -> 1216x832,
    16:9 -> 1344x768 (SDXL's training buckets); sd15 3:2 -> 624x416; 64-px tiny 3:2 -> 72x48.
    Score = |log aspect error| + 0.5 * |log area ratio|, lowest wins.
    """
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; expected one of {', '.join(ASPECTS)}")
    aw, ah = ASPECTS[aspect]
    return sizes_for_ratio(profile, aw / ah)


def sizes_for_ratio(profile: ModelProfile, ratio: float) -> tuple[int, int]:
    """(width, height) for any width/height `ratio` (an image prompt's own aspect), by the rule of
    `sizes_for_aspect`. Ratios beyond 4:1 are treated as 4:1 (the model has never seen thinner)."""
    ratio = min(4.0, max(0.25, float(ratio)))
    grid = max(profile.size_bucket, profile.size_multiple)
    if grid % profile.size_multiple:
        grid = profile.size_multiple
    area = profile.default_size**2
    if abs(ratio - 1.0) < 1e-9:
        edge = max(grid, profile.default_size // grid * grid)
        return edge, edge

    best: tuple[float, int, int] | None = None
    fallback: tuple[float, int, int] | None = None
    max_side = int(math.sqrt(area * max(ratio, 1 / ratio))) + 2 * grid
    for h in range(grid, max_side + 1, grid):
        ideal_w = h * ratio
        for w in {max(grid, math.floor(ideal_w / grid) * grid), max(grid, math.ceil(ideal_w / grid) * grid)}:
            score = abs(math.log((w / h) / ratio)) + 0.5 * abs(math.log((w * h) / area))
            cand = (score, w, h)
            if w * h <= area:
                if best is None or cand < best:
                    best = cand
            elif fallback is None or cand < fallback:
                fallback = cand
    chosen = best or fallback
    assert chosen is not None
    return chosen[1], chosen[2]


def ratio_label(width: int, height: int) -> str:
    """"4:3" for 1152x864: the size's ratio in lowest terms (for messages and history)."""
    divisor = math.gcd(int(width), int(height)) or 1
    return f"{width // divisor}:{height // divisor}"


def upscale_size(profile: ModelProfile, width: int, height: int,
                 max_pixels: int | None = None) -> tuple[int, int, float] | None:
    """(width, height, factor) of an upscale of a width x height image: UPSCALE_FACTOR x, or less
    when that would pass `max_pixels` (default: the profile's cap), both sides multiples of the
    model's size_multiple. None when the image cannot grow by MIN_UPSCALE_FACTOR any more."""
    cap = profile.max_upscale_pixels if not max_pixels else int(max_pixels)
    factor = float(UPSCALE_FACTOR)
    if width * height * factor**2 > cap:
        factor = math.sqrt(cap / (width * height))
    step = profile.size_multiple
    new_w = int(width * factor) // step * step
    new_h = int(height * factor) // step * step
    if new_w < width * MIN_UPSCALE_FACTOR or new_h < height * MIN_UPSCALE_FACTOR:
        return None
    return new_w, new_h, round(new_w / width, 4)


# ---- reading a model's configs without torch ----

def _is_local(model: str) -> bool:
    return os.path.isdir(os.path.expanduser(model))


def _read_json(model: str, filename: str, local_files_only: bool) -> dict | None:
    """A JSON file of a local folder or hub repo; None on any failure.

    Hub ids are read from the local HF cache; only with local_files_only=False is the network tried
    (huggingface_hub retries for ~20 s when offline: call it off the event loop).
    """
    try:
        if _is_local(model):
            path = Path(os.path.expanduser(model)) / filename
            if not path.is_file():
                return None
            return json.loads(path.read_text(encoding="utf-8"))
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(model, filename, local_files_only=True)  # type: ignore[assignment]
        except Exception:
            if local_files_only:
                return None
            path = hf_hub_download(model, filename)  # type: ignore[assignment]
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except Exception:
        return None


def read_model_index(model: str, local_files_only: bool = True) -> dict | None:
    """`model_index.json` of a local diffusers folder or a hub id (HF cache first), or None."""
    data = _read_json(model, "model_index.json", local_files_only)
    return data if isinstance(data, dict) else None


def detect_pipeline_class(model: str, local_files_only: bool = True) -> str | None:
    """The diffusers pipeline class name (`_class_name` of model_index.json), or None."""
    index = read_model_index(model, local_files_only)
    name = index.get("_class_name") if index else None
    return name if isinstance(name, str) else None


def vae_scale_factor_from_config(vae_config: dict | None) -> int:
    """2 ** (number of VAE blocks - 1), diffusers' rule; 8 when unknown."""
    blocks = (vae_config or {}).get("block_out_channels")
    if isinstance(blocks, list) and blocks:
        return 2 ** (len(blocks) - 1)
    return 8


def detect_sample_size(model: str, local_files_only: bool = True) -> int | None:
    """The model's native edge in pixels: unet/ or transformer/ `sample_size` x VAE scale factor.

    None when unknown (FLUX transformers have no sample_size: the family default applies).
    """
    index = read_model_index(model, local_files_only) or {}
    for component in ("unet", "transformer"):
        if index and component not in index:
            continue
        config = _read_json(model, f"{component}/config.json", local_files_only)
        if not config:
            continue
        sample = config.get("sample_size")
        if isinstance(sample, (list, tuple)) and sample:
            sample = sample[0]
        if not isinstance(sample, int) or sample <= 0:
            return None
        vae = _read_json(model, "vae/config.json", local_files_only)
        return sample * vae_scale_factor_from_config(vae)
    return None


def detect_profile(model: str, local_files_only: bool = True) -> ModelProfile:
    """profile_for(detect_pipeline_class(model), detect_sample_size(model)): sd15 when unknown."""
    return profile_for(
        detect_pipeline_class(model, local_files_only), detect_sample_size(model, local_files_only)
    )


def model_label(model: str) -> str:
    """How a model is named in messages and PNG metadata: a local folder by its name."""
    path = Path(model).expanduser()
    return path.name if path.is_dir() else model


def _guess_class(model: str) -> str:
    """A pipeline class from a hub id's name, for a model whose files are not cached yet."""
    name = model.lower()
    if "flux" in name:
        return "FluxPipeline"
    if "stable-diffusion-3" in name or "sd3" in name:
        return "StableDiffusion3Pipeline"
    if "xl" in name:
        return "StableDiffusionXLPipeline"
    return "StableDiffusionPipeline"


def resolve_profile(model: str) -> ModelProfile:
    """The profile of `model`, read from its files (local folder or HF cache; no torch, no network)."""
    return profile_for(detect_pipeline_class(model) or _guess_class(model), detect_sample_size(model))
