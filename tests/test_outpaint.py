"""Outpainting (Zoom Out, Pan, Make Square): the pure geometry, the feathered mask and the paste-back,
the inpainting pipeline built from the loaded one (same weights), renders with the tiny model (a
4-channel UNet: masked image-to-image), the admission side (sizes, limits, price, lineage) and
migration 0010 on a database that already holds jobs."""
from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.config import load_settings
from bot.database import Database
from bot.errors import ValidationError
from bot.models import (
    GenerationRequest,
    ImageSpec,
    JobKind,
    JobTask,
    OutpaintRequest,
    RenderBatch,
    RenderedImage,
    Requester,
    RerollRequest,
    UpscaleRequest,
    VariationRequest,
)
from bot.renderer import outpaint, pngmeta, render
from bot.renderer import outpaint_geometry as geo
from bot.renderer.profiles import profile_for
from bot.services.admission import Admission
from bot.services.jobs import JobStore

STEPS = 4
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


# ---- geometry (pure) ----

def test_zoom_out_keeps_the_size_and_shrinks_the_original_into_the_centre():
    assert geo.output_size("zoom:2", 1024, 1024, 4 * 1024**2) == (1024, 1024)
    assert geo.placement("zoom:2", 1024, 1024, 1024, 1024) == geo.Box(256, 256, 512, 512,
                                                                      ("left", "right", "top", "bottom"))
    box = geo.placement("zoom:1.5", 1216, 832, 1216, 832)
    assert (box.width, box.height) == (811, 555) and (box.x, box.y) == (202, 138)


def test_pan_grows_the_canvas_by_half_towards_its_direction_and_keeps_the_original_at_full_size():
    assert geo.output_size("pan:left", 64, 64, 128 * 128) == (96, 64)
    assert geo.output_size("pan:down", 1216, 832, 4 * 1024**2) == (1216, 1248)
    assert geo.placement("pan:left", 64, 64, 96, 64) == geo.Box(32, 0, 64, 64, ("left",))
    assert geo.placement("pan:right", 64, 64, 96, 64) == geo.Box(0, 0, 64, 64, ("right",))
    assert geo.placement("pan:up", 64, 64, 64, 96) == geo.Box(0, 32, 64, 64, ("top",))
    assert geo.placement("pan:down", 64, 64, 64, 96) == geo.Box(0, 0, 64, 64, ("bottom",))


def test_a_pan_past_the_pixel_limit_is_scaled_down_and_one_thinner_than_4_to_1_is_refused():
    # 128x128 -> 192x128 is over the tiny model's 128x128 cap: scaled to fit, sides multiples of 8.
    w, h = geo.output_size("pan:left", 128, 128, 128 * 128)
    assert (w, h) == (152, 104) and w * h <= 128 * 128
    box = geo.placement("pan:left", 128, 128, w, h)
    assert (box.width, box.height, box.x) == (104, 104, 48)  # the original shrinks with the canvas
    with pytest.raises(geo.OutpaintRefused, match="thinner than 4:1"):
        geo.output_size("pan:right", 216, 64, 128 * 128)
    assert geo.output_size("pan:up", 216, 64, 128 * 128) == (192, 80)  # the other way: capped, scaled


def test_make_square_extends_the_short_sides_and_refuses_a_square():
    assert geo.output_size("square", 1344, 768, 4 * 1024**2) == (1344, 1344)
    assert geo.placement("square", 1344, 768, 1344, 1344) == geo.Box(0, 288, 1344, 768, ("top", "bottom"))
    assert geo.output_size("square", 72, 48, 128 * 128) == (72, 72)
    assert geo.placement("square", 48, 72, 72, 72) == geo.Box(12, 0, 48, 72, ("left", "right"))
    with pytest.raises(geo.OutpaintRefused, match="already square"):
        geo.output_size("square", 64, 64, 128 * 128)
    for bad in ("zoom:3", "pan:diagonal", "square:2", "", "rotate"):
        with pytest.raises(geo.OutpaintRefused):
            geo.parse(bad)
    assert geo.describe("zoom:2") == "zoomed out 2×" and geo.describe("pan:left") == "panned ⬅ left"


def test_the_mask_is_new_area_plus_a_feathered_band_and_zero_on_the_rest_of_the_original():
    box = geo.Box(32, 0, 64, 64, ("left",))
    feather = geo.feather_width(box)
    mask = outpaint.feather_mask(96, 64, box, feather)
    assert feather == 4 and mask.shape == (64, 96)
    assert (mask[:, :32] == 1).all()  # the new area
    band = mask[:, 32:32 + feather]
    assert ((band > 0) & (band < 1)).all() and (np.diff(band, axis=1) < 0).all()  # ramps down, inward
    assert (mask[:, 32 + feather:] == 0).all()  # kept: the right side never had new area next to it


def test_paste_back_gives_the_original_exactly_outside_the_feather_band():
    rng = np.random.default_rng(0)
    original = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    box = geo.placement("pan:left", 64, 64, 96, 64)
    canvas, placed = outpaint.place(original, 96, 64, box)
    assert canvas.size == (96, 64) and np.array_equal(placed[:, 32:], np.asarray(original))  # not resized
    mask = outpaint.feather_mask(96, 64, box, geo.feather_width(box))
    painted = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), "RGB")
    out = np.asarray(outpaint.paste_back(painted, placed, mask))
    assert np.array_equal(out[:, 36:], np.asarray(original)[:, 4:])  # kept exactly
    assert np.array_equal(out[:, :32], np.asarray(painted)[:, :32])  # new area: the render's
    band = out[:, 32:36].astype(int)
    lo = np.minimum(np.asarray(painted)[:, 32:36], np.asarray(original)[:, :4]).astype(int)
    hi = np.maximum(np.asarray(painted)[:, 32:36], np.asarray(original)[:, :4]).astype(int)
    assert ((band >= lo) & (band <= hi)).all()  # the band mixes the two


# ---- the renderer, with the tiny model ----

def _source(tmp_path: Path, loaded, size=(64, 64)) -> Path:
    batch = RenderBatch(1, *size, STEPS, 7.0, (ImageSpec(1, 0, "a red fox", "", 42, ""),), model_label="tiny")
    path = tmp_path / "source.png"
    render.render_batch(loaded, batch)[0].save(path)
    return path


def _batch(source: Path, edit: str, width: int, height: int) -> RenderBatch:
    spec = ImageSpec(2, 0, "a red fox", "", 7, "", init_image=str(source), lineage="job 1 image 1")
    return RenderBatch(2, width, height, STEPS, 7.0, (spec,), strength=1.0, model_label="tiny",
                       task=JobTask.INPAINT, edit=edit)


def test_the_inpainting_pipeline_shares_every_component_of_the_loaded_one(loaded):
    pipe = outpaint.inpaint_pipeline(loaded)
    assert type(pipe).__name__ == "StableDiffusionInpaintPipeline"
    for name in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(pipe, name) is getattr(loaded.txt2img, name), name
    assert outpaint.inpaint_pipeline(loaded) is pipe  # built once
    # The tiny model, like every text-to-image checkpoint, has no inpainting UNet: masked img2img.
    assert outpaint.unet_in_channels(pipe) == 4


def test_zoom_out_2x_renders_the_same_size_with_the_shrunk_original_kept_in_the_centre(loaded, tmp_path):
    source = _source(tmp_path, loaded)
    batch = _batch(source, "zoom:2", 64, 64)
    (image,) = render.render_batch(loaded, batch)
    assert image.size == (64, 64)
    box = geo.placement("zoom:2", 64, 64, 64, 64)
    _, placed = outpaint.place(Image.open(source), 64, 64, box)
    f = geo.feather_width(box)
    core = (slice(box.y + f, box.y + box.height - f), slice(box.x + f, box.x + box.width - f))
    out = np.asarray(image)
    assert np.array_equal(out[core], placed[core])
    assert not np.array_equal(out[:box.y], placed[:box.y])  # the border was painted, not the edge fill

    (encoded,) = render.encode_batch(batch, [image], "EulerDiscreteScheduler", "tiny")
    text = Image.open(io.BytesIO(encoded.png)).info["parameters"]
    assert "Size: 64x64, Model: tiny, Denoising strength: 1.0, Outpaint: zoomed out 2×, " \
           "Outpaint source: job 1 image 1" in text
    assert pngmeta.parse_parameters(text)["seed"] == 7


def test_pan_left_renders_half_again_as_wide_with_the_original_pixels_on_the_right(loaded, tmp_path):
    source = _source(tmp_path, loaded)
    (image,) = render.render_batch(loaded, _batch(source, "pan:left", 96, 64))
    assert image.size == (96, 64)
    f = geo.feather_width(geo.placement("pan:left", 64, 64, 96, 64))
    assert np.array_equal(np.asarray(image)[:, 32 + f:], np.asarray(Image.open(source).convert("RGB"))[:, f:])


def test_make_square_of_a_wide_image_paints_above_and_below(loaded, tmp_path):
    source = _source(tmp_path, loaded, size=(72, 48))
    (image,) = render.render_batch(loaded, _batch(source, "square", 72, 72))
    assert image.size == (72, 72)
    f = geo.feather_width(geo.placement("square", 72, 48, 72, 72))
    kept = np.asarray(image)[12 + f:60 - f]
    assert np.array_equal(kept, np.asarray(Image.open(source).convert("RGB"))[f:48 - f])


# ---- admission ----

@pytest.fixture
async def admission(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path), "MAX_QUEUED_PER_USER": "20"})
    yield Admission(settings, profile_for("StableDiffusionPipeline", 64), JobStore(db, tmp_path), "tiny")
    await db.close()


ALICE = Requester(user_id=1, channel_id=10, guild_id=5)


async def _finished(admission, tmp_path, size=(64, 64), count=1):
    store = admission.store
    job = await admission.admit(ALICE, await admission.plan(ALICE, GenerationRequest(
        prompt="a fox", count=count, seed=100, steps=10)))
    await store.mark_running([job.id])
    images = []
    for index in range(count):
        path = tmp_path / "images" / str(job.id) / f"{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(path)
        images.append(RenderedImage(job.id, index, 100 + index, str(path), "x", *size))
    await store.store_results(images, [job.id], {job.id: 1.0})
    return job


async def test_an_outpaint_is_a_new_job_priced_like_img2img_of_its_output_size_with_its_lineage(admission, tmp_path):
    parent = await _finished(admission, tmp_path)
    plan = await admission.plan(ALICE, OutpaintRequest(parent.id, 0, "pan:left"))
    p = plan.params
    assert (plan.kind, p.task, p.edit, p.width, p.height, p.count, p.aspect) == (
        JobKind.OUTPAINT, JobTask.INPAINT, "pan:left", 96, 64, 1, "3:2")
    assert (p.strength, p.steps, p.prompt, p.init_image) == (1.0, 10, "a fox", f"images/{parent.id}/0.png")
    assert (plan.parent_job_id, plan.image_index) == (parent.id, 0)
    # Priced as an image-to-image job of its output size at strength 1.0 (bot/prices.py, "outpaint").
    as_img2img = dataclasses.replace(p, task=JobTask.IMG2IMG, edit=None, init_image="inputs/source.png")
    assert plan.cost == admission.price(p) == admission.price(as_img2img)
    job = await admission.admit(ALICE, plan)
    stored = await admission.store.get(job.id)
    assert (stored.kind, stored.params.edit, stored.parent_job_id) == (JobKind.OUTPAINT, "pan:left", parent.id)
    zoom = await admission.plan(ALICE, OutpaintRequest(parent.id, 0, "zoom:2"))
    assert (zoom.params.width, zoom.params.height) == (64, 64)
    # Re-roll of an outpaint renders the same edit again; V and U of its result are ordinary jobs.
    again = await admission.plan(ALICE, RerollRequest(job.id))
    assert (again.params.edit, again.params.task) == ("pan:left", JobTask.INPAINT)
    await admission.store.mark_running([job.id])
    path = tmp_path / "images" / str(job.id) / "0.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (96, 64)).save(path)
    await admission.store.store_results([RenderedImage(job.id, 0, 5, str(path), "x", 96, 64)], [job.id], {job.id: 1})
    for request in (VariationRequest(job.id, 0), UpscaleRequest(job.id, 0)):
        follow = await admission.admit(ALICE, await admission.plan(ALICE, request))
        assert follow.params.edit is None and follow.params.task is not JobTask.INPAINT


async def test_outpaints_that_cannot_be_made_are_refused_saying_why(admission, tmp_path):
    square = await _finished(admission, tmp_path)
    with pytest.raises(ValidationError, match="already square"):
        await admission.plan(ALICE, OutpaintRequest(square.id, 0, "square"))
    with pytest.raises(ValidationError, match="Unknown outpaint"):
        await admission.plan(ALICE, OutpaintRequest(square.id, 0, "zoom:9"))
    thin = await _finished(admission, tmp_path, size=(216, 64))
    with pytest.raises(ValidationError, match="thinner than 4:1"):
        await admission.plan(ALICE, OutpaintRequest(thin.id, 0, "pan:left"))
    wide = await admission.plan(ALICE, OutpaintRequest(thin.id, 0, "square"))
    assert (wide.params.width, wide.params.height) == (128, 128)  # 216x216 capped at 4x the tiny area


# ---- migration 0010 ----

async def test_migration_0010_keeps_every_job_its_search_and_its_counters(tmp_path):
    v7 = tmp_path / "v7"
    v7.mkdir()
    for path in sorted(MIGRATIONS.glob("000*.sql")):
        shutil.copy(path, v7)
    db_path = tmp_path / "db.sqlite3"
    db = await Database(db_path, migrations_dir=v7).connect()
    insert = ("INSERT INTO jobs (id, kind, task, user_id, guild_id, channel_id, prompt, aspect, width, height, "
              "steps, guidance, count, seed, strength, init_image, model, priority, status, created_at, cost) "
              "VALUES (?, ?, ?, 1, 5, 10, ?, '1:1', 64, 64, 4, 7.0, 1, 1, ?, ?, 'tiny', 1, ?, 1.0, 10)")
    await db.execute(insert, (1, "imagine", "txt2img", "a lighthouse at dusk", None, None, "queued"))
    await db.execute(insert, (2, "upscale", "upscale", "a quiet harbour", 0.3, "images/1/0.png", "queued"))
    await db.execute(insert, (3, "variation", "img2img", "a quiet harbour", 0.6, "images/1/0.png", "delivered"))
    await db.execute("INSERT INTO images (job_id, idx, seed, path, sha256, width, height, created_at) "
                     "VALUES (1, 0, 1, 'images/1/0.png', 'abc', 64, 64, 1.0)")
    first_id = 1
    before = [dict(r) for r in await db.fetchall("SELECT * FROM jobs ORDER BY id")]
    await db.close()

    db = await Database(db_path).connect()
    try:
        assert await db.schema_version() >= 10  # later migrations (0011: loras) run too
        after = [dict(r) for r in await db.fetchall("SELECT * FROM jobs ORDER BY id")]
        assert [{k: r[k] for k in before[0]} for r in after] == before
        assert all(r["edit"] is None for r in after)
        assert [tuple(r) for r in await db.fetchall("SELECT job_id, idx, sha256 FROM images")] == [(1, 0, "abc")]
        hits = await db.fetchall("SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH 'lighthouse'")
        assert [r[0] for r in hits] == [first_id]
        assert (await db.fetchone("SELECT active FROM queue_size"))[0] == 2
        await db.execute("UPDATE jobs SET status = 'failed' WHERE id = ?", (first_id,))
        assert (await db.fetchone("SELECT active FROM queue_size"))[0] == 1  # the triggers are back
        await db.execute("UPDATE jobs SET prompt = 'a red barn' WHERE id = ?", (first_id,))
        assert [r[0] for r in await db.fetchall("SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH 'barn'")] == [first_id]
        assert (await db.fetchone("PRAGMA integrity_check"))[0] == "ok"
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        import sqlite3
        with pytest.raises(sqlite3.IntegrityError):  # an inpaint job must say what it does
            await db.execute("UPDATE jobs SET task = 'inpaint', init_image = 'x.png' WHERE id = ?", (first_id,))
    finally:
        await db.close()
