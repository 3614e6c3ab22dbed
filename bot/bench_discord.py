"""Acknowledgement latency through a real Discord-compatible server (part of `python -m bot bench`).

Uses the test server shipped in the repository's tests/ (so it needs a source checkout): the bot
runs as `python -m bot`, exactly as users run it, while its renderer is kept busy by a slow job;
then `n` members send /imagine at the same moment and the server times each first response.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.bench import rss_mib
from tests.fakediscord import FakeDiscord  # ImportError outside a source checkout: the bench skips

ROOT = Path(__file__).resolve().parent.parent


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure_ack_latency(model: str, n: int = 100) -> tuple[float, float, float]:
    """(p50, p99, bot peak RSS MiB) of the first response to `n` simultaneous /imagine calls."""
    # No OpenAPI validation here: it runs in this process, beside the server, and would queue the
    # server's answers; the benchmark measures the bot (the tests validate the same traffic).
    server = FakeDiscord(spec_path=Path("/nonexistent/openapi.json"))
    await server.start()
    guild = server.add_guild(name="bench")
    channel = server.add_channel(guild.id, name="bench")
    users = [server.add_user(f"member{i}") for i in range(n + 1)]
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "DISCORD_TOKEN": server.token, "DISCORD_API_BASE": server.api_base,
            "DISCORD_GATEWAY_URL": server.gateway_url, "IMAGE_MODEL": model, "DATA_DIR": data,
            "BATCHING": "off", "MAX_QUEUE_SIZE": str(n + 10), "LOG_LEVEL": "WARNING",
            # Test-only hook of the renderer: makes the first job slow so the GPU is busy throughout.
            "PIXELFORGE_TEST_FAULTS": json.dumps({"keep the renderer busy": "slow:1.0"}),
        }
        proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await server.wait_ready(timeout=180)
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
            peak = rss_mib(proc.pid)[1]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
            await server.stop()
    return statistics.median(latencies), _percentile(latencies, 0.99), peak
