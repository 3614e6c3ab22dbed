"""The batching decision follows a measurement, in both directions; it is kept per device and model,
and a member's job always goes before it."""
import asyncio
import json

from bot.errors import RenderError
from bot.renderer.profiles import profile_for
from bot.services.calibration import BatchingCalibrator, CalibrationStore, decide_batching

PROFILE = profile_for("StableDiffusionPipeline", 64)


class TimedRenderer:
    """Sleeps per call and per image: batching pays when the per-call cost dominates. Honours
    cancel() at its next 'step' (every 10 ms), as the real renderer does."""

    def __init__(self, per_call: float, per_image: float):
        self.per_call, self.per_image = per_call, per_image
        self.sizes = []
        self.ids = []
        self.cancelled = set()

    async def render(self, batch, on_progress=None):
        self.sizes.append(len(batch.images))
        self.ids.append(batch.batch_id)
        left = self.per_call + self.per_image * len(batch.images)
        while left > 0:
            if batch.batch_id in self.cancelled:
                raise RenderError("cancelled", "cancelled")
            await asyncio.sleep(min(0.01, left))
            left -= 0.01

    def cancel(self, batch_id):
        self.cancelled.add(batch_id)


class Settings:
    batching = None


def _calibrator(store_path, idle=lambda: True, images=4):
    return BatchingCalibrator(Settings(), CalibrationStore(store_path), PROFILE, "/models/tiny", "tiny",
                              store_path.parent / "renders", images, idle, grace=0.0, poll=0.005, wait_poll=0.005)


async def test_batching_is_enabled_when_one_call_for_many_images_is_faster(tmp_path):
    renderer = TimedRenderer(per_call=0.05, per_image=0.01)
    assert await decide_batching(renderer, PROFILE, tmp_path / "c", 4, "m")
    assert renderer.sizes == [1, 4, 1, 1, 1, 1]


async def test_batching_stays_off_when_it_does_not_pay(tmp_path):
    renderer = TimedRenderer(per_call=0.0, per_image=0.03)
    assert not await decide_batching(renderer, PROFILE, tmp_path / "c", 4, "m")


async def test_batching_stays_off_when_the_calibration_fails(tmp_path):
    class Broken:
        async def render(self, batch, on_progress=None):
            raise RuntimeError("no GPU")
    assert not await decide_batching(Broken(), PROFILE, tmp_path / "c", 4, "m")


async def test_batching_is_off_until_measured_then_follows_the_stored_measurement(tmp_path):
    renderer = TimedRenderer(per_call=0.05, per_image=0.01)
    calibrator = _calibrator(tmp_path / "calibration.json")
    assert calibrator.begin(renderer, "cpu", "float32") is None
    assert calibrator.settings.batching is False  # the safe default, before any render
    await calibrator.task
    assert calibrator.settings.batching is True and renderer.sizes == [1, 4, 1, 1, 1, 1]
    (record,) = json.loads((tmp_path / "calibration.json").read_text()).values()
    assert record["single"] > record["batched"] > 0
    assert not (tmp_path / "renders").exists()  # its images are not kept


async def test_a_restart_with_a_stored_result_renders_nothing(tmp_path):
    first = TimedRenderer(per_call=0.05, per_image=0.01)
    calibrator = _calibrator(tmp_path / "calibration.json")
    calibrator.begin(first, "cpu", "float32")
    await calibrator.task

    again = TimedRenderer(per_call=0.05, per_image=0.01)
    restarted = _calibrator(tmp_path / "calibration.json")
    stored = restarted.begin(again, "cpu", "float32")
    assert stored is not None and stored.enabled
    assert restarted.settings.batching is True and restarted.task is None
    await asyncio.sleep(0.05)
    assert again.sizes == []


async def test_another_device_or_dtype_is_measured_anew(tmp_path):
    calibrator = _calibrator(tmp_path / "calibration.json")
    calibrator.begin(TimedRenderer(per_call=0.05, per_image=0.01), "cpu", "float32")
    await calibrator.task
    other = TimedRenderer(per_call=0.0, per_image=0.03)
    on_gpu = _calibrator(tmp_path / "calibration.json")
    assert on_gpu.begin(other, "cuda:0", "float16") is None
    await on_gpu.task
    assert other.sizes == [1, 4, 1, 1, 1, 1] and on_gpu.settings.batching is False
    assert len(json.loads((tmp_path / "calibration.json").read_text())) == 2  # both kept


async def test_nothing_renders_while_the_queue_is_busy(tmp_path):
    busy = {"now": True}
    renderer = TimedRenderer(per_call=0.02, per_image=0.005)
    calibrator = _calibrator(tmp_path / "calibration.json", idle=lambda: not busy["now"])
    calibrator.begin(renderer, "cpu", "float32")
    await asyncio.sleep(0.1)
    assert renderer.sizes == []
    busy["now"] = False
    await asyncio.wait_for(calibrator.task, 5)
    assert renderer.sizes == [1, 4, 1, 1, 1, 1]


async def test_a_members_job_cancels_the_render_in_flight_and_the_measurement_resumes(tmp_path):
    busy = {"now": False}
    renderer = TimedRenderer(per_call=0.05, per_image=0.02)

    async def member_arrives_during_the_batched_render():
        while len(renderer.sizes) < 2:
            await asyncio.sleep(0.001)
        busy["now"] = True
        await asyncio.sleep(0.1)
        busy["now"] = False

    calibrator = _calibrator(tmp_path / "calibration.json", idle=lambda: not busy["now"])
    calibrator.begin(renderer, "cpu", "float32")
    await asyncio.gather(member_arrives_during_the_batched_render(), asyncio.wait_for(calibrator.task, 5))
    # warm-up, batched (cancelled), then warm-up again and the whole rest: nothing measured twice
    assert renderer.sizes == [1, 4, 1, 4, 1, 1, 1, 1]
    assert renderer.ids[1] in renderer.cancelled and len(set(renderer.ids)) == len(renderer.ids)
    assert calibrator.settings.batching is True
    assert calibrator.store.get(_key(calibrator)) is not None


def _key(calibrator):
    from bot.renderer.profiles import sizes_for_aspect
    from bot.services.calibration import CalibrationKey

    width, height = sizes_for_aspect(PROFILE, "1:1")
    return CalibrationKey(calibrator.model, "cpu", "float32", width, height, 4)


async def test_a_render_error_leaves_batching_off_and_stores_nothing(tmp_path):
    class Crashing(TimedRenderer):
        async def render(self, batch, on_progress=None):
            raise RenderError("crash", "the renderer died")

    calibrator = _calibrator(tmp_path / "calibration.json")
    calibrator.begin(Crashing(0, 0), "cpu", "float32")
    await calibrator.task
    assert calibrator.settings.batching is False and not (tmp_path / "calibration.json").exists()


async def test_an_unreadable_store_means_measuring_again(tmp_path):
    (tmp_path / "calibration.json").write_text("{half a fi")
    renderer = TimedRenderer(per_call=0.05, per_image=0.01)
    calibrator = _calibrator(tmp_path / "calibration.json")
    assert calibrator.begin(renderer, "cpu", "float32") is None
    await calibrator.task
    assert calibrator.store.get(_key(calibrator)) is not None
