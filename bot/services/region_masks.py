"""A painted Vary Region mask from the web's brush (bot/web/static/region.js), checked before it
becomes a job: a PNG data URL of the painted layer, exactly the image's size, with something painted
and not everything. It becomes a painted edit (bot/renderer/painted_mask.py), which then goes the
way of the Discord picker's cells: RegionRequest, the one submit path, jobs.edit, Info, the PNG.

Decoded with Pillow, size read from the header before any pixel is decoded: a layer of another size
(or a decompression bomb) is refused without being unpacked."""
from __future__ import annotations

import base64
import binascii
import io

from bot.errors import ValidationError
from bot.renderer import outpaint_geometry as geometry
from bot.renderer import painted_mask

DATA_URL = "data:image/png;base64,"


def edit_for(mask_url: str, cells: set[int], width: int, height: int) -> str:
    """The edit of a Vary Region from the web: the painted layer when anything is painted, else the
    ticked grid cells (the Discord picker's edit); ValidationError with the member's wording otherwise."""
    bits = painted_bits(mask_url, width, height) if mask_url else None
    try:
        if bits is not None and any(bits):
            return painted_mask.encode(bits)
        if cells:
            return geometry.region_edit(cells)
        return painted_mask.encode(bits or [False] * painted_mask.GRID ** 2)  # refuses: nothing painted
    except (painted_mask.MaskRefused, geometry.OutpaintRefused) as exc:
        raise ValidationError(str(exc)) from None


def painted_bits(mask_url: str, width: int, height: int) -> list[bool]:
    from PIL import Image, UnidentifiedImageError

    if not mask_url.startswith(DATA_URL):
        raise ValidationError("The painted region must be a PNG image.")
    try:
        data = base64.b64decode(mask_url[len(DATA_URL):], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The painted region is not readable: paint again and resubmit.") from None
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as layer:
            if layer.size != (width, height):
                raise ValidationError(f"The painted region is {layer.width}×{layer.height}; the image is "
                                      f"{width}×{height}. Reload the page and paint again.")
            alpha = layer.getchannel("A") if "A" in layer.getbands() else layer.convert("L")
            raw = alpha.tobytes()
    except (UnidentifiedImageError, OSError, ValueError):
        raise ValidationError("The painted region is not readable: paint again and resubmit.") from None
    return painted_mask.from_alpha(raw, width, height)
