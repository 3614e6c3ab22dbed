"""Upscales end to end: U buttons, the PNG's own metadata and buttons, a restart, and Info's lineage."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.prices import DEFAULT_UPSCALE_RATIO, TASKS, PriceBook, PriceContext, Shape
from bot.renderer.profiles import profile_for
from tests.e2e_helpers import custom_ids, job_id_of, job_rows, png_parameters, reply_text, wait_result


async def test_upscale_doubles_keeps_the_seed_and_its_buttons_work_after_a_restart_with_lineage_in_info(world):
    server = world.server
    bot = await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a lighthouse at dusk", "seed": 7, "steps": 4, "count": 2})
    original = await wait_result(server, i)
    base_id = job_id_of(original)

    up = await server.click_button(world.bob, original.id, f"img:up:v1:{base_id}:1")  # U2: seed 7 + 1
    upscaled = await wait_result(server, up)
    up_id = job_id_of(upscaled)
    assert "(upscale)" in upscaled.content and f"<@{world.bob.id}>" in upscaled.content
    (png,) = upscaled.attachments
    assert Image.open(io.BytesIO(png.data)).size == (128, 128)  # the tiny model's 64x64, doubled
    params = png_parameters(png)
    assert params.startswith("a lighthouse at dusk\n")
    assert "Seed: 8," in params and "Size: 64x64," in params  # A1111: Size is the first pass
    assert "Hires upscale: 2, Denoising strength: 0.3, Hires upscaler: Lanczos" in params
    sd_parsers = pytest.importorskip("sd_parsers")
    read = sd_parsers.ParserManager().parse(Image.open(io.BytesIO(png.data)))
    assert read is not None and read.prompts[0].value == "a lighthouse at dusk"
    assert any(str(s.parameters.get("seed")) == "8" for s in read.samplers)
    # Its own buttons: Vary (Subtle) and (Strong), no re-roll; no U (128x128 is the tiny model's cap).
    # Then the outpaint buttons of a single image (bot/frontend/outpaint_buttons.py; square: no Make Square).
    assert custom_ids(upscaled) == [f"img:vary:v1:{up_id}:0:subtle", f"img:vary:v1:{up_id}:0:strong",
                                    f"img:info:v1:{up_id}", f"img:delete:v1:{up_id}", f"img:report:v1:{up_id}",
                                    f"img:out:v1:{up_id}:0:z2", f"img:out:v1:{up_id}:0:z15", f"img:region:v1:{up_id}:0",
                                    *(f"img:out:v1:{up_id}:0:{code}" for code in ("l", "r", "u", "d"))]

    jobs = {j["id"]: j for j in job_rows(world.data_dir)}
    row = jobs[up_id]
    assert (row["kind"], row["task"], row["parent_job_id"], row["parent_image_index"]) == ("upscale", "upscale",
                                                                                         base_id, 1)
    assert (row["width"], row["height"], row["seed"], row["strength"], row["upscale_factor"]) == (128, 128, 8, 0.3,
                                                                                                 2.0)
    # Charged by the one price formula, at the documented defaults here (PRICE_MEASURE=false): the
    # upscale of a default image costs 2.3 default images; this one re-details int(4 x 0.3) = 1 step
    # of that upscale's int(25 x 0.3) = 7.
    book = PriceBook(PriceContext(profile_for("StableDiffusionPipeline", 64), 0.3))
    (upscale,) = [task for task in TASKS if task.name == "upscale"]
    assert row["cost"] == book.price_of(upscale, Shape(128, 128, 4, 0.3)) == row["charged"]
    assert row["cost"] == round(DEFAULT_UPSCALE_RATIO * 10 / 7)  # 2.3 / 7 = 0.33, to the nearest tenth: 0.3

    await bot.stop()
    await world.start_bot()
    vary = await server.click_button(world.alice, upscaled.id, f"img:vary:v1:{up_id}:0:strong")
    varied = await wait_result(server, vary)
    var_id = job_id_of(varied)
    assert "(variation)" in varied.content
    assert Image.open(io.BytesIO(varied.attachments[0].data)).size == (128, 128)

    info = await server.click_button(world.alice, varied.id, f"img:info:v1:{var_id}")
    text = await reply_text(server, info)
    assert info.ephemeral
    assert (f"#{var_id} variation of image 1 of #{up_id} ← #{up_id} 2× upscale of image 2 of #{base_id} "
            f"← #{base_id} imagine") in text
    assert "rendered in" in text and "**Seed:**" in text and "**Model:** tiny-sd" in text
    assert "**Strength:** 0.75" in text
