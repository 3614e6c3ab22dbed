"""Throttled, non-overlapping status updates for job messages.

Discord allows a message to be edited only every couple of seconds before 429s start, and
an update that arrives while the previous edit is still in flight is stale anyway. So per job:
at most one update in flight, at most one every `interval` seconds, and only the newest
pending update is kept (it is sent when the interval allows; intermediate ones are dropped).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Update = Callable[[], Awaitable[None]]


class ProgressNotifier:
    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last_sent: dict[int, float] = {}
        self._pending: dict[int, Update] = {}
        self._workers: dict[int, asyncio.Task] = {}
        self._in_flight: set[int] = set()

    def mark_sent(self, job_id: int) -> None:
        """The job's message was just written by someone else (the first reply): wait a full
        interval before the next update."""
        self._last_sent[job_id] = self.clock()

    def post(self, job_id: int, update: Update) -> None:
        """Schedule `update` for this job's message, replacing any not yet sent."""
        self._pending[job_id] = update
        if job_id not in self._workers or self._workers[job_id].done():
            self._workers[job_id] = asyncio.get_running_loop().create_task(self._drain(job_id))

    async def _drain(self, job_id: int) -> None:
        while job_id in self._pending:
            wait = self._last_sent.get(job_id, -1e18) + self.interval - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            update = self._pending.pop(job_id, None)
            if update is None:
                break
            self._in_flight.add(job_id)
            try:
                await update()
            except Exception:  # a failed progress edit must never break rendering
                log.warning("progress update for job %s failed", job_id, exc_info=True)
            finally:
                self._in_flight.discard(job_id)
                # Counted from when the edit ended, not when it was due: an update can wait (for
                # the job's first reply, for a slow request) and must not land right before the
                # next one — Discord allows 5 edits of a message per 5 s.
                self._last_sent[job_id] = self.clock()

    async def finish(self, job_id: int) -> None:
        """Drop pending updates and wait for an in-flight one, before the final edit goes out."""
        self._pending.pop(job_id, None)
        worker = self._workers.pop(job_id, None)
        if worker is not None and not worker.done():
            if job_id in self._in_flight:
                # Let the edit land first: cancelling it could let it arrive after the final one.
                await asyncio.gather(worker, return_exceptions=True)
            else:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
        self._last_sent.pop(job_id, None)


class FirstReplyGate:
    """What the front end shows of a job waits until the job's first reply is out.

    JobService.submit queues a job before Discord has its reply (admission order), so a free
    worker may already be rendering it: its progress and result must not reach Discord first."""

    def __init__(self):
        self._gates: dict[int, asyncio.Future[bool]] = {}

    def hold(self, job_id: int) -> None:
        self._gates[job_id] = asyncio.get_running_loop().create_future()

    def release(self, job_id: int, shown: bool) -> None:
        """The first reply is out (shown) or failed. A failed one keeps its closed gate, so that
        nothing queued for the job later is shown either (rare: one small entry each)."""
        gate = self._gates.pop(job_id, None) if shown else self._gates.get(job_id)
        if gate is not None and not gate.done():
            gate.set_result(shown)

    async def opened(self, job_id: int) -> bool:
        """Wait for the job's first reply; True if updates may be shown."""
        gate = self._gates.get(job_id)
        return True if gate is None else await asyncio.shield(gate)
