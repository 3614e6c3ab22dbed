"""The models a renderer keeps loaded, least recently used first out (MODEL_CACHE_SIZE), and what a
batch needs before its pipeline call: its model's pipelines, its LoRAs set, its hashes for the PNG.

Each entry is one `LoadedPipelines` (text-to-image, and image-to-image / inpainting built from it with
`from_pipe`: one copy of the weights per model). A batch for a model that is not loaded evicts the
least recently used one FIRST when the cache is full, then loads: on a GPU with MODEL_CACHE_SIZE=1
two models are never in memory at once (a switch costs a load; `python -m bot bench` measures it).

Model hash: A1111 writes the first 10 hex digits of the checkpoint file's sha256. A diffusers model
has no single file: the hash here is the sha256 of its denoiser's weight file(s) (unet/ or
transformer/, the variant that was loaded), computed once per model in a thread of its own while the
first batch denoises; the encoder thread waits for it (never the GPU).

torch is imported inside functions (render.py's rule).
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from bot.models import RenderBatch
from bot.renderer import lora
from bot.renderer.pipeline import LoadedPipelines, free_memory

log = logging.getLogger("pixelforge.renderer.model_cache")

CACHE_SIZE_ENV = "MODEL_CACHE_SIZE"
MODEL_HASH_DIGITS = 10  # A1111's "Model hash" (its shorthash of the checkpoint)
_CHUNK = 8 * 2**20


def model_folder(source: str) -> Path | None:
    """The folder of a local model or of a hub id's cached snapshot; None if unknown."""
    local = Path(os.path.expanduser(source))
    if local.is_dir():
        return local
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "model_index.json")
    except Exception:
        return None
    return Path(cached).parent if isinstance(cached, str) else None


def file_sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def model_hash(source: str, variant: str | None) -> str:
    """The short hash of the model's denoiser weights ("" when its files cannot be found)."""
    folder = model_folder(source)
    if folder is None:
        return ""
    for component in ("unet", "transformer"):
        files = sorted(p for p in (folder / component).glob("*.safetensors") if p.is_file())
        if not files:
            files = sorted(p for p in (folder / component).glob("*.bin") if p.is_file())
        tagged = [p for p in files if f".{variant}." in p.name] if variant else []
        chosen = tagged or [p for p in files if ".fp16." not in p.name] or files
        if chosen:
            return file_sha256(chosen)[:MODEL_HASH_DIGITS]
    return ""


@dataclasses.dataclass
class _Entry:
    loaded: LoadedPipelines
    hash: Future
    load_seconds: float


class ModelCache:
    """`get(source)`: the pipelines of `source`, loaded with `loader` when not held (evicting the
    least recently used first when `size` are held). One render at a time uses it (the worker's
    main thread, or the Ray actor's denoise lock)."""

    def __init__(self, loader: Callable[[str], LoadedPipelines], size: int = 1):
        self.loader = loader
        self.size = max(1, int(size))
        self.entries: OrderedDict[str, _Entry] = OrderedDict()
        self.loads = 0
        self.evictions = 0
        self.device = "cpu"  # the device of the last model added (for freeing memory after an OOM)
        self._hasher = ThreadPoolExecutor(1, thread_name_prefix="model-hash")

    @classmethod
    def from_env(cls, loader: Callable[[str], LoadedPipelines]) -> ModelCache:
        raw = os.environ.get(CACHE_SIZE_ENV, "").strip()
        return cls(loader, int(raw) if raw.isdigit() and int(raw) > 0 else 1)

    def add(self, source: str, loaded: LoadedPipelines) -> None:
        """A model loaded outside the cache (the worker's first, loaded at start)."""
        self.device = loaded.device
        self.entries[source] = _Entry(loaded, self._hasher.submit(model_hash, source, loaded.variant),
                                      loaded.load_seconds)
        self.entries.move_to_end(source)

    def holds(self, source: str) -> bool:
        return source in self.entries

    def get(self, source: str) -> LoadedPipelines:
        entry = self.entries.get(source)
        if entry is not None:
            self.entries.move_to_end(source)
            return entry.loaded
        while len(self.entries) >= self.size:
            self._evict()
        t0 = time.perf_counter()
        loaded = self.loader(source)
        self.loads += 1
        log.info("loaded %s in %.1f s (%d model(s) held)", source, time.perf_counter() - t0, len(self.entries) + 1)
        self.add(source, loaded)
        return loaded

    def _evict(self) -> None:
        source, entry = self.entries.popitem(last=False)
        device = entry.loaded.device
        self.evictions += 1
        log.info("unloading %s (MODEL_CACHE_SIZE=%d)", source, self.size)
        del entry
        free_memory(device)  # the last references went with the entry: its weights are freed here

    def hash_of(self, source: str) -> str:
        entry = self.entries.get(source)
        if entry is None:
            return ""
        try:
            return entry.hash.result()
        except Exception:
            log.warning("hashing %s failed", source, exc_info=True)
            return ""

    def prepare(self, batch: RenderBatch, default_source: str) -> tuple[LoadedPipelines, RenderBatch]:
        """The pipelines for `batch` with its LoRAs set (others unloaded), and the batch with its
        model's source filled in and its LoRAs' hashes."""
        source = batch.model_source or default_source
        loaded = self.get(source)
        loras = lora.apply(loaded, batch.loras)
        return loaded, dataclasses.replace(batch, model_source=source, loras=loras)

    def finish(self, batch: RenderBatch) -> RenderBatch:
        """The batch with its model hash, for the PNG (waits for the hash thread: call it off the GPU's path)."""
        return dataclasses.replace(batch, model_hash=self.hash_of(batch.model_source))

    def close(self) -> None:
        self._hasher.shutdown(wait=False, cancel_futures=True)
