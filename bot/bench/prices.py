"""`python -m bot bench`'s prices figure: does each task's price follow what it costs on this device?

The bot's services around a real renderer (bot/bench/run.py's stack, no Discord) first run the cost
measurement exactly as the bot does when idle (bot/services/costs.py), and admission prices from
its table. Then, round after round, one job of each case goes through the whole stack alone
(submit -> renderer -> PNG stored -> delivered), a default text-to-image job first in every round.
Per case: price ÷ time, both relative to that round's default image (1.00 = the price is exactly
what the job costs), median and interquartile range over the rounds. Goal: within ±15% (0.85-1.15).

The cases vary what the price must follow: size (the upscale's 4x pixels), steps, count and
strength (image to image renders strength x steps).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.models import GenerationRequest, ImagePrompt, UpscaleRequest, VariationRequest

GOAL = 0.15
PROMPT = "a photo of a cat"


def _cases(steps: int) -> list[tuple[str, str, dict]]:
    """(case, task, how to ask for it): the default image is the first, the reference."""
    return [
        ("text to image, defaults", "txt2img", {}),
        ("text to image, defaults (again)", "txt2img", {}),
        ("text to image, 2 images", "txt2img", {"count": 2}),
        (f"text to image, {max(1, steps // 2)} steps", "txt2img", {"steps": max(1, steps // 2)}),
        ("image to image, strength 0.75", "img2img", {"strength": 0.75}),
        ("image to image, strength 0.4", "img2img", {"strength": 0.4}),
        ("variation (strength 0.6)", "variation", {"variation": 0.6}),
        ("upscale 2x", "upscale", {"upscale": True}),
        # Added after the rounding changed (nearest tenth), not looked at before: they check it.
        ("text to image, 3 images", "txt2img", {"count": 3}),
        (f"text to image, {steps * 8 // 5} steps", "txt2img", {"steps": steps * 8 // 5}),
        ("image to image, strength 0.55", "img2img", {"strength": 0.55}),
    ]


async def measure_prices(model: str, device: str, dtype: str, rounds: int) -> dict:
    """Runs the bot's cost measurement, then times every case `rounds` times. Returns the table,
    the prices and, per case, the price ÷ time ratios of the rounds."""
    from bot.bench.stack import serving_stack as _serving_stack
    from bot.bench.stack import wait_delivered as _wait
    from bot.prices import measured_tasks
    from bot.renderer.profiles import model_label, resolve_profile
    from bot.services.calibration import measure_when_idle
    from bot.services.costs import CostMeasurement

    profile = resolve_profile(model)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        stack = await _serving_stack(model, [device], dtype, data_dir, False, 1, profile.default_size)
        try:
            admission = stack.jobs.admission
            worker = stack.pool.workers[0]
            started = time.perf_counter()
            m = CostMeasurement(measured_tasks(), admission.prices, data_dir / "costs", model_label(model))
            await measure_when_idle(worker, m, stack.dispatcher.idle, grace=0.2)
            table = m.result(device)
            admission.prices.update(table)
            measuring = time.perf_counter() - started
            print(f"prices: measured in {measuring:.0f} s: {table}", file=sys.stderr, flush=True)

            async def run(user: int, request) -> tuple[float, int, Any]:
                begun = time.perf_counter()
                job = await stack.submit(user, request)
                await _wait(stack.events, [job.id])
                return stack.events.times[job.id] - begun, job.cost, job

            _, _, parent = await run(1, GenerationRequest(prompt=PROMPT, seed=1))  # warm-up, and the source
            source = data_dir / "inputs" / "source.png"
            source.parent.mkdir(parents=True, exist_ok=True)
            (stored,) = await stack.jobs.store.images(parent.id)
            shutil.copy(stored.path, source)
            image = ImagePrompt("inputs/source.png", profile.default_size, profile.default_size, "1:1")
            cases = _cases(profile.default_steps)
            ratios: dict[str, list[float]] = {name: [] for name, _, _ in cases[1:]}
            prices: dict[str, int] = {}
            for round_ in range(rounds):
                base_time = base_price = 0.0
                for n, (name, _task, how) in enumerate(cases):
                    user = 10 + round_ * len(cases) + n  # one job each: no per-user queue limit
                    request: UpscaleRequest | VariationRequest | GenerationRequest
                    if "upscale" in how:
                        request = UpscaleRequest(parent.id, 0)
                    elif "variation" in how:
                        request = VariationRequest(parent.id, 0, how["variation"])
                    elif "strength" in how:
                        request = GenerationRequest(prompt=PROMPT, image=image, strength=how["strength"])
                    else:
                        request = GenerationRequest(prompt=PROMPT, **how)
                    took, cost, _ = await run(user, request)
                    prices[name] = cost
                    if n == 0:
                        base_time, base_price = took, cost
                    else:
                        ratios[name].append((cost / base_price) / (took / base_time))
                print(f"prices: round {round_ + 1} of {rounds}: {ratios}", file=sys.stderr, flush=True)
            return {"table": table, "measuring": measuring, "prices": prices, "ratios": ratios,
                    "tasks": {name: task for name, task, _ in cases}}
        finally:
            await stack.close()


def report(result: dict, spread) -> list[str]:
    table = result["table"]
    costs = ", ".join(f"{name} {c.step:.3g} s/MP-step + {c.fixed:.3g} s/MP" for name, c in table.costs.items())
    lines = [f"prices: cost measurement (the bot's, run while idle) took {result['measuring']:.1f} s: {costs}"]
    worst = 0.0
    for name, values in result["ratios"].items():
        median, low, high = spread(values)
        worst = max(worst, abs(median - 1))
        lines.append(f"  {name:32s} price {result['prices'][name] / 10:4.1f} credits; price ÷ time vs the default "
                     f"image {median:.2f} (IQR {low:.2f}-{high:.2f}, {len(values)} rounds)")
    verdict = "within" if worst <= GOAL else "OUTSIDE"
    lines.append(f"prices follow measured cost: worst case {worst * 100:.0f}% off, {verdict} the "
                 f"±{GOAL * 100:.0f}% goal")
    return lines
