"""The bench's stand-in for the Discord front end: JobEvents that only record when each job ended
(delivered, or failed/cancelled), for the end-to-end figures of run.py and startup.py."""
from __future__ import annotations

import asyncio
import time


class Delivered:
    """JobEvents that only records when each job was delivered."""

    def __init__(self):
        self.times: dict[int, float] = {}
        self.event = asyncio.Event()

    async def waiting(self, job, position, eta):
        pass

    async def rendering(self, job, step, total, eta):
        pass

    async def deliver(self, job, images):
        self.times[job.id] = time.perf_counter()
        self.event.set()
        return None

    async def ended(self, job, status, message):
        self.times[job.id] = time.perf_counter()
        self.event.set()
