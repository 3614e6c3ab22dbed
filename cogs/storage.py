"""/mod storage: disk used by images, image prompts and the database."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend import historytexts
from bot.frontend.flows import bot_of
from bot.frontend.moderation import attach, audit_view, require_whole_bot_rights


@app_commands.command(name="storage", description="Disk used by images and the database")
async def storage(interaction: discord.Interaction) -> None:
    require_whole_bot_rights(interaction)  # the disk is every server's: no per-server share to show
    await interaction.response.defer(ephemeral=True, thinking=True)  # walking the images folder takes a while
    await audit_view(interaction, "view storage")
    use = await bot_of(interaction).retention.usage()
    await interaction.followup.send(historytexts.storage(use), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    attach(storage)
