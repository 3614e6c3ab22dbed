"""Feeds the renderer pool from the fair queue and carries each job to exactly one delivery.

Lifecycle (all state changes are written to SQLite before anything is shown to the user):
queued -> running -> done -> delivered, or -> failed / cancelled / expired / blocked, always through
`JobService.end` (bot/services/lifecycle.py), which owns a job's life; this module runs it.

One loop per renderer worker, each with at most one batch *denoising*: a worker takes its next batch
as soon as the previous one has denoised, so the PNG encoding and storing of batch n overlap the
denoising of batch n+1 and the GPU does not wait for the CPU.

After a restart (clean or kill -9): `done` jobs are delivered again (delivery edits the job's own
message, so a repeat edit never posts twice), `running` jobs go back to the queue unless they
already used their attempts, and queued jobs older than JOB_MAX_AGE expire. A clean stop requeues
the jobs it interrupted without counting an attempt: only crashes and hangs use attempts up.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.errors import RenderError, user_message
from bot.i18n import N_
from bot.models import Job, JobStatus, RenderBatch
from bot.scheduler import FairScheduler
from bot.services.batch_spec import render_batch_for
from bot.services.dispatch_contracts import DispatchSettings, Endings, JobEvents, Renderer
from bot.services.eta import RenderRate, eta_at
from bot.services.jobs import JobStore
from bot.services.model_affinity import WorkerModels
from bot.services.preview_relay import PreviewRelay
from bot.services.progress import FirstReplyGate, ProgressNotifier

if TYPE_CHECKING:
    from bot.services.safety import SafetyService

log = logging.getLogger(__name__)


@dataclass
class _Running:
    """A batch on a worker: its jobs, the ones cancelled meanwhile, and when it should end."""

    batch_id: int
    worker: Renderer
    jobs: dict[int, Job]
    cancelled: set[int] = field(default_factory=set)
    eta_end: float | None = None  # time.monotonic() at which it should finish
    step: int = 0  # denoising steps done so far, of `total` (what a cancel while rendering pays for)
    total: int = 0


class Dispatcher:
    def __init__(self, store: JobStore, scheduler: FairScheduler, workers: Sequence[Renderer],
                 events: JobEvents, settings: DispatchSettings, clock: Callable[[], float] = time.time):
        self.store = store
        self.scheduler = scheduler
        self.workers = list(workers)
        self.events = events
        self.settings = settings
        self.clock = clock
        self.lifecycle: Endings | None = None  # set by JobService, which owns every ending
        self.safety: SafetyService | None = None  # set by JobService: the image check before delivery
        self.rate = RenderRate()
        self.notifier = ProgressNotifier(settings.progress_interval)
        self.previews = PreviewRelay()
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task] = []
        self._renders: set[asyncio.Task] = set()
        self._background: set[asyncio.Task] = set()
        self._batch_ids = itertools.count(1)
        self._running: dict[int, _Running] = {}  # batch id -> batch on a worker now
        self._batch_of: dict[int, int] = {}  # job id -> batch id, for running jobs
        self._solo: set[int] = set()  # jobs that crashed inside a batch render alone afterwards
        self.gate = FirstReplyGate()
        self.paused = False  # a moderator's /mod pause: no new batch starts; running ones finish
        self.affinity: WorkerModels | None = None  # IMAGE_MODELS: which worker holds which model (wiring sets it)

    # ---- lifecycle ----
    async def start(self) -> None:
        rates = await self.store.recent_render_rates()
        if rates:
            self.rate = RenderRate(sum(rates) / len(rates))
        await self.recover()
        workers, self.workers = self.workers, []
        self.add_workers(workers)

    def add_workers(self, workers: Sequence[Renderer]) -> None:
        """Start serving the queue with these workers too (the bot adds them once they loaded)."""
        loop = asyncio.get_running_loop()
        for worker in workers:
            self.workers.append(worker)
            self._loops.append(loop.create_task(self._serve(worker), name=f"dispatcher-{len(self.workers)}"))

    async def stop(self) -> None:
        """Stop taking work; batches in flight are interrupted and requeued (no attempt counted)."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for task in list(self._renders) + list(self._background):
            task.cancel()
        await asyncio.gather(*self._renders, *self._background, return_exceptions=True)

    async def recover(self) -> None:
        """Bring the in-memory queue back in line with SQLite after a start: O(k log k) for k jobs,
        and position edits only for the first waiting jobs (as for live updates)."""
        for job in await self.store.with_status(JobStatus.DONE):
            self._spawn(self._deliver(job))
        retry = []
        for job in await self.store.with_status(JobStatus.RUNNING):
            if job.attempts >= self.settings.max_attempts:
                await self._end(job, JobStatus.FAILED,
                                f"This job stopped the renderer {job.attempts} times, so it was dropped.")
            else:
                retry.append(job)
        await self.store.requeue([job.id for job in retry])
        for job in retry:
            job.status = JobStatus.QUEUED
        self.scheduler.push_many(retry, retry=True)
        self.scheduler.push_many(await self.store.with_status(JobStatus.QUEUED))  # skips those just requeued
        self._wake.set()
        self._refresh_positions()

    def enqueue(self, job: Job, retry: bool = False, announced: bool = False) -> None:
        """Queue a job. `announced`: its first reply shows its place, so only later moves of the
        queue update it. Other jobs' places are refreshed when the queue moves (a batch starts, a
        job ends), not on every arrival: a burst of arrivals must not become a burst of edits."""
        self.scheduler.push(job, retry=retry)
        self._wake.set()
        if announced:
            self.notifier.mark_sent(job.id)
            return
        position = self.scheduler.position(job.id)
        if position is not None:
            self._post_position(job, position, self._eta_at(job, position))

    def place(self, job: Job) -> tuple[int | None, float | None]:
        """A queued job's place and ETA now; (None, ETA) once it is rendering."""
        position = self.scheduler.position(job.id)
        if position is None:
            return None, self.rate.estimate(job)
        return position, self._eta_at(job, position)

    def preview(self, job: Job) -> tuple[int, float | None]:
        """Place and ETA `job` would get if queued now."""
        position = self.scheduler.preview_position(job)
        return position, self._eta_at(job, position)

    # ---- the first reply gate (see JobService.submit) ----
    def hold(self, job_id: int) -> None:
        self.gate.hold(job_id)

    def release(self, job_id: int, shown: bool) -> None:
        self.gate.release(job_id, shown)
        if shown:  # the reply just wrote the message: the next edit waits a full interval
            self.notifier.mark_sent(job_id)

    async def _tell(self, job: Job, show: Callable[[], Awaitable[object]]) -> None:
        """Run one front-end update for `job` once its first reply is out; never raises."""
        if not await self.gate.opened(job.id):
            return
        try:
            await show()
        except Exception:
            log.warning("telling the user about job %s failed", job.id, exc_info=True)

    # ---- ending (JobService.end calls these) ----
    def forget(self, job: Job) -> None:
        """An ended job leaves the queue, or stops its batch at the next step if it was the last
        live job in it."""
        self.scheduler.remove(job.id)
        running = self._running.get(self._batch_of.get(job.id, -1))
        if running is not None:
            running.cancelled.add(job.id)
            if running.cancelled >= running.jobs.keys():
                running.worker.cancel(running.batch_id)

    def progress(self, job_id: int) -> tuple[int, int] | None:
        """(steps done, steps in all) of a rendering job's batch; None if it is not rendering."""
        running = self._running.get(self._batch_of.get(job_id, -1))
        if running is None:
            return None
        return running.step, running.total

    # ---- pause (a moderator's /mod pause and /mod resume) ----
    def pause(self) -> None:
        self.paused = True
        self._refresh_positions()  # waiting jobs say why they do not start

    def resume(self) -> None:
        self.paused = False
        self._wake.set()
        self._refresh_positions()

    async def tell_ended(self, job: Job, status: JobStatus, message: str) -> None:
        await self.notifier.finish(job.id)
        await self._tell(job, lambda: self.events.ended(job, status, message))
        self._refresh_positions()

    async def _end(self, job: Job, status: JobStatus, message: str) -> None:
        assert self.lifecycle is not None, "a JobService owns this dispatcher's endings"
        await self.lifecycle.end(job, status, message)

    # ---- the loops ----
    async def _serve(self, worker: Renderer) -> None:
        """One worker's loop: the next batch as soon as the worker may denoise again."""
        while True:
            while self.paused or not len(self.scheduler):
                self._wake.clear()
                await self._wake.wait()
            batch = self.scheduler.pop_batch(
                self.settings.max_batch_images if self.settings.batching else 0,
                can_batch=lambda job: job.id not in self._solo,
                prefer=self.affinity.prefer(worker) if self.affinity else None,
            )
            batch = [job for job in batch if await self._still_wanted(job)]
            if not batch:
                continue
            if self.affinity:
                self.affinity.used(worker, batch[0].params.model)
            free = asyncio.Event()
            task = asyncio.get_running_loop().create_task(self._render(worker, batch, free))
            self._renders.add(task)
            task.add_done_callback(self._renders.discard)
            await free.wait()

    async def _still_wanted(self, job: Job) -> bool:
        if self.clock() - job.created_at > self.settings.job_max_age:
            minutes = int(self.settings.job_max_age // 60)
            await self._end(job, JobStatus.EXPIRED,
                            f"This job waited more than {minutes} minutes and expired. Please ask again.")
            return False
        return True

    def _build(self, batch: list[Job]) -> RenderBatch:
        return render_batch_for(batch, next(self._batch_ids), self.store.data_dir, self.settings)

    async def _render(self, worker: Renderer, batch: list[Job], free: asyncio.Event) -> None:
        """Render one batch on `worker`; `free` is set once the worker may take the next one."""
        try:
            await self._render_batch(worker, batch, free)
        except asyncio.CancelledError:
            # The bot is stopping: no fault of these jobs, so the attempt is given back (only
            # rows still 'running' change: a batch already stored stays done).
            await asyncio.shield(self.store.requeue([j.id for j in batch], interrupted=True))
            raise
        except Exception:  # never let one batch stop the queue
            log.exception("dispatching batch %s failed", [j.id for j in batch])
            for job in batch:
                await self._end(job, JobStatus.FAILED, user_message(Exception(), None))
        finally:
            free.set()

    async def _render_batch(self, worker: Renderer, batch: list[Job], free: asyncio.Event) -> None:
        await self.store.mark_running([j.id for j in batch], now=self.clock())
        for job in batch:
            job.attempts += 1
            job.status = JobStatus.RUNNING
        render_batch = self._build(batch)
        estimate = sum(self.rate.estimate(j) or 0.0 for j in batch) or None
        running = _Running(render_batch.batch_id, worker, {j.id: j for j in batch},
                           eta_end=time.monotonic() + estimate if estimate else None, total=render_batch.steps)
        self._running[running.batch_id] = running
        self._batch_of.update((j.id, running.batch_id) for j in batch)
        self._refresh_positions()
        for job in batch:  # replaces any "waiting" update still pending for these jobs
            self._post(job, lambda job=job: self.events.rendering(job, 0, job.params.steps, estimate))  # type: ignore[misc]
        started = time.monotonic()

        def on_progress(step: int, total: int) -> None:
            running.step, running.total = step, total
            elapsed = time.monotonic() - started
            eta = elapsed / step * (total - step) if step else None
            running.eta_end = time.monotonic() + eta if eta is not None else None
            for job in batch:
                if job.id not in running.cancelled:
                    self._post(job, lambda job=job: self.previews.rendering(  # type: ignore[misc]
                        self.events, self.safety, job, step, total, eta))

        def on_preview(step: int, previews: dict[int, bytes]) -> None:
            self.previews.keep(previews)  # shown with the next progress edit (preview_relay.py)
            on_progress(max(step, running.step), running.total or render_batch.steps)

        try:
            extra = {"on_preview": on_preview} if render_batch.preview_every else {}
            result = await worker.render(render_batch, on_progress, free.set, **extra)
        except RenderError as exc:
            await self._render_failed(batch, running, exc)
            return
        finally:
            del self._running[running.batch_id]
            self.previews.drop([job.id for job in batch])
            for job in batch:
                self._batch_of.pop(job.id, None)
        total_work = sum(j.params.work for j in batch)
        self.rate.observe(result.seconds, total_work)
        seconds = {j.id: result.seconds * j.params.work / total_work for j in batch}
        stored = await self.store.store_results(list(result.images), [j.id for j in batch],
                                                seconds=seconds, now=self.clock())
        for job in batch:
            if job.id in stored:
                job.status = JobStatus.DONE
                self._spawn(self._deliver(job))

    async def _render_failed(self, batch: list[Job], running: _Running, exc: RenderError) -> None:
        live = [job for job in batch if job.id not in running.cancelled]
        if exc.kind == "cancelled":
            return  # every job in it was cancelled and told so already
        if exc.kind == "shutdown":
            await self.store.requeue([job.id for job in live], interrupted=True)
            return
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
            message = user_message(exc, None)  # English, still translatable: the job's public message says it
            if exc.kind in ("crash", "hang"):
                message = N_("{message} It failed {n} times, so it was dropped.", message=message, n=job.attempts)
            await self._end(job, JobStatus.FAILED, message)

    # ---- telling the user ----
    async def _deliver(self, job: Job) -> None:
        if not await self.gate.opened(job.id):
            return  # its first reply failed: the job was ended, nothing to show
        await self.notifier.finish(job.id)
        images = await self.store.images(job.id)
        if self.safety is not None and not await self.safety.passes_review(job, images, self._end):
            return
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

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _post(self, job: Job, show: Callable[[], Awaitable[object]]) -> None:
        self.notifier.post(job.id, lambda: self._tell(job, show))

    # ---- positions and ETAs ----
    def _remaining_running(self) -> float:
        """Seconds of work left on the workers, spread over them: when the next worker frees up."""
        now = time.monotonic()
        left = [max(0.0, r.eta_end - now) for r in self._running.values() if r.eta_end is not None]
        idle = len(self.workers) - len(self._running)
        return 0.0 if idle > 0 or not left else min(left)

    def _eta_at(self, job: Job, position: int) -> float | None:
        """See eta.eta_at; None while the queue is paused (no honest estimate until it resumes)."""
        if self.paused:
            return None
        ahead = self.scheduler.ordered(min(position - 1, self.settings.position_updates))
        return eta_at(self.rate, job, position, ahead, self._remaining_running(), len(self.workers))

    def _post_position(self, job: Job, position: int, eta: float | None) -> None:
        self._post(job, lambda: self.events.waiting(job, position, eta))

    def _refresh_positions(self) -> None:
        """Re-post place and ETA for the first waiting jobs (ETA: None until measured)."""
        for position, job in enumerate(self.scheduler.ordered(self.settings.position_updates), 1):
            self._post_position(job, position, self._eta_at(job, position))

    def position(self, job_id: int) -> int | None:
        return self.scheduler.position(job_id)

    def is_running(self, job_id: int) -> bool:
        return job_id in self._batch_of

    def idle(self) -> bool:  # nothing waiting, rendering or being delivered, and no pause (calibration.py)
        return not (self.paused or len(self.scheduler) or self._renders or self._background)
