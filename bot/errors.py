"""Domain errors. Each carries the sentence a user sees; cogs translate them in one place
(`user_message`), so no service ever formats Discord text."""
from __future__ import annotations

from bot.i18n import N_, say


class BotError(Exception):
    """Base for errors whose message is safe and useful to show the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.user_message = message


class ValidationError(BotError):
    """The request's parameters are out of range; nothing was queued."""


class AdmissionRefused(BotError):
    """Valid request, but a limit (queue size, duplicate click, permissions) refused it."""


class NotAllowed(BotError):
    """The user may not do this (e.g. delete someone else's image)."""


class QuotaExceeded(AdmissionRefused):
    """The member's credits do not cover the job; nothing was charged or queued."""


class Banned(NotAllowed):
    """A moderator banned the member from the bot in this server."""


class NotFound(BotError):
    """The job or image no longer exists."""


class ConfigError(Exception):
    """A setting is missing or invalid; the bot prints one line and exits non-zero."""


class RenderError(Exception):
    """The renderer could not produce a batch.

    kind is one of: "oom", "crash", "hang", "error", "cancelled", "shutdown" (the bot is stopping:
    the job is requeued without counting an attempt).
    """

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def user_message(exc: BaseException, locale: object = ...) -> str:
    """The one place a failure becomes words for a Discord user, in `locale`'s language (default: the
    reply being written, bot/i18n.py; English keeps the message translatable for a later reply)."""
    if isinstance(exc, BotError):
        return say(exc.user_message, locale)
    if isinstance(exc, RenderError):
        return say({
            "oom": N_("The GPU ran out of memory on this job. Try a smaller size or fewer images."),
            "crash": N_("The renderer crashed on this job and was restarted."),
            "hang": N_("The renderer stopped making progress on this job and was restarted."),
            "cancelled": N_("Cancelled."),
            "shutdown": N_("The bot restarted while rendering this job; it will resume."),
        }.get(exc.kind, N_("Rendering failed: {message}", message=exc.message)), locale)
    return say(N_("Something went wrong on our side; nothing was charged. Please try again."), locale)


class ContentBlocked(BotError):
    """Content safety refused the request (the message names the category, never the matched word)."""


class StartRefused(Exception):
    """The bot cannot start as configured for a reason found at start (a taken web port): `python -m
    bot` prints the message as one line, without a traceback, and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
