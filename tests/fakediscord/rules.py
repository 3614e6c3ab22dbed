"""Discord's rules for message and command payloads, with Discord's own error shapes.

Each check raises DiscordError carrying the status/code/message real Discord answers with, so the
bot under test sees exactly what production would show it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .models import ATTACHMENT_SIZE_LIMIT, FLAG_COMPONENTS_V2, walk_components

MAX_CONTENT = 2000
MAX_ATTACHMENTS = 10
MAX_UPLOAD_TOTAL = 25 * 1024 * 1024
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ATTACHMENT_DESCRIPTION = 1024  # alt text

BUTTON, ACTION_ROW = 2, 1
SELECT_TYPES = {3, 5, 6, 7, 8}


class DiscordError(Exception):
    """An error response: HTTP status + Discord JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None,
                 headers: dict | None = None, extra: dict | None = None, reported: bool = False) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers, self.extra = errors, headers or {}, extra or {}
        # True once a specific violation was recorded (or none is due, e.g. one expired-token use);
        # otherwise the REST layer records a generic one: every 4xx the bot earns is a bug.
        self.reported = reported

    def summary(self) -> str:
        text = f"{self.status} {self.code} {self.message}"
        return f"{text} {json.dumps(self.errors)[:400]}" if self.errors else text

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def _field_error(path: list[Any], code: str, message: str) -> dict:
    """Nest an error like Discord's Invalid Form Body: {"a": {"0": {"_errors": [...]}}}."""
    node: dict = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {str(key): node}
    return node


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if key in into and isinstance(into[key], dict) and key != "_errors":
            _merge(into[key], value)
        elif key == "_errors" and key in into:
            into[key].extend(value)
        else:
            into[key] = value


class FormErrors:
    """Collects field errors; raise_if_any() raises Discord's 400 / 50035."""

    def __init__(self, prefix: list[Any] | None = None) -> None:
        self.errors: dict = {}
        self.summary: list[str] = []
        self.prefix = prefix or []

    def add(self, path: list[Any], code: str, message: str) -> None:
        full = self.prefix + path
        _merge(self.errors, _field_error(full, code, message))
        self.summary.append(f"{'.'.join(map(str, full)) or '(body)'}: {message}")

    def raise_if_any(self) -> None:
        if self.errors:
            raise DiscordError(400, 50035, "Invalid Form Body", self.errors)


def max_length(errs: FormErrors, path: list[Any], value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_message_payload(payload: dict[str, Any], new_files: list[Any], *, prefix: list[Any] | None = None,
                          size_limit: int = ATTACHMENT_SIZE_LIMIT, final_attachment_count: int = 0) -> None:
    """Content, embeds, components and attachment limits for a create or an edit."""
    for f in new_files:
        if f.size > size_limit:
            # Discord rejects oversized uploads before looking at the form: 413 / 40005.
            raise DiscordError(413, 40005, "Request entity too large")
    if sum(f.size for f in new_files) > MAX_UPLOAD_TOTAL:
        raise DiscordError(413, 40005, "Request entity too large")

    errs = FormErrors(prefix)
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errs.add(["content"], "BASE_TYPE_STRING", "Must be a string.")
    max_length(errs, ["content"], content, MAX_CONTENT)

    embeds = payload.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        errs.add(["embeds"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        max_length(errs, ["embeds", i, "title"], embed.get("title"), 256)
        max_length(errs, ["embeds", i, "description"], embed.get("description"), 4096)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errs.add(["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        total += sum(len(str(embed.get(k) or "")) for k in ("title", "description"))
        total += sum(len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in fields)
        total += len(str((embed.get("footer") or {}).get("text", "")))
        total += len(str((embed.get("author") or {}).get("name", "")))
    if total > MAX_EMBED_TOTAL:
        errs.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")

    if final_attachment_count > MAX_ATTACHMENTS:
        errs.add(["attachments"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ATTACHMENTS} or fewer in length.")
    for i, entry in enumerate(payload.get("attachments") or []):
        description = entry.get("description") if isinstance(entry, dict) else None
        if description is not None and not isinstance(description, str):
            errs.add(["attachments", i, "description"], "BASE_TYPE_STRING", "Must be a string.")
        max_length(errs, ["attachments", i, "description"], description, MAX_ATTACHMENT_DESCRIPTION)

    if payload.get("components") is not None:
        check_components(errs, payload["components"], bool((payload.get("flags") or 0) & FLAG_COMPONENTS_V2))
    errs.raise_if_any()


def check_components(errs: FormErrors, components: list[dict[str, Any]], v2: bool) -> None:
    if not v2 and len(components) > MAX_ACTION_ROWS:
        errs.add(["components"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ACTION_ROWS} or fewer in length.")
    for r, row in enumerate(components):
        if not v2 and row.get("type") != ACTION_ROW:
            errs.add(["components", r, "type"], "UNION_TYPE_CHOICES",
                     "Top-level components must be action rows unless IS_COMPONENTS_V2 is set")
        if row.get("type") == ACTION_ROW:
            children = row.get("components") or []
            buttons = [c for c in children if c.get("type") == BUTTON]
            if len(buttons) > MAX_ROW_BUTTONS:
                errs.add(["components", r, "components"], "BASE_TYPE_MAX_LENGTH",
                         f"Must be {MAX_ROW_BUTTONS} or fewer in length.")
            if not children:
                errs.add(["components", r, "components"], "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
            if buttons and len(buttons) != len(children):
                errs.add(["components", r, "components"], "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                         "A select menu must be alone in its action row")
            for c, comp in enumerate(children):
                check_component(errs, ["components", r, "components", c], comp)
    seen: dict[str, int] = {}
    for comp in walk_components(components):
        cid = comp.get("custom_id")
        if cid is not None:
            seen[cid] = seen.get(cid, 0) + 1
    for cid, count in seen.items():
        if count > 1:
            errs.add(["components"], "COMPONENT_CUSTOM_ID_DUPLICATED",
                     f"Component custom id cannot be duplicated ({cid!r})")


def check_component(errs: FormErrors, path: list[Any], comp: dict[str, Any]) -> None:
    max_length(errs, path + ["custom_id"], comp.get("custom_id"), MAX_CUSTOM_ID)
    if comp.get("type") == BUTTON:
        max_length(errs, path + ["label"], comp.get("label"), MAX_LABEL)
        style = comp.get("style")
        if style == 5:
            if not comp.get("url"):
                errs.add(path + ["url"], "BASE_TYPE_REQUIRED", "This field is required")
        elif style != 6 and not comp.get("custom_id"):
            errs.add(path + ["custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        if not comp.get("label") and not comp.get("emoji") and style != 6:
            errs.add(path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or an emoji is required")
    elif comp.get("type") in SELECT_TYPES:
        if not comp.get("custom_id"):
            errs.add(path + ["custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        if comp.get("type") == 3 and not (1 <= len(comp.get("options") or []) <= 25):
            errs.add(path + ["options"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")


def check_not_empty(content: str, embeds: list, attachment_count: int, components: list, payload: dict) -> None:
    if not (content or embeds or attachment_count or components or payload.get("sticker_ids") or payload.get("poll")):
        raise DiscordError(400, 50006, "Cannot send an empty message")


# --- mentions ---------------------------------------------------------------------------------

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


def mention_risk(content: str | None, allowed: dict[str, Any] | None) -> str | None:
    """Why this content could ping someone, or None. Echoed prompts must not ping: the bot has to
    send allowed_mentions (parse: [] or explicit lists); Discord's default parses everything."""
    if not content:
        return None
    kinds = {
        "users": bool(USER_MENTION.search(content)),
        "roles": bool(ROLE_MENTION.search(content)),
        "everyone": bool(EVERYONE_MENTION.search(content)),
    }
    present = [k for k, v in kinds.items() if v]
    if not present:
        return None
    if allowed is None:
        return f"content mentions {present} and allowed_mentions is missing (Discord would parse all)"
    parse = allowed.get("parse") or []
    risky = [k for k in present if k in parse]
    if risky:
        return f"content mentions {risky} and allowed_mentions.parse allows them"
    return None


def mentioned_user_ids(content: str, allowed: dict[str, Any] | None) -> list[int]:
    """Users that would really be pinged (what Discord returns in `mentions`)."""
    ids = [int(x) for x in USER_MENTION.findall(content or "")]
    if allowed is None or "users" in (allowed.get("parse") or []):
        return ids
    explicit = {int(x) for x in (allowed.get("users") or []) if x is not None}
    return [i for i in ids if i in explicit]


# --- application commands ---------------------------------------------------------------------

NAME_RE = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")
# The locales Discord accepts as keys of name_localizations / description_localizations
# (discord-api-spec's AvailableLocalesEnum); any other key is a 50035.
LOCALES = frozenset({
    "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he", "hi", "hr", "hu",
    "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru", "sv-SE", "th", "tr", "uk", "vi", "zh-CN",
    "zh-TW",
})
CHOICE_TYPES = {3, 4, 10}


def check_commands(commands: Any) -> list[str]:
    """Validate a bulk-overwrite body like Discord does; raise 50035 on the first bad command."""
    if not isinstance(commands, list):
        raise DiscordError(400, 50035, "Invalid Form Body",
                           _field_error([], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
    errs = FormErrors()
    seen = set()
    for i, cmd in enumerate(commands):
        ctype = cmd.get("type") or 1
        key = (cmd.get("name"), ctype)
        if key in seen:
            errs.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME",
                     f"Application command names must be unique ({key[0]!r})")
        seen.add(key)
        _check_named(errs, [i], cmd, chat_input=(ctype == 1))
        if ctype != 1:
            if cmd.get("description"):
                errs.add([i, "description"], "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                         "Context menu commands cannot have a description")
            if cmd.get("options"):
                errs.add([i, "options"], "APPLICATION_COMMAND_OPTIONS_INVALID",
                         "Context menu commands cannot have options")
        else:
            _check_options(errs, [i, "options"], cmd.get("options") or [], parent="command")
    errs.raise_if_any()
    return errs.summary


def _check_named(errs: FormErrors, path: list[Any], item: dict[str, Any], chat_input: bool = True) -> None:
    name = item.get("name")
    if not isinstance(name, str) or not (1 <= len(name) <= 32):
        errs.add(path + ["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    elif chat_input and (name != name.lower() or not NAME_RE.match(name)):
        errs.add(path + ["name"], "APPLICATION_COMMAND_INVALID_NAME",
                 f"Command name is invalid ({name!r}): lowercase, no spaces")
    if chat_input:
        desc = item.get("description")
        if not isinstance(desc, str) or not (1 <= len(desc) <= 100):
            errs.add(path + ["description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    _check_localizations(errs, path, item, chat_input)


def _check_localizations(errs: FormErrors, path: list[Any], item: dict[str, Any], chat_input: bool) -> None:
    """name_localizations follow the name's rules (a chat command's: lowercase, the regex, 1-32),
    description_localizations the description's (1-100); keys are Discord locales."""
    for field, limit in (("name_localizations", 32), ("description_localizations", 100)):
        values = item.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            errs.add(path + [field], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        for locale, text in values.items():
            where = path + [field, locale]
            if locale not in LOCALES:
                errs.add(where, "LOCALE_INVALID", f"Invalid locale {locale!r}")
            elif not isinstance(text, str) or not (1 <= len(text) <= limit):
                errs.add(where, "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length.")
            elif field == "name_localizations" and chat_input and (text != text.lower() or not NAME_RE.match(text)):
                errs.add(where, "APPLICATION_COMMAND_INVALID_NAME",
                         f"Command name is invalid ({text!r}): lowercase, no spaces")


def _check_options(errs: FormErrors, path: list[Any], options: list[dict[str, Any]], parent: str) -> None:
    """parent: "command", "group" (subcommand group) or "sub" (subcommand)."""
    if len(options) > 25:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names = set()
    optional_seen = False
    for j, opt in enumerate(options):
        p = path + [j]
        _check_named(errs, p, opt)
        if opt.get("name") in names:
            errs.add(p + ["name"], "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")
        names.add(opt.get("name"))
        for locale, text in (opt.get("name_localizations") or {}).items():
            if (locale, text) in names:
                errs.add(p + ["name_localizations", locale], "APPLICATION_COMMANDS_DUPLICATE_NAME",
                         f"Localized option names must be unique ({text!r} in {locale})")
            names.add((locale, text))
        otype = opt.get("type")
        if otype in (1, 2):
            allowed = parent == "command" or (otype == 1 and parent == "group")
            if not allowed:
                errs.add(p + ["type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands nest too deep")
            _check_options(errs, p + ["options"], opt.get("options") or [], "group" if otype == 2 else "sub")
            continue
        if parent == "group":
            errs.add(p + ["type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                     "A subcommand group may only contain subcommands")
        if opt.get("required"):
            if optional_seen:
                errs.add(p + ["required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                         "Required options must be placed before non-required options")
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        if choices:
            if otype not in CHOICE_TYPES:
                errs.add(p + ["choices"], "APPLICATION_COMMAND_OPTIONS_CHOICES_INVALID",
                         "Choices are only valid for string/integer/number")
            if opt.get("autocomplete"):
                errs.add(p + ["autocomplete"], "APPLICATION_COMMAND_OPTIONS_AUTOCOMPLETE_INVALID",
                         "Autocomplete and choices are exclusive")
            if len(choices) > 25:
                errs.add(p + ["choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for k, choice in enumerate(choices):
                cname = choice.get("name")
                if not isinstance(cname, str) or not (1 <= len(cname) <= 100):
                    errs.add(p + ["choices", k, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                for locale, text in (choice.get("name_localizations") or {}).items():
                    where = p + ["choices", k, "name_localizations", locale]
                    if locale not in LOCALES:
                        errs.add(where, "LOCALE_INVALID", f"Invalid locale {locale!r}")
                    elif not isinstance(text, str) or not (1 <= len(text) <= 100):
                        errs.add(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                max_length(errs, p + ["choices", k, "value"], choice.get("value"), 100)
        lo, hi = opt.get("min_value"), opt.get("max_value")
        if lo is not None and hi is not None and lo > hi:
            errs.add(p + ["min_value"], "NUMBER_TYPE_MIN", "min_value must be <= max_value")
        lo, hi = opt.get("min_length"), opt.get("max_length")
        if lo is not None and not (0 <= lo <= 6000) or hi is not None and not (1 <= hi <= 6000):
            errs.add(p + ["min_length"], "NUMBER_TYPE_MAX", "min_length/max_length out of range")
