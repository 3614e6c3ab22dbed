"""Credits and quota periods: amounts and calendar arithmetic shared by settings, services and texts.

Amounts are integer tenths of a credit everywhere (SQLite, the ledger, settings): prices
(bot/prices.py) are rounded up to one decimal, so tenths are exact and sums never drift as floats would. Only the
edges (settings, command options, texts) convert.

Periods reset at fixed UTC boundaries: every day, every Monday, or every 1st of the month, at
QUOTA_RESET_HOUR. Nothing runs at the boundary: an account notices that its stored period start
is older than the current one the next time it is touched, and resets then (a "period" ledger row).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from bot.i18n import N_, Moment

TENTHS = 10
PERIODS = ("day", "week", "month")
UNLIMITED = "unlimited"


def parse_credits(text: str, *, allow_unlimited: bool = False) -> int | None:
    """"12.5" -> 125 tenths; "unlimited" -> None (where allowed). Raises ValueError on anything else."""
    raw = text.strip().lower()
    if allow_unlimited and raw == UNLIMITED:
        return None
    value = float(raw)  # ValueError for junk
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not a credit amount: {text!r}")
    tenths = round(value * TENTHS)
    if abs(tenths - value * TENTHS) > 1e-6:
        raise ValueError(f"credits have one decimal at most: {text!r}")
    return tenths


def to_tenths(credits: float) -> int:
    """A command option's credits (a float) to tenths, to the nearest tenth."""
    return round(credits * TENTHS)


def fmt(tenths: int | None) -> str:
    """125 -> "12.5"; None -> "unlimited"."""
    if tenths is None:
        return UNLIMITED
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), TENTHS)
    return f"{sign}{whole}.{tenth}"


def partial(charged: int, done: int, total: int) -> int:
    """What a job cancelled after `done` of `total` steps pays of `charged` (rounded up)."""
    if total <= 0:
        return 0
    done = max(0, min(done, total))
    return min(charged, -(-charged * done // total))


# ---- periods ----

def period_start(now: float, period: str, reset_hour: int) -> float:
    """Unix time at which the period containing `now` began."""
    moment = datetime.fromtimestamp(now, timezone.utc)
    at_hour = moment.replace(hour=reset_hour, minute=0, second=0, microsecond=0)
    if period == "day":
        start = at_hour if at_hour <= moment else at_hour - timedelta(days=1)
    elif period == "week":  # weeks start on Monday, as ISO weeks do
        start = at_hour - timedelta(days=moment.weekday())
        if start > moment:
            start -= timedelta(days=7)
    elif period == "month":
        start = at_hour.replace(day=1)
        if start > moment:
            start = _add_months(start, -1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return start.timestamp()


def next_reset(now: float, period: str, reset_hour: int) -> float:
    """Unix time of the first reset after `now`."""
    start = datetime.fromtimestamp(period_start(now, period, reset_hour), timezone.utc)
    if period == "day":
        end = start + timedelta(days=1)
    elif period == "week":
        end = start + timedelta(days=7)
    else:
        end = _add_months(start, 1)
    return end.timestamp()


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day and hour `months` later; only used on the 1st, which every month has."""
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def until(when: float, now: float) -> str:
    """"in 5 h 12 min (00:00 UTC)", "in 3 days 4 h (Mon 2 Jun 00:00 UTC)": plain text, so a service's
    message reads the same wherever it is shown."""
    left = max(0, int(when - now))
    moment = datetime.fromtimestamp(when, timezone.utc)
    if left < 3600:
        span = f"{max(1, left // 60)} min"
    elif left < 86400:
        span = f"{left // 3600} h {left % 3600 // 60} min"
    else:
        days, hours = left // 86400, left % 86400 // 3600
        if hours:
            span = N_("{n} day {hours} h", n=days, hours=hours) if days == 1 else N_("{n} days {hours} h", n=days,
                                                                                       hours=hours)
        else:
            span = N_("{n} day", n=days) if days == 1 else N_("{n} days", n=days)
    # Weekday and month names in the reply's language (Babel's CLDR names); "Mon 2 Jun 14:00" in English.
    stamp = moment.strftime("%H:%M UTC") if left < 86400 else Moment(when, "EEE d MMM HH:mm 'UTC'")
    return N_("in {span} ({stamp})", span=span, stamp=stamp)
