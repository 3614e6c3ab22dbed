"""A painted Vary Region mask from the web's brush: checked (size, something painted, not
everything), stored as one short edit like the Discord picker's cells, and read back exactly."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageDraw

from bot.errors import ValidationError
from bot.renderer import outpaint_geometry as geometry
from bot.renderer import painted_mask
from bot.services.region_masks import edit_for


def layer(width: int, height: int, box=None, fill_all=False, mode="RGBA") -> str:
    image = Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else 0)
    draw = ImageDraw.Draw(image)
    if fill_all:
        draw.rectangle((0, 0, width, height), fill=(255, 0, 0, 255))
    elif box:
        draw.rectangle(box, fill=(255, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_a_painted_stroke_becomes_an_edit_that_reads_back_to_the_same_cells():
    edit = edit_for(layer(64, 48, box=(0, 0, 31, 11)), set(), 64, 48)
    assert edit.startswith("region:paint:") and len(edit) < 200
    bits = painted_mask.decode(edit)
    painted = {n for n, bit in enumerate(bits) if bit}
    assert painted == {row * 32 + col for row in range(8) for col in range(16)}  # the top-left quarter band
    assert geometry.parse(edit) == ("region", edit.split(":", 1)[1])
    assert geometry.output_size(edit, 64, 48, 10_000) == (64, 48)  # a region keeps the size
    assert geometry.describe(edit) == "region varied (painted, 12% of the image)"
    assert geometry.record(edit).endswith(f"mask 32x32 {edit.split(':', 2)[2]}")


def test_an_empty_a_full_or_a_wrong_sized_layer_is_refused_with_the_members_wording():
    with pytest.raises(ValidationError, match="Nothing is painted: paint over the part of the image"):
        edit_for(layer(64, 64), set(), 64, 64)
    with pytest.raises(ValidationError, match="Nothing is painted"):
        edit_for("", set(), 64, 64)
    with pytest.raises(ValidationError, match="That is the whole image: use Vary or Re-roll"):
        edit_for(layer(64, 64, fill_all=True), set(), 64, 64)
    with pytest.raises(ValidationError, match="The painted region is 32×32; the image is 64×64"):
        edit_for(layer(32, 32, box=(0, 0, 5, 5)), set(), 64, 64)
    with pytest.raises(ValidationError, match="must be a PNG"):
        edit_for("data:image/jpeg;base64,AAAA", set(), 64, 64)
    with pytest.raises(ValidationError, match="not readable"):
        edit_for("data:image/png;base64,bm90IGEgcG5n", set(), 64, 64)


def test_without_paint_the_ticked_grid_cells_make_the_pickers_edit():
    assert edit_for("", {5, 1}, 64, 64) == "region:c1,c5"
    # Paint wins over ticked cells when both are given.
    assert edit_for(layer(64, 64, box=(0, 0, 10, 10)), {5}, 64, 64).startswith("region:paint:")


def test_a_tampered_painted_edit_is_refused_before_anything_is_queued():
    edit = painted_mask.encode([n < 40 for n in range(1024)])
    for bad in (edit + "A", edit[:-3], "region:paint:!!!!", painted_mask.PREFIX + "A" * 171):
        with pytest.raises(geometry.OutpaintRefused):
            geometry.parse(bad)


def test_the_renderers_mask_is_one_on_painted_cells_feathered_around_them_and_zero_beyond():
    from bot.renderer.outpaint import painted_region_mask

    edit = painted_mask.encode([n // 32 < 4 for n in range(1024)])  # the top 4 raster rows: 64 px of 512
    mask = painted_region_mask(512, 512, edit, feather=10)
    assert mask.shape == (512, 512)
    assert (mask[:64] == 1.0).all()  # painted: redrawn
    assert 0.0 < mask[66, 100] < 1.0 and mask[66, 100] > mask[72, 100]  # the feathered band fades out
    assert (mask[64 + 11:] == 0.0).all()  # beyond the band: kept exactly
