"""The Ray actor that renders (`RENDERER=ray`): it runs in Ray's worker process, on whichever
machine Ray placed it, loads the model once and streams a batch's progress, "denoised" and encoded
images (the message order is in ray_worker.py's docstring). The bot's side of it, which creates
and drives these actors, is ray_worker.py; only this actor's process imports torch.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
import queue
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from bot.models import ModelInfo, RenderBatch
from bot.renderer.render import short_error

log = logging.getLogger("pixelforge.renderer.ray")

RENDER_SLOTS = 3  # batch n encoding, n+1 denoising, and n+2 sent when n+1 is denoised before n is stored
CONTROL_SLOTS = 2  # cancel + liveness probe
_REMEMBERED_CANCELS = 256


def remember(ids: OrderedDict[int, None], batch_id: int) -> None:
    ids[batch_id] = None
    while len(ids) > _REMEMBERED_CANCELS:
        ids.popitem(last=False)


# ---------------------------------------------------------------- the actor (a Ray worker process)

class RenderActor:
    """Holds the loaded pipelines; runs on whichever machine Ray placed it."""

    def __init__(self, model: str, device: str, dtype: str, cpu_workers: int = 0):
        self._model = model
        self._incarnation = uuid.uuid4().hex  # lets the bot notice that Ray restarted this actor
        self._cancelled: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()
        # One batch denoises at a time: the pipelines share one scheduler whose step counter a second
        # concurrent call would corrupt. Encoding (outside this lock) overlaps the next denoise.
        self._denoise_lock = threading.Lock()
        self._loaded: Any = None
        self._info: ModelInfo | None = None
        self._error: str | None = None
        try:
            from bot.renderer import render

            render.check_local_path(model)  # a typo fails before torch is imported
            if cpu_workers:
                import torch

                # Ray sets OMP_NUM_THREADS=1 in its workers; a CPU renderer gets its share of the cores.
                torch.set_num_threads(max(1, (os.cpu_count() or 1) // cpu_workers))
            from bot.renderer.model_cache import ModelCache

            self._loaded = render.load_pipelines(model, device, dtype)
            self._info = render.model_info(model, self._loaded)
            # IMAGE_MODELS: other models as batches ask, MODEL_CACHE_SIZE of them (model_cache.py)
            self._models = ModelCache.from_env(lambda source: render.load_pipelines(source, device, dtype))
            self._models.add(model, self._loaded)
            self._loaded = None  # the cache holds the only reference: eviction frees the weights
        except Exception as exc:  # reported through info(): an __init__ that raises ends the actor for good
            log.exception("could not load %s", model)
            self._error = short_error(exc, 500)

    def info(self) -> tuple[str, ModelInfo | None, str | None]:
        return self._incarnation, self._info, self._error

    def cancel(self, batch_id: int) -> None:
        # May arrive before the render call (calls in different concurrency groups are not ordered).
        with self._lock:
            remember(self._cancelled, batch_id)

    def render(self, batch: RenderBatch, init_images: dict[str, bytes]):
        """Streaming generator (num_returns="streaming"), see the module docstring."""
        try:
            yield from self._render(batch, init_images)
        finally:
            with self._lock:
                self._cancelled.pop(batch.batch_id, None)

    def _render(self, batch: RenderBatch, init_images: dict[str, bytes]):
        from bot.renderer import render

        if self._info is None:
            yield ("error", "error", self._error or "the model is not loaded")
            return
        bid = batch.batch_id
        events: queue.Queue = queue.Queue()
        steps = [0]

        def on_step(step: int, total: int) -> None:
            steps[0] = step
            events.put(("progress", step, total))

        with tempfile.TemporaryDirectory(prefix="pixelforge-ray-") as tmp:
            local_batch = _localize_init_images(batch, init_images, Path(tmp))

            def denoise() -> None:
                # In a thread of its own, so that this generator yields progress while the pipeline runs.
                try:
                    with self._denoise_lock:
                        loaded, prepared = self._models.prepare(local_batch, self._model)
                        images = render.render_batch(loaded, prepared, on_step, lambda: bid in self._cancelled)
                    events.put(("denoised", images, prepared, loaded.scheduler_name, loaded.device))
                except BaseException as exc:  # noqa: B036 - handed to the generator below
                    events.put(("failed", exc))

            t0 = time.perf_counter()
            threading.Thread(target=denoise, name=f"denoise-{bid}", daemon=True).start()
            while (event := events.get())[0] == "progress":
                yield event
        t_pipe = time.perf_counter() - t0
        if event[0] == "failed":
            kind, message = _classify(render, event[1])
            event = None  # the exception's traceback holds the failed call's tensors: drop it first
            if kind == "oom":
                render.free_memory(self._info.device if self._info else "cpu")
            yield ("error", kind, message)
            return
        images, prepared, sampler, event = event[1], event[2], event[3], None
        yield ("denoised",)
        try:
            done = self._models.finish(dataclasses.replace(batch, model_source=prepared.model_source,
                                                            loras=prepared.loras))
            encoded = render.encode_batch(done, images, sampler, self._model)
        except Exception as exc:
            log.exception("encoding batch %s failed", bid)
            yield ("error", "error", short_error(exc))
            return
        sps = steps[0] / t_pipe if t_pipe > 0 else 0.0
        yield ("images", tuple(encoded), time.perf_counter() - t0, sps)


def _classify(render: Any, exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, render.Cancelled):
        return "cancelled", "cancelled"
    if render.is_oom(exc):
        return "oom", short_error(exc) or "out of memory"
    log.error("batch failed", exc_info=exc)
    return "error", short_error(exc)


def _localize_init_images(batch: RenderBatch, init_images: dict[str, bytes], folder: Path) -> RenderBatch:
    """The batch with its init images pointing at copies (written to `folder`) of the bot's files."""
    if not init_images:
        return batch
    local: dict[str, str] = {}
    for i, (path, data) in enumerate(init_images.items()):
        target = folder / f"init{i}{Path(path).suffix}"
        target.write_bytes(data)
        local[path] = str(target)
    specs = tuple(dataclasses.replace(s, init_image=local.get(s.init_image, s.init_image)) for s in batch.images)  # type: ignore[arg-type]
    return dataclasses.replace(batch, images=specs)


@functools.cache
def actor_class() -> Any:
    import ray

    # Concurrency groups can only be declared here, not in .options().
    return ray.remote(concurrency_groups={"render": RENDER_SLOTS, "control": CONTROL_SLOTS})(RenderActor)  # type: ignore[call-overload]
