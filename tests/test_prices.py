"""Prices follow what the work costs on this device: the one formula, the measured table and its
defaults, and the measurement that keeps it current without ever taking the renderer from a member."""
import asyncio
import json

import pytest

from bot import prices
from bot.config import load_settings
from bot.errors import ConfigError, RenderError
from bot.models import JobParams, JobTask, denoising_steps
from bot.prices import DEFAULT_UPSCALE_RATIO, PriceBook, PriceContext, PricedTask, PriceTable, TaskCost, task_of
from bot.renderer.profiles import profile_for
from bot.services import costs
from bot.services.calibration import CalibrationStore
from bot.services.costs import CostCalibrator, cost_key, table_to_json

PROFILE = profile_for("StableDiffusionPipeline", 64)  # the tiny model's: 64x64, 25 steps
CTX = PriceContext(PROFILE, upscale_strength=0.3)


def params(**overrides) -> JobParams:
    fields = dict(prompt="a fox", negative_prompt="", aspect="1:1", width=64, height=64, steps=25, guidance=7.0,
                  count=1, seed=1, model="tiny")
    fields.update(overrides)
    return JobParams(**fields)


IMAGE_PROMPT = dict(task=JobTask.IMG2IMG, strength=0.75, init_image="inputs/ab/abc.png")
VARIATION = dict(task=JobTask.IMG2IMG, strength=0.6, init_image="images/3/0.png")
UPSCALE = dict(task=JobTask.UPSCALE, strength=0.3, init_image="images/3/0.png", width=128, height=128,
               upscale_factor=2.0)


def test_each_job_is_priced_as_its_task():
    assert [task_of(params(**kind)).name for kind in ({}, IMAGE_PROMPT, VARIATION, UPSCALE)] == [
        "txt2img", "img2img", "variation", "upscale"]


def test_the_default_image_costs_one_credit_and_the_price_scales_with_count_steps_size_and_strength():
    book = PriceBook(CTX)
    assert book.price(params()) == 10
    assert book.price(params(count=4)) == 40
    more, fewer = book.price(params(steps=50)), book.price(params(steps=12))
    assert 10 < more <= 20 and 5 <= fewer < 10  # the per-image part does not grow with steps
    assert book.price(params(width=128, height=128)) == 40
    assert book.price(params(**IMAGE_PROMPT, count=1)) < 10  # int(25 x 0.75) = 18 steps
    assert book.price(params(**{**IMAGE_PROMPT, "strength": 0.4})) < book.price(params(**IMAGE_PROMPT))
    # Until measured: the documented upscale ratio.
    assert book.price(params(**UPSCALE)) == round(DEFAULT_UPSCALE_RATIO * 10)
    assert not book.measured and all(not line.measured for line in book.menu())


def test_a_measured_table_changes_the_price_and_the_menu():
    book = PriceBook(CTX)
    before = book.price(params(**UPSCALE))
    # Measured: an upscale step at 4x the pixels costs three times a text-to-image step per pixel.
    book.update(PriceTable({"txt2img": TaskCost(1.0, 0.0), "img2img": TaskCost(1.0, 0.0),
                            "upscale": TaskCost(3.0, 0.0)}, measured_at=1.0, device="cpu"))
    steps = denoising_steps(25, 0.3)  # 7
    assert book.price(params(**UPSCALE)) == -(-4 * 3 * steps * 10 // 25)  # 4x pixels, 3x per pixel-step: 3.4
    assert book.price(params(**UPSCALE)) != before
    assert book.price(params(**VARIATION)) == 6  # int(25 x 0.6) = 15 steps of 25, img2img's cost
    menu = {line.task.name: (line.tenths, line.measured) for line in book.menu()}
    # An outpaint (the whole canvas at strength 1.0) shares image to image's measured cost.
    # Image to image at its default strength 0.75: int(25 x 0.75) = 18 steps of 25 = 0.72 -> 0.7.
    assert menu == {"txt2img": (10, True), "img2img": (7, True), "variation": (6, True), "upscale": (34, True),
                    "outpaint": (10, True)}


def test_a_task_not_in_the_table_keeps_its_default_ratio_to_the_measured_default_image():
    book = PriceBook(CTX)
    default_upscale = book.price(params(**UPSCALE))
    book.update(PriceTable({"txt2img": TaskCost(50.0, 10.0)}, measured_at=1.0))  # another device, 20x slower
    assert book.price(params()) == 10 and book.price(params(**UPSCALE)) == default_upscale
    assert book.cost(task_of(params(**UPSCALE)))[1] is False


def test_price_factors_from_the_settings_multiply_a_task():
    settings = load_settings({"DISCORD_TOKEN": "t", "PRICE_FACTORS": "upscale:2, img2img:0.5"})
    assert settings.price_factors == (("upscale", 2.0), ("img2img", 0.5))
    book = PriceBook(CTX, dict(settings.price_factors))
    assert book.price(params(**UPSCALE)) == 2 * round(DEFAULT_UPSCALE_RATIO * 10)
    assert book.price(params()) == 10
    for bad in ("inpaint:2", "upscale:0", "upscale:lots"):
        with pytest.raises(ConfigError, match="PRICE_FACTORS"):
            load_settings({"DISCORD_TOKEN": "t", "PRICE_FACTORS": bad})


def test_a_task_added_later_joins_with_one_entry(monkeypatch):
    outpaint = PricedTask("outpaint", "outpainting", JobTask.IMG2IMG,
                          lambda p: bool(p.init_image and p.init_image.startswith("canvas/")),
                          lambda ctx: prices.Shape(128, 64, ctx.profile.default_steps, 1.0))
    monkeypatch.setattr(prices, "TASKS", [outpaint, *prices.TASKS])
    job = params(task=JobTask.IMG2IMG, strength=1.0, init_image="canvas/1.png", width=128)
    book = PriceBook(CTX)
    assert task_of(job).name == "outpaint" and book.price(job) > book.price(params(**IMAGE_PROMPT))
    assert "outpaint" in [t.name for t in prices.measured_tasks()]
    book.update(PriceTable({"txt2img": TaskCost(1.0, 0.0), "outpaint": TaskCost(2.0, 0.0)}, measured_at=1.0))
    assert book.price(job) == 40  # twice the pixels at twice the cost per pixel-step
    assert [line.task.name for line in book.menu()][-1] == "outpaint"


# ---- the measurement (bot/services/costs.py) ----

class CostRenderer:
    """Sleeps what the job's pixels and denoising steps cost, as a device would; the upscale's
    pixel-steps cost `upscale` times more. Honours cancel() at its next 'step'."""

    def __init__(self, step=0.0015, fixed=0.004, upscale=2.0):
        self.step, self.fixed, self.upscale = step, fixed, upscale
        self.batches = []
        self.cancelled = set()

    async def render(self, batch, on_progress=None):
        self.batches.append(batch)
        scale = batch.width * batch.height / 64**2 * (self.upscale if batch.task is JobTask.UPSCALE else 1.0)
        left = scale * (self.fixed + self.step * denoising_steps(batch.steps, batch.strength))
        while left > 0:
            if batch.batch_id in self.cancelled:
                raise RenderError("cancelled", "cancelled")
            await asyncio.sleep(min(0.005, left))
            left -= 0.005

    def cancel(self, batch_id):
        self.cancelled.add(batch_id)


def _calibrator(tmp_path, book, idle=lambda: True, refresh=0.0, clock=None):
    extra = {"clock": clock} if clock else {}
    return CostCalibrator(book, CalibrationStore(tmp_path / "costs.json"), "/models/tiny", "tiny",
                          tmp_path / "costs", idle, refresh, grace=0.0, poll=0.002, wait_poll=0.002, **extra)


async def test_the_measurement_finds_what_an_upscale_costs_and_keeps_it(tmp_path):
    book = PriceBook(CTX)
    renderer = CostRenderer(upscale=2.0)
    calibrator = _calibrator(tmp_path, book)
    assert calibrator.begin(renderer, "cpu", "float32") is None
    await asyncio.wait_for(calibrator.task, 30)
    assert book.measured and book.table.device == "cpu"
    # What the renderer really spends on the reference jobs, in default images:
    default = 0.004 + 0.0015 * 25
    upscale = 4 * 2.0 * (0.004 + 0.0015 * 7)
    assert book.ratio(task_of(params(**UPSCALE)), prices.Shape.of(params(**UPSCALE))) == pytest.approx(
        upscale / default, rel=0.25)
    kept = json.loads((tmp_path / "costs.json").read_text())
    assert list(kept) == [cost_key("/models/tiny", "cpu", "float32", None)]
    assert set(kept[cost_key("/models/tiny", "cpu", "float32", None)]["costs"]) == {"txt2img", "img2img", "upscale"}
    # Img2img and the upscale start from the first text-to-image render, which ran first.
    sources = {b.images[0].init_image for b in renderer.batches if b.task is not JobTask.TXT2IMG}
    assert len(sources) == 1 and None not in sources
    assert renderer.batches[0].task is JobTask.TXT2IMG


async def test_a_stored_table_prices_at_once_and_nothing_is_measured_before_it_is_due(tmp_path):
    table = PriceTable({"txt2img": TaskCost(1.0, 0.0), "img2img": TaskCost(1.0, 0.0),
                        "upscale": TaskCost(5.0, 0.0)}, measured_at=1000.0, device="cpu")
    CalibrationStore(tmp_path / "costs.json").put_entry(cost_key("/models/tiny", "cpu", "float32", None),
                                                        table_to_json(table))
    book, renderer = PriceBook(CTX), CostRenderer()
    calibrator = _calibrator(tmp_path, book, refresh=3600.0, clock=lambda: 1000.0 + 60)
    assert calibrator.begin(renderer, "cpu", "float32") == table
    assert book.price(params(**UPSCALE)) == 56  # 4 x 5 x 7 / 25 = 5.6
    await asyncio.sleep(0.1)
    assert renderer.batches == []
    await calibrator.stop()


@pytest.mark.parametrize("content", ["{not json", json.dumps({"x": 1}), "STORED_BAD"])
async def test_a_missing_or_corrupt_file_falls_back_to_the_defaults(tmp_path, content):
    key = cost_key("/models/tiny", "cpu", "float32", None)
    if content == "STORED_BAD":  # a negative cost is not a measurement
        content = json.dumps({key: {"measured_at": 1.0, "costs": {"txt2img": {"step": -1, "fixed": 0}}}})
    (tmp_path / "costs.json").write_text(content)
    book = PriceBook(CTX)
    calibrator = _calibrator(tmp_path, book, idle=lambda: False)
    assert calibrator.begin(CostRenderer(), "cpu", "float32") is None
    assert not book.measured and book.price(params(**UPSCALE)) == round(DEFAULT_UPSCALE_RATIO * 10)
    await calibrator.stop()


async def test_a_stale_table_is_measured_again_only_while_the_queue_is_idle(tmp_path):
    old = PriceTable({"txt2img": TaskCost(1.0, 0.0), "img2img": TaskCost(1.0, 0.0),
                      "upscale": TaskCost(9.0, 0.0)}, measured_at=0.0, device="cpu")
    CalibrationStore(tmp_path / "costs.json").put_entry(cost_key("/models/tiny", "cpu", "float32", None),
                                                        table_to_json(old))
    busy = {"now": True}
    book, renderer = PriceBook(CTX), CostRenderer(upscale=2.0)
    calibrator = _calibrator(tmp_path, book, idle=lambda: not busy["now"], refresh=3600.0, clock=lambda: 7200.0)
    calibrator.begin(renderer, "cpu", "float32")
    await asyncio.sleep(0.15)
    assert renderer.batches == [] and book.table == old  # due, but members' jobs come first
    busy["now"] = False
    for _ in range(3000):
        if book.table != old:
            break
        await asyncio.sleep(0.01)
    assert book.table != old and book.price(params(**UPSCALE)) < 4 * 9 * 7 * 10 // 25
    await calibrator.stop()


async def test_a_members_job_cancels_the_cost_render_in_flight_and_the_measurement_resumes(tmp_path):
    busy = {"now": False}
    renderer = CostRenderer(step=0.004)

    async def member_arrives_during_the_fifth_render():  # 3 warm-ups, then text to image's timed ones
        while len(renderer.batches) < 5:
            await asyncio.sleep(0.001)
        busy["now"] = True
        await asyncio.sleep(0.1)
        busy["now"] = False

    book = PriceBook(CTX)
    calibrator = _calibrator(tmp_path, book, idle=lambda: not busy["now"])
    calibrator.begin(renderer, "cpu", "float32")
    await asyncio.gather(member_arrives_during_the_fifth_render(), asyncio.wait_for(calibrator.task, 30))
    cancelled = [b for b in renderer.batches if b.batch_id in renderer.cancelled]
    assert len(cancelled) == 1 and book.measured
    at = renderer.batches.index(cancelled[0])
    warm_up, again = renderer.batches[at + 1:at + 3]
    assert warm_up.steps == 1 and (again.steps, again.task) == (cancelled[0].steps, cancelled[0].task)
    plan = 3 * (1 + 2 * costs.REPEATS)  # per task: a warm-up, then REPEATS renders at each of two points
    assert len(renderer.batches) == plan + 1 + 1  # the plan's renders, the cancelled one and the warm-up


async def test_a_failed_measurement_keeps_the_defaults(tmp_path):
    class Broken(CostRenderer):
        async def render(self, batch, on_progress=None):
            raise RenderError("error", "boom")

    book = PriceBook(CTX)
    calibrator = _calibrator(tmp_path, book)
    calibrator.begin(Broken(), "cpu", "float32")
    await asyncio.wait_for(calibrator.task, 5)
    assert not book.measured and not (tmp_path / "costs.json").exists()
