"""Start-up work never delays a member's job: batching's calibration runs after the first image,
and a restart with its result kept renders no calibration at all."""
from __future__ import annotations

import asyncio
import json

from tests.e2e_helpers import imagine, job_id_of, wait_rendering, wait_result, wait_statuses

SLOW = json.dumps({"slowly": "slow:3"})  # 4 steps: 12 s to stop it mid-render
RESULT = "batching calibration: 4 images batched"
STORED = "batching calibration (stored): 4 images batched"


async def _log_line(world, text: str, timeout: float = 120.0) -> None:
    log = world.tmp_path / "bot.log"
    for _ in range(int(timeout * 10)):
        if text in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never logged:\n{log.read_text(errors='replace')[-4000:]}")


def _lines(world) -> list[str]:
    return (world.tmp_path / "bot.log").read_text(errors="replace").splitlines()


def _first(lines: list[str], text: str) -> int:
    found = [n for n, line in enumerate(lines) if text in line]
    assert found, f"{text!r} not logged"
    return found[0]


async def test_a_job_waiting_at_start_is_delivered_before_calibration_renders_and_a_restart_reuses_it(world):
    server = world.server
    # A job left queued by a stop in the middle of its render: it waits in SQLite for the next start.
    first = await world.start_bot(PIXELFORGE_TEST_FAULTS=SLOW, BATCHING="off")
    waiting = await imagine(world, world.alice, "slowly a lighthouse")
    await wait_rendering(world, waiting)
    await first.stop()
    assert await wait_statuses(world.data_dir, ["queued"]) == ["queued"]

    await world.start_bot(BATCHING="auto")
    result = await wait_result(server, waiting, timeout=120)
    await _log_line(world, RESULT)  # the measurement ran afterwards, to the end
    lines = _lines(world)
    delivered = _first(lines, f"job {job_id_of(result)}: 1 image(s) delivered")
    assert _first(lines, "batching off until measured") < delivered  # the safe default served it
    assert delivered < _first(lines, "batching calibration: render 1 ")
    renders = [line for line in lines if "batching calibration: render " in line]
    assert len(renders) == 6, renders  # warm-up, one batch of 4, 4 single: not pre-empted, not repeated
    (kept,) = json.loads((world.data_dir / "calibration.json").read_text()).values()
    assert kept["batched"] > 0 and kept["single"] > 0

    # Restarted with the result in DATA_DIR: it is used at once, nothing is measured again.
    await world.bots[-1].stop()
    start = len(_lines(world))
    await world.start_bot(BATCHING="auto")
    await wait_result(server, await imagine(world, world.bob, "a harbour at dawn"), timeout=60)
    after = _lines(world)[start:]
    assert any(STORED in line for line in after)
    assert not any("batching calibration: render " in line for line in after)
