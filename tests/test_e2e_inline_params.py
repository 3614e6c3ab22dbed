"""Prompt parameters end to end (`python -m bot`, the tiny model, the Discord-compatible server):
an /imagine whose prompt carries every parameter renders with them, stores them, shows them in its
message and Info, writes them into the PNG; bad, conflicting and unsafe ones are refused
ephemerally with nothing queued or charged; the prompt filter reads the prompt without them and
`--no` through the negative check; /help lists them."""
from __future__ import annotations

from bot.models import work_units
from tests.e2e_helpers import default_price, job_id_of, job_rows, png_parameters, reply_text, wait_result


async def _refused(world, prompt: str, **options) -> str:
    i = await world.server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": prompt, **options})
    text = await reply_text(world.server, i)
    assert i.ephemeral, text
    return text


async def test_imagine_with_inline_parameters_renders_stores_and_shows_them(world):
    server = world.server
    await world.start_bot()
    prompt = ("a lighthouse at dusk --ar 16:9 --no boats, fog --seed 5 --steps 4 --cfg 6 --chaos 30 --tile "
              "--model tiny-sd")
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": prompt, "count": 2})
    message = await wait_result(server, i)
    job_id = job_id_of(message)
    (row,) = job_rows(world.data_dir)
    assert (row["prompt"], row["negative_prompt"], row["seed"], row["steps"], row["guidance"]) == (
        "a lighthouse at dusk", "boats, fog", 5, 4, 6.0)
    assert (row["chaos"], row["tile"], row["aspect"], row["model"]) == (30, 1, "16:9", "tiny-sd")
    assert row["width"] > row["height"] and abs(row["width"] / row["height"] - 16 / 9) < 0.25
    assert row["inline_params"] == "--ar 16:9 --no boats, fog --seed 5 --steps 4 --cfg 6 --chaos 30 --tile " \
                                   "--model tiny-sd"
    unit = work_units(64, 64, 25, 1)  # priced like the same options: the tiny profile's image costs 1.0
    assert row["cost"] == default_price(work_units(row["width"], row["height"], 4, 2), unit) == row["charged"]
    assert "chaos 30 · tiled" in message.content and "seed 5" in message.content
    assert "--ar" not in message.content.split("\n")[0]  # the headline shows what is drawn
    for n, attachment in enumerate(message.attachments):
        text = png_parameters(attachment)
        assert text.startswith("a lighthouse at dusk\nNegative prompt: boats, fog\n")
        assert f"Seed: {5 + n}," in text and "CFG scale: 6.0," in text and "Tiling: True" in text
        assert "Chaos: 30, Chaos seed: 5" in text
        assert attachment.description == "AI-generated image: a lighthouse at dusk"

    info = await server.click_button(world.bob, message.id, f"img:info:v1:{job_id}")
    shown = await reply_text(server, info)
    assert "**Prompt parameters:** \\--ar 16:9 --no boats, fog --seed 5" in shown, shown
    # A re-roll keeps them (a new seed, the same chaos and tiling).
    rerolled = await wait_result(server, await server.click_button(world.bob, message.id, f"img:reroll:v1:{job_id}"))
    again = next(r for r in job_rows(world.data_dir) if r["id"] == job_id_of(rerolled))
    assert (again["chaos"], again["tile"], again["width"]) == (30, 1, row["width"])

    # Refusals: ephemeral, naming the parameter and its limit, nothing queued or charged.
    before = [(r["id"], r["charged"]) for r in job_rows(world.data_dir)]
    assert "--chaos takes a whole number from 0 to 100" in await _refused(world, "a fox --chaos 150")
    assert "Unknown parameter `--stylize`" in await _refused(world, "a fox --stylize 100")
    assert "The `steps` option says 4 but the prompt says --steps 5" in await _refused(world, "a fox --steps 5",
                                                                                       steps=4)
    assert "There is no model named `sdxl`. Available: `tiny-sd`." in await _refused(world, "a fox --model sdxl")
    assert "`--ar 5:1` is not valid" in await _refused(world, "a fox --ar 5:1")
    # Content safety: --no goes through the negative check (asking away from clothes, in a SFW channel)…
    assert "🚫" in await _refused(world, "a portrait of a woman --no clothes, shirt")
    assert [(r["id"], r["charged"]) for r in job_rows(world.data_dir)] == before
    # …and the prompt filter reads the prompt without the parameters: "--no nude" keeps nudity out.
    await wait_result(server, await server.invoke_slash(world.alice, world.channel, "imagine",
                                                        {"prompt": "a beach at noon --no nude --steps 4"}))

    help_text = await reply_text(server, await server.invoke_slash(world.alice, world.channel, "help",
                                                                   {"topic": "parameters"}))
    for name in ("--ar", "--no", "--seed", "--steps", "--cfg", "--chaos", "--tile", "--model"):
        assert f"`{name}" in help_text
    assert "`tiny-sd`" in help_text
    overview = await reply_text(server, await server.invoke_slash(world.alice, world.channel, "help"))
    assert "Vary (Subtle)" in overview and "alt text" in overview
