"""A batch's PNGs encoded side by side: each image in a thread of its own (renderer process).

PNG encoding (zlib), the invisible watermark (OpenCV / numpy) and sha256 release the GIL, so the
images of one batch encode in parallel on a multi-core machine. One by one, a batch of n finished
n encodes after its pipeline call, where n single-image jobs hide each encode behind the next
job's pipeline call: that tail ate much of what batching saved. Same bytes either way: each image
is encoded exactly as `render.encode_batch` encodes it.
"""
from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace

from bot.models import EncodedImage, RenderBatch
from bot.renderer import render


def encode_side_by_side(batch: RenderBatch, images: list, sampler: str, model: str,
                        pool: Executor | None) -> list[EncodedImage]:
    """`render.encode_batch(batch, images, ...)`, its images spread over `pool` (None: in this thread)."""
    if pool is None or len(batch.images) < 2:
        return render.encode_batch(batch, images, sampler, model)
    if len(images) != len(batch.images):
        raise ValueError(f"batch {batch.batch_id}: {len(images)} images for {len(batch.images)} specs")
    futures = [pool.submit(render.encode_batch, replace(batch, images=(spec,)), [image], sampler, model)
               for spec, image in zip(batch.images, images, strict=True)]
    return [encoded for future in futures for encoded in future.result()]
