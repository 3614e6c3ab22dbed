"""Upscales: the renderer side (Lanczos 2x + low-strength img2img, the tiled fallback after running out
of memory, a spandrel upscaler model built here with random weights, the PNG metadata) with the tiny
pipeline loaded in this process, and the admission side (sizes, caps, seeds, refusals, price)."""
from __future__ import annotations

import importlib.util
import io
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.config import load_settings
from bot.database import Database
from bot.errors import NotFound, ValidationError
from bot.models import (
    GenerationRequest,
    ImageSpec,
    JobKind,
    JobTask,
    RenderBatch,
    RenderedImage,
    Requester,
    RerollRequest,
    UpscaleRequest,
)
from bot.renderer import pipeline, pngmeta, render, upscale
from bot.renderer.profiles import profile_for, upscale_size
from bot.services.admission import Admission
from bot.services.jobs import JobStore

STUBS = Path(__file__).resolve().parent / "stubs"
STEPS = 20


def _base(tmp_path: Path, loaded, seed: int = 42) -> Path:
    batch = RenderBatch(1, 64, 64, STEPS, 7.0, (ImageSpec(1, 0, "a red fox", "", seed, ""),), model_label="tiny")
    path = tmp_path / f"base-{seed}.png"
    render.render_batch(loaded, batch)[0].save(path)
    return path


def _upscale_batch(source: Path, *, upscaler: str | None = None, size: int = 128, seed: int = 42) -> RenderBatch:
    spec = ImageSpec(2, 0, "a red fox", "", seed, "", init_image=str(source))
    return RenderBatch(2, size, size, STEPS, 7.0, (spec,), strength=0.3, model_label="tiny", task=JobTask.UPSCALE,
                       upscale_factor=size / 64, upscaler=upscaler)


def _pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def test_upscale_doubles_keeps_the_picture_and_writes_a1111_hires_metadata(loaded, tmp_path):
    base = _base(tmp_path, loaded)
    batch = _upscale_batch(base)
    (image,) = render.render_batch(loaded, batch)
    assert image.size == (128, 128)
    # The image-to-image pass ran over the enlarged image (random weights say nothing about how much
    # of the picture it keeps: their VAE alone does not give its input back).
    assert not np.array_equal(_pixels(image), _pixels(upscale.enlarge(str(base), 128, 128)))

    (encoded,) = render.encode_batch(batch, [image], "EulerDiscreteScheduler", "tiny")
    text = Image.open(io.BytesIO(encoded.png)).info["parameters"]
    assert text.endswith("Seed: 42, Size: 64x64, Model: tiny, Hires upscale: 2, Denoising strength: 0.3, "
                         "Hires upscaler: Lanczos")
    parsed = pngmeta.parse_parameters(text)
    assert (parsed["seed"], parsed["width"], parsed["hires_upscale"], parsed["denoising_strength"]) == (42, 64, 2.0,
                                                                                                       0.3)
    sd_parsers = pytest.importorskip("sd_parsers")
    read = sd_parsers.ParserManager().parse(Image.open(io.BytesIO(encoded.png)))
    assert read.prompts[0].value == "a red fox"
    assert str(read.samplers[0].parameters["seed"]) == "42"


def test_out_of_memory_at_full_size_falls_back_to_tiles(loaded, tmp_path, monkeypatch):
    import torch

    base = _base(tmp_path, loaded)
    calls, steps = [], []
    real = pipeline.run_pipeline

    def tight_memory(pipe, kwargs, *args, **kw):
        calls.append(kwargs["image"][0].size)
        if kwargs["image"][0].size == (128, 128):
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(pipe, kwargs, *args, **kw)

    monkeypatch.setattr(pipeline, "run_pipeline", tight_memory)
    (image,) = render.render_batch(loaded, _upscale_batch(base), on_step=lambda s, t: steps.append((s, t)))
    assert image.size == (128, 128)
    assert calls == [(128, 128)] + [(64, 64)] * 9  # 3 x 3 tiles of the model's 64 px, overlapping
    assert steps[-1][0] == steps[-1][1] and [s for s, _ in steps] == sorted(s for s, _ in steps)
    # Tiles are reproducible (one generator, seeded, serves them in order).
    again = upscale.render_tiled(loaded, _upscale_batch(base), 0, upscale.enlarge(str(base), 128, 128), 64, None,
                                 lambda: False)
    assert np.array_equal(_pixels(again), _pixels(image))


def test_tiles_cover_the_image_with_overlaps():
    assert upscale.tile_starts(128, 64, 8) == [0, 56, 64]
    assert upscale.tile_starts(64, 64, 8) == [0]
    for total, tile, overlap in ((2048, 1024, 128), (1344, 1024, 128), (200, 64, 8)):
        starts = upscale.tile_starts(total, tile, overlap)
        assert starts[0] == 0 and starts[-1] + tile == total
        assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))


@pytest.fixture
def upscaler_file(tmp_path, monkeypatch):
    """A Real-ESRGAN Compact network with random weights (4x), saved as a .pth."""
    if importlib.util.find_spec("spandrel") is None:
        pytest.skip("spandrel is not installed (pip install --no-deps spandrel einops)")
    if importlib.util.find_spec("torchvision") is None:
        monkeypatch.syspath_prepend(str(STUBS))
    import torch
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    path = tmp_path / "tiny-esrgan-x4.pth"
    torch.save(Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=4).state_dict(), path)
    yield path
    # The stub must not outlive this test: a later import of torchvision would find it in sys.modules.
    for name in [n for n, m in sys.modules.items() if n.split(".")[0] == "torchvision"
                 and str(getattr(m, "__file__", "")).startswith(str(STUBS))]:
        del sys.modules[name]


def test_a_spandrel_upscaler_enlarges_before_the_img2img_pass(loaded, tmp_path, upscaler_file):
    base = _base(tmp_path, loaded)
    model = upscale.load_upscaler(str(upscaler_file))
    assert model.scale == 4 and model.architecture.name == "RealESRGAN Compact"
    assert upscale.model_enlarge(str(upscaler_file), Image.open(base).convert("RGB")).size == (256, 256)
    batch = _upscale_batch(base, upscaler=str(upscaler_file))
    (image,) = render.render_batch(loaded, batch)
    assert image.size == (128, 128)
    (encoded,) = render.encode_batch(batch, [image], "Euler", "tiny")
    assert "Hires upscaler: tiny-esrgan-x4" in Image.open(io.BytesIO(encoded.png)).info["parameters"]

    import torch

    not_an_upscaler = tmp_path / "weights.pth"
    torch.save({"layer.weight": torch.zeros(3, 3)}, not_an_upscaler)
    with pytest.raises(ValueError, match="not an image upscaler spandrel knows"):
        upscale.load_upscaler(str(not_an_upscaler))
    env = {"DISCORD_TOKEN": "t", "UPSCALER_MODEL": str(upscaler_file), "DATA_DIR": str(tmp_path)}
    assert load_settings(env, dotenv=False).upscaler_model == str(upscaler_file.resolve())


def test_upscale_render_time_relative_to_the_base_render(loaded, tmp_path, capsys):
    """For the record (one run, tiny model, 64 -> 128 at 20 steps and strength 0.3): printed, not judged."""
    base = _base(tmp_path, loaded)  # also the warm-up
    started = time.perf_counter()
    _base(tmp_path, loaded, seed=7)
    base_seconds = time.perf_counter() - started
    render.render_batch(loaded, _upscale_batch(base))  # warm-up at the new size
    started = time.perf_counter()
    render.render_batch(loaded, _upscale_batch(base))
    ratio = (time.perf_counter() - started) / base_seconds
    with capsys.disabled():
        print(f"\nupscale 128x128 / base 64x64 render time: {ratio:.2f}x ({base_seconds:.2f} s base)")
    assert ratio > 0


# ---- admission ----

@pytest.fixture
async def admission(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path), "MAX_QUEUED_PER_USER": "20"})
    yield Admission(settings, profile_for("StableDiffusionPipeline", 64), JobStore(db, tmp_path), "tiny")
    await db.close()


ALICE = Requester(user_id=1, channel_id=10, guild_id=5)


async def _finished(admission, tmp_path, size=64, count=2, **options):
    store = admission.store
    job = await admission.admit(ALICE, await admission.plan(ALICE, GenerationRequest(prompt="a fox", count=count,
                                                                                     seed=100, **options)))
    await store.mark_running([job.id])
    images = []
    for index in range(count):
        path = tmp_path / "images" / str(job.id) / f"{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (size, size)).save(path)
        images.append(RenderedImage(job.id, index, 100 + index, str(path), "x", size, size))
    await store.store_results(images, [job.id], {job.id: 1.0})
    return job


async def test_an_upscale_is_the_image_at_twice_the_size_with_its_own_seed(admission, tmp_path):
    parent = await _finished(admission, tmp_path, steps=10)
    plan = await admission.plan(ALICE, UpscaleRequest(parent.id, 1))
    p = plan.params
    assert (plan.kind, p.task, p.width, p.height, p.count, p.seed) == (JobKind.UPSCALE, JobTask.UPSCALE, 128, 128,
                                                                        1, 101)
    assert (p.strength, p.upscale_factor, p.steps) == (0.3, 2.0, 10)
    assert p.init_image == f"images/{parent.id}/1.png" and plan.parent_job_id == parent.id and plan.image_index == 1
    assert plan.cost == admission.price(p) and p.work == 128 * 128 * 3 / 1e6  # int(10 x 0.3) steps
    job = await admission.admit(ALICE, plan)
    assert (await admission.store.get(job.id)).params.upscale_factor == 2.0
    with pytest.raises(ValidationError, match="cannot be re-rolled"):
        await admission.plan(ALICE, RerollRequest(job.id))


async def test_upscales_are_capped_by_the_profile_or_max_upscale_pixels(admission, tmp_path):
    tiny = profile_for("StableDiffusionPipeline", 64)
    assert upscale_size(tiny, 64, 64) == (128, 128, 2.0)
    assert upscale_size(tiny, 128, 128) is None  # 4x the trained area is the cap
    assert upscale_size(tiny, 64, 64, max_pixels=64 * 64 * 2) == (88, 88, 1.375)
    sdxl = profile_for("StableDiffusionXLPipeline", 1024)
    assert upscale_size(sdxl, 1216, 832) == (2432, 1664, 2.0)
    assert upscale_size(sdxl, 2432, 1664) is None
    big = await _finished(admission, tmp_path, size=128, count=1)
    with pytest.raises(ValidationError, match="already 128×128"):
        await admission.plan(ALICE, UpscaleRequest(big.id, 0))


async def test_a_pruned_or_missing_image_cannot_be_upscaled_or_varied(admission, tmp_path):
    from bot.models import VariationRequest

    parent = await _finished(admission, tmp_path)
    await admission.store.db.execute("UPDATE images SET pruned_at = 1 WHERE job_id = ? AND idx = 0", (parent.id,))
    with pytest.raises(NotFound, match="removed by the retention policy .* cannot be upscaled"):
        await admission.plan(ALICE, UpscaleRequest(parent.id, 0))
    with pytest.raises(NotFound, match="cannot be varied"):
        await admission.plan(ALICE, VariationRequest(parent.id, 0))
    (tmp_path / "images" / str(parent.id) / "1.png").unlink()
    with pytest.raises(NotFound, match="no longer stored"):
        await admission.plan(ALICE, UpscaleRequest(parent.id, 1))
    fresh = await _finished(admission, tmp_path)
    varied = await admission.plan(ALICE, VariationRequest(fresh.id, 0, strength=0.35))  # /settings variation
    assert varied.params.strength == 0.35
    assert (await admission.plan(ALICE, VariationRequest(fresh.id, 0))).params.strength == 0.6  # the profile's


def test_the_new_settings_are_checked_at_start(tmp_path):
    from bot.errors import ConfigError

    base = {"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path)}
    settings = load_settings(base, dotenv=False)
    assert (settings.upscale_strength, settings.max_upscale_pixels, settings.upscaler_model,
            settings.image_retention_days) == (0.3, 0, None, 0)
    assert load_settings({**base, "IMAGE_RETENTION_DAYS": "30"}, dotenv=False).image_retention_days == 30
    for env, needle in (({"UPSCALE_STRENGTH": "0"}, "UPSCALE_STRENGTH must be between 0.05 and 1.0"),
                        ({"IMAGE_RETENTION_DAYS": "-1"}, "IMAGE_RETENTION_DAYS"),
                        ({"MAX_UPSCALE_PIXELS": "lots"}, "MAX_UPSCALE_PIXELS must be a whole number"),
                        ({"UPSCALER_MODEL": "model.txt"}, "must be a .pth"),
                        ({"UPSCALER_MODEL": str(tmp_path / "gone.pth")}, "does not exist")):
        with pytest.raises(ConfigError, match=needle):
            load_settings({**base, **env}, dotenv=False)
