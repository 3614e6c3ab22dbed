"""/mod safety: the moderators' content-safety tools (log, log channel, terms, threshold, NSFW).

Thin: each command checks the moderator at run time (default_permissions is only a default),
calls bot/services/safety.py, and answers ephemerally."""
from __future__ import annotations

import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.frontend.flows import bot_of, reply_error
from bot.frontend.moderation import attach, audit_view, require_moderator
from bot.frontend.safety import describe_block
from bot.frontend.texts import escape, fit
from bot.i18n import _
from bot.services.safety import LOG_PAGE

safety = app_commands.Group(name="safety", description="Content safety: blocks, terms and channel policy")


def _guild_id(interaction: discord.Interaction) -> int:
    require_moderator(interaction)  # refuses DMs too: the id below is the asking server's
    return interaction.guild_id  # type: ignore[return-value]


async def _log_page(interaction: discord.Interaction, member_id: int | None, before_id: int | None):
    records = await bot_of(interaction).safety.blocks(_guild_id(interaction), member_id, before_id, LOG_PAGE + 1)
    more, records = len(records) > LOG_PAGE, records[:LOG_PAGE]
    who = _(" for <@{member}>", member=member_id) if member_id else ""
    if not records:
        return (_("No content-safety blocks{who}{before}.", who=who, before=_(" before these") if before_id else ""),
                None)
    lines = [_("**Recent content-safety blocks{who}** (newest first)", who=who)]
    lines += [f"`#{r.id}` {describe_block(r)}" for r in records]
    view = None
    if more:
        view = discord.ui.View(timeout=None)
        view.add_item(OlderBlocksButton(member_id or 0, records[-1].id))
    return fit("\n".join(lines)), view


class OlderBlocksButton(discord.ui.DynamicItem[discord.ui.Button],
                        template=r"safety:log:v1:(?P<member>\d+):(?P<before>\d+)"):
    def __init__(self, member_id: int, before_id: int):
        super().__init__(discord.ui.Button(label=_("Older"), emoji="◀", style=discord.ButtonStyle.secondary,
                                           custom_id=f"safety:log:v1:{member_id}:{before_id}"))
        self.member_id, self.before_id = member_id, before_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match: re.Match[str]):
        return cls(int(match["member"]), int(match["before"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            content, view = await _log_page(interaction, self.member_id or None, self.before_id)
            await interaction.response.edit_message(content=content, view=view,
                                                    allowed_mentions=discord.AllowedMentions.none())
        except Exception as exc:
            await reply_error(interaction, exc)


async def _say(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


@safety.command(name="log", description="Recent blocked prompts and images")
@app_commands.describe(member="Only this member's blocks")
async def log_command(interaction: discord.Interaction, member: discord.User | None = None) -> None:
    content, view = await _log_page(interaction, member.id if member else None, None)
    await audit_view(interaction, "view safety log", member.id if member else None)
    kwargs = {"view": view} if view is not None else {}
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none(),
                                            **kwargs)


@safety.command(name="logchannel", description="Where new blocks and reports are announced")
@app_commands.describe(channel="Blocks and reports are posted here (flagged images only if it is age-restricted)")
async def logchannel_command(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
    await bot_of(interaction).safety.set_log_channel(_guild_id(interaction), channel.id, interaction.user.id)
    images = _("with the flagged images") if channel.is_nsfw() else _("as text only (it is not age-restricted)")
    await _say(interaction, _("New blocks and reports will be announced in {channel}, {images}.",
                              channel=channel.mention, images=images))


@safety.command(name="block", description="Refuse prompts with this word or phrase, everywhere in this server")
@app_commands.describe(term="A word or phrase (matched in any spelling)")
async def block_command(interaction: discord.Interaction, term: app_commands.Range[str, 1, 100]) -> None:
    await _say(interaction, await bot_of(interaction).safety.add_term(_guild_id(interaction), "block", term,
                                                                      interaction.user.id))


@safety.command(name="allow", description="Exempt a word or phrase from the built-in lists, or lift a block")
@app_commands.describe(term="A word or phrase")
async def allow_command(interaction: discord.Interaction, term: app_commands.Range[str, 1, 100]) -> None:
    await _say(interaction, await bot_of(interaction).safety.add_term(_guild_id(interaction), "allow", term,
                                                                      interaction.user.id))


@safety.command(name="terms", description="This server's blocked and allowed terms")
async def terms_command(interaction: discord.Interaction) -> None:
    entries = await bot_of(interaction).safety.terms(_guild_id(interaction))
    await audit_view(interaction, "view safety terms")
    if not entries:
        return await _say(interaction, _("This server has no terms of its own: only the built-in lists apply."))
    lines = []
    for kind, title in (("block", _("Blocked")), ("allow", _("Allowed"))):
        listed = [f"“{escape(e.display)}” (<@{e.added_by}>)" for e in entries if e.kind == kind]
        if listed:
            lines.append(_("**{title}:** {terms}", title=title, terms=", ".join(listed)))
    await _say(interaction, fit("\n".join(lines)))


@safety.command(name="threshold", description="Image check threshold: images scoring this or more are withheld")
@app_commands.describe(value="0.01-1.0; lower withholds more (default 0.5)")
async def threshold_command(interaction: discord.Interaction, value: app_commands.Range[float, 0.01, 1.0]) -> None:
    await bot_of(interaction).safety.set_threshold(_guild_id(interaction), value, interaction.user.id)
    await _say(interaction, _("Images scoring {value:g} or more are now withheld outside NSFW channels.", value=value))


@safety.command(name="nsfw", description="Allow sexual content and gore in age-restricted channels")
@app_commands.describe(enabled="On: age-restricted channels may receive NSFW results (never sexual content "
                               "involving minors, hate or abuse)")
async def nsfw_command(interaction: discord.Interaction, enabled: bool) -> None:
    await bot_of(interaction).safety.set_nsfw(_guild_id(interaction), enabled, interaction.user.id)
    text = (_("NSFW results are now allowed in age-restricted channels (sexual content involving minors, hate and "
              "abuse stay refused everywhere).") if enabled else
            _("NSFW results are now refused everywhere in this server, age-restricted channels included."))
    await _say(interaction, text)


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(OlderBlocksButton)
    attach(safety)
