"""A batch whose PNG encoding hangs is a renderer hang: the worker is replaced and the job retried
(RENDER_ENCODE_TIMEOUT, MAX_ATTEMPTS), end to end. The faults come from tests/faults/sitecustomize.py."""
from __future__ import annotations

import json

from tests.e2e_helpers import db_rows, imagine, job_id_of, job_rows, wait_failure, wait_result, wait_statuses
from tests.ledger_check import ledger_disagreements


def _log(world) -> str:
    return (world.tmp_path / "bot.log").read_text(errors="replace")


async def test_a_batch_whose_encoding_hangs_once_is_retried_and_delivered(world):
    server = world.server
    marker = world.tmp_path / "encode-hung-once"
    faults = json.dumps({"stuckonce": f"hangencodeonce:{marker}"})
    await world.start_bot(PIXELFORGE_TEST_FAULTS=faults, RENDER_ENCODE_TIMEOUT=3, MAX_ATTEMPTS=3)
    stuck = await imagine(world, world.alice, "stuckonce a lighthouse")
    other = await imagine(world, world.bob, "a quiet harbour")

    delivered = await wait_result(server, stuck, timeout=120)
    await wait_result(server, other, timeout=120)
    assert marker.exists(), "the encoder never hung: the test proved nothing"
    assert len(delivered.attachments) == 1
    assert await wait_statuses(world.data_dir, ["delivered"] * 2) == ["delivered"] * 2
    rows = {row["id"]: row for row in job_rows(world.data_dir)}
    assert rows[job_id_of(delivered)]["attempts"] == 2  # hung once, delivered by the replacement worker
    log = _log(world)
    assert "encoding took longer than 3 s" in log and "restarting" in log


async def test_a_batch_whose_encoding_always_hangs_fails_after_max_attempts_and_is_refunded(world):
    server = world.server
    faults = json.dumps({"stuckforever": "hangencode"})
    await world.start_bot(PIXELFORGE_TEST_FAULTS=faults, RENDER_ENCODE_TIMEOUT=3, MAX_ATTEMPTS=2, QUOTA_CREDITS="1")
    stuck = await imagine(world, world.alice, "stuckforever a lighthouse")

    failed = await wait_failure(server, stuck, timeout=120)
    assert "stopped making progress" in failed.content and "failed 2 times" in failed.content
    assert not failed.attachments
    (row,) = job_rows(world.data_dir)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["charged"] > 0 and row["refunded"] == row["charged"]
    ledger = [(r["kind"], r["amount"]) for r in db_rows(
        world.data_dir, "SELECT kind, amount FROM quota_ledger WHERE user_id = ? ORDER BY id", (world.alice.id,))]
    assert ledger == [("debit", -row["charged"]), ("refund", row["charged"])]
    assert ledger_disagreements(world.data_dir / "pixelforge.sqlite3") == []
    # the replacement worker serves the next job
    await wait_result(server, await imagine(world, world.alice, "a lighthouse at dawn"), timeout=120)
