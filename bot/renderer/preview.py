"""Live previews while a batch renders: a small JPEG of the latents every N steps.

The cheap path needs no extra weights: SD 1.x/2.x and SDXL latents have 4 channels that map to RGB
almost linearly (the well-known "latent RGB factors", as in ComfyUI and A1111's "Approx cheap"),
so a preview is one 4x3 matrix product on the latent grid (64x64 for a 512 px image): microseconds
on the GPU, no VAE decode. With PREVIEW_TAESD=<folder> a local TAESD (diffusers AutoencoderTiny)
decodes instead: sharper, still ~1 ms per image. Families with other latents (FLUX's packed 16
channels, SD3) get no preview.

torch is imported inside functions: importing this module stays cheap and torch-free.
"""
from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pixelforge.renderer")

MAX_SIDE = 256  # long side of the whole preview (a grid for a batch of several images)
JPEG_QUALITY = 70

# Model-space latents (already multiplied by the VAE's scaling factor) -> RGB in about [-1, 1].
# Rows: latent channels 0..3; columns: R, G, B.
LATENT_RGB_FACTORS: dict[str, tuple[tuple[tuple[float, float, float], ...], tuple[float, float, float]]] = {
    "sd15": (((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350),
              (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177)), (0.0, 0.0, 0.0)),
    "sdxl": (((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068),
              (0.1076, 0.1111, -0.0362), (-0.3165, -0.2492, -0.2188)), (0.1084, -0.0175, -0.0011)),
}
LATENT_RGB_FACTORS["sd2"] = LATENT_RGB_FACTORS["sd15"]  # same VAE

PreviewCallback = Callable[[int, dict[int, bytes]], None]  # (step, {job id: JPEG bytes})


def latents_to_rgb(latents: Any, family: str) -> Any:
    """(B, 4, h, w) latents -> (B, h, w, 3) uint8 numpy array, by the family's linear map.

    The 4x3 product runs where the latents are (the GPU: microseconds); the rest in numpy on the
    small result: on a busy CPU, torch's threaded element-wise kernels cost tens of ms here."""
    import numpy as np
    import torch

    factors, bias = LATENT_RGB_FACTORS[family]
    weight = torch.tensor(factors, dtype=torch.float32, device=latents.device)
    rgb = (latents.float().permute(0, 2, 3, 1) @ weight).cpu().numpy() + np.asarray(bias, dtype=np.float32)
    return ((np.clip(rgb, -1, 1) + 1) * 127.5).round().astype(np.uint8)


def grid(images: list, max_side: int = MAX_SIDE):
    """PIL images side by side in a near-square grid, shrunk so its long side is <= max_side."""
    from PIL import Image

    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    w, h = images[0].size
    sheet = Image.new("RGB", (cols * w, rows * h))
    for i, im in enumerate(images):
        sheet.paste(im, ((i % cols) * w, (i // cols) * h))
    scale = max_side / max(sheet.size)
    size = (max(1, round(sheet.width * scale)), max(1, round(sheet.height * scale)))
    return sheet.resize(size, Image.Resampling.BILINEAR)


def jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


class Previewer:
    """Turns the latents of a step into JPEG bytes: every `every` steps, never on the last one
    (the result follows at once)."""

    def __init__(self, family: str, every: int, send: PreviewCallback, taesd: Any = None,
                 owners: list[int] | None = None):
        self.owners = owners or []  # the job id of each image, in batch order: one grid per job
        self.family = family
        self.every = every
        self.send = send
        self.taesd = taesd

    def supported(self, latents: Any) -> bool:
        return (self.taesd is not None or self.family in LATENT_RGB_FACTORS) and getattr(latents, "ndim", 0) == 4 \
            and latents.shape[1] == 4

    def on_step(self, step: int, total: int, latents: Any) -> None:
        if self.every <= 0 or step % self.every or step >= total or not self.supported(latents):
            return
        try:
            self.send(step, self.render(latents))
        except Exception:  # a preview must never break the render
            log.warning("preview at step %d failed", step, exc_info=True)

    def render(self, latents: Any) -> dict[int, bytes]:
        """One JPEG per job of the batch (a batch can hold several members' jobs: each sees only
        its own images). Classifier-free guidance doubles the latents only inside the UNet call:
        what the callback gets has one latent per image."""
        from PIL import Image

        decode = (lambda x: _taesd_decode(self.taesd, x)) if self.taesd is not None else (
            lambda x: latents_to_rgb(x, self.family))
        images = [Image.fromarray(p) for p in decode(latents)]
        owners = self.owners if len(self.owners) == len(images) else [0] * len(images)
        by_job: dict[int, list] = {}
        for owner, image in zip(owners, images, strict=True):
            by_job.setdefault(owner, []).append(image)
        return {job_id: jpeg(grid(group)) for job_id, group in by_job.items()}


def _taesd_decode(taesd: Any, latents: Any) -> Any:
    import torch

    with torch.inference_mode():
        # TAESD's decoder takes unscaled latents; its config carries the same scaling factor as the VAE.
        scaled = latents.to(taesd.device, taesd.dtype) / float(taesd.config.scaling_factor)
        decoded = taesd.decode(scaled).sample
    return ((decoded.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


_taesd_cache: dict[str, Any] = {}


def load_taesd(path: str | None, device: str, dtype: Any) -> Any:
    """PREVIEW_TAESD: a local AutoencoderTiny folder, loaded once per process; None when unset or
    unloadable (the linear approximation is used then)."""
    if not path:
        return None
    if path not in _taesd_cache:
        try:
            from diffusers import AutoencoderTiny

            _taesd_cache[path] = AutoencoderTiny.from_pretrained(path, torch_dtype=dtype).to(device)
        except Exception:
            log.warning("PREVIEW_TAESD=%s could not be loaded; using the latent approximation", path, exc_info=True)
            _taesd_cache[path] = None
    return _taesd_cache[path]


def for_batch(loaded: Any, pipe: Any, batch: Any, send: PreviewCallback | None) -> Previewer | None:
    """The batch's Previewer, or None when it gets no previews (off, nobody listens, or a family
    without a cheap decoder)."""
    from bot.renderer import profiles

    every = int(getattr(batch, "preview_every", 0) or 0)
    if send is None or every <= 0:
        return None
    taesd = load_taesd(getattr(batch, "preview_taesd", None), loaded.device, loaded.dtype)
    family = profiles.family_for(type(pipe).__name__)
    if taesd is None and family not in LATENT_RGB_FACTORS:
        return None
    return Previewer(family, every, send, taesd, owners=[spec.job_id for spec in batch.images])


def seconds_per_preview(family: str, latent_shape: tuple[int, ...], device: str, reps: int = 20) -> float:
    """Median seconds of one preview (map + grid + JPEG) of random latents of this shape: the
    bench's direct measure, steadier than a ratio of two noisy render times."""
    import statistics
    import time

    import torch

    latents = torch.randn(*latent_shape, device=device)
    maker = Previewer(family if family in LATENT_RGB_FACTORS else "sd15", 1, lambda step, images: None)
    maker.render(latents)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        maker.render(latents)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
