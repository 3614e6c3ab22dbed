"""--tile and --chaos in the renderer (bot/renderer/tiling.py, bot/renderer/chaos.py), with the tiny
pipeline loaded in this process: a tiled image wraps at its edges and the padding is restored;
chaos makes a grid's images alike at 0 and is exactly the plain render at 100."""
from __future__ import annotations

import numpy as np
import pytest

from bot.models import ImageSpec, RenderBatch
from bot.renderer import chaos, pngmeta, render, tiling

STEPS = 6
SIZE = 64
PROMPT = "a stone wall texture"


def _batch(seeds, *, tile=False, chaos_value=None, job_seed=None, size=SIZE) -> RenderBatch:
    specs = tuple(ImageSpec(1, i, PROMPT, "", seed, "", chaos=chaos_value,
                            chaos_seed=job_seed if job_seed is not None else seeds[0])
                  for i, seed in enumerate(seeds))
    return RenderBatch(1, size, size, STEPS, 7.0, specs, model_label="tiny", tile=tile)


def _pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def _render(loaded, latents, tile: bool) -> np.ndarray:
    """The pipeline from these initial latents (float pixels in 0..1), tiled or not."""
    with tiling.seamless(loaded.txt2img, tile):
        return loaded.txt2img(PROMPT, latents=latents.clone(), num_inference_steps=STEPS, height=SIZE,
                              width=SIZE, guidance_scale=7.0, output_type="np").images[0]


def _seam_error(loaded, tile: bool, axis: int) -> float:
    """How far an image's two opposite edges are from joining as its interior does.

    Render from latents L, then from L shifted circularly by a few latent pixels: for an image that
    tiles, the second render is the first shifted, so its strip where the first one's right edge
    meets its left edge (or bottom meets top) is what the model paints inside an image. The error
    over that strip is ~0 for a seamless image and large where zero padding made the edges edges."""
    import torch

    latents = torch.randn((1, 4, SIZE // 2, SIZE // 2), generator=torch.Generator("cpu").manual_seed(11 + axis))
    shift = 4  # latent pixels: a multiple of the UNet's downsampling, so the shift is exact
    pixels = shift * loaded.txt2img.vae_scale_factor
    first = _render(loaded, latents, tile)
    second = _render(loaded, torch.roll(latents, shift, dims=2 + axis), tile)
    joined = np.roll(first, pixels, axis=axis)  # first's far edge, then its near edge, at 0..2*pixels
    strip = (slice(None), slice(0, 2 * pixels)) if axis == 1 else (slice(0, 2 * pixels), slice(None))
    return float(np.abs(second[strip] - joined[strip]).mean())


@pytest.mark.parametrize("axis", [1, 0], ids=["left-right", "top-bottom"])
def test_a_tiled_images_opposite_edges_join_like_its_interior_and_an_untiled_ones_do_not(loaded, axis):
    tiled, plain = _seam_error(loaded, True, axis), _seam_error(loaded, False, axis)
    assert tiled < 1e-3, tiled
    assert plain > 0.005 and plain > 20 * tiled, (tiled, plain)


def test_render_batch_with_tile_renders_through_the_circular_padding(loaded):
    import torch

    batch = _batch([21], tile=True)
    tiled = _pixels(render.render_batch(loaded, batch)[0])
    latents = torch.randn((1, 4, SIZE // 2, SIZE // 2), generator=torch.Generator("cpu").manual_seed(21))
    by_hand = np.round(_render(loaded, latents, True) * 255)
    assert np.abs(tiled - by_hand).max() <= 1
    assert not np.array_equal(tiled, _pixels(render.render_batch(loaded, _batch([21]))[0]))


def test_tiling_restores_the_padding_so_the_next_render_is_unchanged(loaded):
    import torch

    before = _pixels(render.render_batch(loaded, _batch([5]))[0])
    modes = lambda: {m.padding_mode for name in ("unet", "vae")  # noqa: E731
                     for m in getattr(loaded.txt2img, name).modules() if isinstance(m, torch.nn.Conv2d)}
    with tiling.seamless(loaded.txt2img) as changed:
        assert changed > 10 and modes() == {"circular"}
    assert modes() == {"zeros"}
    render.render_batch(loaded, _batch([5], tile=True))
    assert modes() == {"zeros"}
    with pytest.raises(RuntimeError), tiling.seamless(loaded.txt2img):
        raise RuntimeError("a render that fails")
    assert modes() == {"zeros"}
    assert np.array_equal(_pixels(render.render_batch(loaded, _batch([5]))[0]), before)


def _spread(images) -> float:
    a, b, c = (_pixels(i) for i in images)
    return (np.abs(a - b).mean() + np.abs(a - c).mean() + np.abs(b - c).mean()) / 3


def test_chaos_zero_makes_a_grid_alike_and_chaos_100_is_the_plain_render(loaded):
    seeds = [40, 41, 42]
    plain = render.render_batch(loaded, _batch(seeds))
    at_100 = render.render_batch(loaded, _batch(seeds, chaos_value=100))
    assert all(np.array_equal(_pixels(a), _pixels(b)) for a, b in zip(plain, at_100, strict=True))
    at_50 = render.render_batch(loaded, _batch(seeds, chaos_value=50))
    at_0 = render.render_batch(loaded, _batch(seeds, chaos_value=0))
    assert _spread(at_0) < _spread(at_50) < _spread(plain)
    again = render.render_batch(loaded, _batch(seeds, chaos_value=0))  # reproducible
    assert all(np.array_equal(_pixels(a), _pixels(b)) for a, b in zip(at_0, again, strict=True))


def test_chaos_noise_keeps_unit_variance_and_the_stated_correlation(loaded):
    import torch

    batch = _batch([7, 8], chaos_value=0, size=128)
    generators = [torch.Generator("cpu").manual_seed(s.seed) for s in batch.images]
    latents = chaos.initial_latents(loaded.txt2img, batch, generators)
    scale = loaded.txt2img.vae_scale_factor
    assert latents.shape == (2, 4, 128 // scale, 128 // scale)
    assert float(latents.std()) == pytest.approx(1.0, abs=0.08)
    a, b = latents[0].flatten(), latents[1].flatten()
    assert float(torch.corrcoef(torch.stack([a, b]))[0, 1]) == pytest.approx(chaos.correlation(0), abs=0.06)
    assert chaos.correlation(0) == 0.9 and chaos.correlation(50) == pytest.approx(0.45)
    assert chaos.correlation(100) == chaos.correlation(None) == 0.0


def test_the_png_says_tiling_and_chaos(loaded):
    batch = _batch([3], tile=True, chaos_value=20, job_seed=3)
    images = render.render_batch(loaded, batch)
    (encoded,) = render.encode_batch(batch, images, "PNDM", "tiny")
    from io import BytesIO

    from PIL import Image

    text = Image.open(BytesIO(encoded.png)).info["parameters"]
    assert "Tiling: True" in text and "Chaos: 20" in text and "Chaos seed: 3" in text
    assert pngmeta.parse_parameters(text)["Chaos"] == "20"
