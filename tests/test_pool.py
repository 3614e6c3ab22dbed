"""The renderer pool: `cpu,cpu` = two real worker processes on the tiny model (module-scoped, one
event loop), device planning, start-up with failures, and the Ray builder's call contract.

Two renderers on a 2-core machine share the same cores: these tests prove that the workers run at
the same time and fail independently, not that two are faster (that is for GPUs)."""
from __future__ import annotations

import asyncio
import json
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from PIL import Image

from bot.errors import RenderError
from bot.models import ImageSpec, RenderBatch
from bot.renderer.client import RendererClient
from bot.renderer.pool import RendererPool, RenderWorker, build_pool, plan_local_devices
from bot.renderer.tiny import TINY_SIZE
from tests.faults import FAULTS_ENV, fault_hook_in_environ

amark = pytest.mark.asyncio(loop_scope="module")

_ids = iter(range(50_000, 10**9))


def _batch(out: Path, prompt: str, seed: int, steps: int = 12) -> RenderBatch:
    bid = next(_ids)
    spec = ImageSpec(job_id=bid, index=0, prompt=prompt, negative_prompt="", seed=seed,
                     output_path=str(out / f"p{bid}.png"))
    return RenderBatch(batch_id=bid, width=TINY_SIZE, height=TINY_SIZE, steps=steps, guidance=7.0, images=(spec,),
                       model_label="tiny-sd")


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(tiny_model):
    with fault_hook_in_environ():
        p = build_pool(str(tiny_model), ["cpu", "cpu"], "float32", step_timeout=60,
                       env={FAULTS_ENV: json.dumps({"CRASHME": "crash", "SLOWME": "slow:0.2"})})
        try:
            await p.start()
            yield p
        finally:
            await p.close()


@amark
async def test_cpu_cpu_is_two_workers_that_share_the_cores(pool):
    assert [w.name for w in pool.workers] == ["cpu#0", "cpu#1"]
    assert all(isinstance(w, RenderWorker) for w in pool.workers)
    assert [w.threads for w in pool.workers] == [max(1, (os.cpu_count() or 1) // 2)] * 2
    pids = {w.info.extra["pid"] for w in pool.workers}
    assert len(pids) == 2 and all(w.info.device == "cpu" for w in pool.workers)


@amark
async def test_two_workers_render_two_batches_at_the_same_time(pool, tmp_path):
    one, two = pool.workers
    a, b = _batch(tmp_path, "a lighthouse", 5), _batch(tmp_path, "a lighthouse", 5)
    ra, rb = await asyncio.gather(one.render(a), two.render(b))
    ta = next(t for t in one.timings if t.batch_id == a.batch_id)
    tb = next(t for t in two.timings if t.batch_id == b.batch_id)
    # their pipeline calls overlap in time (monotonic clock, shared by the processes)
    assert ta.pipe_started < tb.pipe_ended and tb.pipe_started < ta.pipe_ended, (ta, tb)
    # and either worker gives the same pixels for the same seed
    assert np.array_equal(_pixels(ra.images[0].path), _pixels(rb.images[0].path))


@amark
async def test_a_crash_of_one_worker_leaves_the_other_serving(pool, tmp_path):
    one, two = pool.workers
    pid_one, pid_two, restarts_two = one.pid, two.pid, two.restarts
    slow = _batch(tmp_path, "SLOWME a harbour", 7, steps=8)
    results = await asyncio.gather(one.render(_batch(tmp_path, "CRASHME", 1)), two.render(slow),
                                   return_exceptions=True)
    assert isinstance(results[0], RenderError) and results[0].kind == "crash"
    assert Path(results[1].images[0].path).is_file()  # rendered through the other's crash
    assert (two.pid, two.restarts) == (pid_two, restarts_two)
    assert one.pid != pid_one and one.info is not None
    both = await asyncio.gather(one.render(_batch(tmp_path, "fine", 2)), two.render(_batch(tmp_path, "fine", 3)))
    assert all(r.images for r in both)


@amark
async def test_pool_start_reports_the_first_loaded_worker_and_fails_only_if_none_loaded(pool, tmp_path):
    missing = RendererClient(str(tmp_path / "no-such-model"), device="cpu", name="cpu#9")
    try:
        info = await RendererPool([missing, pool.workers[1]]).start()
        assert info == pool.workers[1].info
        with pytest.raises(RenderError) as err:
            await RendererPool([missing]).start()
        assert err.value.kind == "error" and "cpu#9" in err.value.message
    finally:
        await missing.close()


def test_devices_plan_one_worker_per_entry():
    assert plan_local_devices(["auto"]) == [("auto", "auto", None)]
    assert plan_local_devices([]) == [("auto", "auto", None)]
    assert plan_local_devices(["cpu", "cpu", "cpu"], cpu_count=16) == [
        ("cpu#0", "cpu", 5), ("cpu#1", "cpu", 5), ("cpu#2", "cpu", 5)]
    assert plan_local_devices(["cpu"], cpu_count=2) == [("cpu#0", "cpu", 2)]
    assert plan_local_devices(["cpu"] * 3, cpu_count=2) == [(f"cpu#{i}", "cpu", 1) for i in range(3)]
    assert plan_local_devices([" cuda ", "cuda:1"]) == [("cuda:0", "cuda:0", None), ("cuda:1", "cuda:1", None)]
    assert plan_local_devices(["mps"]) == [("mps", "mps", None)]
    for bad in (["auto", "cpu"], ["cuda:0", "cuda"], ["gpu"], ["cuda:x"], ["mps:1"]):
        with pytest.raises(ValueError):
            plan_local_devices(bad)


def test_build_pool_makes_one_local_client_per_device(tiny_model):
    p = build_pool(str(tiny_model), ["cuda:1", "cpu"], "float16", 30.0, env={"X": "1"}, encode_timeout=7.0)
    assert [(w.name, w.device, w.dtype, w.step_timeout, w.encode_timeout, w.env) for w in p.workers] == [
        ("cuda:1", "cuda:1", "float16", 30.0, 7.0, {"X": "1"}), ("cpu#0", "cpu", "float16", 30.0, 7.0, {"X": "1"})]
    with pytest.raises(ValueError):
        build_pool(str(tiny_model), ["cpu"], renderer="celery")


def test_build_pool_with_ray_asks_the_ray_module_for_its_workers(monkeypatch):
    calls = []

    def build_ray_workers(model, devices, dtype, step_timeout, *, encode_timeout, ray_address=None, env=None):
        calls.append((model, devices, dtype, step_timeout, encode_timeout, ray_address, env))
        return (f"actor{i}" for i in range(len(devices)))

    fake = types.ModuleType("bot.renderer.ray_worker")
    fake.build_ray_workers = build_ray_workers
    monkeypatch.setitem(sys.modules, "bot.renderer.ray_worker", fake)
    p = build_pool("m", ["cuda:0", " cuda:1"], "bfloat16", 9.0, renderer="ray", ray_address="auto", env={"A": "b"},
                   encode_timeout=5.0)
    assert p.workers == ["actor0", "actor1"]
    assert calls == [("m", ["cuda:0", "cuda:1"], "bfloat16", 9.0, 5.0, "auto", {"A": "b"})]
