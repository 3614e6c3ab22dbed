"""Alt text end to end (`python -m bot`, the tiny model, the Discord-compatible server): every
attachment the bot posts carries a description, "AI-generated image: <prompt>" within Discord's
1024 characters (the test server refuses longer ones, as Discord does) — on a grid, a single image,
an upscale, a variation, a /show repost, a /history menu repost, a flagged image in an
age-restricted safety log channel, and the /mod stats chart."""
from __future__ import annotations

from pathlib import Path

from tests.e2e_helpers import custom_ids, job_id_of, reply_text, wait_failure, wait_public_result, wait_result

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"


def _descriptions(message) -> list[str | None]:
    return [a.description for a in message.attachments]


async def test_every_posted_attachment_has_alt_text_with_the_prompt(world):
    server = world.server
    mod_log = server.add_channel(world.guild.id, name="mod-log", nsfw=True)
    await world.start_bot(SAFETY_IMAGE_CHECKER="pixelforge_test_checker:Scripted", PYTHONPATH=str(PLUGINS),
                          PIXELFORGE_TEST_FLAG_WORDS="zebra", MAX_PROMPT_LENGTH="3000")
    alice = world.alice

    grid = await wait_result(server, await server.invoke_slash(
        alice, world.channel, "imagine", {"prompt": "a **bold** fox\nin `snow`", "steps": 4, "count": 2}))
    assert _descriptions(grid) == ["AI-generated image: a **bold** fox in `snow`"] * 2
    grid_id = job_id_of(grid)

    long_prompt = "a lighthouse " + " ".join(f"detail{i}" for i in range(250))  # ~2000 characters
    single = await wait_result(server, await server.invoke_slash(
        alice, world.channel, "imagine", {"prompt": long_prompt, "steps": 4}))
    (alt,) = _descriptions(single)
    assert len(alt) <= 1024 and alt.startswith("AI-generated image: a lighthouse detail0 ") and alt.endswith("…")

    upscaled = await wait_result(server, await server.click_button(world.bob, grid.id, f"img:up:v1:{grid_id}:1"))
    assert _descriptions(upscaled) == ["AI-generated image: a **bold** fox in `snow`"]
    varied = await wait_result(server, await server.click_button(world.bob, grid.id, f"img:var:v1:{grid_id}:0"))
    assert _descriptions(varied) == ["AI-generated image: a **bold** fox in `snow`"] * 2

    shown = await wait_public_result(server, await server.invoke_slash(alice, world.channel, "show",
                                                                      {"job": grid_id}))
    assert _descriptions(shown) == ["AI-generated image: a **bold** fox in `snow`"] * 2

    history = await server.invoke_slash(alice, world.channel, "history")
    await reply_text(server, history)
    menu = next(c for c in custom_ids(server.get_message(history.original_message_id)) if c.startswith("hist:open:"))
    opened = await wait_public_result(server, await server.select(alice, history.original_message_id, menu,
                                                                  [str(grid_id)]))
    assert _descriptions(opened) == ["AI-generated image: a **bold** fox in `snow`"] * 2

    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod safety logchannel",
                                                       {"channel": mod_log}))
    await wait_failure(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                         {"prompt": "a zebra", "steps": 4}))
    announced = await server.wait_for(
        lambda s: [m for m in s.messages(mod_log.id) if "Blocked" in m.content and m.attachments], 20)
    assert _descriptions(announced[0]) == ["AI-generated image: a zebra"]

    stats = await server.invoke_slash(world.mod, world.channel, "mod stats", {"days": 2})
    await stats.wait_ack(5)
    chart = await server.wait_for(lambda s: (m := s.get_message(stats.original_message_id)) and m.attachments and m,
                                  60)
    (alt,) = _descriptions(chart)
    assert alt.startswith("Chart of the image bot's use over the last 2 UTC day(s)") and " jobs" in alt
    assert world.server.violations == []
