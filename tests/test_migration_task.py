"""Migration 0002 (explicit task, table rebuild) on a database that already holds jobs and images."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

_JOB = ("INSERT INTO jobs (id, kind, user_id, channel_id, interaction_token, parent_job_id, parent_image_index,"
        " prompt, aspect, width, height, steps, guidance, count, seed, strength, init_image, model, priority,"
        " status, created_at) VALUES (?, ?, 7, 10, ?, ?, ?, ?, '1:1', 64, 64, 4, 7.0, 1, 42, ?, ?, 'tiny', 1, ?, 1.0)")


@pytest.fixture
async def upgraded(tmp_path):
    """A version-1 database with real rows, then opened with every migration."""
    v1 = tmp_path / "v1"
    v1.mkdir()
    shutil.copy(MIGRATIONS / "0001_jobs_and_images.sql", v1)
    path = tmp_path / "db.sqlite3"
    db = await Database(path, migrations_dir=v1).connect()
    await db.execute(_JOB, (1, "imagine", "tok-delivered", None, None, "a fox", None, None, "delivered"))
    await db.execute(_JOB, (2, "variation", "tok-queued", 1, 0, "a fox", 0.6, "images/1/0-42.png", "queued"))
    await db.execute(_JOB, (3, "reroll", "tok-failed", 1, None, "a fox", None, None, "failed"))
    await db.execute("INSERT INTO images (job_id, idx, seed, path, sha256, width, height, created_at)"
                     " VALUES (1, 0, 42, 'images/1/0-42.png', 'abc', 64, 64, 1.0)")
    await db.close()
    db = await Database(path).connect()
    yield db
    await db.close()


async def test_upgrade_keeps_every_job_and_image_and_names_their_task(upgraded):
    rows = {r["id"]: dict(r) for r in await upgraded.fetchall("SELECT * FROM jobs")}
    assert {i: r["task"] for i, r in rows.items()} == {1: "txt2img", 2: "img2img", 3: "txt2img"}
    assert rows[2]["parent_job_id"] == 1 and rows[2]["init_image"] == "images/1/0-42.png"
    assert rows[2]["strength"] == 0.6 and rows[1]["prompt"] == "a fox"
    # dropping the old table must not have cascaded into the images that reference it
    assert [tuple(r) for r in await upgraded.fetchall("SELECT job_id, idx, sha256 FROM images")] == [(1, 0, "abc")]
    assert (await upgraded.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert await upgraded.fetchall("PRAGMA foreign_key_check") == []
    assert (await upgraded.fetchone("PRAGMA integrity_check"))[0] == "ok"


async def test_upgrade_keeps_tokens_only_of_jobs_still_alive(upgraded):
    rows = await upgraded.fetchall("SELECT id, interaction_token FROM jobs")
    tokens = {r["id"]: r["interaction_token"] for r in rows}
    assert tokens == {1: None, 2: "tok-queued", 3: None}


async def test_new_checks_hold_after_the_upgrade(upgraded):
    insert = _JOB.replace("kind, user_id", "kind, task, user_id").replace("VALUES (?, ?,", "VALUES (?, ?, ?,")
    await upgraded.execute(insert, (10, "upscale", "upscale", None, 1, 0, "up", 0.3, "images/1/0-42.png", "blocked"))
    with pytest.raises(sqlite3.IntegrityError):  # unknown task
        await upgraded.execute(insert, (11, "imagine", "dream", None, None, None, "x", None, None, "queued"))
    with pytest.raises(sqlite3.IntegrityError):  # img2img without an init image
        await upgraded.execute(insert, (12, "variation", "img2img", None, None, None, "x", 0.6, None, "queued"))
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are on again
        await upgraded.execute(insert, (13, "reroll", "txt2img", None, 999, None, "x", None, None, "queued"))


async def test_the_queue_size_counter_always_equals_the_active_rows(upgraded):
    async def agree():
        counted = (await upgraded.fetchone(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')"))[0]
        kept = (await upgraded.fetchone("SELECT active FROM queue_size"))[0]
        assert kept == counted
        return kept

    assert await agree() == 1  # carried over from the version-1 rows: job 2 is queued
    insert = _JOB.replace("kind, user_id", "kind, task, user_id").replace("VALUES (?, ?,", "VALUES (?, ?, ?,")
    for job_id, status in ((20, "queued"), (21, "running"), (22, "delivered")):
        await upgraded.execute(insert, (job_id, "imagine", "txt2img", None, None, None, "x", None, None, status))
    assert await agree() == 3
    for sql in ("UPDATE jobs SET status = 'running' WHERE id = 20",   # active -> active
                "UPDATE jobs SET status = 'failed' WHERE id = 21",    # active -> ended
                "UPDATE jobs SET status = 'queued' WHERE id = 22",    # ended -> active
                "UPDATE jobs SET prompt = 'y' WHERE id = 22",         # not a status change
                "DELETE FROM jobs WHERE id = 20"):
        await upgraded.execute(sql)
        await agree()
    assert await agree() == 2
