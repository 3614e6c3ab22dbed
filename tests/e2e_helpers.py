"""Small readers over the test server's state, shared by the end-to-end tests."""
from __future__ import annotations

import io
import re

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
    return message is not None and bool(message.attachments) and any(
        cid.startswith("img:reroll:v1:") for cid in custom_ids(message))


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
