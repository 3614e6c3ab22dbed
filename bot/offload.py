"""CPU-heavy pure-Python work out of the bot's process, so it cannot hold the event loop's GIL.

A worker thread is enough for code that releases the GIL (zlib, numpy, Pillow's codecs, onnxruntime,
SQLite). Code that holds it — matplotlib drawing a chart is the one the bot has — takes the GIL from
the event-loop thread every switch interval (5 ms) for as long as it runs. Measured on 2 busy cores
(three /mod stats charts in a row, bot.looplag sampling every 10 ms): in a thread, loop lag p99
70-75 ms and max 94-338 ms; in this child process p99 16-18 ms, max 23-39 ms; idle loop p99 8-9 ms.

One spawned child (never fork: the bot has threads, and a forked child copies their locks), started
at the first use and kept; `shutdown()` ends it. Functions and arguments must be picklable.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


async def in_process(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in the helper process. A child that died is replaced for the next call."""
    global _pool
    pool = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
    except Exception as exc:
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):
            with _lock:
                if _pool is pool:
                    _pool = None
        raise


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
