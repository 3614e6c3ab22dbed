"""The /mod tools end to end (`python -m bot`, the tiny model, the Discord-compatible server): each
subcommand works for moderators (Manage Messages, or a MODERATOR_ROLE_IDS role) and is logged,
and is refused to everyone else, also where a server admin granted the command to all; bans
refuse clicks, pause holds the queue, notices reach the member, /mod stats answers a PNG."""
from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timezone

from PIL import Image

from tests.e2e_helpers import db_rows, job_id_of, job_rows, wait_failure, wait_result
from tests.ledger_check import ledger_disagreements

NON_MODERATOR_CALLS = [
    ("mod quota set", {"credits": 5}), ("mod quota grant", {"credits": 5, "reason": "x"}),
    ("mod quota reset", {}), ("mod ban", {"reason": "x", "hours": 1}), ("mod unban", {}),
    ("mod pause", {"reason": "x"}), ("mod resume", {}), ("mod log", {}), ("mod stats", {"days": 2}),
    ("quota", {}),
]


async def _slash(world, user, name, options=None, **kw):
    i = await world.server.invoke_slash(user, world.channel, name, options or {}, **kw)
    await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0
    return i


def _text(interaction) -> str:
    return interaction.responses[0]["data"]["content"]


def _rows(world, sql, params=()):
    return db_rows(world.data_dir, sql, params)


async def test_quota_tools_and_the_log_work_for_moderators_and_are_refused_to_everyone_else(world):
    server = world.server
    helpers = server.add_role("Helpers")  # moderators by MODERATOR_ROLE_IDS, without Manage Messages
    supporters = server.add_role("Supporters")
    helper = server.add_user("helper")
    server.give_role(helper, helpers)
    server.give_role(world.bob, supporters)
    await world.start_bot(QUOTA_CREDITS="2", MODERATOR_ROLE_IDS=str(helpers), QUOTA_ROLE_CREDITS=f"{supporters}:10")
    (mod_command,) = [c for c in server.commands if c["name"] == "mod"]
    assert mod_command["default_member_permissions"] == str(1 << 13)

    # The client hides /mod from members without Manage Messages...
    for name, options in NON_MODERATOR_CALLS[:-1]:
        try:
            await server.invoke_slash(world.alice, world.channel, name, {**options, "member": world.bob})
        except ValueError as exc:
            assert "default_member_permissions" in str(exc)
        else:
            raise AssertionError(f"/{name} was offered to a member without Manage Messages")
    # ...and where a server admin changed that default, the bot refuses at run time; nothing changes.
    for name, options in NON_MODERATOR_CALLS:
        member = {} if name in ("mod pause", "mod resume", "mod log", "mod stats") else {"member": world.bob}
        i = await _slash(world, world.alice, name, {**options, **member}, admin_override=True)
        assert i.ephemeral and "Only moderators" in _text(i), (name, _text(i))
    assert _rows(world, "SELECT * FROM audit_log") == [] and _rows(world, "SELECT * FROM bans") == []
    assert _rows(world, "SELECT * FROM quota_ledger") == []

    shown = await _slash(world, world.mod, "quota", {"member": world.bob})
    assert "Used **0.0** of **10.0** this day" in _text(shown), "bob's Supporters tier is 10 credits"
    done = await _slash(world, world.mod, "mod quota set", {"member": world.bob, "credits": 4})
    assert done.ephemeral and "allowance is now **4.0** credits per day, was 10.0" in _text(done)
    granted = await _slash(world, helper, "mod quota grant", {"member": world.bob, "credits": 2.5,
                                                              "reason": "won the contest"}, admin_override=True)
    assert "Gave <@" in _text(granted) and "**2.5** credits" in _text(granted)
    job = await _slash(world, world.bob, "imagine", {"prompt": "a trophy", "steps": 25})  # 1.0
    assert "💳 costs 1.0 credits · 5.5 left" in _text(job)
    # what the moderators did reaches bob privately, with the reply to his next interaction
    await server.wait_for(lambda s: job.followups, 10)
    (told,) = job.followups
    assert told.ephemeral and "📣 A moderator set your allowance to 4.0 credits per day." in told.content
    assert "📣 A moderator gave you 2.5 credits: won the contest" in told.content
    reset = await _slash(world, world.mod, "mod quota reset", {"member": world.bob})
    assert "(was 1.0). They have 6.5 left." in _text(reset)
    back = await _slash(world, world.mod, "mod quota set", {"member": world.bob, "credits": -1})
    assert "allowance is now **10.0** credits per day (the default)" in _text(back)
    status = await _slash(world, world.bob, "quota")
    assert _text(status).startswith("📣 A moderator reset your usage this day")
    assert "Used **0.0** of **10.0** this day · **12.5 left**" in _text(status)
    assert "Bonus credits: 2.5" in _text(status)
    assert "📣" not in _text(await _slash(world, world.bob, "quota")), "a notice is told once"

    for n in range(8):  # 12 actions: two pages of the log
        await _slash(world, world.mod, "mod quota grant", {"member": world.alice, "credits": 0.1, "reason": f"g{n}"})
    log = await _slash(world, world.mod, "mod log")
    assert log.ephemeral
    lines = _text(log).splitlines()
    assert lines[0].startswith("**Moderator log** · page 1") and len(lines) == 11
    assert "**quota grant**" in lines[1] and "g7" in lines[1]
    message = server.get_message(log.original_message_id)
    older = next(c["custom_id"] for row in message.components for c in row["components"] if "Older" in c["label"])
    assert older == "mod:log:v1:0:1"
    page = await server.click_button(world.mod, message.id, older)
    await page.wait_ack(timeout=5)
    text = server.get_message(message.id).content
    assert "page 2" in text and "quota set" in text and "4.0 per day" in text
    filtered = await _slash(world, helper, "mod log", {"member": world.bob}, admin_override=True)
    assert [line.split("**")[1] for line in _text(filtered).splitlines()[1:]] == [
        "quota set", "quota reset", "quota grant", "quota set"]
    await wait_result(server, job)
    assert ledger_disagreements(world.data_dir / "pixelforge.sqlite3") == []


async def test_bans_refuse_commands_and_clicks_pause_holds_the_queue_and_stats_answer_a_png(world):
    server = world.server
    await world.start_bot(QUOTA_CREDITS="5")
    result = await wait_result(server, await _slash(world, world.bob, "imagine", {"prompt": "a fox", "steps": 5}))
    result_id = job_id_of(result)

    paused = await _slash(world, world.mod, "mod pause", {"reason": "GPU maintenance"})
    assert "Queue paused" in _text(paused)
    held = await _slash(world, world.alice, "imagine", {"prompt": "held back", "steps": 5})
    assert not held.ephemeral and "paused the queue: GPU maintenance" in _text(held)
    waiting = await _slash(world, world.bob, "imagine", {"prompt": "bob waits", "steps": 5})
    await asyncio.sleep(2.0)
    assert [r["status"] for r in job_rows(world.data_dir)] == ["delivered", "queued", "queued"], \
        "a render started while the queue was paused"

    banned = await _slash(world, world.mod, "mod ban", {"member": world.bob, "reason": "spamming", "hours": 2})
    assert "Banned <@" in _text(banned) and "Cancelled and refunded 1 queued job(s)" in _text(banned)
    assert "a moderator banned you" in (await wait_failure(server, waiting)).content
    click = await server.click_button(world.bob, result.id, f"img:reroll:v1:{result_id}")
    await click.wait_ack(timeout=5)
    assert click.ephemeral
    assert "banned you from the image bot here: spamming" in _text(click)
    assert "The ban ends in 1 h 59 min" in _text(click)
    for name, options in (("imagine", {"prompt": "sneaky"}), ("quota", {}), ("queue", {})):
        refused = await _slash(world, world.bob, name, options)
        assert refused.ephemeral and "banned you" in _text(refused)
    assert len(job_rows(world.data_dir)) == 3, "a banned member queued something"
    unbanned_by_mod = await _slash(world, world.mod, "mod ban", {"member": world.mod})
    assert "cannot be banned" in _text(unbanned_by_mod)

    resumed = await _slash(world, world.mod, "mod resume")
    assert "Queue resumed" in _text(resumed)
    await wait_result(server, held)
    await _slash(world, world.mod, "mod unban", {"member": world.bob})
    back = await _slash(world, world.bob, "quota")
    assert _text(back).startswith("📣 A moderator lifted your ban") and "Used **0.2** of **5.0**" in _text(back)

    stats = await _slash(world, world.mod, "mod stats", {"days": 3})
    assert stats.ephemeral and stats.responses[0]["type"] == 5  # deferred: the chart takes a moment

    def delivered(s):
        m = s.get_message(stats.original_message_id)
        return m if m is not None and m.attachments else None
    message = await server.wait_for(delivered, 60)
    (png,) = message.attachments
    image = Image.open(io.BytesIO(png.data))
    assert png.filename == "pixelforge-stats.png" and image.format == "PNG"
    drawn = json.loads(image.info["pixelforge:stats"])
    today = datetime.now(timezone.utc).date().isoformat()
    rows = job_rows(world.data_dir)
    assert drawn["days"][-1] == {
        "day": today, "jobs": len(rows), "failures": 0, "blocks": 0,
        "gpu_seconds": round(sum(r["render_seconds"] or 0 for r in rows), 3)}
    assert [d["jobs"] for d in drawn["days"][:-1]] == [0, 0]
    used = {}
    for r in rows:
        used[r["user_id"]] = used.get(r["user_id"], 0) + r["charged"] - r["refunded"]
    assert {m["user_id"]: m["credits"] for m in drawn["top"]} == {u: c for u, c in used.items() if c}
    assert f"{len(rows)} jobs" in message.content
    actions = [r["action"] for r in _rows(world, "SELECT action FROM audit_log ORDER BY id")]
    assert [a for a in actions if not a.startswith("view ")] == ["pause", "ban", "resume", "unban"]
    assert "view stats" in actions  # read-only subcommands leave a trace too
    assert ledger_disagreements(world.data_dir / "pixelforge.sqlite3") == []


async def test_every_safety_change_and_a_moderators_delete_are_in_the_log_and_a_useless_block_is_refused(world):
    server = world.server
    await world.start_bot()
    log_channel = server.add_channel(world.guild.id, name="mod-log")
    changes = [
        ("mod safety nsfw", {"enabled": True}), ("mod safety threshold", {"value": 0.4}),
        ("mod safety logchannel", {"channel": log_channel}), ("mod safety block", {"term": "zebra"}),
        ("mod safety allow", {"term": "zebra"}), ("mod safety allow", {"term": "nude"}),
    ]
    for name, options in changes:
        await _slash(world, world.mod, name, options)
    # A block the built-in lists make pointless is refused, saying why, and nothing is stored.
    i = await _slash(world, world.mod, "mod safety block", {"term": "naked"})
    assert "Not blocked" in _text(i) and "Nothing was added" in _text(i), _text(i)
    assert _rows(world, "SELECT * FROM safety_terms WHERE term = 'naked'") == []

    result = await wait_result(server, await _slash(world, world.alice, "imagine", {"prompt": "a fox", "steps": 4}))
    delete = await server.click_button(world.mod, result.id, f"img:delete:v1:{job_id_of(result)}")
    await delete.wait_ack(timeout=5)
    for _ in range(50):
        if any(r["action"] == "delete result" for r in _rows(world, "SELECT action FROM audit_log")):
            break
        await asyncio.sleep(0.1)

    actions = [(r["action"], r["before"], r["after"], r["moderator_id"])
               for r in _rows(world, "SELECT * FROM audit_log ORDER BY id")]
    assert [a[0] for a in actions] == ["safety nsfw", "safety threshold", "safety logchannel", "safety block",
                                       "safety allow", "safety allow", "delete result"], actions
    assert all(a[3] == world.mod.id for a in actions)
    assert actions[0][1:3] == ("off", "on") and actions[1][1:3] == ("0.5", "0.4")
    assert actions[3][1:3] == ("“zebra” not listed", "“zebra” blocked")
    assert actions[4][1:3] == ("“zebra” blocked", "“zebra” not listed")
    text = _text(await _slash(world, world.mod, "mod log", {}))
    assert "**safety nsfw**" in text and "**delete result**" in text and f"<@{world.alice.id}>" in text
    # Read-only subcommands are recorded too (after they answered).
    await _slash(world, world.mod, "mod safety log", {})
    await _slash(world, world.mod, "mod safety terms", {})
    for _ in range(50):
        views = [r["action"] for r in _rows(world, "SELECT action FROM audit_log ORDER BY id")
                 if r["action"].startswith("view ")]
        if len(views) == 3:
            break
        await asyncio.sleep(0.1)
    assert views == ["view mod log", "view safety log", "view safety terms"]
