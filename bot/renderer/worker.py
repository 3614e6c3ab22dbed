"""The renderer process: a thin loop around the pure render path (`render.py`).

`RendererClient` (client.py) starts `worker_main` with the multiprocessing "spawn" context (never
fork: a forked CUDA context is unusable, and a separate process survives crashes, OOM and poisoned
CUDA contexts, and can be killed to cancel or unstick a job). The child loads the pipeline once and
then serves `RenderBatch`es over a Pipe.

Protocol (tuples over a multiprocessing Connection):
    child -> parent  ("ready", ModelInfo) | ("fatal", message)            once, after loading
    parent -> child  ("render", RenderBatch) | ("stop",)
    child -> parent  ("progress", batch_id, step, total)                 after every denoising step
                     ("preview", batch_id, step, {job_id: jpeg})  every PREVIEW_EVERY_STEPS steps
                     ("loading", batch_id)       every few seconds while the batch's model loads
                     ("denoised", batch_id)                              the pipeline call ended
                     ("encoding", batch_id)                  an encoder thread started on it
                     ("done", batch_id, EncodedBatch)                    PNG bytes of every image
                     ("error", batch_id, kind, message)   kind: "cancelled" | "oom" | "error"

The GPU must not wait for the CPU: right after the pipeline call the main thread sends "denoised"
and goes back to `conn.recv()` for the next batch, while a small thread pool encodes the PNGs
(zlib releases the GIL) and sends "done". Every send goes through one lock (the main thread and
the encoder threads share the pipe). "encoding" starts the bot's encode clock (watchdog.py): a batch
queued behind another for an encoder thread is not charged for that wait.

`WorkerHandle` at the end is the other end of the pipe, in the bot process: the process object
and a reader thread that hands each message to the client's event loop.

torch and diffusers are imported inside functions, after `config["env"]` has been applied to
os.environ, so variables such as CUDA_VISIBLE_DEVICES, PYTORCH_CUDA_ALLOC_CONF or HF_HUB_OFFLINE
passed by the client take effect. Importing this module is therefore cheap; the benchmark's
`bare_pipeline_call` loads a pipeline in the calling process.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.models import RenderBatch
from bot.renderer import encoding, render
from bot.renderer.model_cache import ModelCache

log = logging.getLogger("pixelforge.renderer.worker")

# Two batches may be encoding at once: the caller may send batch n+1 before batch n's encode ended,
# and n+1 can denoise faster than n encodes (tiny sizes, few steps).
ENCODE_THREADS = 2
IMAGE_THREADS = max(2, min(8, os.cpu_count() or 2))
LOADING_EVERY = 5.0  # seconds between "loading" messages while a batch's model loads


class _ParentGone(BaseException):
    """The pipe to the bot is closed: nobody to serve, exit. BaseException so the per-batch
    `except Exception` handlers do not swallow it."""


class _Session:
    """Serves batches in the child process."""

    def __init__(self, conn, cancel_value, models: ModelCache, model: str, *, encode_inline: bool):
        self.conn = conn
        self.cancel_value = cancel_value
        self.models = models  # the first model, and others as batches ask (MODEL_CACHE_SIZE)
        self.model = model
        # True only for the benchmark's "before" measurement: encode before taking the next batch.
        self.encode_inline = encode_inline
        self.send_lock = threading.Lock()
        self.encoder = ThreadPoolExecutor(ENCODE_THREADS, thread_name_prefix="png-encoder")
        # The images of one batch, side by side (encoding.py); its own pool: an encoder thread waits on it.
        self.image_encoder = ThreadPoolExecutor(IMAGE_THREADS, thread_name_prefix="png-image")

    def send(self, msg) -> None:
        try:
            with self.send_lock:
                self.conn.send(msg)
        except (OSError, EOFError, ValueError) as exc:  # broken pipe / closed: the bot is gone
            raise _ParentGone(str(exc)) from None

    def handle(self, batch: RenderBatch) -> None:
        bid = batch.batch_id
        steps = 0

        def on_step(step: int, total: int) -> None:
            nonlocal steps
            steps = step
            self.send(("progress", bid, step, total))

        oom_message = None
        started = time.monotonic()
        loaded = None
        try:
            with self._loading(bid, batch.model_source or self.model):  # may switch models (a load)
                loaded, batch = self.models.prepare(batch, self.model)
            images = render.render_batch(loaded, batch, on_step, lambda: self.cancel_value.value == bid,
                                         lambda step, data: self.send(("preview", bid, step, data)))
        except render.Cancelled:
            self.send(("error", bid, "cancelled", "cancelled"))
            return
        except Exception as exc:
            if not render.is_oom(exc):
                log.exception("batch %s failed", bid)
                self.send(("error", bid, "error", render.short_error(exc)))
                return
            oom_message = render.short_error(exc) or "out of memory"
        if oom_message is not None:
            # Freed here, OUTSIDE the except block: inside it the traceback keeps the failed call's
            # frames (activations, latents) alive, so empty_cache could not return that memory.
            render.free_memory(loaded.device if loaded is not None else self.models.device)
            self.send(("error", bid, "oom", oom_message))
            return
        assert loaded is not None  # render_batch returned: prepare() gave it
        ended = time.monotonic()
        steps_per_second = (steps or batch.steps) / (ended - started) if ended > started else 0.0
        if self.encode_inline:
            reply = self._encode(batch, images, started, ended,  # type: ignore[possibly-undefined]
                                 steps_per_second, loaded.scheduler_name)
            self.send(("denoised", bid))
            self.send(reply)
            return
        self.send(("denoised", bid))
        self.encoder.submit(self._encode_and_send, batch, images, started, ended,  # type: ignore[possibly-undefined]
                            steps_per_second, loaded.scheduler_name)

    @contextlib.contextmanager
    def _loading(self, bid: int, source: str):
        """While a model not held loads (a download can take minutes), a ("loading", bid) every
        LOADING_EVERY s: the bot's step watchdog sees the worker is alive."""
        if self.models.holds(source):
            yield
            return
        done = threading.Event()

        def beat() -> None:
            while not done.wait(LOADING_EVERY):
                with contextlib.suppress(_ParentGone):
                    self.send(("loading", bid))

        thread = threading.Thread(target=beat, name="model-loading", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _encode(self, batch: RenderBatch, images, started: float, ended: float, steps_per_second: float,
                sampler: str) -> tuple:
        """The "done" (or "error") message of a denoised batch."""
        try:
            encoded = encoding.encode_side_by_side(self.models.finish(batch), images, sampler, self.model,
                                                   self.image_encoder)
        except Exception as exc:
            log.exception("batch %s: encoding failed", batch.batch_id)
            return ("error", batch.batch_id, "error", render.short_error(exc))
        result = render.EncodedBatch(batch.batch_id, tuple(encoded), time.monotonic() - started,
                                     steps_per_second, started, ended)
        return ("done", batch.batch_id, result)

    def _encode_and_send(self, batch: RenderBatch, images, started: float, ended: float,
                         steps_per_second: float, sampler: str) -> None:
        with contextlib.suppress(_ParentGone):  # the main thread sees EOF on recv and exits
            self.send(("encoding", batch.batch_id))
            self.send(self._encode(batch, images, started, ended, steps_per_second, sampler))


def worker_main(conn, cancel_value, config: dict) -> None:
    """Entry point of the renderer process (multiprocessing "spawn" target).

    config: {"model": str, "device": "auto"|"cuda"|"cuda:1"|"mps"|"cpu", "dtype": "auto"|"float16"|
    "bfloat16"|"float32", "env": {extra environment variables}, "threads": int | None,
    "offload": None|"model"|"sequential", "safety_checker": bool, "encode_inline": bool}
    """
    # Ctrl+C in a terminal reaches the whole process group: the bot's clean stop ends this
    # process (it finishes encoding, then exits); a KeyboardInterrupt here would be a "crash".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for key, value in (config.get("env") or {}).items():
        os.environ[str(key)] = str(value)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s renderer[%(process)d] %(levelname)s %(name)s: %(message)s")
    model = config["model"]
    try:
        render.check_local_path(model)  # before importing torch: a typo fails in 0.2 s, not after imports
        if config.get("threads"):
            import torch

            torch.set_num_threads(int(config["threads"]))
        def load(source: str) -> render.LoadedPipelines:
            render.check_local_path(source)
            return render.load_pipelines(source, config.get("device", "auto"), config.get("dtype", "auto"),
                                         safety_checker=bool(config.get("safety_checker", False)),
                                         offload=config.get("offload"))

        models = ModelCache.from_env(load)
        loaded = load(model)
        models.add(model, loaded)
        info = render.model_info(model, loaded)
        del loaded  # the cache holds the only reference: eviction frees the weights
    except BaseException as exc:  # noqa: BLE001 - report anything, then exit
        log.error("could not load %s: %s", model, render.short_error(exc, 500),
                  exc_info=not isinstance(exc, FileNotFoundError))
        with contextlib.suppress(Exception):
            conn.send(("fatal", render.short_error(exc, 500)))
        conn.close()
        return

    session = _Session(conn, cancel_value, models, model, encode_inline=bool(config.get("encode_inline", False)))
    parent_gone = False
    try:
        session.send(("ready", info))
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                parent_gone = True  # the bot closed the pipe or died
                break
            if not isinstance(msg, tuple) or not msg:
                continue
            if msg[0] == "stop":
                break
            if msg[0] == "render":
                session.handle(msg[1])
            elif msg[0] == "ping":
                session.send(("pong",))
    except _ParentGone:
        parent_gone = True
    finally:
        # On "stop", batches still encoding finish and send "done" first: their images are not lost.
        session.encoder.shutdown(wait=not parent_gone, cancel_futures=parent_gone)
        session.image_encoder.shutdown(wait=not parent_gone, cancel_futures=parent_gone)
        with contextlib.suppress(Exception):
            conn.close()
    if config.get("fast_exit", True):
        # Interpreter finalisation with torch + diffusers loaded takes 0.7-1.7 s (module teardown,
        # atexit hooks) and frees nothing the OS would not free anyway: flush and leave now, so a
        # shutdown or model reload does not wait for it. Only the spawned child gets here.
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)


# ---------------------------------------------------------------- the bot's side of the pipe

EOF = ("__eof__",)  # what the reader thread reports once the pipe is closed or the process is gone


class WorkerHandle:
    """The bot's side of one worker process: the process, its pipe, and a reader thread that hands
    every message (and EOF when the process is gone) to `on_message(handle, msg)` on the event loop."""

    def __init__(self, process, conn, loop: asyncio.AbstractEventLoop, on_message):
        self.process = process
        self.conn = conn
        self.loop = loop
        self.on_message = on_message
        self.ready: asyncio.Future = loop.create_future()  # ("ready", info) | ("fatal", msg) | EOF
        self.dead = False  # EOF seen
        self.stop_task: asyncio.Task | None = None
        self.death_task: asyncio.Task | None = None
        self.thread = threading.Thread(target=self._read, name=f"renderer-reader-{process.pid}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError, ValueError):
                msg = EOF
            except Exception as exc:  # unpicklable message: report, keep reading
                log.error("renderer sent an unreadable message: %r", exc)
                continue
            try:
                self.loop.call_soon_threadsafe(self.on_message, self, msg)
            except RuntimeError:  # loop closed
                return
            if msg is EOF:
                return

    def kill(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.process.kill()  # SIGKILL: a stuck CUDA kernel ignores SIGTERM

    def reap(self, timeout: float) -> int | None:
        """Join (reaps the zombie); returns the exit code or None if still running."""
        self.process.join(timeout)
        return self.process.exitcode

    def close_pipe(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


# ---------------------------------------------------------------- benchmarks (current process)

def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bare_pipeline_call(model: str, device: str = "auto", dtype: str = "auto", width: int = 512,
                       height: int = 512, steps: int = 25, guidance: float = 7.0,
                       prompt: str = "a photo of a cat", seed: int = 0):
    """Load the pipeline in THIS process exactly as the worker does and return a function that
    times one bare `pipe(...)` call (seconds). The first call is a warm-up made here."""
    import torch

    loaded = render.load_pipelines(model, device, dtype)
    pipe = loaded.txt2img

    def once() -> float:
        gen = torch.Generator(loaded.generator_device).manual_seed(seed)
        _sync(loaded.device)
        t0 = time.perf_counter()
        with torch.inference_mode():
            pipe(prompt=prompt, num_inference_steps=steps, guidance_scale=guidance, width=width,
                 height=height, generator=gen, output_type="pil")
        _sync(loaded.device)
        return time.perf_counter() - t0

    once()  # warm-up: kernels, allocator, caches
    return once
