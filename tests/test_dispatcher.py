"""The dispatcher against a scripted renderer: lifecycle, retries, cancel, expiry, recovery."""
from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest
from PIL import Image

from bot.config import load_settings
from bot.database import Database
from bot.errors import RenderError
from bot.models import GenerationRequest, JobStatus, RenderedImage, RenderResult, Requester
from bot.renderer.profiles import profile_for
from bot.scheduler import FairScheduler
from bot.services.admission import Admission
from bot.services.dispatcher import Dispatcher, DispatchSettings
from bot.services.jobs import JobStore
from bot.services.lifecycle import JobService


class ScriptedRenderer:
    """Writes a flat PNG per image. A prompt containing 'crash', 'oom' or 'hang' fails that way;
    'slow' takes a while so it can be cancelled."""

    def __init__(self):
        self.batches = []
        self.cancelled = set()

    async def render(self, batch, on_progress=None, on_denoised=None):
        self.batches.append(batch)
        for spec in batch.images:
            for kind in ("crash", "oom", "hang"):
                if kind in spec.prompt:
                    raise RenderError(kind, f"injected {kind}")
        for step in range(1, batch.steps + 1):
            if batch.batch_id in self.cancelled:
                raise RenderError("cancelled", "cancelled")
            if on_progress:
                on_progress(step, batch.steps)
            await asyncio.sleep(0.05 if any("slow" in s.prompt for s in batch.images) else 0)
        if on_denoised:
            on_denoised()
        images = []
        for spec in batch.images:
            Path(spec.output_path).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (batch.width, batch.height), (spec.seed % 256, 0, 0)).save(spec.output_path)
            digest = hashlib.sha256(Path(spec.output_path).read_bytes()).hexdigest()
            images.append(RenderedImage(spec.job_id, spec.index, spec.seed, spec.output_path, digest,
                                        batch.width, batch.height))
        return RenderResult(batch.batch_id, tuple(images), seconds=0.01)

    def cancel(self, batch_id):
        self.cancelled.add(batch_id)


class RecordingEvents:
    def __init__(self, fail_deliveries=0):
        self.calls = []
        self.fail_deliveries = fail_deliveries

    async def waiting(self, job, position, eta):
        self.calls.append(("waiting", job.id, position, eta))

    async def rendering(self, job, step, total, eta):
        self.calls.append(("rendering", job.id, step))

    async def deliver(self, job, images):
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise ConnectionError("discord is down")
        self.calls.append(("deliver", job.id, len(images)))
        return 1000 + job.id

    async def ended(self, job, status, message):
        self.calls.append(("ended", job.id, status, message))

    def of(self, kind):
        return [c for c in self.calls if c[0] == kind]


class Harness:
    def __init__(self, tmp_path, workers=None, **dispatch):
        self.tmp_path = tmp_path
        self.dispatch = dispatch
        self.workers = workers or [ScriptedRenderer()]
        self.renderer = self.workers[0]

    async def __aenter__(self):
        self.db = await Database(self.tmp_path / "db.sqlite3").connect()
        self.store = JobStore(self.db, self.tmp_path)
        settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(self.tmp_path), "MAX_QUEUED_PER_USER": "20"})
        self.admission = Admission(settings, profile_for("StableDiffusionPipeline", 64), self.store, "tiny")
        self.events = RecordingEvents(self.dispatch.pop("fail_deliveries", 0))
        opts = dict(images_dir=self.tmp_path / "images", progress_interval=0.0, max_attempts=2)
        opts.update(self.dispatch)
        self.dispatcher = Dispatcher(self.store, FairScheduler(), self.workers, self.events,
                                     DispatchSettings(**opts))
        self.jobs = JobService(self.admission, self.store, self.dispatcher)
        return self

    async def start(self):
        await self.jobs.start()

    async def submit(self, prompt, user=1, enqueue=True, ack_delay=0.0, **kw):
        """Through JobService.submit (acknowledged after `ack_delay` s), or with enqueue=False only
        into SQLite, as a job the bot had admitted before a restart."""
        requester = Requester(user_id=user, channel_id=10)
        request = GenerationRequest(prompt=prompt, **{"steps": 4, **kw})
        if not enqueue:
            return await self.admission.admit(requester, await self.admission.plan(requester, request))

        async def acknowledge(job, position, eta):  # the first reply shows the place as "waiting" does
            await asyncio.sleep(ack_delay)
            self.events.calls.append(("waiting" if position else "rendering", job.id, position, eta))
            return 5000 + job.id
        return await self.jobs.submit(requester, request, acknowledge)

    async def settle(self, *job_ids, timeout=10.0):
        deadline = time.monotonic() + timeout
        final = (JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
        while time.monotonic() < deadline:
            jobs = [await self.store.get(j) for j in job_ids]
            if all(j.status in final for j in jobs):
                return jobs
            await asyncio.sleep(0.02)
        raise AssertionError(f"jobs did not settle: {[(j.id, j.status) for j in jobs]}")

    async def __aexit__(self, *exc):
        await self.jobs.stop()
        await self.db.close()


async def test_a_job_is_rendered_stored_and_delivered_once(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        job = await h.submit("a fox", count=2)
        (done,) = await h.settle(job.id)
        assert done.status == JobStatus.DELIVERED and done.message_id == 1000 + job.id
        images = await h.store.images(job.id)
        assert [i.index for i in images] == [0, 1] and all(Path(i.path).is_file() for i in images)
        assert [i.seed for i in images] == [done.params.seed, (done.params.seed + 1) % 2**32]
        assert h.events.of("deliver") == [("deliver", job.id, 2)]
        assert ("rendering", job.id, 4) in h.events.calls


async def test_a_crashing_job_is_retried_then_failed_and_the_next_job_renders(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        bad = await h.submit("crash please")
        good = await h.submit("a calm lake", user=2)
        bad_done, good_done = await h.settle(bad.id, good.id)
        assert bad_done.status == JobStatus.FAILED and bad_done.attempts == 2
        assert "crashed" in bad_done.error and "2 times" in bad_done.error
        assert good_done.status == JobStatus.DELIVERED
        assert [c for c in h.events.of("ended") if c[1] == bad.id][0][2] == JobStatus.FAILED


async def test_out_of_memory_fails_a_single_job_at_once(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        job = await h.submit("oom please")
        (done,) = await h.settle(job.id)
        assert done.status == JobStatus.FAILED and done.attempts == 1 and "out of memory" in done.error


async def test_a_batch_that_crashes_is_retried_one_job_at_a_time(tmp_path):
    async with Harness(tmp_path, batching=True, max_batch_images=4, max_attempts=3) as h:
        jobs = [await h.submit("fine", user=1), await h.submit("crash", user=2), await h.submit("fine too", user=3)]
        await h.start()
        done = await h.settle(*(j.id for j in jobs))
        assert [j.status for j in done] == [JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.DELIVERED]
        assert len(h.renderer.batches[0].images) == 3
        assert all(len(b.images) == 1 for b in h.renderer.batches[1:])


@pytest.mark.parametrize("watermark", [True, False])
async def test_the_watermark_setting_travels_with_every_batch(tmp_path, watermark):
    async with Harness(tmp_path, watermark=watermark) as h:
        await h.start()
        job = await h.submit("a fox")
        await h.settle(job.id)
        assert [b.watermark for b in h.renderer.batches] == [watermark]


async def test_cancelling_a_queued_job_means_it_never_renders(tmp_path):
    async with Harness(tmp_path) as h:
        first = await h.submit("slow one", user=1)
        second = await h.submit("never", user=2)
        await h.start()
        assert await h.jobs.cancel(second)
        assert not await h.jobs.cancel(second)  # already ended
        first_done, second_done = await h.settle(first.id, second.id)
        assert second_done.status == JobStatus.CANCELLED
        assert all(s.job_id != second.id for b in h.renderer.batches for s in b.images)


async def test_cancelling_a_running_job_stops_the_render(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        job = await h.submit("slow one")
        for _ in range(100):
            if h.dispatcher.is_running(job.id):
                break
            await asyncio.sleep(0.01)
        assert await h.jobs.cancel(job)
        (done,) = await h.settle(job.id)
        assert done.status == JobStatus.CANCELLED
        assert h.events.of("deliver") == []


async def test_a_job_older_than_the_limit_expires_with_a_message(tmp_path):
    async with Harness(tmp_path, job_max_age=60) as h:
        job = await h.submit("old news", enqueue=False)  # in SQLite only, as after a restart
        await h.db.execute("UPDATE jobs SET created_at = ? WHERE id = ?", (time.time() - 3600, job.id))
        await h.start()  # recovery reloads it from SQLite with its real age
        (done,) = await h.settle(job.id)
        assert done.status == JobStatus.EXPIRED
        assert "expired" in h.events.of("ended")[0][3]


async def test_after_a_restart_interrupted_jobs_resume_and_finished_ones_are_delivered(tmp_path):
    async with Harness(tmp_path) as h:
        running = await h.submit("was rendering", enqueue=False)
        finished = await h.submit("was finished", user=2, enqueue=False)
        await h.store.mark_running([running.id, finished.id])
        await h.store.store_results([], [finished.id], seconds={finished.id: 0.1})
        await h.start()
        done = await h.settle(running.id, finished.id)
        assert [j.status for j in done] == [JobStatus.DELIVERED, JobStatus.DELIVERED]
        assert sorted(c[1] for c in h.events.of("deliver")) == sorted([running.id, finished.id])


async def test_a_failed_delivery_is_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _fast_sleep(asyncio.sleep))
    async with Harness(tmp_path, fail_deliveries=2) as h:
        await h.start()
        job = await h.submit("a fox")
        (done,) = await h.settle(job.id)
        assert done.status == JobStatus.DELIVERED and len(h.events.of("deliver")) == 1


def _fast_sleep(real_sleep):
    async def sleep(seconds, *args, **kwargs):
        return await real_sleep(min(seconds, 0.01), *args, **kwargs)
    return sleep


async def test_waiting_jobs_see_their_place_and_a_measured_eta_as_the_queue_moves(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        first = await h.submit("slowly measured")
        await h.settle(first.id)  # one render measured: ETAs can be estimated from now on
        jobs = [await h.submit("slow", user=u) for u in (1, 2, 3)]
        await h.settle(*(j.id for j in jobs))
        last = [c for c in h.events.of("waiting") if c[1] == jobs[2].id]
        places = [c[2] for c in last]
        # the first of the three starts at once; the last one's place only ever moves forward
        assert places[0] == 2 and places[-1] == 1 and places == sorted(places, reverse=True)
        assert all(c[3] is not None and c[3] > 0 for c in last)
