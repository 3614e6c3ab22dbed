"""The live preview's cost (bot/renderer/preview.py): the same render with previews every
PREVIEW_EVERY_STEPS steps and without, paired and alternated, in this process on the renderer's
own path (render.render_batch: the pipeline call, the latent-to-RGB map or TAESD, the JPEG). What
the bench leaves out is sending the JPEG over the worker's pipe (a few KB per preview, once every
N steps). Goal: at most 3% of render time."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def measure(model: str, device: str, dtype: str, width: int, height: int, steps: int, guidance: float,
            runs: int, every: int = 5, taesd: str | None = None) -> dict[str, float]:
    from bot.models import ImageSpec, RenderBatch
    from bot.renderer import preview, profiles, render
    from bot.renderer.pipeline import native_size

    loaded = render.load_pipelines(model, device, dtype)
    ratios, plain_times, sent = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        specs = (ImageSpec(job_id=1, index=0, prompt="a photo of a cat", negative_prompt="", seed=0,
                           output_path=str(Path(tmp) / "x.png")),)
        base = RenderBatch(batch_id=1, width=width, height=height, steps=steps, guidance=guidance, images=specs)
        with_previews = RenderBatch(batch_id=2, width=width, height=height, steps=steps, guidance=guidance,
                                    images=specs, preview_every=every, preview_taesd=taesd)

        def once(batch: RenderBatch) -> float:
            t0 = time.perf_counter()  # no device sync needed: the call ends with PIL images on the CPU
            render.render_batch(loaded, batch, on_preview=lambda step, images: sent.append(len(images[1])))
            return time.perf_counter() - t0

        once(base), once(with_previews)  # warm-up: kernels, allocator, caches
        sent.clear()
        for i in range(runs):
            order = (base, with_previews) if i % 2 else (with_previews, base)
            timed = {batch.batch_id: once(batch) for batch in order}
            plain_times.append(timed[1])
            ratios.append(timed[2] / timed[1])
    _sample, scale = native_size(loaded.txt2img)
    one = preview.seconds_per_preview(profiles.family_for(type(loaded.txt2img).__name__),
                                      (1, 4, height // scale, width // scale), loaded.device)
    q = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else ratios * 3
    return {"ratio": statistics.median(ratios), "p25": q[0], "p75": q[-1], "plain": statistics.median(plain_times),
            "previews": len(sent) / max(1, runs), "jpeg_bytes": statistics.median(sent) if sent else 0.0, "one": one}


def report(args, model: str, width: int, height: int, steps: int, guidance: float) -> str:
    """The bench's line (`args`: its --device, --dtype and --runs)."""
    runs = args.runs
    m = measure(model, args.device, args.dtype, width, height, steps, guidance, runs)
    return (f"live previews every 5 steps ({m['previews']:.0f} per image, {m['jpeg_bytes'] / 1024:.1f} KiB JPEG): "
            f"render time x{m['ratio']:.3f} (IQR {m['p25']:.3f}-{m['p75']:.3f}) over {runs} paired runs of "
            f"{m['plain'] * 1000:.0f} ms; one preview alone {m['one'] * 1000:.2f} ms -> "
            f"{m['previews'] * m['one'] / m['plain'] * 100:.2f}% of render time (goal <= 3%)")
