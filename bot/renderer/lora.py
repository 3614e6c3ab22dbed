"""LoRAs on a loaded model: diffusers' `load_lora_weights` / `set_adapters` (needs peft), per batch.

`apply(loaded, loras)` makes exactly the batch's LoRAs active at their weights: a LoRA not loaded yet
is loaded into the model's modules (text-to-image, image-to-image and inpainting share them, so one
load serves all three), one the batch does not use is deleted (its matrices freed), and with none
the model renders as it was loaded. A LoRA file that changed on disk (same name, new mtime or size)
is loaded again.

Lora hash: A1111's short hash of a .safetensors LoRA: the first 12 hex digits of the sha256 of the
file after its header (kohya's "addnet" hash, what civitai lists as AutoV3's source), cached per
(path, mtime, size).

torch is imported inside functions (through diffusers).
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import struct
from typing import Any

from bot.models import LoraSpec, RenderBatch

log = logging.getLogger("pixelforge.renderer.lora")

LORA_HASH_DIGITS = 12
_hashes: dict[tuple[str, float, int], str] = {}


def adapter_name(name: str) -> str:
    """peft keeps adapters in ModuleDicts: no dots in a key."""
    return "lora_" + re.sub(r"\W", "_", name)


def _stamp(path: str) -> tuple[float, int]:
    st = os.stat(path)
    return st.st_mtime, st.st_size


def lora_hash(path: str) -> str:
    """A1111's short hash of a .safetensors LoRA (sha256 after the header, 12 hex digits)."""
    key = (path, *_stamp(path))
    if key not in _hashes:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            header = fh.read(8)
            (length,) = struct.unpack("<Q", header) if len(header) == 8 else (0,)
            fh.seek(8 + length if len(header) == 8 else 0)
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        _hashes[key] = digest.hexdigest()[:LORA_HASH_DIGITS]
    return _hashes[key]


def _state(loaded) -> dict[str, tuple[float, int]]:
    """adapter name -> the file's (mtime, size) when it was loaded; kept on the LoadedPipelines."""
    state: Any = getattr(loaded, "loras", None)
    if state is None:
        state = {}
        loaded.loras = state
    return state


def apply(loaded, loras: tuple[LoraSpec, ...]) -> tuple[LoraSpec, ...]:
    """Make `loras` the active adapters of `loaded` (none: plain model); returns them with hashes."""
    pipe = loaded.txt2img
    state = _state(loaded)
    wanted = {adapter_name(spec.name): spec for spec in loras}
    stale = [name for name, stamp in state.items()
             if name not in wanted or stamp != _stamp(wanted[name].path)]
    if stale:
        pipe.delete_adapters(stale)
        for name in stale:
            state.pop(name, None)
    for name, spec in wanted.items():
        if name not in state:
            if not os.path.isfile(spec.path):
                raise FileNotFoundError(f"LoRA {spec.name} is no longer in LORA_DIR ({spec.path})")
            pipe.load_lora_weights(spec.path, adapter_name=name)
            state[name] = _stamp(spec.path)
            log.info("loaded LoRA %s", spec.name)
    if wanted:
        pipe.set_adapters(list(wanted), adapter_weights=[float(spec.weight) for spec in wanted.values()])
    return tuple(dataclasses.replace(spec, hash=lora_hash(spec.path)) for spec in loras)


def png_pairs(batch: RenderBatch) -> dict[str, str]:
    """A1111's pairs: `Model hash: <10 hex>` and `Lora hashes: "name: <12 hex>, ..."`; the weights
    are in A1111's prompt tags, here in `Lora weights` (the prompt the model saw has no tags)."""
    pairs: dict[str, str] = {}
    if batch.model_hash:
        pairs["Model hash"] = batch.model_hash
    if batch.loras:
        pairs["Lora hashes"] = ", ".join(f"{spec.name}: {spec.hash}" for spec in batch.loras)
        pairs["Lora weights"] = ", ".join(f"{spec.name}: {spec.weight:g}" for spec in batch.loras)
    return pairs
