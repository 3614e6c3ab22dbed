"""The numbers behind /mod stats, straight from SQLite: per UTC day of one server, the jobs asked
for, the GPU-seconds they rendered, the failures and the safety blocks; and the members who used
the most credits (what was charged less what was refunded). Discord-free; bot/charts.py draws them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from bot.database import Database

MAX_DAYS = 90
TOP_MEMBERS = 5


@dataclass(frozen=True)
class DayStats:
    day: str  # YYYY-MM-DD, UTC
    jobs: int
    gpu_seconds: float
    failures: int
    blocks: int


@dataclass(frozen=True)
class MemberUse:
    user_id: int
    credits: int  # tenths


@dataclass(frozen=True)
class Stats:
    guild_id: int
    days: list[DayStats]  # oldest first, every day of the window (zeros included)
    top: list[MemberUse]  # most credits used first

    def as_dict(self) -> dict:
        return asdict(self)


async def collect(db: Database, guild_id: int, days: int, now: float) -> Stats:
    """The last `days` UTC days up to and including today."""
    days = max(1, min(days, MAX_DAYS))
    today = datetime.fromtimestamp(now, timezone.utc).date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()
    rows = await db.fetchall(
        "SELECT date(created_at, 'unixepoch') AS day, COUNT(*) AS jobs,"
        " COALESCE(SUM(render_seconds), 0.0) AS gpu_seconds,"
        " SUM(status = 'failed') AS failures, SUM(status = 'blocked') AS blocks"
        " FROM jobs WHERE guild_id = ? AND created_at >= ? GROUP BY day", (guild_id, since))
    by_day = {r["day"]: r for r in rows}
    series = []
    for n in range(days):
        day = (first + timedelta(days=n)).isoformat()
        r = by_day.get(day)
        series.append(DayStats(day, r["jobs"], round(r["gpu_seconds"], 3), r["failures"], r["blocks"]) if r
                      else DayStats(day, 0, 0.0, 0, 0))
    top = await db.fetchall(
        "SELECT user_id, SUM(charged - refunded) AS used FROM jobs WHERE guild_id = ? AND created_at >= ?"
        " GROUP BY user_id HAVING used > 0 ORDER BY used DESC, user_id LIMIT ?", (guild_id, since, TOP_MEMBERS))
    return Stats(guild_id, series, [MemberUse(r["user_id"], r["used"]) for r in top])
