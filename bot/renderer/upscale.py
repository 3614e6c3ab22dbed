"""Upscales (the U buttons), on the renderer side: enlarge, then re-detail with image-to-image.

The default method needs no extra weights and works with every model: resize 2x with Lanczos, then
image-to-image at a low strength (UPSCALE_STRENGTH, 0.3) with the same weights, the image's own
seed and prompt: AUTOMATIC1111's "hires fix" done after the fact. With UPSCALER_MODEL a dedicated
upscaler (an ESRGAN/SwinIR/... `.pth`/`.safetensors` file that spandrel reads) enlarges instead of
Lanczos; the image-to-image pass stays, as it does in A1111.

The image-to-image pass renders the whole frame in one pipeline call. Only when that runs out of
memory does it fall back to tiles of the model's native size that overlap by an eighth and are
blended with linear ramps: tiles cost more steps and can show seams at high strengths, so they are a
memory fallback, not the default.

torch, numpy and spandrel are imported inside functions (this module is loaded by the renderer only).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.models import RenderBatch
from bot.renderer import pipeline

log = logging.getLogger("pixelforge.renderer.upscale")

LANCZOS = "Lanczos"
TILE_OVERLAP_FRACTION = 8  # tiles overlap by 1/8 of their edge
_UPSCALERS: dict[tuple[str, str], Any] = {}  # (path, device) -> spandrel model, loaded on first use


def upscaler_label(path: str | None) -> str:
    """What the PNG's "Hires upscaler:" says: Lanczos, or the model file's name."""
    return LANCZOS if not path else Path(path).stem


def load_upscaler(path: str, device: str = "cpu"):
    """The spandrel model in `path` (cached per process). Refuses files that are not a single-image
    super-resolution model (spandrel also reads inpainting and face-restoration models)."""
    key = (path, device)
    model = _UPSCALERS.get(key)
    if model is None:
        import spandrel

        try:
            model = spandrel.ModelLoader(device=device).load_from_file(path)
        except spandrel.UnsupportedModelError:
            model = None
        if not isinstance(model, spandrel.ImageModelDescriptor) or model.input_channels != 3:
            raise ValueError(f"{Path(path).name} is not an image upscaler spandrel knows (RGB, single image)")
        model.eval()
        _UPSCALERS[key] = model
    return model


def model_enlarge(path: str, image, device: str = "cpu"):
    """`image` (PIL RGB) enlarged by the model's own scale (e.g. 4x)."""
    import numpy as np
    import torch

    model = load_upscaler(path, device)
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        out = model(pixels.to(device))
    array = (out[0].clamp(0, 1).permute(1, 2, 0).float().cpu().numpy() * 255.0).round().astype(np.uint8)
    from PIL import Image

    return Image.fromarray(array, "RGB")


def enlarge(path: str, width: int, height: int, upscaler: str | None = None, device: str = "cpu"):
    """The stored image at `path`, enlarged to width x height: by the upscaler model then Lanczos to
    the exact size, or by Lanczos alone."""
    from PIL import Image

    with Image.open(path) as im:
        image = im.convert("RGB")
    if upscaler:
        image = model_enlarge(upscaler, image, device)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image


def render_upscale(loaded, batch: RenderBatch, on_step: Callable[[int, int], None] | None,
                   is_cancelled: Callable[[], bool]) -> list:
    """Enlarge every image of the batch, then one image-to-image call over all of them; after an
    out-of-memory error, each image again in tiles."""
    sources = [enlarge(spec.init_image, batch.width, batch.height, batch.upscaler, loaded.device)  # type: ignore[arg-type]
               for spec in batch.images]
    if is_cancelled():
        raise pipeline.Cancelled()
    pipe, kwargs = pipeline.build_call_kwargs(loaded, batch, images=sources)
    out_of_memory = False
    try:
        return pipeline.run_pipeline(pipe, kwargs, batch.steps, on_step, is_cancelled)
    except Exception as exc:
        if not pipeline.is_oom(exc):
            raise
        out_of_memory = True
    if out_of_memory:
        # Freed outside the except block (its traceback holds the failed call's tensors).
        del kwargs
        pipeline.free_memory(loaded.device)
    tile = native_edge(loaded)
    log.warning("upscale batch %s: out of memory at %dx%d, rendering in %dpx tiles", batch.batch_id,
                batch.width, batch.height, tile)
    return [render_tiled(loaded, batch, index, source, tile, on_step, is_cancelled)
            for index, source in enumerate(sources)]


def native_edge(loaded) -> int:
    """The model's trained edge in pixels (the tile size)."""
    sample, scale = pipeline.native_size(loaded.txt2img)
    return int(sample * scale) if sample else 512


def tile_starts(total: int, tile: int, overlap: int) -> list[int]:
    """Left (or top) edges of tiles of `tile` px covering `total` px, neighbours overlapping by at
    least `overlap`; the last tile ends exactly at the edge."""
    if tile >= total:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, total - tile, stride))
    starts.append(total - tile)
    return sorted(set(starts))


def _ramp(length: int, overlap: int, left: bool, right: bool):
    """1-D blending weights of a tile: rising over `overlap` px on a side that has a neighbour."""
    import numpy as np

    weights = np.ones(length, dtype=np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        if left:
            weights[:overlap] = np.minimum(weights[:overlap], ramp)
        if right:
            weights[-overlap:] = np.minimum(weights[-overlap:], ramp[::-1])
    return weights


def render_tiled(loaded, batch: RenderBatch, index: int, source, tile: int,
                 on_step: Callable[[int, int], None] | None, is_cancelled: Callable[[], bool]):
    """Image `index` of the batch re-detailed tile by tile (`source`: its enlarged image).

    Each tile is one image-to-image call at the batch's strength; one generator seeded with the
    image's seed serves the tiles in order, so a tiled upscale is reproducible."""
    import numpy as np
    import torch
    from PIL import Image

    spec = batch.images[index]
    width, height = source.size
    tile_w, tile_h = min(tile, width), min(tile, height)
    overlap = max(8, tile // TILE_OVERLAP_FRACTION // 8 * 8)
    xs, ys = tile_starts(width, tile_w, overlap), tile_starts(height, tile_h, overlap)
    canvas = np.zeros((height, width, 3), dtype=np.float32)
    weight = np.zeros((height, width, 1), dtype=np.float32)
    generator = torch.Generator(loaded.generator_device).manual_seed(int(spec.seed))
    tiles = [(x, y) for y in ys for x in xs]
    per_tile = max(1, int(batch.steps * float(batch.strength or 1.0)))
    for number, (x, y) in enumerate(tiles):
        if is_cancelled():
            raise pipeline.Cancelled()
        crop = source.crop((x, y, x + tile_w, y + tile_h))
        pipe, kwargs = pipeline.build_call_kwargs(loaded, _one_image(batch, spec, tile_w, tile_h), images=[crop])
        kwargs["generator"] = [generator]

        def progress(step: int, total: int, number: int = number) -> None:
            if on_step is not None:
                on_step(number * per_tile + min(step, per_tile), len(tiles) * per_tile)

        (out,) = pipeline.run_pipeline(pipe, kwargs, batch.steps, progress, is_cancelled)
        mask = np.outer(_ramp(tile_h, overlap, y > 0, y + tile_h < height),
                        _ramp(tile_w, overlap, x > 0, x + tile_w < width))[..., None]
        canvas[y:y + tile_h, x:x + tile_w] += np.asarray(out.convert("RGB"), dtype=np.float32) * mask
        weight[y:y + tile_h, x:x + tile_w] += mask
    blended = np.clip(canvas / np.maximum(weight, 1e-6), 0, 255).round().astype(np.uint8)
    return Image.fromarray(blended, "RGB")


def _one_image(batch: RenderBatch, spec, width: int, height: int) -> RenderBatch:
    from dataclasses import replace

    return replace(batch, images=(spec,), width=width, height=height)
