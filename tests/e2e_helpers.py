"""Small readers over the test server's state, shared by the end-to-end tests."""
from __future__ import annotations

import asyncio
import io
import re
import sqlite3
from pathlib import Path

from PIL import Image


def custom_ids(message) -> list[str]:
    return [c["custom_id"] for row in (message.components or []) for c in row.get("components", [])
            if "custom_id" in c]


def job_id_of(message) -> int | None:
    for cid in custom_ids(message):
        match = re.match(r"(?:img:reroll:v1|img:delete:v1|job:cancel:v1):(\d+)$", cid)
        if match:
            return int(match.group(1))
    return None


def is_result(message) -> bool:
    """Finished images with their buttons (an upscale has no Re-roll; every result has Delete)."""
    return message is not None and bool(message.attachments) and any(
        cid.startswith("img:delete:v1:") for cid in custom_ids(message))


def is_failure(message) -> bool:
    return message is not None and "❌" in (message.content or "")


async def wait_result(server, interaction, timeout: float = 90.0):
    """The interaction's own message once it shows the finished images."""
    def check(s):
        msg = s.get_message(interaction.original_message_id) if interaction.original_message_id else None
        return msg if is_result(msg) else None
    return await server.wait_for(check, timeout)


async def wait_failure(server, interaction, timeout: float = 90.0):
    def check(s):
        msg = s.get_message(interaction.original_message_id) if interaction.original_message_id else None
        return msg if is_failure(msg) else None
    return await server.wait_for(check, timeout)


def png_parameters(attachment) -> str:
    image = Image.open(io.BytesIO(attachment.data))
    image.load()
    return image.info.get("parameters", "")


def db_rows(data_dir: Path, sql: str, params=()) -> list[dict]:
    """Rows of a query against the bot's SQLite database, read beside the running bot (WAL)."""
    conn = sqlite3.connect(data_dir / "pixelforge.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def db_execute(data_dir: Path, sql: str, params=()) -> None:
    """One committed write to the bot's SQLite database (to age rows as time would)."""
    conn = sqlite3.connect(data_dir / "pixelforge.sqlite3")
    try:
        with conn:
            conn.execute(sql, params)
    finally:
        conn.close()


def job_rows(data_dir: Path) -> list[dict]:
    return db_rows(data_dir, "SELECT * FROM jobs ORDER BY id")


async def wait_statuses(data_dir: Path, expected: list[str], timeout: float = 30.0) -> list[str]:
    """Job statuses once they equal `expected` (or at the timeout): the result message can be
    visible a moment before SQLite records its delivery."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        statuses = [r["status"] for r in job_rows(data_dir)]
        if statuses == expected or asyncio.get_running_loop().time() > deadline:
            return statuses
        await asyncio.sleep(0.1)


def public_message(server, interaction):
    """The interaction's public message: its reply, or (after an ephemeral defer) its first public
    follow-up."""
    msg = server.get_message(interaction.original_message_id) if interaction.original_message_id else None
    if msg is not None and not msg.ephemeral:
        return msg
    return next((m for m in interaction.followups if not m.ephemeral), None)


async def wait_public_result(server, interaction, timeout: float = 90.0):
    """Like wait_result, for replies that may come as a follow-up (/show, slow image prompts)."""
    def check(s):
        msg = public_message(s, interaction)
        msg = s.get_message(msg.id) if msg is not None else None
        return msg if is_result(msg) else None
    return await server.wait_for(check, timeout)


async def reply_text(server, interaction, timeout: float = 10.0) -> str:
    """The text the member got back: the reply, or once deferred, the follow-up that completed it."""
    await interaction.wait_ack(timeout)

    def check(s):
        msg = s.get_message(interaction.original_message_id) if interaction.original_message_id else None
        if msg is not None and not msg.loading and msg.content:
            return msg.content
        first = interaction.responses[0] if interaction.responses else None
        return (first or {}).get("data", {}).get("content") if first and first["type"] == 4 else None
    return await server.wait_for(check, timeout)


async def imagine(world, user, prompt, **options):
    """/imagine in the world's channel (4 steps unless given), acknowledged well inside 3 s."""
    i = await world.server.invoke_slash(user, world.channel, "imagine", {"prompt": prompt, "steps": 4, **options})
    await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0
    return i


async def wait_rendering(world, interaction, timeout: float = 60.0):
    """The interaction's own message once it shows the progress bar."""
    def check(s):
        msg = s.get_message(interaction.original_message_id)
        return msg if msg is not None and "Rendering" in (msg.content or "") else None
    return await world.server.wait_for(check, timeout)


def default_price(work: float, unit_work: float) -> int:
    """A txt2img/img2img job's price in tenths at the documented default costs (the tests run with
    PRICE_MEASURE=false, tests/conftest.py): its megapixel-steps over the default image's, to the
    nearest 0.1 — what bot/prices.py's defaults (1 per megapixel-step, no per-image part) give."""
    import math

    return max(1, math.floor(round(work / unit_work * 10, 6) + 0.5))
