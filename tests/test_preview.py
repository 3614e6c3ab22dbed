"""Live previews: the latent-to-RGB approximation, one grid per job, and the renderer process
sending one every N steps on the tiny model (never on the last step: the result follows)."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
import torch
from PIL import Image

from bot.models import ImageSpec, RenderBatch
from bot.renderer import preview
from bot.renderer.client import RendererClient
from bot.renderer.tiny import TINY_SIZE

amark = pytest.mark.asyncio(loop_scope="module")


def test_latent_rgb_has_image_shape_and_byte_range():
    latents = torch.randn(2, 4, 8, 12) * 10  # far outside the usual range: clamped, not wrapped
    rgb = preview.latents_to_rgb(latents, "sdxl")
    assert rgb.shape == (2, 8, 12, 3) and rgb.dtype == np.uint8
    assert int(rgb.min()) == 0 and int(rgb.max()) == 255


def test_a_known_latent_gives_its_colour():
    # SD 1.5: channel 3 at -1 alone is (0.2120, 0.2616, 0.7177) in [-1, 1]: a light blue.
    latents = torch.zeros(1, 4, 2, 2)
    latents[:, 3] = -1.0
    pixel = preview.latents_to_rgb(latents, "sd15")[0, 0, 0].tolist()
    assert pixel == [155, 161, 219]
    # SDXL's bias alone: zero latents are not mid-grey but slightly red.
    zero = preview.latents_to_rgb(torch.zeros(1, 4, 1, 1), "sdxl")[0, 0, 0].tolist()
    assert zero == [141, 125, 127]


def test_one_small_jpeg_grid_per_job_of_the_batch():
    sent = []
    maker = preview.Previewer("sd15", 2, lambda step, images: sent.append((step, images)), owners=[7, 7, 9])
    latents = torch.zeros(3, 4, 128, 64)
    for step in range(1, 7):
        maker.on_step(step, 6, latents)
    assert [step for step, _ in sent] == [2, 4]  # every 2nd step, not the last one
    images = sent[0][1]
    assert set(images) == {7, 9}
    with Image.open(io.BytesIO(images[7])) as grid, Image.open(io.BytesIO(images[9])) as single:
        assert grid.format == "JPEG" and grid.size == (256, 256)  # two 64x128 side by side
        assert single.size == (128, 256)


def test_latents_without_four_channels_get_no_preview():
    sent = []
    maker = preview.Previewer("sd15", 1, lambda step, images: sent.append(step))
    maker.on_step(1, 4, torch.zeros(1, 16, 8, 8))  # FLUX-like
    assert sent == []


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tiny_model):
    main = RendererClient(str(tiny_model), device="cpu", dtype="float32", step_timeout=60, threads=1)
    try:
        await main.start()
        yield main
    finally:
        await main.close()


def _batch(out: Path, bid: int, steps: int, every: int) -> RenderBatch:
    specs = tuple(ImageSpec(job_id=bid, index=i, prompt="a red fox", negative_prompt="", seed=5 + i,
                            output_path=str(out / f"{bid}-{i}.png")) for i in range(2))
    return RenderBatch(batch_id=bid, width=TINY_SIZE, height=TINY_SIZE, steps=steps, guidance=7.0,
                       images=specs, model_label="tiny-sd", preview_every=every)


@amark
async def test_the_renderer_sends_a_preview_every_n_steps(client, tmp_path):
    previews: list[tuple[int, dict[int, bytes]]] = []
    result = await client.render(_batch(tmp_path, 41, 10, 3), on_preview=lambda s, p: previews.append((s, p)))
    assert [step for step, _ in previews] == [3, 6, 9]
    assert all(set(p) == {41} and p[41][:2] == b"\xff\xd8" for _, p in previews)  # one JPEG for the job
    assert len(result.images) == 2

    none: list = []
    await client.render(dataclasses.replace(_batch(tmp_path, 42, 6, 0)), on_preview=lambda s, p: none.append(s))
    assert none == []  # PREVIEW_EVERY_STEPS=0: off
