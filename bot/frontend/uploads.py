"""An /imagine image prompt: cheap checks first, then one download inside Discord's 3-second window.

Order (each step refuses before the next costs anything):
1. the request with a stand-in image goes through validation, the prompt filter and the member's
   credits (`JobService.precheck`): a prompt that would be refused never downloads its image;
2. the attachment's URL must be on an allowed host (UPLOAD_HOSTS) and its declared size under the
   limit (UPLOAD_MAX_MIB): nothing over it is downloaded;
3. the download streams and stops as soon as more bytes than the limit arrived
   (bot/services/downloads.py); the bytes are validated in memory, and only a valid image is
   stored (bot/services/image_input.py);
4. the job is submitted as usual; if it is refused now (the upload's own image check, a queue or
   credit race), the stored file is removed again.
Most downloads end well inside the window and the job's first reply goes out as usual; a slow one
makes the bot defer first, ephemerally, so that a refusal still reaches the member alone
(bot/frontend/presenter.py then posts the job's public message as a follow-up).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord

from bot.frontend.flows import bot_of, requester_from, start_job
from bot.models import ImagePrompt, Job, WorkRequest
from bot.services import downloads, image_input

log = logging.getLogger(__name__)

# Seconds of download (and then of decoding) before the bot defers: its reply must reach Discord
# within 3 s of the interaction, and decoding a 16-megapixel JPEG takes a few hundred ms more.
DOWNLOAD_WAIT = 1.5


async def _defer(interaction: discord.Interaction) -> None:
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def fetch_image_prompt(interaction: discord.Interaction, attachment: discord.Attachment) -> ImagePrompt:
    """Download, validate and store the attachment (steps 2 and 3 above)."""
    bot = bot_of(interaction)
    limit = bot.inputs.max_bytes
    downloads.check_url(attachment.url, bot.settings.upload_hosts)
    image_input.check_size(attachment.size, limit)
    loop = asyncio.get_running_loop()
    started = loop.time()
    download = asyncio.ensure_future(downloads.fetch(attachment.url, limit, bot.settings.upload_hosts))
    try:
        try:
            data = await asyncio.wait_for(asyncio.shield(download), DOWNLOAD_WAIT)
        except asyncio.TimeoutError:
            await _defer(interaction)
            data = await download
    finally:
        if not download.done():
            download.cancel()
    if loop.time() - started > DOWNLOAD_WAIT:
        await _defer(interaction)
    return await bot.inputs.store(data, interaction.user.id)


async def start_image_job(interaction: discord.Interaction, attachment: discord.Attachment,
                          request_for: Callable[[ImagePrompt], WorkRequest]) -> Job | None:
    """The whole image-prompt flow (the module docstring); refusals raise BotError before the
    download, or are answered by start_job after it."""
    bot = bot_of(interaction)
    await bot.jobs.precheck(requester_from(interaction), request_for(bot.inputs.pending()))
    prompt_image = await fetch_image_prompt(interaction, attachment)
    job = None
    try:
        job = await start_job(interaction, request_for(prompt_image))
    finally:
        if job is None and await bot.inputs.discard(prompt_image.path):
            log.info("removed the image prompt of a refused request")
    return job
