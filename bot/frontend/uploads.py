"""Downloading an /imagine image prompt once, inside Discord's 3-second window.

The size Discord reports is checked first (nothing over the limit is downloaded); then the file is
downloaded with discord.py's own HTTP session (`Attachment.read()`). Most downloads end well inside
the window and the job's first reply goes out as usual; a slow one makes the bot defer first,
ephemerally, so that a refusal still reaches the member alone (bot/frontend/presenter.py then posts
the job's public message as a follow-up). Validation and storage are bot/services/image_input.py's.
"""
from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.errors import ValidationError
from bot.frontend.flows import bot_of
from bot.models import ImagePrompt
from bot.services import image_input

log = logging.getLogger(__name__)

# Seconds of download (and then of decoding) before the bot defers: its reply must reach Discord
# within 3 s of the interaction, and decoding a 16-megapixel JPEG takes a few hundred ms more.
DOWNLOAD_WAIT = 1.5


async def _defer(interaction: discord.Interaction) -> None:
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def fetch_image_prompt(interaction: discord.Interaction, attachment: discord.Attachment) -> ImagePrompt:
    image_input.check_size(attachment.size)
    loop = asyncio.get_running_loop()
    started = loop.time()
    download = asyncio.ensure_future(attachment.read())
    try:
        try:
            data = await asyncio.wait_for(asyncio.shield(download), DOWNLOAD_WAIT)
        except asyncio.TimeoutError:
            await _defer(interaction)
            data = await download
    except (discord.HTTPException, aiohttp.ClientError) as exc:
        log.info("downloading an image prompt failed: %s", getattr(exc, "status", exc))
        raise ValidationError("Discord did not hand over that image (its link may have expired): "
                              "upload it again.") from None
    finally:
        if not download.done():
            download.cancel()
    if loop.time() - started > DOWNLOAD_WAIT:
        await _defer(interaction)
    return await bot_of(interaction).inputs.store(data, interaction.user.id)
