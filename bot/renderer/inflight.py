"""A batch in flight on the local renderer process, as the client (client.py) and its watchdog
(watchdog.py) see it: its state until it ends, when it ran once it did, and the caller's callbacks,
which must never break the client's message loop."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.models import RenderBatch
from bot.renderer.worker import WorkerHandle

log = logging.getLogger("pixelforge.renderer")

ProgressCallback = Callable[[int, int], None]
DenoisedCallback = Callable[[], None]


@dataclass(frozen=True)
class BatchTiming:
    """When a finished batch ran, in time.monotonic() seconds (system-wide on Linux, so the worker's
    and the bot's clocks agree): the worker's pipeline call, and here its "denoised" and storing."""

    batch_id: int
    pipe_started: float
    pipe_ended: float
    denoised_at: float
    stored_at: float


@dataclass(eq=False)
class InFlight:
    """A batch sent to the worker and not finished yet."""

    batch: RenderBatch
    handle: WorkerHandle
    result: asyncio.Future  # EncodedBatch, or a RenderError
    on_progress: ProgressCallback | None
    on_denoised: DenoisedCallback | None
    last_seen: float  # monotonic time of the last message about it (the watchdog's clock)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    denoised: bool = False
    denoised_at: float = 0.0
    encoding: bool = False  # an encoder thread started on it (the encode clock runs)
    holds_slot: bool = True  # it owns RendererClient._slot until it is denoised or finished
    on_preview: Callable[[int, dict[int, bytes]], None] | None = None  # (step, JPEG): live previews (preview.py)


def call_back(callback: Callable | None, *args) -> None:
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("renderer callback failed")
