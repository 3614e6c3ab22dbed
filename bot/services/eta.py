"""Waiting-time estimates for the job messages, from the measured render speed (no I/O)."""
from __future__ import annotations

from collections.abc import Sequence

from bot.models import Job


class RenderRate:
    """Measured seconds per unit of work (megapixel-steps, `JobParams.work`), smoothed, for ETAs."""

    def __init__(self, initial: float | None = None):
        self.value = initial

    def observe(self, seconds: float, work: float) -> None:
        if work <= 0:
            return
        rate = seconds / work
        self.value = rate if self.value is None else 0.7 * self.value + 0.3 * rate

    def estimate(self, job: Job) -> float | None:
        return None if self.value is None else self.value * job.params.work


def eta_at(rate: RenderRate, job: Job, position: int, ahead: Sequence[Job], until_free: float,
           workers: int) -> float | None:
    """Seconds until `job`, at `position`, finishes: `until_free` (until a worker frees up), the
    estimates of the jobs `ahead` shared by the workers (the first few are given; their mean stands
    in for the rest of the `position - 1` ahead) and its own. None until a render was measured."""
    own = rate.estimate(job)
    if own is None:
        return None
    estimates = [rate.estimate(j) or 0.0 for j in ahead if j.id != job.id]
    mean = sum(estimates) / len(estimates) if estimates else own
    queued = sum(estimates) + mean * max(0, position - 1 - len(estimates))
    return until_free + queued / max(1, workers) + own
