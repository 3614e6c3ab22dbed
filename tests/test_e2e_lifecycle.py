"""A job's life end to end (`python -m bot`, the tiny model, the Discord-compatible server):
admission order against out-of-order replies, two renderer workers, a clean stop mid-render,
and the one error reply with its reference."""
from __future__ import annotations

import asyncio
import json
import re

from tests.e2e_helpers import db_execute, imagine, job_id_of, job_rows, wait_rendering, wait_result, wait_statuses

SLOW = json.dumps({"slowly": "slow:0.5"})


async def test_a_members_jobs_start_in_the_order_they_were_admitted_when_replies_come_back_out_of_order(world):
    server = world.server
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_QUEUED_PER_USER=5)
    carol = server.add_user("carol")
    busy = await imagine(world, world.bob, "slowly keeping the renderer busy", steps=6)
    await wait_rendering(world, busy)
    server.delay_replies(world.alice, 1.5)  # the answer to alice's first /imagine comes back late
    first = asyncio.create_task(imagine(world, world.alice, "alice first"))
    await asyncio.sleep(0.3)
    second = await imagine(world, world.alice, "alice second")
    third = await imagine(world, carol, "carol first")
    interactions = [await first, second, third]
    await asyncio.gather(*(wait_result(server, i, timeout=120) for i in interactions))
    started = [r["prompt"] for r in sorted(job_rows(world.data_dir), key=lambda r: r["started_at"])]
    # alice's second job waits behind carol's first: it is alice's second round, whatever the network did
    assert started[1:] == ["alice first", "carol first", "alice second"]


async def test_two_cpu_workers_render_two_jobs_at_the_same_time(world):
    server = world.server
    await world.start_bot(DEVICES="cpu,cpu", PIXELFORGE_TEST_FAULTS=SLOW)
    jobs = [await imagine(world, world.alice, "slowly one", steps=6),
            await imagine(world, world.bob, "slowly two", steps=6)]
    await asyncio.gather(*(wait_result(server, i, timeout=120) for i in jobs))
    a, b = job_rows(world.data_dir)
    assert a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"], \
        "the render intervals recorded in SQLite do not overlap"


async def test_a_clean_stop_during_a_render_resumes_the_job_without_using_an_attempt(world):
    server = world.server
    bot = await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_ATTEMPTS=1)
    job = await imagine(world, world.alice, "slowly interrupted by a restart", steps=8)
    await wait_rendering(world, job)
    assert await bot.stop() == 0
    (row,) = job_rows(world.data_dir)
    assert (row["status"], row["attempts"]) == ("queued", 0)
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_ATTEMPTS=1)
    await wait_result(server, job, timeout=120)
    assert await wait_statuses(world.data_dir, ["delivered"]) == ["delivered"]


async def test_an_unexpected_error_answers_with_a_reference_that_is_in_the_log(world):
    world.tracebacks_expected = True  # the unreadable row is provoked on purpose; its traceback is the point
    server = world.server
    bot = await world.start_bot()
    original = await wait_result(server, await imagine(world, world.alice, "a fox"))
    job_id = job_id_of(original)
    # a row this version cannot read: loading the job raises inside the click
    db_execute(world.data_dir, "UPDATE jobs SET priority = 7 WHERE id = ?", (job_id,))
    click = await server.click_button(world.bob, original.id, f"img:reroll:v1:{job_id}")
    await click.wait_ack(timeout=5)
    assert click.ephemeral
    text = click.responses[0]["data"]["content"]
    assert "Something went wrong" in text and "This interaction failed" not in text
    reference = re.search(r"reference `([0-9a-f]{6})`", text).group(1)
    for _ in range(50):
        if f"ref {reference}" in bot.log():
            break
        await asyncio.sleep(0.1)
    assert f"ref {reference}" in bot.log() and "ValueError" in bot.log()
    assert len(job_rows(world.data_dir)) == 1, "nothing may be queued by a failed click"
