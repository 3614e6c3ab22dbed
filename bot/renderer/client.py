"""Asyncio side of the renderer: owns the worker process (no torch import here).

    client = RendererClient("stabilityai/sdxl-turbo", device="auto", dtype="auto")
    info = await client.start()
    result = await client.render(batch, on_progress=lambda step, total: ...)
    client.cancel(batch.batch_id)   # from another task: the batch stops at its next step
    await client.close()

Messages from the worker are read by one daemon thread per worker process doing blocking
`conn.recv()` and handing them to the event loop (`call_soon_threadsafe`) — the loop never blocks,
it works with every event loop (selector, proactor, uvloop), and a dead child shows up at once as
EOFError/OSError on recv ("crash"), independent of the step watchdog ("hang").

The worker is started with the "spawn" context (fresh interpreter: CUDA cannot be forked). Like any
spawn user, the program's main script must be import-safe (`if __name__ == "__main__":`);
`python -m bot`, console scripts and pytest are. The child gets `env` on top of the parent's
environment before it imports torch.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import threading
import time
import weakref
from typing import Any, Callable

from bot.errors import RenderError
from bot.models import ModelInfo, RenderBatch, RenderResult

log = logging.getLogger("pixelforge.renderer")

ProgressCallback = Callable[[int, int], None]

_EOF = ("__eof__",)


class _WorkerHandle:
    """One worker process, its pipe and its reader thread."""

    def __init__(self, process, conn, loop: asyncio.AbstractEventLoop):
        self.process = process
        self.conn = conn
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop = loop
        self.dead = False  # EOF seen
        self.thread = threading.Thread(target=self._read, name=f"renderer-reader-{process.pid}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError, ValueError):
                msg = _EOF
            except Exception as exc:  # unpicklable message: report, keep reading
                log.error("renderer sent an unreadable message: %r", exc)
                continue
            try:
                self.loop.call_soon_threadsafe(self.queue.put_nowait, msg)
            except RuntimeError:  # loop closed
                return
            if msg is _EOF:
                return

    def kill(self) -> None:
        if self.process.is_alive():
            try:
                self.process.kill()  # SIGKILL: a stuck CUDA kernel ignores SIGTERM
            except Exception:
                pass

    def reap(self, timeout: float) -> int | None:
        """Join (reaps the zombie); returns the exit code or None if still running."""
        self.process.join(timeout)
        return self.process.exitcode

    def close_pipe(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass


class RendererClient:
    """Owns the renderer process. One render at a time; restarts the worker after a crash or hang."""

    def __init__(
        self,
        model: str,
        device: str = "auto",
        dtype: str = "auto",
        step_timeout: float = 120.0,
        load_timeout: float = 600.0,
        env: dict | None = None,
        *,
        threads: int | None = None,
        offload: str | None = None,
    ):
        self.model = model
        self.device = device
        self.dtype = dtype
        self.step_timeout = float(step_timeout)
        self.load_timeout = float(load_timeout)
        self.env = dict(env or {})
        self.threads = threads
        self.offload = offload
        self.info: ModelInfo | None = None
        self.restarts = 0
        self.last_start_seconds: float | None = None
        self._ctx = multiprocessing.get_context("spawn")
        # Shared with every worker generation: the id of the batch to cancel (0 = none).
        self._cancel_value = self._ctx.Value("q", 0, lock=False)
        self._handle: _WorkerHandle | None = None
        self._lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._closed = False
        self._current_batch: int | None = None
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
            await self._stop_handle(graceful=False)
            return await self._spawn()

    async def _spawn(self) -> ModelInfo:
        from bot.renderer.worker import worker_main  # cheap: worker.py imports torch lazily

        loop = asyncio.get_running_loop()
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        config = {
            "model": self.model,
            "device": self.device,
            "dtype": self.dtype,
            "env": self.env,
            "threads": self.threads,
            "offload": self.offload,
        }
        process = self._ctx.Process(
            target=worker_main,
            args=(child_conn, self._cancel_value, config),
            name="pixelforge-renderer",
            daemon=False,  # a daemonic process may not start children (compile workers, loaders)
        )
        t0 = time.perf_counter()
        await asyncio.to_thread(process.start)
        child_conn.close()  # else our copy keeps the pipe open and EOF never comes when it dies
        handle = _WorkerHandle(process, parent_conn, loop)
        self._handle = handle
        try:
            msg = await asyncio.wait_for(handle.queue.get(), self.load_timeout)
        except asyncio.TimeoutError:
            await self._stop_handle(graceful=False)
            raise RenderError("error", f"the model did not load within {self.load_timeout:.0f} s") from None
        except BaseException:
            await self._stop_handle(graceful=False)
            raise
        if msg[0] == "ready":
            self.info = msg[1]
            self.last_start_seconds = time.perf_counter() - t0
            log.info("renderer ready in %.1fs: %s", self.last_start_seconds, self.info)
            return self.info
        if msg is _EOF or msg[0] != "fatal":
            code = await self._stop_handle(graceful=False)
            raise RenderError("error", f"the renderer exited while loading (exit code {code})")
        await self._stop_handle(graceful=False)
        raise RenderError("error", f"could not load model {self.model}: {msg[1]}")

    async def _stop_handle(self, graceful: bool, timeout: float = 10.0) -> int | None:
        """Stop the current worker (politely if graceful), reap it, close the pipe."""
        handle, self._handle = self._handle, None
        if handle is None:
            return None
        if graceful and handle.process.is_alive() and not handle.dead:
            try:
                handle.conn.send(("stop",))
            except Exception:
                pass
            code = await asyncio.to_thread(handle.reap, timeout)
            if code is None:
                log.warning("renderer did not stop within %.0fs; killing it", timeout)
        handle.kill()
        code = await asyncio.to_thread(handle.reap, 10.0)
        # The reader thread sees EOF now that the child is gone; then the pipe can be closed.
        await asyncio.to_thread(handle.thread.join, 5.0)
        handle.close_pipe()
        return code

    async def _restart(self) -> None:
        self.info = None
        if self._closed:
            return
        self.restarts += 1
        try:
            await self.start()
        except RenderError as exc:
            log.error("renderer restart failed: %s (will retry on the next render)", exc)

    async def close(self) -> None:
        """Send stop, wait for a clean exit (kill after 10 s). Idempotent."""
        self._closed = True
        if self._current_batch is not None:
            # a render is in flight: ask it to stop at its next step so "stop" is read soon
            self.cancel(self._current_batch)
        await self._stop_handle(graceful=True)
        self.info = None
        try:
            atexit.unregister(self._atexit)
        except Exception:
            pass

    async def __aenter__(self) -> "RendererClient":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ rendering

    def cancel(self, batch_id: int) -> None:
        """Ask the worker to stop `batch_id` at its next step (also works just before it is sent).

        One slot: it names the batch to stop, so cancelling B forgets an earlier cancel of A.
        Batches still waiting in the bot's own queue are the caller's to drop."""
        self._cancel_value.value = int(batch_id)

    async def render(self, batch: RenderBatch, on_progress: ProgressCallback | None = None) -> RenderResult:
        """Render one batch. Raises RenderError with kind "cancelled", "oom", "error" (worker kept),
        "crash" (worker died; restarted before raising) or "hang" (no message for step_timeout
        seconds; worker killed and restarted before raising)."""
        async with self._lock:
            if self._closed:
                raise RenderError("error", "renderer client is closed")
            if not self.running or self.info is None:  # not started, still loading, or dead
                if self._handle is not None and not self._start_lock.locked() and not self.running:
                    # it died while idle: this start is a restart
                    self.restarts += 1
                    log.error("renderer exited while idle (exit code %s): restarting",
                              self._handle.process.exitcode)
                await self.start()
            handle = self._handle
            assert handle is not None
            try:
                handle.conn.send(("render", batch))
            except Exception as exc:
                await self._stop_handle(graceful=False)
                await self._restart()
                raise RenderError("crash", f"could not send the batch to the renderer: {exc}") from None
            self._current_batch = batch.batch_id
            try:
                return await self._await_result(handle, batch, on_progress)
            except asyncio.CancelledError:
                # Our caller gave up: make the worker drop the batch; later messages are ignored.
                self.cancel(batch.batch_id)
                raise
            finally:
                self._current_batch = None

    async def _await_result(self, handle: _WorkerHandle, batch: RenderBatch,
                            on_progress: ProgressCallback | None) -> RenderResult:
        bid = batch.batch_id
        while True:
            try:
                msg = await asyncio.wait_for(handle.queue.get(), self.step_timeout)
            except asyncio.TimeoutError:
                log.error("renderer made no progress on batch %s for %.0fs: killing it", bid, self.step_timeout)
                await self._stop_handle(graceful=False)
                await self._restart()
                raise RenderError("hang", f"no progress for {self.step_timeout:g} s") from None
            if msg is _EOF and self._closed:
                raise RenderError("cancelled", "the renderer was shut down")
            if msg is _EOF:
                handle.dead = True
                code = await self._stop_handle(graceful=False)
                log.error("renderer died during batch %s (exit code %s): restarting", bid, code)
                await self._restart()
                raise RenderError("crash", f"the renderer process died (exit code {code})")
            kind = msg[0]
            if kind == "progress":
                if msg[1] == bid and on_progress is not None:
                    try:
                        on_progress(msg[2], msg[3])
                    except Exception:
                        log.exception("progress callback failed")
            elif kind == "done":
                result: RenderResult = msg[1]
                if result.batch_id == bid:
                    return result
            elif kind == "error":
                if msg[1] == bid:
                    raise RenderError(msg[2], msg[3])
            # anything else (a stale message of an abandoned batch, "pong") is ignored


def _kill_at_exit(ref: "weakref.ref[RendererClient]") -> Callable[[], None]:
    def kill() -> None:
        client = ref()
        handle = client._handle if client is not None else None
        if handle is not None:
            handle.kill()
            try:
                handle.process.join(5)
            except Exception:
                pass
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
