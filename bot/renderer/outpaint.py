"""Outpainting on the renderer side (Zoom Out, Pan, Make Square) and Vary (Region): jobs with task
"inpaint". A region keeps the image's size: its mask is the chosen grid cells plus a feathered band
around them (`region_mask`), and everything else is pasted back as for an outpaint.

The inpainting pipeline is built from the loaded text-to-image pipeline with diffusers'
`AutoPipelineForInpainting.from_pipe`: the same UNet/transformer, VAE, text encoders and scheduler
objects, so no second copy of the weights (built on first use, then kept on `LoadedPipelines`).

What the pipeline does depends on the model's UNet:
- an inpainting UNet (9 input channels: latents + mask + masked image) paints the masked area
  conditioned on the rest;
- an ordinary text-to-image UNet (4 input channels, every standard SD 1.5/SDXL checkpoint and the
  tiny test model) has no inpainting variant. The same pipeline class then runs *masked
  image-to-image*: after every denoising step the unmasked latents are reset to the original's
  latents noised to that step, so the new area is painted to fit what is kept. SD3 and FLUX
  inpainting pipelines always work this way. We render at strength 1.0: the new area starts from
  pure noise (its fill colour does not matter), the kept area from the original.

The mask is 1 on the new area and ramps from 1 to 0 over a feathered band (`feather_width`) inside
the original along each side that borders new area. The pipeline repaints everything the mask
touches (diffusers binarises masks); afterwards the original pixels are pasted back, blended by the
ramp: outside the band the kept region equals the placed original exactly, inside it the two mix.

torch, numpy and PIL are imported inside functions (loaded in the renderer only).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.models import RenderBatch
from bot.renderer import outpaint_geometry as geometry
from bot.renderer import painted_mask

log = logging.getLogger("pixelforge.renderer.outpaint")

OUTPAINT_STRENGTH = 1.0  # the new area starts from pure noise (see the module docstring)


def inpaint_pipeline(loaded) -> Any:
    """The inpainting pipeline sharing every component of `loaded.txt2img` (built once per process)."""
    pipe = getattr(loaded, "inpaint", None)
    if pipe is None:
        from diffusers import AutoPipelineForInpainting

        pipe = AutoPipelineForInpainting.from_pipe(loaded.txt2img)
        pipe.set_progress_bar_config(disable=True)
        loaded.inpaint = pipe
    return pipe


def unet_in_channels(pipe) -> int | None:
    """4: masked image-to-image; 9: a real inpainting UNet; None: a transformer model (masked img2img)."""
    unet = getattr(pipe, "unet", None)
    return int(unet.config.in_channels) if unet is not None else None


def feather_mask(width: int, height: int, box: geometry.Box, feather: int):
    """float32 HxW mask: 1 where new area is painted, ramping to 0 over `feather` px inside the box
    along its open sides, 0 in the rest of the box (kept exactly)."""
    import numpy as np

    mask = np.ones((height, width), dtype=np.float32)
    inner = np.zeros((box.height, box.width), dtype=np.float32)
    ramp = np.clip(1.0 - (np.arange(max(box.width, box.height), dtype=np.float32) + 0.5) / feather, 0.0, 1.0)
    cols, rows = ramp[:box.width], ramp[:box.height]
    if "left" in box.open_sides:
        inner = np.maximum(inner, cols[None, :])
    if "right" in box.open_sides:
        inner = np.maximum(inner, cols[::-1][None, :])
    if "top" in box.open_sides:
        inner = np.maximum(inner, rows[:, None])
    if "bottom" in box.open_sides:
        inner = np.maximum(inner, rows[::-1][:, None])
    mask[box.y:box.y + box.height, box.x:box.x + box.width] = inner
    return mask


def place(original, width: int, height: int, box: geometry.Box):
    """The canvas the pipeline starts from: the original resized into `box` (Lanczos; untouched when
    it already fits), the new area filled by repeating its edge pixels. Returns (canvas, placed
    original as a uint8 array of the canvas size)."""
    import numpy as np
    from PIL import Image

    image = original.convert("RGB")
    if image.size != (box.width, box.height):
        image = image.resize((box.width, box.height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.uint8)
    padded = np.pad(pixels, ((box.y, height - box.y - box.height), (box.x, width - box.x - box.width), (0, 0)),
                    mode="edge")
    return Image.fromarray(padded, "RGB"), padded


def paste_back(generated, placed, mask):
    """The render with the original's pixels put back: placed x (1 - mask) + generated x mask."""
    import numpy as np
    from PIL import Image

    painted = np.asarray(generated.convert("RGB"), dtype=np.float32)
    weight = mask[..., None]
    out = placed.astype(np.float32) * (1.0 - weight) + painted * weight
    result = np.clip(out, 0, 255).round().astype(np.uint8)
    kept = weight[..., 0] == 0.0
    result[kept] = placed[kept]  # exactly the original, not a float round trip of it
    return Image.fromarray(result, "RGB")


def region_mask(width: int, height: int, cells, feather: int):
    """float32 HxW mask of a Vary Region: 1 on the chosen grid cells, ramping to 0 over `feather` px
    outside them (distance to the nearest chosen cell), 0 on the rest (kept exactly)."""
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.full((height, width), np.inf, dtype=np.float32)
    for cell in cells:
        x0, y0, x1, y1 = geometry.cell_box(cell, width, height)
        dx = np.maximum(np.maximum(x0 - xs, 0), xs - (x1 - 1))
        dy = np.maximum(np.maximum(y0 - ys, 0), ys - (y1 - 1))
        distance = np.minimum(distance, np.sqrt(dx * dx + dy * dy))
    return np.clip(1.0 - distance / (feather + 1), 0.0, 1.0).astype(np.float32)


def painted_region_mask(width: int, height: int, edit: str, feather: int):
    """float32 HxW mask of a painted Vary Region (painted_mask.py): 1 on the painted raster cells,
    fading to 0 over `feather` px around them, 0 beyond (kept exactly). The fade is one box blur of
    radius `feather` (linear along a straight edge: twice the painted share of the box around the
    pixel), a single pass whatever the number of cells (the cell-by-cell distance of `region_mask`
    would walk the image once per painted cell, up to a thousand times)."""
    import numpy as np
    from PIL import Image, ImageFilter

    painted = np.zeros((height, width), dtype=np.uint8)
    for n, bit in enumerate(painted_mask.decode(edit)):
        if bit:
            x0, y0, x1, y1 = painted_mask.cell_box(n, width, height)
            painted[y0:y1, x0:x1] = 255
    share = np.asarray(Image.fromarray(painted, "L").filter(ImageFilter.BoxBlur(feather)), dtype=np.float32) / 255
    return np.maximum(painted.astype(np.float32) / 255, np.clip(2.0 * share, 0.0, 1.0)).astype(np.float32)


def prepare(spec_image: str, edit: str, width: int, height: int):
    """(canvas, pipeline mask, placed original, feather mask) for the stored image at `spec_image`."""
    import numpy as np
    from PIL import Image

    with Image.open(spec_image) as im:
        original = im.convert("RGB")
    if edit.startswith("region:"):  # Vary Region: the image keeps its size and place
        if original.size != (width, height):
            original = original.resize((width, height), Image.Resampling.LANCZOS)
        canvas, placed = original, np.asarray(original, dtype=np.uint8).copy()
        feather = geometry.region_feather(width, height)
        mask = (painted_region_mask(width, height, edit, feather) if edit.startswith(painted_mask.PREFIX)
                else region_mask(width, height, geometry.region_cells(edit), feather))
    else:
        box = geometry.placement(edit, original.width, original.height, width, height)
        canvas, placed = place(original, width, height, box)
        mask = feather_mask(width, height, box, geometry.feather_width(box))
    pipeline_mask = Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8), "L")
    return canvas, pipeline_mask, placed, mask


def render_outpaint(loaded, batch: RenderBatch, on_step: Callable[[int, int], None] | None,
                    is_cancelled: Callable[[], bool]) -> list:
    """Every image of the batch on its new canvas, in ONE inpainting call, originals pasted back."""
    from bot.renderer import pipeline as calls  # the call render.py and upscale.py share

    if not batch.edit:
        raise ValueError("inpaint batch without an edit")
    prepared = []
    for spec in batch.images:
        if not spec.init_image:
            raise ValueError("inpaint batch without init_image")
        prepared.append(prepare(spec.init_image, batch.edit, batch.width, batch.height))
    if is_cancelled():
        raise calls.Cancelled()
    pipe, kwargs = calls.build_call_kwargs(loaded, batch, images=[p[0] for p in prepared])
    pipe = inpaint_pipeline(loaded)
    kwargs["mask_image"] = [p[1] for p in prepared]
    kwargs["width"], kwargs["height"] = batch.width, batch.height
    kwargs["strength"] = float(batch.strength if batch.strength is not None else OUTPAINT_STRENGTH)
    out = calls.run_pipeline(pipe, kwargs, batch.steps, on_step, is_cancelled)
    return [paste_back(image, placed, mask) for image, (_, _, placed, mask) in zip(out, prepared, strict=True)]
