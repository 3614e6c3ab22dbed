"""/settings: a member's defaults for the /imagine options they leave empty, and named presets."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import ValidationError
from bot.frontend import historytexts
from bot.frontend.flows import bot_of
from bot.frontend.texts import escape
from bot.i18n import N_, _
from bot.models import GenerationRequest
from bot.services.settings_store import MAX_PRESET_NAME, VARIATIONS, Defaults
from cogs.imagine import ASPECT_CHOICES, model_choices

VARIATION_CHOICES = [app_commands.Choice(name=f"{name} ({value:g})", value=name) for name, value in VARIATIONS.items()]


async def _reply(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


class Settings(commands.Cog):
    settings = app_commands.Group(name="settings", description="Your defaults for /imagine, and presets")

    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @settings.command(name="show", description="Your defaults and presets")
    async def show(self, interaction: discord.Interaction) -> None:
        store = bot_of(interaction).member_settings
        presets = await store.preset_names(interaction.user.id)
        names = ", ".join(f"“{escape(historytexts.short(n, 50))}”" for n in presets) or _("none")
        await _reply(interaction, f"{historytexts.defaults(await store.defaults(interaction.user.id))}\n"
                                  + _("**Presets:** {names}", names=names))

    @settings.command(name="set", description="Defaults for the /imagine options you leave empty")
    @app_commands.describe(aspect="Image shape", steps="Denoising steps", guidance="CFG scale",
                           negative="What to keep out of every image", count="How many images (1-4)",
                           variation="How much the V buttons change an image",
                           model="Which model draws your images")
    @app_commands.choices(aspect=ASPECT_CHOICES, variation=VARIATION_CHOICES)
    async def set_(self, interaction: discord.Interaction, aspect: app_commands.Choice[str] | None = None,
                  steps: app_commands.Range[int, 1, 150] | None = None,
                  guidance: app_commands.Range[float, 0.0, 30.0] | None = None,
                  negative: app_commands.Range[str, 0, 6000] | None = None,
                  count: app_commands.Range[int, 1, 4] | None = None,
                  variation: app_commands.Choice[str] | None = None,
                  model: app_commands.Range[str, 1, 100] | None = None) -> None:
        bot = bot_of(interaction)
        changes = Defaults(aspect=aspect.value if aspect else None, steps=steps, guidance=guidance,
                           negative=negative, count=count,
                           variation=VARIATIONS[variation.value] if variation else None,
                           model=bot.admission.catalog.resolve(model).name if model else None)
        if changes.empty:
            raise ValidationError(N_("Choose at least one option to set (or /settings reset)."))
        # The same limits and words as /imagine (the model's step and guidance ranges, prompt length).
        bot.admission.validate(GenerationRequest(
            prompt="-", negative_prompt=changes.negative or "", aspect=changes.aspect or "1:1",
            count=changes.count or 1, steps=changes.steps, guidance=changes.guidance, seed=0,
            model=changes.model or (await bot.member_settings.defaults(interaction.user.id)).model))
        values = await bot.member_settings.update(interaction.user.id, changes)
        await _reply(interaction, _("Saved. {defaults}", defaults=historytexts.defaults(values)))

    @set_.autocomplete("model")
    async def model_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return model_choices(interaction, current)

    @settings.command(name="save", description="Store your current defaults as a named preset")
    @app_commands.describe(name="The preset's name (for /imagine preset:)")
    async def save(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, MAX_PRESET_NAME]) -> None:
        values = await bot_of(interaction).member_settings.save_preset(interaction.user.id, name)
        title = _("Preset “{name}”", name=escape(historytexts.short(' '.join(name.split()), 50)))
        await _reply(interaction, f"{historytexts.defaults(values, title)}\n" + _("Use it with `/imagine preset:`."))

    @settings.command(name="reset", description="Forget your defaults (presets stay)")
    async def reset(self, interaction: discord.Interaction) -> None:
        await bot_of(interaction).member_settings.reset(interaction.user.id)
        await _reply(interaction, _("Your defaults are reset: every option uses the model's default again."))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Settings(bot))
