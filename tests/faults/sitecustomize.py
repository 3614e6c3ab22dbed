"""Renderer fault injection FOR TESTS, loaded by Python's `site` at start-up in every process whose
PYTHONPATH holds tests/faults (the bot of the end-to-end tests, renderer processes spawned from a
test process that set it; spawned children inherit the environment).

It wraps `bot.renderer.render.render_batch` and `encode_batch` when that module is first imported
(an import hook: it works in spawned worker processes, which import it while unpickling their
target). The wrappers read PIXELFORGE_TEST_FAULTS at every call, so a worker that gets the variable
through its `env` (applied after start-up) is covered too; without it they just call through.

PIXELFORGE_TEST_FAULTS is a JSON object: prompt substring -> fault, for any image of the batch:
    "crash"            os._exit(17) after the first step's progress (simulates a segfault)
    "oom"              MemoryError at the first step, so the out-of-memory path runs
    "hang"             sleep forever after the first progress (the client's watchdog fires)
    "slow:<secs>"      sleep <secs> after every step (keeps a batch denoising, e.g. to cancel it)
    "slowencode:<secs>"  sleep <secs> before encoding the batch's PNGs (keeps it encoding)

Another sitecustomize further down sys.path (a distribution's, a virtualenv's) still runs: this
file shadows it, so it executes it itself first.
"""
from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import time

FAULTS_ENV = "PIXELFORGE_TEST_FAULTS"
TARGET = "bot.renderer.render"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _run_shadowed_sitecustomize() -> None:
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is None or spec.loader is None or os.path.abspath(spec.origin or "") == os.path.abspath(__file__):
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def _fault_for(batch) -> str | None:
    raw = os.environ.get(FAULTS_ENV)
    if not raw:
        return None
    try:
        faults = json.loads(raw)
    except ValueError:
        return None
    for needle, fault in (faults.items() if isinstance(faults, dict) else ()):
        if any(str(needle) in spec.prompt for spec in batch.images):
            return str(fault)
    return None


def _seconds(fault: str) -> float:
    return float(fault.split(":", 1)[1])


def _patch(module) -> None:
    original_render, original_encode = module.render_batch, module.encode_batch

    @functools.wraps(original_render)
    def render_batch(loaded, batch, on_step=None, is_cancelled=lambda: False):
        fault = _fault_for(batch)
        if fault is None or fault.startswith("slowencode:"):
            return original_render(loaded, batch, on_step, is_cancelled)

        def faulty_step(step: int, total: int) -> None:
            if on_step is not None:
                on_step(step, total)  # the progress message is in the pipe before the fault
            if fault == "crash":
                os._exit(17)
            if fault == "oom":
                raise MemoryError("injected out-of-memory (test fault)")
            if fault == "hang":
                while True:
                    time.sleep(3600)
            if fault.startswith("slow:"):
                time.sleep(_seconds(fault))

        return original_render(loaded, batch, faulty_step, is_cancelled)

    @functools.wraps(original_encode)
    def encode_batch(batch, images, sampler, model):
        fault = _fault_for(batch)
        if fault is not None and fault.startswith("slowencode:"):
            time.sleep(_seconds(fault))
        return original_encode(batch, images, sampler, model)

    module.render_batch, module.encode_batch = render_batch, encode_batch


class _PatchRenderOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module) -> None:
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


sys.meta_path.insert(0, _PatchRenderOnImport())
_run_shadowed_sitecustomize()
