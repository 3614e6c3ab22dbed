"""The single words a translated sentence is built around (issue 15 §8): quota periods, job statuses
and kinds, the moderator log's action names. What is stored stays English (the database, the log
lines, the web front end); these say it in the reply's language. No Discord import: services use
them too."""
from __future__ import annotations

from bot.i18n import N_, Msg

PERIODS = {"day": N_("day"), "week": N_("week"), "month": N_("month")}

JOB_STATUSES = {
    "queued": N_("queued"), "running": N_("running"), "done": N_("done"), "delivered": N_("delivered"),
    "failed": N_("failed"), "cancelled": N_("cancelled"), "expired": N_("expired"), "blocked": N_("blocked"),
}

JOB_KINDS = {
    "imagine": N_("imagine"), "reroll": N_("reroll"), "variation": N_("variation"), "upscale": N_("upscale"),
    "outpaint": N_("outpaint"), "region": N_("region"),
}

# The `action` column of moderator_actions, as written by the services (bot/services/moderation.py,
# quotas.py, review.py, safety_records.py); an action missing here is shown as it was recorded.
AUDIT_ACTIONS = {
    "ban": N_("ban"), "unban": N_("unban"), "pause": N_("pause"), "resume": N_("resume"),
    "delete result": N_("delete result"), "cancel job": N_("cancel job"),
    "quota set": N_("quota set"), "quota grant": N_("quota grant"), "quota reset": N_("quota reset"),
    "approve flagged image": N_("approve flagged image"), "approve reported image": N_("approve reported image"),
    "delete flagged image": N_("delete flagged image"), "delete reported image": N_("delete reported image"),
    "safety nsfw": N_("safety nsfw"), "safety threshold": N_("safety threshold"),
    "safety logchannel": N_("safety logchannel"), "safety block": N_("safety block"),
    "safety allow": N_("safety allow"),
    "view mod log": N_("view mod log"), "view stats": N_("view stats"), "view storage": N_("view storage"),
    "view safety log": N_("view safety log"), "view safety terms": N_("view safety terms"),
}


def _word(table: dict[str, Msg], value: object) -> str:
    key = str(getattr(value, "value", value))
    return table.get(key, key)


def period(value: object) -> str:
    """"day"/"week"/"month", translatable."""
    return _word(PERIODS, value)


def status(value: object) -> str:
    return _word(JOB_STATUSES, value)


def kind(value: object) -> str:
    return _word(JOB_KINDS, value)


def action(value: str) -> str:
    return _word(AUDIT_ACTIONS, value)
