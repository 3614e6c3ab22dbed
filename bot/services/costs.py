"""Measure what each task costs on this device, for prices (bot/prices.py), without delaying anyone.

The same machinery as batching's calibration (calibration.py): renders on the renderer only while
the queue is idle, a member's job cancels the render in flight at its next step and the measurement
resumes once the queue is idle again; the first job after start never waits (until a table exists,
prices use the documented defaults). It runs after batching's calibration, never beside it.

For each measured task it renders the task's reference job (what /quota prices: the default image,
an image prompt at its default strength, the default image upscaled) at two numbers of denoising
steps, the reference's and a quarter of that, twice each (the tasks interleaved,
after a warm-up render of each), and keeps the faster of the two: the slope is the cost per step
and the rest the cost per image (text encoding, VAE, PNG), both per megapixel. Kept per (model,
device, dtype, upscaler) in DATA_DIR/costs.json and measured again when older than
PRICE_REFRESH_HOURS, again only while idle.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import RenderError
from bot.models import ImageSpec, JobTask, RenderBatch, denoising_steps
from bot.prices import PriceBook, PricedTask, PriceTable, Shape, TaskCost, measured_tasks
from bot.services.calibration import _BATCH_IDS, IDLE_GRACE, POLL, CalibrationStore, measure_when_idle

log = logging.getLogger(__name__)

METHOD = 2  # bump when the measurement changes: tables measured another way are not reused
REPEATS = 3  # renders per point; the fastest counts (a busy machine only ever adds time; with 2 the
# first, still cold round often set a point, and the per-image part, extrapolated from the low point,
# came out 1.1 to 37 s/MP between runs of the tiny model at 64²)
PROMPT = "a lighthouse on a cliff at sunset"


def cost_key(model: str, device: str, dtype: str, upscaler: str | None) -> str:
    return f"{model}|{device}|{dtype}|{upscaler or 'lanczos'}|m{METHOD}"


def steps_for(denoising: int, strength: float | None) -> int:
    """The steps setting at which a job of `strength` runs `denoising` steps."""
    if strength is None:
        return denoising
    steps = max(1, math.ceil(denoising / strength))
    while denoising_steps(steps, strength) < denoising:
        steps += 1
    return steps


def points(shape: Shape) -> tuple[int, ...]:
    """The denoising steps rendered for a reference job: all of them (the job itself: shorter
    renders priced the default image 25% too low on a CPU, bench December 2026) and a quarter."""
    high = shape.denoising
    low = max(1, high // 4)
    return (low, high) if low < high else (high,)


@dataclass
class CostMeasurement:
    """The renders of one cost measurement and their times; it survives pre-emption."""

    tasks: list[PricedTask]
    book: PriceBook
    out: Path
    label: str
    upscaler: str | None = None
    name = "cost measurement"  # for logs
    renders: int = 0
    source: str | None = None  # the first text-to-image output: img2img and upscales start from it
    plan: list[tuple[PricedTask, int | None]] = field(default_factory=list)  # (task, steps or None: warm-up)
    times: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    _warmed: set[str] = field(default_factory=set)
    _cold: bool = False  # a member's job ran since the last render: warm up again first
    _issued: tuple[PricedTask, int | None] | None = None
    _path: str = ""

    def __post_init__(self) -> None:
        # Text to image first (its image is the others' source), a warm-up of each task, then the
        # timed renders round by round, the tasks interleaved: a change in the machine's load while
        # it measures hits every task alike instead of one.
        tasks = sorted(self.tasks, key=lambda t: t.job_task is not JobTask.TXT2IMG)
        self.plan.extend((task, None) for task in tasks)
        for _ in range(REPEATS):
            self.plan.extend((task, n) for task in tasks for n in points(task.reference(self.book.ctx)))

    def next_batch(self) -> RenderBatch | None:
        if not self.plan:
            return None
        task, steps = self.plan[0]
        if steps is not None and (self._cold or task.name not in self._warmed):
            steps = None  # after a member's job: warm up again first
        self._issued = (task, steps)
        return self._batch(task, task.reference(self.book.ctx), steps or 1)

    def record(self, seconds: float) -> None:
        assert self._issued is not None
        task, steps = self._issued
        if self.plan and self.plan[0] == self._issued:  # else a warm-up put in after a pre-emption
            self.plan.pop(0)
            if steps is not None:
                self.times.setdefault((task.name, steps), []).append(seconds)
        if task.job_task is JobTask.TXT2IMG and self.source is None:
            self.source = self._path
        self._warmed.add(task.name)
        self._cold = False

    def preempted(self) -> None:
        self._cold = True

    def _batch(self, task: PricedTask, shape: Shape, denoising: int) -> RenderBatch:
        batch_id = next(_BATCH_IDS)
        path = self._path = str(self.out / f"cost{-batch_id}.png")
        init = None if task.job_task is JobTask.TXT2IMG else self.source
        p = self.book.ctx.profile
        spec = ImageSpec(job_id=0, index=0, prompt=PROMPT, negative_prompt="", seed=0, output_path=path,
                         init_image=init)
        upscale = task.job_task is JobTask.UPSCALE
        return RenderBatch(batch_id=batch_id, width=shape.width, height=shape.height,
                           steps=steps_for(denoising, shape.strength), guidance=p.default_guidance, images=(spec,),
                           strength=shape.strength, model_label=self.label, task=task.job_task,
                           upscale_factor=round(shape.width / p.default_size, 4) if upscale else None,
                           upscaler=self.upscaler if upscale else None)

    def result(self, device: str, now: float | None = None) -> PriceTable:
        costs = {}
        for task in self.tasks:
            shape = task.reference(self.book.ctx)
            mp = shape.megapixels * shape.count
            fastest = {n: min(self.times[(task.name, n)]) for n in points(shape)}
            if len(fastest) == 2:
                (low, t_low), (high, t_high) = sorted(fastest.items())
                step = (t_high - t_low) / (high - low) / mp
                if step > 0:
                    costs[task.name] = TaskCost(step, max(0.0, t_low / mp - step * low))
                    continue
            high, t_high = max(fastest.items())  # one point, or noise larger than the slope
            costs[task.name] = TaskCost(t_high / mp / high, 0.0)
        return PriceTable(costs, time.time() if now is None else now, device)


def table_to_json(table: PriceTable) -> dict:
    return {"measured_at": table.measured_at, "device": table.device,
            "costs": {name: {"step": c.step, "fixed": c.fixed} for name, c in table.costs.items()}}


def table_from_json(raw) -> PriceTable | None:
    """A stored table, or None for anything missing or malformed (then the defaults price)."""
    try:
        costs = {str(name): TaskCost(float(c["step"]), float(c["fixed"])) for name, c in raw["costs"].items()}
        measured_at = float(raw["measured_at"])
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    if "txt2img" not in costs or not all(
            math.isfinite(c.step) and math.isfinite(c.fixed) and c.step > 0 and c.fixed >= 0 for c in costs.values()):
        return None
    return PriceTable(costs, measured_at, str(raw.get("device", "")))


def describe(book: PriceBook) -> str:
    return ", ".join(f"{line.task.name} {line.tenths / 10:.1f}" for line in book.menu())


class CostCalibrator:
    """Keeps `book` priced by this device: the stored table at once, else the defaults until a
    measurement made while the queue is idle; measured again every `refresh` seconds (0: never)."""

    def __init__(self, book: PriceBook, store: CalibrationStore, model: str, label: str, out: Path,
                 idle: Callable[[], bool], refresh: float, upscaler: str | None = None, *,
                 grace: float = IDLE_GRACE, poll: float = POLL, wait_poll: float = 0.25,
                 clock: Callable[[], float] = time.time):
        self.book, self.store, self.model, self.label, self.out = book, store, model, label, out
        self.idle, self.refresh, self.upscaler = idle, refresh, upscaler
        self.grace, self.poll, self.wait_poll, self.clock = grace, poll, wait_poll, clock
        self.task: asyncio.Task | None = None
        self.measurement: CostMeasurement | None = None

    def begin(self, renderer, device: str, dtype: str, after: asyncio.Task | None = None) -> PriceTable | None:
        key = cost_key(self.model, device, dtype, self.upscaler)
        stored = table_from_json(self.store.entry(key))
        if stored is not None:
            self.book.update(stored)
            log.info("prices measured on this device (%s): %s", device, describe(self.book))
        else:
            log.info("prices: documented defaults until measured on this device (%s); the measurement runs "
                     "while the queue is idle", describe(self.book))
        self.task = asyncio.get_running_loop().create_task(self._run(renderer, key, device, stored, after),
                                                           name="cost-measurement")
        return stored

    async def _run(self, renderer, key: str, device: str, table: PriceTable | None,
                   after: asyncio.Task | None) -> None:
        if after is not None:  # batching's calibration first: one measurement on the renderer at a time
            await asyncio.wait({after})
        while True:
            if table is not None:
                if self.refresh <= 0:
                    return
                due = (table.measured_at or 0) + self.refresh - self.clock()
                if due > 0:
                    await asyncio.sleep(min(due, 3600))
                    continue
            measured = await self._measure(renderer, key, device)
            if measured is None and table is None:
                return  # the defaults stay; logged
            if measured is None:
                assert table is not None  # returned above when there is neither
                measured = PriceTable(table.costs, self.clock(), table.device)  # retry a refresh later
            table = measured

    async def _measure(self, renderer, key: str, device: str) -> PriceTable | None:
        m = self.measurement = CostMeasurement(measured_tasks(), self.book, self.out, self.label, self.upscaler)
        try:
            await measure_when_idle(renderer, m, self.idle, self.grace, self.poll, self.wait_poll)
            table = m.result(device, self.clock())
        except RenderError as exc:
            if exc.kind != "shutdown":
                log.warning("cost measurement failed (%s); prices stay as they were", exc.kind)
            return None
        except Exception:
            log.warning("cost measurement failed; prices stay as they were", exc_info=True)
            return None
        finally:
            shutil.rmtree(self.out, ignore_errors=True)
        self.book.update(table)
        log.info("cost measurement: %d renders -> prices %s", m.renders, describe(self.book))
        try:
            await asyncio.to_thread(self.store.put_entry, key, table_to_json(table))
        except OSError as exc:
            log.warning("could not keep the cost measurement in %s: %s", self.store.path, exc)
        return table

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def start_cost_measurement(settings, admission, worker, info, idle: Callable[[], bool],
                           after: asyncio.Task | None) -> CostCalibrator | None:
    """The bot's hook (app.py, once the first renderer loaded): None with PRICE_MEASURE=false."""
    if not settings.price_measure:
        log.info("prices: documented defaults (PRICE_MEASURE=false): %s", describe(admission.prices))
        return None
    from bot.renderer.profiles import model_label

    calibrator = CostCalibrator(admission.prices, CalibrationStore(settings.data_dir / "costs.json"),
                                settings.image_model, model_label(settings.image_model),
                                settings.data_dir / "costs", idle, settings.price_refresh_hours * 3600,
                                settings.upscaler_model)
    calibrator.begin(worker, info.device, info.dtype, after)
    return calibrator
