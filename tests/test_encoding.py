"""bot/renderer/encoding.py: a batch's images encoded side by side give exactly the bytes of one by
one, in batch order, and a wrong image count is refused as before."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from bot.models import ImageSpec, RenderBatch
from bot.renderer import render
from bot.renderer.encoding import encode_side_by_side


def _batch(n: int) -> RenderBatch:
    specs = tuple(ImageSpec(job_id=10 + i, index=0, prompt=f"a harbour {i}", negative_prompt="", seed=i,
                            output_path="") for i in range(n))
    return RenderBatch(batch_id=1, width=256, height=256, steps=4, guidance=7.0, images=specs, model_label="m")


def test_side_by_side_encoding_gives_the_same_bytes_in_batch_order():
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)) for _ in range(3)]
    batch = _batch(3)
    with ThreadPoolExecutor(3) as pool:
        parallel = encode_side_by_side(batch, images, "PNDMScheduler", "m", pool)
    serial = render.encode_batch(batch, images, "PNDMScheduler", "m")
    assert [e.job_id for e in parallel] == [10, 11, 12]
    assert [e.png for e in parallel] == [e.png for e in serial]
    assert [e.sha256 for e in parallel] == [e.sha256 for e in serial]


def test_a_batch_with_the_wrong_number_of_images_is_refused():
    image = Image.new("RGB", (256, 256))
    with ThreadPoolExecutor(2) as pool, pytest.raises(ValueError, match="2 images for 3 specs"):
        encode_side_by_side(_batch(3), [image, image], "PNDMScheduler", "m", pool)
