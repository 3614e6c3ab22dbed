"""Decide from a measurement whether batching pays on this device.

Batching compatible jobs into one pipeline call is not free: on a CPU or at large sizes it can be
slower than one call per image (NOTES.md: 0.91x at 128px with CFG on CPU; ~1x at 1024px on GPUs).
So at start-up the renderer renders the same images once as a batch and once one by one, at the
model's default size with a few steps, and batching is enabled only if it is clearly faster.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from bot.models import ImageSpec, RenderBatch
from bot.renderer.profiles import ModelProfile, sizes_for_aspect

log = logging.getLogger(__name__)

MIN_GAIN = 1.10  # below this the extra latency for the first job in a batch is not worth it
CALIBRATION_STEPS = 4


def _batch(batch_id: int, profile: ModelProfile, out: Path, seeds: list[int], label: str) -> RenderBatch:
    width, height = sizes_for_aspect(profile, "1:1")
    specs = tuple(
        ImageSpec(job_id=0, index=i, prompt="a lighthouse on a cliff at sunset", negative_prompt="",
                  seed=seed, output_path=str(out / f"{batch_id}-{i}.png"))
        for i, seed in enumerate(seeds)
    )
    return RenderBatch(batch_id=batch_id, width=width, height=height,
                       steps=min(CALIBRATION_STEPS, profile.default_steps),
                       guidance=profile.default_guidance, images=specs, model_label=label)


async def measure_batching(renderer, profile: ModelProfile, out: Path, n: int, label: str) -> tuple[float, float]:
    """Seconds for n images in one call, and for n calls of one image (after a warm-up)."""
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(n))
    try:
        await renderer.render(_batch(-1, profile, out, [0], label))  # warm-up
        started = time.perf_counter()
        await renderer.render(_batch(-2, profile, out, seeds, label))
        batched = time.perf_counter() - started
        started = time.perf_counter()
        for i, seed in enumerate(seeds):
            await renderer.render(_batch(-10 - i, profile, out, [seed], label))
        single = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return batched, single


async def decide_batching(renderer, profile: ModelProfile, out: Path, max_images: int, label: str) -> bool:
    n = min(max_images, 4)
    if n < 2:
        return False
    try:
        batched, single = await measure_batching(renderer, profile, out, n, label)
    except Exception:
        log.warning("batching calibration failed; batching stays off", exc_info=True)
        return False
    gain = single / batched if batched > 0 else 0.0
    enabled = gain >= MIN_GAIN
    log.info("batching calibration: %d images batched %.2fs vs one by one %.2fs (%.2fx) -> batching %s",
             n, batched, single, gain, "on" if enabled else "off")
    return enabled
