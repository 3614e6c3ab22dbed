"""The `/mod` command group and the run-time moderator check every moderator tool uses.

A cog defines its subcommand group (`quota = app_commands.Group(name="quota", description=...)`,
no parent) and calls `attach(quota)` in its `setup(bot)`; the client registers `MOD` once, after
every cog is loaded (bot/frontend/app.py). `attach` replaces a group of the same name, because the
start-up runner builds a fresh client per connection attempt and that reloads the cogs.
`default_permissions` is only a default that server admins can change, so each subcommand also
calls `require_moderator`.
"""
from __future__ import annotations

import time

import discord
from discord import app_commands

from bot.errors import NotAllowed
from bot.frontend.flows import is_moderator
from bot.i18n import N_

MOD = app_commands.Group(
    name="mod",
    description="Moderator tools",
    default_permissions=discord.Permissions(manage_messages=True),
    guild_only=True,
)


def attach(group: app_commands.Group | app_commands.Command) -> None:
    """Make `group` a subcommand (group) of /mod, replacing an earlier one of the same name."""
    MOD.remove_command(group.name)
    MOD.add_command(group)


async def audit_view(interaction: discord.Interaction, action: str, target_id: int | None = None) -> None:
    """Record that a moderator ran a read-only /mod subcommand (changes are audited by their services)."""
    audit = getattr(interaction.client, "audit", None)
    if audit is not None and interaction.guild_id is not None:
        await audit.viewed(guild_id=interaction.guild_id, moderator_id=interaction.user.id, action=action,
                           target_id=target_id, now=time.time())


def require_moderator(interaction: discord.Interaction) -> None:
    """Refuse (NotAllowed, shown ephemerally by the one error reply) unless the member has Manage
    Messages or a MODERATOR_ROLE_IDS role in the server asked in, whatever the server did to the
    command's default. Every /mod tool then reads and changes that server's records alone."""
    if interaction.guild_id is None:  # /mod is guild_only; a forged button can still come from a DM
        raise NotAllowed(N_("The moderator tools work in a server, for that server."))
    if not is_moderator(interaction):
        raise NotAllowed(N_("Only moderators (Manage Messages, or a moderator role) can use this."))


def require_whole_bot_rights(interaction: discord.Interaction) -> None:
    """For tools that act on or show every server at once (/mod pause and resume hold the one shared
    queue, /mod storage counts every server's images):
    a moderator may while the bot serves their server alone; once it is in several, only the
    bot's operators (OWNER_USER_IDS) may, so no server's moderators can stop another's renders."""
    require_moderator(interaction)
    client = interaction.client
    if len(client.guilds) > 1 and interaction.user.id not in client.settings.owner_user_ids:  # type: ignore[attr-defined]
        raise NotAllowed(N_("This acts on every server this bot is in (one shared queue and disk): only the bot's "
                            "operators (OWNER_USER_IDS) can use it."))
