"""Content safety's Discord side: a channel's age restriction now, and the moderators' log channel."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot.frontend.alttext import image_description
from bot.frontend.flows import channel_is_nsfw
from bot.frontend.texts import clip, escape, fit
from bot.i18n import N_, _
from bot.models import Job
from bot.services.safety import BlockRecord

if TYPE_CHECKING:
    from bot.frontend.context import BotContext

log = logging.getLogger(__name__)

PROMPT_SHOWN = 300  # characters of a refused prompt shown in the log channel
BLOCK_KINDS = {"prompt": N_("prompt"), "image": N_("image")}  # what was refused (as recorded)


def jump_url(guild_id: int | None, channel_id: int, message_id: int | None) -> str:
    where = f"{guild_id or '@me'}/{channel_id}"
    return f"https://discord.com/channels/{where}/{message_id}" if message_id else f"https://discord.com/channels/{where}"


def quoted(prompt: str) -> str:
    text = escape(prompt)
    return text if len(text) <= PROMPT_SHOWN else clip(text, PROMPT_SHOWN)


def describe_block(record: BlockRecord) -> str:
    score = _(" · score {score:.2f}", score=record.score) if record.score is not None else ""
    job = _(" · job #{job}", job=record.job_id) if record.job_id else ""
    return (_("**{kind}** · {category} ({code}){score}{job} · <@{user}> in <#{channel}> · <t:{when}:R>",
              kind=BLOCK_KINDS.get(record.kind, record.kind), category=record.category.label,
              code=record.category.value, score=score, job=job, user=record.user_id, channel=record.channel_id,
              when=int(record.created_at))
            + f"\n> {quoted(record.prompt)}")


class DiscordSafetyFront:
    def __init__(self, bot: BotContext):
        self.bot = bot

    async def _channel(self, channel_id: int):
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        return channel

    async def channel_nsfw(self, channel_id: int) -> bool:
        return channel_is_nsfw(await self._channel(channel_id))

    async def _post(self, channel_id: int, content: str, files: list[discord.File] | None = None) -> None:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("the safety log channel %s is gone or not a text channel", channel_id)
            return
        await channel.send(fit(content), files=files or [], allowed_mentions=discord.AllowedMentions.none())

    async def announce_block(self, log_channel_id: int, record: BlockRecord, images: list[str]) -> None:
        # The image itself only goes where members agreed to see age-restricted content.
        files = []
        if images and await self.channel_nsfw(log_channel_id):
            files = [discord.File(path, filename=f"flagged-{record.job_id}-{i + 1}{Path(path).suffix}",
                                  spoiler=True, description=image_description(record.prompt))
                     for i, path in enumerate(images) if Path(path).is_file()]
        await self._post(log_channel_id, f"🛡️ Blocked {describe_block(record)}", files)

    async def announce_report(self, log_channel_id: int, job: Job, reporter_id: int) -> None:
        r = job.requester
        await self._post(log_channel_id,
                         f"🚩 <@{reporter_id}> reported job #{job.id} by <@{r.user_id}>: "
                         f"{jump_url(r.guild_id, r.channel_id, job.message_id)}\n> {quoted(job.params.prompt)}")
