"""The renderer seam the dispatcher uses: a pool of workers, local processes or Ray actors (no torch).

    pool = build_pool(settings.image_model, ["cuda:0", "cuda:1"], renderer="local")
    info = await pool.start()
    for worker in pool.workers:  # the dispatcher keeps one batch denoising per worker
        result = await worker.render(batch, on_progress, on_denoised)

Every `RenderWorker` has the same semantics (see RendererClient.render): `render()` returns once
every image is stored at its spec's output_path; `on_denoised()` fires when the pipeline call ended,
and from then on the next `render()` may go to the same worker while the previous batch encodes;
errors are RenderError "cancelled", "oom", "error", "crash" (every batch in flight on the worker
fails; it restarted first), "hang" or "shutdown" (close() during the batch: requeue it without
counting an attempt). "hang": no step for step_timeout, or encoding longer than encode_timeout
(watchdog.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.errors import RenderError
from bot.models import ModelInfo, RenderBatch, RenderResult
from bot.renderer.watchdog import DEFAULT_ENCODE_TIMEOUT

log = logging.getLogger("pixelforge.renderer.pool")


@runtime_checkable
class RenderWorker(Protocol):
    name: str  # for logs: "cpu#0", "cuda:1", "ray#2"
    info: ModelInfo | None
    restarts: int

    async def start(self) -> ModelInfo: ...

    async def render(self, batch: RenderBatch, on_progress: Callable[[int, int], None] | None = None,
                     on_denoised: Callable[[], None] | None = None, *,
                     on_preview: Callable[[int, dict[int, bytes]], None] | None = None) -> RenderResult: ...

    def cancel(self, batch_id: int) -> None: ...

    async def close(self) -> None: ...


@dataclass
class RendererPool:
    workers: list[RenderWorker]

    async def start(self) -> ModelInfo:
        """Start every worker at once (each loads the model). Returns the info of the first that
        loaded; a worker that failed is logged and stays in the pool (its next render() tries to
        start it again). RenderError("error") only if none loaded."""
        loaded: list[ModelInfo] = []
        failures: list[str] = []

        async def start_one(worker: RenderWorker) -> None:
            try:
                loaded.append(await worker.start())
            except Exception as exc:
                log.error("renderer %s did not start: %s", worker.name, exc)
                failures.append(f"{worker.name}: {exc}")

        await asyncio.gather(*(start_one(w) for w in self.workers))
        if not loaded:
            raise RenderError("error", "no renderer started (" + "; ".join(failures or ["no workers"]) + ")")
        return loaded[0]

    async def close(self) -> None:
        await asyncio.gather(*(w.close() for w in self.workers), return_exceptions=True)


def plan_local_devices(devices: list[str], cpu_count: int | None = None) -> list[tuple[str, str, int | None]]:
    """(name, device, torch threads) of each local worker for a DEVICES list.

    "auto" (alone) = one worker on the best device. "cpu" may repeat: each CPU worker gets
    cores // CPU workers threads, so two workers do not oversubscribe the cores. "cuda" means
    "cuda:0"; each GPU takes one worker (a second one would double its memory for no gain)."""
    entries = [d.strip().lower() for d in devices if d and d.strip()] or ["auto"]
    if "auto" in entries:
        if len(entries) > 1:
            raise ValueError("DEVICES: 'auto' cannot be combined with other devices")
        return [("auto", "auto", None)]
    n_cpu = entries.count("cpu")
    threads = max(1, (cpu_count or os.cpu_count() or 1) // n_cpu) if n_cpu else None
    plan: list[tuple[str, str, int | None]] = []
    seen: set[str] = set()
    for entry in entries:
        if entry == "cpu":
            plan.append((f"cpu#{sum(1 for p in plan if p[1] == 'cpu')}", "cpu", threads))
            continue
        if entry == "cuda":
            entry = "cuda:0"
        kind, _, index = entry.partition(":")
        if kind not in ("cuda", "mps") or (kind == "cuda" and not index.isdigit()) or (kind == "mps" and index):
            raise ValueError(f"DEVICES: unknown device {entry!r} (use auto, cpu, cuda, cuda:N or mps)")
        if entry in seen:
            raise ValueError(f"DEVICES: {entry} is listed twice (one worker per GPU)")
        seen.add(entry)
        plan.append((entry, entry, None))
    return plan


def build_pool(model: str, devices: list[str], dtype: str = "auto", step_timeout: float = 120.0, *,
               renderer: str = "local", ray_address: str | None = None, env: dict | None = None,
               encode_timeout: float = DEFAULT_ENCODE_TIMEOUT) -> RendererPool:
    """The workers for `devices` (not started yet).

    renderer="local": one RendererClient (a spawned worker process) per device entry.
    renderer="ray": Ray actors from bot.renderer.ray_worker (imported only then: Ray is an extra);
    ray_address None/"" starts a local Ray for this bot alone, "auto" joins this machine's cluster."""
    if renderer == "ray":
        from bot.renderer.ray_worker import build_ray_workers

        entries = [d.strip() for d in devices if d and d.strip()] or ["auto"]
        return RendererPool(list(build_ray_workers(model, entries, dtype, step_timeout, encode_timeout=encode_timeout,
                                                   ray_address=ray_address, env=env)))
    if renderer != "local":
        raise ValueError(f"RENDERER: unknown renderer {renderer!r} (use local or ray)")
    from bot.renderer.client import RendererClient

    return RendererPool([
        RendererClient(model, device=device, dtype=dtype, step_timeout=step_timeout, env=env, threads=threads,
                       name=name, encode_timeout=encode_timeout)
        for name, device, threads in plan_local_devices(devices)
    ])
