"""Bans, the pause and /mod stats' numbers, against the real services and a scripted renderer."""
from __future__ import annotations

import asyncio
import io
import json
import time

from PIL import Image

from bot.charts import STATS_CHUNK, stats_png
from bot.models import JobStatus
from bot.services import stats as stats_mod
from bot.services.moderation import ModerationService
from tests.ledger_check import ledger_disagreements
from tests.test_quotas import QuotaHarness, ts


class ModHarness(QuotaHarness):
    async def __aenter__(self):
        await super().__aenter__()
        self.mod = ModerationService(self.db, self.audit, self.jobs, clock=self.clock)
        await self.mod.load()
        return self


async def test_a_ban_ends_and_refunds_the_members_queued_jobs_and_expires(tmp_path):
    async with ModHarness(tmp_path, credits_per_day="10") as h:
        queued = [await h.ask(f"fox {n}") for n in range(3)]
        other = await h.ask("someone else", user=2)
        result = await h.mod.ban(9, 0, 1, "spam", hours=2)
        assert sorted(result.cancelled_jobs) == [j.id for j in queued]
        assert [(await h.store.get(j.id)).status for j in queued] == [JobStatus.CANCELLED] * 3
        assert (await h.store.get(other.id)).status == JobStatus.QUEUED
        assert (await h.account(1)).used == 0
        assert h.mod.ban_of(0, 1).reason == "spam" and h.mod.ban_of(0, 2) is None
        assert h.mod.ban_of(5, 1) is None, "a ban is per server"
        h.clock.now += 2 * 3600 + 1
        assert h.mod.ban_of(0, 1) is None, "a ban with hours ends by itself"
        assert ledger_disagreements(tmp_path / "db.sqlite3") == []


async def test_bans_and_the_pause_survive_a_restart_and_are_audited(tmp_path):
    async with ModHarness(tmp_path) as h:
        await h.mod.ban(9, 0, 1, None, hours=None)
        await h.mod.pause(9, 0, "maintenance")
    async with ModHarness(tmp_path) as h:
        assert h.mod.ban_of(0, 1) is not None and h.mod.paused.reason == "maintenance"
        assert h.dispatcher.paused
        assert (await h.mod.unban(9, 0, 1)) is not None and h.mod.ban_of(0, 1) is None
        assert (await h.mod.unban(9, 0, 1)) is None
        await h.mod.resume(9, 0)
        page = await h.audit.page(0)
        assert [e.action for e in page.entries] == ["resume", "unban", "pause", "ban"]
        assert (page.entries[3].before, page.entries[3].after) == ("not banned", "banned until unbanned")
        notices = await h.audit.take_notices(0, 1, time.time())
        assert notices == ["A moderator lifted your ban: you can use the image bot again."]


async def test_pause_holds_new_renders_lets_running_ones_finish_and_resume_releases_them(tmp_path):
    async with ModHarness(tmp_path, credits_per_day="50") as h:
        await h.start()
        running = await h.ask("slow running one", steps=30)
        for _ in range(300):
            if h.dispatcher.is_running(running.id):
                break
            await asyncio.sleep(0.01)
        await h.mod.pause(9, 0, "checking the GPU")
        waiting = await h.ask("asked while paused", user=2)  # still admitted
        (done,) = await h.settle(running.id)
        assert done.status == JobStatus.DELIVERED
        await asyncio.sleep(0.3)
        assert (await h.store.get(waiting.id)).status == JobStatus.QUEUED, "a job started while paused"
        await h.mod.resume(9, 0)
        (released,) = await h.settle(waiting.id)
        assert released.status == JobStatus.DELIVERED


async def test_audit_pages_are_newest_first_and_filter_by_member(tmp_path):
    async with ModHarness(tmp_path) as h:
        for n in range(12):
            await h.mod.ban(9, 0, 100 + n % 2, f"reason {n}", hours=1)
        first = await h.audit.page(0, per_page=5)
        assert [e.reason for e in first.entries] == [f"reason {n}" for n in (11, 10, 9, 8, 7)] and first.has_older
        last = await h.audit.page(0, page=2, per_page=5)
        assert [e.reason for e in last.entries] == ["reason 1", "reason 0"] and not last.has_older
        mine = await h.audit.page(0, target_id=101, per_page=10)
        assert {e.target_id for e in mine.entries} == {101} and len(mine.entries) == 6


async def test_stats_numbers_match_the_rows_and_the_chart_carries_them(tmp_path):
    async with ModHarness(tmp_path, credits_per_day="50") as h:
        # three days of history written as the bot would have: statuses, render seconds, charges
        history = [("2025-03-08T10:00", 1, "delivered", 2.5, 10, 0), ("2025-03-08T11:00", 2, "failed", None, 20, 20),
                   ("2025-03-10T09:00", 1, "delivered", 1.25, 40, 0), ("2025-03-10T09:30", 3, "blocked", None, 10, 10),
                   ("2025-03-10T10:00", 2, "cancelled", 0.5, 30, 18), ("2025-03-01T10:00", 1, "delivered", 9.0, 10, 0)]
        for when, user, status, seconds, charged, refunded in history:
            await h.db.execute(
                "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, prompt, aspect, width, height, steps,"
                " guidance, count, seed, model, priority, status, created_at, render_seconds, cost, charged, refunded)"
                " VALUES ('imagine', 'txt2img', ?, 77, 1, 'p', '1:1', 64, 64, 4, 7, 1, 1, 'm', 1, ?, ?, ?, ?, ?, ?)",
                (user, status, ts(when), seconds, charged, charged, refunded))
        stats = await stats_mod.collect(h.db, 77, 3, ts("2025-03-10T12:00"))
        assert [(d.day, d.jobs, d.gpu_seconds, d.failures, d.blocks) for d in stats.days] == [
            ("2025-03-08", 2, 2.5, 1, 0), ("2025-03-09", 0, 0.0, 0, 0), ("2025-03-10", 3, 1.75, 0, 1)]
        assert [(m.user_id, m.credits) for m in stats.top] == [(1, 50), (2, 12)]  # user 3's block was refunded
        # the same numbers straight from the rows, as a second reading
        rows = await h.db.fetchall("SELECT user_id, SUM(charged - refunded) AS used FROM jobs WHERE guild_id = 77"
                                   " AND created_at >= ? GROUP BY user_id", (ts("2025-03-08T00:00"),))
        assert {r["user_id"]: r["used"] for r in rows if r["used"]} == {m.user_id: m.credits for m in stats.top}

        png = await asyncio.to_thread(stats_png, stats, {1: "alice"}, "Pixel Test · last 3 days")
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size == (900, 900)
        assert json.loads(image.info[STATS_CHUNK]) == stats.as_dict()
