"""The event-loop lag monitor (bot/looplag.py): a call that blocks the loop is caught while it lasts,
logged with the stack of the code that blocks, and counted in the figures."""
from __future__ import annotations

import asyncio
import gc
import logging
import time

from bot.looplag import LoopLagMonitor, percentile


def _deliberately_blocking_call(seconds: float) -> None:
    time.sleep(seconds)  # blocks the event loop: nothing else on it runs meanwhile


async def test_a_blocking_call_is_logged_with_the_stack_that_blocks(caplog):
    caplog.set_level(logging.INFO, logger="pixelforge.looplag")
    monitor = LoopLagMonitor(interval=0.02, warn_after=0.3, report_every=0).start()
    await asyncio.sleep(0.1)
    _deliberately_blocking_call(0.8)
    await asyncio.sleep(0.1)
    stats = await monitor.stop()

    blocked = [r for r in caplog.records if "event loop blocked" in r.getMessage()]
    assert len(blocked) == 1, [r.getMessage() for r in caplog.records]
    assert blocked[0].levelno == logging.WARNING
    assert "_deliberately_blocking_call" in blocked[0].getMessage()
    assert "time.sleep(seconds)" in blocked[0].getMessage()
    assert len(monitor.stalls) == 1 and "_deliberately_blocking_call" in monitor.stalls[0].stack
    assert stats.max >= 0.7
    assert stats.stalls == 1
    assert any("event loop lag since start" in r.getMessage() and "1 stall(s)" in r.getMessage()
               for r in caplog.records)


async def test_a_loop_that_yields_raises_no_warning(caplog):
    caplog.set_level(logging.INFO, logger="pixelforge.looplag")
    monitor = LoopLagMonitor(interval=0.02, warn_after=1.0, report_every=0).start()
    for _ in range(20):  # short pieces of work between awaits: the loop keeps up
        time.sleep(0.005)
        await asyncio.sleep(0.01)
    stats = await monitor.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert stats.samples > 5 and stats.stalls == 0 and stats.max < 1.0


async def test_a_stall_that_never_ends_is_still_reported(caplog):
    """The warning comes from the watchdog thread while the loop is blocked, not after it."""
    caplog.set_level(logging.INFO, logger="pixelforge.looplag")
    monitor = LoopLagMonitor(interval=0.02, warn_after=0.2, report_every=0).start()
    await asyncio.sleep(0.05)
    deadline = time.monotonic() + 5.0
    while not monitor.stalls and time.monotonic() < deadline:  # the loop is blocked right here
        time.sleep(0.01)
    assert monitor.stalls, "the watchdog did not report a stall while it lasted"
    assert "test_a_stall_that_never_ends_is_still_reported" in monitor.stalls[0].stack
    await monitor.stop(report=False)


async def test_periodic_report_line_carries_the_window_figures(caplog):
    caplog.set_level(logging.INFO, logger="pixelforge.looplag")
    monitor = LoopLagMonitor(interval=0.01, warn_after=1.0, report_every=0.15).start()
    await asyncio.sleep(0.4)
    await monitor.stop(report=False)
    lines = [r.getMessage() for r in caplog.records if "event loop lag, last" in r.getMessage()]
    assert lines and "p99" in lines[0] and "max" in lines[0]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([3.0], 0.99) == 3.0


async def test_garbage_collections_on_the_loop_thread_are_timed():
    monitor = LoopLagMonitor(interval=0.02, warn_after=1.0, report_every=0).start()
    gc.collect()  # a full collection, on the loop thread
    await asyncio.sleep(0.05)
    stats = await monitor.stop(report=False)
    assert stats.gc_full >= 1 and stats.gc_longest > 0
    assert "garbage collection on the loop: longest" in stats.text()
