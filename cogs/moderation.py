"""/mod ban, unban, pause, resume, log and stats. Thin: parse, check (require_moderator, at run
time, whatever the server did to the command's default permission), reply; the work is in
bot/services/moderation.py, bot/services/audit.py and bot/services/stats.py."""
from __future__ import annotations

import io
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot import charts, offload
from bot.errors import NotAllowed
from bot.frontend import modtexts
from bot.frontend.alttext import chart_description
from bot.frontend.flows import bot_of, member_is_moderator, send_private
from bot.frontend.moderation import attach, audit_view, require_moderator, require_whole_bot_rights
from bot.frontend.modviews import LogPageButton, log_page
from bot.frontend.texts import escape
from bot.i18n import N_, _
from bot.services import stats as stats_service
from bot.services.moderation import MAX_BAN_HOURS


@app_commands.command(name="ban", description="Stop a member from using the bot here; their queued jobs are refunded")
@app_commands.describe(member="Who", reason="Why (the member is told)", hours="How long (empty: until unbanned)")
async def ban(interaction: discord.Interaction, member: discord.User,
              reason: app_commands.Range[str, 1, 200] | None = None,
              hours: app_commands.Range[int, 1, MAX_BAN_HOURS] | None = None) -> None:
    require_moderator(interaction)
    bot = bot_of(interaction)
    if member.bot or member_is_moderator(member, bot.settings):
        raise NotAllowed(N_("Moderators and bots cannot be banned from the bot."))
    result = await bot.moderation.ban(interaction.user.id, interaction.guild_id, member.id, reason, hours)  # type: ignore[arg-type]
    jobs = len(result.cancelled_jobs)
    until = (_("until unbanned") if result.ban.until is None
             else _("until {when}", when=modtexts.stamp(result.ban.until, 'f')))
    why = f" ({escape(reason)})" if reason else ""
    cancelled = _(" Cancelled and refunded {jobs} queued job(s).", jobs=jobs) if jobs else ""
    await send_private(interaction, _("🚫 Banned <@{member}> {until}{why}.{cancelled}", member=member.id, until=until,
                                      why=why, cancelled=cancelled))


@app_commands.command(name="unban", description="Let a banned member use the bot again")
@app_commands.describe(member="Who")
async def unban(interaction: discord.Interaction, member: discord.User) -> None:
    require_moderator(interaction)
    lifted = await bot_of(interaction).moderation.unban(interaction.user.id, interaction.guild_id, member.id)  # type: ignore[arg-type]
    text = (_("Lifted <@{member}>'s ban.", member=member.id) if lifted
            else _("<@{member}> was not banned.", member=member.id))
    await send_private(interaction, text)


@app_commands.command(name="pause", description="Hold the queue: no new render starts, running ones finish")
@app_commands.describe(reason="Why (members asking meanwhile are told)")
async def pause(interaction: discord.Interaction, reason: app_commands.Range[str, 1, 200] | None = None) -> None:
    require_whole_bot_rights(interaction)
    await bot_of(interaction).moderation.pause(interaction.user.id, interaction.guild_id, reason)  # type: ignore[arg-type]
    await send_private(interaction, _("⏸ Queue paused. Running renders finish; new requests are admitted and wait "
                                      "until you /mod resume."))


@app_commands.command(name="resume", description="Release the queue after /mod pause")
async def resume(interaction: discord.Interaction) -> None:
    require_whole_bot_rights(interaction)
    ended = await bot_of(interaction).moderation.resume(interaction.user.id, interaction.guild_id)  # type: ignore[arg-type]
    text = (_("▶ Queue resumed (paused since {since}).", since=modtexts.stamp(ended.since)) if ended
            else _("The queue was not paused."))
    await send_private(interaction, text)


@app_commands.command(name="log", description="The moderator log, newest first")
@app_commands.describe(member="Only actions on this member")
async def log(interaction: discord.Interaction, member: discord.User | None = None) -> None:
    require_moderator(interaction)
    text, view = await log_page(interaction, member.id if member else None, 0)
    await audit_view(interaction, "view mod log", member.id if member else None)
    await send_private(interaction, text, view=view)


@app_commands.command(name="stats", description="A chart of jobs, GPU time, top members, failures and blocks")
@app_commands.describe(days="How many days back (default 7)")
async def stats(interaction: discord.Interaction,
                days: app_commands.Range[int, 1, stats_service.MAX_DAYS] | None = None) -> None:
    require_moderator(interaction)
    bot = bot_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)  # drawing takes a moment
    await audit_view(interaction, "view stats")
    numbers = await stats_service.collect(bot.db, interaction.guild_id or 0, days or 7, time.time())
    names = {m.user_id: await _name(interaction, m.user_id) for m in numbers.top}
    title = f"{interaction.guild.name if interaction.guild else 'This server'} · last {len(numbers.days)} day(s)"
    # matplotlib draws in a helper process (bot/offload.py): in a thread it holds the loop's GIL.
    png = await offload.in_process(charts.stats_png, numbers, names, title)
    alt = chart_description(len(numbers.days), sum(d.jobs for d in numbers.days),
                            sum(d.gpu_seconds for d in numbers.days), sum(d.failures for d in numbers.days),
                            sum(d.blocks for d in numbers.days))
    await send_private(interaction, modtexts.stats_summary(numbers),
                       file=discord.File(io.BytesIO(png), filename="pixelforge-stats.png", description=alt))


async def _name(interaction: discord.Interaction, user_id: int) -> str:
    member = interaction.guild.get_member(user_id) if interaction.guild else None
    user = member or interaction.client.get_user(user_id)
    if user is None:
        try:
            user = await interaction.client.fetch_user(user_id)
        except discord.HTTPException:
            return f"member {user_id}"
    return user.display_name


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(LogPageButton)
    for command in (ban, unban, pause, resume, log, stats):  # type: ignore[var-annotated]
        attach(command)
