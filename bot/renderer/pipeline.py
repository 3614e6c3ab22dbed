"""The loaded pipelines and the one call that renders on them: its keyword arguments, per-step
progress and cancellation, and what an out-of-memory error needs. Shared by the plain render path
(render.py) and upscaling (upscale.py), which enlarges first and then makes this same call.

torch is imported inside functions, as in render.py: importing this module is cheap and torch-free.
"""
from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.models import ImageSpec, RenderBatch
from bot.renderer import chaos, profiles


class Cancelled(Exception):
    """cancel() reached the batch before its pipeline call ended."""


@dataclass
class LoadedPipelines:
    txt2img: Any
    img2img: Any
    device: str
    dtype: Any
    generator_device: str
    load_seconds: float
    variant: str | None = None
    inpaint: Any = None  # built from txt2img on first use (outpaint.inpaint_pipeline): same weights
    loras: Any = None  # the LoRA adapters loaded into these modules (bot/renderer/lora.py)

    @property
    def scheduler_name(self) -> str:
        return type(self.txt2img.scheduler).__name__


def native_size(pipe) -> tuple[int | None, int]:
    """(raw sample_size of the UNet/transformer, VAE scale factor)."""
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    sample = None
    for name in ("unet", "transformer"):
        module = getattr(pipe, name, None)
        if module is not None:
            sample = getattr(module.config, "sample_size", None)
            break
    if isinstance(sample, (list, tuple)):
        sample = sample[0] if sample else None
    if sample is None:
        sample = getattr(pipe, "default_sample_size", None)  # FLUX: 128 latent px
    return (int(sample) if sample else None), scale


def _load_init_image(path: str, width: int, height: int):
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")  # type: ignore[assignment]
        if im.size != (width, height):
            im = im.resize((width, height), Image.Resampling.LANCZOS)  # type: ignore[assignment]
        return im.copy()


def _accepts(pipe, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(pipe.__call__).parameters
    except (TypeError, ValueError):
        return False


def build_call_kwargs(loaded: LoadedPipelines, batch: RenderBatch, images: list | None = None) -> tuple[Any, dict]:
    """The pipeline and the keyword arguments of the ONE call that renders the whole batch.

    One generator per image, seeded with that image's seed: image i of a batch then gets the same
    initial noise as its batch-of-1 render (one shared generator would change every image but the
    first). `images`: the init images already prepared (upscales enlarge theirs first); else each
    spec's init_image is loaded and resized to the batch's size."""
    import torch

    from_image = batch.is_img2img
    pipe = loaded.img2img if from_image else loaded.txt2img
    specs: tuple[ImageSpec, ...] = batch.images
    kwargs: dict[str, Any] = {
        "prompt": [s.prompt for s in specs],
        "num_inference_steps": int(batch.steps),
        "guidance_scale": float(batch.guidance),
        "generator": [torch.Generator(loaded.generator_device).manual_seed(int(s.seed)) for s in specs],
        "output_type": "pil",
    }
    negatives = [s.pipeline_negative for s in specs]
    if _accepts(pipe, "negative_prompt") and (any(negatives) or profiles.family_for(type(pipe).__name__) != "flux"):
        kwargs["negative_prompt"] = negatives
    if from_image:
        if any(not s.init_image for s in specs) and images is None:
            raise ValueError(f"{batch.task.value} batch without init_image")
        if batch.strength is None:
            raise ValueError(f"{batch.task.value} batch without strength")
        kwargs["image"] = images if images is not None else [
            _load_init_image(s.init_image, batch.width, batch.height) for s in specs]  # type: ignore[arg-type]
        kwargs["strength"] = float(batch.strength)
        if _accepts(pipe, "width"):  # FLUX/SD3 img2img take explicit sizes; SD uses the image's
            kwargs["width"], kwargs["height"] = batch.width, batch.height
    else:
        kwargs["width"], kwargs["height"] = batch.width, batch.height
        chaos.apply(pipe, batch, kwargs)  # --chaos: initial noise shared across the grid
    return pipe, kwargs


def run_pipeline(pipe, kwargs: dict, steps: int, on_step: Callable[[int, int], None] | None,
                 is_cancelled: Callable[[], bool],
                 on_latents: Callable[[int, int, Any], None] | None = None) -> list:
    """One pipeline call with per-step progress and cancellation; its PIL images.
    `on_latents(step, total, latents)`: the live preview's hook (bot/renderer/preview.py)."""
    import torch

    interrupted = False

    def on_step_end(p, step_index, timestep, callback_kwargs):
        nonlocal interrupted
        if on_step is not None:
            on_step(step_index + 1, int(getattr(p, "num_timesteps", 0) or steps))
        if on_latents is not None:
            on_latents(step_index + 1, int(getattr(p, "num_timesteps", 0) or steps), callback_kwargs.get("latents"))
        if is_cancelled():
            # diffusers checks `interrupt` at the top of each step and skips the rest of the loop
            # (the VAE still decodes the partial latents; they are discarded).
            p._interrupt = True
            interrupted = True
        return callback_kwargs

    with torch.inference_mode():
        output = pipe(callback_on_step_end=on_step_end, **kwargs)
    if interrupted or is_cancelled():
        raise Cancelled()
    return list(output.images)


def is_oom(exc: BaseException) -> bool:
    """Out of memory on any device: MemoryError, torch's OutOfMemoryError, or the plain RuntimeError
    some CUDA and MPS paths raise."""
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory(device: str) -> None:
    """Return cached device memory after an OOM. Call it OUTSIDE the except block: inside it the
    exception's traceback keeps every frame of the failed call alive (activations, latents)."""
    import torch

    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.startswith("mps") and hasattr(torch, "mps"):
        with contextlib.suppress(Exception):
            torch.mps.empty_cache()
