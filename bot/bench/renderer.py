"""How long one renderer worker's device sits idle between consecutive batches (for the bench).

    gaps = await measure_idle_gap(model, "cuda", 1024, 30, batches=5, encode_inline=False)

A gap is the time from the end of one batch's pipeline call (denoise + VAE decode) to the start of
the next batch's pipeline call, both taken in the worker with time.monotonic() (system-wide on
Linux, so the bot process can compare them). The caller sends the next batch as soon as it may:
- overlap (encode_inline=False, what the bot does): at on_denoised, while the worker still encodes
  the previous batch's PNGs in its thread pool;
- before (encode_inline=True, the old order): the worker encodes before it reports "denoised", and
  the next batch is sent only after render() returned (PNGs encoded, sent back, stored).
The first batch warms the worker up; its own start is not a gap.

`python -m bot.bench.renderer` measures both at 1024x1024 with a tiny random-weight model. On CPU it
uses the convolution-only tiny shape (`build_tiny_pipeline(..., attention=False)`): the standard
tiny UNet's self-attention over 256^2 latent tokens takes minutes per step there.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from bot.models import ImageSpec, RenderBatch
from bot.renderer.client import RendererClient


def _batch(out: Path, batch_id: int, size: int, steps: int, guidance: float) -> RenderBatch:
    spec = ImageSpec(job_id=batch_id, index=0, prompt=f"a lighthouse on a cliff, take {batch_id}", negative_prompt="",
                     seed=batch_id, output_path=str(out / f"gap-{batch_id}.png"))
    return RenderBatch(batch_id=batch_id, width=size, height=size, steps=steps, guidance=guidance, images=(spec,),
                       model_label="bench")


async def _until_denoised_or_done(task: asyncio.Task, denoised: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(denoised.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def measure_idle_gap(model: str, device: str, size: int, steps: int, batches: int, encode_inline: bool,
                           *, dtype: str = "auto", guidance: float = 7.0) -> list[float]:
    """Idle seconds between consecutive batches on ONE worker: `batches - 1` values (see module doc)."""
    client = RendererClient(model, device=device, dtype=dtype, encode_inline=encode_inline, name="bench")
    sent: list[tuple[RenderBatch, asyncio.Task]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            await client.start()
            for n in range(1, batches + 1):
                batch = _batch(Path(tmp), n, size, steps, guidance)
                denoised = asyncio.Event()
                task = asyncio.ensure_future(client.render(batch, on_denoised=denoised.set))
                sent.append((batch, task))
                if encode_inline:
                    await task
                else:
                    await _until_denoised_or_done(task, denoised)
            await asyncio.gather(*(task for _, task in sent))
        finally:
            for _, task in sent:
                task.cancel()
            await client.close()
    timings = {t.batch_id: t for t in client.timings}
    ordered = [timings[batch.batch_id] for batch, _ in sent]
    return [nxt.pipe_started - prev.pipe_ended for prev, nxt in zip(ordered, ordered[1:], strict=False)]


def _summary(gaps: list[float]) -> str:
    ms = [g * 1000 for g in gaps]
    return f"median {statistics.median(ms):.1f} ms (min {min(ms):.1f}, max {max(ms):.1f}; {len(ms)} gaps)"


async def _main(args: argparse.Namespace, model: str) -> None:
    for inline in (True, False):
        gaps = await measure_idle_gap(model, args.device, args.size, args.steps, args.batches, inline,
                                      dtype=args.dtype, guidance=args.guidance)
        label = "before (encode, then next batch)" if inline else "overlap (next batch at on_denoised)"
        print(f"idle gap at {args.size}x{args.size}, {args.steps} step(s): {label}: {_summary(gaps)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.renderer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="hub id or folder (default: the conv-only tiny model, built now)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            from bot.renderer.tiny import build_tiny_pipeline

            model = str(build_tiny_pipeline(Path(tmp) / "tiny-conv", attention=False))
        asyncio.run(_main(args, model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
