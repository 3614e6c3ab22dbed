"""Feeds the renderer from the fair queue and carries each job to exactly one delivery.

Lifecycle (all state changes are written to SQLite before anything is shown to the user):
queued -> running -> done -> delivered, or -> failed / cancelled / expired.
After a restart (clean or kill -9): `done` jobs are delivered again (delivery edits the job's
own message, so a repeat edit never posts twice), `running` jobs go back to the queue unless
they already used their attempts, and queued jobs older than JOB_MAX_AGE expire.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from bot.errors import RenderError, user_message
from bot.models import (
    ImageSpec,
    Job,
    JobStatus,
    RenderBatch,
    RenderResult,
    StoredImage,
)
from bot.scheduler import FairScheduler
from bot.services.jobs import JobStore
from bot.services.progress import ProgressNotifier

log = logging.getLogger(__name__)


class Renderer(Protocol):
    async def render(self, batch: RenderBatch, on_progress: Callable[[int, int], None] | None = None) -> RenderResult: ...
    def cancel(self, batch_id: int) -> None: ...


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


class RenderRate:
    """Measured seconds per (step x image x megapixel), smoothed, for ETAs."""

    def __init__(self, initial: float | None = None):
        self.value = initial

    def observe(self, seconds: float, work: float) -> None:
        if work <= 0:
            return
        rate = seconds / work
        self.value = rate if self.value is None else 0.7 * self.value + 0.3 * rate

    @staticmethod
    def work(job: Job) -> float:
        p = job.params
        return p.steps * p.count * p.width * p.height / 1e6

    def estimate(self, job: Job) -> float | None:
        return None if self.value is None else self.value * self.work(job)


class Dispatcher:
    def __init__(self, store: JobStore, scheduler: FairScheduler, renderer: Renderer,
                 events: JobEvents, settings: DispatchSettings, clock: Callable[[], float] = time.time):
        self.store = store
        self.scheduler = scheduler
        self.renderer = renderer
        self.events = events
        self.settings = settings
        self.clock = clock
        self.rate = RenderRate()
        self.notifier = ProgressNotifier(settings.progress_interval)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._batch_ids = itertools.count(1)
        self._running: dict[int, Job] = {}  # job id -> job, for the batch on the renderer now
        self._running_batch: int | None = None
        self._running_eta_end: float | None = None
        self._cancelled: set[int] = set()
        self._solo: set[int] = set()  # jobs that crashed inside a batch render alone afterwards

    # ---- lifecycle ----
    async def start(self) -> None:
        rates = await self.store.recent_render_rates()
        if rates:
            self.rate = RenderRate(sum(rates) / len(rates))
        await self.recover()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def recover(self) -> None:
        """Bring the in-memory queue back in line with SQLite after a start."""
        for job in await self.store.with_status(JobStatus.DONE):
            self._spawn(self._deliver(job))
        for job in await self.store.with_status(JobStatus.RUNNING):
            if job.attempts >= self.settings.max_attempts:
                await self._end(job, JobStatus.FAILED,
                                f"This job stopped the renderer {job.attempts} times, so it was dropped.")
            else:
                await self.store.requeue([job.id])
                job.status = JobStatus.QUEUED
                self.enqueue(job, retry=True)
        for job in await self.store.with_status(JobStatus.QUEUED):
            if job.id not in self.scheduler:
                self.enqueue(job)

    def enqueue(self, job: Job, retry: bool = False, announced: bool = False) -> None:
        """Queue a job. `announced`: its message already shows its place (the first reply), so
        only later moves of the queue update it. Other jobs' places are refreshed when the
        queue moves (a batch starts, a job is cancelled), not on every arrival: a burst of
        arrivals must not turn into a burst of edits."""
        self.scheduler.push(job, retry=retry)
        self._wake.set()
        if announced:
            self.notifier.mark_sent(job.id)
            return
        position = self.scheduler.position(job.id)
        if position is not None:
            self._post_position(job, position, self._eta_at(job, position))

    def preview(self, job: Job) -> tuple[int, float | None]:
        """Place and ETA `job` would get if queued now."""
        position = self.scheduler.preview_position(job)
        return position, self._eta_at(job, position)

    # ---- cancelling ----
    async def cancel(self, job: Job) -> bool:
        """Cancel a queued job now, or a running one at its next step. False if already ended."""
        if not await self.store.finish(job.id, JobStatus.CANCELLED, "cancelled"):
            return False
        self.scheduler.remove(job.id)
        if job.id in self._running:
            self._cancelled.add(job.id)
            if all(j in self._cancelled for j in self._running) and self._running_batch is not None:
                self.renderer.cancel(self._running_batch)
        await self.notifier.finish(job.id)
        await self._safe(self.events.ended(job, JobStatus.CANCELLED, "Cancelled."))
        self._refresh_positions()
        return True

    # ---- the loop ----
    async def _run(self) -> None:
        while True:
            if not len(self.scheduler):
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self.scheduler.pop_batch(
                self.settings.max_batch_images if self.settings.batching else 0,
                can_batch=lambda job: job.id not in self._solo,
            )
            batch = [job for job in batch if await self._still_wanted(job)]
            if batch:
                try:
                    await self._render(batch)
                except asyncio.CancelledError:
                    raise
                except Exception:  # never let one batch stop the queue
                    log.exception("dispatching batch %s failed", [j.id for j in batch])
                    for job in batch:
                        await self._end(job, JobStatus.FAILED, user_message(Exception()))

    async def _still_wanted(self, job: Job) -> bool:
        if self.clock() - job.created_at > self.settings.job_max_age:
            minutes = int(self.settings.job_max_age // 60)
            await self._end(job, JobStatus.EXPIRED,
                            f"This job waited more than {minutes} minutes and expired. Please ask again.")
            return False
        return True

    def _build(self, batch: list[Job]) -> RenderBatch:
        head = batch[0].params
        specs = []
        for job in batch:
            p = job.params
            init = str(self.store.data_dir / p.init_image) if p.init_image else None
            for index in range(p.count):
                seed = p.image_seed(index)
                specs.append(ImageSpec(
                    job_id=job.id, index=index, prompt=p.prompt, negative_prompt=p.negative_prompt,
                    seed=seed, init_image=init,
                    output_path=str(self.settings.images_dir / str(job.id) / f"{index}-{seed}.png"),
                ))
        return RenderBatch(
            batch_id=next(self._batch_ids), width=head.width, height=head.height, steps=head.steps,
            guidance=head.guidance, images=tuple(specs), strength=head.strength, model_label=head.model,
            task=head.task,
        )

    async def _render(self, batch: list[Job]) -> None:
        await self.store.mark_running([j.id for j in batch], now=self.clock())
        for job in batch:
            job.attempts += 1
            job.status = JobStatus.RUNNING
        render_batch = self._build(batch)
        self._running = {job.id: job for job in batch}
        self._running_batch = render_batch.batch_id
        estimate = sum(self.rate.estimate(j) or 0.0 for j in batch) or None
        self._running_eta_end = time.monotonic() + estimate if estimate else None
        self._refresh_positions()
        for job in batch:  # replaces any "waiting" update still pending for these jobs
            self.notifier.post(job.id, lambda job=job: self.events.rendering(job, 0, job.params.steps, estimate))
        started = time.monotonic()

        def on_progress(step: int, total: int) -> None:
            elapsed = time.monotonic() - started
            eta = elapsed / step * (total - step) if step else None
            self._running_eta_end = time.monotonic() + eta if eta is not None else None
            for job in batch:
                if job.id not in self._cancelled:
                    self.notifier.post(job.id, lambda job=job: self.events.rendering(job, step, total, eta))

        try:
            result = await self.renderer.render(render_batch, on_progress)
        except RenderError as exc:
            await self._render_failed(batch, exc)
            return
        finally:
            self._running = {}
            self._running_batch = None
            self._running_eta_end = None
            self._cancelled.difference_update(j.id for j in batch)
        total_work = sum(RenderRate.work(j) for j in batch)
        self.rate.observe(result.seconds, total_work)
        seconds = {j.id: result.seconds * RenderRate.work(j) / total_work for j in batch}
        stored = await self.store.store_results(list(result.images), [j.id for j in batch],
                                                seconds=seconds, now=self.clock())
        for job in batch:
            if job.id in stored:
                job.status = JobStatus.DONE
                self._spawn(self._deliver(job))

    async def _render_failed(self, batch: list[Job], exc: RenderError) -> None:
        live = [job for job in batch if job.id not in self._cancelled]
        if exc.kind == "cancelled":
            return  # every job in it was cancelled and told so already
        retry_alone = len(batch) > 1 and exc.kind in ("crash", "hang", "oom")
        for job in live:
            if retry_alone:
                # We cannot tell which job broke a batch: each retries alone, once more per attempt.
                self._solo.add(job.id)
            if (exc.kind in ("crash", "hang") or retry_alone) and job.attempts < self.settings.max_attempts:
                log.warning("job %s: renderer %s (attempt %s), requeued", job.id, exc.kind, job.attempts)
                await self.store.requeue([job.id])
                job.status = JobStatus.QUEUED
                self.enqueue(job, retry=True)
                continue
            message = user_message(exc)
            if exc.kind in ("crash", "hang"):
                message += f" It failed {job.attempts} times, so it was dropped."
            await self._end(job, JobStatus.FAILED, message)

    # ---- telling the user ----
    async def _deliver(self, job: Job) -> None:
        await self.notifier.finish(job.id)
        images = await self.store.images(job.id)
        for attempt in range(self.settings.delivery_retries):
            try:
                message_id = await self.events.deliver(job, images)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("delivering job %s failed (try %s)", job.id, attempt + 1, exc_info=True)
                await asyncio.sleep(min(30.0, 2.0 ** attempt))
                continue
            await self.store.mark_delivered(job.id, message_id, now=self.clock())
            return
        log.error("job %s stays undelivered; it will be retried at the next start", job.id)

    async def _end(self, job: Job, status: JobStatus, message: str) -> None:
        self.scheduler.remove(job.id)
        if await self.store.finish(job.id, status, message, now=self.clock()):
            job.status = status
            await self.notifier.finish(job.id)
            await self._safe(self.events.ended(job, status, message))

    async def _safe(self, coro) -> None:
        try:
            await coro
        except Exception:
            log.warning("telling the user failed", exc_info=True)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- positions and ETAs ----
    def _remaining_current(self) -> float:
        if self._running_eta_end is None:
            return 0.0
        return max(0.0, self._running_eta_end - time.monotonic())

    def _eta_at(self, job: Job, position: int) -> float | None:
        """Seconds until `job`, at `position`, finishes: what is left of the running batch, the
        estimates of the jobs ahead (summed for the first `position_updates`, their mean standing
        in for the rest) and its own. None until a render has been measured."""
        own = self.rate.estimate(job)
        if own is None:
            return None
        ahead = [j for j in self.scheduler.ordered(min(position - 1, self.settings.position_updates))
                 if j.id != job.id]
        estimates = [self.rate.estimate(j) or 0.0 for j in ahead]
        mean = sum(estimates) / len(estimates) if estimates else own
        return self._remaining_current() + sum(estimates) + mean * max(0, position - 1 - len(ahead)) + own

    def _post_position(self, job: Job, position: int, eta: float | None) -> None:
        self.notifier.post(job.id, lambda: self.events.waiting(job, position, eta))

    def _refresh_positions(self) -> None:
        """Re-post position and ETA for the first waiting jobs (ETA: None until measured)."""
        eta: float | None = self._remaining_current() if self.rate.value is not None else None
        for position, job in enumerate(self.scheduler.ordered(self.settings.position_updates), 1):
            estimate = self.rate.estimate(job)
            eta = None if eta is None or estimate is None else eta + estimate
            self._post_position(job, position, eta)

    def position(self, job_id: int) -> int | None:
        return self.scheduler.position(job_id)

    def is_running(self, job_id: int) -> bool:
        return job_id in self._running
