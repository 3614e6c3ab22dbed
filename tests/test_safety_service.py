"""SafetyService inside JobService and the dispatcher, against scripted workers and a scripted
checker: refusals store nothing, withheld images end BLOCKED through JobService.end and stay on
disk, a failing checker withholds, and the rest of what moderators see."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import AdmissionRefused, ContentBlocked, NotFound
from bot.models import GenerationRequest, JobStatus, Requester, VariationRequest
from bot.services.lifecycle import JobService
from bot.services.safety import SafetyService
from tests.test_dispatcher import Harness

GUILD, SFW, NSFW = 77, 10, 11


class ScoreByJob:
    """Scores images by their job id (images/<job>/...): `scores[job]`, default 0.01."""

    name = "scripted"

    def __init__(self):
        self.scores: dict[int, float] = {}
        self.failing: set[int] = set()

    def load(self):
        pass

    def score(self, path: str) -> float:
        job_id = int(Path(path).parent.name)
        if job_id in self.failing:
            raise RuntimeError("checker broke")
        return self.scores.get(job_id, 0.01)

    def close(self):
        pass


class Front:
    def __init__(self):
        self.nsfw_channels = {NSFW}
        self.blocks, self.reports = [], []

    async def channel_nsfw(self, channel_id):
        return channel_id in self.nsfw_channels

    async def announce_block(self, log_channel_id, record, images):
        self.blocks.append((log_channel_id, record, images))

    async def announce_report(self, log_channel_id, job, reporter_id):
        self.reports.append((log_channel_id, job.id, reporter_id))


class SafetyHarness(Harness):
    def __init__(self, tmp_path, checker="scripted", **dispatch):
        super().__init__(tmp_path, **dispatch)
        self.checker_kind = checker

    async def __aenter__(self):
        await super().__aenter__()
        settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(self.tmp_path)})
        self.checker = ScoreByJob()
        self.safety = SafetyService(self.db, settings, self.checker if self.checker_kind == "scripted" else None)
        self.front = Front()
        self.safety.front = self.front
        self.jobs = JobService(self.admission, self.store, self.dispatcher, safety=self.safety)
        await self.safety.start()
        return self

    async def ask(self, request, channel=SFW, user=1):
        requester = Requester(user_id=user, channel_id=channel, guild_id=GUILD, channel_nsfw=channel == NSFW)
        if isinstance(request, str):
            request = GenerationRequest(prompt=request, steps=4)

        async def acknowledge(job, position, eta):
            return 5000 + job.id
        return await self.jobs.submit(requester, request, acknowledge)

    async def final(self, job_id, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = await self.store.get(job_id)
            if job.status in (JobStatus.DELIVERED, JobStatus.BLOCKED, JobStatus.FAILED):
                await asyncio.sleep(0.05)  # let the ending's message and announcements go out
                return job
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} did not end")

    async def __aexit__(self, *exc):
        await super().__aexit__(*exc)
        await self.safety.stop()


async def test_a_refused_prompt_stores_and_queues_nothing_and_is_logged(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_log_channel(GUILD, 999)
        with pytest.raises(ContentBlocked, match="sexual content") as refused:
            await h.ask("a n.u.d.e woman")
        assert "nude" not in str(refused.value)
        assert await h.store.with_status(*JobStatus) == []
        (record,) = await h.safety.blocks(GUILD)
        assert (record.kind, record.category.value, record.job_id, record.user_id) == ("prompt", "sexual", None, 1)
        await asyncio.sleep(0.05)
        assert [b[0] for b in h.front.blocks] == [999]


async def test_the_channel_policy_and_the_server_switch(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        with pytest.raises(ContentBlocked, match="not enabled"):
            await h.ask("a nude woman", channel=NSFW)
        await h.safety.set_nsfw(GUILD, True)
        job = await h.ask("a nude woman", channel=NSFW)
        assert (await h.final(job.id)).status == JobStatus.DELIVERED
        with pytest.raises(ContentBlocked, match="minors"):
            await h.ask("a nude 12 year old", channel=NSFW)


async def test_the_safety_negative_prompt_depends_on_the_channel(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_nsfw(GUILD, True)
        sfw = await h.ask(GenerationRequest(prompt="a fox", negative_prompt="blurry", steps=4))
        nsfw = await h.ask("a fox", channel=NSFW)
        await h.final(sfw.id), await h.final(nsfw.id)
        negatives = {spec.job_id: spec.pipeline_negative for batch in h.renderer.batches for spec in batch.images}
        assert negatives[sfw.id].startswith("blurry, nsfw, nude")
        assert negatives[nsfw.id].startswith("child, children") and "nude" not in negatives[nsfw.id]


async def test_a_flagged_image_in_an_sfw_channel_is_withheld_blocked_and_kept(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_log_channel(GUILD, 999)
        h.checker.scores[1] = 0.97
        job = await h.ask("a fox")
        assert job.id == 1
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and "flagged" in done.error
        assert [c[0] for c in h.events.calls if c[1] == job.id and c[0] in ("deliver", "ended")] == ["ended"]
        (image,) = await h.store.images(job.id)
        assert Path(image.path).is_file()  # kept for review
        assert await h.safety.image_flagged(job.id, 0)
        (record,) = await h.safety.blocks(GUILD)
        assert (record.kind, record.job_id, record.score) == ("image", job.id, 0.97)
        assert h.front.blocks[0][2] == [image.path]
        # and it cannot be varied here
        with pytest.raises(NotFound, match="no finished images"):
            await h.ask(VariationRequest(job.id, 0))


async def test_a_flagged_image_is_delivered_where_nsfw_is_allowed_but_cannot_be_varied_in_sfw(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_nsfw(GUILD, True)
        h.checker.scores[1] = 0.97
        job = await h.ask("a fox", channel=NSFW)
        assert (await h.final(job.id)).status == JobStatus.DELIVERED
        with pytest.raises(ContentBlocked, match="cannot be varied"):
            await h.ask(VariationRequest(job.id, 0), channel=SFW)
        varied = await h.ask(VariationRequest(job.id, 0), channel=NSFW)
        assert (await h.final(varied.id)).status == JobStatus.DELIVERED


async def test_a_checker_that_fails_withholds_the_image(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        h.checker.failing.add(1)
        job = await h.ask("a fox")
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and "could not be safety-checked" in done.error
        assert (await h.safety.blocks(GUILD))[0].category.value == "unchecked"


async def test_the_channel_is_asked_again_at_delivery(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.safety.set_nsfw(GUILD, True)
        job = await h.ask("a nude woman", channel=NSFW)  # queued; no worker yet
        h.front.nsfw_channels.clear()  # the channel lost its age restriction meanwhile
        await h.start()
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and done.error.startswith("🚫 Not delivered")


async def test_without_an_image_checker_only_nsfw_channels_are_served(tmp_path):
    async with SafetyHarness(tmp_path, checker="none") as h:
        await h.start()
        with pytest.raises(AdmissionRefused, match="without an image checker"):
            await h.ask("a fox")
        await h.safety.set_nsfw(GUILD, True)
        job = await h.ask("a fox", channel=NSFW)
        assert (await h.final(job.id)).status == JobStatus.DELIVERED


async def test_server_terms_take_effect_at_once(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        assert "now refused" in await h.safety.add_term(GUILD, "block", "Light House", 5)
        with pytest.raises(ContentBlocked, match="moderators blocked"):
            await h.ask("a l1ght h0use at dusk")
        assert "no longer blocked" in await h.safety.add_term(GUILD, "allow", "light house", 5)
        await h.final((await h.ask("a light house at dusk")).id)
        assert await h.safety.terms(GUILD) == []
        assert "exempt" in await h.safety.add_term(GUILD, "allow", "nude", 5)
        assert [(t.kind, t.display) for t in await h.safety.terms(GUILD)] == [("allow", "nude")]


async def test_one_report_per_member(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_log_channel(GUILD, 999)
        job = await h.final((await h.ask("a fox")).id)
        assert await h.safety.report(job, 2) is True
        assert await h.safety.report(job, 2) is False
        assert await h.safety.report(job, 3) is True
        await asyncio.sleep(0.05)
        assert h.front.reports == [(999, job.id, 2), (999, job.id, 3)]
        row = await h.db.fetchone("SELECT reported_at FROM jobs WHERE id = ?", (job.id,))
        assert row["reported_at"] is not None
