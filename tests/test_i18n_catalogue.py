"""The message catalogues (bot/locale/*/LC_MESSAGES/pixelforge.po): every message the code and the
command tree send has a translation in every shipped language, translations keep the English
placeholders, and localized command names obey Discord's rules."""
from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import discord
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from discord.ext import commands

from bot import i18n
from bot.frontend.app import EXTENSIONS
from bot.frontend.moderation import MOD
from bot.frontend.translator import CatalogueTranslator, command_strings
from tests.fakediscord.rules import NAME_RE, check_commands

ROOT = Path(__file__).resolve().parent.parent


def code_messages() -> list[tuple[str, str]]:
    """Every `_("…")` and `N_("…")` in the product code, with Babel's extractor."""
    found = []
    for folder in ("bot", "cogs"):
        for _file, _line, message, _comments, context in extract_from_dir(
                str(ROOT / folder), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}):
            assert isinstance(message, str), f"{folder}/{_file}:{_line}: a marker whose first argument is not a string"
            found.append((context or "", message))
    return found


async def bare_tree() -> commands.Bot:
    """The bot's command tree as setup_hook builds it, without connecting anywhere."""
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    if MOD.commands:
        bot.tree.add_command(MOD, override=True)
    return bot


@pytest.fixture(scope="module")
def tree_strings():
    async def build():
        return command_strings((await bare_tree()).tree)

    return asyncio.run(build())


def read_entries(po_bytes: bytes, lang: str) -> dict[tuple[str, str], str]:
    """{(context, msgid): translation} for the entries that count: translated and not fuzzy."""
    po = read_po(io.BytesIO(po_bytes), locale=lang)
    return {(m.context or "", m.id): m.string for m in po if m.id and m.string and not m.fuzzy}


def missing_messages(needed: list[tuple[str, str]], entries: dict[tuple[str, str], str]) -> list[str]:
    return [f"{'[' + context + '] ' if context else ''}{msgid!r}" for context, msgid in dict.fromkeys(needed)
            if not entries.get((context, msgid))]


def po_bytes(lang: str) -> bytes:
    return i18n.po_path(lang).read_bytes()


def test_the_code_marks_its_messages_and_the_tree_has_its_strings(tree_strings):
    code = code_messages()
    assert ("", "That job no longer exists.") in code  # a service's domain error (N_)
    assert ("", "Re-roll") in code  # a button label (_)
    assert (i18n.NAME_CONTEXT, "imagine") in tree_strings
    assert ("", "Create images from a text prompt (and an image)") in tree_strings
    assert ("", "16:9 wide") in tree_strings  # a choice name


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_has_a_translation_in_every_shipped_language(lang, tree_strings):
    missing = missing_messages(code_messages() + tree_strings, read_entries(po_bytes(lang), lang))
    assert not missing, (f"bot/locale/{lang}/LC_MESSAGES/pixelforge.po lacks {len(missing)} message(s) "
                         "(add a msgid/msgstr entry for each, not fuzzy):\n" + "\n".join(missing))


def test_the_check_fails_when_a_catalogue_misses_or_fuzzes_a_message(tree_strings):
    needed = code_messages() + tree_strings
    po = read_po(io.BytesIO(po_bytes("fr")), locale="fr")
    removed, fuzzed = "That job no longer exists.", "Re-roll"
    po.delete(removed)
    po[fuzzed].flags.add("fuzzy")
    copy = io.BytesIO()
    write_po(copy, po)
    missing = missing_messages(needed, read_entries(copy.getvalue(), "fr"))
    assert sorted(missing) == sorted([repr(removed), repr(fuzzed)])


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_each_translation_keeps_the_english_placeholders(lang):
    wrong = [f"{msgid!r} -> {text!r}" for (_context, msgid), text in read_entries(po_bytes(lang), lang).items()
             if i18n.placeholders(msgid) != i18n.placeholders(text)]
    assert not wrong, "\n".join(wrong)


def test_the_placeholder_check_sees_a_lost_or_renamed_field():
    assert i18n.placeholders("{n} of {limit:g}") == {("n", ""), ("limit", "g")}
    assert i18n.placeholders("{n} sur {limite:g}") != i18n.placeholders("{n} of {limit:g}")
    assert i18n.placeholders("{n} sur {limit}") != i18n.placeholders("{n} of {limit:g}")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
async def test_every_localized_command_name_and_description_obeys_discords_rules(lang):
    bot = await bare_tree()
    await bot.tree.set_translator(CatalogueTranslator())
    payload = [await command.get_translated_payload(bot.tree, bot.tree.translator)
               for command in bot.tree.get_commands()]
    check_commands(payload)  # what the test server checks on every sync (50035 otherwise)

    def walk(item: dict, seen: list[str]) -> None:
        names = item.get("name_localizations") or {}
        descriptions = item.get("description_localizations") or {}
        assert set(names) <= {lang, *i18n.LANGUAGES} and set(descriptions) <= set(i18n.LANGUAGES)
        name = names.get(lang)
        assert name, f"no {lang} name for {item['name']!r}"
        assert name == name.lower() and NAME_RE.match(name) and len(name) <= 32, name
        if "description" in item:
            assert 1 <= len(descriptions.get(lang, "")) <= 100, (item["name"], descriptions.get(lang))
        for choice in item.get("choices") or []:
            assert 1 <= len((choice.get("name_localizations") or {}).get(lang, "")) <= 100, choice
        seen.append(name)
        children: list[str] = []
        for option in item.get("options") or []:
            walk(option, children)
        assert len(children) == len(set(children)), f"two options share a {lang} name: {children}"

    top: list[str] = []
    for command in payload:
        walk(command, top)
    assert len(top) == len(set(top)), f"two commands share a {lang} name: {top}"


def test_the_fake_discord_refuses_a_bad_localization():
    from tests.fakediscord.rules import DiscordError

    good = {"name": "imagine", "description": "Create images", "type": 1}
    check_commands([{**good, "name_localizations": {"fr": "imagine"}}])
    for bad in ({"name_localizations": {"fr": "Imaginer"}}, {"name_localizations": {"fr": "deux mots"}},
                {"name_localizations": {"fr": "x" * 33}}, {"name_localizations": {"xx": "imagine"}},
                {"description_localizations": {"de": "x" * 101}}):
        with pytest.raises(DiscordError):
            check_commands([{**good, **bad}])


def test_a_message_is_said_in_the_shipped_language_and_english_otherwise():
    refusal = i18n.N_("Count must be between 1 and {max}.", max=4)
    assert refusal == "Count must be between 1 and 4."  # an English str wherever it goes
    assert i18n.say(refusal, "fr") == "Le nombre doit être entre 1 et 4."
    assert i18n.say(refusal, "de") == "Die Anzahl muss zwischen 1 und 4 liegen."
    for other in ("en-US", "en-GB", "ja", None, "zz"):
        assert i18n.say(refusal, other) == "Count must be between 1 and 4."
    assert i18n.say("a member's prompt", "fr") == "a member's prompt"  # member text is never translated
    with i18n.speaking("de"):
        assert i18n._("Re-roll") == "Neu würfeln"
    assert i18n._("Re-roll") == "Re-roll"


def test_a_domain_error_keeps_its_message_through_a_pickle():
    import pickle

    from bot.errors import ValidationError, user_message

    error = pickle.loads(pickle.dumps(ValidationError(i18n.N_("Count must be between 1 and {max}.", max=4))))
    assert user_message(error, "de") == "Die Anzahl muss zwischen 1 und 4 liegen."


def test_values_that_are_messages_are_said_too():
    why = i18n.N_("one model name (no spaces)")
    refusal = i18n.N_("`--{name} {value}` is not valid: --{name} takes {why}.", name="model", value="a b", why=why)
    assert i18n.say(refusal, "fr") == "`--model a b` n'est pas valide : --model attend un nom de modèle (sans espaces)."


def test_no_product_code_formats_a_marker_early():
    # `_(f"…")` would extract nothing and translate nothing: the template must be a literal.
    pattern = re.compile(r"\bN?_\(\s*f[\"']")
    offenders = [str(path.relative_to(ROOT)) for folder in ("bot", "cogs") for path in (ROOT / folder).rglob("*.py")
                 if pattern.search(path.read_text(encoding="utf-8"))]
    assert not offenders
