"""The outpaint buttons under a single image (a count=1 result, an upscale, an outpaint): Zoom Out 2×,
Zoom Out 1.5×, Vary (Region) (bot/frontend/region_views.py), Make Square (non-square images only) on
one row, ⬅ ➡ ⬆ ⬇ on the next.

One persistent DynamicItem (custom_id `img:out:v1:<job>:<index>:<edit code>`). The id names the job,
the image and what to do; whether this member may do it to that job, here, on this message, is
decided from the database (`authorized_job`, bot/services/authz.py) before anything else. The new
job goes through the one submit path (validation, safety, quota) and belongs to the clicker."""
from __future__ import annotations

import re

import discord

from bot.frontend.buttons import _Guarded
from bot.frontend.flows import authorized_job, start_job
from bot.i18n import N_, say
from bot.models import Job, OutpaintRequest
from bot.renderer.outpaint_geometry import ARROWS
from bot.services.authz import JobAction

# Discord allows 5 action rows of 5 buttons: rows 0-2 hold U, V and Re-roll/Info/Delete/Report.
ZOOM_ROW, PAN_ROW = 3, 4
# custom_id code -> (edit, label); codes keep the id short and stable (versioned by v1).
EDITS: dict[str, tuple[str, str]] = {
    "z2": ("zoom:2", N_("Zoom Out 2×")),
    "z15": ("zoom:1.5", N_("Zoom Out 1.5×")),
    "sq": ("square", N_("Make Square")),
    "l": ("pan:left", ARROWS["left"]),
    "r": ("pan:right", ARROWS["right"]),
    "u": ("pan:up", ARROWS["up"]),
    "d": ("pan:down", ARROWS["down"]),
}


class OutpaintButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                     template=r"img:out:v1:(?P<job>\d+):(?P<index>\d+):(?P<code>z2|z15|sq|l|r|u|d)"):
    """Anyone who may use the image (as V and U) may click; the new job is theirs."""

    def __init__(self, job_id: int, index: int, code: str):
        edit, label = EDITS[code]
        super().__init__(discord.ui.Button(
            label=say(label), style=discord.ButtonStyle.secondary, row=PAN_ROW if edit.startswith("pan") else ZOOM_ROW,
            custom_id=f"img:out:v1:{job_id}:{index}:{code}",
        ))
        self.job_id, self.index, self.edit = job_id, index, edit

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]), match["code"])

    async def clicked(self, interaction: discord.Interaction) -> None:
        await authorized_job(interaction, self.job_id, JobAction.OUTPAINT)
        await start_job(interaction, OutpaintRequest(self.job_id, self.index, self.edit))


OUTPAINT_BUTTONS = (OutpaintButton,)


def add_outpaint_buttons(view: discord.ui.View, job: Job) -> None:
    """Under a single image only: a grid's images are upscaled or varied first, as in Midjourney.
    Pans are always offered; one the model's limits do not allow is refused, saying why."""
    if job.params.count != 1:
        return
    from bot.frontend.region_views import RegionButton

    codes = ["z2", "z15"] + (["sq"] if job.params.width != job.params.height else []) + ["l", "r", "u", "d"]
    for code in codes:
        view.add_item(OutpaintButton(job.id, 0, code))
        if code == "z15":
            view.add_item(RegionButton(job.id, 0, ZOOM_ROW))
