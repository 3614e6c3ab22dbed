"""Authorization of job components and /show from stored state (bot/services/authz.py), against a
real SQLite database; and, first, what the layers under a button do when nothing checks: they take
any job id, which is why the check may not be left to the custom_id, the library or Discord."""
from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.database import Database
from bot.errors import NotAllowed, NotFound
from bot.models import GenerationRequest, JobStatus, Requester, RerollRequest
from bot.renderer.profiles import profile_for
from bot.services.admission import Admission
from bot.services.authz import DMS_OFF, WRONG_DM, WRONG_MESSAGE, WRONG_PLACE, Actor, JobAction, JobAuthorizer
from bot.services.history import HistoryService
from bot.services.jobs import JobStore
from bot.services.quotas import DM_GUILD, Member, QuotaPolicy, QuotaService

A, B = 100, 200  # two servers
A_CHANNEL, B_CHANNEL, DM_CHANNEL = 11, 22, 33
ALICE, BOB, MOD_B, OPERATOR = 1, 2, 3, 9
MESSAGE_OF_JOB, OTHER_MESSAGE = 5001, 5002


@pytest.fixture
async def world(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path)})
    store = JobStore(db, tmp_path)
    admission = Admission(settings, profile_for("StableDiffusionPipeline"), store, "sd15-test")
    yield db, store, admission
    await db.close()


async def _job(admission, store, user_id, guild_id, channel_id, message_id, prompt="a fox"):
    requester = Requester(user_id=user_id, channel_id=channel_id, guild_id=guild_id)
    job = await admission.admit(requester, await admission.plan(requester, GenerationRequest(prompt=prompt)))
    await store.set_message(job.id, message_id)
    return job


def _authz(db, store, allow_dms=False):
    return JobAuthorizer(db, store, allow_dms=allow_dms, owner_ids=frozenset({OPERATOR}))


async def test_without_a_check_a_forged_job_id_reaches_another_servers_job(world):
    """The defect, shown on the services a button calls: given another server's job id, re-roll
    plans a new job from it, Info reads its prompt, and the store cancels it. Only the
    authorization step in front of them (below) stops a forged custom_id."""
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB, prompt="alice's secret prompt")
    await db.execute("UPDATE jobs SET status = 'delivered' WHERE id = ?", (job.id,))
    moderator_in_b = Requester(user_id=MOD_B, channel_id=B_CHANNEL, guild_id=B, is_moderator=True)
    plan = await admission.plan(moderator_in_b, RerollRequest(job.id))
    assert plan.params.prompt == "alice's secret prompt" and plan.parent_job_id == job.id
    details = await HistoryService(db, store).details(job.id)
    assert details.job.params.prompt == "alice's secret prompt"
    async with db.transaction() as conn:
        assert await store.end(conn, job.id, JobStatus.CANCELLED, "forged", 0.0) is False  # delivered: too late
    # ... and the authorizer refuses that same click:
    with pytest.raises(NotAllowed, match=WRONG_PLACE):
        await _authz(db, store).job(Actor(MOD_B, B, B_CHANNEL, OTHER_MESSAGE, is_moderator=True), job.id,
                                    JobAction.REROLL)


@pytest.mark.parametrize("action", list(JobAction))
async def test_a_job_is_acted_on_only_in_its_own_server(world, action):
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB)
    authz = _authz(db, store)
    message = None if action is JobAction.SHOW else MESSAGE_OF_JOB
    # The owner themself, and a moderator of server B, clicking from server B: refused.
    for actor in (Actor(ALICE, B, B_CHANNEL, message), Actor(MOD_B, B, B_CHANNEL, message, is_moderator=True)):
        with pytest.raises(NotAllowed, match=WRONG_PLACE):
            await authz.job(actor, job.id, action)
    # From a DM, with DMs on: refused too (a DM is not server A).
    with pytest.raises(NotAllowed, match=WRONG_PLACE):
        await _authz(db, store, allow_dms=True).job(Actor(ALICE, None, DM_CHANNEL, message), job.id, action)
    # In server A, on the job's own message: its owner may.
    assert (await authz.job(Actor(ALICE, A, A_CHANNEL, message), job.id, action)).id == job.id


@pytest.mark.parametrize("action", [a for a in JobAction if a is not JobAction.SHOW])
async def test_a_click_counts_only_on_one_of_the_jobs_messages(world, action):
    """A custom_id replayed onto another message (another job's, or the right job's id in another
    channel) is refused, for moderators too."""
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB)
    other = await _job(admission, store, BOB, A, A_CHANNEL, OTHER_MESSAGE)
    authz = _authz(db, store)
    for actor in (Actor(ALICE, A, A_CHANNEL, OTHER_MESSAGE), Actor(BOB, A, A_CHANNEL, OTHER_MESSAGE, is_moderator=True),
                  Actor(ALICE, A, A_CHANNEL + 1, MESSAGE_OF_JOB)):
        with pytest.raises(NotAllowed, match=WRONG_MESSAGE):
            await authz.job(actor, job.id, action)
    assert (await authz.job(Actor(BOB, A, A_CHANNEL, OTHER_MESSAGE), other.id, action)).id == other.id


async def test_reposts_and_lists_become_the_jobs_messages(world):
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB)
    authz = _authz(db, store)
    repost = Actor(ALICE, A, A_CHANNEL, 7777)
    with pytest.raises(NotAllowed, match=WRONG_MESSAGE):
        await authz.job(repost, job.id, JobAction.INFO)
    await authz.record([job.id], 7777, A_CHANNEL)  # /show posted it again here
    assert (await authz.job(repost, job.id, JobAction.INFO)).id == job.id
    # A job posted again on a new message (its old one was gone) keeps both.
    await store.set_message(job.id, 8888)
    assert await authz.is_job_message(job.id, MESSAGE_OF_JOB, A_CHANNEL)
    assert await authz.is_job_message(job.id, 8888, A_CHANNEL)


@pytest.mark.parametrize("action", [JobAction.DELETE, JobAction.CANCEL, JobAction.SHOW])
async def test_delete_cancel_and_show_are_for_the_owner_or_a_moderator_of_the_jobs_server(world, action):
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB)
    authz = _authz(db, store)
    message = None if action is JobAction.SHOW else MESSAGE_OF_JOB
    with pytest.raises(NotAllowed, match="not yours" if action is JobAction.SHOW else "moderator of this server"):
        await authz.job(Actor(BOB, A, A_CHANNEL, message), job.id, action)
    assert await authz.job(Actor(BOB, A, A_CHANNEL, message, is_moderator=True), job.id, action)
    assert await authz.job(Actor(ALICE, A, A_CHANNEL, message), job.id, action)


@pytest.mark.parametrize("action", [JobAction.INFO, JobAction.VARY, JobAction.UPSCALE, JobAction.REROLL,
                                    JobAction.REPORT])
async def test_any_member_of_the_server_may_look_reuse_or_report(world, action):
    db, store, admission = world
    job = await _job(admission, store, ALICE, A, A_CHANNEL, MESSAGE_OF_JOB)
    assert await _authz(db, store).job(Actor(BOB, A, A_CHANNEL, MESSAGE_OF_JOB), job.id, action)


async def test_dms_are_refused_unless_allowed_and_dm_jobs_are_their_owners_and_the_operators(world):
    db, store, admission = world
    dm_job = await _job(admission, store, ALICE, None, DM_CHANNEL, MESSAGE_OF_JOB)
    with pytest.raises(NotAllowed, match=DMS_OFF):
        await _authz(db, store).job(Actor(ALICE, None, DM_CHANNEL, MESSAGE_OF_JOB), dm_job.id, JobAction.INFO)
    authz = _authz(db, store, allow_dms=True)
    assert await authz.job(Actor(ALICE, None, DM_CHANNEL, MESSAGE_OF_JOB), dm_job.id, JobAction.DELETE)
    with pytest.raises(NotAllowed, match=WRONG_DM):  # another member, even with the message and channel
        await authz.job(Actor(BOB, None, DM_CHANNEL, MESSAGE_OF_JOB), dm_job.id, JobAction.REROLL)
    with pytest.raises(NotAllowed, match=WRONG_PLACE):  # a server's moderator, from their server
        await authz.job(Actor(MOD_B, B, B_CHANNEL, MESSAGE_OF_JOB, is_moderator=True), dm_job.id, JobAction.CANCEL)
    # The operators, in their own DM, on a list the bot showed them (/queue user:): yes.
    await authz.record([dm_job.id], 9999, 44)
    assert await authz.job(Actor(OPERATOR, None, 44, 9999), dm_job.id, JobAction.CANCEL)
    assert authz.moderates(Actor(OPERATOR, None, 44)) and not authz.moderates(Actor(MOD_B, None, 44, is_moderator=True))


async def test_a_missing_job_is_not_found(world):
    db, store, _ = world
    with pytest.raises(NotFound):
        await _authz(db, store).job(Actor(ALICE, A, A_CHANNEL, 1), 424242, JobAction.INFO)


async def test_a_members_active_jobs_are_listed_per_server(world):
    """/queue user: and bans read this list: a server's moderator never sees another's jobs."""
    db, store, admission = world
    in_a = await _job(admission, store, ALICE, A, A_CHANNEL, 1)
    in_b = await _job(admission, store, ALICE, B, B_CHANNEL, 2)
    in_dm = await _job(admission, store, ALICE, None, DM_CHANNEL, 3)
    assert [j.id for j in await store.active_for_user(ALICE, A)] == [in_a.id]
    assert [j.id for j in await store.active_for_user(ALICE, B)] == [in_b.id]
    assert [j.id for j in await store.active_for_user(ALICE, None)] == [in_dm.id]


async def test_dm_jobs_have_their_own_daily_bucket(world, tmp_path):
    db, store, _ = world

    class _NoAudit:
        async def record(self, *args, **kwargs): ...

        async def notify(self, *args, **kwargs): ...

    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path), "QUOTA_CREDITS": "50",
                              "QUOTA_PERIOD": "week", "ALLOW_DMS": "true", "DM_QUOTA_CREDITS": "3"})
    quotas = QuotaService(db, QuotaPolicy.from_settings(settings), _NoAudit())
    dm = await quotas.status(Member(DM_GUILD, ALICE))
    server = await quotas.status(Member(A, ALICE, frozenset()))
    assert (dm.account.allowance, dm.period) == (30, "day")
    assert (server.account.allowance, server.period) == (500, "week")
    # DMs off: DM_QUOTA_CREDITS plays no part (and quotas stay off when QUOTA_CREDITS is unlimited).
    off = QuotaPolicy.from_settings(load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path),
                                                   "QUOTA_CREDITS": "unlimited"}))
    assert not off.enabled and not off.enabled_for(DM_GUILD)


async def test_migration_0007_keeps_the_buttons_of_jobs_stored_before_it(tmp_path):
    import shutil
    from pathlib import Path

    older = tmp_path / "v6"
    older.mkdir()
    for path in sorted((Path(__file__).resolve().parent.parent / "migrations").glob("000[1-6]_*.sql")):
        shutil.copy(path, older)
    db = await Database(tmp_path / "db.sqlite3", migrations_dir=older).connect()
    job_id = await db.insert(
        "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, prompt, aspect, width, height, steps, guidance,"
        " count, seed, model, priority, status, created_at, message_id) VALUES ('imagine', 'txt2img', ?, ?, ?, 'p',"
        " '1:1', 64, 64, 4, 7.0, 1, 1, 'm', 1, 'delivered', 0, ?)", (ALICE, A, A_CHANNEL, MESSAGE_OF_JOB))
    await db.close()
    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        authz = _authz(db, JobStore(db, tmp_path))
        assert (await authz.job(Actor(BOB, A, A_CHANNEL, MESSAGE_OF_JOB), job_id, JobAction.INFO)).id == job_id
        with pytest.raises(NotAllowed, match=WRONG_MESSAGE):
            await authz.job(Actor(BOB, A, A_CHANNEL, OTHER_MESSAGE), job_id, JobAction.INFO)
    finally:
        await db.close()


def test_dm_settings_parse_and_refuse_nonsense(tmp_path):
    from bot.errors import ConfigError

    base = {"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path)}
    default = load_settings(base)
    assert (default.allow_dms, default.dm_quota_credits, default.owner_user_ids) == (False, 100, frozenset())
    on = load_settings({**base, "ALLOW_DMS": "true", "DM_QUOTA_CREDITS": "unlimited", "OWNER_USER_IDS": "7, 8"})
    assert (on.allow_dms, on.dm_quota_credits, on.owner_user_ids) == (True, None, frozenset({7, 8}))
    for name, value in (("ALLOW_DMS", "maybe"), ("DM_QUOTA_CREDITS", "-1"), ("OWNER_USER_IDS", "alice")):
        with pytest.raises(ConfigError, match=name):
            load_settings({**base, name: value})
