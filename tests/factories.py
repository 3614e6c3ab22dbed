"""Small builders for jobs and requests used by unit tests."""
from __future__ import annotations

import itertools
import time
from dataclasses import replace

from bot.models import Job, JobKind, JobParams, JobStatus, Priority, Requester
from bot.prices import PriceBook, PriceContext
from bot.renderer.profiles import profile_for

_ids = itertools.count(1)


def make_params(**overrides) -> JobParams:
    fields = dict(prompt="a red fox", negative_prompt="", aspect="1:1", width=64, height=64,
                  steps=4, guidance=7.0, count=1, seed=42, model="tiny")
    fields.update(overrides)
    return JobParams(**fields)


# Priced by the product's formula at its defaults, with a 64x64, 4-step default image (1.0 credit).
PRICES = PriceBook(PriceContext(replace(profile_for("StableDiffusionPipeline", 64), default_steps=4)))


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
        cost=PRICES.price(params),
    )
