"""/imagine (text prompts, image prompts, presets), and the persistent buttons on its results."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend.buttons import ALL_BUTTONS
from bot.frontend.flows import bot_of, start_job
from bot.frontend.historyviews import HISTORY_ITEMS
from bot.frontend.outpaint_buttons import OUTPAINT_BUTTONS
from bot.frontend.region_views import REGION_ITEMS
from bot.frontend.uploads import start_image_job
from bot.models import MAX_SEED
from bot.renderer.profiles import ASPECTS
from bot.services.inline_params import inline_request, limits_for
from bot.services.settings_store import MAX_PRESET_NAME, Defaults

ASPECT_NAMES = {"1:1": "1:1 square", "3:2": "3:2 landscape", "2:3": "2:3 portrait",
                "16:9": "16:9 wide", "9:16": "9:16 tall"}
ASPECT_CHOICES = [app_commands.Choice(name=ASPECT_NAMES[a], value=a) for a in ASPECTS]


class Imagine(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    # Discord's own limits here are loose on purpose (6000 characters, steps up to 150):
    # the model-specific limits are checked at admission, which names them in its reply.
    @app_commands.command(name="imagine", description="Create images from a text prompt (and an image)")
    @app_commands.describe(
        prompt="What to draw; parameters may follow, e.g. --ar 16:9 --no trees --chaos 40 (see /help)",
        negative="What to keep out of the image",
        aspect="Image shape",
        count="How many images (1-4)",
        seed="Seed for reproducible results (random if empty)",
        steps="Denoising steps: more is slower and often finer",
        guidance="How closely to follow the prompt (CFG scale)",
        image="An image to start from (PNG, JPEG or WebP; its own aspect is kept)",
        strength="With an image: how much of it is re-drawn (0.05 keeps it, 1.0 ignores it)",
        preset="One of your /settings presets for the options you leave empty",
        model="Which model draws it (the server's default if empty)",
        lora="A LoRA style from the server's list, optionally with a weight: name or name:0.8",
    )
    @app_commands.choices(aspect=ASPECT_CHOICES)
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
        image: discord.Attachment | None = None,
        strength: app_commands.Range[float, 0.05, 1.0] | None = None,
        preset: app_commands.Range[str, 1, MAX_PRESET_NAME] | None = None,
        model: app_commands.Range[str, 1, 100] | None = None,
        lora: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        bot = bot_of(interaction)
        # Options left empty: the preset's, then the member's defaults, then the model's.
        chosen = await bot.member_settings.resolve(interaction.user.id, preset)
        given = Defaults(aspect=aspect.value if aspect else None, steps=steps, guidance=guidance,
                         negative=negative, count=count, model=model)
        # `--ar 16:9 --chaos 40 …` in the prompt count as options given (bot/services/inline_params.py).
        limits = limits_for(bot.admission.profile_of(model or chosen.model or bot.admission.model_label))
        if image is None:
            await start_job(interaction, inline_request(prompt, given, chosen, seed=seed, strength=strength,
                                                        limits=limits, lora=lora))
            return
        # Cheap checks, then the download, then the job (bot/frontend/uploads.py).
        await start_image_job(interaction, image, lambda prompt_image: inline_request(
            prompt, given, chosen, seed=seed, image=prompt_image, strength=strength, limits=limits, lora=lora))

    @imagine.autocomplete("preset")
    async def preset_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        names = await bot_of(interaction).member_settings.preset_names(interaction.user.id, current)
        return [app_commands.Choice(name=name, value=name) for name in names]

    @imagine.autocomplete("model")
    async def model_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return model_choices(interaction, current)

    @imagine.autocomplete("lora")
    async def lora_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        # A weight already typed ("ink:0.6") stays on every suggestion.
        weight = current.rpartition(":")[2].strip() if ":" in current else ""
        names = bot_of(interaction).admission.catalog.suggest_loras(current)
        return [app_commands.Choice(name=f"{n}:{weight}" if weight else n, value=f"{n}:{weight}" if weight else n)
                for n in names]


def model_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The configured models whose name holds what is typed (/imagine and /settings set)."""
    return [app_commands.Choice(name=n, value=n) for n in bot_of(interaction).admission.catalog.suggest_models(current)]


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(*ALL_BUTTONS, *HISTORY_ITEMS)
    bot.add_dynamic_items(*OUTPAINT_BUTTONS, *REGION_ITEMS)
    await bot.add_cog(Imagine(bot))
