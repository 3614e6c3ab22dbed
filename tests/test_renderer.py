"""Renderer process tests with the tiny random-weight pipeline (CPU, no hub).

Two renderer processes serve most of the module (each spawn imports torch + diffusers, ~5-7 s):
`clients.main` for the pixel tests and `clients.faulty`, whose worker gets PIXELFORGE_TEST_FAULTS,
for cancel/crash/OOM/hang/overlap. The faults come from tests/faults/sitecustomize.py, put on the
PYTHONPATH that the spawned workers inherit (the product has no fault code). Both run on one
module-scoped event loop (the client's reader thread is bound to the loop that started it).
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image

from bot.errors import RenderError
from bot.models import ImageSpec, JobTask, RenderBatch
from bot.renderer import pngmeta, profiles
from bot.renderer.client import RendererClient
from bot.renderer.tiny import TINY_SIZE, TINY_STEPS
from tests.faults import FAULTS_ENV, fault_hook_in_environ

ROOT = Path(__file__).resolve().parent.parent
amark = pytest.mark.asyncio(loop_scope="module")

FAULTS = {"CRASHME": "crash", "OOMME": "oom", "HANGME": "hang", "SLOWME": "slow:0.3",
          "ENCODESLOWLY": "slowencode:1.5", "ENCODEVERYSLOWLY": "slowencode:4", "ENCODEHANGS": "hangencode"}

_ids = iter(range(1000, 10**9))


def _batch(out: Path, prompts, seeds, *, steps=TINY_STEPS, size=TINY_SIZE, strength=None, init=None,
           negative="", guidance=7.0) -> RenderBatch:
    bid = next(_ids)
    specs = tuple(
        ImageSpec(job_id=bid, index=i, prompt=p, negative_prompt=negative, seed=s,
                  output_path=str(out / f"b{bid}_{i}.png"), init_image=init)
        for i, (p, s) in enumerate(zip(prompts, seeds, strict=True))
    )
    return RenderBatch(batch_id=bid, width=size, height=size, steps=steps, guidance=guidance, images=specs,
                       strength=strength, model_label="tiny-sd",
                       task=JobTask.IMG2IMG if init is not None else JobTask.TXT2IMG)


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def fault_hook():
    """Renderer processes spawned while this is active load tests/faults/sitecustomize.py."""
    with fault_hook_in_environ():
        yield


@dataclass
class Clients:
    main: RendererClient
    faulty: RendererClient
    start_seconds: float


@pytest.fixture(scope="module")
def model_dir(tiny_model) -> Path:
    return tiny_model


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clients(model_dir, fault_hook):
    # One torch thread each: two workers on a 2-core CI machine without OpenMP oversubscription.
    main = RendererClient(str(model_dir), device="cpu", dtype="float32", step_timeout=60, threads=1)
    faulty = RendererClient(str(model_dir), device="auto", dtype="auto", step_timeout=60, threads=1,
                            env={FAULTS_ENV: json.dumps(FAULTS)})
    t0 = time.perf_counter()
    try:
        await asyncio.gather(main.start(), faulty.start())  # both load at once: 2 CPUs
        yield Clients(main, faulty, time.perf_counter() - t0)
    finally:
        await asyncio.gather(main.close(), faulty.close())


# ------------------------------------------------------------------ model info


@amark
async def test_ready_reports_model_info(clients, model_dir):
    info = clients.main.info
    assert info is not None
    assert info.model == str(model_dir)
    assert info.pipeline_class == "StableDiffusionPipeline"
    assert info.scheduler == "EulerDiscreteScheduler"
    assert (info.device, info.dtype) == ("cpu", "float32")
    assert info.extra["sample_size"] * info.extra["vae_scale_factor"] == TINY_SIZE
    assert info.extra["img2img_class"] == "StableDiffusionImg2ImgPipeline"
    assert clients.faulty.info.device == "cpu" and clients.faulty.info.dtype == "float32"  # "auto" on CPU
    print(f"two workers started concurrently in {clients.start_seconds:.1f}s")


# ------------------------------------------------------------------ pixels


@amark
async def test_same_seed_same_pixels_other_seed_differs(clients, tmp_path):
    c = clients.main
    a = await c.render(_batch(tmp_path, ["a red fox"], [42]))
    b = await c.render(_batch(tmp_path, ["a red fox"], [42]))
    d = await c.render(_batch(tmp_path, ["a red fox"], [43]))
    assert a.images[0].sha256 == b.images[0].sha256
    assert np.array_equal(_pixels(a.images[0].path), _pixels(b.images[0].path))
    assert not np.array_equal(_pixels(a.images[0].path), _pixels(d.images[0].path))
    img = a.images[0]
    assert (img.width, img.height, img.seed) == (TINY_SIZE, TINY_SIZE, 42)
    assert Path(img.path).is_file() and not list(tmp_path.glob(".*.tmp"))
    assert a.seconds > 0 and a.steps_per_second > 0


@amark
async def test_batch_equals_batch_of_one(clients, tmp_path):
    c = clients.main
    prompts, seeds = ["a cat", "a dog on the moon", "the sea"], [7, 8, 9]
    batched = await c.render(_batch(tmp_path, prompts, seeds))
    assert [i.index for i in batched.images] == [0, 1, 2]
    worst = 0
    for i, (p, s) in enumerate(zip(prompts, seeds, strict=True)):
        single = await c.render(_batch(tmp_path, [p], [s]))
        diff = np.abs(_pixels(batched.images[i].path) - _pixels(single.images[0].path)).max()
        worst = max(worst, int(diff))
    print(f"batch-of-3 vs batch-of-1: max abs pixel diff {worst}/255")
    assert worst <= 2
    # and images of one batch are not copies of each other
    assert len({i.sha256 for i in batched.images}) == 3


@amark
async def test_variation_runs_img2img(clients, tmp_path):
    c = clients.main
    init = (await c.render(_batch(tmp_path, ["a lighthouse"], [5]))).images[0].path
    progress: list[tuple[int, int]] = []
    v1 = await c.render(_batch(tmp_path, ["a lighthouse"], [11], strength=0.6, init=init),
                        on_progress=lambda s, t: progress.append((s, t)))
    v2 = await c.render(_batch(tmp_path, ["a lighthouse"], [11], strength=0.6, init=init))
    v3 = await c.render(_batch(tmp_path, ["a lighthouse"], [12], strength=0.6, init=init))
    assert v1.images[0].sha256 == v2.images[0].sha256  # deterministic per seed
    assert not np.array_equal(_pixels(v1.images[0].path), _pixels(init))  # changed the init image
    assert v1.images[0].sha256 != v3.images[0].sha256
    # img2img runs int(steps * strength) steps
    assert progress == [(1, 2), (2, 2)]
    meta = pngmeta.parse_parameters(pngmeta.read_parameters(v1.images[0].path))
    assert meta["denoising_strength"] == 0.6


@amark
async def test_init_image_of_another_size_is_resized(clients, tmp_path):
    init = tmp_path / "init.png"
    Image.new("L", (100, 37), 128).save(init)
    res = await clients.main.render(_batch(tmp_path, ["x"], [1], strength=0.5, init=str(init)))
    assert (res.images[0].width, res.images[0].height) == (TINY_SIZE, TINY_SIZE)


@amark
async def test_parameters_chunk_round_trips(clients, tmp_path, tiny_model):
    from bot.renderer.model_cache import model_hash

    b = _batch(tmp_path, ["a castle, at dusk"], [123456], negative="blurry, low quality", guidance=6.5)
    res = await clients.main.render(b)
    text = pngmeta.read_parameters(res.images[0].path)
    short = model_hash(str(tiny_model), None)  # A1111's "Model hash": the UNet weights' sha256, 10 digits
    assert len(short) == 10
    assert text == (
        "a castle, at dusk\nNegative prompt: blurry, low quality\n"
        "Steps: 4, Sampler: EulerDiscreteScheduler, CFG scale: 6.5, Seed: 123456, Size: 64x64, Model: tiny-sd, "
        f"Model hash: {short}"
    )
    assert pngmeta.parse_parameters(text) == {
        "prompt": "a castle, at dusk", "negative_prompt": "blurry, low quality", "steps": 4,
        "sampler": "EulerDiscreteScheduler", "cfg_scale": 6.5, "seed": 123456, "width": 64, "height": 64,
        "model": "tiny-sd", "Model hash": short,
    }


@amark
async def test_progress_reports_every_step(clients, tmp_path):
    seen: list[tuple[int, int]] = []
    await clients.main.render(_batch(tmp_path, ["p"], [1], steps=5), on_progress=lambda s, t: seen.append((s, t)))
    assert seen == [(i, 5) for i in range(1, 6)]


@amark
async def test_worker_error_is_reported_and_worker_kept(clients, tmp_path):
    c = clients.main
    pid, restarts = c.pid, c.restarts
    with pytest.raises(RenderError) as err:  # 60 is not a multiple of 8
        await c.render(_batch(tmp_path, ["p"], [1], size=60))
    assert err.value.kind == "error"
    with pytest.raises(RenderError) as err:
        await c.render(_batch(tmp_path, ["p"], [1], strength=0.5, init=str(tmp_path / "missing.png")))
    assert err.value.kind == "error"
    await c.render(_batch(tmp_path, ["p"], [1]))
    assert (c.pid, c.restarts) == (pid, restarts)


# ------------------------------------------------------------------ cancel and faults


@amark
async def test_cancel_stops_a_slow_render(clients, tmp_path):
    c = clients.faulty
    b = _batch(tmp_path, ["SLOWME"], [1], steps=20)
    steps: list[int] = []
    ticks: list[float] = []
    stop = asyncio.Event()

    async def ticker():  # the event loop must stay responsive during a render
        while not stop.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)

    def on_progress(step, total):
        steps.append(step)
        if step == 2:
            c.cancel(b.batch_id)

    t = asyncio.create_task(ticker())
    try:
        with pytest.raises(RenderError) as err:
            await c.render(b, on_progress=on_progress)
    finally:
        stop.set()
        await t
    assert err.value.kind == "cancelled"
    assert steps[:2] == [1, 2] and len(steps) <= 4, steps  # stopped at the next step, not after 20
    assert not Path(b.images[0].output_path).exists()
    gaps = np.diff(ticks)
    assert gaps.max() < 0.25, f"event loop blocked for {gaps.max():.2f}s"
    # cancelled before it starts: answered at once
    b2 = _batch(tmp_path, ["SLOWME"], [1], steps=20)
    c.cancel(b2.batch_id)
    with pytest.raises(RenderError) as err:
        await c.render(b2)
    assert err.value.kind == "cancelled"
    # a later batch is unaffected
    assert (await c.render(_batch(tmp_path, ["fine"], [1]))).images


@amark
async def test_a_render_whose_caller_is_cancelled_stops_and_the_worker_serves_the_next(clients, tmp_path):
    c = clients.faulty
    pid = c.pid
    b = _batch(tmp_path, ["SLOWME"], [1], steps=20)
    stepped = asyncio.Event()
    task = asyncio.ensure_future(c.render(b, on_progress=lambda s, t: stepped.set()))
    await asyncio.wait_for(stepped.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    t0 = time.perf_counter()
    assert (await c.render(_batch(tmp_path, ["fine"], [2]))).images
    assert time.perf_counter() - t0 < 20 * 0.3  # the worker dropped the 20 slow steps
    assert c.pid == pid and not Path(b.images[0].output_path).exists()


@amark
async def test_injected_oom_keeps_worker(clients, tmp_path):
    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    with pytest.raises(RenderError) as err:
        await c.render(_batch(tmp_path, ["OOMME"], [1]))
    assert err.value.kind == "oom"
    res = await c.render(_batch(tmp_path, ["fine"], [1]))
    assert res.images and (c.pid, c.restarts) == (pid, restarts)


def _process_state(pid: int) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.split()[1]
    except OSError:
        return None
    return None


@amark
async def test_injected_crash_restarts_worker(clients, tmp_path):
    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    with pytest.raises(RenderError) as err:
        await c.render(_batch(tmp_path, ["CRASHME"], [1]))
    assert err.value.kind == "crash" and "17" in err.value.message
    assert c.restarts == restarts + 1 and c.pid != pid and c.info is not None
    if sys.platform.startswith("linux"):
        assert _process_state(pid) != "Z"  # reaped, no zombie left behind
    assert (await c.render(_batch(tmp_path, ["fine"], [1]))).images


@amark
async def test_injected_hang_is_killed_and_restarted(clients, tmp_path):
    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    c.step_timeout = 2.0
    try:
        t0 = time.perf_counter()
        with pytest.raises(RenderError) as err:
            await c.render(_batch(tmp_path, ["HANGME"], [1]))
        assert err.value.kind == "hang"
    finally:
        c.step_timeout = 60.0
    assert c.restarts == restarts + 1 and c.pid != pid
    assert time.perf_counter() - t0 < 60
    if sys.platform.startswith("linux"):
        assert _process_state(pid) in (None, "X")
    assert (await c.render(_batch(tmp_path, ["fine"], [1]))).images


@amark
async def test_an_encode_that_never_returns_is_a_hang_and_the_worker_is_replaced(clients, tmp_path):
    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    c.encode_timeout = 2.0
    try:
        t0 = time.perf_counter()
        with pytest.raises(RenderError) as err:
            await c.render(_batch(tmp_path, ["ENCODEHANGS"], [1]))
        assert err.value.kind == "hang" and "encoding took longer than 2 s" in err.value.message
    finally:
        c.encode_timeout = 60.0
    assert 2.0 <= time.perf_counter() - t0 < 60
    assert c.restarts == restarts + 1 and c.pid != pid
    assert (await c.render(_batch(tmp_path, ["fine"], [1]))).images


@amark
async def test_an_encode_longer_than_the_step_timeout_is_timed_by_the_encode_timeout(clients, tmp_path):
    c = clients.faulty
    pid = c.pid
    c.step_timeout = 2.0
    try:
        result = await c.render(_batch(tmp_path, ["ENCODEVERYSLOWLY"], [1]))  # 4 s of encoding
    finally:
        c.step_timeout = 60.0
    assert result.images and c.pid == pid


# ------------------------------------------------------------------ overlap: encode while the next denoises


@amark
async def test_next_batch_denoises_while_the_previous_one_encodes(clients, tmp_path):
    c = clients.faulty
    first = _batch(tmp_path, ["ENCODESLOWLY a harbour"], [21])
    second = _batch(tmp_path, ["a harbour at night"], [22])
    seen: dict[str, float] = {}
    second_render: list[asyncio.Task] = []

    def first_denoised():
        seen["first denoised"] = time.monotonic()
        c.cancel(first.batch_id)  # too late: a denoised batch completes
        second_render.append(asyncio.ensure_future(c.render(
            second, on_progress=lambda step, total: seen.setdefault("second step 1", time.monotonic()))))

    a = await c.render(first, on_denoised=first_denoised)
    seen["first done"] = time.monotonic()
    b = await second_render[0]
    # the second batch's first step ran while the first was still encoding (1.5 s of injected sleep)
    assert seen["first denoised"] < seen["second step 1"] < seen["first done"], seen
    timing = {t.batch_id: t for t in c.timings}
    assert timing[first.batch_id].pipe_ended <= timing[second.batch_id].pipe_started  # never two denoising
    # and both are exactly what a plain render gives
    for result, batch in ((a, first), (b, second)):
        spec = batch.images[0]
        ref = await clients.main.render(_batch(tmp_path, [spec.prompt], [spec.seed]))
        assert np.array_equal(_pixels(result.images[0].path), _pixels(ref.images[0].path))
        assert result.images[0].path == spec.output_path
        assert result.images[0].sha256 == ref.images[0].sha256  # same metadata too


@amark
async def test_a_crash_with_two_batches_in_flight_fails_both_and_the_worker_serves_the_next(clients, tmp_path):
    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    encoding = _batch(tmp_path, ["ENCODEVERYSLOWLY"], [1])
    crashing = _batch(tmp_path, ["CRASHME"], [2])
    second_render: list[asyncio.Task] = []
    first = asyncio.ensure_future(c.render(
        encoding, on_denoised=lambda: second_render.append(asyncio.ensure_future(c.render(crashing)))))
    errors = []
    for task in (first, None):
        with pytest.raises(RenderError) as err:
            await (task or second_render[0])
        errors.append(err.value)
    assert [e.kind for e in errors] == ["crash", "crash"]
    assert c.restarts == restarts + 1 and c.pid != pid and c.info is not None
    assert not Path(encoding.images[0].output_path).exists() and not Path(crashing.images[0].output_path).exists()
    assert (await c.render(_batch(tmp_path, ["fine"], [4]))).images


@amark
async def test_close_during_renders_raises_shutdown_and_keeps_batches_already_denoised(model_dir, fault_hook,
                                                                                      tmp_path):
    c = RendererClient(str(model_dir), device="cpu", step_timeout=60, threads=1,
                       env={FAULTS_ENV: json.dumps(FAULTS)})
    await c.start()
    encoding = _batch(tmp_path, ["ENCODESLOWLY"], [1])
    denoising = _batch(tmp_path, ["SLOWME"], [2], steps=20)
    stepping = asyncio.Event()
    renders: dict[str, asyncio.Task] = {}

    def send_next():
        renders["denoising"] = asyncio.ensure_future(c.render(denoising, on_progress=lambda s, t: stepping.set()))

    renders["encoding"] = asyncio.ensure_future(c.render(encoding, on_denoised=send_next))
    try:
        await asyncio.wait_for(stepping.wait(), 60)
    finally:
        await c.close()
    with pytest.raises(RenderError) as err:
        await renders["denoising"]
    assert err.value.kind == "shutdown"
    done = await renders["encoding"]  # denoised before close(): the worker finished encoding it
    assert Path(done.images[0].path).is_file()
    assert not Path(denoising.images[0].output_path).exists()
    with pytest.raises(RenderError) as err:
        await c.render(_batch(tmp_path, ["late"], [3]))
    assert err.value.kind == "shutdown"
    assert not c.running


@amark
async def test_load_failure_raises_render_error(tmp_path):
    c = RendererClient(str(tmp_path / "no-such-model"), device="cpu", load_timeout=120)
    try:
        with pytest.raises(RenderError) as err:
            await c.start()
        assert err.value.kind == "error"
        assert c.info is None and not c.running
    finally:
        await c.close()


# ------------------------------------------------------------------ no torch in the bot process


def test_main_process_never_imports_torch():
    code = ("import bot.renderer, bot.renderer.client, bot.renderer.profiles, bot.renderer.pngmeta, "
            "bot.renderer.provenance, bot.verify_cli, "
            "bot.renderer.worker, bot.renderer.render, bot.renderer.pool, bot.renderer.storage, "
            "bot.renderer.tiny, sys; "
            "print('torch' in sys.modules, 'diffusers' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"]


# ------------------------------------------------------------------ pure helpers


def test_pngmeta_format_and_parse():
    text = pngmeta.format_parameters("a cat", "", 20, "EulerDiscreteScheduler", 7, 42, 512, 512, "sdxl")
    assert text == ("a cat\n"
                    "Steps: 20, Sampler: EulerDiscreteScheduler, CFG scale: 7.0, Seed: 42, Size: 512x512, Model: sdxl")
    tricky = pngmeta.format_parameters("line one\nline: two, ü ✓", "no\nthanks", 3, "S", 0.1 + 0.2, 2**32 - 1,
                                       72, 48, 'C:\\models\\my, "model"')
    parsed = pngmeta.parse_parameters(tricky)
    assert parsed["prompt"] == "line one\nline: two, ü ✓"
    assert parsed["negative_prompt"] == "no\nthanks"
    assert parsed["cfg_scale"] == 0.3 and parsed["seed"] == 2**32 - 1
    assert (parsed["width"], parsed["height"], parsed["model"]) == (72, 48, 'C:\\models\\my, "model"')


def test_save_png_is_atomic_and_hashes(tmp_path):
    import hashlib

    target = tmp_path / "a" / "b" / "img.png"
    digest = pngmeta.save_png(Image.new("RGB", (8, 8), (1, 2, 3)), target,
                              "prompt ✓\nSteps: 1, Sampler: s, CFG scale: 1.0")
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    assert pngmeta.read_parameters(target).startswith("prompt ✓")
    assert [p.name for p in target.parent.iterdir()] == ["img.png"]


def test_store_encoded_writes_each_image_to_its_spec_and_refuses_a_mismatch(tmp_path):
    import dataclasses
    import hashlib

    from bot.models import EncodedImage
    from bot.renderer.storage import store_encoded

    batch = _batch(tmp_path / "out", ["a", "b"], [1, 2])
    pngs = [pngmeta.png_bytes(Image.new("RGB", (8, 8), (i, 0, 0)), f"p{i}") for i in range(2)]
    encoded = [EncodedImage(batch.batch_id, i, 1 + i, data, hashlib.sha256(data).hexdigest(), 8, 8)
               for i, data in enumerate(pngs)]
    stored = store_encoded(batch, list(reversed(encoded)))  # matched by (job, index), not by order
    assert [(img.index, img.path) for img in stored] == [(i, s.output_path) for i, s in enumerate(batch.images)]
    assert [Path(img.path).read_bytes() for img in stored] == pngs
    assert not list((tmp_path / "out").glob(".*.tmp"))
    with pytest.raises(ValueError, match="sha256"):
        store_encoded(batch, [encoded[0], dataclasses.replace(encoded[1], png=pngs[0])])
    with pytest.raises(ValueError):
        store_encoded(batch, encoded[:1])


def test_sizes_for_aspect():
    sdxl, sd15, sd2 = profiles.FAMILIES["sdxl"], profiles.FAMILIES["sd15"], profiles.FAMILIES["sd2"]
    assert profiles.sizes_for_aspect(sdxl, "1:1") == (1024, 1024)
    assert profiles.sizes_for_aspect(sdxl, "3:2") == (1216, 832)
    assert profiles.sizes_for_aspect(sdxl, "2:3") == (832, 1216)
    assert profiles.sizes_for_aspect(sdxl, "16:9") == (1344, 768)
    assert profiles.sizes_for_aspect(sdxl, "9:16") == (768, 1344)
    assert profiles.sizes_for_aspect(sd15, "1:1") == (512, 512)
    assert profiles.sizes_for_aspect(sd15, "3:2") == (624, 416)
    assert profiles.sizes_for_aspect(sd2, "1:1") == (768, 768)
    tiny = profiles.profile_for("StableDiffusionPipeline", 64)
    assert profiles.sizes_for_aspect(tiny, "1:1") == (64, 64)
    assert profiles.sizes_for_aspect(tiny, "3:2") == (72, 48)
    assert profiles.sizes_for_aspect(tiny, "16:9") == (80, 48)
    for prof in [*profiles.FAMILIES.values(), tiny, profiles.profile_for("StableDiffusionPipeline", 8)]:
        for aspect in profiles.ASPECTS:
            w, h = profiles.sizes_for_aspect(prof, aspect)
            assert w % prof.size_multiple == 0 and h % prof.size_multiple == 0
            assert w >= prof.size_multiple and h >= prof.size_multiple
            if prof.default_size >= 64:
                assert 0.8 <= w * h / prof.default_size**2 <= 1.0
    with pytest.raises(ValueError):
        profiles.sizes_for_aspect(sdxl, "4:3")


def test_profile_for():
    p = profiles.profile_for("StableDiffusionPipeline", 512)
    assert (p.family, p.default_size, p.size_multiple, p.default_steps, p.default_guidance) == ("sd15", 512, 8, 25, 7.0)
    assert (p.min_steps, p.max_steps, p.min_guidance, p.max_guidance) == (1, 100, 0.0, 20.0)
    assert p.variation_strength == 0.6
    assert profiles.profile_for("StableDiffusionPipeline", 768).family == "sd2"
    xl = profiles.profile_for("StableDiffusionXLPipeline", 1024)
    assert (xl.family, xl.default_size, xl.default_steps, xl.default_guidance) == ("sdxl", 1024, 30, 6.0)
    sd3 = profiles.profile_for("StableDiffusion3Pipeline", 1024)
    assert (sd3.family, sd3.size_multiple, sd3.default_steps, sd3.default_guidance) == ("sd3", 16, 28, 7.0)
    flux = profiles.profile_for("FluxPipeline", None)
    assert (flux.family, flux.default_size, flux.size_multiple, flux.default_guidance) == ("flux", 1024, 16, 3.5)
    tiny = profiles.profile_for("StableDiffusionPipeline", 64)
    assert (tiny.family, tiny.default_size) == ("sd15", 64)
    assert profiles.profile_for(None, None).family == "sd15"


def test_detect_from_local_folder(model_dir):
    assert profiles.detect_pipeline_class(str(model_dir)) == "StableDiffusionPipeline"
    assert profiles.detect_sample_size(str(model_dir)) == TINY_SIZE
    assert profiles.detect_profile(str(model_dir)).default_size == TINY_SIZE
    assert profiles.detect_pipeline_class("nobody/not-a-cached-model") is None
    assert profiles.detect_sample_size("nobody/not-a-cached-model") is None


# ------------------------------------------------------------------ fp16 weight variant


@pytest.fixture(scope="module")
def fp16_model(tmp_path_factory) -> Path:
    from bot.renderer.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("model") / "tiny-fp16", variant="fp16")


def test_fp16_variant_is_chosen_for_half_precision_when_the_folder_has_fp16_files(fp16_model, model_dir):
    import torch

    from bot.renderer.render import variant_for

    assert {p.name for p in fp16_model.glob("unet/*.safetensors")} == {"diffusion_pytorch_model.fp16.safetensors"}
    assert variant_for(str(fp16_model), torch.float16) == "fp16"
    assert variant_for(str(fp16_model), torch.bfloat16) == "fp16"
    assert variant_for(str(fp16_model), torch.float32) is None
    assert variant_for(str(model_dir), torch.float16) is None  # no fp16 files: the default ones


def test_fp16_variant_of_a_hub_model_is_read_from_its_cached_snapshot(tmp_path, monkeypatch):
    import huggingface_hub.constants
    import torch

    from bot.renderer.render import variant_for

    def cached_repo(name: str, files: list[str]) -> None:
        repo = tmp_path / f"models--pf--{name}"
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text("c0ffee")
        for rel in ["model_index.json", *files]:
            path = repo / "snapshots" / "c0ffee" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")

    cached_repo("with-fp16", ["unet/diffusion_pytorch_model.safetensors",
                              "unet/diffusion_pytorch_model.fp16.safetensors",
                              "text_encoder/model.fp16-00001-of-00002.safetensors"])
    cached_repo("without", ["unet/diffusion_pytorch_model.safetensors"])
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert variant_for("pf/with-fp16", torch.float16) == "fp16"
    assert variant_for("pf/without", torch.float16) is None
    assert variant_for("pf/not-cached", torch.float16) is None  # offline: nobody to ask, default files


def test_fp16_variant_folder_loads_in_half_precision(fp16_model):
    import torch

    from bot.renderer.render import load_pipelines, model_info

    # The folder has ONLY fp16 files: loading without the variant would fail, so this proves it.
    loaded = load_pipelines(str(fp16_model), "cpu", "float16")
    assert loaded.variant == "fp16"
    assert loaded.txt2img.unet.dtype == torch.float16 and loaded.img2img.vae.dtype == torch.float16
    assert model_info(str(fp16_model), loaded).extra["variant"] == "fp16"


@amark
async def test_worker_killed_while_idle_is_restarted_on_next_render(clients, tmp_path):
    import signal

    c = clients.faulty
    pid, restarts = c.pid, c.restarts
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    res = await c.render(_batch(tmp_path, ["fine"], [3]))
    assert res.images and c.pid != pid and c.restarts == restarts + 1
