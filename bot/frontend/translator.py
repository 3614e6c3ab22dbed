"""Command names, option names, descriptions and choice names in the members' languages: discord.py's
`app_commands.Translator` over the same catalogue as the replies (bot/i18n.py). Discord shows each
member their own locale's text and falls back to the English one sent as the default."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot import i18n

_NAMES = {Where.command_name, Where.group_name, Where.parameter_name}


class CatalogueTranslator(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        lang = i18n.language(locale.value)
        # Only the exact shipped locale: "de" is the one German locale Discord has; English stays
        # the default Discord sends to everyone else.
        if lang is None or lang != locale.value:
            return None
        if context.location in _NAMES:
            return i18n.name(string.message, lang)
        return i18n.catalogue(lang).get(("", string.message)) or None


def command_strings(tree: app_commands.CommandTree) -> list[tuple[str, str]]:
    """Every (context, English text) the command tree sends: what the catalogue must translate."""
    found: list[tuple[str, str]] = []

    def walk(command: app_commands.Command | app_commands.Group) -> None:
        found.append((i18n.NAME_CONTEXT, command.name))
        found.append(("", command.description))
        if isinstance(command, app_commands.Group):
            for child in command.commands:
                walk(child)
            return
        for parameter in command.parameters:
            found.append((i18n.NAME_CONTEXT, parameter.name))
            found.append(("", parameter.description))
            found.extend(("", choice.name) for choice in parameter.choices)

    for command in tree.get_commands():
        if isinstance(command, (app_commands.Command, app_commands.Group)):
            walk(command)
    return [item for item in dict.fromkeys(found) if item[1] and item[1] != "…"]
