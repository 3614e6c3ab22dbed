"""Persistent buttons. Each is a DynamicItem with a versioned custom_id, so clicks keep working
after a restart. The id only says which job a click is about: before anything happens, every
button asks `authorized_job` (bot/services/authz.py), which decides from the database whether this
member may do this to that job here, on this message."""
from __future__ import annotations

import re

import discord

from bot.frontend.flows import authorized_job, bot_of, guard, reply_error, start_job, with_notices
from bot.i18n import _
from bot.models import Job, RerollRequest, UpscaleRequest, VariationRequest
from bot.services.authz import JobAction
from bot.services.settings_store import VARIATIONS


class _Guarded:
    """discord.py only logs an exception raised in a dynamic item's callback, and the member sees
    "This interaction failed": every button runs `clicked` through the one error reply instead,
    after the one check that refuses banned members (as the command tree does for commands)."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if not await guard(interaction):
                return
            await self.clicked(interaction)
        except Exception as exc:
            await reply_error(interaction, exc)

    async def clicked(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class _ByJobId:
    """Rebuilds a button whose custom_id carries just a job id (the `job` group of its template)."""

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]))  # type: ignore[call-arg]


class VariationButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                      template=r"img:var:v1:(?P<job>\d+):(?P<index>\d+)"):
    def __init__(self, job_id: int, index: int):
        super().__init__(discord.ui.Button(
            label=f"V{index + 1}", style=discord.ButtonStyle.secondary, row=1,
            custom_id=f"img:var:v1:{job_id}:{index}",
        ))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        await authorized_job(interaction, self.job_id, JobAction.VARY)
        # The new job is the clicker's: their /settings variation strength decides.
        strength = (await bot_of(interaction).member_settings.defaults(interaction.user.id)).variation
        await start_job(interaction, VariationRequest(self.job_id, self.index, strength))


class VaryButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                 template=r"img:vary:v1:(?P<job>\d+):(?P<index>\d+):(?P<mode>subtle|strong)"):
    """Vary (Subtle) / Vary (Strong) under a single image or an upscale, as Midjourney has them: a
    variation of image `index` at that fixed strength (settings_store.VARIATIONS), whatever the
    clicker's /settings default (which stays for V1…Vn on grids). Anyone may click; the new job is
    theirs, submitted, priced and checked like a V click."""

    def __init__(self, job_id: int, index: int, mode: str):
        super().__init__(discord.ui.Button(
            label={"subtle": _("Vary (Subtle)"), "strong": _("Vary (Strong)")}.get(mode, f"Vary ({mode.title()})"),
            emoji="🪄", style=discord.ButtonStyle.secondary, row=1,
            custom_id=f"img:vary:v1:{job_id}:{index}:{mode}",
        ))
        self.job_id, self.index, self.mode = job_id, index, mode

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]), match["mode"])

    async def clicked(self, interaction: discord.Interaction) -> None:
        await authorized_job(interaction, self.job_id, JobAction.VARY)
        await start_job(interaction, VariationRequest(self.job_id, self.index, VARIATIONS[self.mode]))


class UpscaleButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                    template=r"img:up:v1:(?P<job>\d+):(?P<index>\d+)"):
    """U1…U4: image `index` at twice the size. Anyone may click; the new job is theirs."""

    def __init__(self, job_id: int, index: int):
        super().__init__(discord.ui.Button(
            label=f"U{index + 1}", style=discord.ButtonStyle.secondary, row=0,
            custom_id=f"img:up:v1:{job_id}:{index}",
        ))
        self.job_id, self.index = job_id, index

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["job"]), int(match["index"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        await authorized_job(interaction, self.job_id, JobAction.UPSCALE)
        await start_job(interaction, UpscaleRequest(self.job_id, self.index))


class RerollButton(_Guarded, _ByJobId, discord.ui.DynamicItem[discord.ui.Button],
                   template=r"img:reroll:v1:(?P<job>\d+)"):
    def __init__(self, job_id: int):
        super().__init__(discord.ui.Button(
            label=_("Re-roll"), emoji="🔄", style=discord.ButtonStyle.primary, row=2,
            custom_id=f"img:reroll:v1:{job_id}",
        ))
        self.job_id = job_id

    async def clicked(self, interaction: discord.Interaction) -> None:
        await authorized_job(interaction, self.job_id, JobAction.REROLL)
        await start_job(interaction, RerollRequest(self.job_id))


class DeleteButton(_Guarded, _ByJobId, discord.ui.DynamicItem[discord.ui.Button],
                   template=r"img:delete:v1:(?P<job>\d+)"):
    def __init__(self, job_id: int):
        super().__init__(discord.ui.Button(
            label=_("Delete"), emoji="🗑", style=discord.ButtonStyle.danger, row=2,
            custom_id=f"img:delete:v1:{job_id}",
        ))
        self.job_id = job_id

    async def clicked(self, interaction: discord.Interaction) -> None:
        job = await authorized_job(interaction, self.job_id, JobAction.DELETE)
        # Deferring an update and deleting @original removes the message the button is on,
        # through the interaction token: no channel permission needed.
        await interaction.response.defer()
        await interaction.delete_original_response()  # the clicked message: authz made sure it is the job's
        original = interaction.message is not None and interaction.message.id == job.message_id  # not a /show repost
        await bot_of(interaction).moderation.result_deleted(job, interaction.user.id, original=original)


class CancelButton(_Guarded, _ByJobId, discord.ui.DynamicItem[discord.ui.Button],
                   template=r"job:cancel:v1:(?P<job>\d+)"):
    def __init__(self, job_id: int, label: str | None = None):
        super().__init__(discord.ui.Button(
            label=(label or _("Cancel"))[:80], emoji="✖", style=discord.ButtonStyle.secondary,
            custom_id=f"job:cancel:v1:{job_id}",
        ))
        self.job_id = job_id

    async def clicked(self, interaction: discord.Interaction) -> None:
        job = await authorized_job(interaction, self.job_id, JobAction.CANCEL)
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await bot_of(interaction).jobs.cancel(job)
        if cancelled:
            await bot_of(interaction).moderation.job_cancelled(job, interaction.user.id)  # audited if a moderator's
        text = (_("Cancelled job #{job}.", job=job.id) if cancelled
                else _("Job #{job} had already finished.", job=job.id))
        await interaction.followup.send(await with_notices(interaction, text), ephemeral=True)


class InfoButton(_Guarded, _ByJobId, discord.ui.DynamicItem[discord.ui.Button],
                 template=r"img:info:v1:(?P<job>\d+)"):
    """ℹ️: every parameter, the model, the lineage and the render time, for the clicker alone."""

    def __init__(self, job_id: int):
        super().__init__(discord.ui.Button(
            label=_("Info"), emoji="ℹ️", style=discord.ButtonStyle.secondary, row=2,
            custom_id=f"img:info:v1:{job_id}",
        ))
        self.job_id = job_id

    async def clicked(self, interaction: discord.Interaction) -> None:
        from bot.frontend import historytexts

        await authorized_job(interaction, self.job_id, JobAction.INFO)
        bot = bot_of(interaction)
        details = await bot.history.details(self.job_id)
        init = details.job.params.init_image
        source = await bot.inputs.describe(init) if init and init.startswith("inputs/") else None
        await interaction.response.send_message(historytexts.info(details, source), ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())


class ReportButton(_Guarded, _ByJobId, discord.ui.DynamicItem[discord.ui.Button],
                   template=r"img:report:v1:(?P<job>\d+)"):
    """Any member may report a result once; moderators hear of it in the safety log channel and can
    remove it with Delete."""

    def __init__(self, job_id: int):
        super().__init__(discord.ui.Button(
            label=_("Report"), emoji="🚩", style=discord.ButtonStyle.secondary, row=2,
            custom_id=f"img:report:v1:{job_id}",
        ))
        self.job_id = job_id

    async def clicked(self, interaction: discord.Interaction) -> None:
        job = await authorized_job(interaction, self.job_id, JobAction.REPORT)
        new = await bot_of(interaction).safety.report(job, interaction.user.id)
        text = (_("🚩 Thanks: the moderators were told about this image.") if new
                else _("You already reported this image; the moderators have it."))
        await interaction.response.send_message(text, ephemeral=True)


ALL_BUTTONS = (VariationButton, VaryButton, UpscaleButton, RerollButton, InfoButton, DeleteButton, CancelButton,
               ReportButton)


def progress_view(job: Job) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job.id))
    return view
