"""Decide from a measurement whether batching pays on this device, without delaying any member.

Batching compatible jobs into one pipeline call is not free: on a CPU or at large sizes it can be
slower than one call per image (NOTES.md: 0.91x at 128px with CFG on CPU; ~1x at 1024px on GPUs).
So the renderer renders the same images once as a batch and once one by one, at the model's default
size with a few steps, and batching is enabled only if it is clearly faster.

That measurement costs several seconds on a GPU and minutes for a real model on a CPU, so it never
stands between a member and their image:
- its result is kept per (model, device, dtype, size, images) in DATA_DIR/calibration.json; a start
  that finds one uses it at once and renders nothing;
- otherwise it runs only while the queue is idle (nothing waiting, rendering or being delivered,
  no /mod pause), one render at a time; a job that arrives cancels the render in flight at its next
  step, and the measurement resumes from there once the queue is idle again;
- until a result exists batching is off (SAFE_DEFAULT): one call per image never makes a job wait
  for others, and batching measured slower than one by one on CPUs, so "off" is never the slow
  mistake there; on a GPU it only forgoes a throughput gain for the first minutes.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.errors import RenderError
from bot.models import ImageSpec, RenderBatch
from bot.renderer.profiles import ModelProfile, sizes_for_aspect

log = logging.getLogger(__name__)

MIN_GAIN = 1.10  # below this the extra latency for the first job in a batch is not worth it
CALIBRATION_STEPS = 4
SAFE_DEFAULT = False  # batching until a measurement says otherwise (see the module docstring)
METHOD = 1  # bump when the measurement changes: results measured another way are not reused
IDLE_GRACE = 1.0  # seconds the queue stays idle before a render: a member's follow-up click comes first
POLL = 0.05  # seconds between looks at the queue while waiting or rendering


@dataclass(frozen=True)
class CalibrationKey:
    """What a measurement is valid for."""

    model: str
    device: str
    dtype: str
    width: int
    height: int
    images: int

    def text(self) -> str:
        return f"{self.model}|{self.device}|{self.dtype}|{self.width}x{self.height}|{self.images}|m{METHOD}"


@dataclass(frozen=True)
class BatchingResult:
    batched: float  # seconds for `images` images in one call
    single: float  # seconds for the same images, one call each
    measured_at: float  # unix time

    @property
    def gain(self) -> float:
        return self.single / self.batched if self.batched > 0 else 0.0

    @property
    def enabled(self) -> bool:
        return self.gain >= MIN_GAIN


class CalibrationStore:
    """DATA_DIR/calibration.json: {key text: result}. Written whole and atomically (a temporary file
    in the same folder, fsync, rename): a crash mid-write leaves the old file, never half a one."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s is unreadable; measuring again", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def entry(self, text: str):
        """The raw value kept under `text` (None if there is none); other measurements (costs.py)
        keep theirs in their own file through these two."""
        return self._read().get(text)

    def get(self, key: CalibrationKey) -> BatchingResult | None:
        raw = self.entry(key.text())
        try:
            return BatchingResult(float(raw["batched"]), float(raw["single"]), float(raw["measured_at"]))
        except (TypeError, KeyError, ValueError):
            return None

    def put(self, key: CalibrationKey, result: BatchingResult) -> None:
        self.put_entry(key.text(), asdict(result))

    def put_entry(self, text: str, value) -> None:
        data = self._read()
        data[text] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".calibration-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class Preempted(Exception):
    """A member's job needs the renderer: the measurement steps aside."""


# Unique per process: a cancelled calibration batch's id must never come back (the renderer keeps
# the id it was last asked to cancel, and would stop a later batch reusing it at once).
_BATCH_IDS = itertools.count(-1, -1)


@dataclass
class Measurement:
    """The renders of one measurement and what they found so far; it survives pre-emption."""

    profile: ModelProfile
    images: int
    out: Path
    label: str
    warm: bool = False  # the last render before the next timed one was at this size
    batched: float | None = None
    singles: list[float] = field(default_factory=list)
    renders: int = 0  # calibration renders started, for logs and tests
    name = "batching calibration"  # for logs

    def next_batch(self) -> RenderBatch | None:
        """The next render; None when the measurement is complete (run_measurement's protocol,
        which costs.CostMeasurement follows too)."""
        seeds = self.next_seeds()
        return None if seeds is None else self.batch(seeds)

    def preempted(self) -> None:
        self.warm = False  # the member's job may leave the device warm at another size

    def batch(self, seeds: list[int]) -> RenderBatch:
        width, height = sizes_for_aspect(self.profile, "1:1")
        batch_id = next(_BATCH_IDS)
        specs = tuple(
            ImageSpec(job_id=0, index=i, prompt="a lighthouse on a cliff at sunset", negative_prompt="",
                      seed=seed, output_path=str(self.out / f"{-batch_id}-{i}.png"))
            for i, seed in enumerate(seeds)
        )
        return RenderBatch(batch_id=batch_id, width=width, height=height,
                           steps=min(CALIBRATION_STEPS, self.profile.default_steps),
                           guidance=self.profile.default_guidance, images=specs, model_label=self.label)

    def next_seeds(self) -> list[int] | None:
        """The next render's seeds; None when the measurement is complete."""
        if not self.warm:
            return [0]
        if self.batched is None:
            return list(range(self.images))
        if len(self.singles) < self.images:
            return [len(self.singles)]
        return None

    def record(self, seconds: float) -> None:
        if not self.warm:
            self.warm = True
        elif self.batched is None:
            self.batched = seconds
        else:
            self.singles.append(seconds)

    def result(self) -> BatchingResult:
        assert self.batched is not None
        return BatchingResult(self.batched, sum(self.singles), time.time())


async def run_measurement(renderer, m: Measurement, may_render: Callable[[], bool], poll: float = POLL) -> None:
    """Run the measurement's remaining renders while `may_render()` holds. Raises Preempted as soon as
    it does not (between renders, or by cancelling the render in flight at its next step)."""
    m.out.mkdir(parents=True, exist_ok=True)
    while (batch := m.next_batch()) is not None:
        if not may_render():
            raise Preempted
        m.renders += 1
        log.info("%s: render %d (%d image(s), batch %d)", m.name, m.renders, len(batch.images), batch.batch_id)
        started = time.perf_counter()
        task = asyncio.ensure_future(renderer.render(batch))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=poll)
                if not task.done() and not may_render():
                    renderer.cancel(batch.batch_id)  # stops at its next step; the member's job goes next
                    with contextlib.suppress(RenderError):
                        await task
                    m.preempted()
                    raise Preempted
            task.result()
        finally:
            if not task.done():
                task.cancel()
        m.record(time.perf_counter() - started)


async def decide_batching(renderer, profile: ModelProfile, out: Path, max_images: int, label: str) -> bool:
    """Measure now, with nothing else on the renderer (the bench and tests); the bot uses
    BatchingCalibrator, which steps aside for members."""
    n = min(max_images, 4)
    if n < 2:
        return False
    m = Measurement(profile, n, out, label)
    try:
        await run_measurement(renderer, m, lambda: True)
    except Exception:
        log.warning("batching calibration failed; batching stays off", exc_info=True)
        return False
    finally:
        shutil.rmtree(out, ignore_errors=True)
    result = m.result()
    _log_result(n, result)
    return result.enabled


def _log_result(n: int, result: BatchingResult, stored: bool = False) -> None:
    log.info("batching calibration%s: %d images batched %.2fs vs one by one %.2fs (%.2fx) -> batching %s",
             " (stored)" if stored else "", n, result.batched, result.single, result.gain,
             "on" if result.enabled else "off")


async def wait_idle(idle: Callable[[], bool], grace: float, poll: float, wait_poll: float) -> None:
    """Until the queue has been idle for `grace` seconds."""
    idle_since: float | None = None
    while True:
        if not idle():
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        if idle_since is not None and time.monotonic() - idle_since >= grace:
            return
        await asyncio.sleep(poll if idle_since is not None else wait_poll)


async def measure_when_idle(renderer, m, idle: Callable[[], bool], grace: float = IDLE_GRACE, poll: float = POLL,
                            wait_poll: float = 0.25) -> None:
    """Run measurement `m` to the end, only while the queue is idle, stepping aside for every
    member's job and resuming where it stopped (the bot's way to measure anything on the renderer)."""
    while True:
        await wait_idle(idle, grace, poll, wait_poll)
        try:
            await run_measurement(renderer, m, idle, poll)
            return
        except Preempted:
            log.info("%s: stepped aside for a member's job after %d render(s)", m.name, m.renders)


class BatchingCalibrator:
    """The bot's batching decision at start: a stored result at once, else SAFE_DEFAULT until a
    measurement made while the queue is idle (`idle()`, see Dispatcher.idle) says otherwise.
    Sets `settings.batching`, which the dispatcher reads at every batch it takes."""

    def __init__(self, settings, store: CalibrationStore, profile: ModelProfile, model: str, label: str,
                 out: Path, max_images: int, idle: Callable[[], bool], *, grace: float = IDLE_GRACE,
                 poll: float = POLL, wait_poll: float = 0.25):
        self.settings, self.store, self.profile = settings, store, profile
        self.model, self.label, self.out = model, label, out
        self.images = min(max_images, 4)
        self.idle, self.grace, self.poll, self.wait_poll = idle, grace, poll, wait_poll
        self.task: asyncio.Task | None = None
        self.measurement: Measurement | None = None

    def begin(self, renderer, device: str, dtype: str) -> BatchingResult | None:
        """Decide now from a stored result, or start measuring in the background. Returns the stored
        result, if any."""
        if self.images < 2:
            self.settings.batching = False
            return None
        width, height = sizes_for_aspect(self.profile, "1:1")
        key = CalibrationKey(self.model, device, dtype, width, height, self.images)
        stored = self.store.get(key)
        if stored is not None:
            self.settings.batching = stored.enabled
            _log_result(self.images, stored, stored=True)
            return stored
        self.settings.batching = SAFE_DEFAULT
        log.info("batching %s until measured; the measurement runs while the queue is idle",
                 "on" if SAFE_DEFAULT else "off")
        self.task = asyncio.get_running_loop().create_task(self._measure(renderer, key), name="calibration")
        return None

    async def _measure(self, renderer, key: CalibrationKey) -> None:
        m = self.measurement = Measurement(self.profile, self.images, self.out, self.label)
        try:
            await measure_when_idle(renderer, m, self.idle, self.grace, self.poll, self.wait_poll)
        except RenderError as exc:
            if exc.kind != "shutdown":
                log.warning("batching calibration failed (%s); batching stays off", exc.kind)
            return
        except Exception:
            log.warning("batching calibration failed; batching stays off", exc_info=True)
            return
        finally:
            shutil.rmtree(self.out, ignore_errors=True)
        result = m.result()
        self.settings.batching = result.enabled
        _log_result(self.images, result)
        try:
            await asyncio.to_thread(self.store.put, key, result)
        except OSError as exc:
            log.warning("could not keep the batching calibration in %s: %s", self.store.path, exc)

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
