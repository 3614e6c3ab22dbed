"""The one pure render path: load a pipeline, render a batch in one call (pipeline.py), encode the PNGs.

Used by the local worker process (`worker.py`) and by the Ray actor alike, so both render the same
pixels and write the same metadata. Nothing here touches the bot's disk or talks to the bot: the
callers own I/O (PNG bytes go back to the bot, which stores them, see `storage.py`).

torch and diffusers are imported inside functions: importing this module is cheap and torch-free,
and a caller can set environment variables (CUDA_VISIBLE_DEVICES, HF_HUB_OFFLINE, ...) first.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.models import EncodedImage, JobTask, ModelInfo, RenderBatch
from bot.renderer import chaos, lora, pngmeta, preview, profiles, provenance, tiling
from bot.renderer.pipeline import (  # noqa: F401  (worker.py and ray_worker.py use them here)
    Cancelled,
    LoadedPipelines,
    build_call_kwargs,
    free_memory,
    is_oom,
    native_size,
    run_pipeline,
)

log = logging.getLogger("pixelforge.renderer.render")

FP16_VARIANT = "fp16"
_HALF_DTYPES = ("float16", "bfloat16")
# diffusers / transformers variant file names: unet/diffusion_pytorch_model.fp16.safetensors,
# text_encoder/model.fp16.safetensors, and sharded ones (model.fp16-00001-of-00002.safetensors,
# diffusion_pytorch_model-00001-of-00002.fp16.safetensors).
_FP16_WEIGHT = re.compile(r"\.fp16(?:-\d+-of-\d+)?\.(?:safetensors|bin)$")
_WEIGHT = re.compile(r"\.(?:safetensors|bin)$")


@dataclass(frozen=True)
class EncodedBatch:
    """What a worker hands back for one batch: PNG bytes per image, and how long it took.

    pipe_started / pipe_ended are time.monotonic() in the worker (system-wide on Linux, so the bot can
    compare them across batches of one worker: the idle gap between two pipeline calls)."""

    batch_id: int
    images: tuple[EncodedImage, ...]
    seconds: float  # pipeline call + encoding
    steps_per_second: float
    pipe_started: float = 0.0
    pipe_ended: float = 0.0


# ---------------------------------------------------------------- loading

def quiet_libraries() -> None:
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
    for name in ("diffusers.utils.logging", "transformers.utils.logging"):
        with contextlib.suppress(Exception):
            __import__(name, fromlist=["disable_progress_bar"]).disable_progress_bar()


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


def dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _weight_files(model: str) -> list[str] | None:
    """Weight file names of a local folder, of the hub id's cached snapshot, or of the hub repo.

    A cached snapshot that already holds weights decides on its own (no second download of the
    other set); one with none (only configs read so far) or no cache at all asks the hub's file
    list, unless HF_HUB_OFFLINE is set. None when nothing can be known."""
    folder: Path | None = Path(os.path.expanduser(model))
    if not folder.is_dir():  # type: ignore[union-attr]
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(model, "model_index.json")
            folder = Path(cached).parent if isinstance(cached, str) else None
        except Exception:
            folder = None
    if folder is not None:
        names = [p.name for p in folder.glob("*/*") if _WEIGHT.search(p.name)]
        if names or Path(os.path.expanduser(model)).is_dir():
            return names
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return None
    try:
        from huggingface_hub import HfApi

        return [name.rsplit("/", 1)[-1] for name in HfApi().list_repo_files(model) if _WEIGHT.search(name)]
    except Exception as exc:
        log.info("could not list the files of %s (%s): loading without a weight variant", model, exc)
        return None


def variant_for(model: str, torch_dtype) -> str | None:
    """"fp16" when the dtype is half precision and the model ships fp16 variant weight files (half
    the download and load of SDXL's fp32 files); else None (load the default files)."""
    if dtype_name(torch_dtype) not in _HALF_DTYPES:
        return None
    files = _weight_files(model)
    return FP16_VARIANT if files and any(_FP16_WEIGHT.search(name) for name in files) else None


def load_pipelines(model: str, device: str = "auto", dtype: str = "auto", *, safety_checker: bool = False,
                   offload: str | None = None) -> LoadedPipelines:
    """Load text-to-image (AutoPipelineForText2Image: SD1.5, SD2, SDXL, SD3, FLUX; hub id or a folder
    written by save_pretrained, same code path) and an image-to-image pipeline sharing its weights."""
    t0 = time.perf_counter()
    quiet_libraries()
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
    variant = variant_for(model, torch_dtype)
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(model, variant=variant, **kwargs)
    except Exception as exc:
        if variant is None:
            raise
        # A repo whose variant set is incomplete (one component without fp16 files): the default
        # files always work, at twice the download.
        log.warning("loading the %s weights of %s failed (%s); loading the default weights", variant, model, exc)
        variant = None
        pipe = AutoPipelineForText2Image.from_pretrained(model, **kwargs)

    if offload == "model":
        # Small GPUs: keep only the running component on the GPU (slower, same pixels).
        pipe.enable_model_cpu_offload()
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload()
    else:
        pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    # Speed levers the operator turned on (RENDER_CHANNELS_LAST, RENDER_FUSE_QKV, RENDER_COMPILE).
    from bot.renderer import levers

    levers.apply_levers(pipe, levers.from_env(os.environ))

    # Memory-friendly options that leave pixels unchanged:
    # - VAE slicing decodes (and encodes, img2img) the images of a batch one at a time: the VAE
    #   decode of a batch at 1024^2 is the peak of a whole job, and per-image decoding is exactly
    #   the batch-of-1 computation. (VAE *tiling* would change pixels at tile seams: not enabled.)
    # - Attention slicing is NOT enabled: with PyTorch 2 SDPA it only slows things down.
    # - No TF32 / channels_last / torch.compile by default: each changes numerics or warm-up time;
    #   `python -m bot bench --gpu` measures them, the settings above turn them on.
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()

    # Shares every module (no extra memory); also shares the scheduler object, which is fine because
    # one batch denoises at a time and every call resets the scheduler's timesteps.
    img2img = AutoPipelineForImage2Image.from_pipe(pipe)
    img2img.set_progress_bar_config(disable=True)

    # CPU generators on MPS (diffusers' advice: MPS generators are not reproducible); on CUDA a
    # CUDA generator (what A1111 and most tools use, so seeds match theirs).
    generator_device = "cpu" if device.startswith("mps") or offload else device
    return LoadedPipelines(pipe, img2img, device, torch_dtype, generator_device, time.perf_counter() - t0, variant)


def model_info(model: str, loaded: LoadedPipelines) -> ModelInfo:
    sample, scale = native_size(loaded.txt2img)
    pipeline_class = type(loaded.txt2img).__name__
    pixels = sample * scale if sample else None
    prof = profiles.profile_for(pipeline_class, pixels)
    return ModelInfo(
        model=model,
        pipeline_class=pipeline_class,
        scheduler=loaded.scheduler_name,
        device=loaded.device,
        dtype=dtype_name(loaded.dtype),
        extra={
            "sample_size": sample,  # latent units, as in the UNet/transformer config
            "vae_scale_factor": scale,
            "default_size": prof.default_size,  # pixels: what profile_for() gives
            "family": prof.family,
            "img2img_class": type(loaded.img2img).__name__,
            "variant": loaded.variant,
            "load_seconds": round(loaded.load_seconds, 3),
            "pid": os.getpid(),
        },
    )


# ---------------------------------------------------------------- rendering

def render_batch(loaded: LoadedPipelines, batch: RenderBatch, on_step: Callable[[int, int], None] | None = None,
                 is_cancelled: Callable[[], bool] = lambda: False,
                 on_preview: Callable[[int, dict[int, bytes]], None] | None = None) -> list:
    """Render the whole batch in ONE pipeline call; returns its PIL images in batch order.

    `on_step(step, total)` runs after every denoising step; `is_cancelled()` is checked before the
    call and after every step (raises Cancelled). MemoryError / torch OOM propagate: callers turn them
    into "oom" with `is_oom` and call `free_memory` outside their except block. Upscales go through
    `upscale.render_upscale` (enlarge, then this same call; tiles only after running out of memory)."""
    if is_cancelled():
        raise Cancelled()
    if batch.tile:  # --tile: circular padding for this one call, restored after it
        with tiling.seamless(loaded.txt2img):
            return render_batch(loaded, dataclasses.replace(batch, tile=False), on_step, is_cancelled, on_preview)
    if batch.task is JobTask.UPSCALE:
        from bot.renderer import upscale

        return upscale.render_upscale(loaded, batch, on_step, is_cancelled)
    if batch.task is JobTask.INPAINT:
        from bot.renderer import outpaint

        return outpaint.render_outpaint(loaded, batch, on_step, is_cancelled)
    pipe, kwargs = build_call_kwargs(loaded, batch)
    previewer = preview.for_batch(loaded, pipe, batch, on_preview)  # None: no live previews
    return run_pipeline(pipe, kwargs, batch.steps, on_step, is_cancelled,
                        previewer.on_step if previewer is not None else None)


def metadata_extra(batch: RenderBatch) -> dict[str, Any] | None:
    """The A1111 pairs after "Model:" for this batch's task: an upscale is written as A1111 writes a
    hires-fix render ("Hires upscale: 2, Denoising strength: 0.3, Hires upscaler: Lanczos", with
    Size the first pass); image-to-image names its denoising strength."""
    if batch.task is JobTask.UPSCALE and batch.upscale_factor:
        from bot.renderer.upscale import upscaler_label

        return {"Hires upscale": f"{batch.upscale_factor:g}", "Denoising strength": float(batch.strength or 0),
                "Hires upscaler": upscaler_label(batch.upscaler)}
    if batch.task is JobTask.INPAINT and batch.edit:
        from bot.renderer.outpaint_geometry import record

        return {"Denoising strength": float(batch.strength or 1.0), "Outpaint": record(batch.edit)}
    if batch.is_img2img and batch.strength is not None:
        return {"Denoising strength": float(batch.strength)}
    return None


def encode_batch(batch: RenderBatch, images, sampler: str, model: str) -> list[EncodedImage]:
    """PNG bytes (A1111 `parameters` chunk, XMP, watermark: provenance.py) and sha256 of each image; no disk I/O."""
    if len(images) != len(batch.images):
        raise ValueError(f"batch {batch.batch_id}: {len(images)} images for {len(batch.images)} specs")
    extra = metadata_extra(batch)
    factor = batch.upscale_factor if batch.task is JobTask.UPSCALE and batch.upscale_factor else 1.0
    encoded = []
    for spec, image in zip(batch.images, images, strict=True):
        params = pngmeta.format_parameters(
            spec.prompt, spec.negative_prompt, batch.steps, sampler, batch.guidance, spec.seed,
            round(image.width / factor), round(image.height / factor), batch.model_label or model,
            extra={**lora.png_pairs(batch), **(extra or {}), **tiling.png_pairs(batch), **chaos.png_pairs(spec),
                   **({"Outpaint source": spec.lineage} if spec.lineage else {})} or None,
            safety_negative=spec.safety_negative,
        )
        data = provenance.marked_png(image, params, spec.job_id, spec.index, watermark=batch.watermark)
        encoded.append(EncodedImage(spec.job_id, spec.index, spec.seed, data, hashlib.sha256(data).hexdigest(),
                                    image.width, image.height))
    return encoded


def short_error(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_path(model: str) -> bool:
    """Hub ids are "name" or "owner/name"; anything else with a separator is a folder."""
    expanded = os.path.expanduser(model)
    return (os.path.isabs(expanded) or model.startswith((".", "~")) or "\\" in model
            or model.count("/") > 1)


def check_local_path(model: str) -> None:
    """A model given as a folder must exist and hold model_index.json (checked before torch loads)."""
    if _looks_like_path(model) and not os.path.isdir(os.path.expanduser(model)):
        raise FileNotFoundError(f"model folder {model} does not exist")
    if os.path.isdir(os.path.expanduser(model)) and not os.path.isfile(
            os.path.join(os.path.expanduser(model), "model_index.json")):
        raise FileNotFoundError(f"{model} has no model_index.json (save it with save_pretrained)")
