"""bot/offload.py: pure-Python CPU work (the /mod stats chart) runs in a helper process."""
from __future__ import annotations

import os

from bot import charts, offload
from bot.services.stats import DayStats, MemberUse, Stats


def _pid() -> int:
    return os.getpid()


async def test_the_chart_is_drawn_in_another_process_and_is_the_same_png():
    stats = Stats(1, [DayStats("2026-12-01", 3, 1.5, 1, 0), DayStats("2026-12-02", 5, 2.5, 0, 1)],
                  [MemberUse(7, 30)])
    try:
        assert await offload.in_process(_pid) != os.getpid()
        drawn = await offload.in_process(charts.stats_png, stats, {7: "alice"}, "Test · last 2 day(s)")
    finally:
        offload.shutdown()
    assert drawn[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn == charts.stats_png(stats, {7: "alice"}, "Test · last 2 day(s)")
