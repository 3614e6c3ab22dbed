import asyncio
from dataclasses import replace

import pytest

from bot.config import load_settings
from bot.database import Database
from bot.errors import AdmissionRefused, NotFound, ValidationError
from bot.models import (
    GenerationRequest,
    JobKind,
    JobStatus,
    Priority,
    RenderedImage,
    Requester,
    RerollRequest,
    VariationRequest,
)
from bot.renderer.profiles import profile_for
from bot.services.admission import Admission
from bot.services.jobs import JobStore


async def _admit(admission, requester, request):
    """Validate and insert, as JobService.submit does before it queues."""
    return await admission.admit(requester, await admission.plan(requester, request))


ALICE = Requester(user_id=1, channel_id=10, guild_id=5)
BOB = Requester(user_id=2, channel_id=10, guild_id=5)


@pytest.fixture
async def admission(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    settings = load_settings({"DISCORD_TOKEN": "t", "MAX_QUEUED_PER_USER": "3", "MAX_QUEUE_SIZE": "5",
                              "MAX_PROMPT_LENGTH": "50", "DATA_DIR": str(tmp_path)})
    yield Admission(settings, profile_for("StableDiffusionPipeline"), JobStore(db, tmp_path), "sd15-test")
    await db.close()


@pytest.mark.parametrize("request_,needle", [
    (GenerationRequest(prompt="   "), "empty"),
    (GenerationRequest(prompt="x" * 51), "limit is 50"),
    (GenerationRequest(prompt="fox", negative_prompt="y" * 51), "limit is 50"),
    (GenerationRequest(prompt="fox", count=5), "between 1 and 4"),
    (GenerationRequest(prompt="fox", steps=101), "between 1 and 100"),
    (GenerationRequest(prompt="fox", guidance=25.0), "between 0 and 20"),
    (GenerationRequest(prompt="fox", guidance=float("nan")), "Guidance"),
    (GenerationRequest(prompt="fox", seed=2**32), "4294967295"),
    (GenerationRequest(prompt="fox", aspect="4:3"), "Aspect"),
])
async def test_out_of_range_input_names_the_limit_and_queues_nothing(admission, request_, needle):
    with pytest.raises(ValidationError, match=needle):
        await _admit(admission, ALICE, request_)
    assert await admission.store.with_status(JobStatus.QUEUED) == []


async def test_defaults_come_from_the_model_profile(admission):
    job = await _admit(admission, ALICE, GenerationRequest(prompt="a fox", aspect="3:2"))
    p = job.params
    assert (p.steps, p.guidance) == (25, 7.0)
    assert p.width > p.height and p.width % 8 == 0 and p.height % 8 == 0
    assert 0 <= p.seed < 2**32
    assert job.priority == Priority.INTERACTIVE


async def test_moderators_and_bulk_get_their_priority_class(admission):
    mod = await _admit(admission, replace(ALICE, is_moderator=True), GenerationRequest(prompt="a"))
    bulk = await _admit(admission, replace(BOB, is_bulk=True), GenerationRequest(prompt="b"))
    assert (mod.priority, bulk.priority) == (Priority.MODERATOR, Priority.BULK)


async def test_per_user_limit_refuses_the_fourth_job(admission):
    for _ in range(3):
        await _admit(admission, ALICE, GenerationRequest(prompt="fox"))
    with pytest.raises(AdmissionRefused, match="limit 3"):
        await _admit(admission, ALICE, GenerationRequest(prompt="fox"))
    await _admit(admission, BOB, GenerationRequest(prompt="fox"))


async def test_global_limit_refuses_when_the_queue_is_full(admission):
    for user in range(5):
        await _admit(admission, replace(ALICE, user_id=100 + user), GenerationRequest(prompt="fox"))
    with pytest.raises(AdmissionRefused, match="queue is full"):
        await _admit(admission, BOB, GenerationRequest(prompt="fox"))


async def test_concurrent_requests_cannot_slip_past_the_user_limit(admission):
    results = await asyncio.gather(
        *(_admit(admission, ALICE, GenerationRequest(prompt="fox")) for _ in range(8)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 3


async def _finished_parent(admission, tmp_path):
    parent = await _admit(admission, ALICE, GenerationRequest(prompt="fox", count=2, seed=7))
    store = admission.store
    await store.mark_running([parent.id])
    paths = []
    for i in range(2):
        path = tmp_path / "images" / str(parent.id) / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"png")
        paths.append(RenderedImage(parent.id, i, 7 + i, str(path), "0" * 64, 512, 512))
    await store.store_results(paths, [parent.id], seconds={parent.id: 1.0})
    return parent


async def test_double_click_on_reroll_creates_one_job(admission, tmp_path):
    parent = await _finished_parent(admission, tmp_path)
    results = await asyncio.gather(_admit(admission, BOB, RerollRequest(parent.id)),
                                   _admit(admission, BOB, RerollRequest(parent.id)),
                                   return_exceptions=True)
    jobs = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(jobs) == 1 and isinstance(errors[0], AdmissionRefused)
    job = jobs[0]
    assert job.user_id == BOB.user_id and job.kind == JobKind.REROLL and job.parent_job_id == parent.id
    assert job.params.prompt == parent.params.prompt and job.params.count == parent.params.count
    # a different user re-rolling the same image is a different click
    await _admit(admission, ALICE, RerollRequest(parent.id))


async def test_variation_uses_the_stored_image_and_profile_strength(admission, tmp_path):
    parent = await _finished_parent(admission, tmp_path)
    job = await _admit(admission, BOB, VariationRequest(parent.id, 1))
    assert job.kind == JobKind.VARIATION and job.parent_image_index == 1
    assert job.params.init_image == f"images/{parent.id}/1.png"
    assert job.params.strength == admission.profile.variation_strength


async def test_variation_of_a_missing_image_is_refused(admission, tmp_path):
    parent = await _finished_parent(admission, tmp_path)
    (tmp_path / "images" / str(parent.id) / "0.png").unlink()
    with pytest.raises(NotFound, match="Image 1"):
        await _admit(admission, BOB, VariationRequest(parent.id, 0))
    with pytest.raises(NotFound):
        await _admit(admission, BOB, RerollRequest(9999))
