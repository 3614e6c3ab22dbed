"""The bot's event-loop lag monitor end to end (bot/looplag.py), through the test server.

A moderate burst of /imagine from several members (renderer and image checker busy) passes with no
stall warning; then a deliberate blocking call on the bot's loop (the test image checker hands one
to it) is caught while it lasts and logged with its stack; the shutdown line carries the figures.
The load's own p99/max are measured by `python -m tests.bench_loop`, not asserted here (2 CI cores).
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.e2e_helpers import wait_result

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"


async def test_a_burst_raises_no_stall_warning_and_a_deliberate_stall_is_logged_with_its_stack(world):
    server = world.server
    bot = await world.start_bot(
        SAFETY_IMAGE_CHECKER="pixelforge_test_checker:StallsTheLoop", PYTHONPATH=str(PLUGINS),
        PIXELFORGE_TEST_STALL_WORDS="stallword", PIXELFORGE_TEST_STALL_SECONDS="1.6",
        LOG_LEVEL="INFO", BATCHING="on", MAX_QUEUED_PER_USER="4")
    members = [world.alice, world.bob, world.mod]
    burst = await asyncio.gather(*(
        server.invoke_slash(member, world.channel, "imagine", {"prompt": f"a lighthouse {n}", "steps": 2})
        for n in range(3) for member in members))
    for interaction in burst:
        await wait_result(server, interaction, timeout=180)
    assert "event loop blocked" not in bot.log_path.read_text(errors="replace")

    stalled = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a stallword", "steps": 2})
    await wait_result(server, stalled, timeout=120)
    await server.wait_for(lambda s: "event loop stall ended" in bot.log_path.read_text(errors="replace"), 30)
    await bot.stop()

    log = bot.log_path.read_text(errors="replace")
    warnings = log.split("event loop blocked for")[1:]
    assert len(warnings) == 1, log[-4000:]
    stack = warnings[0].split("\n20", 1)[0]
    assert "_deliberate_stall" in stack and "time.sleep(seconds)" in stack
    summary = re.search(r"event loop lag since start: p50 [\d.]+ ms, p99 [\d.]+ ms, max (\d+) ms over \d+ samples; "
                        r"(\d+) stall", log)
    assert summary, log[-3000:]
    assert int(summary.group(1)) >= 1500 and int(summary.group(2)) == 1
