"""A second tiny model with a larger native size, for the tests of a non-default model's limits."""
from __future__ import annotations

import json
from pathlib import Path

from bot.renderer.tiny import TINY_SIZE, build_tiny_pipeline


def build_wider_tiny_model(path: Path, seed: int = 1) -> Path:
    """The tiny pipeline (other weights) whose UNet says it was trained at twice the tiny edge: its
    profile's native size is 128 px (the tiny default's is 64), so its upscale cap is 256² where the
    default model's is 128². The weights do not care: the UNet is convolutional."""
    build_tiny_pipeline(path, seed=seed)
    # UNet latents: 64 × the VAE's scale factor 2 = 128 px; the VAE's own size (its tile size when
    # tiling decodes a large image) follows, as in a real model trained at that size.
    for part, size in (("unet", TINY_SIZE), ("vae", 2 * TINY_SIZE)):
        config_file = Path(path) / part / "config.json"
        config = json.loads(config_file.read_text())
        config["sample_size"] = size
        config_file.write_text(json.dumps(config, indent=2))
    return Path(path)
