"""/help: the commands, the buttons and the parameters a prompt can carry (ephemeral)."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend import helptexts
from bot.frontend.flows import bot_of, send_private
from bot.services.inline_params import limits_for

TOPIC_CHOICES = [app_commands.Choice(name=title, value=key) for key, title in helptexts.TOPICS.items()]


class Help(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="help", description="How to use the image bot: commands, buttons, prompt parameters")
    @app_commands.describe(topic="What to explain (default: commands and buttons)")
    @app_commands.choices(topic=TOPIC_CHOICES)
    async def help(self, interaction: discord.Interaction, topic: app_commands.Choice[str] | None = None) -> None:
        bot = bot_of(interaction)
        if topic is not None and topic.value == "parameters":
            text = helptexts.parameters(limits_for(bot.admission.profile), bot.admission.model_label,
                                        bot.admission.catalog.names)
        else:
            text = helptexts.commands()
        await send_private(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Help(bot))
