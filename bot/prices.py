"""What a job costs in credits: the one price formula, from seconds measured on this device.

Every task has a cost model in seconds per megapixel of output: `step` for each denoising step the
pipeline really runs (img2img runs int(steps x strength) of them) and `fixed` per image whatever the
steps (text encoding, VAE encode/decode, PNG). A job's seconds are

    count x megapixels x (step x denoising steps + fixed)

and its price is those seconds over the seconds of one default image (text to image at the model's
default size and steps), in credits to the nearest tenth: that image costs 1.0, a 4-image job four
times as much, an upscale what its 4x pixels and re-detailing pass really take on this device.

The costs come from DATA_DIR/costs.json, measured on the renderer while the queue is idle
(bot/services/costs.py). Until a task has been measured it uses DEFAULT_COSTS below, measured with
the tiny test model on a 2-core CPU, and for an upscale the ratio measured on real models (2.3x a
default image). A price is computed once, at submit; the job stores it and refunds use what was
charged (bot/services/quotas.py), so a refresh of the table never changes a job already queued.

A task added later (inpainting, outpainting) joins with one `PricedTask` in TASKS: what jobs it
matches, its reference job (what /quota shows and what is measured) and, until measured, a default.

Torch- and Discord-free.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from bot import credits
from bot.i18n import N_
from bot.models import JobParams, JobTask, denoising_steps
from bot.renderer.profiles import DEFAULT_IMAGE_STRENGTH, ModelProfile, upscale_size

DEFAULT_UPSCALE_RATIO = 2.3  # an upscale of a default image, in default images (measured 2.3-2.4x)


@dataclass(frozen=True)
class TaskCost:
    step: float  # seconds per megapixel per denoising step
    fixed: float  # seconds per megapixel per image, whatever the steps

    def seconds(self, shape: Shape) -> float:
        return shape.count * shape.megapixels * (self.step * shape.denoising + self.fixed)

    def scaled(self, factor: float) -> TaskCost:
        return TaskCost(self.step * factor, self.fixed * factor)


# Measured with the tiny random-weight model (bot/renderer/tiny.py, 64x64, CFG) on the 2-core CPU the
# project is developed on (December 2026): 10, 25 and 40 steps fit a line through zero, the per-image
# part (text encoding, VAE, PNG) lost in the run-to-run noise, and a step of image to image costs what
# a step of text to image does. Only ratios matter (prices divide by the text-to-image cost), so
# these are 1 per megapixel-step. The upscale's default is set from them so that the reference
# upscale costs DEFAULT_UPSCALE_RATIO default images (see PriceBook._defaults).
DEFAULT_COSTS: dict[str, TaskCost] = {
    "txt2img": TaskCost(step=1.0, fixed=0.0),
    "img2img": TaskCost(step=1.0, fixed=0.0),
}


@dataclass(frozen=True)
class Shape:
    """What a job renders, as far as its cost goes."""

    width: int
    height: int
    steps: int  # the job's steps setting
    strength: float | None = None  # img2img: only int(steps x strength) steps run
    count: int = 1

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @property
    def denoising(self) -> int:
        return denoising_steps(self.steps, self.strength)

    @classmethod
    def of(cls, params: JobParams) -> Shape:
        return cls(params.width, params.height, params.steps, params.strength, params.count)


@dataclass(frozen=True)
class PriceContext:
    """What the reference jobs depend on: the model's defaults and the upscale settings."""

    profile: ModelProfile
    upscale_strength: float = 0.3
    max_upscale_pixels: int = 0


@dataclass(frozen=True)
class PricedTask:
    name: str  # key in costs.json and PRICE_FACTORS
    label: str  # for members: "text to image"
    job_task: JobTask  # what the renderer does (and what a measurement renders)
    matches: Callable[[JobParams], bool]
    reference: Callable[[PriceContext], Shape]  # the job /quota prices and the measurement renders
    measured_as: str = ""  # shares the measured cost of another task (same pipeline call); "" = itself
    default: str = "img2img"  # the DEFAULT_COSTS entry used until measured

    @property
    def cost_key(self) -> str:
        return self.measured_as or self.name


def _default_image(ctx: PriceContext, strength: float | None = None) -> Shape:
    p = ctx.profile
    return Shape(p.default_size, p.default_size, p.default_steps, strength)


def _upscale_reference(ctx: PriceContext) -> Shape:
    p = ctx.profile
    target = upscale_size(p, p.default_size, p.default_size, ctx.max_upscale_pixels)
    width, height = (target[0], target[1]) if target else (p.default_size, p.default_size)
    return Shape(width, height, p.default_steps, ctx.upscale_strength)


def _is_image_prompt(params: JobParams) -> bool:
    return bool(params.init_image and params.init_image.startswith("inputs/"))


# Most specific first: the first task that matches a job prices it.
TASKS: list[PricedTask] = [
    PricedTask("upscale", N_("upscale"), JobTask.UPSCALE, lambda p: p.task is JobTask.UPSCALE, _upscale_reference),
    PricedTask("img2img", N_("image to image"), JobTask.IMG2IMG,
               lambda p: p.task is JobTask.IMG2IMG and _is_image_prompt(p),
               lambda ctx: _default_image(ctx, DEFAULT_IMAGE_STRENGTH)),
    PricedTask("variation", N_("variation"), JobTask.IMG2IMG, lambda p: p.task is JobTask.IMG2IMG,
               lambda ctx: _default_image(ctx, ctx.profile.variation_strength), measured_as="img2img"),
    PricedTask("txt2img", N_("text to image"), JobTask.TXT2IMG, lambda p: p.task is JobTask.TXT2IMG,
               _default_image, default="txt2img"),
    # Zoom Out, Pan, Make Square and Vary (Region): one inpainting call over the whole output canvas
    # at strength 1.0 (bot/renderer/outpaint.py). With the model's own 4-channel UNet that is the
    # image-to-image call, so it shares image to image's measured cost per megapixel-step.
    PricedTask("outpaint", N_("outpaint / vary region"), JobTask.INPAINT, lambda p: p.task is JobTask.INPAINT,
               lambda ctx: _default_image(ctx, 1.0), measured_as="img2img"),
]


MENU = ("txt2img", "img2img", "variation", "upscale")  # /quota's order; tasks added later follow


def task_of(params: JobParams) -> PricedTask:
    for task in TASKS:
        if task.matches(params):
            return task
    raise ValueError(f"no price for a {params.task.value} job")


def measured_tasks() -> list[PricedTask]:
    """The tasks a measurement renders (the others share one of their costs)."""
    return [task for task in TASKS if not task.measured_as]


@dataclass(frozen=True)
class PriceTable:
    """Costs measured on one device (or none: every task at its default)."""

    costs: dict[str, TaskCost] = field(default_factory=dict)
    measured_at: float | None = None
    device: str = ""


@dataclass(frozen=True)
class PriceLine:
    task: PricedTask
    tenths: int
    measured: bool


class PriceBook:
    """The current table and the formula. `price()` is what admission charges."""

    def __init__(self, ctx: PriceContext, factors: dict[str, float] | None = None, table: PriceTable | None = None):
        self.ctx = ctx
        self.factors = dict(factors or {})
        self.table = table or PriceTable()

    def update(self, table: PriceTable) -> None:
        """A new measurement: jobs submitted from now on are priced by it (queued ones keep theirs)."""
        self.table = table

    @property
    def measured(self) -> bool:
        return "txt2img" in self.table.costs

    def cost(self, task: PricedTask) -> tuple[TaskCost, bool]:
        """(the task's cost model, whether it was measured on this device)."""
        measured = self.table.costs if self.measured else {}
        if task.cost_key in measured:
            return measured[task.cost_key], True
        defaults = self._defaults()
        return defaults.get(task.cost_key, defaults[task.default]), False

    def _defaults(self) -> dict[str, TaskCost]:
        """DEFAULT_COSTS in this table's units: scaled to the measured text-to-image cost if there
        is one (only ratios matter), with the upscale's set to DEFAULT_UPSCALE_RATIO."""
        unit = _default_image(self.ctx)
        base = self.table.costs.get("txt2img") if self.measured else None
        scale = base.seconds(unit) / DEFAULT_COSTS["txt2img"].seconds(unit) if base else 1.0
        costs = {name: cost.scaled(scale) for name, cost in DEFAULT_COSTS.items()}
        up = costs["img2img"]
        target = DEFAULT_UPSCALE_RATIO * costs["txt2img"].seconds(unit)
        costs["upscale"] = up.scaled(target / max(1e-12, up.seconds(_upscale_reference(self.ctx))))
        return costs

    def seconds(self, task: PricedTask, shape: Shape) -> float:
        return self.cost(task)[0].seconds(shape)

    def ratio(self, task: PricedTask, shape: Shape) -> float:
        """The job's cost in default images, before rounding (PRICE_FACTORS applied)."""
        txt2img = next(t for t in TASKS if t.name == "txt2img")
        unit = self.seconds(txt2img, _default_image(self.ctx))
        return self.seconds(task, shape) / unit * self.factors.get(task.name, 1.0)

    def price_of(self, task: PricedTask, shape: Shape) -> int:
        """THE price formula, in tenths of a credit, to the nearest tenth (never below 0.1).

        Nearest, not up: rounding up charged a half-price job (0.50 of a default image) 0.6, 20% over
        what it costs (bench, December 2026); to the nearest tenth no job is off by more than 0.05."""
        # The round(..., 6) drops float noise, so the default image is exactly 1.0, not 1.1.
        return max(1, math.floor(round(self.ratio(task, shape) * credits.TENTHS, 6) + 0.5))

    def price(self, params: JobParams) -> int:
        return self.price_of(task_of(params), Shape.of(params))

    def menu(self) -> list[PriceLine]:
        """Each task's reference job and its price, for /quota."""
        order = [name for name in MENU if any(t.name == name for t in TASKS)]
        tasks = sorted(TASKS, key=lambda t: order.index(t.name) if t.name in order else len(order))
        return [PriceLine(task, self.price_of(task, task.reference(self.ctx)), self.cost(task)[1]) for task in tasks]

