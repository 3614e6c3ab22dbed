"""When a renderer counts as hung on a batch, for the local client and the Ray worker alike (no torch).

A batch has two clocks, one per stage:
- while it denoises: the time since its last step (RENDER_STEP_TIMEOUT). A step's length depends on
  the model, the size and the device.
- once an encoder has started on it: the time spent encoding (RENDER_ENCODE_TIMEOUT). PNG compression,
  metadata and the provenance watermark depend on the pixels only, so this limit does not grow with
  a slow model; and an encoder thread that never returns can only be freed by replacing the process.
A denoised batch still waiting for a free encoder thread has no clock of its own: the batches ahead
of it are encoding under theirs, and a worker replaced for one of them fails it as a crash.

Either way the batch fails with RenderError("hang") after its worker was killed and restarted, and
the dispatcher retries it like any hang (MAX_ATTEMPTS).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from bot.errors import RenderError

DEFAULT_ENCODE_TIMEOUT = 60.0  # a batch of 4 at 1024² encodes in ~3 s on a busy 2-core CPU


class Watched(Protocol):
    """What the local client knows about a batch in flight (inflight.InFlight)."""

    last_seen: float  # time.monotonic() of the worker's last message about it
    changed: asyncio.Event  # set on every such message and when it ends
    result: asyncio.Future
    denoised: bool
    encoding: bool


def limit(denoised: bool, encoding: bool, step_timeout: float, encode_timeout: float) -> float | None:
    """Seconds the batch may go on without news in its stage; None while it waits for an encoder."""
    if encoding:
        return encode_timeout
    return None if denoised else step_timeout


def hang_error(encoding: bool, step_timeout: float, encode_timeout: float) -> RenderError:
    if encoding:
        return RenderError("hang", f"encoding took longer than {encode_timeout:g} s")
    return RenderError("hang", f"no progress for {step_timeout:g} s")


async def stalled(st: Watched, step_timeout: float, encode_timeout: float) -> bool:
    """Wait until the batch ended (False) or went past its stage's limit (True)."""
    while not st.result.done():
        seconds = limit(st.denoised, st.encoding, step_timeout, encode_timeout)
        remaining = None if seconds is None else st.last_seen + seconds - time.monotonic()
        if remaining is not None and remaining <= 0:
            return True
        st.changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(st.changed.wait(), remaining)
    return False
