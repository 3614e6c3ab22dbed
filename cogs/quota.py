"""/quota, and the moderators' /mod quota set, grant and reset. Thin: parse, check, reply; the
credits themselves live in bot/services/quotas.py."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.credits import fmt, to_tenths
from bot.errors import NotAllowed, ValidationError
from bot.frontend import modtexts
from bot.frontend.flows import bot_of, is_moderator, role_ids_of, send_private
from bot.frontend.moderation import attach, require_moderator
from bot.i18n import N_, _
from bot.services.quotas import Member, QuotaService
from bot.words import period

MAX_CREDITS = 1_000_000


def member_of(interaction: discord.Interaction, user: discord.abc.User) -> Member:
    """The account of `user` in this server; a member's roles decide their tier (a plain user,
    not in the server's member data, keeps the tier last seen)."""
    roles = frozenset(role_ids_of(user)) if isinstance(user, discord.Member) else None
    return Member(interaction.guild_id or 0, user.id, roles)


def quotas_of(interaction: discord.Interaction) -> QuotaService:
    quotas = bot_of(interaction).quotas
    if not quotas.enabled:
        raise NotAllowed(N_("Quotas are off on this bot (QUOTA_CREDITS=unlimited): there are no credits to change."))
    return quotas


class Quota(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="quota", description="Your credits: used, left, bonus, and when they reset")
    @app_commands.describe(member="Moderators: show this member's credits instead")
    async def quota(self, interaction: discord.Interaction, member: discord.User | None = None) -> None:
        target = member or interaction.user
        if target.id != interaction.user.id and not is_moderator(interaction):
            raise NotAllowed(N_("Only moderators can look at other members' credits."))
        quotas = bot_of(interaction).quotas
        if not quotas.policy.enabled_for(interaction.guild_id or 0):
            await send_private(interaction, _("Quotas are off on this bot: images cost no credits."))
            return
        status = await quotas.status(member_of(interaction, target))
        whose = None if target.id == interaction.user.id else target.id
        await send_private(interaction, modtexts.quota_status(status, whose, bot_of(interaction).admission.prices))


QUOTA = app_commands.Group(name="quota", description="Members' credits")


@QUOTA.command(name="set", description="A member's allowance per period from now on (-1: back to the default)")
@app_commands.describe(member="Whose allowance", credits="Credits per period, or -1 for the default")
async def quota_set(interaction: discord.Interaction, member: discord.User,
                    credits: app_commands.Range[float, -1, MAX_CREDITS]) -> None:
    require_moderator(interaction)
    if credits < 0 and credits != -1:
        raise ValidationError(N_("Credits must be 0 or more, or -1 to go back to the default."))
    quotas = quotas_of(interaction)
    change = await quotas.set_allowance(interaction.user.id, member_of(interaction, member),
                                        None if credits == -1 else to_tenths(credits))
    per = period(quotas.policy.period)
    default = _(" (the default)") if change.after.override is None else ""
    await send_private(interaction, _("<@{member}>'s allowance is now **{allowance}** credits per {per}{default}, "
                                      "was {before}. They have {left} left.", member=member.id,
                                      allowance=fmt(change.after.allowance), per=per, default=default,
                                      before=fmt(change.before.allowance), left=fmt(change.after.available)))


@QUOTA.command(name="grant", description="Give a member one-off credits (negative takes credits away)")
@app_commands.describe(member="Who gets them", credits="How many (negative: take away)",
                       reason="Why (the member is told)")
async def quota_grant(interaction: discord.Interaction, member: discord.User,
                      credits: app_commands.Range[float, -MAX_CREDITS, MAX_CREDITS],
                      reason: app_commands.Range[str, 1, 200] | None = None) -> None:
    require_moderator(interaction)
    amount = to_tenths(credits)
    if amount == 0:
        raise ValidationError(N_("Grant at least 0.1 credits (or take at least 0.1 away)."))
    change = await quotas_of(interaction).grant(interaction.user.id, member_of(interaction, member), amount, reason)
    applied = change.after.bonus - change.before.bonus
    if applied >= 0:
        what = _("Gave <@{member}> **{credits}** credits", member=member.id, credits=fmt(applied))
    else:
        what = _("Took **{credits}** credits from <@{member}>", credits=fmt(-applied), member=member.id)
        if applied != amount:
            what += _(" (all they had left, of {asked} asked)", asked=fmt(-amount))
    await send_private(interaction, _("{what}. They have {left} left.", what=what, left=fmt(change.after.available)))


@QUOTA.command(name="reset", description="Set a member's usage this period back to zero")
@app_commands.describe(member="Whose usage")
async def quota_reset(interaction: discord.Interaction, member: discord.User) -> None:
    require_moderator(interaction)
    quotas = quotas_of(interaction)
    change = await quotas.reset(interaction.user.id, member_of(interaction, member))
    await send_private(interaction, _("Reset <@{member}>'s usage this {period} (was {used}). They have {left} left.",
                                      member=member.id, period=period(quotas.policy.period),
                                      used=fmt(change.before.used), left=fmt(change.after.available)))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Quota(bot))
    attach(QUOTA)
