"""Small builders for jobs and requests used by unit tests."""
from __future__ import annotations

import itertools
import time

from bot import credits
from bot.models import Job, JobKind, JobParams, JobStatus, Priority, Requester, work_units

_ids = itertools.count(1)


def make_params(**overrides) -> JobParams:
    fields = dict(prompt="a red fox", negative_prompt="", aspect="1:1", width=64, height=64,
                  steps=4, guidance=7.0, count=1, seed=42, model="tiny")
    fields.update(overrides)
    return JobParams(**fields)


# The tiny test profile's default image: 64x64, 4 steps, costs 1.0 credit.
UNIT_WORK = work_units(64, 64, 4, 1)


def make_job(user_id: int = 1, priority: Priority = Priority.INTERACTIVE, job_id: int | None = None,
             **param_overrides) -> Job:
    params = make_params(**param_overrides)
    return Job(
        id=next(_ids) if job_id is None else job_id,
        kind=JobKind.IMAGINE,
        requester=Requester(user_id=user_id, channel_id=10, guild_id=1),
        params=params,
        priority=priority,
        status=JobStatus.QUEUED,
        created_at=time.time(),
        cost=credits.price(params.work, UNIT_WORK),
    )
