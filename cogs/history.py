"""/history and /show: a member's past jobs, and posting one again with working buttons."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend.flows import bot_of, is_moderator
from bot.frontend.historyviews import history_message, record_page, show_job
from bot.services.history import MAX_SEARCH

MAX_JOB_ID = 2**53 - 1  # the largest integer option Discord takes


class History(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="history", description="Your past jobs, newest first, with a search")
    @app_commands.describe(member="Moderators: this member's jobs instead", search="Words of the prompt")
    async def history(self, interaction: discord.Interaction, member: discord.User | None = None,
                      search: app_commands.Range[str, 1, MAX_SEARCH] | None = None) -> None:
        bot = bot_of(interaction)
        target = member or interaction.user
        view = await bot.history.open(interaction.user.id, target.id, interaction.guild_id, search or "",
                                      is_moderator=is_moderator(interaction))
        page = await bot.history.page(view)
        content, components = await history_message(interaction, page)
        response = await interaction.response.send_message(content, view=components, ephemeral=True,
                                                           allowed_mentions=discord.AllowedMentions.none())
        await record_page(interaction, page, getattr(response, "message_id", None))

    @app_commands.command(name="show", description="Post a job's images here again, with working buttons")
    @app_commands.describe(job="The job's number (see /history or the Info button)")
    async def show(self, interaction: discord.Interaction, job: app_commands.Range[int, 1, MAX_JOB_ID]) -> None:
        await show_job(interaction, job)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(History(bot))
