"""Outpainting end to end (`python -m bot`, the tiny model, the Discord-compatible server): the buttons
under a single image, Zoom Out 2× of an upscale and of a count=1 image (same size, lineage in Info and
in the PNG), Pan ⬅ (1.5× as wide, until a pan past the limit is refused), Make Square (square; offered only under
a non-square image), Vary (Region), each a job of its own, charged by the one price function."""
from __future__ import annotations

import io

from PIL import Image

from bot.models import work_units
from tests.e2e_helpers import (
    custom_ids,
    default_price,
    job_id_of,
    job_rows,
    png_parameters,
    reply_text,
    wait_result,
    wait_statuses,
)


def _size(message) -> tuple[int, int]:
    (png,) = message.attachments
    return Image.open(io.BytesIO(png.data)).size


def _outpaint_ids(job_id: int, square: bool) -> list[str]:
    codes = ([] if square else ["sq"]) + ["l", "r", "u", "d"]
    return [f"img:out:v1:{job_id}:0:z2", f"img:out:v1:{job_id}:0:z15", f"img:region:v1:{job_id}:0",
            *(f"img:out:v1:{job_id}:0:{code}" for code in codes)]


async def test_zoom_out_pan_and_make_square_each_render_a_new_image_with_its_lineage(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a lighthouse at dusk", "seed": 7, "steps": 4})
    base = await wait_result(server, i)
    base_id = job_id_of(base)
    assert custom_ids(base)[-7:] == _outpaint_ids(base_id, square=True)  # no Make Square: it is square
    rows = [[c["label"] for c in row["components"]] for row in base.components]
    assert rows[-2:] == [["Zoom Out 2×", "Zoom Out 1.5×", "Vary (Region)"], ["⬅", "➡", "⬆", "⬇"]]

    zoom = await server.click_button(world.bob, base.id, f"img:out:v1:{base_id}:0:z2")
    zoomed = await wait_result(server, zoom)
    zoom_id = job_id_of(zoomed)
    assert _size(zoomed) == (64, 64) and "(outpaint)" in zoomed.content and f"<@{world.bob.id}>" in zoomed.content
    assert f"zoomed out 2× from job #{base_id}" in zoomed.content
    params = png_parameters(zoomed.attachments[0])
    assert params.startswith("a lighthouse at dusk\n") and "Size: 64x64," in params
    assert f"Outpaint: zoomed out 2×, Outpaint source: job {base_id} image 1" in params
    info = await server.click_button(world.alice, zoomed.id, f"img:info:v1:{zoom_id}")
    text = await reply_text(server, info)
    assert info.ephemeral
    assert f"#{zoom_id} zoomed out 2× from job #{base_id} image 1 ← #{base_id} imagine" in text
    assert "**Outpaint:** zoomed out 2×" in text

    pan = await server.click_button(world.alice, base.id, f"img:out:v1:{base_id}:0:l")
    panned = await wait_result(server, pan)
    assert _size(panned) == (96, 64)
    pan_id = job_id_of(panned)
    assert custom_ids(panned)[-8:] == _outpaint_ids(pan_id, square=False)  # 96x64 may be made square

    square = await server.click_button(world.alice, panned.id, f"img:out:v1:{pan_id}:0:sq")
    squared = await wait_result(server, square)
    assert _size(squared) == (96, 96)

    # Panning on: 144x64, 216x64; the next would pass the pixel limit and be thinner than 4:1: refused.
    message, message_id = panned, pan_id
    for width in (144, 216):
        again = await server.click_button(world.alice, message.id, f"img:out:v1:{message_id}:0:l")
        message = await wait_result(server, again)
        message_id = job_id_of(message)
        assert _size(message) == (width, 64)
    delivered = ["delivered"] * len(job_rows(world.data_dir))  # the last message shows before SQLite records it
    assert await wait_statuses(world.data_dir, delivered) == delivered
    before = job_rows(world.data_dir)
    refused = await server.click_button(world.alice, message.id, f"img:out:v1:{message_id}:0:l")
    text = await reply_text(server, refused)
    assert refused.ephemeral and "thinner than 4:1" in text
    # Nothing queued, nothing charged (the rows themselves may still change: the last result's
    # delivery is recorded after its message is posted).
    after = job_rows(world.data_dir)
    assert [(r["id"], r["charged"]) for r in after] == [(r["id"], r["charged"]) for r in before]

    # Vary (Region): a private picker, a modal with the prompt, then a job like any other.
    region = await server.click_button(world.alice, base.id, f"img:region:v1:{base_id}:0")
    await region.wait_ack(timeout=5)
    assert region.ephemeral and region.original_message_id
    pick = await server.select(world.alice, region.original_message_id, f"img:regionpick:v1:{base_id}:0",
                               ["c5", "s:top half"])
    await pick.wait_ack(timeout=5)
    assert pick.modal is not None
    submit = await server.submit_modal(world.alice, pick, {"img:region:prompt": "a golden bell"})
    redrawn = await wait_result(server, submit)
    assert _size(redrawn) == (64, 64) and "a golden bell" in redrawn.content
    params = png_parameters(redrawn.attachments[0])
    assert params.startswith("a golden bell\n")
    # (quoted, as A1111 quotes a value with commas)
    assert f'Outpaint: "region varied (top left, top, top right, centre)", Outpaint source: job {base_id} image 1' \
        in params
    region_id = job_id_of(redrawn)

    # Zoom Out 2× of an upscale: the upscale's size (the tiny model's cap, 128x128).
    up = await server.click_button(world.alice, base.id, f"img:up:v1:{base_id}:0")
    upscaled = await wait_result(server, up)
    up_id = job_id_of(upscaled)
    zoom_up = await server.click_button(world.alice, upscaled.id, f"img:out:v1:{up_id}:0:z2")
    assert _size(await wait_result(server, zoom_up)) == (128, 128)

    jobs = {j["id"]: j for j in job_rows(world.data_dir)}
    rows = [j for j in jobs.values() if j["kind"] == "outpaint"]
    assert [(j["edit"], j["width"], j["height"], j["parent_job_id"]) for j in rows] == [
        ("zoom:2", 64, 64, base_id), ("pan:left", 96, 64, base_id), ("square", 96, 96, pan_id),
        ("pan:left", 144, 64, pan_id), ("pan:left", 216, 64, pan_id + 2), ("zoom:2", 128, 128, up_id)]
    assert (jobs[region_id]["kind"], jobs[region_id]["edit"], jobs[region_id]["prompt"]) == (
        "region", "region:c1,c2,c3,c5", "a golden bell")
    rows.append(jobs[region_id])
    unit = work_units(64, 64, 25, 1)  # the tiny profile's default image costs 1.0
    for j in rows:
        assert j["task"] == "inpaint" and j["strength"] == 1.0
        assert j["cost"] == default_price(work_units(j["width"], j["height"], 4, 1), unit) == j["charged"]
