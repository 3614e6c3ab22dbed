"""/queue: your waiting and running jobs in this server (or these DMs), each with a Cancel button
(moderators: any member's jobs of this server, never another server's)."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowed
from bot.frontend.buttons import CancelButton
from bot.frontend.flows import bot_of, is_moderator, reply_error, send_private
from bot.frontend.texts import escape
from bot.i18n import N_, _

MAX_LISTED = 20  # 25 components per message; keep room


class Queue(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="queue", description="Show your waiting jobs and cancel them")
    @app_commands.describe(user="Moderators: show this member's jobs instead")
    async def queue(self, interaction: discord.Interaction, user: discord.User | None = None) -> None:
        target = user or interaction.user
        if target.id != interaction.user.id and not is_moderator(interaction):
            await reply_error(interaction, NotAllowed(N_("Only moderators can look at other members' jobs.")))
            return
        bot = bot_of(interaction)
        jobs = await bot.store.active_for_user(target.id, interaction.guild_id)
        if not jobs:
            await send_private(interaction, _("You have no waiting jobs.") if target.id == interaction.user.id
                               else _("{name} has no waiting jobs.", name=escape(target.display_name)))
            return
        lines, view = [], discord.ui.View(timeout=None)
        for job in jobs[:MAX_LISTED]:
            if bot.dispatcher.is_running(job.id):
                where = _("rendering now")
            else:
                position = bot.dispatcher.position(job.id)
                where = _("position {position}", position=position) if position else _("starting")
            prompt = job.params.prompt if len(job.params.prompt) <= 60 else job.params.prompt[:59] + "…"
            lines.append(f"**#{job.id}** · {where} · {escape(prompt)}")
            view.add_item(CancelButton(job.id, label=_("Cancel #{job}", job=job.id)))
        if len(jobs) > MAX_LISTED:
            lines.append(_("…and {n} more.", n=len(jobs) - MAX_LISTED))
        message_id = await send_private(interaction, "\n".join(lines), view=view)
        # Its Cancel buttons act on these jobs: the list is one of their messages (bot/services/authz.py).
        await bot.authz.record([job.id for job in jobs[:MAX_LISTED]], message_id, interaction.channel_id)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Queue(bot))
