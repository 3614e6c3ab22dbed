"""/history pages (Prev/Next and the select menu that opens a job) and posting a job again (/show).

The page components are DynamicItems whose custom_id carries a `history_views` row id and a cursor
(bot/services/history.py), so they keep working after a restart; the row says whose history it is
and which search, and only its viewer may page it.
"""
from __future__ import annotations

import re

import discord

from bot.errors import ContentBlocked
from bot.frontend import historytexts
from bot.frontend.buttons import _Guarded
from bot.frontend.flows import actor_from, bot_of, channel_is_nsfw, is_moderator
from bot.frontend.presenter import attachments
from bot.frontend.result_view import result_view
from bot.i18n import N_, _, speaking
from bot.services.authz import JobAction
from bot.services.history import HistoryPage


class HistoryPageButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                        template=r"hist:page:v1:(?P<view>\d+):(?P<way>[no]):(?P<cursor>\d+)"):
    """◀ Newer / Older ▶: the page after (`n`) or before (`o`) the job id `cursor`."""

    def __init__(self, view_id: int, way: str, cursor: int, disabled: bool = False):
        label, emoji = (_("Newer"), "◀") if way == "n" else (_("Older"), "▶")
        super().__init__(discord.ui.Button(
            label=label, emoji=emoji, style=discord.ButtonStyle.secondary, row=1, disabled=disabled,
            custom_id=f"hist:page:v1:{view_id}:{way}:{cursor}",
        ))
        self.view_id, self.way, self.cursor = view_id, way, cursor

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["view"]), match["way"], int(match["cursor"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        history = bot_of(interaction).history
        view = await history.view(self.view_id, interaction.user.id, interaction.guild_id,
                                  is_moderator=is_moderator(interaction))
        if self.way == "n":
            page = await history.page(view, newer_than=self.cursor)
        else:
            page = await history.page(view, older_than=self.cursor)
        content, components = await history_message(interaction, page)
        await interaction.response.edit_message(content=content, view=components,
                                                allowed_mentions=discord.AllowedMentions.none())
        await record_page(interaction, page, interaction.message.id)  # type: ignore[union-attr]


class HistoryOpen(_Guarded, discord.ui.DynamicItem[discord.ui.Select], template=r"hist:open:v1:(?P<view>\d+)"):
    """The select menu of a page: posts the chosen job here, as /show does."""

    def __init__(self, view_id: int, options: list[discord.SelectOption] | None = None):
        super().__init__(discord.ui.Select(
            custom_id=f"hist:open:v1:{view_id}", placeholder=_("Show a job here…"), row=0,
            options=options or [discord.SelectOption(label="-", value="0")],
        ))
        self.view_id = view_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["view"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        # Only its viewer, in its server; the chosen job (a value the client sends) must be one this
        # list showed (its entries are recorded as the list message's jobs) and is authorized as /show.
        await bot_of(interaction).history.view(self.view_id, interaction.user.id, interaction.guild_id,
                                               is_moderator=is_moderator(interaction))
        await show_job(interaction, int(self.item.values[0]))


HISTORY_ITEMS = (HistoryPageButton, HistoryOpen)


async def history_message(interaction: discord.Interaction, page: HistoryPage) -> tuple[str, discord.ui.View]:
    """A page's text and components."""
    own = page.view.member_id == interaction.user.id
    view = discord.ui.View(timeout=None)
    if page.entries:
        options = [discord.SelectOption(label=f"#{e.id} · {historytexts.short(e.prompt, 80)}"[:100], value=str(e.id),
                                        description=f"{e.status.value} · seed {e.seed} · {e.width}×{e.height}")
                   for e in page.entries]
        view.add_item(HistoryOpen(page.view.id, options))
        view.add_item(HistoryPageButton(page.view.id, "n", page.entries[0].id, disabled=not page.has_newer))
        view.add_item(HistoryPageButton(page.view.id, "o", page.entries[-1].id, disabled=not page.has_older))
    return historytexts.history_page(page, own), view


async def record_page(interaction: discord.Interaction, page: HistoryPage, message_id: int | None) -> None:
    """The list's menu opens these jobs: they are the list message's jobs (bot/services/authz.py)."""
    await bot_of(interaction).authz.record([e.id for e in page.entries], message_id, interaction.channel_id)


async def show_job(interaction: discord.Interaction, job_id: int) -> None:
    """Post job `job_id`'s images in this channel with working buttons (/show and the menu)."""
    bot = bot_of(interaction)
    job = await bot.authz.job(actor_from(interaction), job_id, JobAction.SHOW)
    images = await bot.history.showable(job, bot.settings.image_retention_days)
    total = len(await bot.store.images(job.id))
    # The channel's safety policy, as at delivery: an image that would be withheld here is not shown.
    images = await bot.safety.showable(job, images, interaction.guild_id, channel_is_nsfw(interaction.channel))
    if not images:
        raise ContentBlocked(N_("🚫 The image check flagged the images of job #{job}, which this channel does "
                                "not allow, so they are not shown here.", job=job.id))
    # Public, and deferred: uploading up to four PNGs can take longer than Discord's 3 seconds.
    await interaction.response.defer(thinking=True)
    with speaking(interaction.guild_locale if interaction.guild_id else None):  # public: the server's language
        text, view = historytexts.shown(job, interaction.user.id, total, len(images)), result_view(
            job, bot.presenter.upscalable(images, job.params.model))
    message = await interaction.followup.send(
        text, files=attachments(job, images), view=view, allowed_mentions=discord.AllowedMentions.none(), wait=True,
    )
    # The repost's buttons act on the job: it is one of the job's messages from now on.
    await bot.authz.record([job.id], message.id, interaction.channel_id)
