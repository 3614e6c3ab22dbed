"""/imagine, and the persistent buttons on its results."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend.buttons import ALL_BUTTONS
from bot.frontend.flows import start_job
from bot.models import MAX_SEED, GenerationRequest
from bot.renderer.profiles import ASPECTS

ASPECT_NAMES = {"1:1": "1:1 square", "3:2": "3:2 landscape", "2:3": "2:3 portrait",
                "16:9": "16:9 wide", "9:16": "9:16 tall"}


class Imagine(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    # Discord's own limits here are loose on purpose (6000 characters, steps up to 150):
    # the model-specific limits are checked at admission, which names them in its reply.
    @app_commands.command(name="imagine", description="Create images from a text prompt")
    @app_commands.describe(
        prompt="What to draw",
        negative="What to keep out of the image",
        aspect="Image shape",
        count="How many images (1-4)",
        seed="Seed for reproducible results (random if empty)",
        steps="Denoising steps: more is slower and often finer",
        guidance="How closely to follow the prompt (CFG scale)",
    )
    @app_commands.choices(aspect=[app_commands.Choice(name=ASPECT_NAMES[a], value=a) for a in ASPECTS])
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 6000],
        negative: app_commands.Range[str, 0, 6000] | None = None,
        aspect: app_commands.Choice[str] | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED * 2] | None = None,
        steps: app_commands.Range[int, 1, 150] | None = None,
        guidance: app_commands.Range[float, 0.0, 30.0] | None = None,
    ) -> None:
        request = GenerationRequest(
            prompt=prompt, negative_prompt=negative or "", aspect=aspect.value if aspect else "1:1",
            count=count or 1, seed=seed, steps=steps, guidance=guidance,
        )
        await start_job(interaction, request)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*ALL_BUTTONS)
    await bot.add_cog(Imagine(bot))
