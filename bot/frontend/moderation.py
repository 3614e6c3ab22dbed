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
    Messages or a MODERATOR_ROLE_IDS role, whatever the server did to the command's default."""
    if not is_moderator(interaction):
        raise NotAllowed("Only moderators (Manage Messages, or a moderator role) can use this.")
