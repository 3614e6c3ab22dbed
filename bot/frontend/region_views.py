"""Vary (Region): redraw part of a single image, with a region picker that works inside Discord.

1. **Vary (Region)** (under a single image, beside the zoom buttons) answers the clicker alone with a
   menu: the nine cells of a 3×3 grid and a few shapes (halves, the middle band, the border, a
   cross); several may be chosen, their union is redrawn. That private message becomes one of the
   job's messages (bot/services/authz.py), so the menu is authorized like the button.
2. Choosing opens a modal with the prompt (the image's, to keep or change).
3. Submitting queues the job through the one submit path (validation, safety, quota): kind
   'region', task 'inpaint', `edit` "region:c1,c5" (the mask), stored with the job's prompt and
   written into the PNG. The modal is not persistent: after a bot restart choose the region again.

Every step asks `authorized_job` again from the database; the custom_ids only name the job and image."""
from __future__ import annotations

import re

import discord

from bot.errors import ValidationError
from bot.frontend.buttons import _Guarded
from bot.frontend.flows import authorized_job, bot_of, guard, reply_error, send_private, start_job
from bot.i18n import _, say
from bot.models import RegionRequest
from bot.renderer import outpaint_geometry as geometry
from bot.services.authz import JobAction


def picker_text() -> str:
    return _("🖌 **Vary (Region)**: choose the parts of the image to redraw (several add up; the grid "
             "splits the image in thirds). Then you can change the prompt.")


def region_options() -> list[discord.SelectOption]:
    cells = [discord.SelectOption(label=f"{n} · {say(name)}", value=f"c{n}")
             for n, name in enumerate(geometry.CELL_NAMES, start=1)]
    shapes = [discord.SelectOption(label=say(name), value=f"s:{name}") for name in geometry.REGION_SHAPES]
    return cells + shapes


def chosen_cells(values: list[str]) -> set[int]:
    """The union of the chosen cells and shapes (values the client sends: unknown ones are refused)."""
    cells: set[int] = set()
    for value in values:
        if re.fullmatch(r"c[1-9]", value):
            cells.add(int(value[1]))
        elif value.startswith("s:") and value[2:] in geometry.REGION_SHAPES:
            cells.update(geometry.REGION_SHAPES[value[2:]])
        else:
            raise ValidationError(_("That is not a part of the image this menu offers."))
    return cells


class RegionButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                   template=r"img:region:v1:(?P<job>\d+):(?P<index>\d+)"):
    def __init__(self, job_id: int, index: int, row: int = 3):
        super().__init__(discord.ui.Button(
            label=_("Vary (Region)"), style=discord.ButtonStyle.secondary, row=row,
            custom_id=f"img:region:v1:{job_id}:{index}",
        ))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        job = await authorized_job(interaction, self.job_id, JobAction.VARY)
        view = discord.ui.View(timeout=None)
        view.add_item(RegionPicker(job.id, self.index))
        message_id = await send_private(interaction, picker_text(), view=view)
        # The picker acts on this job: it is one of the job's messages from now on.
        await bot_of(interaction).authz.record([job.id], message_id, interaction.channel_id)


class RegionPicker(_Guarded, discord.ui.DynamicItem[discord.ui.Select],
                   template=r"img:regionpick:v1:(?P<job>\d+):(?P<index>\d+)"):
    def __init__(self, job_id: int, index: int):
        options = region_options()
        super().__init__(discord.ui.Select(
            custom_id=f"img:regionpick:v1:{job_id}:{index}", placeholder=_("Parts to redraw…"), row=0,
            min_values=1, max_values=len(options), options=options,
        ))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        job = await authorized_job(interaction, self.job_id, JobAction.VARY)
        try:
            edit = geometry.region_edit(chosen_cells(list(self.item.values)))
        except geometry.OutpaintRefused as exc:
            raise ValidationError(exc.args[0]) from None  # a Msg: said in the member's language
        await interaction.response.send_modal(RegionPrompt(job.id, self.index, edit, job.params.prompt))


class RegionPrompt(discord.ui.Modal):
    def __init__(self, job_id: int, index: int, edit: str, prompt: str):
        super().__init__(title=_("Vary (Region)"), timeout=15 * 60)
        self.job_id, self.index, self.edit = job_id, index, edit
        self.prompt: discord.ui.TextInput[RegionPrompt] = discord.ui.TextInput(
            label=say(geometry.describe(edit))[:45], style=discord.TextStyle.paragraph, custom_id="img:region:prompt",
            default=prompt[:4000], required=False, max_length=4000)
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if not await guard(interaction):
            return
        await authorized_job(interaction, self.job_id, JobAction.VARY)  # again: time has passed
        text = (self.prompt.value or "").strip()
        await start_job(interaction, RegionRequest(self.job_id, self.index, self.edit, text or None))

    # discord.py's Modal.on_error, positional-only as there: Modal calls it with (interaction, error), no
    # item, narrowing BaseView's signature (discord.py's own override that mypy reports against BaseView).
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await reply_error(interaction, error)


REGION_ITEMS = (RegionButton, RegionPicker)
