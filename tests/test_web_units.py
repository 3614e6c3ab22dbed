"""The web front end's parts that need no browser: binding rules, signed sessions, identities,
routing of job events between front ends, the review queue and the settings."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from bot.config import load_settings
from bot.database import Database
from bot.errors import ConfigError, NotAllowed
from bot.models import JobStatus, Requester
from bot.services.audit import AuditLog
from bot.services.review import ReviewService
from bot.web.identity import WEB_CHANNEL_ID, WEB_SERVER_ID, is_web_job, local_owner, membership, signed_in
from bot.web.server import check_binding, is_loopback
from bot.web.sessions import Sessions, csrf_ok, load_secret
from bot.wiring import EventsRouter, NoFrontEnd, SafetyFrontRouter
from tests.factories import make_job

BASE = {"DISCORD_TOKEN": "", "IMAGE_MODEL": "stabilityai/stable-diffusion-xl-base-1.0"}


def settings(**env):
    return load_settings({**BASE, **env}, dotenv=False, require_token=False)


def test_loopback_addresses_are_told_apart_from_the_rest():
    assert all(map(is_loopback, ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.4", "example.com", "::"]))


def test_beyond_loopback_the_web_needs_sign_in_and_a_public_address():
    check_binding(settings())  # the default: 127.0.0.1:8765
    with pytest.raises(ConfigError, match="not a loopback address"):
        check_binding(settings(WEB_HOST="0.0.0.0"))
    with pytest.raises(ConfigError, match="WEB_PUBLIC_URL"):
        check_binding(settings(WEB_HOST="0.0.0.0", WEB_OAUTH_CLIENT_ID="1", WEB_OAUTH_CLIENT_SECRET="x"))
    check_binding(settings(WEB_HOST="0.0.0.0", WEB_OAUTH_CLIENT_ID="1", WEB_OAUTH_CLIENT_SECRET="x",
                           WEB_PUBLIC_URL="https://pix.example"))


def test_web_settings_are_read_and_checked():
    s = settings(WEB_ENABLED="true", WEB_PORT="9000", WEB_GUILD_IDS="5,6")
    assert (s.web_enabled, s.web_host, s.web_port, s.web_guild_ids) == (True, "127.0.0.1", 9000, frozenset({5, 6}))
    with pytest.raises(ConfigError, match="WEB_PORT"):
        settings(WEB_PORT="70000")
    assert "s3cret" not in repr(settings(WEB_OAUTH_CLIENT_SECRET="s3cret", WEB_SECRET="s3cret"))


def test_a_session_cookie_is_only_accepted_with_its_signature():
    sessions = Sessions(b"key")
    session = sessions.new()
    cookie = sessions.sign(session.sid)
    assert sessions.get(cookie) is session
    assert sessions.get(session.sid) is None  # unsigned
    assert sessions.get(cookie[:-2] + "xx") is None  # tampered
    assert Sessions(b"other key").get(cookie) is None
    assert csrf_ok(session, session.csrf) and not csrf_ok(session, "forged") and not csrf_ok(session, None)


def test_a_forged_token_or_cookie_with_any_characters_is_refused_rather_than_failing():
    sessions = Sessions(b"key")
    session = sessions.new()
    # hmac.compare_digest raises TypeError on str with non-ASCII characters: that was a 500 page.
    assert not csrf_ok(session, "é" * len(session.csrf))
    assert not csrf_ok(session, session.csrf.encode())  # a form field that is not text (a file part)
    assert sessions.get(f"{session.sid}.é") is None


def test_sign_in_gives_a_new_session_id_and_a_dropped_session_is_gone():
    sessions = Sessions(b"key")
    before = sessions.new()
    after = sessions.renew(before)
    assert after.sid != before.sid and after.csrf != before.csrf
    assert sessions.get(sessions.sign(before.sid)) is None
    sessions.drop(after)
    assert sessions.get(sessions.sign(after.sid)) is None


def test_old_sessions_expire(monkeypatch):
    now = [1000.0]
    sessions = Sessions(b"key", clock=lambda: now[0])
    cookie = sessions.sign(sessions.new().sid)
    now[0] += 8 * 86400
    assert sessions.get(cookie) is None


def test_the_signing_key_is_kept_in_the_data_folder_with_owner_only_access(tmp_path):
    key = load_secret("", tmp_path)
    assert load_secret("", tmp_path) == key
    assert (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
    assert load_secret("configured", tmp_path) == b"configured"


def test_the_local_owner_is_a_moderator_of_the_web_server_only():
    owner = local_owner(settings())
    assert (owner.user_id, owner.guild_id, owner.is_moderator) == (1, WEB_SERVER_ID, True)
    assert owner.requester().channel_id == WEB_CHANNEL_ID and owner.requester().channel_nsfw is False
    assert local_owner(settings(OWNER_USER_IDS="99,42")).user_id == 42  # their Discord presets follow them


def test_a_signed_in_members_rights_come_from_their_server_as_in_the_bot():
    s = settings(MODERATOR_ROLE_IDS="700", BULK_ROLE_IDS="800")
    plain = membership(s, {"id": "10", "name": "A", "permissions": "1024"}, frozenset())
    manager = membership(s, {"id": "11", "name": "B", "permissions": str(1 << 13)}, frozenset())
    by_role = membership(s, {"id": "12", "name": "C", "permissions": "0"}, frozenset({700}))
    admin = membership(s, {"id": "13", "name": "D", "permissions": "8"}, frozenset())
    assert [m.is_moderator for m in (plain, manager, by_role, admin)] == [False, True, True, True]
    viewer = signed_in(s, 5, "alice", (plain, manager), 11)
    assert (viewer.guild_id, viewer.is_moderator) == (11, True)
    assert signed_in(s, 5, "alice", (plain, manager), 999).guild_id == 10  # not theirs: the first one
    assert signed_in(s, 5, "alice", (), None) is None
    bulk = signed_in(s, 5, "alice", (membership(s, {"id": "14", "name": "E"}, frozenset({800})),), None)
    assert bulk.requester().is_bulk and bulk.requester().role_ids == frozenset({800})


class Recorder:
    def __init__(self):
        self.seen = []

    async def waiting(self, job, position, eta):
        self.seen.append(("waiting", job.id))

    async def rendering(self, job, step, total, eta):
        self.seen.append(("rendering", job.id))

    async def deliver(self, job, images):
        self.seen.append(("deliver", job.id))
        return 7

    async def ended(self, job, status, message):
        self.seen.append(("ended", job.id))


async def test_each_front_end_gets_only_its_own_jobs_events():
    discord, web = Recorder(), Recorder()
    router = EventsRouter(discord)
    router.claim(is_web_job, web)
    web_job = replace(make_job(job_id=1), requester=Requester(user_id=1, channel_id=WEB_CHANNEL_ID, guild_id=1))
    discord_job = replace(make_job(job_id=2), requester=Requester(user_id=1, channel_id=555, guild_id=77))
    await router.waiting(web_job, 1, None)
    assert await router.deliver(discord_job, []) == 7
    await router.ended(web_job, JobStatus.FAILED, "x")
    assert web.seen == [("waiting", 1), ("ended", 1)] and discord.seen == [("deliver", 2)]
    with pytest.raises(NoFrontEnd):  # only the web runs: a Discord job waits for the next start with Discord
        await EventsRouter().deliver(discord_job, [])


async def test_the_web_channel_is_never_age_restricted():
    class Always:
        async def channel_nsfw(self, channel_id):
            return True

    front = SafetyFrontRouter(Always())
    front.sfw_channels.add(WEB_CHANNEL_ID)
    assert await front.channel_nsfw(WEB_CHANNEL_ID) is False
    assert await front.channel_nsfw(555) is True
    assert await SafetyFrontRouter().channel_nsfw(555) is False  # no Discord: fail closed


async def _review_world(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    audit = AuditLog(db)
    now = time.time()
    for job_id, category in ((1, "sexual"), (2, "sexual-minors")):
        await db.execute("INSERT INTO jobs (id, kind, task, user_id, channel_id, guild_id, prompt, negative_prompt, "
                         "aspect, width, height, steps, guidance, count, seed, model, priority, status, created_at) "
                         "VALUES (?, 'imagine', 'txt2img', 5, 1, 1, 'p', '', '1:1', 64, 64, 4, 7, 1, 1, 'm', 1, "
                         "'blocked', ?)",
                         (job_id, now))
        await db.execute("INSERT INTO safety_blocks (guild_id, channel_id, user_id, job_id, kind, category, score, "
                         "prompt, created_at) VALUES (1, 1, 5, ?, 'image', ?, 0.99, 'p', ?)", (job_id, category, now))
    return db, ReviewService(db, audit, tmp_path)


async def test_a_review_decision_is_audited_and_takes_the_item_off_the_queue(tmp_path):
    db, review = await _review_world(tmp_path)
    try:
        assert [i.job_id for i in await review.queue(1)] == [1, 2]
        assert await review.queue(2) == []  # another server's moderators never see it
        await review.approve(1, 9, 1)
        assert [i.job_id for i in await review.queue(1)] == [2]
        rows = await db.fetchall("SELECT guild_id, moderator_id, target_id, action FROM audit_log")
        assert [dict(r) for r in rows] == [{"guild_id": 1, "moderator_id": 9, "target_id": 5,
                                            "action": "approve flagged image"}]
        with pytest.raises(NotAllowed, match="never allowed"):
            await review.approve(1, 9, 2)
        await review.delete(1, 9, 2)
        assert await review.queue(1) == []
    finally:
        await db.close()


def test_the_web_front_end_never_imports_torch():
    import subprocess
    import sys
    from pathlib import Path

    code = "import bot.web.server, sys; print('torch' in sys.modules, 'diffusers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


async def test_a_reported_result_waits_for_review_and_delete_removes_its_files(tmp_path):
    db, review = await _review_world(tmp_path)
    try:
        now = time.time()
        await db.execute("INSERT INTO jobs (id, kind, task, user_id, channel_id, guild_id, prompt, negative_prompt, "
                         "aspect, width, height, steps, guidance, count, seed, model, priority, status, created_at, "
                         "reported_at) VALUES (3, 'imagine', 'txt2img', 6, 1, 1, 'q', '', '1:1', 64, 64, 4, 7, 1, 1, "
                         "'m', 1, 'delivered', ?, ?)", (now, now))
        await db.execute("INSERT INTO safety_reports (job_id, user_id, created_at) VALUES (3, 8, ?)", (now,))
        png = tmp_path / "images" / "3" / "0.png"
        png.parent.mkdir(parents=True)
        png.write_bytes(b"png")
        await db.execute("INSERT INTO images (job_id, idx, seed, path, sha256, width, height, created_at) "
                         "VALUES (3, 0, 1, 'images/3/0.png', 'x', 64, 64, ?)", (now,))
        (item,) = [i for i in await review.queue(1) if i.job_id == 3]
        assert (item.reason, item.reports, item.image_indexes) == ("reported", 1, (0,))
        await review.delete(1, 9, 3)
        assert not png.exists()
        row = await db.fetchone("SELECT message_deleted_at FROM jobs WHERE id = 3")
        assert row["message_deleted_at"] is not None
        assert (await db.fetchone("SELECT pruned_at FROM images WHERE job_id = 3"))["pruned_at"] is not None
        assert 3 not in [i.job_id for i in await review.queue(1)]
        action = await db.fetchone("SELECT action, target_id FROM audit_log ORDER BY id DESC LIMIT 1")
        assert dict(action) == {"action": "delete reported image", "target_id": 6}
    finally:
        await db.close()
