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
    "hangencode"       encoding never returns (the encoder thread is stuck; the encode watchdog fires)
    "hangencodeonce:<marker path>"  the first encode to create <marker path> never returns; every
                       later one (any process: the replacement worker too) encodes normally

PIXELFORGE_TEST_TRUST_CUSTOM_ID=1 turns off ONE check of discord.py 2.7 (and nothing else): a
dynamic item whose custom_id is not among the clicked message's components is dropped silently by
`ViewStore.schedule_dynamic_item_call`. With the variable set, such a click gets the forged
component added to (a copy of) the message's components first, so it reaches the bot's own
handler, as it would if the library did not check: the end-to-end authorization tests prove the
bot's checks with the library's and Discord's out of the way.

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
TRUST_ENV = "PIXELFORGE_TEST_TRUST_CUSTOM_ID"
TARGET = "bot.renderer.render"
VIEW_TARGET = "discord.ui.view"
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


def _first_to_claim(marker: str) -> bool:
    """True for the one caller that creates `marker` (O_EXCL: atomic across processes)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _patch(module) -> None:
    original_render, original_encode = module.render_batch, module.encode_batch

    @functools.wraps(original_render)
    def render_batch(loaded, batch, on_step=None, is_cancelled=lambda: False, on_preview=None):
        fault = _fault_for(batch)
        if fault is None or fault.startswith(("slowencode:", "hangencode")):
            return original_render(loaded, batch, on_step, is_cancelled, on_preview)

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

        return original_render(loaded, batch, faulty_step, is_cancelled, on_preview)

    @functools.wraps(original_encode)
    def encode_batch(batch, images, sampler, model):
        fault = _fault_for(batch)
        if fault is not None and fault.startswith("slowencode:"):
            time.sleep(_seconds(fault))
        if fault == "hangencode" or (fault is not None and fault.startswith("hangencodeonce:")
                                     and _first_to_claim(fault.split(":", 1)[1])):
            while True:
                time.sleep(3600)
        return original_encode(batch, images, sampler, model)

    module.render_batch, module.encode_batch = render_batch, encode_batch


def _patch_view_store(module) -> None:
    """Let a dynamic item whose custom_id is not on the clicked message through (see the docstring)."""
    original = module.ViewStore.schedule_dynamic_item_call

    @functools.wraps(original)
    async def schedule_dynamic_item_call(self, component_type, factory, interaction, custom_id, match):
        message = interaction.message
        if message is not None and os.environ.get(TRUST_ENV) and not _has_custom_id(message.components, custom_id):
            import discord

            forged = {"type": component_type, "custom_id": custom_id}
            if component_type == 2:
                forged.update(style=2, label="forged")
            else:
                values = (interaction.data or {}).get("values") or ["0"]
                forged["options"] = [{"label": str(v), "value": str(v)} for v in values]
            row = discord.components.ActionRow({"type": 1, "components": [forged]})
            message.components = [row, *message.components[:4]]  # a message holds 5 rows at most
        return await original(self, component_type, factory, interaction, custom_id, match)

    module.ViewStore.schedule_dynamic_item_call = schedule_dynamic_item_call


def _has_custom_id(components, custom_id: str) -> bool:
    for component in components or []:
        if getattr(component, "custom_id", None) == custom_id:
            return True
        if _has_custom_id(getattr(component, "children", None), custom_id):
            return True
    return False


_PATCHES = {TARGET: _patch, VIEW_TARGET: _patch_view_store}


class _PatchRenderOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _PATCHES or (fullname == VIEW_TARGET and not os.environ.get(TRUST_ENV)):
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
            _PATCHES[fullname](module)

        spec.loader.exec_module = exec_and_patch
        return spec


sys.meta_path.insert(0, _PatchRenderOnImport())
_run_shadowed_sitecustomize()
