"""The pages of /mod log: persistent buttons (DynamicItems with versioned custom_ids, like
bot/frontend/buttons.py), so a log opened before a restart still pages afterwards. The page
number and the member filter are all the id carries; the entries and who may read them come from
the database and the run-time moderator check at each click."""
from __future__ import annotations

import re

import discord

from bot.frontend import modtexts
from bot.frontend.buttons import _Guarded
from bot.frontend.flows import bot_of
from bot.frontend.moderation import require_moderator
from bot.i18n import _

PER_PAGE = 10


async def log_page(interaction: discord.Interaction, member_id: int | None, page: int) -> tuple[str, discord.ui.View]:
    found = await bot_of(interaction).audit.page(interaction.guild_id or 0, member_id, page, PER_PAGE)
    return modtexts.audit_page(found, member_id), log_view(member_id, found.page, found.has_older)


def log_view(member_id: int | None, page: int, has_older: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(LogPageButton(member_id or 0, max(0, page - 1), _("◀ Newer"), disabled=page == 0))
    view.add_item(LogPageButton(member_id or 0, page + 1, _("Older ▶"), disabled=not has_older))
    return view


class LogPageButton(_Guarded, discord.ui.DynamicItem[discord.ui.Button],
                    template=r"mod:log:v1:(?P<member>\d+):(?P<page>\d+)"):
    def __init__(self, member_id: int, page: int, label: str = "Page", disabled: bool = False):
        super().__init__(discord.ui.Button(
            label=label, style=discord.ButtonStyle.secondary, disabled=disabled,
            custom_id=f"mod:log:v1:{member_id}:{page}",
        ))
        self.member_id, self.page = member_id, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["member"]), int(match["page"]))

    async def clicked(self, interaction: discord.Interaction) -> None:
        require_moderator(interaction)
        text, view = await log_page(interaction, self.member_id or None, self.page)
        await interaction.response.edit_message(content=text, view=view,
                                                allowed_mentions=discord.AllowedMentions.none())
