"""Data at rest: DATA_DIR is private to the bot's account, SQLite zeroes what it deletes, and an
interaction token (a credential) leaves no trace in the database files once its job ended."""
from __future__ import annotations

import os
import secrets
import sqlite3
import stat

from bot.config import prepare_data_dir
from bot.database import Database
from bot.models import GenerationRequest, JobStatus, Requester
from tests.test_dispatcher import Harness


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_prepare_data_dir_makes_an_existing_data_dir_private_and_new_files_too(tmp_path):
    data = tmp_path / "data"
    (data / "images" / "7").mkdir(parents=True)
    for path in (data, data / "images", data / "images" / "7"):
        path.chmod(0o755)
    old = [data / "pixelforge.sqlite3", data / "pixelforge.sqlite3-wal", data / "images" / "7" / "0.png"]
    for path in old:
        path.write_bytes(b"x")
        path.chmod(0o644)
    previous = os.umask(0o022)
    try:
        prepare_data_dir(data)
        assert mode(data) == 0o700 and mode(data / "images") == 0o700 and mode(data / "images" / "7") == 0o700
        assert [mode(p) for p in old] == [0o600] * len(old)
        # From now on everything the process creates is private too (SQLite's files, images).
        (data / "new.png").write_bytes(b"y")
        (data / "inputs").mkdir()
        assert mode(data / "new.png") == 0o600 and mode(data / "inputs") == 0o700
    finally:
        os.umask(previous)


async def test_secure_delete_is_switched_on_for_every_connection(tmp_path, monkeypatch):
    # Some SQLite builds default to secure_delete on, others off: the bot must ask for it, so the
    # test watches the statements each connection runs rather than the build's default.
    executed: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(executed.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    for _ in range(2):
        db = await Database(tmp_path / "db.sqlite3").connect()
        try:
            assert (await db.fetchone("PRAGMA secure_delete"))[0] == 1
        finally:
            await db.close()
    assert sum(1 for sql in executed if sql.replace(" ", "").lower() == "pragmasecure_delete=on") == 2


def _files_hold(tmp_path, secret: bytes) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("db.sqlite3") and secret in p.read_bytes()]


async def test_interaction_tokens_leave_the_database_files_after_delivery_cancel_and_failure(tmp_path):
    async with Harness(tmp_path, max_attempts=1) as h:
        await h.start()
        tokens = {name: f"tok-{name}-{secrets.token_hex(24)}" for name in ("delivered", "cancelled", "failed")}

        async def acknowledge(job, position, eta):
            return 1

        def requester(name: str, user: int) -> Requester:
            return Requester(user_id=user, channel_id=10, interaction_id=user, interaction_token=tokens[name],
                             application_id=2)

        delivered = await h.jobs.submit(requester("delivered", 1), GenerationRequest(prompt="a fox", steps=4),
                                        acknowledge)
        cancelled = await h.jobs.submit(requester("cancelled", 2), GenerationRequest(prompt="slow", steps=40),
                                        acknowledge)
        failed = await h.jobs.submit(requester("failed", 3), GenerationRequest(prompt="crash", steps=4), acknowledge)
        await h.jobs.cancel(cancelled)
        await h.settle(delivered.id, cancelled.id, failed.id)
        rows = {r["id"]: (r["status"], r["interaction_token"])
                for r in await h.db.fetchall("SELECT id, status, interaction_token FROM jobs")}
        assert rows == {delivered.id: (JobStatus.DELIVERED.value, None),
                        cancelled.id: (JobStatus.CANCELLED.value, None), failed.id: (JobStatus.FAILED.value, None)}
        # The token sweep's checkpoint: the WAL's older page versions go too, and secure_delete
        # zeroed the overwritten bytes in the database file itself.
        await h.db.checkpoint()
        for name, token in tokens.items():
            assert _files_hold(tmp_path, token.encode()) == [], name
