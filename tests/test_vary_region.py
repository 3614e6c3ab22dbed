"""Vary (Region): the grid and shapes of the picker, the region's feathered mask, a render with the tiny
model that keeps everything outside the region exactly, and the admission side (kind, mask, prompt)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bot.errors import ValidationError
from bot.frontend.region_views import chosen_cells, region_options
from bot.models import ImageSpec, JobKind, JobTask, OutpaintRequest, RegionRequest, RenderBatch
from bot.renderer import outpaint, render
from bot.renderer import outpaint_geometry as geo
from tests.test_outpaint import ALICE, _finished, admission  # noqa: F401 (fixtures)


def test_the_picker_offers_nine_cells_and_shapes_and_their_union_is_one_canonical_mask():
    values = [o.value for o in region_options()]
    assert values[:9] == [f"c{n}" for n in range(1, 10)] and len(values) <= 25  # Discord's limit
    assert chosen_cells(["c5", "s:top half"]) == {1, 2, 3, 5}
    assert geo.region_edit({5, 1, 3, 2}) == "region:c1,c2,c3,c5"
    assert geo.describe("region:c1,c2,c3") == "region varied (top half)"
    assert geo.describe("region:c1,c5") == "region varied (top left, centre)"
    with pytest.raises(ValidationError):
        chosen_cells(["c10"])
    with pytest.raises(geo.OutpaintRefused, match="whole image"):
        geo.region_edit(range(1, 10))
    for bad in ("region:", "region:c5,c1", "region:c1,c1", "region:x1"):
        with pytest.raises(geo.OutpaintRefused):
            geo.parse(bad)


def test_the_region_mask_covers_the_cells_then_ramps_to_zero_within_the_feather():
    mask = outpaint.region_mask(90, 60, (5,), 4)  # the centre cell: x 30..59, y 20..39
    assert (mask[20:40, 30:60] == 1).all()
    assert 0 < mask[30, 27] < 1 and 0 < mask[17, 45] < 1  # the band outside the cell
    assert mask[30, 25] == 0 and (mask[:15] == 0).all() and (mask[:, :25] == 0).all()


def test_a_region_render_keeps_everything_outside_the_region_and_its_band_exactly(loaded, tmp_path):  # noqa: F811
    batch = RenderBatch(1, 64, 64, 4, 7.0, (ImageSpec(1, 0, "a red fox", "", 42, ""),), model_label="tiny")
    source = tmp_path / "source.png"
    render.render_batch(loaded, batch)[0].save(source)
    edit = geo.region_edit(geo.REGION_SHAPES["top half"])
    spec = ImageSpec(2, 0, "a blue sky", "", 9, "", init_image=str(source), lineage="job 1 image 1")
    region = RenderBatch(2, 64, 64, 4, 7.0, (spec,), strength=1.0, model_label="tiny", task=JobTask.INPAINT,
                         edit=edit)
    (image,) = render.render_batch(loaded, region)
    out, original = np.asarray(image), np.asarray(Image.open(source).convert("RGB"))
    feather = geo.region_feather(64, 64)
    top = 64 // 3  # the top third ends at row 21
    assert np.array_equal(out[top + feather + 1:], original[top + feather + 1:])
    assert not np.array_equal(out[:top], original[:top])  # redrawn


async def test_vary_region_is_a_job_of_its_own_with_its_mask_and_new_prompt(admission, tmp_path):  # noqa: F811
    parent = await _finished(admission, tmp_path)
    plan = await admission.plan(ALICE, RegionRequest(parent.id, 0, "region:c5", "a golden bell"))
    p = plan.params
    assert (plan.kind, p.task, p.edit, p.prompt, p.width, p.height, p.strength) == (
        JobKind.REGION, JobTask.INPAINT, "region:c5", "a golden bell", 64, 64, 1.0)
    assert plan.cost == admission.price(p)
    job = await admission.admit(ALICE, plan)
    stored = await admission.store.get(job.id)
    assert (stored.kind, stored.params.edit, stored.params.prompt) == (JobKind.REGION, "region:c5", "a golden bell")
    same = await admission.plan(ALICE, RegionRequest(parent.id, 0, "region:c1", None))
    assert same.params.prompt == "a fox"  # no new prompt: the image's
    with pytest.raises(ValidationError):
        await admission.plan(ALICE, RegionRequest(parent.id, 0, "zoom:2"))
    with pytest.raises(ValidationError):
        await admission.plan(ALICE, OutpaintRequest(parent.id, 0, "region:c5"))
    with pytest.raises(ValidationError, match="characters"):
        await admission.plan(ALICE, RegionRequest(parent.id, 0, "region:c5", "x" * 5000))


def test_info_and_the_result_name_the_edit_and_its_source():
    from dataclasses import replace

    from bot.frontend import historytexts, texts
    from bot.services.history import JobDetails
    from tests.factories import make_job

    parent = make_job(job_id=12)
    region = replace(make_job(job_id=13, task=JobTask.INPAINT, edit="region:c1,c2,c3", strength=1.0,
                              init_image="images/12/0.png"),
                     kind=JobKind.REGION, parent_job_id=12, parent_image_index=0)
    text = historytexts.info(JobDetails(region, 1.0, None, [parent]))
    assert "**Task:** vary region (inpainting the region) · **Strength:** 1 · **Region:** region varied " \
           "(top half)" in text
    assert "#13 region varied (top half) from job #12 image 1 ← #12 imagine" in text
    zoom = replace(region, kind=JobKind.OUTPAINT, params=replace(region.params, edit="zoom:1.5"))
    assert "**Outpaint:** zoomed out 1.5×" in historytexts.info(JobDetails(zoom, 1.0, None, [parent]))
    assert "(outpaint)" in texts.result(zoom) and "zoomed out 1.5× from job #12" in texts.result(zoom)
