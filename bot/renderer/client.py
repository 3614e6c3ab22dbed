"""Asyncio side of the local renderer: owns one worker process (no torch import here).

    client = RendererClient("stabilityai/sdxl-turbo", device="cuda:0")
    info = await client.start()
    result = await client.render(batch, on_progress=lambda step, total: ..., on_denoised=...)
    client.cancel(batch.batch_id)   # from another task: the batch stops at its next step
    await client.close()

Overlap: once a batch's `on_denoised` fired (its pipeline call ended), the next `render()` is sent
to the worker while the first batch's PNGs are still being encoded there, so the GPU does not wait
for zlib. At most one batch denoises at a time (a second render() waits for the first's
"denoised"); any number may be encoding. Messages are routed by batch id to per-batch state.

Messages from the worker are read by one daemon thread per worker process doing blocking
`conn.recv()` and handing them to the event loop (`call_soon_threadsafe`) — the loop never blocks,
it works with every event loop (selector, proactor, uvloop), and a dead child shows up at once as
EOFError/OSError on recv ("crash"), independent of the watchdog ("hang": no step for step_timeout
while a batch denoises, or encoding it for longer than encode_timeout, see watchdog.py).

The worker is started with the "spawn" context (fresh interpreter: CUDA cannot be forked). Like any
spawn user, the program's main script must be import-safe (`if __name__ == "__main__":`);
`python -m bot`, console scripts and pytest are. The child gets `env` on top of the parent's
environment before it imports torch.
"""
from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.errors import RenderError
from bot.models import ModelInfo, RenderBatch, RenderResult
from bot.renderer import storage, watchdog
from bot.renderer.inflight import BatchTiming, DenoisedCallback, InFlight, ProgressCallback, call_back
from bot.renderer.worker import EOF, WorkerHandle, worker_main

log = logging.getLogger("pixelforge.renderer")

class RendererClient:
    """Owns the renderer process (a `RenderWorker`, see pool.py); restarts it after a crash or hang."""

    def __init__(
        self,
        model: str,
        device: str = "auto",
        dtype: str = "auto",
        step_timeout: float = 120.0,
        encode_timeout: float = watchdog.DEFAULT_ENCODE_TIMEOUT,
        load_timeout: float = 600.0,
        env: dict | None = None,
        *,
        threads: int | None = None,
        offload: str | None = None,
        encode_inline: bool = False,
        name: str | None = None,
    ):
        self.model = model
        self.device = device
        self.dtype = dtype
        self.step_timeout = float(step_timeout)
        self.encode_timeout = float(encode_timeout)
        self.load_timeout = float(load_timeout)
        self.env = dict(env or {})
        self.threads = threads
        self.offload = offload
        self.encode_inline = encode_inline  # benchmark only: the worker encodes before "denoised"
        self.name = name or device
        self.info: ModelInfo | None = None
        self.restarts = 0
        self.last_start_seconds: float | None = None
        self.timings: deque[BatchTiming] = deque(maxlen=64)
        self._ctx = multiprocessing.get_context("spawn")
        # Shared with every worker generation: the id of the batch to cancel (0 = none).
        self._cancel_value = self._ctx.Value("q", 0, lock=False)
        self._handle: WorkerHandle | None = None
        self._inflight: dict[int, InFlight] = {}
        self._slot = asyncio.Lock()  # held from sending a batch until it is denoised (or ended)
        self._start_lock = asyncio.Lock()
        self._closed = False
        self._tasks: set[asyncio.Task] = set()
        # Kill the child if the bot exits without close(): multiprocessing's own atexit hook would
        # otherwise wait forever for a non-daemon child that is waiting for our next message.
        self._atexit = _kill_at_exit(weakref.ref(self))
        atexit.register(self._atexit)

    # ------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        return self._handle.process.pid if self._handle else None

    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.dead and self._handle.process.is_alive()

    async def start(self) -> ModelInfo:
        """Spawn the worker and wait until the model is loaded. Raises RenderError("error", ...) when
        loading fails, the process dies or load_timeout passes."""
        async with self._start_lock:
            if self._closed:
                raise RenderError("error", "renderer client is closed")
            if self.running and self.info is not None:
                return self.info
            if self._handle is not None:
                await self._stop_handle(self._handle, graceful=False)
            return await self._spawn()

    async def _spawn(self) -> ModelInfo:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        config = {
            "model": self.model,
            "device": self.device,
            "dtype": self.dtype,
            "env": self.env,
            "threads": self.threads,
            "offload": self.offload,
            "encode_inline": self.encode_inline,
        }
        process = self._ctx.Process(target=worker_main, args=(child_conn, self._cancel_value, config),
                                    name=f"pixelforge-renderer-{self.name}",
                                    daemon=False)  # a daemonic process may not start children
        t0 = time.perf_counter()
        await asyncio.to_thread(process.start)
        child_conn.close()  # else our copy keeps the pipe open and EOF never comes when it dies
        handle = WorkerHandle(process, parent_conn, asyncio.get_running_loop(), self._on_message)
        self._handle = handle
        try:
            msg = await asyncio.wait_for(asyncio.shield(handle.ready), self.load_timeout)
        except asyncio.TimeoutError:
            await self._stop_handle(handle, graceful=False)
            raise RenderError("error", f"the model did not load within {self.load_timeout:.0f} s") from None
        except BaseException:
            await self._stop_handle(handle, graceful=False)
            raise
        if msg[0] == "ready":
            self.info = msg[1]
            if self.name == "auto":
                self.name = self.info.device
            self.last_start_seconds = time.perf_counter() - t0
            log.info("renderer %s ready in %.1fs: %s", self.name, self.last_start_seconds, self.info)
            return self.info
        code = await self._stop_handle(handle, graceful=False)
        if msg[0] != "fatal":
            raise RenderError("error", f"the renderer exited while loading (exit code {code})")
        raise RenderError("error", f"could not load model {self.model}: {msg[1]}")

    async def _stop_handle(self, handle: WorkerHandle, graceful: bool, timeout: float = 10.0) -> int | None:
        """Stop this worker (politely if graceful), reap it, close its pipe. Idempotent per handle."""
        if self._handle is handle:
            self._handle = None
        if handle.stop_task is None:
            handle.stop_task = asyncio.get_running_loop().create_task(self._do_stop(handle, graceful, timeout))
        return await asyncio.shield(handle.stop_task)

    async def _do_stop(self, handle: WorkerHandle, graceful: bool, timeout: float) -> int | None:
        # Politely only once loaded: a loading child reads "stop" only after loading (minutes).
        if graceful and handle.ready.done() and handle.process.is_alive() and not handle.dead:
            with contextlib.suppress(Exception):
                handle.conn.send(("stop",))
            code = await asyncio.to_thread(handle.reap, timeout)
            if code is None:
                log.warning("renderer %s did not stop within %.0fs; killing it", self.name, timeout)
        handle.kill()
        code = await asyncio.to_thread(handle.reap, 10.0)
        # The reader thread sees EOF now that the child is gone; then the pipe can be closed.
        await asyncio.to_thread(handle.thread.join, 5.0)
        handle.close_pipe()
        return code

    async def _handle_died(self, handle: WorkerHandle, hung: InFlight | None = None) -> None:
        """The worker died (EOF, or found dead) or hung: fail every batch in flight on it, restart it
        (before any of those renders raises), once per worker process whoever notices first."""
        if handle.death_task is None:
            handle.death_task = asyncio.get_running_loop().create_task(self._died(handle, hung))
        await asyncio.shield(handle.death_task)

    async def _died(self, handle: WorkerHandle, hung: InFlight | None) -> None:
        victims = [st for st in self._inflight.values() if st.handle is handle]
        for st in victims:  # from now on, late messages about them are ignored
            del self._inflight[st.batch.batch_id]
        current = handle is self._handle
        if current:
            self.info = None  # before any await: a render() meanwhile must not trust the old one
        code = await self._stop_handle(handle, graceful=False)
        if current and not self._closed:
            self.restarts += 1
            log.error("renderer %s %s (exit code %s; %d batch(es) in flight): restarting", self.name,
                      "hung" if hung else "died", code, len(victims))
            try:
                await self.start()
            except RenderError as exc:
                log.error("renderer %s restart failed: %s (will retry on the next render)", self.name, exc)
        for st in victims:
            if self._closed:
                error = RenderError("shutdown", "the renderer was shut down")
            elif st is hung:
                error = watchdog.hang_error(st.encoding, self.step_timeout, self.encode_timeout)
            elif hung is not None:
                error = RenderError("crash", f"the renderer was killed because batch {hung.batch.batch_id} hung")
            else:
                error = RenderError("crash", f"the renderer process died (exit code {code})")
            self._finish(st, error=error)

    async def close(self) -> None:
        """Stop the worker (batches still encoding finish first; kill after 10 s). A render in flight
        raises RenderError("shutdown"). Idempotent."""
        self._closed = True
        for st in self._inflight.values():
            if not st.denoised:
                self.cancel(st.batch.batch_id)  # stops at its next step, so "stop" is read soon
        handle = self._handle
        if handle is not None:
            await self._stop_handle(handle, graceful=True)
            if handle.death_task is not None:
                await asyncio.shield(handle.death_task)
        for st in list(self._inflight.values()):
            self._finish(st, error=RenderError("shutdown", "the renderer was shut down"))
        self.info = None
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)

    async def __aenter__(self) -> RendererClient:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ messages

    def _on_message(self, handle: WorkerHandle, msg: tuple) -> None:
        """Every worker message, on the event loop, in the order the worker sent them."""
        if msg is EOF:
            handle.dead = True
            if not handle.ready.done():
                handle.ready.set_result(EOF)
            elif self._closed:  # close() stopped it: what is still in flight was interrupted
                for st in [st for st in self._inflight.values() if st.handle is handle]:
                    self._finish(st, error=RenderError("shutdown", "the renderer was shut down"))
            elif handle.death_task is None:
                task = asyncio.get_running_loop().create_task(self._handle_died(handle))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        kind = msg[0]
        if kind in ("ready", "fatal"):
            if not handle.ready.done():
                handle.ready.set_result(msg)
            return
        about_batch = ("progress", "preview", "denoised", "encoding", "done", "error", "loading")
        st = self._inflight.get(msg[1]) if kind in about_batch else None  # type: ignore[assignment]
        if st is None or st.handle is not handle:
            return  # a batch given up on, an old worker's, or "pong"
        st.last_seen = time.monotonic()
        st.changed.set()
        if kind == "progress":
            call_back(st.on_progress, msg[2], msg[3])
        elif kind == "preview":
            call_back(st.on_preview, msg[2], msg[3])
        elif kind == "denoised":
            st.denoised, st.denoised_at = True, st.last_seen
            self._release(st)  # the next batch may be sent now
            call_back(st.on_denoised)
        elif kind == "encoding":
            st.encoding = True
        elif kind == "done":
            self._finish(st, result=msg[2])
        elif kind == "error":  # ("loading", id): alive while its model loads, nothing more to do
            error_kind, text = msg[2], msg[3]
            if error_kind == "cancelled" and self._closed:
                error_kind, text = "shutdown", "the renderer was shut down"
            self._finish(st, error=RenderError(error_kind, text))

    def _release(self, st: InFlight) -> None:
        if st.holds_slot:
            st.holds_slot = False
            self._slot.release()

    def _finish(self, st: InFlight, result: Any = None, error: RenderError | None = None) -> None:
        if self._inflight.get(st.batch.batch_id) is st:
            del self._inflight[st.batch.batch_id]
        self._release(st)
        if not st.result.done():
            if error is not None:
                st.result.set_exception(error)
            else:
                st.result.set_result(result)
        st.changed.set()

    # ------------------------------------------------------------ rendering
    def cancel(self, batch_id: int) -> None:
        """Ask the worker to stop `batch_id` at its next step (also works just before it is sent).
        A batch already denoised is not cancellable any more: its render completes. One slot: it
        names the batch to stop, so cancelling B forgets an earlier cancel of A. Batches still
        waiting in the bot's own queue are the caller's to drop."""
        self._cancel_value.value = int(batch_id)

    async def render(self, batch: RenderBatch, on_progress: ProgressCallback | None = None,
                     on_denoised: DenoisedCallback | None = None, *,
                     on_preview: Callable[[int, dict[int, bytes]], None] | None = None) -> RenderResult:
        """Render one batch and store its PNGs. Raises RenderError with kind "cancelled", "oom",
        "error" (worker kept), "crash" (worker died: every batch in flight on it fails; restarted
        before raising), "hang" (no step for step_timeout s, or encoding longer than encode_timeout s;
        killed and restarted before raising) or "shutdown" (close() was called)."""
        await self._slot.acquire()
        try:
            handle = await self._ready_handle(batch)
        except BaseException:
            self._slot.release()
            raise
        st = InFlight(batch, handle, asyncio.get_running_loop().create_future(), on_progress, on_denoised,
                       time.monotonic(), on_preview=on_preview)
        self._inflight[batch.batch_id] = st  # from here on st owns the slot
        try:
            try:
                handle.conn.send(("render", batch))
            except Exception as exc:
                log.error("could not send batch %s to renderer %s: %s", batch.batch_id, self.name, exc)
                await self._handle_died(handle)  # fails st with "crash" after the restart
            await self._watch(st)
            encoded = await asyncio.shield(st.result)
        except RenderError:
            raise
        except BaseException:
            # Our caller gave up (cancelled): make the worker drop the batch; later messages are ignored.
            if not st.denoised:
                self.cancel(batch.batch_id)
            self._finish(st, error=RenderError("cancelled", "the caller gave up"))
            if not st.result.cancelled():
                st.result.exception()  # retrieved: no "exception was never retrieved" warning
            raise
        return await self._store(batch, encoded, st)

    async def _ready_handle(self, batch: RenderBatch) -> WorkerHandle:
        """The live worker to send `batch` to, (re)started if needed."""
        if self._closed:
            raise RenderError("shutdown", "the renderer is shutting down")
        if batch.batch_id in self._inflight:
            raise RenderError("error", f"batch {batch.batch_id} is already rendering")
        handle = self._handle
        if handle is not None and self.info is not None and (handle.dead or not handle.process.is_alive()):
            log.error("renderer %s exited while idle (exit code %s)", self.name, handle.process.exitcode)
            await self._handle_died(handle)  # restarts it
        if not self.running or self.info is None:  # not started, still (re)loading, or dead
            try:
                await self.start()
            except RenderError:
                if self._closed:
                    raise RenderError("shutdown", "the renderer is shutting down") from None
                raise
        assert self._handle is not None
        return self._handle

    async def _watch(self, st: InFlight) -> None:
        """Until the batch ended: kill and restart a worker that hung on it (watchdog.py)."""
        if await watchdog.stalled(st, self.step_timeout, self.encode_timeout):
            log.error("renderer %s hung on batch %s (%s): killing it", self.name, st.batch.batch_id,
                      watchdog.hang_error(st.encoding, self.step_timeout, self.encode_timeout).message)
            await self._handle_died(st.handle, hung=st)

    async def _store(self, batch: RenderBatch, encoded, st: InFlight) -> RenderResult:
        t0 = time.perf_counter()
        try:
            images = await asyncio.to_thread(storage.store_encoded, batch, encoded.images)
        except (OSError, ValueError) as exc:
            raise RenderError("error", f"could not store the images: {exc}") from None
        self.timings.append(BatchTiming(batch.batch_id, encoded.pipe_started, encoded.pipe_ended,
                                        st.denoised_at, time.monotonic()))
        return RenderResult(batch.batch_id, images, encoded.seconds + time.perf_counter() - t0,
                            steps_per_second=encoded.steps_per_second)


def _kill_at_exit(ref: weakref.ref[RendererClient]) -> Callable[[], None]:
    def kill() -> None:
        client = ref()
        handle = client._handle if client is not None else None
        if handle is not None:
            handle.kill()
            with contextlib.suppress(Exception):
                handle.process.join(5)
    return kill


async def render_once(model: str, batch: RenderBatch, device: str = "auto", dtype: str = "auto",
                      on_progress: ProgressCallback | None = None, **client_kwargs: Any) -> RenderResult:
    """Start a renderer, render one batch, stop it (CLI convenience)."""
    client = RendererClient(model, device=device, dtype=dtype, **client_kwargs)
    try:
        await client.start()
        return await client.render(batch, on_progress=on_progress)
    finally:
        await client.close()
