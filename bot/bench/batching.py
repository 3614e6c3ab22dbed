"""`python -m bot bench`'s batching figures: the bare pipeline's batch gain beside the whole stack's.

- Bare: in this process, the same pipeline the renderer loads; `jobs` images in ONE pipeline call
  against `jobs` calls of one image each (same size, steps, CFG, seeds), alternating which goes
  first, `rounds` times. Gain = one-by-one time ÷ batched time.
- Stack: `jobs` compatible jobs from different members, queued while the dispatcher is held, then
  released; the clock stops when the last job is delivered (admission, fair queue, renderer
  process, PNG encoding, storing, SQLite, delivery hook). Batched and one-by-one alternate in the
  SAME serving stack (one renderer process, warm), `rounds` times. Gain likewise.
- Where the time goes, per mode (medians over the rounds): from the release to the first pipeline
  call, the pipeline calls themselves, the renderer's idle time between them, and the tail after
  the last call (encoding, sending the PNGs back, writing them, SQLite, delivery). One-by-one hides
  each job's tail behind the next job's pipeline call; a batch has its whole tail after its call.
- The bench process's event-loop lag while the stack runs (bot/looplag.py).

The goal: the stack keeps at least 90% of the bare gain.
"""
from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.looplag import LagStats, LoopLagMonitor
from bot.models import GenerationRequest, ImageSpec, RenderBatch

STAGES = ("to first call", "pipeline calls", "idle between calls", "tail after last call")


def _spread(values: list[float]) -> tuple[float, float, float]:
    """(median, 25th, 75th percentile)."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return statistics.median(values), q[0], q[-1]


def _batch(n: int, size: int, steps: int, guidance: float, first_seed: int) -> RenderBatch:
    specs = tuple(ImageSpec(job_id=i + 1, index=0, prompt="a photo of a cat", negative_prompt="",
                            seed=first_seed + i, output_path="") for i in range(n))
    return RenderBatch(batch_id=1, width=size, height=size, steps=steps, guidance=guidance, images=specs)


def measure_bare_gain(model: str, device: str, dtype: str, size: int, steps: int, guidance: float,
                      jobs: int, rounds: int) -> list[tuple[float, float]]:
    """(batched seconds, one-by-one seconds) per round, straight on the pipeline (blocking)."""
    from bot.renderer import render

    loaded = render.load_pipelines(model, device, dtype)
    render.render_batch(loaded, _batch(jobs, size, steps, guidance, 0))  # warm-up, both shapes
    render.render_batch(loaded, _batch(1, size, steps, guidance, 0))

    def batched() -> float:
        t0 = time.perf_counter()
        render.render_batch(loaded, _batch(jobs, size, steps, guidance, 0))
        return time.perf_counter() - t0

    def single() -> float:
        t0 = time.perf_counter()
        for i in range(jobs):
            render.render_batch(loaded, _batch(1, size, steps, guidance, i))
        return time.perf_counter() - t0

    results = []
    for r in range(rounds):
        if r % 2 == 0:
            b = batched()
            s = single()
        else:
            s = single()
            b = batched()
        results.append((b, s))
    return results


@dataclass
class StackRun:
    seconds: float
    stages: dict[str, float]
    batches: int


@dataclass
class StackResult:
    batched: list[StackRun] = field(default_factory=list)
    single: list[StackRun] = field(default_factory=list)
    lag: LagStats | None = None


async def _drain(stack, jobs: int, batching: bool, request: GenerationRequest, first_user: int) -> StackRun:
    from bot.bench.stack import wait_delivered as _wait

    dispatcher = stack.dispatcher
    worker = stack.pool.workers[0]
    dispatcher.settings.batching = batching
    await dispatcher.stop()  # queue everything before the worker may start
    submitted = [await stack.submit(first_user + u, request) for u in range(jobs)]
    seen = {t.batch_id for t in worker.timings}
    started = time.monotonic()
    perf_started = time.perf_counter()
    await dispatcher.start()
    await _wait(stack.events, [j.id for j in submitted])
    ended = max(stack.events.times[j.id] for j in submitted) - perf_started + started
    calls = sorted((t for t in worker.timings if t.batch_id not in seen), key=lambda t: t.pipe_started)
    piped = sum(t.pipe_ended - t.pipe_started for t in calls)
    first = calls[0].pipe_started - started if calls else 0.0
    tail = ended - calls[-1].pipe_ended if calls else 0.0
    total = ended - started
    stages = dict(zip(STAGES, (first, piped, max(0.0, total - first - piped - tail), tail), strict=True))
    return StackRun(total, stages, len(calls))


async def measure_stack_gain(model: str, device: str, dtype: str, size: int, steps: int, guidance: float,
                             jobs: int, rounds: int) -> StackResult:
    from bot.bench.stack import serving_stack as _serving_stack
    from bot.bench.stack import wait_delivered as _wait

    result = StackResult()
    with tempfile.TemporaryDirectory() as tmp:
        stack = await _serving_stack(model, [device], dtype, Path(tmp), True, jobs, size)
        monitor = None
        try:
            request = GenerationRequest(prompt="a photo of a cat", steps=steps, guidance=guidance, seed=1)
            warm = await stack.submit(10_000, request)
            await _wait(stack.events, [warm.id])
            await _drain(stack, jobs, True, request, 20_000)  # warm-up of the batch shape
            monitor = LoopLagMonitor(report_every=0).start()
            for r in range(rounds):
                for batching in ((True, False) if r % 2 == 0 else (False, True)):
                    run = await _drain(stack, jobs, batching, request, 1 + 1000 * (2 * r + batching))
                    (result.batched if batching else result.single).append(run)
        finally:
            if monitor is not None:
                result.lag = await monitor.stop(report=False)
            await stack.close()
    return result


def _stage_text(runs: list[StackRun]) -> str:
    parts = []
    for stage in STAGES:
        parts.append(f"{stage} {statistics.median(r.stages[stage] for r in runs) * 1000:.0f} ms")
    return ", ".join(parts)


def _calls(runs: list[StackRun]) -> str:
    return f"{statistics.median(r.batches for r in runs):.0f}"


def report(bare: list[tuple[float, float]], stack: StackResult, jobs: int) -> list[str]:
    bare_gain, bare_lo, bare_hi = _spread([s / b for b, s in bare])
    # Paired by round: each round ran both modes back to back in the same stack.
    gains = [s.seconds / b.seconds for b, s in zip(stack.batched, stack.single, strict=True)]
    stack_gain, lo, hi = _spread(gains)
    kept = (stack_gain - 1) / (bare_gain - 1) * 100 if bare_gain > 1 else float("nan")
    b_med = statistics.median(r.seconds for r in stack.batched)
    s_med = statistics.median(r.seconds for r in stack.single)
    lines = [
        f"{jobs} compatible jobs, batching gain (one at a time ÷ batched, median and IQR over {len(bare)} rounds): "
        f"bare pipeline x{bare_gain:.2f} ({bare_lo:.2f}-{bare_hi:.2f}; batched "
        f"{statistics.median(b for b, _ in bare):.2f} s, one at a time {statistics.median(s for _, s in bare):.2f} s); "
        f"whole stack x{stack_gain:.2f} ({lo:.2f}-{hi:.2f}; batched {b_med:.2f} s, one at a time {s_med:.2f} s)",
        f"  the stack keeps {stack_gain / bare_gain * 100:.0f}% of the bare pipeline's gain "
        f"({kept:.0f}% of its time saved; goal >= 90%)",
        f"  batched ({_calls(stack.batched)} call(s)): {_stage_text(stack.batched)}",
        f"  one at a time ({_calls(stack.single)} calls): {_stage_text(stack.single)}",
    ]
    if stack.lag is not None:
        lines.append(f"  event-loop lag of the serving process meanwhile: {stack.lag.text()}")
    return lines


async def measure_and_report(model: str, device: str, dtype: str, size: int, steps: int, guidance: float,
                             jobs: int = 8, rounds: int = 3) -> list[str]:
    bare = await asyncio.to_thread(measure_bare_gain, model, device, dtype, size, steps, guidance, jobs, rounds)
    gc.collect()  # the bare pipeline goes before the stack's renderer process starts
    stack = await measure_stack_gain(model, device, dtype, size, steps, guidance, jobs, rounds)
    return report(bare, stack, jobs)


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.bench.batching`: this section alone, with the tiny model unless --model."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bot.bench.batching", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            from bot.renderer.tiny import build_tiny_pipeline

            model = str(build_tiny_pipeline(Path(tmp) / "tiny-sd"))
        lines = asyncio.run(measure_and_report(model, args.device, args.dtype, args.size, args.steps, args.guidance,
                                               args.jobs, args.rounds))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
