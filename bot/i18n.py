"""Languages: one gettext catalogue per language (bot/locale/<lang>/LC_MESSAGES/pixelforge.po, read
with Babel), English (the msgids themselves) as the fallback.

Two markers, both found by the extractor (Babel's, keywords `_` and `N_`; tests/test_i18n_catalogue.py):
- `N_("At most {limit} images.", limit=4)` is lazy: a `Msg`, an ordinary English `str` that also
  remembers its template and values. Services raise their domain errors with it and never
  translate; the front end says it in the member's language in one place (`bot.errors.user_message`).
- `_("...")` translates at once into the language of the reply being written (`speaking`): the
  front end's texts (bot/frontend/*texts.py, button labels).
No Discord import here: services use `N_`.
"""
from __future__ import annotations

import json
import string
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

DOMAIN = "pixelforge"
# Shipped complete (the catalogue test requires every message in each); Discord's locale codes.
LANGUAGES = ("fr", "de")
# Command and option names live apart from sentences: the same English word ("image") can be a
# name (lowercase, no spaces, <= 32 characters) and a sentence's word.
NAME_CONTEXT = "command name"

_speaking: ContextVar[str | None] = ContextVar("pixelforge_language", default=None)


class Msg(str):
    """English text that can still be said in another language: `msgid` with `params`."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> Msg:
        self = super().__new__(cls, msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # pickles (an error crossing to or from a renderer process) keep the template
        return (Msg, (self.msgid, self.params))


class Moment(str):
    """A UTC date and time written with a Babel (CLDR) pattern, its weekday and month names in the
    language of the reply that says it ("Mon 2 Jun" → "lun. 2 juin", "Mo. 2 Juni"); English now."""

    when: float
    pattern: str

    def __new__(cls, when: float, pattern: str) -> Moment:
        self = super().__new__(cls, _formatted(when, pattern, "en"))
        self.when, self.pattern = when, pattern
        return self

    def __reduce__(self):
        return (Moment, (self.when, self.pattern))

    def said(self, lang: str | None) -> str:
        return str(self) if lang is None else _formatted(self.when, self.pattern, lang)


def _formatted(when: float, pattern: str, lang: str) -> str:
    from datetime import datetime, timezone

    from babel.dates import format_datetime

    return format_datetime(datetime.fromtimestamp(when, timezone.utc), pattern, tzinfo=timezone.utc, locale=lang)


def N_(msgid: str, **params: Any) -> Msg:
    """Mark a message for translation later (English now)."""
    return Msg(msgid, params)


def _(msgid: str, **params: Any) -> str:
    """Translate a message now, into the language of the reply being written."""
    return say(Msg(msgid, params))


# A stored message (a notice waiting for the member's next reply) keeps its template and values, so
# it is said in the language of the reply that shows it; plain text (older rows) is shown as it is.
STORED = "i18n:"


def _plain(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"msgid": value.msgid, "params": {k: _plain(v) for k, v in value.params.items()}}
    if isinstance(value, Moment):
        return {"when": value.when, "pattern": value.pattern}
    return value if isinstance(value, (int, float, type(None))) else str(value)


def _revived(value: Any) -> Any:
    if isinstance(value, dict) and "when" in value:
        return Moment(value["when"], value["pattern"])
    if isinstance(value, dict):
        return Msg(value["msgid"], {k: _revived(v) for k, v in value["params"].items()})
    return value


def stored(text: str) -> str:
    """`text` for a database column: a `Msg` as its template and values (`restored` reads it back)."""
    return STORED + json.dumps(_plain(text), ensure_ascii=False) if isinstance(text, Msg) else text


def restored(text: str) -> str:
    """What `stored` wrote: a `Msg` again (English, and still translatable), or the plain text."""
    if not text.startswith(STORED):
        return text
    try:
        return _revived(json.loads(text[len(STORED):]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return text


def language(locale: object) -> str | None:
    """The shipped language for a Discord locale ("fr", "de", "de-AT" -> "de"); None: English."""
    if locale is None:
        return None
    code = str(getattr(locale, "value", locale))
    if code in LANGUAGES:
        return code
    base = code.split("-")[0]
    return base if base in LANGUAGES else None


@contextmanager
def speaking(locale: object) -> Iterator[None]:
    """Write the replies inside in `locale`'s language (English when it is not shipped)."""
    token = _speaking.set(language(locale))
    try:
        yield
    finally:
        _speaking.reset(token)


def set_language(locale: object) -> None:
    """Speak `locale` for the rest of this task (one interaction's task: the command tree and each
    view run every interaction in a task of its own)."""
    _speaking.set(language(locale))


def current() -> str | None:
    return _speaking.get()


def say(text: str, locale: object = ...) -> str:
    """`text` in `locale`'s language (default: the reply being written). A `Msg` is looked up in the
    catalogue, its values said too; any other text (member text, a value) is returned unchanged.
    In English a `Msg` is returned as it is, so it can still be said in another language later."""
    lang = current() if locale is ... else language(locale)
    if isinstance(text, Moment) and lang is not None:
        return text.said(lang)
    if lang is None or not isinstance(text, Msg):
        return text
    template = catalogue(lang).get(("", text.msgid))
    params = {key: say(value, lang) if isinstance(value, (Msg, Moment)) else value
              for key, value in text.params.items()}
    if not template:
        return text.msgid.format(**params) if params else str(text)
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):  # a broken translation never breaks a reply
        return str(text)


def name(english: str, lang: str) -> str | None:
    """A command or option name in `lang`, None when the catalogue has none."""
    return catalogue(lang).get((NAME_CONTEXT, english)) or None


def placeholders(template: str) -> set[tuple[str, str]]:
    """The `{name:spec}` fields of a template (what a translation must keep)."""
    return {(field, spec or "") for _text, field, spec, _conv in string.Formatter().parse(template)
            if field is not None}


def po_path(lang: str):
    return resources.files("bot").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")


@cache
def catalogue(lang: str) -> dict[tuple[str, str], str]:
    """{(context, msgid): translation}: entries that are translated and not fuzzy."""
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    return {(message.context or "", message.id): message.string for message in po
            if isinstance(message.id, str) and message.id and isinstance(message.string, str) and message.string
            and not message.fuzzy}
