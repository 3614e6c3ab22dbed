"""Shows job state in Discord: the JobEvents the dispatcher calls.

Every job owns one message (the "thinking" reply to its interaction). Waiting, progress, the
result and failures are all edits of that message, which makes delivery idempotent: repeating
it after a crash edits the same message again instead of posting twice.

Interaction tokens die after 15 minutes. Until then edits go through the interaction webhook
(no channel permissions needed); after that, or when Discord says the token is invalid, they go
through the channel with the bot's own token.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from bot import logsafety
from bot.frontend import texts
from bot.frontend.alttext import image_description
from bot.frontend.buttons import progress_view
from bot.frontend.preview_file import preview_file
from bot.frontend.result_view import result_view
from bot.i18n import N_, say, speaking
from bot.models import INTERACTION_TOKEN_LIFETIME, Job, JobStatus, StoredImage

if TYPE_CHECKING:
    from bot.frontend.context import BotContext

log = logging.getLogger(__name__)

TOKEN_LIFETIME = INTERACTION_TOKEN_LIFETIME
TOKEN_MARGIN = 60  # stop using a token a minute early rather than race its expiry
_DEAD_TOKEN_CODES = {50027, 10015}  # Invalid Webhook Token, Unknown Webhook


class DiscordPresenter:
    def __init__(self, bot: BotContext):
        self.bot = bot
        self._dead_tokens: set[int] = set()
        self._notes: dict[int, str] = {}  # job id -> a warning shown while the job waits

    def add_note(self, job_id: int, note: str) -> None:
        self._notes[job_id] = note

    def _with_note(self, job: Job, text: str, *, waiting: bool = False, extra: str | None = None) -> str:
        """The job's text with its notes: a warning kept while it waits, a line for this one reply
        (the price), and, while a moderator holds the queue, why a waiting job does not start."""
        note = self._notes.get(job.id)
        lines = [text, say(note) if note else None, extra]
        pause = getattr(getattr(self.bot, "moderation", None), "paused", None)
        if waiting and pause is not None:
            lines.append(texts.paused(pause.reason))
        return texts.fit("\n".join(line for line in lines if line))

    def _public(self, job: Job):
        """Speak the server's language (its Community locale, from the gateway's guild cache) while
        writing a job's public message; English in a DM or a server the cache does not know."""
        guild = self.bot.get_guild(job.requester.guild_id) if job.requester.guild_id else None
        return speaking(guild.preferred_locale if guild is not None else None)

    def _token_usable(self, job: Job) -> bool:
        r = job.requester
        if not (r.interaction_token and r.interaction_id and r.application_id and job.message_id):
            return False
        if job.id in self._dead_tokens:
            return False
        age = time.time() - discord.utils.snowflake_time(r.interaction_id).timestamp()
        return age < TOKEN_LIFETIME - TOKEN_MARGIN

    async def _show(self, job: Job, *, content: str, view: discord.ui.View | None,
                    images: list[StoredImage] | None = None, preview: bytes | None = None) -> int:
        """Edit the job's message (token, then channel), or post a new one if it is gone.
        `images=None` leaves attachments alone; a list replaces them (an empty list removes them).
        `preview`: a live preview JPEG replaces them instead (the result replaces it in turn)."""

        def edit() -> dict:
            # Fresh File objects per try: discord.py closes them after each request.
            fields: dict[str, Any] = {"content": content, "view": view,
                                      "allowed_mentions": discord.AllowedMentions.none()}
            if images is not None:
                fields["attachments"] = _files(job, images)
            elif preview is not None:
                fields["attachments"] = [preview_file(job, preview)]
            return fields

        if self._token_usable(job):
            # (again: after a restart the token comes from SQLite, not from an interaction)
            logsafety.register_secret(job.requester.interaction_token, INTERACTION_TOKEN_LIFETIME)
            webhook = discord.Webhook.partial(
                job.requester.application_id, job.requester.interaction_token, client=self.bot  # type: ignore[arg-type]
            )
            try:
                message = await webhook.edit_message(job.message_id, **edit())  # type: ignore[arg-type]
                return message.id
            except discord.HTTPException as exc:
                if exc.code not in _DEAD_TOKEN_CODES and exc.status != 401:
                    raise
                log.info("job %s: interaction token no longer valid, using the channel", job.id)
                self._dead_tokens.add(job.id)
        channel = self.bot.get_partial_messageable(job.requester.channel_id, guild_id=job.requester.guild_id)
        if job.message_id:
            try:
                message = await channel.get_partial_message(job.message_id).edit(**edit())  # type: ignore[assignment]
                return message.id
            except discord.NotFound:
                log.info("job %s: its message is gone, posting a new one", job.id)
        message = await channel.send(  # type: ignore[assignment]
            content=content, view=view, files=_files(job, images or []),  # type: ignore[arg-type]
            allowed_mentions=discord.AllowedMentions.none(),
        )
        job.message_id = message.id
        await self.bot.store.set_message(job.id, message.id)
        return message.id

    async def first_reply(self, interaction: discord.Interaction, job: Job, position: int | None,
                          eta: float | None, extra: str | None = None) -> int:
        """Acknowledge the interaction with the job's message (its place in line, or that it is
        starting when a free renderer took it at once), with `extra` (the price) on this reply
        only; returns the message id."""
        with speaking(interaction.guild_locale if interaction.guild_id else None):  # a public message
            return await self._first_reply(interaction, job, position, eta, extra)

    async def _first_reply(self, interaction: discord.Interaction, job: Job, position: int | None,
                           eta: float | None, extra: str | None) -> int:
        starting = position is None
        text = texts.rendering(job, 0, job.params.steps, eta) if starting else texts.waiting(job, position, eta)  # type: ignore[arg-type]
        if interaction.response.is_done():
            # Deferred (ephemerally) while an image prompt downloaded: that "thinking" message is the
            # member's alone, so it only says so, and the job's own message follows in public.
            await interaction.followup.send(say(N_("📥 Got your image."), interaction.locale), ephemeral=True)
            message = await interaction.followup.send(
                self._with_note(job, text, waiting=not starting, extra=extra), view=progress_view(job), wait=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return message.id
        response = await interaction.response.send_message(
            self._with_note(job, text, waiting=not starting, extra=extra), view=progress_view(job),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        message_id = response.message_id if response is not None else None
        if message_id is None:
            message_id = (await interaction.original_response()).id
        return message_id

    # ---- JobEvents ----
    async def waiting(self, job: Job, position: int, eta: float | None) -> None:
        with self._public(job):
            await self._show(job, content=self._with_note(job, texts.waiting(job, position, eta), waiting=True),
                             view=progress_view(job))

    async def rendering(self, job: Job, step: int, total: int, eta: float | None) -> None:
        with self._public(job):
            await self._show(job, content=self._with_note(job, texts.rendering(job, step, total, eta)),
                             view=progress_view(job))

    async def rendering_preview(self, job: Job, step: int, total: int, eta: float | None, preview: bytes) -> None:
        """A progress edit with a live preview (bot/services/preview_relay.py decides when)."""
        with self._public(job):
            await self._show(job, content=self._with_note(job, texts.rendering(job, step, total, eta)),
                             view=progress_view(job), preview=preview)

    async def deliver(self, job: Job, images: list[StoredImage]) -> int | None:
        self._notes.pop(job.id, None)
        with self._public(job):
            message_id = await self._show(job, content=texts.result(job),
                                          view=result_view(job, self.upscalable(images, job.params.model)),
                                          images=images)
        log.info("job %s: %d image(s) delivered", job.id, len(images))
        return message_id

    def upscalable(self, images: list[StoredImage], model: str | None = None) -> list[bool]:
        """Which images of a result can still be upscaled (the U buttons shown), by index, under the
        cap of `model` (the job's: admission checks its upscale under it; None: the default's)."""
        by_index = {image.index: image for image in images}
        last = max(by_index, default=-1)
        return [index in by_index and self.bot.admission.upscale_target(by_index[index].width,
                                                                         by_index[index].height, model) is not None
                for index in range(last + 1)]

    async def ended(self, job: Job, status: JobStatus, message: str) -> None:
        self._notes.pop(job.id, None)
        with self._public(job):
            await self._show(job, content=texts.ended(job, message), view=None, images=[])


def _files(job: Job, images: list[StoredImage]) -> list[discord.File]:
    description = image_description(job.params.prompt)  # alt text for screen readers
    return [
        discord.File(image.path, filename=f"pixelforge-{job.id}-{image.index + 1}{Path(image.path).suffix}",
                     description=description)
        for image in images
    ]


attachments = _files  # also for /show, which posts a job's images again
