"""JobService and the pooled dispatcher against scripted workers: admission order, the first-reply
gate, several workers, per-batch cancel, clean shutdown, token hygiene, recovery at scale."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from bot.errors import RenderError
from bot.models import GenerationRequest, JobStatus, Requester
from tests.test_dispatcher import Harness, ScriptedRenderer


class TimedRenderer(ScriptedRenderer):
    """Records when each batch denoised and finished; `encode` seconds pass between the two."""

    def __init__(self, name: str, encode: float = 0.0):
        super().__init__()
        self.name = name
        self.encode = encode
        self.intervals: list[tuple[int, float, float]] = []  # (batch id, start, end of render)

    async def render(self, batch, on_progress=None, on_denoised=None):
        started = time.monotonic()

        def denoised():
            if on_denoised:
                on_denoised()

        async def later():
            await asyncio.sleep(self.encode)

        result = await super().render(batch, on_progress, denoised)
        await later()
        self.intervals.append((batch.batch_id, started, time.monotonic()))
        return result


ROOT = Path(__file__).resolve().parent.parent


def _prompts(renderer) -> list[str]:
    return [b.images[0].prompt for b in renderer.batches]


async def _wait_running(h, job_id):
    for _ in range(500):
        if h.dispatcher.is_running(job_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} never started")


async def test_a_members_jobs_run_in_admission_order_when_their_replies_return_out_of_order(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        busy = await h.submit("slow busy", user=9)
        await _wait_running(h, busy.id)
        # alice's first reply is slow, her second returns at once; bob and carol ask in between.
        first = asyncio.create_task(h.submit("alice one", user=1, ack_delay=0.3))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(h.submit("alice two", user=1))
        bob = asyncio.create_task(h.submit("bob one", user=2))
        carol = asyncio.create_task(h.submit("carol one", user=3))
        jobs = await asyncio.gather(first, second, bob, carol)
        await h.settle(busy.id, *(j.id for j in jobs))
        assert _prompts(h.renderer) == ["slow busy", "alice one", "bob one", "carol one", "alice two"]


async def test_nothing_is_shown_of_a_job_before_its_first_reply_is_out(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        job = await h.submit("a fox", ack_delay=0.4)
        assert job.message_id == 5000 + job.id
        (done,) = await h.settle(job.id)
        calls = [c for c in h.events.calls if c[1] == job.id]
        # the scripted render finishes long before the 0.4 s reply: it still comes first
        assert calls[0][0] in ("waiting", "rendering") and calls[0][2] in (None, 1)
        assert [c[0] for c in calls][-1] == "deliver" and done.status == JobStatus.DELIVERED


async def test_a_failed_first_reply_cancels_the_job_silently(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()

        async def broken_reply(job, position, eta):
            raise ConnectionError("discord went away")

        try:
            await h.jobs.submit(Requester(user_id=1, channel_id=10), GenerationRequest(prompt="lost", steps=4),
                                broken_reply)
        except ConnectionError:
            pass
        else:
            raise AssertionError("the acknowledgement's error must reach the caller")
        (row,) = await h.db.fetchall("SELECT id, status, interaction_token FROM jobs")
        assert row["status"] == "cancelled"
        await asyncio.sleep(0.2)
        assert [c for c in h.events.calls if c[1] == row["id"]] == []


async def test_two_workers_render_two_jobs_at_the_same_time(tmp_path):
    workers = [TimedRenderer("a"), TimedRenderer("b")]
    async with Harness(tmp_path, workers=workers) as h:
        await h.start()
        jobs = [await h.submit("slow one", user=1), await h.submit("slow two", user=2)]
        await h.settle(*(j.id for j in jobs))
        (_, a_start, a_end), (_, b_start, b_end) = workers[0].intervals[0], workers[1].intervals[0]
        assert a_start < b_end and b_start < a_end, "the two renders did not overlap"


async def test_a_worker_takes_its_next_batch_while_the_last_one_is_still_being_stored(tmp_path):
    worker = TimedRenderer("a", encode=0.3)
    async with Harness(tmp_path, workers=[worker]) as h:
        await h.start()
        jobs = [await h.submit("one", user=1), await h.submit("two", user=2)]
        await h.settle(*(j.id for j in jobs))
        (_, first_start, first_end), (_, second_start, _) = sorted(worker.intervals)
        assert second_start < first_end, "the second batch waited for the first one's encoding"


class CrashingRenderer(ScriptedRenderer):
    """A worker that dies on its first batch (and restarts, as a real one does)."""

    async def render(self, batch, on_progress=None, on_denoised=None):
        if not self.batches:
            self.batches.append(batch)
            await asyncio.sleep(0.1)
            raise RenderError("crash", "worker died")
        return await super().render(batch, on_progress, on_denoised)


async def test_a_crashing_worker_leaves_the_other_serving(tmp_path):
    crashing, healthy = CrashingRenderer(), ScriptedRenderer()
    async with Harness(tmp_path, workers=[crashing, healthy], max_attempts=2) as h:
        await h.start()
        jobs = [await h.submit(f"slow job {n}", user=n) for n in range(4)]
        done = await h.settle(*(j.id for j in jobs), timeout=20)
        assert [j.status for j in done] == [JobStatus.DELIVERED] * 4
        crashed_job = crashing.batches[0].images[0].job_id
        assert next(j for j in done if j.id == crashed_job).attempts == 2
        assert len(healthy.batches) >= 2


async def test_cancel_stops_only_the_batch_of_that_job(tmp_path):
    workers = [ScriptedRenderer(), ScriptedRenderer()]
    async with Harness(tmp_path, workers=workers) as h:
        await h.start()
        kept = await h.submit("slow kept", user=1, steps=40)
        dropped = await h.submit("slow dropped", user=2, steps=40)
        await _wait_running(h, kept.id)
        await _wait_running(h, dropped.id)
        assert await h.jobs.cancel(dropped)
        kept_done, dropped_done = await h.settle(kept.id, dropped.id, timeout=20)
        assert (kept_done.status, dropped_done.status) == (JobStatus.DELIVERED, JobStatus.CANCELLED)
        cancelled = [w.cancelled for w in workers]
        assert sorted(len(c) for c in cancelled) == [0, 1]


async def test_a_clean_stop_during_a_render_requeues_it_without_using_an_attempt(tmp_path):
    async with Harness(tmp_path, max_attempts=1) as h:
        await h.start()
        job = await h.submit("slow interrupted", steps=60)
        await _wait_running(h, job.id)
        await h.jobs.stop()
        row = await h.db.fetchone("SELECT status, attempts FROM jobs WHERE id = ?", (job.id,))
        assert (row["status"], row["attempts"]) == ("queued", 0)
    async with Harness(tmp_path, max_attempts=1) as h:  # the next start renders it
        await h.start()
        (done,) = await h.settle(job.id, timeout=20)
        assert done.status == JobStatus.DELIVERED


async def test_interaction_tokens_are_forgotten_when_a_job_ends_or_is_delivered(tmp_path):
    async with Harness(tmp_path) as h:
        await h.start()
        with_token = Requester(user_id=1, channel_id=10, interaction_id=1, interaction_token="secret-token",
                               application_id=2)

        async def acknowledge(job, position, eta):
            return 1

        delivered = await h.jobs.submit(with_token, GenerationRequest(prompt="a fox", steps=4), acknowledge)
        cancelled = await h.jobs.submit(Requester(user_id=2, channel_id=10, interaction_token="other-secret"),
                                        GenerationRequest(prompt="slow", steps=40), acknowledge)
        await h.jobs.cancel(cancelled)
        await h.settle(delivered.id, cancelled.id)
        rows = await h.db.fetchall("SELECT interaction_token FROM jobs")
        assert [r["interaction_token"] for r in rows] == [None, None]


async def test_tokens_older_than_fifteen_minutes_are_swept(tmp_path):
    async with Harness(tmp_path) as h:
        job = await h.submit("waiting long", enqueue=False)
        await h.db.execute("UPDATE jobs SET interaction_token = 'old', created_at = ? WHERE id = ?",
                           (time.time() - 16 * 60, job.id))
        fresh = await h.submit("waiting briefly", user=2, enqueue=False)
        await h.db.execute("UPDATE jobs SET interaction_token = 'new' WHERE id = ?", (fresh.id,))
        assert await h.store.clear_expired_tokens(time.time() - 15 * 60) == 1
        rows = {r["id"]: r["interaction_token"] for r in await h.db.fetchall("SELECT id, interaction_token FROM jobs")}
        assert rows == {job.id: None, fresh.id: "new"}


async def test_recovering_thousands_of_queued_jobs_edits_only_the_first_places(tmp_path):
    async with Harness(tmp_path, position_updates=25) as h:
        requester = Requester(user_id=1, channel_id=10)
        plan = await h.admission.plan(requester, GenerationRequest(prompt="queued before the restart", steps=4))
        await h.db.conn.executemany(
            "INSERT INTO jobs (kind, task, user_id, channel_id, prompt, negative_prompt, aspect, width, height,"
            " steps, guidance, count, seed, model, priority, status, created_at)"
            " VALUES ('imagine', 'txt2img', ?, 10, ?, '', '1:1', 64, 64, 4, 7.0, 1, 1, 'tiny', 1, 'queued', ?)",
            [(n % 500, plan.params.prompt, time.time()) for n in range(3000)])
        h.dispatcher.workers = []  # recover only: nothing renders
        await h.dispatcher.recover()
        assert len(h.dispatcher.scheduler) == 3000
        await asyncio.sleep(0.2)
        waiting = {c[1] for c in h.events.of("waiting")}
        assert 0 < len(waiting) <= 25


def test_services_and_the_render_command_never_import_discord():
    code = ("import sys, bot.services.lifecycle, bot.render_cli; "
            "sys.exit(any(m == 'discord' or m.startswith('discord.') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
