"""`--chaos 0–100`: how different the images of one grid are, by how much initial noise they share.

Without --chaos every image of a job starts from its own seed's noise N_i (seed + i, A1111 style), so
the images of a grid are independent; `--chaos 100` is exactly that (same pixels). Below 100 the
images also share a noise B drawn from the job's seed (through `shared_seed`), mixed
variance-preserving:

    z_i = sqrt(rho) * B + sqrt(1 - rho) * N_i,   rho = 0.9 * (1 - chaos / 100)

`rho` is the correlation between two images' starting noise: 0.9 at `--chaos 0` (the grid shows
close takes on one composition), 0.45 at 50, 0 at 100. z_i keeps unit variance, so the scheduler
sees noise of the right scale. N_i is drawn from the image's own generator exactly as diffusers
would draw it (same shape, device and dtype), so the generators stay in the state diffusers expects
for ancestral samplers, and a batch mixing chaos and plain jobs renders each as it would alone.

Text-to-image only (an image prompt starts from its image, not from noise), for pipelines with 4-D
latents (SD 1.5, SD 2, SDXL, SD 3); admission refuses --chaos elsewhere. torch is imported inside
functions, like the rest of the renderer.
"""
from __future__ import annotations

import math
from typing import Any

from bot.models import MAX_SEED, ImageSpec, RenderBatch

SHARED_AT_ZERO = 0.9  # the correlation of two images' initial noise at --chaos 0


def correlation(chaos: int | None) -> float:
    """How much two images of one grid share their initial noise (0: independent)."""
    if chaos is None or chaos >= 100:
        return 0.0
    return SHARED_AT_ZERO * (1 - max(0, chaos) / 100)


def shared_seed(job_seed: int) -> int:
    """The seed of a job's shared noise: a fixed scramble of its seed (never one of its images'
    seeds seed+i for a grid, so B is not also some N_i)."""
    return (int(job_seed) * 0x9E3779B1 + 0x7F4A7C15) % (MAX_SEED + 1)


def _latent_shape(pipe, batch: RenderBatch) -> tuple[int, int, int, int]:
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    model = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    channels = getattr(getattr(model, "config", None), "in_channels", None)
    if channels is None or type(pipe).__name__.startswith("Flux"):
        raise ValueError(f"--chaos is not supported by {type(pipe).__name__}")
    return (1, int(channels), int(batch.height) // scale, int(batch.width) // scale)


def _noise_dtype(pipe):
    """The dtype diffusers draws initial noise in: the prompt embeddings' (text encoder 2, then 1,
    then the denoiser's)."""
    for name in ("text_encoder_2", "text_encoder", "unet", "transformer"):
        module = getattr(pipe, name, None)
        if module is not None:
            return module.dtype
    raise ValueError(f"cannot tell the latent dtype of {type(pipe).__name__}")


def initial_latents(pipe, batch: RenderBatch, generators: list) -> Any | None:
    """The batch's initial latents when an image in it has --chaos below 100; None otherwise (the
    pipeline draws its own, as always)."""
    specs: tuple[ImageSpec, ...] = batch.images
    if all(correlation(s.chaos) == 0.0 for s in specs):
        return None
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    shape = _latent_shape(pipe, batch)
    device, dtype = pipe._execution_device, _noise_dtype(pipe)
    shared: dict[int, Any] = {}
    latents = []
    for spec, generator in zip(specs, generators, strict=True):
        own = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        rho = correlation(spec.chaos)
        if rho == 0.0:
            latents.append(own)
            continue
        seed = shared_seed(spec.seed if spec.chaos_seed is None else spec.chaos_seed)
        if seed not in shared:
            base_gen = torch.Generator(generator.device).manual_seed(seed)
            shared[seed] = randn_tensor(shape, generator=base_gen, device=device, dtype=dtype)
        mixed = math.sqrt(rho) * shared[seed].float() + math.sqrt(1 - rho) * own.float()
        latents.append(mixed.to(dtype))
    return torch.cat(latents, dim=0)


def apply(pipe, batch: RenderBatch, kwargs: dict) -> None:
    """Hook for render.build_call_kwargs (text-to-image): put the chaos latents into the call."""
    latents = initial_latents(pipe, batch, kwargs["generator"])
    if latents is not None:
        kwargs["latents"] = latents


def png_pairs(spec: ImageSpec) -> dict[str, Any]:
    """What the PNG's parameters say of it: the chaos and the seed its shared noise comes from
    (with Seed, what reproduces the image)."""
    if spec.chaos is None:
        return {}
    return {"Chaos": str(spec.chaos), "Chaos seed": str(spec.seed if spec.chaos_seed is None else spec.chaos_seed)}
