"""No secret reaches the log, at any level, from any library.

Secrets the bot handles: its own token, the tokens of interactions and webhooks (credentials for
15 minutes), and a Hugging Face token if one is set. `install()` puts a filter on the log handlers
that rewrites every record, after formatting its arguments and its traceback, with each secret
replaced by `<redacted>`. It knows secrets two ways:

- by shape: the path segment after `/interactions/<id>/` and `/webhooks/<id>/` (how discord.py's
  request URLs carry interaction tokens), `"token": "..."` in logged JSON, `Authorization: Bot ...`
  headers, and anything shaped like a Discord bot token;
- by value: every string given to `register_secret()` (the bot token at start; the front end adds
  each interaction token it receives), wherever it appears.

Besides the filter, the loggers that print secrets by design stay at INFO or above: discord.py
logs request URLs and gateway payloads at DEBUG, aiosqlite logs every statement with its
parameters (the job rows hold interaction tokens) at DEBUG.
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time

from bot.models import INTERACTION_TOKEN_LIFETIME  # noqa: F401  (re-exported for callers)

REDACTED = "<redacted>"
# Libraries whose DEBUG output is secrets by design; never below INFO, whatever LOG_LEVEL says.
QUIET_LOGGERS = ("discord", "aiosqlite")
# Shorter values would also match innocent text; every real token is far longer.
_MIN_SECRET_LENGTH = 8

_SHAPES = (
    # discord.py: POST /interactions/{id}/{token}/callback, /webhooks/{application_id}/{token}/...
    re.compile(r"(/(?:interactions|webhooks)/\d+/)([^/?#\s'\"]+)"),
    # a token in logged JSON or a dict repr: "token": "...", 'token': '...'
    re.compile(r"""(['"](?:token|access_token)['"]\s*:\s*['"])([^'"]+)"""),
    # an Authorization header
    re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?(?:Bot|Bearer)\s+)([\w.\-]+)", re.IGNORECASE),
    # a Discord bot token: base64 user id . timestamp . HMAC
    re.compile(r"()\b([\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,})\b"),
)

# An interaction token is a credential for 15 minutes (INTERACTION_TOKEN_LIFETIME); afterwards it
# is worthless and the registry forgets it, so the registry stays as small as the live interactions.

_lock = threading.Lock()
_expiry: dict[str, float] = {}  # secret -> time.monotonic() after which it is forgotten (inf: never)
_ordered: tuple[str, ...] = ()  # the same secrets, longest first (one containing another goes whole)


def register_secret(value: str | None, lifetime: float | None = None) -> None:
    """From now on `value` never appears in the log (for `lifetime` seconds; None: for good).

    The front end calls `register_secret(interaction.token, INTERACTION_TOKEN_LIFETIME)` for each
    interaction it receives. Cheap; safe from any thread."""
    global _ordered
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    now = time.monotonic()
    expires = math.inf if lifetime is None else now + lifetime
    with _lock:
        if _expiry.get(value, -math.inf) >= expires:
            return
        _expiry[value] = expires
        for secret in [s for s, until in _expiry.items() if until < now]:
            del _expiry[secret]
        _ordered = tuple(sorted(_expiry, key=len, reverse=True))


def forget_secrets() -> None:
    """For tests: start from an empty registry."""
    global _ordered
    with _lock:
        _expiry.clear()
        _ordered = ()


def redact(text: str) -> str:
    if not text:
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for shape in _SHAPES:
        text = shape.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (arguments merged in), traceback and stack with secrets redacted."""

    def __init__(self) -> None:
        super().__init__()
        self._format_exception = logging.Formatter().formatException

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: keep its pieces, still redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatted here so that the handler's formatter reuses the redacted text.
            record.exc_text = self._format_exception(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(level: int | str, handlers: list[logging.Handler] | None = None) -> None:
    """Redact on `handlers` (default: the root logger's) and keep QUIET_LOGGERS at INFO or above."""
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, numeric))
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
