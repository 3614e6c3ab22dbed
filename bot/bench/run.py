"""`python -m bot bench`: measures the serving layer against the bare pipeline, in one run.

Prints, all measured now on this machine:
- end-to-end job time (admission -> queue -> renderer process -> PNG + SQLite -> delivery hook)
  divided by the bare `pipe(...)` call with the same parameters (goal <= 1.05);
  over paired runs, with the ratio's interquartile range;
- the batching gain of 8 compatible jobs, bare pipeline beside the whole stack, with where the
  stack's time goes and its event-loop lag (bot/bench/batching.py); 2 workers vs 1 (`--devices`);
- the renderer's idle gap between two batches at 1024² output, encoding before taking the next
  batch (as before) vs beside it (now);
- the first image after start with a job queued at start, next to a bare model load + one render
  (bot/bench/startup.py; `--only startup` runs just that);
- a model switch (IMAGE_MODELS): a job that unloads one model and loads another vs one on a
  model already held (bot/bench/model_switch.py; `--only switch`);
- per task, price ÷ time relative to a default image, after the bot's own cost measurement
  (bot/bench/prices.py; `--only prices`; goal within ±15%);
- with 10,000 queued jobs: start-up recovery time and its edits, one /imagine's admission and place
  in line, that admission with quotas (debit and ledger in its transaction) vs without, and the
  time to pick the next job (goal < 1 ms); /history pages and searches at 100,000 jobs; memory.

`--gpu` prints only the GPU speed table: full-size SD 1.5 / SDXL with and without each speed lever,
images per second and the share of the device's ceiling (bot/bench/gpu.py).

Acknowledgement latency needs the Discord-compatible test server, which lives in the repository's
tests/ (product code never imports them): `python -m tests.bench_ack` in a source checkout.

The tiny random-weight model is the default (built on the fly); `--model` takes a real one.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.bench import preview as preview_bench
from bot.bench.stack import serving_stack as _serving_stack
from bot.bench.stack import wait_delivered as _wait
from bot.models import GenerationRequest


def rss_mib(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident memory of a process in MiB, from /proc (Linux)."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return float("nan"), float("nan")


def _spread(values: list[float]) -> tuple[float, float, float]:
    """(median, 25th, 75th percentile)."""
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return statistics.median(values), q[0], q[-1]


async def measure_end_to_end(model, device, dtype, size, steps, guidance, runs, bare_call) -> dict[str, float]:
    """Seconds per job through the whole stack, one job at a time, against the bare pipeline call
    with the same parameters. The two alternate (and which goes first alternates too), so drift
    in the machine's speed hits both alike; the ratio is the median of the paired ratios, reported
    with its interquartile range over `runs` pairs."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = await _serving_stack(model, [device], dtype, Path(tmp), False, 1, size)
        try:
            request = GenerationRequest(prompt="a photo of a cat", steps=steps, guidance=guidance, seed=0)
            served, bare = [], []
            for run in range(runs + 1):
                bare_first = run % 2 == 0
                if bare_first:
                    bare_took = await asyncio.to_thread(bare_call)
                    await asyncio.sleep(0.3)
                started = time.perf_counter()
                job = await stack.submit(1, request)
                await _wait(stack.events, [job.id])
                took = stack.events.times[job.id] - started
                await asyncio.sleep(0.3)  # let both processes' thread pools go idle between the two
                if not bare_first:
                    bare_took = await asyncio.to_thread(bare_call)
                    await asyncio.sleep(0.3)
                if run:  # the first pair is warm-up
                    served.append(took)
                    bare.append(bare_took)  # type: ignore[possibly-undefined]
            worker = stack.pool.workers[0]
            pid = getattr(worker, "pid", None)
            ratio, low, high = _spread([s / b for s, b in zip(served, bare, strict=True)])
            return {"served": statistics.median(served), "bare": statistics.median(bare), "ratio": ratio,
                    "ratio_p25": low, "ratio_p75": high,
                    "renderer_rss": rss_mib(pid)[1] if pid else float("nan")}
        finally:
            await stack.close()


async def measure_batching(model, device, dtype, size, steps, guidance, jobs) -> tuple[float, float]:
    """Seconds to finish `jobs` compatible jobs from different users: batched, then one at a time."""
    return (await _drain_time(model, [device], dtype, size, steps, guidance, jobs, batching=True),
            await _drain_time(model, [device], dtype, size, steps, guidance, jobs, batching=False))


async def measure_workers(model, devices: list[str], dtype, size, steps, guidance, jobs) -> tuple[float, float]:
    """Seconds to finish `jobs` jobs from different users on one worker, then on `devices`."""
    return (await _drain_time(model, devices[:1], dtype, size, steps, guidance, jobs, batching=False),
            await _drain_time(model, devices, dtype, size, steps, guidance, jobs, batching=False))


async def _drain_time(model, devices, dtype, size, steps, guidance, jobs, *, batching: bool) -> float:
    """Queue `jobs` jobs while the workers are held, release them, time until all are delivered."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = await _serving_stack(model, devices, dtype, Path(tmp), batching, jobs, size)
        try:
            request = GenerationRequest(prompt="a photo of a cat", steps=steps, guidance=guidance, seed=1)
            warm = [await stack.submit(100 + n, request) for n in range(len(devices))]  # one per worker
            await _wait(stack.events, [j.id for j in warm])
            await stack.dispatcher.stop()  # queue everything before any worker may start
            submitted = [await stack.submit(1 + u, request) for u in range(jobs)]
            started = time.perf_counter()
            await stack.dispatcher.start()
            await _wait(stack.events, [j.id for j in submitted])
            return max(stack.events.times[j.id] for j in submitted) - started
        finally:
            await stack.close()


def _tiny_model(folder: Path, attention: bool = True) -> str:
    from bot.renderer.tiny import build_tiny_pipeline

    return str(build_tiny_pipeline(folder / ("tiny-sd" if attention else "tiny-sd-conv"), attention=attention))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="hub id or folder (default: a tiny random-weight model built now)")
    parser.add_argument("--device", default="auto", help="the device of the one-worker measurements")
    parser.add_argument("--devices", default="cpu,cpu", help="the pool for the workers ratio (default cpu,cpu)")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--size", type=int, help="image edge in pixels (default: the model's default size)")
    parser.add_argument("--gap-size", type=int, default=1024, help="output edge for the idle-gap measurement")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: 20 tiny, 25 real)")
    parser.add_argument("--runs", type=int, default=15, help="paired end-to-end/bare runs")
    parser.add_argument("--startup-runs", type=int, default=3, help="rounds of the first-image-after-start figure")
    parser.add_argument("--only", choices=("all", "startup", "prices", "switch"), default="all",
                        help="run one section only")
    parser.add_argument("--second-model", help="the model switched to in the model-switch figure")
    parser.add_argument("--switch-runs", type=int, default=4, help="jobs per row of the model-switch figure (x2)")
    parser.add_argument("--price-rounds", type=int, default=3, help="rounds of the per-task price figure")
    from bot.bench import gpu

    gpu.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.gpu:  # the GPU speed table alone (bot/bench/gpu.py)
        return gpu.main(args, measure_end_to_end)

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or _tiny_model(Path(tmp))
        # The tiny model's self-attention over 512² latents takes minutes a step on a CPU: the
        # 1024² idle-gap measurement uses a convolution-only tiny model (same serving path).
        gap_model = args.model or _tiny_model(Path(tmp), attention=False)
        steps = args.steps or (20 if not args.model else 25)
        return asyncio.run(_main(args, model, gap_model, steps))


async def _main(args, model: str, gap_model: str, steps: int) -> int:
    from bot.bench.queue_costs import measure_history, measure_pick_time, measure_queue_costs, measure_quota_admission
    from bot.bench.renderer import measure_idle_gap
    from bot.renderer.profiles import resolve_profile, sizes_for_aspect
    from bot.renderer.worker import bare_pipeline_call

    profile = resolve_profile(model)
    width, height = sizes_for_aspect(profile, "1:1")
    if args.size:
        if args.size % profile.size_multiple:
            print(f"--size must be a multiple of {profile.size_multiple} for this model", file=sys.stderr)
            return 2
        width = height = args.size
    guidance = profile.default_guidance
    print(f"model: {model if args.model else 'tiny random-weight SD (built now)'}; {width}x{height}, "
          f"{steps} steps, CFG {guidance}")
    if args.only in ("all", "switch"):  # a model switch: unload + load vs a cached model (bot/bench/model_switch.py)
        from bot.bench import model_switch

        print(await asyncio.to_thread(model_switch.report, args, model, width, height, steps, guidance))
        if args.only == "switch":
            return 0
    if args.only in ("all", "prices"):  # per task: price ÷ measured time (bot/bench/prices.py)
        from bot.bench.prices import measure_prices
        from bot.bench.prices import report as price_report

        priced = await measure_prices(model, args.device, args.dtype, max(1, args.price_rounds))
        print("\n".join(price_report(priced, _spread)))
        if args.only == "prices":
            return 0
    if args.only == "startup" or args.startup_runs > 0:
        from bot.bench.startup import measure_first_image, report

        times = await measure_first_image(model, args.device, args.dtype, steps, max(1, args.startup_runs))
        print("\n".join(report(times, _spread)))
    if args.only == "startup":
        return 0

    bare_call = await asyncio.to_thread(bare_pipeline_call, model, args.device, args.dtype, width, height, steps,
                                        guidance, "a photo of a cat", 0)
    e2e = await measure_end_to_end(model, args.device, args.dtype, width, steps, guidance, args.runs, bare_call)
    del bare_call
    gc.collect()
    print(f"end-to-end job {e2e['served'] * 1000:.1f} ms vs bare pipeline {e2e['bare'] * 1000:.1f} ms (medians): "
          f"ratio {e2e['ratio']:.3f}, interquartile range {e2e['ratio_p25']:.3f}-{e2e['ratio_p75']:.3f} "
          f"over {args.runs} paired runs (goal <= 1.05)")
    print(await asyncio.to_thread(preview_bench.report, args, model, width, height, steps, guidance))

    from bot.bench.batching import measure_and_report

    print("\n".join(await measure_and_report(model, args.device, args.dtype, width, steps, guidance, 8)))

    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    one, many = await measure_workers(model, devices, args.dtype, width, steps, guidance, 8)
    print(f"8 jobs on 1 worker {one:.2f} s, on {len(devices)} workers ({','.join(devices)}) {many:.2f} s -> "
          f"throughput x{one / many:.2f} (on one CPU the workers share the same cores)")

    gap_steps = 2
    for inline in (True, False):
        gaps = await measure_idle_gap(gap_model, args.device, args.gap_size, gap_steps, 4, encode_inline=inline)
        label = "encode, then take the next batch (before)" if inline else "encode beside the next batch (now)"
        median, low, high = _spread(gaps)
        print(f"idle gap between batches at {args.gap_size}x{args.gap_size}, {label}: median {median * 1000:.1f} ms "
              f"(IQR {low * 1000:.1f}-{high * 1000:.1f} ms, {len(gaps)} gaps)")

    costs = await measure_queue_costs(10_000)
    print(f"10,000 queued jobs: start-up recovery {costs['recovery'] * 1000:.0f} ms with "
          f"{costs['recovery_edits']} position edits; one /imagine admitted and placed in line: "
          f"p50 {costs['submit_p50'] * 1000:.2f} ms, p99 {costs['submit_p99'] * 1000:.2f} ms")
    quota = await measure_quota_admission(10_000)
    print(f"admission with quotas (debit + ledger in the insert's transaction): p50 {quota['with_p50'] * 1000:.2f} ms, "
          f"p99 {quota['with_p99'] * 1000:.2f} ms; without: p50 {quota['without_p50'] * 1000:.2f} ms, "
          f"p99 {quota['without_p99'] * 1000:.2f} ms (x{quota['with_p50'] / quota['without_p50']:.2f} at p50; "
          "10,000 queued, alternating)")
    hist = {key: value * 1000 for key, value in (await measure_history(100_000)).items()}
    print(f"/history at 100,000 jobs (p50): first page {hist['first_page']:.2f} ms, deep page "
          f"{hist['deep_page']:.2f} ms; search (FTS5) for a word the member used {hist['search_common']:.2f} ms, "
          f"a rare word {hist['search_rare']:.2f} ms, a word in 20% of prompts the member never used "
          f"{hist['search_common_unused']:.2f} ms (the worst case: every match is checked)")
    per_pick, queue_mib = measure_pick_time()
    print(f"pick next job with 10,000 queued: {per_pick * 1e6:.1f} us (goal < 1000 us); "
          f"10,000 queued jobs hold {queue_mib:.1f} MiB")
    current, peak = rss_mib()
    print(f"memory: bench process peak RSS {peak:.0f} MiB (holds the bare pipeline); "
          f"renderer process peak RSS {e2e['renderer_rss']:.0f} MiB")
    print("ack latency through the Discord-compatible server: `python -m tests.bench_ack` in a source checkout")
    return 0
