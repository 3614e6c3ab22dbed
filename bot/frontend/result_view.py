"""The buttons under a delivered result: one floor above buttons.py and outpaint_buttons.py, which
both build on the guarded dynamic items in buttons.py."""
from __future__ import annotations

import discord

from bot.frontend.buttons import (
    DeleteButton,
    InfoButton,
    ReportButton,
    RerollButton,
    UpscaleButton,
    VariationButton,
    VaryButton,
)
from bot.frontend.outpaint_buttons import add_outpaint_buttons
from bot.models import Job, JobTask
from bot.services.settings_store import VARIATIONS


def result_view(job: Job, upscalable: list[bool] | None = None) -> discord.ui.View:
    """U1…Un (each image that can still grow), V1…Vn on a grid or Vary (Subtle) and Vary (Strong)
    under a single image or an upscale, then Re-roll (not on an upscale: its seed and source are
    fixed), Info, Delete and Report."""
    view = discord.ui.View(timeout=None)
    for index in range(job.params.count):
        if upscalable is None or (index < len(upscalable) and upscalable[index]):
            view.add_item(UpscaleButton(job.id, index))
    if job.params.count == 1:  # a single image or an upscale (always one image)
        for mode in VARIATIONS:
            view.add_item(VaryButton(job.id, 0, mode))
    else:
        for index in range(job.params.count):
            view.add_item(VariationButton(job.id, index))
    if job.params.task is not JobTask.UPSCALE:
        view.add_item(RerollButton(job.id))
    view.add_item(InfoButton(job.id))
    view.add_item(DeleteButton(job.id))
    view.add_item(ReportButton(job.id))
    add_outpaint_buttons(view, job)
    return view
