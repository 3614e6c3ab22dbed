"""Uploads and data at rest, end to end through the test server (issue 13).

An image prompt is downloaded only from UPLOAD_HOSTS, only after the prompt passed validation, the
prompt filter and the credit check, and a file whose job is refused after the download is removed
again. What the bot keeps in DATA_DIR is private to its account (0700 / 0600), and a delivered job
keeps no interaction token."""
from __future__ import annotations

import asyncio
import io
import os
import stat
from pathlib import Path

from PIL import Image

from tests.e2e_helpers import (
    db_rows,
    job_rows,
    public_message,
    reply_text,
    wait_public_result,
    wait_result,
    wait_statuses,
)
from tests.fakediscord.models import Attachment
from tests.test_markdown_escaping import HOSTILE, assert_plain


def png(colour=(200, 80, 40), size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def downloads_of(server, filename: str) -> int:
    ids = {a.id for a in server.attachments.values() if a.filename == filename}
    return sum(1 for aid in server.attachment_downloads if aid in ids)


def input_files(data_dir) -> list:
    # os.walk, not rglob: the bot may be removing a folder while the test looks
    return sorted(Path(root) / name for root, _, names in os.walk(data_dir / "inputs") for name in names)


async def no_input_files(data_dir, timeout: float = 10.0) -> list:
    """The refusal is answered first, then the file goes: wait for it."""
    for _ in range(int(timeout / 0.1)):
        if not input_files(data_dir):
            break
        await asyncio.sleep(0.1)
    return input_files(data_dir)


async def test_an_image_on_a_host_outside_UPLOAD_HOSTS_is_never_downloaded(world):
    server = world.server
    await world.start_bot(UPLOAD_HOSTS="cdn.discordapp.com,media.discordapp.net")  # not the test server
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a fox", "image": ("fox.png", png()), "steps": 4})
    text = await reply_text(server, i)
    assert i.ephemeral and "not on Discord's attachment servers" in text, text
    assert downloads_of(server, "fox.png") == 0
    assert public_message(server, i) is None and job_rows(world.data_dir) == []


async def test_a_request_refused_by_its_cheap_checks_never_downloads_its_image(world):
    server = world.server
    await world.start_bot(MAX_PROMPT_LENGTH="30", QUOTA_CREDITS="0")
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod safety block",
                                                       {"term": "zebra"}))
    cases = [
        ("long.png", {"prompt": "a fox " * 10}, "the limit is 30"),  # validation
        ("zebra.png", {"prompt": "a zebra"}, "🚫"),  # the prompt filter (a server-blocked term)
        ("fox.png", {"prompt": "a fox"}, "no credits"),  # the credits (none at all here)
    ]
    for filename, options, expected in cases:
        i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                      {**options, "image": (filename, png()), "steps": 4})
        text = await reply_text(server, i)
        assert i.ephemeral and expected in text, (filename, text)
        assert downloads_of(server, filename) == 0, filename
    assert job_rows(world.data_dir) == [] and input_files(world.data_dir) == []


async def test_an_upload_whose_job_is_refused_after_the_download_is_removed_and_kept_files_are_private(world):
    server = world.server
    await world.start_bot(MAX_QUEUED_PER_USER="1")
    # An attachment that declares 1000 bytes and delivers 11 MiB: cut off at the limit, nothing kept.
    liar = Attachment(id=server.ids.next(), filename="liar.png", content_type="image/png", size=1000,
                      data=png() + bytes(11 * 2**20))
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a fox", "image": liar})
    text = await reply_text(server, i)
    assert i.ephemeral and "the limit is 10.0 MiB" in text, text
    assert input_files(world.data_dir) == [] and job_rows(world.data_dir) == []

    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod pause", {}))
    first = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a fox", "steps": 4})
    await reply_text(server, first)
    # The queue limit is only known at admission, after the download: the stored file goes again.
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a red fox", "image": ("queued.png", png()), "steps": 4})
    text = await reply_text(server, i)
    assert i.ephemeral and downloads_of(server, "queued.png") == 1, text
    assert await no_input_files(world.data_dir) == []
    assert db_rows(world.data_dir, "SELECT * FROM input_images") == []

    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod resume", {}))
    await wait_public_result(server, first)
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a red fox", "image": ("kept.png", png()), "steps": 4})
    await wait_public_result(server, i)
    assert len(input_files(world.data_dir)) == 1

    # Everything the bot keeps is its account's alone, and no delivered job keeps its token.
    data = world.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in [data / "pixelforge.sqlite3", *input_files(data), *(data / "images").rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, (path, oct(path.stat().st_mode))
    await wait_statuses(data, ["delivered", "delivered"])
    rows = db_rows(data, "SELECT status, interaction_token FROM jobs")
    assert [r["interaction_token"] for r in rows] == [None, None]


async def test_a_hostile_prompt_cannot_restyle_or_ping_in_the_result_message(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": HOSTILE, "negative": HOSTILE, "steps": 4})
    result = await wait_result(server, i)
    first = result.content.split("\n", 1)[0]
    owner = f"** — <@{world.alice.id}>"
    assert first.startswith("**") and first.endswith(owner), first
    assert_plain(first[2:-len(owner)])
    assert result.mentions == [] and not result.mention_everyone
