"""The renderer process: the ONLY module of the bot that imports torch and diffusers.

`RendererClient` (client.py) starts `worker_main` with the multiprocessing "spawn" context (never
fork: a forked CUDA context is unusable, and a separate process survives crashes, OOM and poisoned
CUDA contexts, and can be killed to cancel or unstick a job). The child loads the pipeline once and
then serves `RenderBatch`es one at a time over a Pipe.

Protocol (tuples over a multiprocessing Connection):
    child -> parent  ("ready", ModelInfo) | ("fatal", message)            once, after loading
    parent -> child  ("render", RenderBatch) | ("stop",)
    child -> parent  ("progress", batch_id, step, total)                 after every denoising step
                     ("done", RenderResult)
                     ("error", batch_id, kind, message)   kind: "cancelled" | "oom" | "error"

torch and diffusers are imported inside functions, after `config["env"]` has been applied to
os.environ, so variables such as CUDA_VISIBLE_DEVICES, PYTORCH_CUDA_ALLOC_CONF or HF_HUB_OFFLINE
passed by the client take effect. Importing this module is therefore cheap; the benchmark's
`bare_pipeline_call` loads a pipeline in the calling process.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from bot.models import ImageSpec, ModelInfo, RenderBatch, RenderedImage, RenderResult
from bot.renderer import pngmeta, profiles

log = logging.getLogger("pixelforge.renderer.worker")

# Fault injection FOR TESTS ONLY. Off unless PIXELFORGE_TEST_FAULTS is set in the worker's
# environment (RendererClient(env={...}) passes it). JSON object: prompt substring -> fault:
#   "crash"        os._exit(17) after the first step's progress message (simulates a segfault)
#   "oom"          raise MemoryError at the first step, so the out-of-memory path runs
#   "hang"         sleep forever after the first progress message (the client's watchdog fires)
#   "slow:<secs>"  sleep <secs> after every step (keeps a job running, e.g. to test cancel)
FAULTS_ENV = "PIXELFORGE_TEST_FAULTS"


class _ParentGone(BaseException):
    """The pipe to the bot is closed: nobody to serve, exit. BaseException so the per-batch
    `except Exception` handlers do not swallow it."""


class _Cancelled(Exception):
    pass


# ---------------------------------------------------------------- loading

def _quiet_libraries() -> None:
    """Silence noise that says nothing about our setup (call before importing diffusers)."""
    # transformers 5 warns once per image-processor class that torchvision is missing when
    # diffusers' pipeline modules are imported; the PIL fallback is what we want anyway.
    class _DropTorchvisionNotice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "requires torchvision (not installed)" not in record.getMessage()

    logging.getLogger("transformers.utils.import_utils").addFilter(_DropTorchvisionNotice())
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # "Loading pipeline components" / "Loading weights" bars would spam the bot's log on every
    # (re)start. Hub download bars stay (a first download takes minutes and is worth seeing).
    # tqdm builds a multiprocessing RLock (a named POSIX semaphore in a spawned child) even for a
    # disabled bar; when the worker is killed it "leaks" and Python warns at shutdown. A thread lock
    # is all one process needs.
    try:
        import threading

        from tqdm import std as tqdm_std

        tqdm_std.tqdm.set_lock(threading.RLock())
    except Exception:
        pass
    try:
        import diffusers.utils.logging as dlog

        dlog.disable_progress_bar()
    except Exception:
        pass
    try:
        import transformers.utils.logging as tlog

        tlog.disable_progress_bar()
    except Exception:
        pass


def _dtype_kwarg() -> str:
    """diffusers 0.42 renamed from_pretrained's `torch_dtype` to `dtype` (the old name still works
    but warns); older releases (the project allows >=0.30) only know `torch_dtype`."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def resolve_device(device: str = "auto") -> str:
    import torch

    if device and device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str, device: str, pipeline_class: str | None):
    """"auto": float32 on CPU; on CUDA bfloat16 for FLUX/SD3 (trained in bf16, fp16 overflows),
    float16 otherwise; float16 on MPS. Or an explicit "float16" / "bfloat16" / "float32"."""
    import torch

    names = {
        "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
        "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
        "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    }
    if dtype and dtype != "auto":
        if dtype not in names:
            raise ValueError(f"unknown dtype {dtype!r}; use auto, float16, bfloat16 or float32")
        return names[dtype]
    kind = device.split(":")[0]
    if kind == "cuda":
        if profiles.family_for(pipeline_class) in ("flux", "sd3") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    if kind == "mps":
        return torch.float16
    return torch.float32


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


@dataclass
class LoadedPipelines:
    txt2img: Any
    img2img: Any
    device: str
    dtype: Any
    generator_device: str
    load_seconds: float

    @property
    def scheduler_name(self) -> str:
        return type(self.txt2img.scheduler).__name__


def load_pipelines(model: str, device: str = "auto", dtype: str = "auto", *, safety_checker: bool = False,
                   offload: str | None = None) -> LoadedPipelines:
    """Load text-to-image (AutoPipelineForText2Image: SD1.5, SD2, SDXL, SD3, FLUX; hub id or a folder
    written by save_pretrained, same code path) and an image-to-image pipeline sharing its weights."""
    t0 = time.perf_counter()
    _quiet_libraries()
    import torch
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

    device = resolve_device(device)
    index = profiles.read_model_index(model, local_files_only=True)
    if index is None and device.startswith("cuda") and dtype == "auto":
        # Needed to pick bf16 for FLUX/SD3 before loading; from_pretrained downloads it anyway.
        index = profiles.read_model_index(model, local_files_only=False)
    pipeline_class = (index or {}).get("_class_name")
    torch_dtype = resolve_dtype(dtype, device, pipeline_class)

    kwargs: dict[str, Any] = {_dtype_kwarg(): torch_dtype}
    if not safety_checker and index and (index.get("safety_checker") or [None])[0] is not None:
        # The bot runs its own content filter; the SD1.5 checker costs ~1.2 GB and blacks images out.
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    pipe = AutoPipelineForText2Image.from_pretrained(model, **kwargs)

    if offload == "model":
        # Small GPUs: keep only the running component on the GPU (slower, same pixels).
        pipe.enable_model_cpu_offload()
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload()
    else:
        pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)

    # Memory-friendly options that leave pixels unchanged:
    # - VAE slicing decodes (and encodes, img2img) the images of a batch one at a time: the VAE
    #   decode of a batch at 1024^2 is the peak of a whole job, and per-image decoding is exactly
    #   the batch-of-1 computation. (VAE *tiling* would change pixels at tile seams: not enabled.)
    # - Attention slicing is NOT enabled: with PyTorch 2 SDPA it only slows things down.
    # - No TF32 / channels_last / torch.compile here: each changes numerics or warm-up time; the
    #   benchmark decides those, not the default path.
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()

    # Shares every module (no extra memory); also shares the scheduler object, which is fine because
    # one batch runs at a time and every call resets the scheduler's timesteps.
    img2img = AutoPipelineForImage2Image.from_pipe(pipe)
    img2img.set_progress_bar_config(disable=True)

    # CPU generators on MPS (diffusers' advice: MPS generators are not reproducible); on CUDA a
    # CUDA generator (what A1111 and most tools use, so seeds match theirs).
    generator_device = "cpu" if device.startswith("mps") or offload else device
    return LoadedPipelines(pipe, img2img, device, torch_dtype, generator_device, time.perf_counter() - t0)


def _native_size(pipe) -> tuple[int | None, int]:
    """(raw sample_size of the UNet/transformer, VAE scale factor)."""
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    sample = None
    for name in ("unet", "transformer"):
        module = getattr(pipe, name, None)
        if module is not None:
            sample = getattr(module.config, "sample_size", None)
            break
    if isinstance(sample, (list, tuple)):
        sample = sample[0] if sample else None
    if sample is None:
        sample = getattr(pipe, "default_sample_size", None)  # FLUX: 128 latent px
    return (int(sample) if sample else None), scale


def model_info(model: str, loaded: LoadedPipelines) -> ModelInfo:
    sample, scale = _native_size(loaded.txt2img)
    pipeline_class = type(loaded.txt2img).__name__
    pixels = sample * scale if sample else None
    prof = profiles.profile_for(pipeline_class, pixels)
    return ModelInfo(
        model=model,
        pipeline_class=pipeline_class,
        scheduler=loaded.scheduler_name,
        device=loaded.device,
        dtype=_dtype_name(loaded.dtype),
        extra={
            "sample_size": sample,  # latent units, as in the UNet/transformer config
            "vae_scale_factor": scale,
            "default_size": prof.default_size,  # pixels: what profile_for() gives
            "family": prof.family,
            "img2img_class": type(loaded.img2img).__name__,
            "load_seconds": round(loaded.load_seconds, 3),
            "pid": os.getpid(),
        },
    )


# ---------------------------------------------------------------- rendering

def _parse_faults() -> dict[str, str]:
    raw = os.environ.get(FAULTS_ENV)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("ignoring %s: not JSON", FAULTS_ENV)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _load_init_image(path: str, width: int, height: int):
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (width, height):
            im = im.resize((width, height), Image.Resampling.LANCZOS)
        return im.copy()


def _accepts(pipe, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(pipe.__call__).parameters
    except (TypeError, ValueError):
        return False


def build_call_kwargs(loaded: LoadedPipelines, batch: RenderBatch) -> tuple[Any, dict]:
    """The pipeline and the keyword arguments of the ONE call that renders the whole batch.

    One generator per image, seeded with that image's seed: image i of a batch then gets the same
    initial noise as its batch-of-1 render (one shared generator would change every image but the
    first)."""
    import torch

    pipe = loaded.img2img if batch.is_img2img else loaded.txt2img
    specs: tuple[ImageSpec, ...] = batch.images
    kwargs: dict[str, Any] = {
        "prompt": [s.prompt for s in specs],
        "num_inference_steps": int(batch.steps),
        "guidance_scale": float(batch.guidance),
        "generator": [torch.Generator(loaded.generator_device).manual_seed(int(s.seed)) for s in specs],
        "output_type": "pil",
    }
    negatives = [s.negative_prompt or "" for s in specs]
    if _accepts(pipe, "negative_prompt") and (any(negatives) or profiles.family_for(type(pipe).__name__) != "flux"):
        kwargs["negative_prompt"] = negatives
    if batch.is_img2img:
        missing = [s for s in specs if not s.init_image]
        if missing:
            raise ValueError("img2img batch without init_image")
        kwargs["image"] = [_load_init_image(s.init_image, batch.width, batch.height) for s in specs]
        kwargs["strength"] = float(batch.strength)
        if _accepts(pipe, "width"):  # FLUX/SD3 img2img take explicit sizes; SD uses the image's
            kwargs["width"], kwargs["height"] = batch.width, batch.height
    else:
        kwargs["width"], kwargs["height"] = batch.width, batch.height
    return pipe, kwargs


class _Session:
    """Serves batches in the child process."""

    def __init__(self, conn, cancel_value, loaded: LoadedPipelines, model: str):
        self.conn = conn
        self.cancel_value = cancel_value
        self.loaded = loaded
        self.model = model
        self.faults = _parse_faults()

    def send(self, msg) -> None:
        try:
            self.conn.send(msg)
        except (OSError, EOFError, ValueError) as exc:  # broken pipe / closed: the bot is gone
            raise _ParentGone(str(exc)) from None

    def _fault_for(self, batch: RenderBatch) -> str | None:
        for needle, fault in self.faults.items():
            if any(needle in s.prompt for s in batch.images):
                return fault
        return None

    def _cancelled(self, batch_id: int) -> bool:
        return self.cancel_value.value == batch_id

    def render(self, batch: RenderBatch) -> RenderResult:
        import torch

        if self._cancelled(batch.batch_id):
            raise _Cancelled()
        fault = self._fault_for(batch)
        pipe, kwargs = build_call_kwargs(self.loaded, batch)
        state = {"cancelled": False, "steps": 0}

        def on_step_end(p, step_index, timestep, callback_kwargs):
            total = int(getattr(p, "num_timesteps", 0) or batch.steps)
            state["steps"] = step_index + 1
            self.send(("progress", batch.batch_id, step_index + 1, total))
            if fault:
                if fault == "crash":
                    os._exit(17)
                if fault == "oom":
                    raise MemoryError("injected out-of-memory (test fault)")
                if fault == "hang":
                    while True:
                        time.sleep(3600)
                if fault.startswith("slow:"):
                    time.sleep(float(fault.split(":", 1)[1]))
            if self._cancelled(batch.batch_id):
                # diffusers checks `interrupt` at the top of each step and skips the rest of the
                # loop (the VAE still decodes the partial latents; we discard them).
                p._interrupt = True
                state["cancelled"] = True
            return callback_kwargs

        t0 = time.perf_counter()
        with torch.inference_mode():
            output = pipe(callback_on_step_end=on_step_end, **kwargs)
        t_pipe = time.perf_counter() - t0
        if state["cancelled"] or self._cancelled(batch.batch_id):
            raise _Cancelled()

        images = []
        sampler = type(pipe.scheduler).__name__
        for spec, image in zip(batch.images, output.images):
            extra = {"Denoising strength": float(batch.strength)} if batch.is_img2img else None
            params = pngmeta.format_parameters(
                spec.prompt, spec.negative_prompt, batch.steps, sampler, batch.guidance, spec.seed,
                image.width, image.height, batch.model_label or self.model, extra=extra,
            )
            digest = pngmeta.save_png(image, spec.output_path, params)
            images.append(RenderedImage(spec.job_id, spec.index, spec.seed, spec.output_path, digest,
                                        image.width, image.height))
        seconds = time.perf_counter() - t0
        steps_done = state["steps"] or int(getattr(pipe, "num_timesteps", 0) or batch.steps)
        return RenderResult(batch.batch_id, tuple(images), seconds,
                            steps_per_second=steps_done / t_pipe if t_pipe > 0 else 0.0)

    def handle(self, batch: RenderBatch) -> None:
        import torch

        oom_message = None
        reply = None
        try:
            result = self.render(batch)
            reply = ("done", result)
        except _Cancelled:
            reply = ("error", batch.batch_id, "cancelled", "cancelled")
        except (torch.cuda.OutOfMemoryError, MemoryError) as exc:
            oom_message = _short(exc) or "out of memory"
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():  # MPS and some CUDA paths raise plain RuntimeError
                oom_message = _short(exc)
            else:
                log.exception("batch %s failed", batch.batch_id)
                reply = ("error", batch.batch_id, "error", _short(exc))
        except Exception as exc:
            log.exception("batch %s failed", batch.batch_id)
            reply = ("error", batch.batch_id, "error", _short(exc))
        if oom_message is not None:
            # Freed here, OUTSIDE the except block: inside it the exception's traceback keeps every
            # frame of the failed call alive (activations, latents), so empty_cache could not return
            # that memory to the driver.
            free_memory(self.loaded.device)
            reply = ("error", batch.batch_id, "oom", oom_message)
        self.send(reply)


def free_memory(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.startswith("mps") and hasattr(torch, "mps"):
        try:
            torch.mps.empty_cache()
        except Exception:
            pass


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_path(model: str) -> bool:
    """Hub ids are "name" or "owner/name"; anything else with a separator is a folder."""
    expanded = os.path.expanduser(model)
    return (os.path.isabs(expanded) or model.startswith((".", "~")) or "\\" in model
            or model.count("/") > 1)


def _check_local_path(model: str) -> None:
    if _looks_like_path(model) and not os.path.isdir(os.path.expanduser(model)):
        raise FileNotFoundError(f"model folder {model} does not exist")
    if os.path.isdir(os.path.expanduser(model)) and not os.path.isfile(
            os.path.join(os.path.expanduser(model), "model_index.json")):
        raise FileNotFoundError(f"{model} has no model_index.json (save it with save_pretrained)")


def worker_main(conn, cancel_value, config: dict) -> None:
    """Entry point of the renderer process (multiprocessing "spawn" target).

    config: {"model": str, "device": "auto"|"cuda"|"cuda:1"|"mps"|"cpu", "dtype": "auto"|"float16"|
    "bfloat16"|"float32", "env": {extra environment variables}, "threads": int | None,
    "offload": None|"model"|"sequential", "safety_checker": bool}
    """
    for key, value in (config.get("env") or {}).items():
        os.environ[str(key)] = str(value)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s renderer[%(process)d] %(levelname)s %(name)s: %(message)s")
    model = config["model"]
    try:
        _check_local_path(model)  # before importing torch: a typo fails in 0.2 s, not after imports
        if config.get("threads"):
            import torch

            torch.set_num_threads(int(config["threads"]))
        loaded = load_pipelines(model, config.get("device", "auto"), config.get("dtype", "auto"),
                                safety_checker=bool(config.get("safety_checker", False)),
                                offload=config.get("offload"))
        info = model_info(model, loaded)
    except BaseException as exc:  # noqa: BLE001 - report anything, then exit
        log.error("could not load %s: %s", model, _short(exc, 500),
                  exc_info=not isinstance(exc, FileNotFoundError))
        try:
            conn.send(("fatal", _short(exc, 500)))
        except Exception:
            pass
        conn.close()
        return

    session = _Session(conn, cancel_value, loaded, model)
    try:
        session.send(("ready", info))
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break  # the bot closed the pipe or died
            if not isinstance(msg, tuple) or not msg:
                continue
            if msg[0] == "stop":
                break
            if msg[0] == "render":
                session.handle(msg[1])
            elif msg[0] == "ping":
                session.send(("pong",))
    except _ParentGone:
        pass
    finally:
        try:
            conn.close()
        except Exception:
            pass
    if config.get("fast_exit", True):
        # Interpreter finalisation with torch + diffusers loaded takes 0.7-1.7 s (module teardown,
        # atexit hooks) and frees nothing the OS would not free anyway: flush and leave now, so a
        # shutdown or model reload does not wait for it. Only the spawned child gets here.
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(0)


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

    loaded = load_pipelines(model, device, dtype)
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
