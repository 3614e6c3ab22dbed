"""Minors and the negative prompt in every channel, age-restricted ones included: every output image
and every uploaded image prompt is scored; a result flagged as sexual is withheld where the prompt,
the negative or a flagged upload suggests a minor; negatives that steer away from clothing or
adulthood are refused where they must be, on every path (/imagine, re-roll, variation, upscale);
scores that are NaN, missing or out of range fail closed."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.config import load_settings
from bot.errors import ContentBlocked
from bot.models import (
    GenerationRequest,
    ImagePrompt,
    JobStatus,
    RerollRequest,
    UpscaleRequest,
    VariationRequest,
)
from bot.safety.prompt_filter import PromptFilter
from bot.services.audit import AuditLog
from bot.services.lifecycle import JobService
from bot.services.quotas import Member, QuotaPolicy, QuotaService
from tests.ledger_check import ledger_disagreements
from tests.test_safety_service import GUILD, NSFW, SFW, SafetyHarness, ScoreByJob


class ScoreByFile(ScoreByJob):
    """ScoreByJob, and uploads (inputs/<name>) scored by their file name: `uploads[name]`; a value
    that is not a number is returned as it is (a broken checker)."""

    def __init__(self):
        super().__init__()
        self.uploads: dict[str, object] = {}
        self.failing_uploads: set[str] = set()
        self.asked: list[str] = []

    def score(self, path: str):
        self.asked.append(path)
        if Path(path).parent.name == "inputs":
            if path in self.failing_uploads:
                raise RuntimeError("checker broke")
            return self.uploads.get(Path(path).name, 0.01)
        return super().score(path)


class Harness(SafetyHarness):
    def __init__(self, tmp_path, quota_credits: str | None = None, **dispatch):
        super().__init__(tmp_path, **dispatch)
        self.quota_credits = quota_credits

    async def __aenter__(self):
        await super().__aenter__()
        self.checker = self.safety.checker = ScoreByFile()
        if self.quota_credits is not None:
            settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(self.tmp_path),
                                      "QUOTA_CREDITS": self.quota_credits})
            self.quotas = QuotaService(self.db, QuotaPolicy.from_settings(settings), AuditLog(self.db))
            self.jobs = JobService(self.admission, self.store, self.dispatcher, safety=self.safety,
                                   quotas=self.quotas)
        await self.safety.set_nsfw(GUILD, True)
        await self.start()
        return self

    def upload(self, name: str) -> ImagePrompt:
        path = self.tmp_path / "inputs" / name
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (64, 64), (200, 150, 120)).save(path)
        return ImagePrompt(path=f"inputs/{name}", width=64, height=64, aspect="1:1")

    async def blocks(self):
        return [(b.kind, b.category.value) for b in await self.safety.blocks(GUILD)]


def request(prompt: str, negative: str = "", image: ImagePrompt | None = None) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, negative_prompt=negative, steps=4, image=image)


# ---- output images in age-restricted channels ----

async def test_a_sexual_result_of_a_prompt_naming_a_minor_is_withheld_in_an_nsfw_channel(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.scores[1] = 0.97
        job = await h.ask("a teenager at the beach", channel=NSFW)  # MINORS alone is not refused
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED
        assert "minor" in done.error and "Nothing was charged" in done.error
        assert [c[0] for c in h.events.calls if c[1] == job.id and c[0] in ("deliver", "ended")] == ["ended"]
        assert await h.blocks() == [("image", "sexual-minors")]
        (image,) = await h.store.images(job.id)
        assert Path(image.path).is_file() and await h.safety.image_flagged(job.id, 0)
        # The same prompt with a result the checker does not flag is delivered.
        ok = await h.ask("a teenager at the beach", channel=NSFW)
        assert (await h.final(ok.id)).status == JobStatus.DELIVERED


async def test_a_result_withheld_for_minors_is_refunded_through_the_one_ending(tmp_path):
    async with Harness(tmp_path, quota_credits="5") as h:
        h.checker.scores[1] = 0.97
        job = await h.ask("a teenager at the beach", channel=NSFW)
        assert job.charged > 0
        assert (await h.final(job.id)).status == JobStatus.BLOCKED
        account = (await h.quotas.status(Member(GUILD, 1))).account
        assert account.used == 0
        rows = await h.db.fetchall("SELECT kind, amount FROM quota_ledger WHERE job_id = ? ORDER BY id", (job.id,))
        assert [r["kind"] for r in rows] == ["debit", "refund"]
        assert ledger_disagreements(tmp_path / "db.sqlite3") == []


async def test_a_sexual_result_without_any_sign_of_a_minor_is_still_delivered_where_nsfw_is_allowed(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.scores[1] = 0.97
        job = await h.ask(request("a nude woman", "child, kid, teen"), channel=NSFW)  # keeping minors out
        assert (await h.final(job.id)).status == JobStatus.DELIVERED
        assert await h.safety.image_flagged(job.id, 0)  # scored and recorded all the same


async def test_a_negative_steering_away_from_adults_is_refused_in_nsfw_channels_too(tmp_path):
    async with Harness(tmp_path) as h:
        with pytest.raises(ContentBlocked, match="away from adults"):
            await h.ask(request("a woman in a park", "old, (mature:1.2)"), channel=NSFW)
        assert await h.store.with_status(*JobStatus) == []
        assert await h.blocks() == [("prompt", "sexual-minors")]


# ---- uploaded image prompts in age-restricted channels ----

async def test_an_upload_is_scored_in_an_nsfw_channel_and_a_flagged_one_withholds_a_sexual_result(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.uploads["photo.png"] = 0.95
        h.checker.scores[1] = 0.97
        job = await h.ask(request("a woman", image=h.upload("photo.png")), channel=NSFW)
        assert str(tmp_path / "inputs" / "photo.png") in h.checker.asked  # scored at submit
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and "uploaded image" in done.error
        assert await h.blocks() == [("image", "sexual-minors")]
        # A flagged upload whose result is not flagged is delivered.
        fine = await h.ask(request("a woman", image=h.upload("photo.png")), channel=NSFW)
        assert (await h.final(fine.id)).status == JobStatus.DELIVERED


async def test_a_flagged_upload_with_a_minor_in_the_prompt_is_refused_before_anything_is_queued(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.uploads["photo.png"] = 0.95
        with pytest.raises(ContentBlocked, match="minors"):
            await h.ask(request("make her look 15 years old", image=h.upload("photo.png")), channel=NSFW)
        assert await h.store.with_status(*JobStatus) == []
        # The learned layer may refuse the prompt itself first (aging a person down); either way, as minors.
        assert await h.blocks() in ([("image", "sexual-minors")], [("prompt", "sexual-minors")])
        # ... and a negative that steers away from adulthood, before the upload is even scored.
        with pytest.raises(ContentBlocked, match="away from adults"):
            await h.ask(request("a woman", "adult, mature, old", image=h.upload("photo.png")), channel=NSFW)


async def test_an_upload_that_cannot_be_checked_is_refused_in_an_nsfw_channel_too(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.uploads["nan.png"] = math.nan
        with pytest.raises(ContentBlocked, match="could not check"):
            await h.ask(request("a woman", image=h.upload("nan.png")), channel=NSFW)
        h.checker.failing_uploads = {str(tmp_path / "inputs" / "broken.png")}
        with pytest.raises(ContentBlocked, match="could not check"):
            await h.ask(request("a woman", image=h.upload("broken.png")), channel=NSFW)
        assert await h.blocks() == [("image", "unchecked"), ("image", "unchecked")]
        assert await h.store.with_status(*JobStatus) == []


# ---- NaN, missing and out-of-range scores fail closed ----

@pytest.mark.parametrize("score", [math.nan, None, 1.5, -0.2, math.inf, "0.1"])
async def test_a_score_that_is_not_a_number_in_0_to_1_withholds_the_image(tmp_path, score):
    async with Harness(tmp_path) as h:
        h.checker.scores[1] = score
        job = await h.ask("a fox")
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and "could not be safety-checked" in done.error
        assert await h.blocks() == [("image", "unchecked")]
        row = await h.db.fetchone("SELECT score, flagged FROM safety_image_checks WHERE job_id = ?", (job.id,))
        assert (row["score"], row["flagged"]) == (None, 1)


async def test_an_upload_scored_nan_is_refused_in_an_sfw_channel(tmp_path):
    async with Harness(tmp_path) as h:
        h.checker.uploads["nan.png"] = math.nan
        with pytest.raises(ContentBlocked, match="could not check"):
            await h.ask(request("a fox", image=h.upload("nan.png")))
        assert await h.store.with_status(*JobStatus) == []


class NanClassifier(PromptFilter):
    """A prompt filter whose learned layer returned NaN."""

    def check(self, prompt, server=None, negative=""):
        return replace(super().check(prompt, server, negative=negative), score=math.nan, layer="classifier")


async def test_a_nan_prompt_classifier_score_refuses_the_prompt(tmp_path):
    async with Harness(tmp_path) as h:
        h.safety.filter = NanClassifier()
        with pytest.raises(ContentBlocked, match="could not be safety-checked"):
            await h.ask("a fox")
        assert await h.store.with_status(*JobStatus) == []
        assert await h.blocks() == [("prompt", "unchecked")]


# ---- the negative prompt ----

@pytest.mark.parametrize("negative", ["clothes, shirt, underwear", "adult, mature, old", "CL0THES", "(dressed:1.3)"])
async def test_a_negative_steering_away_from_clothing_or_adulthood_is_refused_in_sfw(tmp_path, negative):
    async with Harness(tmp_path) as h:
        with pytest.raises(ContentBlocked, match="negative prompt was refused"):
            await h.ask(request("a woman on a beach", negative))
        assert await h.store.with_status(*JobStatus) == []
        ((kind, _),) = await h.blocks()
        assert kind == "prompt"
        (record,) = await h.safety.blocks(GUILD)
        assert negative in record.prompt  # moderators see what decided


async def test_ordinary_negatives_pass_everywhere(tmp_path):
    async with Harness(tmp_path) as h:
        for negative in ("blurry, lowres, bad anatomy, watermark", "deformed clothes, extra fingers",
                         "adult content, nsfw, nude", "old photo, sepia", "child, kid"):
            job = await h.ask(request("a woman on a beach", negative))
            assert (await h.final(job.id)).status == JobStatus.DELIVERED, negative


async def test_where_nsfw_is_allowed_a_clothing_negative_passes_unless_minors_are_in_play(tmp_path):
    async with Harness(tmp_path) as h:
        job = await h.ask(request("a woman on a beach", "clothes, swimsuit"), channel=NSFW)
        assert (await h.final(job.id)).status == JobStatus.DELIVERED
        with pytest.raises(ContentBlocked, match="never allowed"):
            await h.ask(request("a child on a beach", "clothes, swimsuit"), channel=NSFW)
        with pytest.raises(ContentBlocked, match="never allowed"):
            await h.ask(request("a boy aged 12", "shirt"), channel=NSFW)
        with pytest.raises(ContentBlocked, match="never allowed"):
            await h.ask(request("a nude woman", "adult, mature"), channel=NSFW)  # a sexual prompt made younger
        assert await h.blocks() == [("prompt", "sexual-minors")] * 3


async def test_re_roll_variation_and_upscale_obey_the_negative_rule_of_the_channel_clicked_in(tmp_path):
    async with Harness(tmp_path) as h:
        parent = await h.ask(request("a woman on a beach", "clothes, shirt"), channel=NSFW)
        assert (await h.final(parent.id)).status == JobStatus.DELIVERED
        for click in (RerollRequest(parent.id), VariationRequest(parent.id, 0), UpscaleRequest(parent.id, 0)):
            with pytest.raises(ContentBlocked, match="negative prompt was refused"):
                await h.ask(click, channel=SFW)
        assert [j.id for j in await h.store.with_status(*JobStatus)] == [parent.id]


async def test_the_negative_is_checked_again_at_delivery(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.safety.set_nsfw(GUILD, True)
        job = await h.ask(request("a woman on a beach", "clothes"), channel=NSFW)  # queued; no worker yet
        h.front.nsfw_channels.clear()  # the channel lost its age restriction meanwhile
        await h.start()
        done = await h.final(job.id)
        assert done.status == JobStatus.BLOCKED and "negative prompt" in done.error


async def test_the_safety_negative_is_kept_apart_from_the_members_negative(tmp_path):
    async with Harness(tmp_path) as h:
        job = await h.ask(request("a fox", "blurry"))
        await h.final(job.id)
        stored = await h.store.get(job.id)
        assert stored.params.negative_prompt == "blurry"
        assert stored.params.safety_negative.startswith("nsfw, nude")
        (spec,) = [s for batch in h.renderer.batches for s in batch.images if s.job_id == job.id]
        assert (spec.negative_prompt, spec.safety_negative) == ("blurry", stored.params.safety_negative)
        assert spec.pipeline_negative == f"blurry, {stored.params.safety_negative}"


async def test_show_in_an_nsfw_channel_keeps_back_flagged_images_of_a_prompt_naming_a_minor(tmp_path):
    async with Harness(tmp_path) as h:
        await h.safety.set_threshold(GUILD, 0.9)
        h.checker.scores[1] = h.checker.scores[2] = 0.6  # under the threshold at delivery
        minor = await h.final((await h.ask("a teenager at the beach", channel=NSFW)).id)
        adult = await h.final((await h.ask("a woman at the beach", channel=NSFW)).id)
        assert minor.status == adult.status == JobStatus.DELIVERED
        await h.safety.set_threshold(GUILD, 0.5)  # the moderators tighten it afterwards
        assert await h.safety.showable(minor, await h.store.images(minor.id), GUILD, True) == []
        assert len(await h.safety.showable(adult, await h.store.images(adult.id), GUILD, True)) == 1
        job = await h.final((await h.ask(request("a woman", "clothes"), channel=NSFW)).id)
        with pytest.raises(ContentBlocked, match="negative prompt"):  # shown again in an ordinary channel
            await h.safety.showable(job, await h.store.images(job.id), GUILD, False)
