"""`--tile`: seamless, tileable images.

While the batch renders, every 2-D convolution of the denoiser (UNet) and of the VAE pads
circularly instead of with zeros: the left edge then sees the right edge as its neighbour (and the
top the bottom), so the latents and the decoded pixels wrap around, and copies of the image laid
side by side show no seam. Attention layers have no notion of edges and need nothing. The padding
is restored after the render, even when it fails, so the next batch (these modules are shared by
the text-to-image and image-to-image pipelines) renders as before. Transformer models (SD 3, FLUX)
patchify without padded convolutions, so nothing there would wrap: admission refuses --tile for
them (bot/services/inline_checks.py).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from bot.models import RenderBatch

_MODULES = ("unet", "transformer", "vae")


def _convolutions(pipe) -> list[Any]:
    import torch

    found = []
    for name in _MODULES:
        module = getattr(pipe, name, None)
        if module is None:
            continue
        found += [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    return found


@contextlib.contextmanager
def seamless(pipe, enabled: bool = True) -> Iterator[int]:
    """Circular padding on `pipe`'s convolutions inside the block; yields how many were changed."""
    if not enabled:
        yield 0
        return
    saved = [(conv, conv.padding_mode) for conv in _convolutions(pipe)]
    try:
        for conv, _ in saved:
            conv.padding_mode = "circular"
        yield len(saved)
    finally:
        for conv, mode in saved:
            conv.padding_mode = mode


def png_pairs(batch: RenderBatch) -> dict[str, Any]:
    """A1111 writes "Tiling: True" for a tiled render."""
    return {"Tiling": "True"} if batch.tile else {}
