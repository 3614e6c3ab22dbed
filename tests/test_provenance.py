"""Provenance marks: the invisible watermark (job id payload), the XMP source type, `python -m bot verify`.

Bit accuracies are printed (pytest -s) and asserted only as far as they were measured to hold; the
numbers are in the provenance notes of the README."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from bot.config import load_settings
from bot.errors import ConfigError
from bot.models import ImageSpec, RenderBatch
from bot.renderer import pngmeta, provenance, render
from bot.renderer.tiny import TINY_SIZE

pytest.importorskip("imwatermark")

ROOT = Path(__file__).resolve().parent.parent
PARAMS = pngmeta.format_parameters("a red fox, in snow", "blurry", 20, "EulerDiscreteScheduler", 7.0, 42, 512, 512,
                                   "sdxl-base")
JOB = 9_876_543_210  # more than 32 bits: the whole 8-byte field is used


def _photo() -> Image.Image:
    return Image.fromarray(data.astronaut())  # 512x512 RGB


def _jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)  # Pillow's defaults: 4:2:0 chroma subsampling
    return buf.getvalue()


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(_jpeg_bytes(image, quality)))


def _png(data_bytes: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data_bytes))
    image.load()
    return image


def test_payload_layout_is_magic_version_job_index_crc():
    data_bytes = provenance.payload(JOB, 3)
    assert len(data_bytes) == 16
    assert data_bytes[:5] == b"PXFG\x01"
    assert int.from_bytes(data_bytes[5:13], "big") == JOB and data_bytes[13] == 3
    reading = provenance.parse_payload(provenance.payload_bits(data_bytes))
    assert reading.found and (reading.job_id, reading.index, reading.bot_name) == (JOB, 3, "Pixelforge")
    assert reading.header_bits == 40


def test_one_flipped_bit_anywhere_is_not_read_as_a_job():
    bits = provenance.payload_bits(provenance.payload(JOB, 0))
    for position in (0, 39, 45, 100, 127):  # magic, version, job id, CRC
        damaged = list(bits)
        damaged[position] ^= 1
        assert not provenance.parse_payload(damaged).found


def test_embed_and_decode_round_trip_at_512():
    photo = _photo()
    started = time.perf_counter()
    marked = provenance.embed_watermark(photo, JOB, 2)
    seconds = time.perf_counter() - started
    reading = provenance.read_watermark(marked)
    assert reading.found and (reading.job_id, reading.index) == (JOB, 2)
    assert provenance.bit_accuracy(marked, JOB, 2) == 1.0
    difference = np.asarray(marked, float) - np.asarray(photo, float)
    psnr = 10 * np.log10(255 ** 2 / np.mean(difference ** 2))
    print(f"embed 512x512: {seconds * 1000:.0f} ms, PSNR {psnr:.1f} dB")
    assert psnr > 34  # invisible: measured 37.6 dB


def test_unmarked_photographs_read_as_no_watermark():
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        reading = provenance.read_watermark(Image.fromarray(getattr(data, name)()))
        assert not reading.found, name
        assert reading.header_bits < 36, name


def test_jpeg_quality_90_decodes_exactly():
    marked = provenance.embed_watermark(_photo(), JOB, 1)
    jpeg = _jpeg(marked, 90)
    accuracy = provenance.bit_accuracy(jpeg, JOB, 1)
    print(f"bit accuracy after JPEG q90: {accuracy:.3f}")
    assert accuracy == 1.0
    reading = provenance.read_watermark(jpeg)
    assert reading.found and reading.job_id == JOB


def test_half_size_reads_back_once_enlarged_though_not_as_it_is():
    marked = provenance.embed_watermark(_photo(), JOB, 0)
    half = marked.resize((256, 256), Image.Resampling.BICUBIC)
    as_is = provenance.bit_accuracy(half, JOB, 0)
    enlarged = provenance.bit_accuracy(half.resize((512, 512), Image.Resampling.BICUBIC), JOB, 0)
    print(f"bit accuracy after a 0.5x resize: {as_is:.3f} as it is, {enlarged:.3f} enlarged back 2x")
    assert enlarged == 1.0  # measured 1.000; as it is the block grid no longer lines up (~0.5, chance)
    reading = provenance.read_watermark(half)
    assert reading.found and reading.job_id == JOB


def test_images_under_the_minimum_keep_their_pixels_and_say_too_small():
    tiny = Image.fromarray(np.random.default_rng(0).integers(0, 256, (TINY_SIZE, TINY_SIZE, 3), dtype=np.uint8))
    assert provenance.embed_watermark(tiny, JOB) is tiny
    png = _png(provenance.marked_png(tiny, PARAMS, JOB))
    assert np.array_equal(np.asarray(png), np.asarray(tiny))
    reading = provenance.read_watermark(png)
    assert reading.too_small and not reading.found
    assert provenance.digital_source_type(provenance.read_xmp(png)) == provenance.TRAINED_ALGORITHMIC_MEDIA


def test_png_has_xmp_itxt_and_keeps_the_parameters_chunk():
    png_bytes = provenance.marked_png(_photo(), PARAMS, JOB)
    assert b"iTXtXML:com.adobe.xmp\x00\x00\x00" in png_bytes  # iTXt, uncompressed, no language
    png = _png(png_bytes)
    assert png.info["parameters"] == PARAMS
    assert provenance.digital_source_type(png.info["XML:com.adobe.xmp"]) == provenance.TRAINED_ALGORITHMIC_MEDIA
    # Readers we did not write: Pillow's XMP parser (with defusedxml) and sd-parsers.
    description = png.getxmp()["xmpmeta"]["RDF"]["Description"]
    assert description["DigitalSourceType"] == provenance.TRAINED_ALGORITHMIC_MEDIA
    assert description["CreatorTool"] == "Pixelforge"
    from sd_parsers import ParserManager

    prompt_info = ParserManager().parse(png)
    assert prompt_info is not None and prompt_info.full_prompt == "a red fox, in snow"


def test_watermark_off_writes_the_pixels_as_rendered_and_still_the_xmp():
    photo = _photo()
    png = _png(provenance.marked_png(photo, PARAMS, JOB, watermark=False))
    assert np.array_equal(np.asarray(png), np.asarray(photo))
    assert not provenance.read_watermark(png).found
    assert provenance.digital_source_type(provenance.read_xmp(png)) == provenance.TRAINED_ALGORITHMIC_MEDIA


@pytest.mark.parametrize("watermark", [True, False])
def test_the_renderers_encoder_marks_each_image_with_its_own_job_and_index(watermark):
    """render.encode_batch is what the worker process and the Ray actor run on every batch."""
    specs = (ImageSpec(41, 0, "a fox", "", 1, ""), ImageSpec(42, 3, "an owl", "", 2, ""))
    batch = RenderBatch(1, 512, 512, 20, 7.0, specs, model_label="sdxl", watermark=watermark)
    photos = [_photo(), Image.fromarray(data.coffee()).crop((0, 0, 512, 512))]
    encoded = render.encode_batch(batch, photos, "EulerDiscreteScheduler", "sdxl")
    readings = [provenance.read_watermark(_png(e.png)) for e in encoded]
    if watermark:
        assert [(r.found, r.job_id, r.index) for r in readings] == [(True, 41, 0), (True, 42, 3)]
    else:
        assert not any(r.found for r in readings)
    for e, spec in zip(encoded, specs, strict=True):
        png = _png(e.png)
        assert png.info["parameters"].startswith(spec.prompt + "\n")
        assert provenance.digital_source_type(provenance.read_xmp(png)) == provenance.TRAINED_ALGORITHMIC_MEDIA


def test_xmp_reader_takes_the_attribute_form_and_refuses_entities():
    attribute = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                 '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
                 f'Iptc4xmpExt:DigitalSourceType="{provenance.TRAINED_ALGORITHMIC_MEDIA}"/></rdf:RDF></x:xmpmeta>')
    assert provenance.digital_source_type(attribute) == provenance.TRAINED_ALGORITHMIC_MEDIA
    hostile = '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + attribute
    assert provenance.digital_source_type(hostile) is None
    assert provenance.digital_source_type("not xml <") is None


def test_watermark_setting_defaults_on_and_takes_off():
    assert load_settings({}, require_token=False).watermark is True
    assert load_settings({"WATERMARK": "off"}, require_token=False).watermark is False
    with pytest.raises(ConfigError, match="WATERMARK"):
        load_settings({"WATERMARK": "maybe"}, require_token=False)


def _verify(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "verify", *args, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_verify_prints_all_three_marks_and_exits_by_whether_marked(tmp_path):
    marked = tmp_path / "marked.png"
    marked.write_bytes(provenance.marked_png(_photo(), PARAMS, JOB, 1))
    out = _verify(marked)
    assert out.returncode == 0, out.stderr
    assert f"watermark: Pixelforge, job {JOB}, image 1 (checksum ok)" in out.stdout
    assert f"XMP DigitalSourceType: {provenance.TRAINED_ALGORITHMIC_MEDIA}" in out.stdout
    assert "  a red fox, in snow\n  Negative prompt: blurry\n" in out.stdout

    jpeg = tmp_path / "reencoded.jpg"  # metadata gone, the watermark alone still says it
    jpeg.write_bytes(_jpeg_bytes(_png(marked.read_bytes()), 90))
    result = json.loads(_verify(jpeg, "--json").stdout)
    assert result["watermark"]["job_id"] == JOB and result["digital_source_type"] is None and result["marked"]

    plain = tmp_path / "plain.png"
    _photo().save(plain)
    out = _verify(plain)
    assert out.returncode == 1 and "watermark: none found" in out.stdout and "no AI-generation mark" in out.stdout

    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    assert _verify(junk).returncode == 2
