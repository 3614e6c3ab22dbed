"""Outpainting geometry (Zoom Out, Pan, Make Square): pure arithmetic, no torch, no numpy.

Admission (the bot's main process) uses `output_size` to validate and price an outpaint before it is
queued; the renderer uses `placement` on the same numbers to put the original on its new canvas, so
the two sides never disagree. An edit is stored as one short string (jobs.edit, migration 0010):

- "zoom:2", "zoom:1.5": the same output size; the original shrunk by the factor into the centre.
- "pan:left", "pan:right", "pan:up", "pan:down": the canvas grows by half of the original in that
  direction (1.5x wide or tall), the original stays at its side at full size.
- "square": a non-square image extended on both short sides (centred) to a square.
- "region:c1,c5,…" (Vary Region): the same size; the cells of a 3×3 grid (c1 top left … c9 bottom
  right, row by row) are redrawn, the rest kept. The picker's shapes (top half, border, …) are
  unions of cells (REGION_SHAPES).
- "region:paint:<code>" (Vary Region with the web's brush): the same size; a painted raster
  (bot/renderer/painted_mask.py).

Every canvas is capped by the model's pixel limit (its profile's, as for upscales): a larger one is
scaled down to the limit (the original then shrinks with it), sides rounded down to the model's size
multiple. A canvas thinner than MAX_ASPECT (4:1, the thinnest ratio the sizes ever use) is refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bot.i18n import N_
from bot.renderer import painted_mask

ZOOM_FACTORS = ("1.5", "2")
PAN_DIRECTIONS = ("left", "right", "up", "down")
PAN_GROWTH = 1.5  # a pan adds half of the original's edge
MAX_ASPECT = 4.0
ARROWS = {"left": "⬅", "right": "➡", "up": "⬆", "down": "⬇"}
# Names are lazy messages (English strings, said in the member's language where they are shown).
CELL_NAMES = (N_("top left"), N_("top"), N_("top right"), N_("left"), N_("centre"), N_("right"), N_("bottom left"),
              N_("bottom"), N_("bottom right"))
REGION_SHAPES: dict[str, tuple[int, ...]] = {  # name -> cells (1-9)
    N_("top half"): (1, 2, 3), N_("bottom half"): (7, 8, 9), N_("left half"): (1, 4, 7), N_("right half"): (3, 6, 9),
    N_("middle band"): (4, 5, 6), N_("border"): (1, 2, 3, 4, 6, 7, 8, 9), N_("centre cross"): (2, 4, 5, 6, 8),
}
DIRECTIONS = {"left": N_("left"), "right": N_("right"), "up": N_("up"), "down": N_("down")}


class OutpaintRefused(ValueError):
    """The edit cannot be made (its text is shown to the member)."""


@dataclass(frozen=True)
class Box:
    """Where the original goes on the canvas, and which of its sides border newly painted area."""

    x: int
    y: int
    width: int
    height: int
    open_sides: tuple[str, ...]  # of "left", "right", "top", "bottom"


def parse(edit: str) -> tuple[str, str]:
    """("zoom", "2"), ("pan", "left"), ("square", ""), ("region", "c1,c5"); OutpaintRefused otherwise."""
    op, _, arg = (edit or "").partition(":")
    if (op == "zoom" and arg in ZOOM_FACTORS) or (op == "pan" and arg in PAN_DIRECTIONS) or (
            op == "square" and not arg):
        return op, arg
    if op == "region":
        if edit.startswith(painted_mask.PREFIX):  # the web's brush (painted_mask.py)
            try:
                painted_mask.decode(edit)
            except painted_mask.MaskRefused as exc:
                raise OutpaintRefused(str(exc)) from None
        else:
            region_cells(edit)
        return op, arg
    raise OutpaintRefused(f"Unknown outpaint {edit!r}.")


def region_edit(cells) -> str:
    """The canonical edit of a set of cells (1-9): "region:c1,c2,c3"."""
    chosen = sorted({int(c) for c in cells})
    if not chosen or chosen[0] < 1 or chosen[-1] > 9:
        raise OutpaintRefused(N_("Choose at least one part of the image (cells 1 to 9)."))
    if len(chosen) == 9:
        raise OutpaintRefused(N_("That is the whole image: use Vary or Re-roll to redraw all of it."))
    return "region:" + ",".join(f"c{c}" for c in chosen)


def region_cells(edit: str) -> tuple[int, ...]:
    op, _, arg = (edit or "").partition(":")
    parts = arg.split(",") if op == "region" and arg else []
    if not parts or any(len(p) != 2 or p[0] != "c" or p[1] not in "123456789" for p in parts):
        raise OutpaintRefused(f"Unknown region {edit!r}.")
    cells = tuple(int(p[1]) for p in parts)
    if region_edit(cells) != edit:
        raise OutpaintRefused(f"Unknown region {edit!r}.")
    return cells


def cell_box(cell: int, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of grid cell 1-9, edges at thirds of the image (x1, y1 exclusive)."""
    col, row = (cell - 1) % 3, (cell - 1) // 3
    return (width * col // 3, height * row // 3, width * (col + 1) // 3, height * (row + 1) // 3)


def describe(edit: str) -> str:
    """How Info and the PNG name the edit: "zoomed out 2×", "panned ⬅ left", "made square"."""
    op, arg = parse(edit)
    if op == "zoom":
        return N_("zoomed out {factor}×", factor=arg)
    if op == "pan":
        return N_("panned {arrow} {direction}", arrow=ARROWS[arg], direction=DIRECTIONS[arg])
    if op == "region" and edit.startswith(painted_mask.PREFIX):
        return N_("region varied (painted, {share:.0%} of the image)", share=painted_mask.share(edit))
    if op == "region":
        cells = region_cells(edit)
        shape = next((name for name, shape_cells in REGION_SHAPES.items() if shape_cells == cells), None)
        parts = shape if shape is not None else CELL_NAMES[cells[0] - 1]
        for cell in cells[1:] if shape is None else ():  # a list of names, each said in the reply's language
            parts = N_("{first}, {rest}", first=parts, rest=CELL_NAMES[cell - 1])
        return N_("region varied ({parts})", parts=parts)
    return N_("made square")


def _cap(width: float, height: float, max_pixels: int, multiple: int) -> tuple[int, int]:
    if width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        width, height = width * scale, height * scale
    return (max(multiple, int(width) // multiple * multiple), max(multiple, int(height) // multiple * multiple))


def output_size(edit: str, width: int, height: int, max_pixels: int, multiple: int = 8) -> tuple[int, int]:
    """The canvas size of `edit` applied to a width x height image; OutpaintRefused when it cannot be made."""
    op, arg = parse(edit)
    if op in ("zoom", "region"):
        return width, height
    if op == "square":
        if width == height:
            raise OutpaintRefused(N_("That image is already square."))
        edge = max(width, height)
        new_w, new_h = _cap(edge, edge, max_pixels, multiple)
        side = min(new_w, new_h)  # both sides the same after rounding
        return side, side
    grow_w, grow_h = (PAN_GROWTH, 1.0) if arg in ("left", "right") else (1.0, PAN_GROWTH)
    new_w, new_h = _cap(width * grow_w, height * grow_h, max_pixels, multiple)
    if max(new_w, new_h) / min(new_w, new_h) > MAX_ASPECT:
        raise OutpaintRefused(N_("A pan {direction} would make the image {width}×{height}, thinner than "
                                 "{aspect:g}:1, the most this bot renders. Pan the other way instead.",
                                 direction=DIRECTIONS[arg], width=new_w, height=new_h, aspect=MAX_ASPECT))
    if (new_w, new_h) == (width, height) or (grow_w > 1 and new_w <= width) or (grow_h > 1 and new_h <= height):
        raise OutpaintRefused(N_("That image is at the model's pixel limit in that direction."))
    return new_w, new_h


def placement(edit: str, src_w: int, src_h: int, out_w: int, out_h: int) -> Box:
    """Where the (resized) original lies on the out_w x out_h canvas of `edit`."""
    op, arg = parse(edit)
    if op == "region":
        raise OutpaintRefused("a region has no placement: the image keeps its place")
    if op == "zoom":
        factor = float(arg)
        w, h = max(1, round(out_w / factor)), max(1, round(out_h / factor))
        return Box((out_w - w) // 2, (out_h - h) // 2, w, h, ("left", "right", "top", "bottom"))
    if op == "square":
        scale = min(out_w / src_w, out_h / src_h)
        w, h = min(out_w, round(src_w * scale)), min(out_h, round(src_h * scale))
        x, y = (out_w - w) // 2, (out_h - h) // 2
        sides = ("left", "right") if w < out_w else ("top", "bottom")
        return Box(x, y, w, h, sides)
    if arg in ("left", "right"):
        h = out_h
        w = min(out_w, round(src_w * out_h / src_h))
        return Box(out_w - w if arg == "left" else 0, 0, w, h, ("left",) if arg == "left" else ("right",))
    w = out_w
    h = min(out_h, round(src_h * out_w / src_w))
    return Box(0, out_h - h if arg == "up" else 0, w, h, ("top",) if arg == "up" else ("bottom",))


def region_feather(width: int, height: int) -> int:
    """The feathered band around a redrawn region: as for an outpaint's kept edge (1/16 of a third)."""
    return max(2, min(64, min(width, height) // 3 // 16))


def feather_width(box: Box) -> int:
    """Pixels of the original, along each open side, that the render may repaint to hide the seam
    (the mask's feathered edge): a sixteenth of the kept edge, 2 to 64 px."""
    return max(2, min(64, min(box.width, box.height) // 16))


def record(edit: str) -> str:
    """What the PNG says of the edit: describe(), and a painted mask's code so it can be read back."""
    if edit.startswith(painted_mask.PREFIX):
        return f"{describe(edit)}, mask {painted_mask.GRID}x{painted_mask.GRID} {edit[len(painted_mask.PREFIX):]}"
    return describe(edit)
