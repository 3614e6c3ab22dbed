"""What the dispatcher (bot/services/dispatcher.py) is given: its settings, and the three parties it
talks to without knowing them: the renderer workers (bot/renderer/pool.py), the front end that
shows a job (JobEvents: bot/frontend/presenter.py) and the owner of every ending (Endings:
JobService, bot/services/lifecycle.py, the floor above the dispatcher)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.models import Job, JobStatus, RenderBatch, RenderResult, StoredImage


class Renderer(Protocol):
    """One renderer worker as the dispatcher uses it (bot/renderer/pool.py: RenderWorker)."""

    async def render(self, batch: RenderBatch, on_progress: Callable[[int, int], None] | None = None,
                     on_denoised: Callable[[], None] | None = None, *,
                     on_preview: Callable[[int, dict[int, bytes]], None] | None = None) -> RenderResult: ...
    def cancel(self, batch_id: int) -> None: ...


class Endings(Protocol):
    """Who ends a job: JobService (bot/services/lifecycle.py), the floor above, which owns every
    ending and its refund."""

    async def end(self, job: Job, status: JobStatus, reason: str, *, notify: bool = True) -> bool: ...


class JobEvents(Protocol):
    """What the front end shows. Implemented by the Discord side; services stay Discord-free."""

    async def waiting(self, job: Job, position: int, eta: float | None) -> None: ...
    async def rendering(self, job: Job, step: int, total: int, eta: float | None) -> None: ...
    async def deliver(self, job: Job, images: list[StoredImage]) -> int | None:
        """Show the images; must be idempotent (called again after a crash). Returns the message id."""
    async def ended(self, job: Job, status: JobStatus, message: str) -> None: ...


@dataclass
class DispatchSettings:
    images_dir: Path
    max_batch_images: int = 4
    batching: bool = False
    max_attempts: int = 3
    job_max_age: float = 3600.0
    progress_interval: float = 2.5
    delivery_retries: int = 5
    position_updates: int = 25  # only the first N waiting jobs get live position edits
    upscaler_model: str | None = None  # UPSCALER_MODEL, sent with upscale batches
    watermark: bool = True  # WATERMARK, sent with every batch
    preview_every: int = 0  # PREVIEW_EVERY_STEPS, sent with every batch (bot/services/preview_relay.py)
    preview_taesd: str | None = None  # PREVIEW_TAESD
    # --- models --- a job's model name -> what the renderer loads (IMAGE_MODELS); its LoRAs' folder
    models: tuple[tuple[str, str], ...] = ()
    lora_dir: Path | None = None
