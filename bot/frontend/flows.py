"""Interaction flows shared by slash commands and buttons: who is asking, the one check before
anything runs (bans), starting a job, moderators' notices, and the one place errors become
ephemeral replies."""
from __future__ import annotations

import logging
import secrets
import time

import discord
from discord import app_commands

from bot.errors import Banned, BotError, NotAllowed, user_message
from bot.frontend import texts
from bot.frontend.context import bot_of
from bot.i18n import N_, say, set_language, speaking
from bot.models import Job, Requester, WorkRequest
from bot.services.authz import DMS_OFF, Actor, JobAction

log = logging.getLogger(__name__)

# What the bot needs in a channel to deliver with its own token once the 15-minute interaction
# token has expired (long queues).
DELIVERY_PERMISSIONS = ("view_channel", "send_messages", "attach_files")


def is_moderator(interaction: discord.Interaction) -> bool:
    """Moderator rights in the server the interaction comes from: Manage Messages in the channel,
    or a configured moderator role. Checked at run time: default_member_permissions is only a
    default that server admins can change. In a DM: the bot's operators (OWNER_USER_IDS), for DM
    jobs alone (the job's server decides everything else, bot/services/authz.py)."""
    settings = bot_of(interaction).settings
    if interaction.guild_id is None:
        return interaction.user.id in settings.owner_user_ids
    if interaction.permissions.manage_messages:
        return True
    role_ids = {role.id for role in getattr(interaction.user, "roles", [])}
    return bool(role_ids & settings.moderator_role_ids)


def actor_from(interaction: discord.Interaction) -> Actor:
    """Who asks, where, and (for a button or menu) on which message: what authorization reads."""
    clicked = interaction.message if interaction.type is discord.InteractionType.component else None
    return Actor(user_id=interaction.user.id, guild_id=interaction.guild_id, channel_id=interaction.channel_id,
                 message_id=clicked.id if clicked is not None else None, is_moderator=is_moderator(interaction))


async def authorized_job(interaction: discord.Interaction, job_id: int, action: JobAction) -> Job:
    """The job if this interaction may do `action` to it (NotAllowed/NotFound otherwise)."""
    return await bot_of(interaction).authz.job(actor_from(interaction), job_id, action)


def channel_is_nsfw(channel: object) -> bool:
    """Age-restricted? Threads take their parent's flag (False when the parent is not known); DMs,
    partial and unknown channels are not: content safety fails closed."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return parent is not None and parent.is_nsfw()
    if isinstance(channel, discord.abc.GuildChannel):
        return channel.is_nsfw()  # type: ignore[attr-defined]
    return False


def requester_from(interaction: discord.Interaction) -> Requester:
    settings = bot_of(interaction).settings
    role_ids = role_ids_of(interaction.user)
    return Requester(
        user_id=interaction.user.id,
        channel_id=interaction.channel_id or 0,
        guild_id=interaction.guild_id,
        is_moderator=is_moderator(interaction),
        is_bulk=bool(role_ids & settings.bulk_role_ids),
        interaction_id=interaction.id,
        interaction_token=interaction.token,
        application_id=interaction.application_id,
        role_ids=frozenset(role_ids),
        channel_nsfw=channel_is_nsfw(interaction.channel),
    )


def role_ids_of(user: discord.abc.User) -> set[int]:
    return {role.id for role in getattr(user, "roles", [])}


def member_is_moderator(member: discord.abc.User, settings) -> bool:
    """Whether a member named in a command (not the one asking) is a moderator."""
    perms = getattr(member, "resolved_permissions", None) or getattr(member, "guild_permissions", None)
    return bool((perms is not None and perms.manage_messages) or role_ids_of(member) & settings.moderator_role_ids)


async def guard(interaction: discord.Interaction) -> bool:
    """The one check before any command or button runs (the command tree's interaction_check and
    every button): DMs are refused unless ALLOW_DMS is on; a banned member is refused with the
    reason and when the ban ends, and nothing else happens. Moderators pass, so a ban can always be lifted."""
    bot = bot_of(interaction)
    set_language(interaction.locale)  # this interaction's replies, ephemeral: the member's language
    if interaction.guild_id is None and not bot.settings.allow_dms:
        if interaction.type is not discord.InteractionType.autocomplete:
            await reply_error(interaction, NotAllowed(DMS_OFF))
        return False
    moderation = getattr(bot, "moderation", None)
    ban = moderation.ban_of(interaction.guild_id, interaction.user.id) if moderation is not None else None
    if ban is None or is_moderator(interaction):
        return True
    if interaction.type is discord.InteractionType.autocomplete:
        return False  # an autocomplete can only answer choices: the command itself says why
    why = f": {ban.reason}" if ban.reason else ""
    await reply_error(interaction, Banned(
        N_("A moderator banned you from the image bot here{why}. The ban {ends}.", why=why,
           ends=ban.describe(time.time()))))
    return False


async def take_notices(interaction: discord.Interaction) -> list[str]:
    """What moderators did that this member has not been told yet (each is told once)."""
    audit = getattr(bot_of(interaction), "audit", None)
    if audit is None or interaction.guild_id is None:
        return []
    try:
        return await audit.take_notices(interaction.guild_id, interaction.user.id, time.time())
    except Exception:  # a notice is never worth failing the reply it rides on
        log.warning("reading notices failed", exc_info=True)
        return []


async def with_notices(interaction: discord.Interaction, text: str) -> str:
    return texts.with_notices(await take_notices(interaction), text)


async def send_private(interaction: discord.Interaction, text: str, **fields) -> int | None:
    """An ephemeral reply (or follow-up, once answered) that carries the member's notices; the
    message's id (None when Discord did not say)."""
    text = await with_notices(interaction, text)
    fields.setdefault("allowed_mentions", discord.AllowedMentions.none())
    if interaction.response.is_done():
        message = await interaction.followup.send(text, ephemeral=True, wait=True, **fields)
        return message.id
    response = await interaction.response.send_message(text, ephemeral=True, **fields)
    return getattr(response, "message_id", None)


async def reply_error(interaction: discord.Interaction, exc: BaseException) -> None:
    """The one place an interaction's failure becomes a reply: only the member sees it, whatever
    state the interaction is in. A domain error says what was wrong; anything unexpected says
    "something went wrong" with a short reference that is also in the log, never a bare
    "This interaction failed"."""
    if isinstance(exc, app_commands.CommandInvokeError):
        exc = exc.original
    if isinstance(exc, BotError):
        text = await with_notices(interaction, user_message(exc, interaction.locale))
    else:
        reference = secrets.token_hex(3)
        log.error("interaction %s failed [ref %s]", interaction.id, reference, exc_info=exc)
        text = say(N_("{message} (reference `{reference}`)", message=user_message(exc), reference=reference),
                   interaction.locale)
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


async def start_job(interaction: discord.Interaction, request: WorkRequest) -> Job | None:
    """Submit `request` through the one submit path, acknowledging with the job's own message.

    Admission runs before the reply so a refusal can still be an ephemeral reply; it is one
    short SQLite transaction, well inside Discord's 3-second window. The reply itself already
    shows the queue position (no "thinking…" then an edit): one request per interaction, which
    is what keeps acknowledgements fast when many arrive at once."""
    bot = bot_of(interaction)

    async def acknowledge(job: Job, position: int | None, eta: float | None) -> int:
        missing = missing_delivery_permissions(interaction)
        if missing:
            names = ", ".join(name.replace("_", " ").title() for name in missing)
            bot.presenter.add_note(job.id, N_("⚠️ I am missing {names} in this channel: if this job waits "
                                              "longer than 15 minutes I cannot deliver it. Ask an admin to grant "
                                              "them.", names=names))
        with speaking(interaction.guild_locale if interaction.guild_id else None):  # the price rides on a public reply
            price = texts.price(job)
        return await bot.presenter.first_reply(interaction, job, position, eta, extra=price)

    try:
        job = await bot.jobs.submit(requester_from(interaction), request, acknowledge)
    except BotError as exc:
        await reply_error(interaction, exc)
        return None
    except discord.HTTPException:
        log.warning("could not acknowledge an interaction; its job was cancelled", exc_info=True)
        return None
    # The job's message is public: what a moderator did to the member is told to them alone.
    notices = await take_notices(interaction)
    if notices:
        try:
            await interaction.followup.send(texts.with_notices(notices, "", interaction.locale), ephemeral=True,
                                            allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not send a member their notices", exc_info=True)
    return job
