"""The batching decision follows a measurement, in both directions."""
import asyncio

from bot.renderer.profiles import profile_for
from bot.services.calibration import decide_batching


class TimedRenderer:
    """Sleeps per call and per image: batching pays when the per-call cost dominates."""

    def __init__(self, per_call: float, per_image: float):
        self.per_call, self.per_image = per_call, per_image
        self.sizes = []

    async def render(self, batch, on_progress=None):
        self.sizes.append(len(batch.images))
        await asyncio.sleep(self.per_call + self.per_image * len(batch.images))


async def test_batching_is_enabled_when_one_call_for_many_images_is_faster(tmp_path):
    renderer = TimedRenderer(per_call=0.05, per_image=0.01)
    assert await decide_batching(renderer, profile_for("StableDiffusionPipeline", 64), tmp_path / "c", 4, "m")
    assert renderer.sizes == [1, 4, 1, 1, 1, 1]


async def test_batching_stays_off_when_it_does_not_pay(tmp_path):
    renderer = TimedRenderer(per_call=0.0, per_image=0.03)
    assert not await decide_batching(renderer, profile_for("StableDiffusionPipeline", 64), tmp_path / "c", 4, "m")


async def test_batching_stays_off_when_the_calibration_fails(tmp_path):
    class Broken:
        async def render(self, batch, on_progress=None):
            raise RuntimeError("no GPU")
    assert not await decide_batching(Broken(), profile_for("StableDiffusionPipeline", 64), tmp_path / "c", 4, "m")
