"""The discord.py client: builds the services, starts the renderer, loads the cogs."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import discord
import yarl
from discord.ext import commands

from bot import logsafety
from bot.config import Settings
from bot.database import Database
from bot.frontend.flows import guard, reply_error
from bot.frontend.moderation import MOD
from bot.frontend.presenter import DiscordPresenter
from bot.frontend.safety import DiscordSafetyFront
from bot.models import INTERACTION_TOKEN_LIFETIME
from bot.renderer.pool import build_pool
from bot.renderer.profiles import model_label, resolve_profile
from bot.safety.image_checker import build_checker
from bot.scheduler import FairScheduler
from bot.services.admission import Admission
from bot.services.audit import AuditLog
from bot.services.authz import JobAuthorizer
from bot.services.calibration import BatchingCalibrator, CalibrationStore
from bot.services.costs import CostCalibrator, start_cost_measurement
from bot.services.dispatcher import Dispatcher, DispatchSettings
from bot.services.history import HistoryService
from bot.services.image_input import ImageInputs
from bot.services.jobs import JobStore
from bot.services.lifecycle import JobService
from bot.services.moderation import ModerationService
from bot.services.quotas import QuotaPolicy, QuotaService
from bot.services.retention import RetentionService
from bot.services.safety import SafetyService
from bot.services.settings_store import SettingsStore

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.imagine", "cogs.queue", "cogs.quota", "cogs.moderation", "cogs.safety", "cogs.history",
              "cogs.settings", "cogs.storage")


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at a Discord-compatible server (tests, REST proxies)."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class PixelBot(commands.Bot):
    def __init__(self, settings: Settings):
        intents = discord.Intents.none()
        intents.guilds = True  # channel and role cache; no message content needed
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            # Prompts are echoed back: nothing the bot says may ever ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.exit_code = 0
        self.db = Database(settings.db_path)
        self.store = JobStore(self.db, settings.data_dir)
        self.pool = build_pool(
            settings.image_model, list(settings.devices), settings.dtype, settings.step_timeout,
            renderer=settings.renderer, ray_address=settings.ray_address, encode_timeout=settings.encode_timeout,
        )
        self.presenter = DiscordPresenter(self)
        self.safety = SafetyService(self.db, settings, build_checker(settings.safety_image_checker,
                                                                     settings.safety_checker_model))
        self.safety.front = DiscordSafetyFront(self)
        self.profile = resolve_profile(settings.image_model)
        self.admission = Admission(settings, self.profile, self.store, model_label(settings.image_model))
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
        )
        self._renderer_started: asyncio.Future | None = None
        self._first_worker = asyncio.Lock()
        self._calibrated = False
        self.calibrator: BatchingCalibrator | None = None
        self.costs: CostCalibrator | None = None
        self.dispatcher: Dispatcher | None = None
        self.jobs: JobService | None = None
        self.moderation: ModerationService | None = None
        self.tree.on_error = reply_error
        self.tree.interaction_check = guard  # bans: the same check runs before every button (buttons._Guarded)

    async def setup_hook(self) -> None:
        await self.db.connect()
        # No workers yet: the queue is recovered and accepts jobs at once, and each worker joins
        # once the model has loaded on it (a worker that failed to load never takes a job).
        self.dispatcher = Dispatcher(self.store, FairScheduler(), [], self.presenter, self.dispatch_settings)
        self.jobs = JobService(self.admission, self.store, self.dispatcher, quotas=self.quotas, safety=self.safety)
        self.moderation = ModerationService(self.db, self.audit, self.jobs)
        await self.audit.load()
        await self.moderation.load()  # a pause from before the restart holds the queue from the start
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if MOD.commands:  # cogs attached their /mod subcommands while loading
            self.tree.add_command(MOD, override=True)
        await self.sync_commands_if_changed()
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
            asyncio.get_running_loop().create_task(self.close())

    async def _start_worker(self, worker) -> bool:
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
                        self.settings.data_dir / "calibration", self.settings.max_batch_images, self.dispatcher.idle)
                    self.calibrator.begin(worker, info.device, info.dtype)
                # Prices follow this device's measured costs; measured after batching, when idle.
                self.costs = start_cost_measurement(self.settings, self.admission, worker, info, self.dispatcher.idle,
                                                    self.calibrator.task if self.calibrator else None)
        self.dispatcher.add_workers([worker])
        return True

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # The token is a credential for 15 minutes: from now on it never reaches the log.
        logsafety.register_secret(interaction.token, INTERACTION_TOKEN_LIFETIME)

    async def sync_commands_if_changed(self) -> None:
        """Sync only when the command definitions changed: Discord allows 200 creates a day."""
        guild = discord.Object(self.settings.discord_guild_id) if self.settings.discord_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands:{self.application_id}:{guild.id if guild else 'global'}"
        if await self.store.get_state(key) == digest:
            log.info("application commands unchanged; not syncing")
            return
        await self.tree.sync(guild=guild)
        await self.store.set_state(key, digest)
        log.info("synced %d application commands", len(payload))

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
        await self.db.close()
        await super().close()
