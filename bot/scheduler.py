"""The fair priority queue in front of the renderer.

Policy (also in README):
1. Priority classes first: a lower `Priority` always runs before a higher one.
2. Inside a class, start-time fair queuing between users: each job gets a tag
   `max(class clock, tag of the user's previous job + 1)` and the smallest tag runs next
   (ties: admission order). A user's n-th waiting job therefore waits behind every other
   user's (n-1)-th, never behind all of somebody's backlog, and a user's own jobs keep their order.
   The class clock is the tag of the last job started, so a newcomer joins the current round
   instead of jumping ahead of everyone who waited, and no job starves.
3. Batching may pull a compatible job forward, but only from the next `window` jobs in fair order.

The queue is in memory; SQLite is the source of truth and the queue is rebuilt from it at start.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterator

from bot.models import Job


@dataclass(order=True)
class _Entry:
    priority: int
    tag: int
    seq: int
    job: Job = field(compare=False)
    live: bool = field(default=True, compare=False)


class FairScheduler:
    def __init__(self, batch_window: int = 16):
        self._heap: list[_Entry] = []
        self._entries: dict[int, _Entry] = {}
        self._clock: dict[int, int] = {}  # priority class -> tag of the last job started
        self._last_tag: dict[tuple[int, int], int] = {}  # (class, user) -> last tag given
        self._seq = itertools.count()
        self._retry_seq = itertools.count(1)
        self.batch_window = batch_window

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._entries

    def push(self, job: Job, retry: bool = False) -> None:
        """Queue a job. `retry` (a job whose render was interrupted) puts it at the front of the
        current round instead of behind the user's newer jobs."""
        if job.id in self._entries:
            return
        cls = int(job.priority)
        key = (cls, job.user_id)
        if retry:
            tag = self._clock.get(cls, 0)
            seq = -next(self._retry_seq)  # negative: ahead of every job of the round
        else:
            seq = next(self._seq)
            tag = self._next_tag(cls, job.user_id)
            self._last_tag[key] = tag
        entry = _Entry(cls, tag, seq, job)
        self._entries[job.id] = entry
        heapq.heappush(self._heap, entry)

    def _next_tag(self, cls: int, user_id: int) -> int:
        """The round a new job of this user would join in this class."""
        return max(self._clock.get(cls, 0), self._last_tag.get((cls, user_id), -1) + 1)

    def remove(self, job_id: int) -> Job | None:
        """Take a queued job out (cancel, expiry). Lazy: the heap skips dead entries."""
        entry = self._entries.pop(job_id, None)
        if entry is None:
            return None
        entry.live = False
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._entries):
            self._heap = [e for e in self._heap if e.live]
            heapq.heapify(self._heap)
        return entry.job

    def _pop_entry(self) -> _Entry | None:
        while self._heap:
            entry = heapq.heappop(self._heap)
            if entry.live:
                return entry
        return None

    def _started(self, entry: _Entry, advance_clock: bool = True) -> Job:
        del self._entries[entry.job.id]
        entry.live = False
        if advance_clock:  # only the head moves the clock: a job pulled into a batch must not
            self._clock[entry.priority] = max(self._clock.get(entry.priority, 0), entry.tag)
        return entry.job

    def pop(self) -> Job | None:
        entry = self._pop_entry()
        return self._started(entry) if entry else None

    def pop_batch(
        self,
        max_images: int,
        key: Callable[[Job], Hashable] = Job.batch_key,
        can_batch: Callable[[Job], bool] = lambda job: True,
    ) -> list[Job]:
        """The next job, plus compatible jobs from the next `batch_window` in fair order,
        up to `max_images` images in all. Jobs left behind keep their place."""
        head = self._pop_entry()
        if head is None:
            return []
        batch = [self._started(head)]
        images = head.job.params.count
        if max_images <= images or not can_batch(head.job):
            return batch
        wanted = key(head.job)
        skipped: list[_Entry] = []
        for _ in range(self.batch_window):
            entry = self._pop_entry()
            if entry is None:
                break
            job = entry.job
            if (
                entry.priority == head.priority
                and images + job.params.count <= max_images
                and can_batch(job)
                and key(job) == wanted
            ):
                batch.append(self._started(entry, advance_clock=False))
                images += job.params.count
                if images >= max_images:
                    break
            else:
                skipped.append(entry)
        for entry in skipped:
            heapq.heappush(self._heap, entry)
        return batch

    def ordered(self, limit: int | None = None) -> list[Job]:
        """Queued jobs in the order they would run (the first `limit`; O(n) for a small limit)."""
        live = (e for e in self._heap if e.live)
        entries = sorted(live) if limit is None else heapq.nsmallest(limit, live)
        return [e.job for e in entries]

    def position(self, job_id: int) -> int | None:
        """1-based place in the run order, or None if not queued."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        return 1 + sum(1 for e in self._heap if e.live and e < entry)

    def preview_position(self, job: Job) -> int:
        """The place `job` would get if pushed now (to tell the user before it is queued)."""
        cls = int(job.priority)
        tag = self._next_tag(cls, job.user_id)
        return 1 + sum(1 for e in self._heap if e.live and (e.priority, e.tag) <= (cls, tag))

    def jobs(self) -> Iterator[Job]:
        return (e.job for e in self._entries.values())
