"""The web's JobEvents: what the dispatcher tells about a web job (its place in line, its progress,
its result, why it ended) is kept as the job's latest state and pushed to every open page of it
(server-sent events, bot/web/create.py). Nothing is lost while no page is open: a page that opens
later reads the job from SQLite and the latest state from here."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from bot.models import Job, JobStatus, StoredImage

log = logging.getLogger(__name__)

MAX_KEPT = 5000  # states of jobs no page asked about for a while are dropped (SQLite still has them)


@dataclass(frozen=True)
class JobState:
    kind: str  # waiting, rendering, done, ended
    position: int | None = None
    step: int = 0
    total: int = 0
    eta: float | None = None
    status: JobStatus | None = None
    message: str = ""
    preview: int = 0  # the number of the newest live preview (0: none yet), for the page's image URL


class WebEvents:
    def __init__(self):
        self._states: dict[int, JobState] = {}
        self._watchers: dict[int, set[asyncio.Queue]] = {}
        self.first_lines: dict[int, str] = {}  # job id -> its price line, shown once on its page
        self._previews: dict[int, tuple[int, bytes]] = {}  # job id -> (number, JPEG) while it renders

    def state(self, job_id: int) -> JobState | None:
        return self._states.get(job_id)

    def watch(self, job_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=64)
        self._watchers.setdefault(job_id, set()).add(queue)
        return queue

    def unwatch(self, job_id: int, queue: asyncio.Queue) -> None:
        watchers = self._watchers.get(job_id)
        if watchers is not None:
            watchers.discard(queue)
            if not watchers:
                del self._watchers[job_id]

    def _set(self, job_id: int, state: JobState) -> None:
        self._states.pop(job_id, None)
        self._states[job_id] = state  # newest last: the oldest are dropped first
        while len(self._states) > MAX_KEPT:
            del self._states[next(iter(self._states))]
        while len(self.first_lines) > MAX_KEPT:  # price lines of pages never opened
            del self.first_lines[next(iter(self.first_lines))]
        for queue in list(self._watchers.get(job_id, ())):
            if queue.full():  # a page that stopped reading only needs the latest state
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(state)

    # ---- JobEvents ----
    async def waiting(self, job: Job, position: int, eta: float | None) -> None:
        self._set(job.id, JobState("waiting", position=position, eta=eta))

    async def rendering(self, job: Job, step: int, total: int, eta: float | None) -> None:
        shown = self._previews.get(job.id, (0, b""))[0]  # the last preview stays up between previews
        self._set(job.id, JobState("rendering", step=step, total=total, eta=eta, preview=shown))

    def preview(self, job_id: int) -> tuple[int, bytes] | None:
        return self._previews.get(job_id)

    def checks_previews(self, job: Job) -> bool:
        """Every web job: its channel is never age-restricted, so each preview is shown only once the
        image checker passed it (bot/services/preview_check.py)."""
        return True

    async def rendering_preview(self, job: Job, step: int, total: int, eta: float | None, preview: bytes) -> None:
        number = self._previews.get(job.id, (0, b""))[0] + 1
        self._previews[job.id] = (number, preview)
        while len(self._previews) > MAX_KEPT:
            del self._previews[next(iter(self._previews))]
        self._set(job.id, JobState("rendering", step=step, total=total, eta=eta, preview=number))

    async def deliver(self, job: Job, images: list[StoredImage]) -> int | None:
        self._previews.pop(job.id, None)
        self._set(job.id, JobState("done"))
        log.info("job %s: %d image(s) delivered", job.id, len(images))
        return None  # no Discord message: the job's page is its place

    async def ended(self, job: Job, status: JobStatus, message: str) -> None:
        self._previews.pop(job.id, None)
        self._set(job.id, JobState("ended", status=status, message=message))
