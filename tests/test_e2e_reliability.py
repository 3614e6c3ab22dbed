"""Scheduler and reliability end to end: crashes, restarts, fairness, cancel, limits, long waits."""
from __future__ import annotations

import asyncio
import json

from tests.e2e_helpers import (
    custom_ids,
    imagine,
    is_result,
    job_id_of,
    job_rows,
    wait_failure,
    wait_rendering,
    wait_result,
    wait_statuses,
)

SLOW = json.dumps({"slowly": "slow:0.6", "crashme": "crash", "oomme": "oom", "hangme": "hang"})


def _jobs(world):
    return {row["id"]: row for row in job_rows(world.data_dir)}


async def test_kill_9_while_rendering_then_restart_delivers_every_job_exactly_once(world):
    server = world.server
    bot = await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_QUEUED_PER_USER=5)
    jobs = [await imagine(world, world.alice, "slowly a fox"),
            await imagine(world, world.bob, "slowly a bear"),
            await imagine(world, world.alice, "a quick owl")]
    await wait_rendering(world, jobs[0])
    bot.kill()

    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_QUEUED_PER_USER=5)
    results = [await wait_result(server, i, timeout=120) for i in jobs]
    assert len({m.id for m in results}) == 3
    channel = server.messages(world.channel.id)
    assert len(channel) == 3, "a restart must not post any message twice"
    assert sum(is_result(m) for m in channel) == 3
    assert all(len(m.attachments) == 1 for m in results)
    assert await wait_statuses(world.data_dir, ["delivered"] * 3) == ["delivered"] * 3
    rows = _jobs(world)
    assert rows[job_id_of(results[0])]["attempts"] == 2  # interrupted once, resumed once


async def test_renderer_crash_oom_and_hang_fail_the_job_and_the_next_one_renders(world):
    server = world.server
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_ATTEMPTS=2, RENDER_STEP_TIMEOUT=6,
                          MAX_QUEUED_PER_USER=5)
    crash = await imagine(world, world.alice, "crashme now")
    oom = await imagine(world, world.bob, "oomme now")
    hang = await imagine(world, world.mod, "hangme now")
    fine = await imagine(world, world.alice, "a fine day")

    crashed = await wait_failure(server, crash, timeout=120)
    assert "crashed" in crashed.content and "2 times" in crashed.content
    oomed = await wait_failure(server, oom, timeout=120)
    assert "out of memory" in oomed.content
    # While the renderer is hung, the bot still acknowledges at once.
    during = await imagine(world, world.bob, "a second fine day")
    hung = await wait_failure(server, hang, timeout=120)
    assert "stopped making progress" in hung.content
    await wait_result(server, fine, timeout=120)
    await wait_result(server, during, timeout=120)
    assert not any(custom_ids(m) and is_result(m) for m in (crashed, oomed, hung))


async def test_a_burst_of_24_from_12_users_is_acknowledged_and_served_fairly(world):
    server = world.server
    await world.start_bot(MAX_QUEUED_PER_USER=4, MAX_QUEUE_SIZE=50)
    users = [server.add_user(f"user{n}") for n in range(12)]
    plan = [u for u in users[:4] for _ in range(4)] + users[4:]  # 4 heavy users x4, 8 light users x1
    interactions = await asyncio.gather(*(
        server.invoke_slash(u, world.channel, "imagine", {"prompt": f"burst {n}", "steps": 4})
        for n, u in enumerate(plan)))
    await asyncio.gather(*(i.wait_ack(timeout=5) for i in interactions))
    assert max(i.ack_latency for i in interactions) < 3.0
    assert not any(i.ephemeral for i in interactions)
    await asyncio.gather(*(wait_result(server, i, timeout=180) for i in interactions))

    rows = sorted(_jobs(world).values(), key=lambda r: r["started_at"])
    seen: dict[int, int] = {}
    nth = []
    for row in rows:
        seen[row["user_id"]] = seen.get(row["user_id"], 0) + 1
        nth.append(seen[row["user_id"]])
    last_first = max(i for i, n in enumerate(nth) if n == 1)
    first_third = min(i for i, n in enumerate(nth) if n == 3)
    assert last_first < first_third, f"a third job started before a first one: {nth}"


async def test_cancel_queued_and_running_jobs_from_queue_and_buttons(world):
    server = world.server
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_QUEUED_PER_USER=5)
    running = await imagine(world, world.alice, "slowly a long render", steps=8)
    queued = await imagine(world, world.alice, "slowly waiting")
    bobs = await imagine(world, world.bob, "slowly bob's")
    await wait_rendering(world, running)

    listing = await server.invoke_slash(world.alice, world.channel, "queue", {})
    await listing.wait_ack(timeout=5)
    assert listing.ephemeral
    listed = server.get_message(listing.original_message_id)
    run_id, queued_id = job_id_of(server.get_message(running.original_message_id)), None
    ids = custom_ids(listed)
    assert f"job:cancel:v1:{run_id}" in ids and len(ids) == 2
    queued_id = int([c for c in ids if not c.endswith(f":{run_id}")][0].rsplit(":", 1)[1])

    click = await server.click_button(world.alice, listed.id, f"job:cancel:v1:{queued_id}")
    await click.wait_ack(timeout=5)
    stranger = await server.click_button(world.bob, running.original_message_id, f"job:cancel:v1:{run_id}")
    await stranger.wait_ack(timeout=5)
    assert stranger.ephemeral and "Only the person" in stranger.responses[0]["data"]["content"]
    own = await server.click_button(world.alice, running.original_message_id, f"job:cancel:v1:{run_id}")
    await own.wait_ack(timeout=5)
    bob_id = job_id_of(await wait_rendering(world, bobs, timeout=60))
    mod = await server.click_button(world.mod, bobs.original_message_id, f"job:cancel:v1:{bob_id}")
    await mod.wait_ack(timeout=5)

    for interaction in (running, queued, bobs):
        message = await wait_failure(server, interaction, timeout=60)
        assert "Cancelled" in message.content and not message.attachments
    assert await wait_statuses(world.data_dir, ["cancelled"] * 3) == ["cancelled"] * 3
    rows = _jobs(world)
    assert rows[queued_id]["started_at"] is None  # never rendered


async def test_queue_limits_refuse_with_an_ephemeral_message(world):
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, MAX_QUEUED_PER_USER=2, MAX_QUEUE_SIZE=3)
    await imagine(world, world.alice, "slowly one")
    await imagine(world, world.alice, "slowly two")
    third = await imagine(world, world.alice, "slowly three")
    assert third.ephemeral and "limit 2" in third.responses[0]["data"]["content"]
    await imagine(world, world.bob, "slowly four")
    full = await imagine(world, world.mod, "slowly five")
    assert full.ephemeral and "queue is full" in full.responses[0]["data"]["content"]
    assert len(_jobs(world)) == 3


async def test_double_click_creates_one_job(world):
    server = world.server
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW)
    original = await wait_result(server, await imagine(world, world.alice, "a double"))
    job_id = job_id_of(original)
    clicks = await asyncio.gather(*(server.click_button(world.bob, original.id, f"img:reroll:v1:{job_id}")
                                    for _ in range(2)))
    await asyncio.gather(*(c.wait_ack(timeout=5) for c in clicks))
    assert sorted(c.ephemeral for c in clicks) == [False, True]
    refused = next(c for c in clicks if c.ephemeral)
    assert "already queued" in refused.responses[0]["data"]["content"]
    assert sum(r["kind"] == "reroll" for r in _jobs(world).values()) == 1
    await wait_result(server, next(c for c in clicks if not c.ephemeral))


async def test_delivery_after_the_interaction_token_expired_uses_the_channel(world):
    server = world.server
    server.token_ttl = 2.0
    await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW)
    slow = await imagine(world, world.alice, "slowly past the token", steps=6)
    message = await wait_result(server, slow, timeout=120)
    assert len(message.attachments) == 1
    assert server.expired_token_uses, "the test should have outlived the token"
    assert len(server.messages(world.channel.id)) == 1
