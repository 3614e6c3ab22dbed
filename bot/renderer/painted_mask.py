"""Vary Region with a painted mask (the web's brush, bot/web/static/region.js): the painted area
stored as one short edit string, like the Discord picker's cells (outpaint_geometry.py), so it goes
with the job (jobs.edit), into its price key, its Info and its PNG the same way.

"region:paint:<code>": the image divided into a GRID × GRID raster (whatever its aspect), one bit
per raster cell, row by row from the top left, packed most significant bit first and written as
unpadded URL-safe base64 (128 bytes, 171 characters). A cell is painted when at least
PAINTED_SHARE of its pixels were painted. Pure Python: admission and the web use it without numpy.
"""
from __future__ import annotations

import base64
import binascii

GRID = 32
PREFIX = "region:paint:"
PAINTED_SHARE = 0.05  # a thin brush stroke through a cell still selects it


class MaskRefused(ValueError):
    """The mask cannot be used (its text is shown to the member)."""


def encode(bits: list[bool]) -> str:
    """The edit of GRID × GRID bits; MaskRefused when none or all are set."""
    if len(bits) != GRID * GRID:
        raise MaskRefused("That mask has the wrong size.")
    if not any(bits):
        raise MaskRefused("Nothing is painted: paint over the part of the image to redraw first.")
    if all(bits):
        raise MaskRefused("That is the whole image: use Vary or Re-roll to redraw all of it.")
    packed = bytearray(GRID * GRID // 8)
    for n, bit in enumerate(bits):
        if bit:
            packed[n // 8] |= 0x80 >> (n % 8)
    return PREFIX + base64.urlsafe_b64encode(bytes(packed)).decode().rstrip("=")


def decode(edit: str) -> list[bool]:
    """The bits of a painted edit; MaskRefused for anything encode() would not have written."""
    if not edit.startswith(PREFIX):
        raise MaskRefused(f"Unknown region {edit[:40]!r}.")
    code = edit[len(PREFIX):]
    try:
        packed = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    except (binascii.Error, ValueError):
        raise MaskRefused("That painted region is not readable.") from None
    if len(packed) != GRID * GRID // 8:
        raise MaskRefused("That painted region is not readable.")
    bits = [bool(packed[n // 8] & (0x80 >> (n % 8))) for n in range(GRID * GRID)]
    if encode(bits) != edit:  # one spelling per mask (no padding, no stray bits)
        raise MaskRefused("That painted region is not readable.")
    return bits


def share(edit: str) -> float:
    bits = decode(edit)
    return sum(bits) / len(bits)


def cell_box(n: int, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of raster cell n (0 … GRID²-1) on a width × height image (x1, y1 exclusive)."""
    col, row = n % GRID, n // GRID
    return (width * col // GRID, height * row // GRID, width * (col + 1) // GRID, height * (row + 1) // GRID)


def from_alpha(alpha: bytes, width: int, height: int) -> list[bool]:
    """GRID × GRID bits from a painted layer's alpha (width × height bytes, > 0 = painted)."""
    bits = []
    for n in range(GRID * GRID):
        x0, y0, x1, y1 = cell_box(n, width, height)
        area = max(1, (x1 - x0) * (y1 - y0))
        painted = sum(1 for y in range(y0, y1) for a in alpha[y * width + x0:y * width + x1] if a)
        bits.append(painted / area >= PAINTED_SHARE)
    return bits
