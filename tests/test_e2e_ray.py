"""/imagine end to end with RENDERER=ray: the bot (`python -m bot`) starts a local Ray of its own,
renders on a CPU actor and delivers through the Discord-compatible server. Every connection stays
on 127.0.0.1 (bot/renderer/ray_worker.py sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before Ray starts)."""
from __future__ import annotations

import importlib.util
import re
import secrets

import pytest

from tests.e2e_helpers import png_parameters, wait_result, wait_statuses

# find_spec, not importorskip: importing Ray in the test process would fix its network binding early.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")


async def test_imagine_renders_on_a_ray_actor_and_is_delivered(world):
    bot = await world.start_bot(RENDERER="ray", DEVICES="cpu", RAY_ADDRESS="",
                                # a token in the environment: Ray does not write one into ~/.ray
                                RAY_AUTH_TOKEN=secrets.token_hex(32))
    i = await world.server.invoke_slash(world.alice, world.channel, "imagine",
                                        {"prompt": "a lighthouse on ray", "seed": 11, "steps": 4})
    await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0
    message = await wait_result(world.server, i, timeout=180)
    params = png_parameters(message.attachments[0])
    assert params.startswith("a lighthouse on ray\n") and "Seed: 11" in params
    assert await wait_statuses(world.data_dir, ["delivered"]) == ["delivered"]
    log = bot.log()
    assert "started a local Ray" in log and "renderer ray#0 ready" in log, "the render should go through Ray"
    addresses = set(re.findall(r"\b(\d{1,3}(?:\.\d{1,3}){3}):\d+", log))
    assert addresses <= {"127.0.0.1"}, f"Ray reached beyond loopback: {addresses}"
    assert await bot.stop() == 0
