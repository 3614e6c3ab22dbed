"""Acknowledgement latency through the Discord-compatible test server: `python -m tests.bench_ack`.

Run from a source checkout (it needs the test server in tests/). The bot runs as `python -m bot`,
exactly as users run it (started like the end-to-end tests start it), while its renderer is kept
busy by a slow job; then `n` members send /imagine at the same moment and the server times each
first response. Goal: p99 < 250 ms. Also prints the bot process's peak memory.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bot.bench.run import rss_mib
from tests.conftest import BotProcess
from tests.fakediscord import FakeDiscord


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure_ack_latency(model: str, n: int = 100, device: str = "auto") -> tuple[float, float, float]:
    """(p50, p99, bot peak RSS MiB) of the first response to `n` simultaneous /imagine calls."""
    # No OpenAPI validation here: it runs in this process, beside the server, and would queue the
    # server's answers; the benchmark measures the bot (the tests validate the same traffic).
    server = FakeDiscord(spec_path=Path("/nonexistent/openapi.json"))
    await server.start()
    guild = server.add_guild(name="bench")
    channel = server.add_channel(guild.id, name="bench")
    users = [server.add_user(f"member{i}") for i in range(n + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        bot = BotProcess(
            server, Path(model), Path(tmp) / "data", Path(tmp) / "bot.log",
            DEVICES=device, MAX_QUEUE_SIZE=n + 10, LOG_LEVEL="WARNING",
            PROGRESS_EDIT_INTERVAL=2.5,  # the product's default, not the tests' faster one
            # Test fault map: makes the first job slow so the renderer is busy throughout.
            PIXELFORGE_TEST_FAULTS=json.dumps({"keep the renderer busy": "slow:1.0"}),
        ).start()
        try:
            await bot.ready(logins=1, timeout=180)
            await server.wait_commands(timeout=60)
            busy = await server.invoke_slash(users[0], channel, "imagine",
                                             {"prompt": "keep the renderer busy", "steps": 30})
            await busy.wait_ack(timeout=10)
            await server.wait_for(
                lambda s: "Rendering" in (s.get_message(busy.original_message_id).content or ""), 120)
            burst = await asyncio.gather(*(
                server.invoke_slash(user, channel, "imagine", {"prompt": f"a cat number {i}", "steps": 4})
                for i, user in enumerate(users[1:])))
            await asyncio.gather(*(i.wait_ack(timeout=30) for i in burst))
            latencies = [i.ack_latency for i in burst]
            peak = rss_mib(bot.proc.pid)[1]
        finally:
            await bot.stop()
            await server.stop()
    return statistics.median(latencies), _percentile(latencies, 0.99), peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_ack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="hub id or folder (default: the tiny random-weight model, built now)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--interactions", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model = args.model
        else:
            from bot.renderer.tiny import build_tiny_pipeline

            model = str(build_tiny_pipeline(Path(tmp) / "tiny-sd"))
        p50, p99, bot_peak = asyncio.run(measure_ack_latency(model, args.interactions, args.device))
    print(f"ack latency, {args.interactions} interactions while rendering: p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms (goal p99 < 250 ms); bot process peak RSS {bot_peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
