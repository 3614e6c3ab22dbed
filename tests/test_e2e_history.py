"""/history and /show end to end: pages, search, the select menu, who may see what, and the channel's
safety policy when an image is shown again. One bot start, with the scripted image checker."""
from __future__ import annotations

import time
from pathlib import Path

from bot.database import Database
from tests.e2e_helpers import custom_ids, job_id_of, public_message, reply_text, wait_public_result, wait_result

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"


async def _seed(data_dir: Path, jobs: list[tuple[int, str]]) -> None:
    """Delivered jobs (no images) straight into a fresh database, before the bot first starts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = await Database(data_dir / "pixelforge.sqlite3").connect()
    try:
        now = time.time() - 3600
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, prompt, negative_prompt, aspect, width,"
                " height, steps, guidance, count, seed, model, priority, status, created_at)"
                " VALUES ('imagine', 'txt2img', ?, ?, 1, ?, '', '1:1', 64, 64, 4, 7.0, 1, ?, 'tiny-sd', 1,"
                " 'delivered', ?)",
                [(user, guild, prompt, 100 + n, now + n) for n, (user, guild, prompt) in enumerate(jobs)])
    finally:
        await db.close()


def _ids_in(text: str) -> list[int]:
    return [int(part.split("`")[0]) for part in text.split("`#")[1:]]


async def test_history_pages_search_and_show_with_their_refusals(world):
    server = world.server
    alice, bob, mod = world.alice, world.bob, world.mod
    gid = world.guild.id
    # Jobs 1-12 are alice's whales, 13-15 bob's cats, 16 alice's in another server (never listed here).
    await _seed(world.data_dir, [(alice.id, gid, f"a blue whale number {n}") for n in range(1, 13)]
                + [(bob.id, gid, "a purple cat")] * 3 + [(alice.id, gid + 1, "a whale elsewhere")])
    after_dark = server.add_channel(world.guild.id, name="after-dark", nsfw=True)
    await world.start_bot(SAFETY_IMAGE_CHECKER="pixelforge_test_checker:Scripted", PYTHONPATH=str(PLUGINS),
                          PIXELFORGE_TEST_FLAG_WORDS="zebra")
    fox = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                             {"prompt": "a red fox", "steps": 4}))
    fox_id = job_id_of(fox)
    assert fox_id == 17

    # Page one: the ten newest of alice's jobs in this server, a select menu, Newer off, Older on.
    first = await server.invoke_slash(alice, world.channel, "history")
    text = await reply_text(server, first)
    assert first.ephemeral and _ids_in(text) == [17, 12, 11, 10, 9, 8, 7, 6, 5, 4]
    assert "a red fox" in text and "seed" in text and "64×64" in text and "delivered" in text
    page = server.get_message(first.original_message_id)
    ids = custom_ids(page)
    (select_id,) = [c for c in ids if c.startswith("hist:open:v1:")]
    newer, older = [c for c in ids if c.startswith("hist:page:v1:")]
    assert page.find_component(newer)["disabled"] and not page.find_component(older).get("disabled")
    # Older: the last three; Newer from there: page one again.
    click = await server.click_button(alice, page.id, older)
    await click.wait_ack(5)
    page = server.get_message(page.id)
    assert _ids_in(page.content) == [3, 2, 1]
    back = [c for c in custom_ids(page) if c.startswith("hist:page:v1:") and ":n:" in c][0]
    await (await server.click_button(alice, page.id, back)).wait_ack(5)
    assert _ids_in(server.get_message(page.id).content)[:2] == [17, 12]

    # Search: FTS over the prompt, prefixes of the last word, nothing of another server or member.
    found = await reply_text(server, await server.invoke_slash(alice, world.channel, "history", {"search": "whal"}))
    assert _ids_in(found) == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    found = await reply_text(server, await server.invoke_slash(alice, world.channel, "history",
                                                               {"search": "whale number 7"}))
    assert _ids_in(found) == [7]
    nothing = await reply_text(server, await server.invoke_slash(alice, world.channel, "history", {"search": "cat"}))
    assert _ids_in(nothing) == [] and "No jobs" in nothing

    # Another member's history: refused to members, shown to moderators.
    refused = await server.invoke_slash(bob, world.channel, "history", {"member": alice})
    assert "Only moderators" in await reply_text(server, refused) and refused.ephemeral
    seen = await reply_text(server, await server.invoke_slash(mod, world.channel, "history",
                                                              {"member": bob, "search": "cat"}))
    assert _ids_in(seen) == [15, 14, 13] and f"Jobs of <@{bob.id}>" in seen

    # The select menu posts the job here, as /show does, with working buttons.
    opened = await server.select(alice, first.original_message_id, select_id, [str(fox_id)])
    posted = await wait_public_result(server, opened)
    assert not posted.ephemeral and posted.attachments and f"img:vary:v1:{fox_id}:0:subtle" in custom_ids(posted)
    vary = await server.click_button(bob, posted.id, f"img:vary:v1:{fox_id}:0:subtle")
    await wait_result(server, vary)

    # /show: own job yes, a stranger's no, a missing id named; moderators may show anyone's here.
    shown = await wait_public_result(server, await server.invoke_slash(alice, world.channel, "show", {"job": fox_id}))
    assert "job #17" in shown.content and len(shown.attachments) == 1
    stranger = await server.invoke_slash(bob, world.channel, "show", {"job": fox_id})
    assert "is not yours" in await reply_text(server, stranger) and stranger.ephemeral
    missing = await server.invoke_slash(alice, world.channel, "show", {"job": 9999})
    assert "There is no job #9999" in await reply_text(server, missing)
    by_mod = await wait_public_result(server, await server.invoke_slash(mod, world.channel, "show", {"job": fox_id}))
    assert f"shown by <@{mod.id}>" in by_mod.content
    no_images = await server.invoke_slash(alice, world.channel, "show", {"job": 3})
    assert "no longer stored" in await reply_text(server, no_images)

    # The channel's safety policy: an image flagged where NSFW is allowed is not shown in a SFW channel.
    await reply_text(server, await server.invoke_slash(mod, world.channel, "mod safety nsfw", {"enabled": True}))
    zebra = await wait_result(server, await server.invoke_slash(alice, after_dark, "imagine",
                                                               {"prompt": "a zebra", "steps": 4}))
    zebra_id = job_id_of(zebra)
    withheld = await server.invoke_slash(alice, world.channel, "show", {"job": zebra_id})
    assert "flagged" in await reply_text(server, withheld) and withheld.ephemeral
    assert public_message(server, withheld) is None
    there = await wait_public_result(server, await server.invoke_slash(alice, after_dark, "show", {"job": zebra_id}))
    assert there.channel_id == after_dark.id
