"""Interaction flows shared by slash commands and buttons: who is asking, starting a job,
and the one place errors become ephemeral replies."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Awaitable, Callable

import discord

from bot.errors import BotError, user_message
from bot.models import Job, JobStatus, Requester

if TYPE_CHECKING:
    from bot.frontend.app import PixelBot

log = logging.getLogger(__name__)

# What the bot needs in a channel to deliver with its own token once the 15-minute interaction
# token has expired (long queues).
DELIVERY_PERMISSIONS = ("view_channel", "send_messages", "attach_files")


def bot_of(interaction: discord.Interaction) -> "PixelBot":
    return interaction.client  # type: ignore[return-value]


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Messages in the channel, or a configured moderator role. Checked at run time:
    default_member_permissions is only a default that server admins can change."""
    if interaction.permissions.manage_messages:
        return True
    role_ids = {role.id for role in getattr(interaction.user, "roles", [])}
    return bool(role_ids & bot_of(interaction).settings.moderator_role_ids)


def requester_from(interaction: discord.Interaction) -> Requester:
    settings = bot_of(interaction).settings
    role_ids = {role.id for role in getattr(interaction.user, "roles", [])}
    return Requester(
        user_id=interaction.user.id,
        channel_id=interaction.channel_id or 0,
        guild_id=interaction.guild_id,
        is_moderator=is_moderator(interaction),
        is_bulk=bool(role_ids & settings.bulk_role_ids),
        interaction_id=interaction.id,
        interaction_token=interaction.token,
        application_id=interaction.application_id,
    )


async def reply_error(interaction: discord.Interaction, exc: BaseException) -> None:
    """Tell the user what went wrong, only them, whatever state the interaction is in."""
    if not isinstance(exc, BotError):
        log.error("interaction failed", exc_info=exc)
    text = user_message(exc)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not send an error reply", exc_info=True)


def missing_delivery_permissions(interaction: discord.Interaction) -> list[str]:
    perms = interaction.app_permissions
    return [name for name in DELIVERY_PERMISSIONS if not getattr(perms, name)]


async def start_job(interaction: discord.Interaction, admit: Callable[[Requester], Awaitable[Job]]) -> Job | None:
    """Admit (validate, limits, insert) → reply with the job's own message → queue.

    Admission runs before the reply so a refusal can still be an ephemeral reply; it is one
    short SQLite transaction, well inside Discord's 3-second window. The reply itself already
    shows the queue position (no "thinking…" then an edit): one request per interaction, which
    is what keeps acknowledgements fast when many arrive at once."""
    bot = bot_of(interaction)
    try:
        job = await admit(requester_from(interaction))
    except BotError as exc:
        await reply_error(interaction, exc)
        return None
    missing = missing_delivery_permissions(interaction)
    if missing:
        names = ", ".join(name.replace("_", " ").title() for name in missing)
        bot.presenter.add_note(job.id, f"⚠️ I am missing {names} in this channel: if this job waits "
                                       "longer than 15 minutes I cannot deliver it. Ask an admin to grant them.")
    position, eta = bot.dispatcher.preview(job)
    try:
        message_id = await bot.presenter.first_reply(interaction, job, position, eta)
    except discord.HTTPException:
        log.warning("job %s: could not acknowledge the interaction; dropping it", job.id, exc_info=True)
        await bot.store.finish(job.id, JobStatus.CANCELLED, "the interaction could not be acknowledged")
        return None
    job.message_id = message_id
    await bot.store.set_message(job.id, message_id)
    bot.dispatcher.enqueue(job, announced=True)
    return job
