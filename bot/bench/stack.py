"""The bot's services around a real renderer pool, without Discord: what the end-to-end figures
of run.py and batching.py measure (replies are no-ops; deliveries are timed by `Delivered`)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.bench.delivered import Delivered
from bot.models import GenerationRequest, Job, Requester


async def serving_stack(model: str, devices: list[str], dtype: str, data_dir: Path, batching: bool,
                         max_batch: int, size: int):
    """The bot's services around a real renderer pool, without Discord (replies are no-ops); its
    1:1 jobs render at `size` x `size`."""
    from bot.config import load_settings
    from bot.database import Database
    from bot.renderer.pool import build_pool
    from bot.renderer.profiles import model_label, resolve_profile
    from bot.scheduler import FairScheduler
    from bot.services.admission import Admission
    from bot.services.dispatcher import Dispatcher, DispatchSettings
    from bot.services.jobs import JobStore
    from bot.services.lifecycle import JobService

    settings = load_settings({"DISCORD_TOKEN": "bench", "DATA_DIR": str(data_dir), "MAX_QUEUED_PER_USER": "1000",
                              "MAX_QUEUE_SIZE": "100000"})
    db = await Database(settings.db_path).connect()
    store = JobStore(db, data_dir)
    profile = resolve_profile(model)
    profile = replace(profile, default_size=size, size_bucket=profile.size_multiple)
    admission = Admission(settings, profile, store, model_label(model))
    pool = build_pool(model, devices, dtype)
    await pool.start()
    events = Delivered()
    dispatcher = Dispatcher(store, FairScheduler(), pool.workers, events, DispatchSettings(
        images_dir=settings.images_dir, batching=batching, max_batch_images=max_batch, progress_interval=1.0))
    jobs = JobService(admission, store, dispatcher)
    await jobs.start()
    return Stack(db, pool, dispatcher, jobs, events)


@dataclass
class Stack:
    db: Any
    pool: Any
    dispatcher: Any
    jobs: Any
    events: Delivered

    async def submit(self, user: int, request: GenerationRequest) -> Job:
        async def acknowledge(job, position, eta):
            return None
        return await self.jobs.submit(Requester(user_id=user, channel_id=1), request, acknowledge)

    async def close(self) -> None:
        await self.jobs.stop()
        await self.pool.close()
        await self.db.close()


async def wait_delivered(events: Delivered, ids: list[int]) -> None:
    while not all(i in events.times for i in ids):
        events.event.clear()
        await events.event.wait()
