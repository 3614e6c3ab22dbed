"""Image prompt validation by content (bot/services/image_input.py), without Discord."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.database import Database
from bot.errors import ValidationError
from bot.renderer.profiles import profile_for
from bot.services import image_input
from bot.services.image_input import ImageInputs, decode
from tests.test_e2e_image_prompt import animated_webp, bad_files, decompression_bomb, encoded, noise

SDXL = profile_for("StableDiffusionXLPipeline", 1024)
TINY = profile_for("StableDiffusionPipeline", 64)


@pytest.mark.parametrize("filename,data,reason", bad_files(), ids=[f[0] for f in bad_files()])
def test_each_bad_file_is_refused_naming_its_problem(filename, data, reason):
    with pytest.raises(ValidationError, match=reason):
        decode(data, TINY)


def test_more_than_4096_on_a_side_or_16_megapixels_is_refused_before_decoding():
    wide = encoded(Image.new("L", (5000, 16)), "PNG")
    with pytest.raises(ValidationError, match="5000×16; the limit is 4096×4096 and 16 megapixels"):
        decode(wide, SDXL)
    square = encoded(Image.new("L", (4096, 4096)), "PNG")  # 16.8 MP: over 16 megapixels
    with pytest.raises(ValidationError, match="16 megapixels"):
        decode(square, SDXL)


def test_the_bomb_guard_is_pillows_own(monkeypatch):
    # Between MAX_IMAGE_PIXELS and twice that Pillow only warns: that warning refuses too.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ValidationError, match="decompression bomb"):
        decode(encoded(Image.new("L", (150, 100)), "PNG"), TINY)
    with pytest.raises(ValidationError, match="decompression bomb"):
        decode(decompression_bomb(), TINY)


def test_formats_are_read_from_the_content_and_fitted_to_the_profile_for_their_own_aspect():
    photo = noise((400, 300))  # 4:3
    for fmt in ("PNG", "JPEG", "WEBP"):
        out = decode(encoded(photo, fmt), SDXL)
        assert (out.source_format, out.source_width, out.source_height) == (image_input.FORMATS[fmt], 400, 300)
        assert (out.width, out.height) == (1152, 896)  # SDXL's 64-px grid nearest 4:3 at ~1 megapixel
        with Image.open(io.BytesIO(out.png)) as stored:
            assert stored.format == "PNG" and stored.size == (1152, 896) and stored.mode == "RGB"
    tiny = decode(encoded(photo, "PNG"), TINY)
    assert (tiny.width, tiny.height) == (72, 56)  # the 8-px grid's nearest to 4:3 at ~64x64


def test_first_frame_of_an_animation_exif_orientation_and_transparency_on_white():
    first = decode(animated_webp(), TINY)
    assert first.frames == 2 and "first of 2 frames" in first.source
    pixels = np.asarray(Image.open(io.BytesIO(first.png)), dtype=np.float32).mean(axis=(0, 1))
    assert pixels[0] > 180 and pixels[2] < 60  # red, not blue

    # A landscape JPEG whose EXIF says "rotate 90° clockwise": stored upright, as a portrait.
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = decode(encoded(noise((96, 64)), "JPEG", exif=exif), TINY)
    assert rotated.height > rotated.width

    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    white = decode(encoded(clear, "PNG"), TINY)
    assert np.asarray(Image.open(io.BytesIO(white.png))).min() == 255


async def test_store_writes_once_under_data_dir_and_records_the_source(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        inputs = ImageInputs(db, tmp_path, TINY)
        data = encoded(noise((90, 60)), "JPEG")
        first = await inputs.store(data, user_id=1)
        again = await inputs.store(data, user_id=2)
        assert first == again and first.path.startswith("inputs/") and first.aspect == "3:2"
        assert (tmp_path / first.path).is_file()
        assert len(list((tmp_path / "inputs").rglob("*.png"))) == 1
        assert await inputs.describe(first.path) == "JPEG 90×60"
        with pytest.raises(ValidationError):
            await inputs.store(b"GIF89a" + b"\0" * 100, user_id=1)
    finally:
        await db.close()


async def test_discard_removes_an_unused_upload_but_never_one_a_job_renders_from(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        inputs = ImageInputs(db, tmp_path, TINY, max_bytes=2**20)
        unused = await inputs.store(encoded(noise((64, 64)), "PNG"), user_id=1)
        used = await inputs.store(encoded(noise((90, 60)), "PNG"), user_id=1)
        await db.execute("INSERT INTO jobs (kind, task, user_id, channel_id, prompt, aspect, width, height, steps, "
                         "guidance, count, seed, model, priority, init_image, status, created_at) VALUES "
                         "('imagine', 'img2img', 1, 2, 'p', '3:2', 72, 48, 4, 7, 1, 1, 'm', 1, ?, 'queued', 0)",
                         (used.path,))
        assert await inputs.discard(unused.path) is True
        assert not (tmp_path / unused.path).exists() and await inputs.describe(unused.path) is None
        assert await inputs.discard(used.path) is False
        assert (tmp_path / used.path).is_file()
        assert inputs.pending().path == "" and await inputs.discard("") is False
        with pytest.raises(ValidationError, match="the limit is 1.0 MiB"):
            await inputs.store(b"\x89PNG" + bytes(2**20), user_id=1)
    finally:
        await db.close()
