"""Credits end to end (`python -m bot`, the tiny model, the Discord-compatible server): prices on
the first reply, refusals with the balance and the reset time, five requests at once with credits
for two, refunds and partial charges, a new period, and balances that survive a kill -9.

The tiny model's default image is 64x64 at 25 steps (1.0 credit): 5 steps cost 0.2."""
from __future__ import annotations

import asyncio
import json
import re

from tests.e2e_helpers import db_execute, db_rows, job_id_of, job_rows, wait_failure, wait_result, wait_statuses
from tests.ledger_check import ledger_disagreements

SLOW = json.dumps({"slowly": "slow:0.3", "oomme": "oom"})


async def _imagine(world, user, prompt, **options):
    i = await world.server.invoke_slash(user, world.channel, "imagine", {"prompt": prompt, "steps": 5, **options})
    await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0
    return i


async def _slash(world, user, name, options=None, **kw):
    i = await world.server.invoke_slash(user, world.channel, name, options or {}, **kw)
    await i.wait_ack(timeout=5)
    return i


def _text(interaction) -> str:
    return interaction.responses[0]["data"]["content"]


def _accounts(world) -> dict[int, tuple[int, int]]:
    return {r["user_id"]: (r["used"], r["bonus"]) for r in db_rows(world.data_dir, "SELECT * FROM quota_accounts")}


def _ledger(world, user) -> list[tuple[str, int]]:
    return [(r["kind"], r["amount"]) for r in db_rows(
        world.data_dir, "SELECT kind, amount FROM quota_ledger WHERE user_id = ? ORDER BY id", (user.id,))]


async def test_credits_running_out_are_refused_with_the_balance_and_a_new_period_restores_them(world):
    server = world.server
    await world.start_bot(QUOTA_CREDITS="1", MAX_QUEUED_PER_USER="10")
    first = await _imagine(world, world.alice, "a fox")
    assert "💳 costs 0.2 credits · 0.8 left" in _text(first)

    # five at once from one member, 0.4 each, with credits for two
    burst = await asyncio.gather(*(_imagine(world, world.bob, f"bear {n}", count=2) for n in range(5)))
    admitted = [i for i in burst if not i.ephemeral]
    refused = [i for i in burst if i.ephemeral]
    assert (len(admitted), len(refused)) == (2, 3)
    assert sorted(re.search(r"· (\d\.\d) left", _text(i)).group(1) for i in admitted) == ["0.2", "0.6"]
    text = _text(refused[0])
    assert "costs 0.4 credits and you have 0.2 left" in text and "used 0.8 of 1.0 this day" in text
    assert re.search(r"reset in \d+ (h \d+ )?min \(00:00 UTC\)", text), text
    assert sum(r["user_id"] == world.bob.id for r in job_rows(world.data_dir)) == 2, "a refusal queued something"
    await asyncio.gather(*(wait_result(server, i) for i in [first, *admitted]))

    status = await _slash(world, world.bob, "quota")
    assert status.ephemeral
    assert "Used **0.8** of **1.0** this day · **0.2 left**" in _text(status)
    assert _text(status).count("`-0.4` job #") == 2 and "<t:" in _text(status)
    nosy = await _slash(world, world.alice, "quota", {"member": world.bob})
    assert nosy.ephemeral and "Only moderators" in _text(nosy)

    # The period ends: move bob's stored period start back a day, as time would.
    db_execute(world.data_dir, "UPDATE quota_accounts SET period_start = period_start - 86400 WHERE user_id = ?",
               (world.bob.id,))
    again = await _imagine(world, world.bob, "a new day", count=2)
    assert not again.ephemeral and "costs 0.4 credits · 0.6 left" in _text(again)
    assert _ledger(world, world.bob) == [("debit", -4), ("debit", -4), ("period", 8), ("debit", -4)]
    assert "new period" in _text(await _slash(world, world.bob, "quota"))
    await wait_result(server, again)
    assert ledger_disagreements(world.data_dir / "pixelforge.sqlite3") == []


async def _wait_step(world, interaction, at_least, timeout=60):
    def check(s):
        msg = s.get_message(interaction.original_message_id)
        found = re.search(r"step (\d+)/(\d+)", msg.content or "") if msg else None
        return int(found.group(1)) if found and int(found.group(1)) >= at_least else None
    return await world.server.wait_for(check, timeout)


async def _cancel(world, user, interaction):
    job_id = job_id_of(world.server.get_message(interaction.original_message_id))
    click = await world.server.click_button(user, interaction.original_message_id, f"job:cancel:v1:{job_id}")
    await click.wait_ack(timeout=5)
    return job_id


async def test_refunds_a_partial_charge_and_balances_that_survive_kill_9(world):
    server = world.server
    carol, dave, erin = server.add_user("carol"), server.add_user("dave"), server.add_user("erin")
    bot = await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, QUOTA_CREDITS="5")
    long = await _imagine(world, world.alice, "slowly painting", steps=20)  # 0.8 credits
    queued = await _imagine(world, world.bob, "waiting in line")
    broken = await _imagine(world, carol, "oomme please")
    await _wait_step(world, long, 5)
    queued_id = await _cancel(world, world.bob, queued)  # before it started
    long_id = await _cancel(world, world.alice, long)  # while it renders
    assert "out of memory" in (await wait_failure(server, broken)).content
    for interaction in (queued, long):
        assert "Cancelled" in (await wait_failure(server, interaction)).content

    rows = {r["id"]: r for r in job_rows(world.data_dir)}
    assert rows[queued_id]["started_at"] is None and (rows[queued_id]["charged"], rows[queued_id]["refunded"]) == (2, 2)
    kept = rows[long_id]["charged"] - rows[long_id]["refunded"]
    assert rows[long_id]["charged"] == 8 and 2 <= kept <= 6, f"kept {kept} tenths for some 5 to 10 of 20 steps"
    assert _ledger(world, world.alice) == [("debit", -8), ("refund", 8 - kept)]
    assert _ledger(world, world.bob) == [("debit", -2), ("refund", 2)]
    assert _ledger(world, carol) == [("debit", -2), ("refund", 2)]

    # kill -9 with one job rendering and one waiting; the waiting one is too old by the next start
    rendering = await _imagine(world, dave, "slowly resumed after the crash", steps=8)
    expiring = await _imagine(world, erin, "waits through the crash")
    await _wait_step(world, rendering, 1)
    bot.kill()
    before = _accounts(world)
    assert before[dave.id] == (3, 0) and before[erin.id] == (2, 0)  # 8 steps: 0.32, to the nearest tenth
    db_execute(world.data_dir, "UPDATE jobs SET created_at = created_at - 7200 WHERE user_id = ?", (erin.id,))

    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, QUOTA_CREDITS="5")
    assert "expired" in (await wait_failure(server, expiring, timeout=90)).content
    await wait_result(server, rendering, timeout=90)
    await wait_statuses(world.data_dir, ["cancelled", "cancelled", "failed", "delivered", "expired"])
    after = _accounts(world)
    assert after == {**before, erin.id: (0, 0)}, "balances changed across the kill -9 (other than the refund)"
    assert _ledger(world, erin) == [("debit", -2), ("refund", 2)]
    assert _ledger(world, dave) == [("debit", -3)]  # delivered after the restart: stays charged, once
    assert ledger_disagreements(world.data_dir / "pixelforge.sqlite3") == []
