"""FakeDiscord against a real, unmodified discord.py client running in this process.

Each test starts a server and a small commands.Bot pointed at it (Route.BASE and
DEFAULT_GATEWAY patched, then restored), drives it the way Discord's client would, and checks
both what the bot saw and the rules the server recorded.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sys
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import MANAGE_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.fakediscord.spec import DEFAULT_SPEC_PATH

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x40\x00\x00\x00\x40" + bytes(range(256)) * 4


class Reroll(discord.ui.DynamicItem[discord.ui.Button], template=r"img:reroll:v1:(?P<job>[a-z0-9]+)"):
    """A persistent button: survives restarts because the job id lives in the custom_id."""

    def __init__(self, job: str) -> None:
        super().__init__(discord.ui.Button(label="Reroll", custom_id=f"img:reroll:v1:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.results.setdefault("rerolls", []).append((interaction.data["custom_id"], self.job))
        await interaction.response.send_message(f"rerolling {self.job}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="fb:text", max_length=200)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


def make_bot() -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(),
                       allowed_mentions=discord.AllowedMentions.none())
    bot.results: dict[str, Any] = {}
    bot.release = asyncio.Event()

    def record(key: str, value: Any) -> None:
        bot.results.setdefault(key, []).append(value)

    @bot.tree.command(name="imagine", description="Generate images")
    @app_commands.describe(prompt="What to draw", count="How many")
    async def imagine(interaction: discord.Interaction, prompt: str, count: app_commands.Range[int, 1, 4] = 1):
        record("defer", await interaction.response.defer())
        view = discord.ui.View(timeout=None)
        view.add_item(Reroll("job1"))
        view.add_item(discord.ui.Button(label="Off", custom_id="img:off:v1", disabled=True))
        await interaction.edit_original_response(content=f"{count}x {prompt}", view=view,
                                                 attachments=[discord.File(io.BytesIO(PNG), "result.png")])

    @bot.tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction):
        await asyncio.sleep(3.5)
        try:
            await interaction.response.send_message("late")
        except discord.HTTPException as exc:
            record("slow", (exc.status, exc.code))

    @bot.tree.command(name="double", description="Acknowledges twice")
    async def double(interaction: discord.Interaction):
        await interaction.response.defer()
        interaction.response._response_type = None  # bypass discord.py's guard to reach the server
        try:
            await interaction.response.send_message("again")
        except discord.HTTPException as exc:
            record("double", (exc.status, exc.code))

    @bot.tree.command(name="deliver", description="Delivers after a long job")
    async def deliver(interaction: discord.Interaction):
        await interaction.response.defer()
        await bot.release.wait()
        try:
            await interaction.edit_original_response(content="done",
                                                     attachments=[discord.File(io.BytesIO(PNG), "late.png")])
        except discord.HTTPException as exc:
            record("deliver", (exc.status, exc.code))
            # The token expired: deliver with the bot's own token instead.
            await interaction.channel.send(f"{interaction.user.mention} done",
                                           file=discord.File(io.BytesIO(PNG), "late.png"))

    @bot.tree.command(name="post", description="Posts to the channel")
    async def post(interaction: discord.Interaction):
        await interaction.response.defer(ephemeral=True)
        try:
            await interaction.channel.send("hello")
        except discord.Forbidden as exc:
            record("post", (exc.status, exc.code))
            await interaction.edit_original_response(content="I may not post here")

    @bot.tree.command(name="echo", description="Echoes text")
    async def echo(interaction: discord.Interaction, text: str, loud: bool = False):
        mentions = discord.AllowedMentions.all() if loud else None
        await interaction.response.send_message(text, allowed_mentions=mentions)

    @bot.tree.command(name="think", description="Deferred, then follow-ups")
    async def think(interaction: discord.Interaction):
        await interaction.response.defer(thinking=True)
        first = await interaction.followup.send("first", wait=True)
        second = await interaction.followup.send("second", ephemeral=True, wait=True)
        record("think", (first.id, second.id))

    @bot.tree.command(name="where", description="Who and where, as discord.py sees it")
    async def where(interaction: discord.Interaction):
        record("where", (interaction.guild_id, type(interaction.user).__name__, type(interaction.channel).__name__,
                         interaction.permissions.manage_messages))
        await interaction.response.send_message("here", ephemeral=True)

    @bot.tree.command(name="feedback", description="Opens a modal")
    async def feedback(interaction: discord.Interaction):
        await interaction.response.send_modal(Feedback())

    mod = app_commands.Group(name="mod", description="Moderator tools",
                             default_permissions=discord.Permissions(manage_messages=True), guild_only=True)
    quota = app_commands.Group(name="quota", description="Credits", parent=mod)

    @quota.command(name="grant", description="Give credits")
    async def grant(interaction: discord.Interaction, member: discord.User, credits: float, reason: str | None = None):
        roles = sorted(r.name for r in getattr(member, "roles", []) if not r.is_default())
        perms = member.resolved_permissions
        record("grant", (member.id, type(member).__name__, roles, perms.manage_messages if perms else None, credits,
                         reason, interaction.permissions.manage_messages))
        fetched = await bot.fetch_user(member.id)
        await interaction.response.send_message(f"gave {credits} to {fetched.name}", ephemeral=True)

    bot.tree.add_command(mod)

    async def setup_hook() -> None:
        bot.add_dynamic_items(Reroll)
        await bot.tree.sync()

    bot.setup_hook = setup_hook
    return bot


@pytest.fixture
async def server():
    srv = FakeDiscord(token="test-token", ack_deadline=3.0)
    await srv.start()
    srv.guild = srv.add_guild("Test")
    srv.channel = srv.add_channel(srv.guild.id, name="art")
    srv.alice = srv.add_user("alice")
    yield srv
    await srv.stop()


@pytest.fixture
async def start_bot(server, monkeypatch, caplog):
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    running: list[tuple] = []

    async def start() -> commands.Bot:
        bot = make_bot()
        task = asyncio.create_task(bot.start(server.token))
        running.append((bot, task))
        await server.wait_for(lambda s: s.connected and bot.user is not None and not task.done(), 10,
                              "the bot to log in")
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        await asyncio.wait_for(task, 5)
    # discord.py logs (rather than raises) what it cannot parse or handle: none of that allowed.
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records  # .records is per phase
    errors = [r.getMessage() for r in records if r.name.startswith("discord") and r.levelno >= 40]
    assert errors == []


async def test_login_ready_and_command_sync(server, start_bot):
    await start_bot()
    await server.wait_ready(10)
    cmds = await server.wait_commands(5)
    names = {c["name"] for c in cmds}
    assert {"imagine", "slow", "double", "deliver", "post", "echo", "think", "feedback"} <= names
    imagine = next(c for c in cmds if c["name"] == "imagine")
    assert [o["name"] for o in imagine["options"]] == ["prompt", "count"] and imagine["id"].isdigit()
    assert ("GET", "/api/v10/users/@me", 200) in server.requests
    assert server.identify_count == 1 and len(server.command_syncs) == 1
    assert server.violations == []


async def test_slash_defer_edit_with_file_then_button(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    i = await server.invoke_slash(server.alice, server.channel, "imagine", {"prompt": "a fox", "count": 2})
    ack = await i.wait_ack(5)
    assert ack["type"] == 5 and ack["status"] == 200 and i.ack_latency < 1.0 and not i.ephemeral
    msg = await server.wait_for(lambda s: (m := s.get_message(i.original_message_id)) and not m.loading and m, 5)
    assert msg.content == "2x a fox" and msg.edit_count == 1 and msg.interaction_id == i.id
    assert [(a.filename, a.content_type, a.data) for a in msg.attachments] == [("result.png", "image/png", PNG)]
    # defer() returns the callback response: the message id is known, the resource is not.
    deferred = bot.results["defer"][0]
    assert deferred.message_id == msg.id and deferred.resource is None

    url = f"{server.base_url}/attachments/{msg.channel_id}/{msg.attachments[0].id}/result.png"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200 and await resp.read() == PNG

    click = await server.click_button(server.alice, msg.id, "img:reroll:v1:job1")
    reply = await click.wait_ack(5)
    assert reply["type"] == 4 and click.ephemeral
    assert bot.results["rerolls"] == [("img:reroll:v1:job1", "job1")]
    assert server.get_message(click.original_message_id).content == "rerolling job1"
    assert [m.id for m in server.messages(server.channel)] == [msg.id]  # ephemeral reply not in the channel
    with pytest.raises(ValueError, match="disabled"):
        await server.click_button(server.alice, msg.id, "img:off:v1")
    with pytest.raises(ValueError, match="no component"):
        await server.click_button(server.alice, msg.id, "img:nope")
    assert server.violations == []


async def test_invoke_slash_refuses_what_the_client_would(server, start_bot):
    await start_bot()
    await server.wait_commands(5)
    bad = [("paint", {"prompt": "x"}), ("imagine", {"prompt": "x", "size": 3}), ("imagine", {"count": 2}),
           ("imagine", {"prompt": 5}), ("imagine", {"prompt": "x", "count": 9}),
           ("imagine", {"prompt": "x", "count": True})]
    for name, options in bad:
        with pytest.raises(ValueError):
            await server.invoke_slash(server.alice, server.channel, name, options)
    assert server.interactions == {}


async def test_late_ack_is_unknown_interaction(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    i = await server.invoke_slash(server.alice, server.channel, "slow")
    ack = await i.wait_ack(6)
    assert (ack["status"], ack["code"]) == (404, 10062) and i.ack_latency > 3.0 and not i.acknowledged
    await server.wait_for(lambda s: "slow" in bot.results, 2)
    assert bot.results["slow"] == [(404, 10062)]
    assert len(server.violations) == 1 and server.violations[0].startswith("late ack")


async def test_double_ack_is_rejected(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    i = await server.invoke_slash(server.alice, server.channel, "double")
    await server.wait_for(lambda s: "double" in bot.results, 5)
    assert bot.results["double"] == [(400, 40060)]
    assert [a["status"] for a in i.callback_attempts] == [200, 400] and i.responses == [{"type": 5, "data": None}]
    assert len(server.violations) == 1 and "acknowledged twice" in server.violations[0]


async def test_expired_token_falls_back_to_channel(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    i = await server.invoke_slash(server.alice, server.channel, "deliver")
    await i.wait_ack(5)
    server.expire_tokens()
    bot.release.set()
    fallback = await server.wait_for(
        lambda s: [m for m in s.messages(s.channel) if m.interaction_id is None and m.attachments], 5)
    assert bot.results["deliver"] == [(401, 50027)]
    assert fallback[0].content == f"<@{server.alice.id}> done" and fallback[0].mentions == []
    assert fallback[0].attachments[0].data == PNG
    assert [u["interaction_id"] for u in server.expired_token_uses] == [i.id]
    assert server.violations == []  # a single expired use followed by the fallback is correct


async def test_missing_permission_is_403(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    server.set_app_permissions(server.channel, VIEW_CHANNEL)
    i = await server.invoke_slash(server.alice, server.channel, "post")
    await server.wait_for(lambda s: (m := s.get_message(i.original_message_id or 0)) and not m.loading, 5)
    assert bot.results["post"] == [(403, 50013)] and i.ephemeral
    assert len(server.violations) == 1 and server.violations[0].startswith("missing permissions")
    # discord.py sees the same permissions through the channel overwrite the server sent.
    channel = bot.get_channel(server.channel.id)
    perms = channel.permissions_for(channel.guild.me)
    assert perms.view_channel and not perms.send_messages


async def test_mentions_that_could_ping_are_violations(server, start_bot):
    await start_bot()
    await server.wait_commands(5)
    text = f"hi <@{server.alice.id}> @everyone"
    quiet = await server.invoke_slash(server.alice, server.channel, "echo", {"text": text})
    await quiet.wait_ack(5)
    assert server.violations == [] and server.get_message(quiet.original_message_id).mentions == []
    loud = await server.invoke_slash(server.alice, server.channel, "echo", {"text": text, "loud": True})
    await loud.wait_ack(5)
    assert len(server.violations) == 1 and server.violations[0].startswith("mentions could ping")


async def test_followups_after_defer_and_modal(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    i = await server.invoke_slash(server.alice, server.channel, "think")
    await server.wait_for(lambda s: "think" in bot.results, 5)
    first, second = bot.results["think"][0]
    # Discord: the first follow-up after a defer completes the "thinking" message itself.
    assert first == i.original_message_id and [m.id for m in i.followups] == [first, second]
    assert server.get_message(first).content == "first" and server.get_message(second).ephemeral

    opened = await server.invoke_slash(server.alice, server.channel, "feedback")
    assert (await opened.wait_ack(5))["type"] == 9
    submitted = await server.submit_modal(server.alice, opened, {"fb:text": "lovely"})
    await submitted.wait_ack(5)
    assert server.get_message(submitted.original_message_id).content == "thanks: lovely"
    assert server.violations == []


async def test_edit_rate_limit_is_429_and_discordpy_retries(server, start_bot):
    server.edit_rate = (5, 1.0)  # a short window keeps the retry wait short
    bot = await start_bot()
    channel = bot.get_channel(server.channel.id)
    msg = await channel.send("0")
    for n in range(1, 7):
        msg = await msg.edit(content=str(n))  # the 6th gets a 429 and discord.py retries it
    assert server.get_message(msg.id).content == "6"
    assert [r.status for r in server.requests if r.method == "PATCH"] == [200] * 5 + [429, 200]
    assert len(server.violations) == 1 and server.violations[0].startswith("edit rate exceeded")


async def test_reconnect_resume_and_new_login(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    # Server drops the socket: discord.py RESUMEs the same session.
    await server.disconnect_gateway(4000)
    await server.wait_for(lambda s: s.gateway.resume_count == 1 and s.connected, 10)
    i = await server.invoke_slash(server.alice, server.channel, "echo", {"text": "after resume"})
    assert (await i.wait_ack(5))["status"] == 200
    # The client goes away; a brand-new client IDENTIFIES.
    await bot.close()
    await server.wait_for(lambda s: not s.connected, 5)
    await start_bot()
    await server.wait_ready(10)
    assert server.identify_count == 2
    i = await server.invoke_slash(server.alice, server.channel, "echo", {"text": "second life"})
    assert (await i.wait_ack(5))["status"] == 200
    assert server.violations == []


async def test_raw_rest_rules(server):
    """Discord's answers to a plain HTTP client: auth, unknown routes, limits, 429 shape."""
    api, auth = server.api_base, {"Authorization": "Bot test-token"}
    ch = server.channel.id
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/users/@me", headers={"Authorization": "Bot wrong"}) as r:
            assert r.status == 401 and await r.json() == {"message": "401: Unauthorized", "code": 0}
        async with http.get(f"{api}/users/@me", headers=auth) as r:
            assert r.headers["Content-Type"] == "application/json" and "X-RateLimit-Bucket" in r.headers
        async with http.get(f"{api}/guilds/1/bans", headers=auth) as r:
            assert r.status == 404 and (await r.json())["code"] == 0
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             json={"content": "x" * 2001, "allowed_mentions": {"parse": []}}) as r:
            assert r.status == 400 and (await r.json())["code"] == 50035
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             json={"content": "hi", "allowed_mentions": {"parse": []}}) as r:
            mid = (await r.json())["id"]
        statuses = []
        for n in range(6):
            async with http.patch(f"{api}/channels/{ch}/messages/{mid}", headers=auth, json={"content": str(n)}) as r:
                statuses.append(r.status)
                body = await r.json()
        assert statuses == [200] * 5 + [429]
        assert r.headers["Via"] == "1.1 google" and "Retry-After" in r.headers and body["global"] is False
        other = server.add_message(server.channel, server.alice, "mine")
        async with http.patch(f"{api}/channels/{ch}/messages/{other.id}", headers=auth, json={"content": "x"}) as r:
            assert r.status == 403 and (await r.json())["code"] == 50005
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth, json={"content": 5}) as r:
            pass
    kinds = [v.split(":")[0] for v in server.violations]
    # The content-must-be-a-string check comes from Discord's spec, which only exists beside the project.
    from_spec = ["spec"] if DEFAULT_SPEC_PATH.exists() else []
    assert kinds == ["401 Unauthorized", "unhandled route", "rejected request", "edit rate exceeded",
                     "edit of another user's message", *from_spec,
                     "rejected request"], json.dumps(server.violations, indent=1)


BOT_SCRIPT = r"""
import os, discord, yarl
from discord.ext import commands
discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(),
                   allowed_mentions=discord.AllowedMentions.none())

@bot.tree.command(name="ping", description="Ping")
async def ping(interaction: discord.Interaction):
    await interaction.response.send_message(f"pong from {os.getpid()}")

async def setup_hook():
    await bot.tree.sync()

bot.setup_hook = setup_hook
bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)
"""


async def test_bot_process_killed_and_restarted(server):
    """A bot subprocess killed with SIGKILL: the server notices and accepts a fresh IDENTIFY."""
    env = {**os.environ, **server.env()}

    async def spawn() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(sys.executable, "-c", BOT_SCRIPT, env=env,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)

    first = await spawn()
    try:
        await server.wait_ready(20)
        i = await server.invoke_slash(server.alice, server.channel, "ping")
        await i.wait_ack(5)
        assert server.get_message(i.original_message_id).content == f"pong from {first.pid}"
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await server.wait_for(lambda s: not s.connected, 5, "the server to notice the dead socket")
        second = await spawn()
        try:
            await server.wait_ready(20, logins=2)
            i = await server.invoke_slash(server.alice, server.channel, "ping")
            await i.wait_ack(5)
            assert server.get_message(i.original_message_id).content == f"pong from {second.pid}"
        finally:
            second.kill()
            await second.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert server.violations == []


async def test_raw_message_rules(server):
    """Attachment replacement on edit, size/count/component limits, command shape, tokens."""
    api, auth = server.api_base, {"Authorization": "Bot test-token"}
    ch = server.channel.id

    def form(payload: dict[str, Any], files: list[tuple]) -> aiohttp.FormData:
        data = aiohttp.FormData(quote_fields=False)
        data.add_field("payload_json", json.dumps(payload))
        for n, (name, blob) in enumerate(files):
            data.add_field(f"files[{n}]", blob, filename=name, content_type="application/octet-stream")
        return data

    quiet = {"allowed_mentions": {"parse": []}}
    async with aiohttp.ClientSession() as http:
        payload = {"content": "two", **quiet,
                   "attachments": [{"id": 0, "filename": "a.png"}, {"id": 1, "filename": "b.txt"}]}
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             data=form(payload, [("a.png", PNG), ("b.txt", b"bee")])) as r:
            created = await r.json()
        assert [(a["filename"], a["content_type"], a["size"]) for a in created["attachments"]] == [
            ("a.png", "image/png", len(PNG)), ("b.txt", "text/plain", 3)]
        keep = int(created["attachments"][0]["id"])  # discord.py sends existing ids as ints
        payload = {"attachments": [{"id": keep}, {"id": 0, "filename": "c.png"}]}
        async with http.patch(f"{api}/channels/{ch}/messages/{created['id']}", headers=auth,
                              data=form(payload, [("c.png", b"new")])) as r:
            edited = await r.json()
        assert [a["filename"] for a in edited["attachments"]] == ["a.png", "c.png"]
        assert [a.data for a in server.get_message(int(created["id"])).attachments] == [PNG, b"new"]

        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             data=form({"content": "big", **quiet}, [("big.bin", b"0" * (10 * 1024 * 1024 + 1))])) as r:
            assert (r.status, (await r.json())["code"]) == (413, 40005)
        rows = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": f"b{n}"}]}
                for n in range(6)]
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             json={"content": "rows", **quiet, "components": rows}) as r:
            assert (r.status, (await r.json())["code"]) == (400, 50035)
        bad = [{"name": "Imagine", "description": "x", "options": [
            {"type": 3, "name": "a", "description": "a"},
            {"type": 3, "name": "b", "description": "b", "required": True}]}]
        async with http.put(f"{api}/applications/{server.application_id}/commands", headers=auth, json=bad) as r:
            errors = (await r.json())["errors"]
            assert r.status == 400 and set(errors["0"]) == {"name", "options"}
        async with http.patch(f"{api}/webhooks/{server.application_id}/not-a-token/messages/@original",
                              json={"content": "x"}) as r:
            assert (r.status, (await r.json())["code"]) == (401, 50027)
    kinds = [v.split(":")[0] for v in server.violations]
    assert kinds == ["rejected request", "rejected request", "invalid command sync",
                     "unknown interaction token"], server.violations
    assert server.command_syncs == [] and not any("not-a-token" in v for v in server.violations)


async def test_subcommand_groups_with_user_options_roles_and_default_permissions(server, start_bot):
    """/mod quota grant as Discord sends it: nested options, the member in `resolved` with their
    roles and channel permissions; default_member_permissions stored as a string; a server admin
    may grant the command to members without the permission (admin_override)."""
    bot = await start_bot()
    await server.wait_commands(5)
    (mod,) = [c for c in server.commands if c["name"] == "mod"]
    assert mod["default_member_permissions"] == str(1 << 13)  # Discord returns a string of digits
    assert [(o["name"], o["type"]) for o in mod["options"]] == [("quota", 2)]
    moderators = server.add_role("Moderators", MANAGE_MESSAGES)
    tier = server.add_role("Supporters")
    bob = server.add_user("bob")
    server.give_role(bob, tier)
    carol = server.add_user("carol")
    server.give_role(carol, moderators)
    await asyncio.sleep(0.2)  # the role events reach the bot's cache

    with pytest.raises(ValueError, match="default_member_permissions"):
        await server.invoke_slash(server.alice, server.channel, "mod quota grant", {"member": bob, "credits": 2.5})
    with pytest.raises(ValueError, match="needs a subcommand"):
        await server.invoke_slash(carol, server.channel, "mod", {})
    i = await server.invoke_slash(carol, server.channel, "mod quota grant",
                                  {"member": bob, "credits": 2.5, "reason": "thanks"})
    await i.wait_ack(5)
    assert i.data["options"][0]["options"][0]["name"] == "grant"
    assert str(bob.id) in i.data["resolved"]["members"]
    assert i.responses[0]["data"]["content"] == "gave 2.5 to bob"
    overridden = await server.invoke_slash(server.alice, server.channel, "mod quota grant",
                                           {"member": carol, "credits": 1}, admin_override=True)
    await overridden.wait_ack(5)
    assert bot.results["grant"] == [(bob.id, "Member", ["Supporters", "member:bob"], False, 2.5, "thanks", True),
                                    (carol.id, "Member", ["Moderators", "member:carol"], True, 1.0, None, False)]
    assert server.violations == []


async def test_a_second_guild_with_its_own_members_dms_and_forged_clicks(server, start_bot):
    bot = await start_bot()
    await server.wait_commands(5)
    other = server.add_guild("Other")
    other_channel = server.add_channel(other.id, name="b")
    from tests.fakediscord.models import DEFAULT_USER_PERMISSIONS

    # A moderator in one server is a plain member in the other; a member of one only cannot act in the other.
    mod_b = server.add_user("mod_b", guilds={server.guild.id: DEFAULT_USER_PERMISSIONS,
                                             other.id: DEFAULT_USER_PERMISSIONS | MANAGE_MESSAGES})
    carol = server.add_user("carol", guilds={other.id: DEFAULT_USER_PERMISSIONS})
    for user, channel in ((mod_b, other_channel), (mod_b, server.channel)):
        await (await server.invoke_slash(user, channel, "where")).wait_ack(5)
    with pytest.raises(ValueError, match="not a member"):
        await server.invoke_slash(carol, server.channel, "where")
    # DMs: no guild, a User rather than a Member, a DMChannel; guild-only commands are not offered.
    dm = server.open_dm(server.alice)
    assert server.open_dm(server.alice) is dm
    in_dm = await server.invoke_slash(server.alice, dm, "where")
    await in_dm.wait_ack(5)
    assert in_dm.ephemeral and server.get_message(in_dm.original_message_id).channel_id == dm.id
    assert bot.results["where"] == [(other.id, "Member", "TextChannel", True),
                                    (server.guild.id, "Member", "TextChannel", False),
                                    (None, "User", "DMChannel", False)]
    with pytest.raises(ValueError, match="not available in DMs"):
        await server.invoke_slash(server.alice, dm, "mod quota grant", {"member": carol, "credits": 1})

    # A forged custom_id (not on the message): the server refuses it unless told not to validate,
    # and discord.py 2.7 then drops it itself (no answer at all): the bot's handler never runs.
    made = await server.invoke_slash(server.alice, server.channel, "imagine", {"prompt": "a fox"})
    await made.wait_ack(5)
    msg = await server.wait_for(lambda s: (m := s.get_message(made.original_message_id)) and not m.loading and m, 5)
    with pytest.raises(ValueError, match="no component"):
        await server.click_button(server.alice, msg.id, "img:reroll:v1:job2")
    server.validate_components = False
    forged = await server.click_button(server.alice, msg.id, "img:reroll:v1:job2")
    with pytest.raises(TimeoutError):
        await forged.wait_ack(1.5)
    assert "rerolls" not in bot.results
    with pytest.raises(ValueError, match="cannot see"):  # still only messages the user can see
        await server.click_button(carol, msg.id, "img:reroll:v1:job1")
    assert server.violations == []


async def test_attachment_descriptions_are_stored_returned_and_limited_to_1024_characters(server):
    """Alt text: Discord keeps an attachment's `description` (at most 1024 characters) and returns it;
    a longer one is refused with 400/50035 naming the field, and nothing is posted."""
    api, auth = server.api_base, {"Authorization": "Bot test-token"}
    ch = server.channel.id

    def form(payload: dict[str, Any]) -> aiohttp.FormData:
        data = aiohttp.FormData(quote_fields=False)
        data.add_field("payload_json", json.dumps({"allowed_mentions": {"parse": []}, **payload}))
        data.add_field("files[0]", PNG, filename="a.png", content_type="application/octet-stream")
        return data

    async with aiohttp.ClientSession() as http:
        alt = "A" * 1024
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             data=form({"attachments": [{"id": 0, "filename": "a.png", "description": alt}]})) as r:
            created = await r.json()
        assert r.status == 200 and created["attachments"][0]["description"] == alt
        assert server.get_message(int(created["id"])).attachments[0].description == alt
        async with http.get(f"{api}/channels/{ch}/messages/{created['id']}", headers=auth) as r:
            assert (await r.json())["attachments"][0]["description"] == alt
        before = len(server.messages(server.channel))
        async with http.post(f"{api}/channels/{ch}/messages", headers=auth,
                             data=form({"attachments": [{"id": 0, "filename": "a.png",
                                                         "description": alt + "A"}]})) as r:
            body = await r.json()
        assert (r.status, body["code"]) == (400, 50035)
        assert "description" in body["errors"]["attachments"]["0"]
        assert len(server.messages(server.channel)) == before
    # The one over-long description is the only violation: the server's rule, and (where
    # ../shared/discord-api-spec is present) the spec check's word on the same request.
    kinds = [v.split(":")[0] for v in server.violations]
    assert kinds.count("rejected request") == 1, server.violations
    spec_word = "spec: POST /channels/{channel_id}/messages: 'AAAA"
    assert all(k == "rejected request" or (k == "spec" and v.startswith(spec_word))
               for k, v in zip(kinds, server.violations, strict=True)), server.violations
