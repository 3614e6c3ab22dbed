"""Event-loop lag monitor: how late the event loop runs what is due, and what held it up.

A task sleeps `interval` seconds again and again; each time it wakes it records how much later than
asked it woke (the oversleep: the time anything on the loop ran without yielding, plus the time
the loop thread waited for a CPU or for the GIL). It keeps every sample of the current report
window (p50, p99, max) and the all-time maximum.

A stall is caught while it lasts: a watchdog thread looks at the time of the task's last wake-up
every `interval`; once the loop has not woken for `warn_after` seconds it reads the event-loop
thread's stack (`sys._current_frames`) and logs one warning with it — the code that is blocking
the loop, not whatever runs after it. A stall that never ends (a deadlock) is reported too.

discord.py's gateway heartbeat runs on this loop: a stall of more than the heartbeat interval
(~41 s) makes Discord drop the connection; long before that the bot's replies miss the 3 s limit.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("pixelforge.looplag")

DEFAULT_INTERVAL = 0.05  # seconds between wake-ups: 20 samples a second, negligible cost
DEFAULT_WARN_AFTER = 1.0  # a stall this long is logged with the loop thread's stack
DEFAULT_REPORT_EVERY = 600.0  # a summary line this often (0: only when the monitor stops)
_MAX_SAMPLES = 100_000  # one report window's samples at most (~80 min at 20 a second)
_STACK_LIMIT = 30  # frames of the blocked stack in the warning


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values` by nearest rank; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class LagStats:
    """Figures of one window, in seconds."""

    samples: int
    p50: float
    p99: float
    max: float
    stalls: int  # stalls longer than warn_after
    gc_longest: float = 0.0  # the longest garbage collection on the loop thread
    gc_full: int = 0  # full (generation 2) collections on the loop thread

    def text(self) -> str:
        return (f"p50 {self.p50 * 1000:.1f} ms, p99 {self.p99 * 1000:.1f} ms, max {self.max * 1000:.0f} ms over "
                f"{self.samples} samples; {self.stalls} stall(s) over the warning limit; garbage collection "
                f"on the loop: longest {self.gc_longest * 1000:.0f} ms, {self.gc_full} full")


@dataclass(frozen=True)
class Stall:
    """One stall the watchdog caught: how long it had lasted then, and the loop thread's stack."""

    seconds: float
    stack: str


class LoopLagMonitor:
    """Start it on the loop to watch (`start()`), stop it at the end (`stop()` logs the summary)."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, warn_after: float = DEFAULT_WARN_AFTER,
                 report_every: float = DEFAULT_REPORT_EVERY, clock: Callable[[], float] = time.monotonic):
        self.interval = float(interval)
        self.warn_after = float(warn_after)
        self.report_every = float(report_every)
        self.clock = clock
        self._samples: list[float] = []
        self._window_stalls = 0
        self.total_samples = 0
        self.total_stalls = 0
        self.max_lag = 0.0
        self.stalls: list[Stall] = []  # the last few caught, newest last (tests and the bench read them)
        self._beat = 0.0  # clock() of the task's last wake-up (read by the watchdog thread)
        self._caught_beat = -1.0  # the beat whose stall was already reported
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._loop_thread: int | None = None
        self._window_started = 0.0
        # The cyclic garbage collector stops the thread that triggered it: on the loop thread a full
        # collection of a big heap is a stall no stack shows (it lands wherever an allocation was).
        self._gc_started = 0.0
        self._gc_longest = 0.0
        self._gc_full = 0

    # ---- lifecycle ----
    def start(self) -> LoopLagMonitor:
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._beat = self._window_started = self.clock()
        self._halt.clear()
        self._task = loop.create_task(self._tick(), name="loop-lag-monitor")
        self._thread = threading.Thread(target=self._watch, name="loop-lag-watchdog", daemon=True)
        self._thread.start()
        gc.callbacks.append(self._on_gc)
        return self

    async def stop(self, report: bool = True) -> LagStats:
        """Stop watching; logs (if `report`) and returns the figures of the whole run."""
        self._halt.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
        stats = self.overall()
        if report:
            log.info("event loop lag since start: %s", stats.text())
        return stats

    # ---- figures ----
    def window(self) -> LagStats:
        """The current report window's figures."""
        samples = self._samples
        return LagStats(len(samples), percentile(samples, 0.5), percentile(samples, 0.99),
                        max(samples, default=0.0), self._window_stalls, self._gc_longest, self._gc_full)

    def overall(self) -> LagStats:
        """p50/p99 of the current window (all of the run when no periodic report was made), with the
        run's own maximum and stall count."""
        w = self.window()
        return LagStats(self.total_samples, w.p50, w.p99, self.max_lag, self.total_stalls, w.gc_longest, w.gc_full)

    def reset_window(self) -> None:
        self._samples = []
        self._window_stalls = 0
        self._gc_longest, self._gc_full = 0.0, 0
        self._window_started = self.clock()

    def record(self, lag: float) -> None:
        lag = max(0.0, lag)
        if len(self._samples) < _MAX_SAMPLES:
            self._samples.append(lag)
        self.total_samples += 1
        self.max_lag = max(self.max_lag, lag)
        if lag >= self.warn_after:
            self._window_stalls += 1
            self.total_stalls += 1

    def _on_gc(self, phase: str, info: dict) -> None:
        if threading.get_ident() != self._loop_thread:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        self._gc_longest = max(self._gc_longest, took)
        if info.get("generation") == 2:
            self._gc_full += 1

    # ---- the two watchers ----
    async def _tick(self) -> None:
        while True:
            asked = self.clock()
            await asyncio.sleep(self.interval)
            now = self.clock()
            self._beat = now
            lag = now - asked - self.interval
            self.record(lag)
            if lag >= self.warn_after:
                log.warning("event loop stall ended after %.2f s", lag + self.interval)
            if self.report_every > 0 and now - self._window_started >= self.report_every:
                log.info("event loop lag, last %.0f s: %s", now - self._window_started, self.window().text())
                self.reset_window()

    def _watch(self) -> None:
        """Watchdog thread: catch a stall while it lasts and say what the loop thread is running."""
        period = max(0.01, min(self.interval, self.warn_after / 4))
        while not self._halt.wait(period):
            beat = self._beat
            late = self.clock() - beat
            if late < self.warn_after + self.interval or beat == self._caught_beat:
                continue
            self._caught_beat = beat
            stall = Stall(late, self.loop_stack())
            self.stalls = [*self.stalls[-9:], stall]
            log.warning("event loop blocked for %.2f s so far; the loop thread is running:\n%s", late, stall.stack)

    def loop_stack(self) -> str:
        """The event-loop thread's current stack, innermost call last."""
        frame = sys._current_frames().get(self._loop_thread) if self._loop_thread is not None else None
        if frame is None:
            return "  (the event-loop thread is gone)"
        return "".join(traceback.format_stack(frame, limit=_STACK_LIMIT)).rstrip()
