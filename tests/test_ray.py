"""Ray renderer workers (RENDERER=ray): two CPU actors on a local Ray started by this module.

Every Ray server here listens on 127.0.0.1 only: RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 must be in the
environment before ray is imported (Ray reads it once, at import), else a "local" Ray binds to the
machine's network address. An auth token in the environment keeps Ray from writing ~/.ray/auth_token.
Faults (crash, OOM, hang, slow encoding) come from tests/faults/sitecustomize.py, which Ray's worker
processes load because the raylet started here inherits a PYTHONPATH that holds it. The module is
skipped where the `ray` extra is not installed.
"""
from __future__ import annotations

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from PIL import Image  # noqa: E402

ray = pytest.importorskip("ray")

from bot.errors import RenderError  # noqa: E402
from bot.models import ImageSpec, JobTask, RenderBatch  # noqa: E402
from bot.renderer import pngmeta  # noqa: E402
from bot.renderer.pool import RenderWorker, build_pool  # noqa: E402
from bot.renderer.ray_actor import _localize_init_images  # noqa: E402
from bot.renderer.ray_cluster import placements  # noqa: E402
from bot.renderer.ray_worker import RayRenderWorker  # noqa: E402
from bot.renderer.tiny import TINY_SIZE, TINY_STEPS  # noqa: E402
from tests.faults import FAULTS_ENV, fault_hook_in_environ  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
amark = pytest.mark.asyncio(loop_scope="module")

FAULTS = {"CRASHME": "crash", "OOMME": "oom", "HANGME": "hang", "SLOWENCODE": "slowencode:1.5",
          "ENCODEHANGS": "hangencode"}

_ids = iter(range(5000, 10**9))


def _batch(out: Path, prompts, seeds, *, steps=TINY_STEPS, negative="", guidance=7.0) -> RenderBatch:
    bid = next(_ids)
    specs = tuple(
        ImageSpec(job_id=bid, index=i, prompt=p, negative_prompt=negative, seed=s,
                  output_path=str(out / f"b{bid}_{i}.png"))
        for i, (p, s) in enumerate(zip(prompts, seeds, strict=True))
    )
    return RenderBatch(batch_id=bid, width=TINY_SIZE, height=TINY_SIZE, steps=steps, guidance=guidance,
                       images=specs, model_label="tiny-sd")


def _pixels(image_or_path) -> np.ndarray:
    if isinstance(image_or_path, str):
        with Image.open(image_or_path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.int16)
    return np.asarray(image_or_path.convert("RGB"), dtype=np.int16)


async def _until_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} still runs after {timeout} s")


@pytest.fixture(scope="module")
def local_ray():
    saved_token = os.environ.get("RAY_AUTH_TOKEN")
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    # Ray's worker processes inherit the environment of the raylet started here, so they load
    # tests/faults/sitecustomize.py; the faults themselves come with the workers' env.
    with fault_hook_in_environ():
        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
        print(f"ray.init: {time.perf_counter() - t0:.1f} s")
        try:
            yield ray
        finally:
            ray.shutdown()
            if saved_token is None:
                os.environ.pop("RAY_AUTH_TOKEN", None)
            else:
                os.environ["RAY_AUTH_TOKEN"] = saved_token


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def workers(local_ray, tiny_model):
    # env reaches the actors through a Ray runtime_env, as the bot passes its renderer environment.
    env = {FAULTS_ENV: json.dumps(FAULTS), "HF_HUB_OFFLINE": "1"}
    # The way the bot builds them; Ray is already initialized here, so the workers join this one.
    pool = build_pool(str(tiny_model), ["cpu", "cpu"], "float32", 60.0, renderer="ray", env=env)
    t0 = time.perf_counter()
    await pool.start()
    print(f"two actors loaded: {time.perf_counter() - t0:.1f} s")
    try:
        yield pool.workers
    finally:
        await pool.close()


def test_every_ray_server_is_on_loopback(local_ray):
    nodes = ray.nodes()
    assert nodes and all(n["NodeManagerAddress"] == "127.0.0.1" for n in nodes), nodes
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")


def _inside(actor) -> dict:
    def look(_self) -> dict:
        import torch

        import bot

        return {"bot": bot.__file__, "env": os.environ.get("HF_HUB_OFFLINE"), "threads": torch.get_num_threads()}

    return ray.get(actor.__ray_call__.remote(look), timeout=60)


@amark
async def test_actors_run_this_checkout_with_the_given_env_and_their_share_of_cores(workers, tiny_model):
    for w in workers:
        seen = _inside(w._actor)
        # The venv may hold an editable install of another checkout: the actors must run this one.
        assert Path(seen["bot"]).resolve().parent.parent == ROOT
        assert seen["env"] == "1"  # build_ray_workers(env=...) reached the actor before it imported torch
        assert seen["threads"] == max(1, (os.cpu_count() or 1) // 2)  # two CPU workers share the cores
        assert w.info is not None and w.info.device == "cpu"
        assert w.info.model == str(tiny_model) and w.info.pipeline_class == "StableDiffusionPipeline"
    assert workers[0].info.extra["pid"] != workers[1].info.extra["pid"]
    assert [w.name for w in workers] == ["ray#0", "ray#1"]
    assert all(isinstance(w, RayRenderWorker) and isinstance(w, RenderWorker) for w in workers)


@amark
async def test_ray_render_equals_a_local_render_and_carries_parameters(workers, tiny_model, tmp_path):
    from bot.renderer import render

    b = _batch(tmp_path, ["a castle, at dusk", "a red fox"], [123456, 7], negative="blurry")
    result = await workers[0].render(b)
    assert result.batch_id == b.batch_id and len(result.images) == 2 and result.seconds > 0

    loaded = render.load_pipelines(str(tiny_model), "cpu", "float32")
    local = render.render_batch(loaded, b)
    for spec, img, ref in zip(b.images, result.images, local, strict=True):
        assert img.path == spec.output_path and (img.width, img.height) == (TINY_SIZE, TINY_SIZE)
        assert hashlib.sha256(Path(img.path).read_bytes()).hexdigest() == img.sha256
        # Same seed, same pixels: only float summation order (torch threads) may differ.
        diff = np.abs(_pixels(img.path) - _pixels(ref))
        assert diff.max() <= 2 and diff.mean() < 0.1, (diff.max(), diff.mean())
        params = pngmeta.parse_parameters(pngmeta.read_parameters(img.path))
        assert params["prompt"] == spec.prompt and params["negative_prompt"] == "blurry"
        assert (params["seed"], params["steps"], params["model"]) == (spec.seed, TINY_STEPS, "tiny-sd")
    assert np.abs(_pixels(result.images[0].path) - _pixels(result.images[1].path)).max() > 0


@amark
async def test_progress_arrives_every_step_then_denoised_then_the_result(workers, tmp_path):
    events: list = []
    loop_thread = asyncio.get_running_loop()

    def on_progress(step, total):
        assert asyncio.get_running_loop() is loop_thread  # callbacks run on the event loop
        events.append((step, total))

    result = await workers[1].render(_batch(tmp_path, ["p"], [1], steps=5), on_progress=on_progress,
                                     on_denoised=lambda: events.append("denoised"))
    assert events == [(i, 5) for i in range(1, 6)] + ["denoised"]
    assert Path(result.images[0].path).is_file()


@amark
async def test_two_workers_render_at_the_same_time(workers, tmp_path):
    spans: dict[int, list[float]] = {0: [], 1: []}

    async def one(i: int):
        def on_progress(step, total):
            spans[i].append(time.monotonic())
        return await workers[i].render(_batch(tmp_path, [f"w{i}"], [i], steps=12), on_progress=on_progress)

    r0, r1 = await asyncio.gather(one(0), one(1))
    assert len(spans[0]) == len(spans[1]) == 12
    # Each worker was still denoising when the other one had started: the intervals overlap.
    assert spans[0][0] < spans[1][-1] and spans[1][0] < spans[0][-1], spans
    assert Path(r0.images[0].path).is_file() and Path(r1.images[0].path).is_file()


@amark
async def test_next_batch_sent_on_denoised_renders_while_the_first_still_encodes(workers, tmp_path):
    w = workers[0]
    first = _batch(tmp_path, ["SLOWENCODE one"], [1])  # its PNG encoding takes 1.5 s
    second = _batch(tmp_path, ["two"], [2])
    done: list[str] = []
    started: list[asyncio.Task] = []

    async def render_second():
        result = await w.render(second)
        done.append("second")
        return result

    r1 = await w.render(first, on_denoised=lambda: started.append(asyncio.ensure_future(render_second())))
    done.append("first")
    r2 = await started[0]
    # The second batch denoised, encoded and was stored while the first was still encoding.
    assert done == ["second", "first"]
    assert (r1.batch_id, r2.batch_id) == (first.batch_id, second.batch_id)
    assert Path(r1.images[0].path).is_file() and Path(r2.images[0].path).is_file()


@amark
async def test_two_batches_sent_to_one_worker_at_once_denoise_one_after_the_other(workers, tmp_path):
    # The dispatcher never does this, but a worker must survive it: its pipelines share one
    # scheduler, and two concurrent pipeline calls would corrupt its step counter.
    spans: dict[int, list[float]] = {0: [], 1: []}

    async def one(i: int):
        return await workers[1].render(_batch(tmp_path, [f"same worker {i}"], [20 + i], steps=12),
                                       on_progress=lambda s, t: spans[i].append(time.monotonic()))

    results = await asyncio.gather(one(0), one(1))
    assert all(r.images for r in results) and len(spans[0]) == len(spans[1]) == 12
    first, second = sorted(spans.values())
    assert first[-1] < second[0], spans


@amark
async def test_cancel_stops_the_batch_at_its_next_step_and_the_worker_goes_on(workers, tmp_path):
    w = workers[1]
    b = _batch(tmp_path, ["long"], [3], steps=400)
    steps: list[int] = []

    def on_progress(step, total):
        steps.append(step)
        if step == 2:
            w.cancel(b.batch_id)

    with pytest.raises(RenderError) as err:
        await w.render(b, on_progress=on_progress)
    assert err.value.kind == "cancelled"
    assert 2 <= len(steps) < 400
    assert not Path(b.images[0].output_path).exists()
    assert (await w.render(_batch(tmp_path, ["after"], [4]))).images


@amark
async def test_cancel_before_render_never_renders(workers, tmp_path):
    b = _batch(tmp_path, ["never"], [5])
    workers[0].cancel(b.batch_id)
    seen: list = []
    with pytest.raises(RenderError) as err:
        await workers[0].render(b, on_progress=lambda s, t: seen.append(s))
    assert err.value.kind == "cancelled" and seen == []


@amark
async def test_actor_killed_mid_render_gives_crash_and_the_worker_serves_again(workers, tmp_path):
    w, other = workers
    before_pid, before_restarts = w.info.extra["pid"], w.restarts

    def kill_at_first_step(step, total):
        if step == 1:
            ray.kill(w._actor, no_restart=False)  # what a segfault or the OOM killer looks like to Ray

    meanwhile = asyncio.ensure_future(other.render(_batch(tmp_path, ["bystander"], [6], steps=8)))
    with pytest.raises(RenderError) as err:
        await w.render(_batch(tmp_path, ["doomed"], [7], steps=400), on_progress=kill_at_first_step)
    assert err.value.kind == "crash"
    # Raised only once the actor was back and had reloaded the model.
    assert w.restarts == before_restarts + 1 and w.info is not None
    assert w.info.extra["pid"] != before_pid
    assert (await meanwhile).images  # the other worker was not disturbed
    assert (await w.render(_batch(tmp_path, ["again"], [8]))).images


@amark
async def test_actor_that_died_while_idle_is_restarted_before_the_next_batch(workers, tmp_path):
    w = workers[0]
    before_pid, before_restarts = w.info.extra["pid"], w.restarts
    ray.kill(w._actor, no_restart=False)
    await _until_gone(before_pid)  # dead before the next batch comes (else that batch is the one that crashes)
    result = await w.render(_batch(tmp_path, ["after an idle death"], [11]))
    assert result.images and w.restarts == before_restarts + 1 and w.info.extra["pid"] != before_pid


@amark
async def test_actor_killed_for_good_is_replaced_by_a_new_one(workers, tmp_path):
    w = workers[0]
    old_actor, pid, before_restarts = w._actor, w.info.extra["pid"], w.restarts
    ray.kill(old_actor, no_restart=True)  # what `ray kill` by an operator, or a lost node, leaves
    await _until_gone(pid)
    result = await w.render(_batch(tmp_path, ["on a new actor"], [12]))
    assert result.images and w.restarts == before_restarts + 1 and w._actor is not old_actor


@amark
async def test_a_hung_actor_is_killed_restarted_and_reported_as_hang(workers, tmp_path):
    w = workers[0]
    pid, before_restarts, saved_timeout = w.info.extra["pid"], w.restarts, w.step_timeout
    w.step_timeout = 1.5
    try:
        t0 = time.monotonic()
        with pytest.raises(RenderError) as err:
            await w.render(_batch(tmp_path, ["HANGME"], [13]))
        assert err.value.kind == "hang" and time.monotonic() - t0 >= 1.5
    finally:
        w.step_timeout = saved_timeout
    assert w.restarts == before_restarts + 1 and w.info.extra["pid"] != pid
    assert (await w.render(_batch(tmp_path, ["after the hang"], [14]))).images


@amark
async def test_an_actor_whose_encode_never_returns_is_a_hang_and_is_replaced(workers, tmp_path):
    w = workers[0]
    pid, before_restarts, saved_timeout = w.info.extra["pid"], w.restarts, w.encode_timeout
    w.encode_timeout = 1.5
    try:
        t0 = time.monotonic()
        with pytest.raises(RenderError) as err:
            await w.render(_batch(tmp_path, ["ENCODEHANGS"], [15]))
        assert err.value.kind == "hang" and "encoding took longer than 1.5 s" in err.value.message
        assert time.monotonic() - t0 >= 1.5
    finally:
        w.encode_timeout = saved_timeout
    assert w.restarts == before_restarts + 1 and w.info.extra["pid"] != pid
    assert (await w.render(_batch(tmp_path, ["after the stuck encode"], [16]))).images


@amark
async def test_a_crashing_actor_gives_crash_and_is_back_before_the_error(workers, tmp_path):
    w = workers[1]
    pid, before_restarts = w.info.extra["pid"], w.restarts
    with pytest.raises(RenderError) as err:
        await w.render(_batch(tmp_path, ["CRASHME"], [16]))  # os._exit(17) after the first step
    assert err.value.kind == "crash"
    assert w.restarts == before_restarts + 1 and w.info is not None and w.info.extra["pid"] != pid
    assert (await w.render(_batch(tmp_path, ["after the crash"], [17]))).images


@amark
async def test_a_crash_fails_every_batch_in_flight_and_counts_one_restart(workers, tmp_path):
    w = workers[1]
    before_restarts = w.restarts
    encoding = _batch(tmp_path, ["SLOWENCODE then a crash"], [24])
    crashing = _batch(tmp_path, ["CRASHME while the other encodes"], [25])
    second: list[asyncio.Task] = []
    with pytest.raises(RenderError) as first_err:
        await w.render(encoding, on_denoised=lambda: second.append(asyncio.ensure_future(w.render(crashing))))
    with pytest.raises(RenderError) as second_err:
        await second[0]
    assert (first_err.value.kind, second_err.value.kind) == ("crash", "crash")
    assert w.restarts == before_restarts + 1 and w.info is not None
    assert (await w.render(_batch(tmp_path, ["after both"], [26]))).images


@amark
async def test_out_of_memory_fails_the_batch_and_keeps_the_actor(workers, tmp_path):
    w = workers[1]
    pid, before_restarts = w.info.extra["pid"], w.restarts
    with pytest.raises(RenderError) as err:
        await w.render(_batch(tmp_path, ["OOMME"], [18]))
    assert err.value.kind == "oom" and "injected out-of-memory" in err.value.message
    assert (await w.render(_batch(tmp_path, ["after the oom"], [19]))).images
    assert w.restarts == before_restarts and w.info.extra["pid"] == pid


@amark
async def test_img2img_ships_the_init_image_and_equals_a_local_render(workers, tiny_model, tmp_path):
    from bot.renderer import render

    init = tmp_path / "init.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 48, 3), dtype=np.uint8)).save(init)
    b = dataclasses.replace(_batch(tmp_path, ["a variation"], [15]), task=JobTask.IMG2IMG, strength=0.6)
    b = dataclasses.replace(b, images=tuple(dataclasses.replace(s, init_image=str(init)) for s in b.images))
    result = await workers[1].render(b)
    local = render.render_batch(render.load_pipelines(str(tiny_model), "cpu", "float32"), b)
    diff = np.abs(_pixels(result.images[0].path) - _pixels(local[0]))
    assert diff.max() <= 2 and diff.mean() < 0.1, (diff.max(), diff.mean())
    assert "Denoising strength: 0.6" in pngmeta.read_parameters(result.images[0].path)


@amark
async def test_an_outpaint_renders_on_an_actor_as_it_does_locally(workers, tiny_model, tmp_path):
    from bot.renderer import render

    init = tmp_path / "source.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(init)
    b = _batch(tmp_path, ["a wider view"], [16])
    b = dataclasses.replace(b, task=JobTask.INPAINT, strength=1.0, edit="pan:left", width=72, height=48,
                            images=tuple(dataclasses.replace(s, init_image=str(init)) for s in b.images))
    result = await workers[1].render(b)
    local = render.render_batch(render.load_pipelines(str(tiny_model), "cpu", "float32"), b)
    assert (result.images[0].width, result.images[0].height) == (72, 48)
    diff = np.abs(_pixels(result.images[0].path) - _pixels(local[0]))
    assert diff.max() <= 2 and diff.mean() < 0.1, (diff.max(), diff.mean())
    assert "Outpaint: panned ⬅ left" in pngmeta.read_parameters(result.images[0].path)


def test_init_images_are_rewritten_to_copies_on_the_actors_machine(tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.jpg"
    specs = tuple(ImageSpec(job_id=1, index=i, prompt="p", negative_prompt="", seed=i, output_path="/out",
                            init_image=str(path)) for i, path in enumerate([first, second, first]))
    batch = RenderBatch(batch_id=1, width=64, height=64, steps=4, guidance=7.0, images=specs, strength=0.5,
                        task=JobTask.IMG2IMG)
    copies = tmp_path / "actor"
    copies.mkdir()
    local = _localize_init_images(batch, {str(first): b"first", str(second): b"second"}, copies)
    paths = [Path(s.init_image) for s in local.images]
    assert all(p.parent == copies for p in paths) and paths[0] == paths[2] != paths[1]
    assert [p.read_bytes() for p in paths] == [b"first", b"second", b"first"]
    assert paths[1].suffix == ".jpg" and local.images[1].seed == 1 and local.strength == 0.5


def test_devices_become_ray_resources():
    cpu = placements(["cpu", "cpu"], cluster_gpus=0)
    assert [(p.device, p.num_gpus, p.num_cpus, p.cpu_workers) for p in cpu] == [("cpu", 0, 1, 2)] * 2
    # With Ray a cuda entry asks for any GPU of the cluster; the actor sees it as "cuda".
    gpu = placements(["cuda:1", "auto", "cpu"], cluster_gpus=2)
    assert [(p.device, p.num_gpus, p.cpu_workers) for p in gpu] == [("cuda", 1, 0), ("cuda", 1, 0), ("cpu", 0, 1)]
    assert [(p.device, p.num_gpus) for p in placements(["auto"], cluster_gpus=0)] == [("cpu", 0)]


def test_importing_the_ray_worker_loads_neither_ray_nor_torch():
    code = ("import sys, bot.renderer.ray_worker; "
            "print(sorted(m for m in ('torch', 'diffusers', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@amark
async def test_close_during_a_render_raises_shutdown(workers, tmp_path):
    # Last: it closes workers[1] (the fixture's close is idempotent).
    w: RayRenderWorker = workers[1]

    def close_at_first_step(step, total):
        if step == 1:
            asyncio.ensure_future(w.close())

    with pytest.raises(RenderError) as err:
        await w.render(_batch(tmp_path, ["interrupted"], [9], steps=400), on_progress=close_at_first_step)
    assert err.value.kind == "shutdown"
    with pytest.raises(RenderError) as err:
        await w.render(_batch(tmp_path, ["closed"], [10]))
    assert err.value.kind == "shutdown"
