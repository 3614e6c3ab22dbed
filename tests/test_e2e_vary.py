"""Vary (Subtle) and Vary (Strong) end to end (`python -m bot`, the tiny model, the
Discord-compatible server): under a single image and under an upscale, not on a grid (V1…Vn keep
the /settings default there); each click is a variation of its own, at 0.35 or 0.75 whatever the
clicker's /settings, priced by what it renders, refused by the prompt filter like any job, and its
image carries the prompt as alt text."""
from __future__ import annotations

from bot.models import denoising_steps, work_units
from tests.e2e_helpers import custom_ids, default_price, job_id_of, job_rows, png_parameters, reply_text, wait_result


def _row(world, job_id: int) -> dict:
    return next(r for r in job_rows(world.data_dir) if r["id"] == job_id)


async def test_vary_subtle_and_strong_under_singles_and_upscales_are_priced_variations(world):
    server = world.server
    await world.start_bot()
    alice, bob = world.alice, world.bob
    await reply_text(server, await server.invoke_slash(bob, world.channel, "settings set", {"variation": "strong"}))

    grid = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                              {"prompt": "a harbour", "steps": 4, "count": 2}))
    assert not [c for c in custom_ids(grid) if c.startswith("img:vary:")]  # grids keep V1…Vn

    single = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                                {"prompt": "a windmill", "steps": 4, "seed": 3}))
    single_id = job_id_of(single)
    ids = custom_ids(single)
    assert [c for c in ids if c.startswith(("img:var", "img:vary"))] == [
        f"img:vary:v1:{single_id}:0:subtle", f"img:vary:v1:{single_id}:0:strong"]
    labels = [c["label"] for row in single.components for c in row["components"] if "vary" in c["custom_id"]]
    assert labels == ["Vary (Subtle)", "Vary (Strong)"]

    # bob's /settings say strong; Vary (Subtle) is subtle all the same. Then Strong: a second job.
    subtle = await wait_result(server, await server.click_button(bob, single.id, f"img:vary:v1:{single_id}:0:subtle"))
    strong = await wait_result(server, await server.click_button(bob, single.id, f"img:vary:v1:{single_id}:0:strong"))
    unit = work_units(64, 64, 25, 1)  # the tiny profile's default image costs 1.0
    for message, strength in ((subtle, 0.35), (strong, 0.75)):
        row = _row(world, job_id_of(message))
        assert (row["kind"], row["task"], row["user_id"], row["parent_job_id"], row["parent_image_index"]) == (
            "variation", "img2img", bob.id, single_id, 0)
        assert row["strength"] == strength and row["init_image"].startswith(f"images/{single_id}/")
        assert row["cost"] == default_price(work_units(64, 64, denoising_steps(4, strength), 1), unit)
        assert row["charged"] == row["cost"] > 0
        assert f"strength {strength:g}" in message.content and "(variation)" in message.content
        assert f"Denoising strength: {strength:g}" in png_parameters(message.attachments[0])
        assert message.attachments[0].description == "AI-generated image: a windmill"
        assert f"img:vary:v1:{job_id_of(message)}:0:subtle" in custom_ids(message)  # a single again

    upscaled = await wait_result(server, await server.click_button(alice, single.id, f"img:up:v1:{single_id}:0"))
    up_id = job_id_of(upscaled)
    assert [c for c in custom_ids(upscaled) if "vary" in c] == [f"img:vary:v1:{up_id}:0:subtle",
                                                                 f"img:vary:v1:{up_id}:0:strong"]
    varied = await wait_result(server, await server.click_button(alice, upscaled.id,
                                                                 f"img:vary:v1:{up_id}:0:strong"))
    row = _row(world, job_id_of(varied))
    assert (row["parent_job_id"], row["strength"], row["width"]) == (up_id, 0.75, 128)

    # The one submit path: once moderators block "windmill", Vary is refused by the prompt filter,
    # ephemerally, with nothing queued or charged.
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod safety block",
                                                       {"term": "windmill"}))
    before = job_rows(world.data_dir)
    refused = await server.click_button(bob, single.id, f"img:vary:v1:{single_id}:0:strong")
    assert "🚫" in await reply_text(server, refused) and refused.ephemeral
    assert job_rows(world.data_dir) == before
