"""The fair priority queue in front of the renderer.

Policy (also in README):
1. Priority classes first: a lower `Priority` always runs before a higher one.
2. Inside a class, start-time fair queuing between users, weighted by work: each job gets a start
   tag `max(class clock, finish tag of the user's previous job)` and a finish tag
   `start + its cost` (`Job.cost`: its GPU work priced in tenths of a credit, the number its owner
   is charged), and the smallest start tag runs next (ties: admission order). Fair share counts
   work, not jobs: a 4-image 1024² job moves its owner's next start 4 default images further, so
   whoever asks for less waits behind less of it. With equal costs this is round robin: a user's
   n-th waiting job waits behind every other user's (n-1)-th, never behind all of somebody's
   backlog, and a user's own jobs keep their order. The class clock is the start tag of the last
   job started, so a newcomer joins the current round instead of jumping ahead of everyone who
   waited, and no job starves.
3. Batching may pull a compatible job forward, but only from the next `window` jobs in fair order.
4. Model affinity (IMAGE_MODELS): a worker that frees up may take, instead of the head, a job that
   its loaded models can render without a switch (`prefer`), but only one with the head's class
   AND the head's start tag: a job of the same round, never one a smaller start tag waits behind.
   Start tags of started jobs still never decrease within a class, each user's jobs keep their
   order (a user has at most one job per start tag), and the round is the one that was due; only
   the order of the members' turns inside one round changes. With one model every job is
   preferred and the head runs, exactly as without the rule.

The queue is in memory; SQLite is the source of truth and the queue is rebuilt from it at start.

The run order is kept in a sorted list of keys `(class, tag, seq, job id)`, so a job's place, the
place a newcomer would get, and the first `limit` jobs cost O(log n) (+ limit), not a scan: every
/imagine asks for its place, and start-up recovery asks once per queued job.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator

from sortedcontainers import SortedList

from bot.models import Job

# (priority class, tag, seq, job id). seq is unique (admission number, or negative for a retry),
# so two keys never tie on it and the job id only lets a key find its job.
_Key = tuple[int, int, int, int]


class FairScheduler:
    def __init__(self, batch_window: int = 16):
        self._order: SortedList = SortedList()  # _Key, in run order
        self._entries: dict[int, tuple[_Key, Job]] = {}  # job id -> (its key, the job), in push order
        self._clock: dict[int, int] = {}  # priority class -> start tag of the last job started
        self._finish: dict[tuple[int, int], int] = {}  # (class, user) -> finish tag of their last job
        self._next_seq = 0  # admission number of the next new job
        self._retries = 0  # retries so far; each one's seq is -retries
        self.batch_window = batch_window

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._entries

    def push(self, job: Job, retry: bool = False) -> None:
        """Queue a job. `retry` (a job whose render was interrupted) puts it at the front of the
        current round instead of behind the user's newer jobs."""
        key = self._admit(job, retry)
        if key is not None:
            self._order.add(key)

    def push_many(self, jobs: Iterable[Job], retry: bool = False) -> None:
        """Queue jobs as `push` would one by one (same order, same places), in one O(k log k)
        merge: start-up recovery queues thousands at once."""
        keys = [key for job in jobs if (key := self._admit(job, retry)) is not None]
        self._order.update(keys)

    def _admit(self, job: Job, retry: bool) -> _Key | None:
        """Give `job` its key and record it; None if it is already queued."""
        if job.id in self._entries:
            return None
        cls = int(job.priority)
        if retry:
            self._retries += 1
            # the current round's tag and a negative seq: ahead of every job of the round,
            # and not charged to the user's tags (it already had its turn counted)
            key = (cls, self._clock.get(cls, 0), -self._retries, job.id)
        else:
            tag = self._next_tag(cls, job.user_id)
            self._finish[(cls, job.user_id)] = tag + max(1, job.cost)
            key = (cls, tag, self._next_seq, job.id)
            self._next_seq += 1
        self._entries[job.id] = (key, job)
        return key

    def _next_tag(self, cls: int, user_id: int) -> int:
        """The start tag a new job of this user would get in this class."""
        return max(self._clock.get(cls, 0), self._finish.get((cls, user_id), 0))

    def remove(self, job_id: int) -> Job | None:
        """Take a queued job out (cancel, expiry)."""
        entry = self._entries.pop(job_id, None)
        if entry is None:
            return None
        self._order.remove(entry[0])
        return entry[1]

    def _started(self, key: _Key, advance_clock: bool = True) -> Job:
        """Forget a key already taken out of `_order`; return its job."""
        job = self._entries.pop(key[3])[1]
        if advance_clock:  # only the head moves the clock: a job pulled into a batch must not
            self._clock[key[0]] = max(self._clock.get(key[0], 0), key[1])
        return job

    def pop(self) -> Job | None:
        return self._started(self._order.pop(0)) if self._order else None

    def pop_batch(
        self,
        max_images: int,
        key: Callable[[Job], Hashable] = Job.batch_key,
        can_batch: Callable[[Job], bool] = lambda job: True,
        prefer: Callable[[Job], bool] | None = None,
    ) -> list[Job]:
        """The next job (rule 4: `prefer` may pick another of the head's round), plus compatible
        jobs from the next `batch_window` in fair order, up to `max_images` images in all. Jobs
        left behind keep their place."""
        if not self._order:
            return []
        head_key = self._order.pop(self._preferred(prefer))
        head = self._started(head_key)
        batch = [head]
        images = head.params.count
        if max_images <= images or not can_batch(head):
            return batch
        wanted = key(head)
        taken: list[_Key] = []
        for candidate in self._order.islice(0, self.batch_window):
            job = self._entries[candidate[3]][1]
            if (
                candidate[0] == head_key[0]
                and images + job.params.count <= max_images
                and can_batch(job)
                and key(job) == wanted
            ):
                taken.append(candidate)
                batch.append(job)
                images += job.params.count
                if images >= max_images:
                    break
        for candidate in taken:  # after the walk: removing while iterating would shift it
            self._order.remove(candidate)
            self._started(candidate, advance_clock=False)
        return batch

    def _preferred(self, prefer: Callable[[Job], bool] | None) -> int:
        """Index in `_order` of the job to start: the head, or the first job of the head's round
        (same class and start tag, within the batch window) that `prefer` accepts."""
        if prefer is None or prefer(self._entries[self._order[0][3]][1]):
            return 0
        cls, tag = self._order[0][0], self._order[0][1]
        for index, candidate in enumerate(self._order.islice(1, self.batch_window), start=1):
            if (candidate[0], candidate[1]) != (cls, tag):
                break
            if prefer(self._entries[candidate[3]][1]):
                return index
        return 0

    def ordered(self, limit: int | None = None) -> list[Job]:
        """Queued jobs in the order they would run (the first `limit`: O(limit + log n))."""
        keys = self._order if limit is None else self._order.islice(0, max(limit, 0))
        return [self._entries[k[3]][1] for k in keys]

    def position(self, job_id: int) -> int | None:
        """1-based place in the run order, or None if not queued."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        return 1 + self._order.bisect_left(entry[0])

    def preview_position(self, job: Job) -> int:
        """The place `job` would get if pushed now (to tell the user before it is queued)."""
        cls = int(job.priority)
        # the key push would give it, less the job id: every queued seq is below _next_seq,
        # so this lands after all of its round that is already queued
        return 1 + self._order.bisect_left((cls, self._next_tag(cls, job.user_id), self._next_seq))

    def jobs(self) -> Iterator[Job]:
        return (job for _, job in self._entries.values())
