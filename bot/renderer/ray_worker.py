"""Renderer workers as Ray actors (`RENDERER=ray`): GPUs of this machine or of others joined with Ray.

The bot keeps admission, fairness, batching, quotas and SQLite; Ray only places and runs renders.
One actor per DEVICES entry loads the model once (in `__init__`, so Ray's own restart after a crash
reloads it) and serves a batch through a streaming-generator method that yields, in order:

    ("progress", step, total)                  after every denoising step
    ("denoised",)                              right after the pipeline call (denoise + VAE decode)
    ("images", encoded, seconds, steps_per_s)  the EncodedImages (PNG bytes + parameters chunk)
    or ("error", kind, message)                kind: "cancelled" | "oom" | "error"

On "denoised" the dispatcher may send the next batch while this one is still encoding: the actor is
threaded (a "render" concurrency group of 3 threads), so encoding batch n overlaps denoising batch
n+1. Cancel and liveness probes use a "control" group and never wait behind a render.

The actor may run on another machine: init images travel as bytes, finished images come back as PNG
bytes and are written on the bot's machine (storage.store_encoded, in a thread). The bot's process
imports ray only inside functions (it is an extra) and never torch: only the actor's process does.
The actor itself: ray_actor.py. Connecting to Ray and placing the actors: ray_cluster.py; when a
batch counts as hung: watchdog.py.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import RenderError
from bot.models import ModelInfo, RenderBatch, RenderResult
from bot.renderer import watchdog
from bot.renderer.ray_actor import actor_class, remember
from bot.renderer.ray_cluster import Placement, RaySession, connect, placements
from bot.renderer.render import short_error

log = logging.getLogger("pixelforge.renderer.ray")

LOAD_TIMEOUT = 1800.0  # a worker machine's first download of a large model takes minutes
_RETRY_DELAY = 0.2
def _read_init_images(batch: RenderBatch) -> dict[str, bytes]:
    return {p: Path(p).read_bytes() for p in sorted({s.init_image for s in batch.images if s.init_image})}


# ---------------------------------------------------------------- the bot's side

class _NoProgress(Exception):
    pass


class RayRenderWorker:
    """One Ray actor behind the RenderWorker protocol of bot/renderer/pool.py."""

    def __init__(self, name: str, model: str, dtype: str, placement: Placement, step_timeout: float,
                 session: RaySession, env: dict | None = None, load_timeout: float = LOAD_TIMEOUT,
                 encode_timeout: float = watchdog.DEFAULT_ENCODE_TIMEOUT):
        self.name = name
        self.info: ModelInfo | None = None
        self.restarts = 0
        self.step_timeout = float(step_timeout)
        self.encode_timeout = float(encode_timeout)
        self.load_timeout = float(load_timeout)
        self._model, self._dtype, self._placement = model, dtype, placement
        self._env = {str(k): str(v) for k, v in (env or {}).items()}
        self._session = session
        self._actor: Any = None
        self._incarnation: str | None = None
        self._generation = 0  # one per actor life: overlapping batches count one death once
        self._recovery: asyncio.Future | None = None
        self._in_flight: dict[int, str] = {}  # batch id -> "sending" | "denoising" | "encoding"
        self._cancel_first: OrderedDict[int, None] = OrderedDict()  # cancelled before being sent
        self._closed = False
        session.open_workers += 1

    # ------------------------------------------------------------ life cycle

    def _create_actor(self) -> Any:
        p = self._placement
        options: dict[str, Any] = {"num_cpus": p.num_cpus, "num_gpus": p.num_gpus,
                                   "max_restarts": -1, "max_task_retries": 0}
        if self._env:  # set before the actor's process imports anything (HF_HUB_OFFLINE, ...)
            options["runtime_env"] = {"env_vars": self._env}
        return actor_class().options(**options).remote(self._model, p.device, self._dtype, p.cpu_workers)

    def _check_open(self) -> None:
        if self._closed:
            raise RenderError("shutdown", f"{self.name} is closed")

    async def start(self) -> ModelInfo:
        """Create the actor if needed and wait until it has loaded the model."""
        self._check_open()
        if self._actor is None:
            self._actor = self._create_actor()
        return await self._await_loaded()

    async def _await_loaded(self, killed: str | None = None) -> ModelInfo:
        """Probe the actor until it answers with its model. A restarting actor is unreachable for a
        moment (ActorUnavailableError), then Ray queues calls until its __init__ has run. `killed`:
        the incarnation just killed here, which may still answer until the kill has landed."""
        from ray.exceptions import ActorDiedError, ActorUnavailableError

        deadline = time.monotonic() + self.load_timeout
        recreated = False
        while True:
            self._check_open()
            try:
                probe = self._actor.info.options(concurrency_group="control").remote()
                incarnation, info, error = await asyncio.wait_for(probe, max(0.1, deadline - time.monotonic()))
                if incarnation != killed:
                    break
            except ActorUnavailableError:
                pass
            except ActorDiedError as exc:  # dead for good: `ray kill` by an operator, or its node left
                self._check_open()
                if recreated:
                    raise RenderError("error", f"{self.name}: the Ray actor is dead: {short_error(exc)}") from None
                log.error("%s: the Ray actor is dead; creating a new one", self.name)
                self._actor, recreated = self._create_actor(), True
            except asyncio.TimeoutError:
                raise RenderError("error", f"{self.name} did not load the model within {self.load_timeout:.0f} s") \
                    from None
            if time.monotonic() > deadline:
                raise RenderError("error", f"{self.name} did not come back within {self.load_timeout:.0f} s")
            await asyncio.sleep(_RETRY_DELAY)
        if info is None:  # type: ignore[possibly-undefined]
            raise RenderError("error", f"{self.name} could not load {self._model}: {error}")  # type: ignore[possibly-undefined]
        if self._incarnation is not None and incarnation != self._incarnation:  # type: ignore[possibly-undefined]
            self.restarts += 1
            log.warning("%s: the Ray actor was restarted (%d restarts)", self.name, self.restarts)
        self._incarnation, self.info = incarnation, info
        return info

    def _on_death(self, generation: int, *, kill: bool) -> asyncio.Future:
        """One recovery per death of the actor (killed here first for a hang), shared by its batches."""
        if generation == self._generation or self._recovery is None:
            self._generation += 1
            self.info = None
            killed = None
            if kill and self._actor is not None:
                import ray

                ray.kill(self._actor, no_restart=False)  # ends the process; Ray starts a new one
                killed = self._incarnation
            self._recovery = asyncio.ensure_future(self._await_loaded(killed))
            self._recovery.add_done_callback(_retrieve)
        return self._recovery

    async def _ready(self) -> int:
        """Wait for any recovery, then make sure the actor is up (one round trip, which also
        notices a restart that happened while the worker was idle). Returns its generation."""
        if self._recovery is not None and not self._recovery.done():
            await asyncio.wait({self._recovery})
        await (self.start() if self._actor is None or self.info is None else self._await_loaded())
        return self._generation

    async def close(self) -> None:
        """Kill the actor; a render in flight raises RenderError("shutdown"). Idempotent."""
        if self._closed:
            return
        self._closed = True
        actor, self._actor, self.info = self._actor, None, None
        import ray

        if actor is not None:
            try:
                ray.kill(actor, no_restart=True)
            except Exception as exc:  # Ray itself is already gone
                log.debug("%s: kill at close: %s", self.name, exc)
        self._session.open_workers -= 1
        if self._session.owned and self._session.open_workers == 0 and ray.is_initialized():
            await asyncio.to_thread(ray.shutdown)

    # ------------------------------------------------------------ rendering

    def cancel(self, batch_id: int) -> None:
        """Stop `batch_id` at its next denoising step; also works just before it is sent. A batch
        that is already denoised is not cancellable any more: its render completes."""
        stage = self._in_flight.get(batch_id)
        if stage is None or stage == "sending":
            remember(self._cancel_first, batch_id)
        elif stage == "denoising" and self._actor is not None:
            self._actor.cancel.options(concurrency_group="control").remote(batch_id)

    async def render(self, batch: RenderBatch, on_progress: Callable[[int, int], None] | None = None,
                     on_denoised: Callable[[], None] | None = None, *,
                     on_preview: Callable[[int, dict[int, bytes]], None] | None = None) -> RenderResult:
        """Raises RenderError: "cancelled", "oom", "error" (worker kept), "crash" (the actor died;
        it is back before this raises), "hang" (watchdog.py: killed, back, raised),
        "shutdown" (close() was called). `on_preview` is never called: the actor sends no live
        previews (the progress message shows text only)."""
        bid = batch.batch_id
        self._check_open()
        self._in_flight[bid] = "sending"
        try:
            return await self._render(batch, on_progress, on_denoised)
        finally:
            self._in_flight.pop(bid, None)
            self._cancel_first.pop(bid, None)

    async def _render(self, batch: RenderBatch, on_progress, on_denoised) -> RenderResult:
        from ray.exceptions import RayActorError, RayError

        bid = batch.batch_id
        generation = await self._ready()
        init_images = await asyncio.to_thread(_read_init_images, batch)
        if bid in self._cancel_first:
            raise RenderError("cancelled", "cancelled")
        stream = self._actor.render.options(num_returns="streaming", concurrency_group="render") \
            .remote(batch, init_images)
        self._in_flight[bid] = "denoising"
        try:
            while (item := await self._next(stream, bid)) is not None and item[0] != "images":
                if item[0] == "progress":
                    _call(on_progress, item[1], item[2])
                elif item[0] == "denoised":
                    self._in_flight[bid] = "encoding"
                    _call(on_denoised)
                elif item[0] == "error":
                    raise RenderError(item[1], item[2])
        except _NoProgress:
            self._check_open()
            hang = watchdog.hang_error(self._in_flight[bid] == "encoding", self.step_timeout, self.encode_timeout)
            log.error("%s hung on batch %s (%s): killing it", self.name, bid, hang.message)
            await self._wait_recovery(self._on_death(generation, kill=True))
            raise hang from None
        except RayActorError as exc:
            if self._closed:
                raise RenderError("shutdown", f"{self.name} was closed during the batch") from None
            log.error("%s: the Ray actor died during batch %s: %s", self.name, bid, short_error(exc))
            await self._wait_recovery(self._on_death(generation, kill=False))
            raise RenderError("crash", f"the Ray actor died: {short_error(exc, 200)}") from None
        except RayError as exc:  # an argument that does not pickle, a lost object, ...
            raise RenderError("error", short_error(exc)) from None
        except asyncio.CancelledError:
            self.cancel(bid)  # our caller gave up: let the actor drop the batch
            raise
        if item is None:
            raise RenderError("error", "the renderer ended the batch without images")
        _, encoded, seconds, sps = item
        try:
            images = await asyncio.to_thread(_store, batch, encoded)
        except (OSError, ValueError) as exc:  # disk full, or images that do not match their batch
            raise RenderError("error", f"could not store the images: {short_error(exc)}") from None
        return RenderResult(bid, tuple(images), seconds, steps_per_second=sps)

    async def _next(self, stream, bid: int) -> tuple | None:
        """The stream's next item, None at its end; _NoProgress when the batch's stage limit passes
        without one (the actor encodes right after "denoised", in the same thread: no queue)."""
        async def pull():
            try:
                ref = await stream.__anext__()
            except StopAsyncIteration:
                return None
            return await ref

        task = asyncio.ensure_future(pull())
        try:
            encoding = self._in_flight[bid] == "encoding"
            done, _ = await asyncio.wait({task}, timeout=self.encode_timeout if encoding else self.step_timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.add_done_callback(_retrieve)  # it fails once the actor is killed
            raise _NoProgress()
        return task.result()

    async def _wait_recovery(self, recovery: asyncio.Future) -> None:
        await asyncio.wait({recovery})
        self._check_open()  # closed meanwhile: "shutdown" (requeued) rather than crash or hang
        if not recovery.cancelled() and recovery.exception() is not None:
            log.error("%s: restart failed: %s (retried at the next render)", self.name, recovery.exception())


def _store(batch: RenderBatch, encoded) -> tuple:
    from bot.renderer import storage

    return storage.store_encoded(batch, encoded)


def _call(callback: Callable | None, *args: Any) -> None:
    if callback is not None:
        try:
            callback(*args)
        except Exception:
            log.exception("render callback failed")


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


# ---------------------------------------------------------------- building the workers

def build_ray_workers(model: str, devices: list[str], dtype: str = "auto", step_timeout: float = 120.0, *,
                      encode_timeout: float = watchdog.DEFAULT_ENCODE_TIMEOUT,
                      ray_address: str | None = None, env: dict | None = None,
                      load_timeout: float = LOAD_TIMEOUT) -> list[RayRenderWorker]:
    """One RayRenderWorker per devices entry; `await worker.start()` creates its actor.

    Blocks in ray.init (about 2 s for a local Ray, see the README): call it at start-up."""
    session = connect(ray_address)
    import ray

    gpus = float(ray.cluster_resources().get("GPU", 0))
    planned = placements(devices, gpus)
    needed = sum(p.num_gpus for p in planned)
    if needed > gpus:
        log.warning("DEVICES asks for %d GPUs, the Ray cluster has %g: the others wait for GPUs to join",
                    needed, gpus)
    return [RayRenderWorker(f"ray#{i}", model, dtype, p, step_timeout, session, env=env, load_timeout=load_timeout,
                            encode_timeout=encode_timeout)
            for i, p in enumerate(planned)]
