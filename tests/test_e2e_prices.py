"""Prices end to end (`python -m bot`, the tiny model, the Discord-compatible server): the bot measures
what each task costs on this machine while idle, after serving the first member; an upscale is then
charged what the measured table says, /quota and Info show the prices, and a restart prices from the
stored table at once."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from bot.prices import TASKS, PriceBook, PriceContext, Shape, TaskCost
from bot.renderer.profiles import profile_for
from bot.services.costs import table_from_json, table_to_json
from tests.e2e_helpers import imagine, job_id_of, job_rows, reply_text, wait_result

MEASURED = "renders -> prices"  # "cost measurement: 15 renders -> prices txt2img 1.0, ..."
UPSCALE = next(task for task in TASKS if task.name == "upscale")
CTX = PriceContext(profile_for("StableDiffusionPipeline", 64), 0.3)  # the tiny model's 64 px, 25 steps


async def _log_line(world, text: str, timeout: float) -> list[str]:
    log = world.tmp_path / "bot.log"
    for _ in range(int(timeout * 10)):
        lines = log.read_text(errors="replace").splitlines()
        if any(text in line for line in lines):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never logged:\n{log.read_text(errors='replace')[-4000:]}")


async def _quota(world, user) -> str:
    return await reply_text(world.server, await world.server.invoke_slash(user, world.channel, "quota", {}))


async def _upscale(world, user, prompt: str) -> dict:
    """An image at 4 steps, then U1 on it: the upscale's job row."""
    original = await wait_result(world.server, await imagine(world, user, prompt), timeout=120)
    click = await world.server.click_button(user, original.id, f"img:up:v1:{job_id_of(original)}:0")
    upscaled = await wait_result(world.server, click, timeout=120)
    info = await world.server.click_button(user, upscaled.id, f"img:info:v1:{job_id_of(upscaled)}")
    row = {r["id"]: r for r in job_rows(world.data_dir)}[job_id_of(upscaled)]
    row["info"] = await reply_text(world.server, info)
    return row


def _stored(world) -> tuple[str, dict]:
    ((key, raw),) = json.loads((world.data_dir / "costs.json").read_text()).items()
    return key, raw


async def test_an_upscale_costs_what_this_device_measured_and_quota_shows_the_prices(world):
    server = world.server
    await world.start_bot(PRICE_MEASURE="true", QUOTA_CREDITS="50")
    first = await imagine(world, world.alice, "a lighthouse at dusk")  # as soon as the bot is up
    delivered = job_id_of(await wait_result(server, first, timeout=120))
    lines = await _log_line(world, MEASURED, timeout=900)
    assert any("prices: documented defaults until measured" in line for line in lines)
    served = next(n for n, line in enumerate(lines) if f"job {delivered}: 1 image(s) delivered" in line)
    cost_renders = [n for n, line in enumerate(lines) if "cost measurement: render " in line]
    stepped_aside = any("cost measurement: stepped aside" in line for line in lines[:served])
    assert served < cost_renders[0] or stepped_aside, "the first member waited for the cost measurement"

    # The table it kept prices the upscale, through the one formula.
    _, raw = _stored(world)
    book = PriceBook(CTX, table=table_from_json(raw))
    assert book.measured and set(raw["costs"]) == {"txt2img", "img2img", "upscale"}
    row = await _upscale(world, world.bob, "a harbour at dawn")
    assert row["cost"] == row["charged"] == book.price_of(UPSCALE, Shape(128, 128, 4, 0.3))
    assert f"**Price:** {row['charged'] // 10}.{row['charged'] % 10} credits charged" in row["info"]
    text = await _quota(world, world.bob)
    menu = {line.task.label: line.tenths for line in book.menu()}
    assert "**Prices** (measured on this device <t:" in text
    assert f"upscale **{menu['upscale'] // 10}.{menu['upscale'] % 10}**" in text
    assert "text to image **1.0**" in text

    # Restarted with an upscale that costs 5x a text-to-image pixel-step in the file: priced by it at
    # once, nothing measured again (the table is fresh).
    await world.bots[-1].stop()
    key, raw = _stored(world)
    table = table_from_json(raw)
    txt = table.costs["txt2img"]
    doctored = replace(table, costs={**table.costs, "upscale": TaskCost(5 * txt.step, 0.0)})
    (world.data_dir / "costs.json").write_text(json.dumps({key: table_to_json(doctored)}))
    start = len((world.tmp_path / "bot.log").read_text(errors="replace").splitlines())
    await world.start_bot(PRICE_MEASURE="true", QUOTA_CREDITS="50")
    await _log_line(world, "prices measured on this device", timeout=120)
    book = PriceBook(CTX, table=doctored)
    # 4x the pixels at 5x the cost per pixel-step, 1 step, over the default image's 25 (+ its per-image part)
    assert book.ratio(UPSCALE, Shape(128, 128, 4, 0.3)) == pytest.approx(20 / (25 + txt.fixed / txt.step))
    row = await _upscale(world, world.alice, "a fox in the snow")
    assert row["cost"] == row["charged"] == book.price_of(UPSCALE, Shape(128, 128, 4, 0.3))
    text = await _quota(world, world.alice)
    reference = book.price_of(UPSCALE, UPSCALE.reference(CTX))  # int(25 x 0.3) = 7 steps
    assert f"upscale **{reference // 10}.{reference % 10}**" in text
    after = (world.tmp_path / "bot.log").read_text(errors="replace").splitlines()[start:]
    assert not any("cost measurement: render " in line for line in after)
