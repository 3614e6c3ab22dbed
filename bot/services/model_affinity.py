"""Which models each renderer worker holds, as the dispatcher last sent them (pure, no I/O).

A worker keeps its models least recently used first out (bot/renderer/model_cache.py,
MODEL_CACHE_SIZE): the dispatcher mirrors that from the batches it sends, so the scheduler can
prefer, among the jobs of the round that is due, one the free worker renders without loading a
model (bot/scheduler.py, rule 4). A worker's first model is the default (loaded at start).
"""
from __future__ import annotations

from collections.abc import Callable

from bot.models import Job


class WorkerModels:
    def __init__(self, default_model: str, cache_size: int = 1):
        self.default_model = default_model
        self.cache_size = max(1, cache_size)
        self._held: dict[int, list[str]] = {}  # id(worker) -> model names, least recently used first

    def held(self, worker: object) -> list[str]:
        return list(self._held.get(id(worker), [self.default_model]))

    def used(self, worker: object, model: str) -> None:
        """`worker` was sent a batch of `model`: it holds it now, and maybe no longer its oldest."""
        held = [m for m in self._held.get(id(worker), [self.default_model]) if m != model] + [model]
        self._held[id(worker)] = held[-self.cache_size:]

    def prefer(self, worker: object) -> Callable[[Job], bool]:
        held = set(self.held(worker))
        return lambda job: job.params.model in held
