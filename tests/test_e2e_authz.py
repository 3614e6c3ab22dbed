"""Hostile clicks end to end (`python -m bot`, the tiny model, the Discord-compatible server): two
servers A and B and a DM. Every component the bot posts (U, V, Vary (Subtle) and (Strong),
Re-roll, Info, Delete, Report, Zoom Out/Pan/Make Square/Vary Region, Cancel, the history pages and
menu) is sent with a forged custom_id:
another job's id, replayed onto another message, from server B, from a DM. Each is refused with one ephemeral answer and
nothing changes: no job queued, cancelled, deleted or reported, nothing charged.

Discord (the fake server's component validation) and discord.py 2.7 (it drops a dynamic item whose
custom_id is not on the clicked message) would stop these clicks before the bot saw them: both are
turned off here (`validate_components = False`, PIXELFORGE_TEST_TRUST_CUSTOM_ID in
tests/faults/sitecustomize.py), so what refuses is the bot's own check. That the clicks do reach the
bot is shown by the answers themselves (the authorization's sentences, which nothing else says),
and tests/test_authz.py shows that the services under the buttons accept any job id."""
from __future__ import annotations

from bot.services.authz import DMS_OFF, WRONG_MESSAGE, WRONG_PLACE
from tests.e2e_helpers import db_rows, job_id_of, wait_result
from tests.fakediscord.models import DEFAULT_USER_PERMISSIONS, MANAGE_MESSAGES
from tests.faults import TRUST_ENV


async def _slash(server, user, channel, name, options=None):
    i = await server.invoke_slash(user, channel, name, options or {})
    await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0
    return i


def _reply(interaction) -> tuple[str, bool]:
    """The one answer the interaction got: its text and whether only the clicker saw it."""
    assert len(interaction.callback_attempts) == 1, interaction.callback_attempts
    (response,) = interaction.responses
    data = response["data"] or {}
    return data.get("content") or "", bool((data.get("flags") or 0) & 64)


async def _result(server, user, channel, prompt):
    i = await _slash(server, user, channel, "imagine", {"prompt": prompt, "steps": 4})
    return await wait_result(server, i)


def _state(world) -> dict:
    """Everything a forged click could change."""
    rows = lambda sql: db_rows(world.data_dir, sql)  # noqa: E731
    return {
        "jobs": rows("SELECT id, user_id, guild_id, status, message_deleted_at, refunded FROM jobs ORDER BY id"),
        "ledger": rows("SELECT COUNT(*) AS n FROM quota_ledger"),
        "accounts": rows("SELECT guild_id, user_id, used, bonus FROM quota_accounts ORDER BY guild_id, user_id"),
        "reports": rows("SELECT COUNT(*) AS n FROM safety_reports"),
        "audit": rows("SELECT COUNT(*) AS n FROM audit_log"),
        "messages": sorted((m.id, m.deleted) for m in world.server.all_messages if not m.ephemeral),
    }


def _components(job_id: int) -> list[str]:
    """The custom_ids of a result's buttons (bot/frontend/buttons.py)."""
    return [f"img:up:v1:{job_id}:0", f"img:var:v1:{job_id}:0", f"img:vary:v1:{job_id}:0:subtle",
            f"img:vary:v1:{job_id}:0:strong", f"img:reroll:v1:{job_id}",
            f"img:info:v1:{job_id}", f"img:delete:v1:{job_id}", f"img:report:v1:{job_id}",
            # Zoom Out 2×, Pan ⬅ and Make Square (bot/frontend/outpaint_buttons.py): one id per kind of edit.
            f"img:out:v1:{job_id}:0:z2", f"img:out:v1:{job_id}:0:l", f"img:out:v1:{job_id}:0:sq",
            f"img:region:v1:{job_id}:0"]


def _job_of(message) -> int:
    job_id = job_id_of(message)
    assert job_id is not None, message.components
    return job_id


async def test_forged_custom_ids_across_two_servers_and_a_dm_are_refused_and_change_nothing(world):
    server = world.server
    guild_a, chan_a = world.guild, world.channel
    guild_b = server.add_guild("Other server")
    chan_b = server.add_channel(guild_b.id, name="b-art")
    carol = server.add_user("carol", guilds={guild_b.id: DEFAULT_USER_PERMISSIONS})  # in B only
    # A moderator of B, a plain member of A: moderator rights must not travel.
    mod_b = server.add_user("mod_b", guilds={guild_a.id: DEFAULT_USER_PERMISSIONS,
                                             guild_b.id: DEFAULT_USER_PERMISSIONS | MANAGE_MESSAGES})
    alice, bob = world.alice, world.bob  # members of both servers
    dm = server.open_dm(alice)
    await world.start_bot(ALLOW_DMS="true", DM_QUOTA_CREDITS="3", OWNER_USER_IDS=str(world.mod.id),
                          **{TRUST_ENV: "1"})

    ma = await _result(server, alice, chan_a, "alice's lighthouse in A")
    ma2 = await _result(server, bob, chan_a, "bob's harbour in A")
    mb = await _result(server, carol, chan_b, "carol's forest in B")
    mdm = await _result(server, alice, dm, "alice's private moon")
    job_a, job_a2, job_b, job_dm = (_job_of(m) for m in (ma, ma2, mb, mdm))

    paused = await _slash(server, world.mod, chan_a, "mod pause", {"reason": "forgery drill"})
    assert "Queue paused" in _reply(paused)[0]
    queued = await _slash(server, alice, chan_a, "imagine", {"prompt": "alice's waiting ship", "steps": 4})
    mq = server.get_message(queued.original_message_id)
    job_q = _job_of(mq)
    assert f"job:cancel:v1:{job_q}" in str(mq.components)

    # History lists to forge from: alice's (in A) and carol's (in B).
    hist_a = await _slash(server, alice, chan_a, "history")
    view_a = int(next(c["custom_id"] for c in _walk(server.get_message(hist_a.original_message_id).components)
                      if c["custom_id"].startswith("hist:open:v1:")).rsplit(":", 1)[1])
    hist_b = await _slash(server, carol, chan_b, "history")
    view_b = int(next(c["custom_id"] for c in _walk(server.get_message(hist_b.original_message_id).components)
                      if c["custom_id"].startswith("hist:open:v1:")).rsplit(":", 1)[1])

    # Discord's client would never send these: the fake server refuses them while it validates.
    try:
        await server.click_button(bob, ma2.id, f"img:delete:v1:{job_a}")
    except ValueError:
        pass
    else:
        raise AssertionError("the fake server let a custom_id that is not on the message through")
    server.validate_components = False

    # (who, clicked message, custom_id, select values or None, what the bot must answer)
    forges = []
    for custom_id in _components(job_a):
        forges += [
            (bob, ma2, custom_id, None, WRONG_MESSAGE),  # another job's id on his own result in A
            (world.mod, ma2, custom_id, None, WRONG_MESSAGE),  # A's moderator: replayed onto bob's message
            (mod_b, mb, custom_id, None, WRONG_PLACE),  # B's moderator, from server B
            (alice, mdm, custom_id, None, WRONG_PLACE),  # the job's own owner, from her DM
        ]
    for custom_id in _components(job_dm):
        forges += [(bob, ma2, custom_id, None, WRONG_PLACE), (mod_b, mb, custom_id, None, WRONG_PLACE)]
    for custom_id in _components(job_b):
        forges += [(alice, ma, custom_id, None, WRONG_PLACE), (alice, mdm, custom_id, None, WRONG_PLACE)]
    # Vary (Region)'s picker: another job's menu on one's own message, from B, from a DM.
    pick = f"img:regionpick:v1:{job_a}:0"
    forges += [(bob, ma2, pick, ["c5"], WRONG_MESSAGE), (mod_b, mb, pick, ["c5"], WRONG_PLACE),
               (alice, mdm, pick, ["c5"], WRONG_PLACE)]
    cancel = f"job:cancel:v1:{job_q}"
    forges += [
        (alice, ma2, cancel, None, WRONG_MESSAGE),  # her own job, through bob's message
        (world.mod, ma, cancel, None, WRONG_MESSAGE),  # A's moderator, through another job's message
        (mod_b, mb, cancel, None, WRONG_PLACE),
        (alice, mdm, cancel, None, WRONG_PLACE),
        # The history list: its pages and its menu.
        (mod_b, mb, f"hist:page:v1:{view_a}:o:{job_q + 1}", None, "belongs to someone else"),
        (alice, mdm, f"hist:page:v1:{view_a}:o:{job_q + 1}", None, "another server"),
        (alice, mdm, f"hist:open:v1:{view_a}", [str(job_a)], "another server"),
        (alice, ma2, f"hist:open:v1:{view_a}", [str(job_b)], WRONG_PLACE),  # B's job, shown in A
        (alice, ma2, f"hist:open:v1:{view_a}", [str(job_a2)], "not yours"),  # bob's job, on bob's message
        (carol, mb, f"hist:open:v1:{view_b}", [str(job_a)], WRONG_PLACE),
        (mod_b, mb, f"hist:open:v1:{view_b}", [str(job_b)], "belongs to someone else"),
    ]
    before = _state(world)
    for user, message, custom_id, values, expected in forges:
        if values is None:
            click = await server.click_button(user, message.id, custom_id)
        else:
            click = await server.select(user, message.id, custom_id, values)
        await click.wait_ack(timeout=5)
        text, private = _reply(click)
        assert private and expected in text, (user.username, custom_id, text)
    assert _state(world) == before, "a forged click changed something"
    assert db_rows(world.data_dir, "SELECT status FROM jobs WHERE id = ?", (job_q,)) == [{"status": "queued"}]

    # A DM job: always SFW (the safety negative is added), paid from the member's own DM bucket.
    (dm_row,) = db_rows(world.data_dir, "SELECT guild_id, safety_negative, charged FROM jobs WHERE id = ?", (job_dm,))
    assert dm_row["guild_id"] is None and dm_row["safety_negative"] and dm_row["charged"] > 0
    (dm_account,) = db_rows(world.data_dir, "SELECT tier, used FROM quota_accounts WHERE guild_id = 0")
    assert (dm_account["tier"], dm_account["used"]) == (30, dm_row["charged"])  # DM_QUOTA_CREDITS=3 a day

    # The whole queue is shared: with the bot in two servers only an operator may hold it.
    refused = await _slash(server, mod_b, chan_b, "mod pause", {"reason": "mine"})
    assert "only the bot's operators" in _reply(refused)[0]
    refused = await _slash(server, mod_b, chan_b, "mod storage")
    assert "only the bot's operators" in _reply(refused)[0]
    # Moderator commands reach only the asking server's jobs and records; /show stays in its server.
    listed = await _slash(server, mod_b, chan_b, "queue", {"user": alice})
    assert "no waiting jobs" in _reply(listed)[0]
    listed = await _slash(server, world.mod, chan_a, "queue", {"user": alice})
    assert f"#{job_q}" in _reply(listed)[0]
    history = await _slash(server, mod_b, chan_b, "history", {"member": alice})
    assert "lighthouse" not in _reply(history)[0] and "moon" not in _reply(history)[0]
    for user, channel in ((mod_b, chan_b), (alice, chan_b), (alice, dm)):
        shown = await _slash(server, user, channel, "show", {"job": job_a})
        text, private = _reply(shown)
        assert private and WRONG_PLACE in text, text
    quota = await _slash(server, mod_b, chan_b, "quota", {"member": alice})
    assert "Used **0.0**" in _reply(quota)[0], "B's moderator sees alice's B account, not her A spending"
    assert _state(world)["jobs"] == before["jobs"]

    # The same buttons work where they belong (so the refusals above are not all the bot can say).
    server.validate_components = True
    info = await server.click_button(bob, ma.id, f"img:info:v1:{job_a}")
    await info.wait_ack(timeout=5)
    assert "alice's lighthouse in A" in _reply(info)[0]
    cancel_own = await server.click_button(alice, mq.id, cancel)
    await cancel_own.wait_ack(timeout=5)
    await server.wait_for(lambda s: db_rows(world.data_dir, "SELECT status FROM jobs WHERE id = ?", (job_q,))
                          == [{"status": "cancelled"}], 10)


async def test_with_dms_off_a_dm_command_or_click_gets_one_refusal(world):
    server = world.server
    dm = server.open_dm(world.alice)
    await world.start_bot(**{TRUST_ENV: "1"})
    refused = await _slash(server, world.alice, dm, "imagine", {"prompt": "a fox in my DMs", "steps": 4})
    text, private = _reply(refused)
    assert private and text == DMS_OFF
    assert db_rows(world.data_dir, "SELECT * FROM jobs") == []
    queue = await _slash(server, world.alice, dm, "queue")
    assert _reply(queue) == (DMS_OFF, True)
    server.validate_components = False
    click = await server.click_button(world.alice, refused.original_message_id, "img:reroll:v1:1")
    await click.wait_ack(timeout=5)
    assert _reply(click) == (DMS_OFF, True)


def _walk(components):
    for component in components or []:
        if component.get("custom_id"):
            yield component
        yield from _walk(component.get("components"))
