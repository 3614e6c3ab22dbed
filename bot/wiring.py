"""The services every front end shares, built and started in one place: the Discord client
(bot/frontend/app.py) and the web front end (bot/web/) run the same job service, scheduler,
renderer pool, quotas, content safety and history, so a web job and a Discord job wait in the same
fair line and land in the same database.

A front end hands in where job events go (`EventsRouter`: each front end claims its own jobs) and
where content safety asks about channels (`SafetyFrontRouter`); nothing here imports discord.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.database import Database
from bot.models import Job, JobStatus, StoredImage
from bot.models_catalog import ModelCatalog
from bot.renderer.pool import build_pool
from bot.renderer.profiles import model_label, resolve_profile
from bot.safety.image_checker import build_checker
from bot.scheduler import FairScheduler
from bot.services.admission import Admission
from bot.services.audit import AuditLog
from bot.services.authz import JobAuthorizer
from bot.services.calibration import BatchingCalibrator, CalibrationStore
from bot.services.costs import CostCalibrator, start_cost_measurement
from bot.services.dispatcher import Dispatcher, DispatchSettings, JobEvents
from bot.services.history import HistoryService
from bot.services.image_input import ImageInputs
from bot.services.jobs import JobStore
from bot.services.lifecycle import JobService
from bot.services.model_affinity import WorkerModels
from bot.services.moderation import ModerationService
from bot.services.quotas import QuotaPolicy, QuotaService
from bot.services.retention import RetentionService
from bot.services.safety import BlockRecord, SafetyService
from bot.services.safety_records import SafetyFront

log = logging.getLogger(__name__)


class NoFrontEnd(RuntimeError):
    """A job whose front end is not running here (a Discord job while only the web runs): its
    delivery is retried at the next start that has its front end."""


class EventsRouter:
    """The dispatcher's JobEvents: each job's events go to the front end that claimed it."""

    def __init__(self, default: JobEvents | None = None):
        self.default = default
        self._claims: list[tuple[Callable[[Job], bool], JobEvents]] = []

    def claim(self, owns: Callable[[Job], bool], events: JobEvents) -> None:
        self._claims.append((owns, events))

    def _of(self, job: Job) -> JobEvents:
        for owns, events in self._claims:
            if owns(job):
                return events
        if self.default is None:
            raise NoFrontEnd(f"job {job.id} belongs to a front end that is not running")
        return self.default

    async def waiting(self, job: Job, position: int, eta: float | None) -> None:
        await self._of(job).waiting(job, position, eta)

    async def rendering(self, job: Job, step: int, total: int, eta: float | None) -> None:
        await self._of(job).rendering(job, step, total, eta)

    async def rendering_preview(self, job: Job, step: int, total: int, eta: float | None, preview: bytes) -> None:
        """A progress edit with a live preview, where the job's front end shows them."""
        events = self._of(job)
        show = getattr(events, "rendering_preview", None)
        await (show(job, step, total, eta, preview) if show is not None else events.rendering(job, step, total, eta))

    def checks_previews(self, job: Job) -> bool:
        """Whether the job's front end shows previews the image checker passed (the web's does)."""
        try:
            wants = getattr(self._of(job), "checks_previews", None)
        except NoFrontEnd:
            return False
        return bool(wants is not None and wants(job))

    async def deliver(self, job: Job, images: list[StoredImage]) -> int | None:
        return await self._of(job).deliver(job, images)

    async def ended(self, job: Job, status: JobStatus, message: str) -> None:
        await self._of(job).ended(job, status, message)


class SafetyFrontRouter:
    """Content safety's front: channels a front end claims answer there (the web's own channel is
    never age-restricted); the rest, and the moderators' log channel, are Discord's."""

    def __init__(self, discord: SafetyFront | None = None):
        self.discord = discord
        self.sfw_channels: set[int] = set()

    async def channel_nsfw(self, channel_id: int) -> bool:
        if channel_id in self.sfw_channels or self.discord is None:
            return False  # fail closed
        return await self.discord.channel_nsfw(channel_id)

    async def announce_block(self, log_channel_id: int, record: BlockRecord, images: list[str]) -> None:
        if self.discord is not None:
            await self.discord.announce_block(log_channel_id, record, images)

    async def announce_report(self, log_channel_id: int, job: Job, reporter_id: int) -> None:
        if self.discord is not None:
            await self.discord.announce_report(log_channel_id, job, reporter_id)


class Services:
    """Builds the services (`__init__`, no I/O), opens the database and the queue (`open`), starts
    the background work and the renderers (`start`) and stops it all (`close`). `on_fatal` runs
    when no renderer could load the model (exit code 4)."""

    def __init__(self, settings: Settings, on_fatal: Callable[[], Any] | None = None):
        from bot.services.settings_store import SettingsStore

        self.settings = settings
        self.exit_code = 0
        self.on_fatal = on_fatal
        self.events = EventsRouter()
        self.safety_front = SafetyFrontRouter()
        self.db = Database(settings.db_path)
        self.store = JobStore(self.db, settings.data_dir)
        self.pool = build_pool(
            settings.image_model, list(settings.devices), settings.dtype, settings.step_timeout,
            renderer=settings.renderer, ray_address=settings.ray_address, encode_timeout=settings.encode_timeout,
            env={**dict(settings.render_levers), "MODEL_CACHE_SIZE": str(settings.model_cache_size)},
        )
        self.safety = SafetyService(self.db, settings, build_checker(settings.safety_image_checker,
                                                                     settings.safety_checker_model))
        self.safety.front = self.safety_front
        self.profile = resolve_profile(settings.image_model)
        self.admission = Admission(settings, self.profile, self.store, model_label(settings.image_model),
                                   catalog=ModelCatalog.from_settings(settings, self.profile))
        self.history = HistoryService(self.db, self.store)
        self.member_settings = SettingsStore(self.db)
        self.inputs = ImageInputs(self.db, settings.data_dir, self.profile,
                                  max_bytes=int(settings.upload_max_mib * 2**20))
        self.retention = RetentionService(self.db, settings.data_dir, settings.db_path, settings.image_retention_days,
                                          block_log_days=settings.block_log_retention_days)
        self.authz = JobAuthorizer(self.db, self.store, allow_dms=settings.allow_dms,
                                   owner_ids=settings.owner_user_ids)
        self.audit = AuditLog(self.db)
        self.safety.audit = self.audit  # /mod safety changes are audited like every moderator action
        self.quotas = QuotaService(self.db, QuotaPolicy.from_settings(settings), self.audit)
        self.dispatch_settings = DispatchSettings(
            images_dir=settings.images_dir,
            max_batch_images=settings.max_batch_images,
            batching=settings.batching == "on",
            max_attempts=settings.max_attempts,
            job_max_age=settings.job_max_age,
            progress_interval=settings.progress_interval,
            upscaler_model=settings.upscaler_model,
            watermark=settings.watermark,
            preview_every=settings.preview_every_steps, preview_taesd=settings.preview_taesd,
            models=tuple((e.name, e.source) for e in self.admission.catalog.entries), lora_dir=settings.lora_dir,
        )
        self._renderer_started: asyncio.Future | None = None
        self._first_worker = asyncio.Lock()
        self._calibrated = False
        self.calibrator: BatchingCalibrator | None = None
        self.costs: CostCalibrator | None = None
        self.dispatcher: Dispatcher | None = None
        self.jobs: JobService | None = None
        self.moderation: ModerationService | None = None
        self._opened = False

    async def open(self) -> None:
        await self.db.connect()
        self._opened = True
        # No workers yet: the queue is recovered and accepts jobs at once, and each worker joins
        # once the model has loaded on it (a worker that failed to load never takes a job).
        self.dispatcher = Dispatcher(self.store, FairScheduler(), [], self.events, self.dispatch_settings)
        if len(self.admission.catalog.entries) > 1:  # prefer a worker that holds the job's model
            self.dispatcher.affinity = WorkerModels(self.admission.catalog.default, self.settings.model_cache_size)
        self.jobs = JobService(self.admission, self.store, self.dispatcher, quotas=self.quotas, safety=self.safety)
        self.moderation = ModerationService(self.db, self.audit, self.jobs)
        await self.audit.load()
        await self.moderation.load()  # a pause from before the restart holds the queue from the start

    async def start(self) -> None:
        assert self.jobs is not None, "start() before open()"  # open() builds the job service
        await self.safety.start()  # the image checker loads before any job can be delivered
        await self.jobs.start()
        await self.retention.start()
        self._renderer_started = asyncio.get_running_loop().create_task(self._start_renderer())

    async def _start_renderer(self) -> None:
        """Start every worker at once; each one joins the dispatcher as soon as its model loaded, so
        a slow or failing worker (a Ray GPU that is not free yet) never holds the others back."""
        results = await asyncio.gather(*(self._start_worker(w) for w in self.pool.workers))
        if not any(results):
            log.critical("the image model could not be loaded on any renderer")
            self.exit_code = 4
            if self.on_fatal is not None:
                asyncio.get_running_loop().create_task(self.on_fatal())

    async def _start_worker(self, worker) -> bool:
        dispatcher = self.dispatcher
        assert dispatcher is not None  # start() runs this, after open() built the dispatcher
        try:
            info = await worker.start()
        except Exception as exc:
            log.error("renderer %s could not load the model: %s", worker.name, getattr(exc, "message", exc))
            return False
        log.info("renderer %s ready: %s on %s (%s, %s)", worker.name, info.pipeline_class, info.device, info.dtype,
                 info.scheduler)
        async with self._first_worker:  # the first one to load decides batching for all
            if not self._calibrated:
                self._calibrated = True
                self.admission.scheduler_name = info.scheduler
                if self.settings.batching == "auto":  # never before a member's job: see calibration.py
                    self.calibrator = BatchingCalibrator(
                        self.dispatch_settings, CalibrationStore(self.settings.data_dir / "calibration.json"),
                        self.profile, self.settings.image_model, model_label(self.settings.image_model),
                        self.settings.data_dir / "calibration", self.settings.max_batch_images, dispatcher.idle)
                    self.calibrator.begin(worker, info.device, info.dtype)
                # Prices follow this device's measured costs; measured after batching, when idle.
                self.costs = start_cost_measurement(self.settings, self.admission, worker, info, dispatcher.idle,
                                                    self.calibrator.task if self.calibrator else None)
        dispatcher.add_workers([worker])
        return True

    async def close(self) -> None:
        if self._renderer_started is not None and not self._renderer_started.done():
            self._renderer_started.cancel()
        if self.calibrator is not None:
            await self.calibrator.stop()
        if self.costs is not None:
            await self.costs.stop()
        await self.retention.stop()
        if self.jobs is not None:
            await self.jobs.stop()  # interrupted renders are requeued before the workers stop
        await self.safety.stop()
        await self.pool.close()
        if self._opened:
            await self.db.close()
