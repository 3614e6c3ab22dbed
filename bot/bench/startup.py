"""`python -m bot bench`'s start-up figure: how long after start the first member gets an image.

A job is left queued in a fresh DATA_DIR (as a restart finds one), then the bot's services start the
way PixelBot does without Discord: SQLite and queue recovery, the renderer process loads the model,
BATCHING=auto with no stored calibration (a first start on this device: the worst case) and the
worker joins the dispatcher; the clock stops when the job's PNG is delivered. Beside it, the floor:
a bare renderer process that loads the model and renders the same image once. And, for the record,
the same start with the calibration measured before the first job (as it was before).

The three alternate run by run, so drift in the machine's speed hits them alike.
"""
from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from bot.models import GenerationRequest, ImageSpec, RenderBatch, Requester

MODES = ("now", "bare", "before")


async def _no_reply(job, position, eta):
    return None


def _services(model: str, data_dir: Path):
    from bot.bench.delivered import Delivered
    from bot.config import load_settings
    from bot.database import Database
    from bot.renderer.profiles import model_label, resolve_profile
    from bot.scheduler import FairScheduler
    from bot.services.admission import Admission
    from bot.services.dispatcher import Dispatcher, DispatchSettings
    from bot.services.jobs import JobStore
    from bot.services.lifecycle import JobService

    settings = load_settings({"DISCORD_TOKEN": "bench", "DATA_DIR": str(data_dir), "BATCHING": "auto"})
    db = Database(settings.db_path)
    store = JobStore(db, data_dir)
    profile = resolve_profile(model)
    events = Delivered()
    dispatch = DispatchSettings(images_dir=settings.images_dir, max_batch_images=settings.max_batch_images,
                                progress_interval=1.0)
    dispatcher = Dispatcher(store, FairScheduler(), [], events, dispatch)
    jobs = JobService(Admission(settings, profile, store, model_label(model)), store, dispatcher)
    return settings, db, profile, events, dispatcher, jobs


async def _leave_a_queued_job(model: str, data_dir: Path, steps: int) -> int:
    """A job queued in SQLite with no renderer to take it, then the services stopped."""
    _, db, _, _, _, jobs = _services(model, data_dir)
    await db.connect()
    await jobs.start()
    job = await jobs.submit(Requester(user_id=1, channel_id=1),
                            GenerationRequest(prompt="a photo of a cat", steps=steps, seed=0), _no_reply)
    await jobs.stop()
    await db.close()
    return job.id


async def _first_image_after_start(model: str, device: str, dtype: str, data_dir: Path, job_id: int,
                                   calibrate_first: bool) -> float:
    from bot.renderer.pool import build_pool
    from bot.renderer.profiles import model_label
    from bot.services.calibration import BatchingCalibrator, CalibrationStore, decide_batching

    started = time.perf_counter()
    settings, db, profile, events, dispatcher, jobs = _services(model, data_dir)
    await db.connect()
    await jobs.start()  # recovers the queued job
    pool = build_pool(model, [device], dtype)
    calibrator = None
    try:
        worker = pool.workers[0]
        info = await worker.start()
        label = model_label(model)
        if calibrate_first:
            dispatcher.settings.batching = await decide_batching(
                worker, profile, data_dir / "calibration", settings.max_batch_images, label)
        else:  # what Services._start_worker (bot/wiring.py) does
            calibrator = BatchingCalibrator(dispatcher.settings, CalibrationStore(data_dir / "calibration.json"),
                                            profile, model, label, data_dir / "calibration",
                                            settings.max_batch_images, dispatcher.idle)
            calibrator.begin(worker, info.device, info.dtype)
        dispatcher.add_workers([worker])
        while job_id not in events.times:
            events.event.clear()
            await events.event.wait()
        return events.times[job_id] - started
    finally:
        if calibrator is not None:
            await calibrator.stop()
        await jobs.stop()
        await pool.close()
        await db.close()


async def _bare_load_and_render(model: str, device: str, dtype: str, out: Path, steps: int) -> float:
    """Spawn a renderer process, load the model, render the job's image once: the floor."""
    from bot.renderer.pool import build_pool
    from bot.renderer.profiles import resolve_profile, sizes_for_aspect

    profile = resolve_profile(model)
    width, height = sizes_for_aspect(profile, "1:1")
    out.mkdir(parents=True, exist_ok=True)
    spec = ImageSpec(job_id=1, index=0, prompt="a photo of a cat", negative_prompt="", seed=0,
                     output_path=str(out / "bare.png"))
    batch = RenderBatch(batch_id=1, width=width, height=height, steps=steps, guidance=profile.default_guidance,
                        images=(spec,), model_label="bench")
    started = time.perf_counter()
    pool = build_pool(model, [device], dtype)
    try:
        await pool.workers[0].start()
        await pool.workers[0].render(batch)
        return time.perf_counter() - started
    finally:
        await pool.close()


async def measure_first_image(model: str, device: str, dtype: str, steps: int, runs: int,
                              before_runs: int = 1) -> dict[str, list[float]]:
    """Seconds from start to the first image, per mode, over `runs` rounds (now and bare alternate;
    the old way, the slowest, only in the first `before_runs` rounds: it is there for the record)."""
    times: dict[str, list[float]] = {mode: [] for mode in MODES if mode != "before" or before_runs}
    for run in range(runs):
        modes = ("now", "bare") if run % 2 == 0 else ("bare", "now")
        order = (*modes, "before") if run < before_runs else modes
        for mode in order:
            tmp = Path(tempfile.mkdtemp(prefix="pixelforge-startup-"))
            try:
                if mode == "bare":
                    took = await _bare_load_and_render(model, device, dtype, tmp, steps)
                else:
                    job_id = await _leave_a_queued_job(model, tmp, steps)
                    took = await _first_image_after_start(model, device, dtype, tmp, job_id,
                                                          calibrate_first=mode == "before")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            times[mode].append(took)
            await asyncio.sleep(0.3)  # let the last process's threads go idle
    return times


def report(times: dict[str, list[float]], spread) -> list[str]:
    def fmt(values: list[float]) -> str:
        median, low, high = spread(values)
        return f"{median:.2f} s (IQR {low:.2f}-{high:.2f}, min {min(values):.2f}, max {max(values):.2f})"

    lines = [f"first image after start (a job queued at start, BATCHING=auto, nothing stored): {fmt(times['now'])}"]
    if "bare" in times:
        lines.append(f"  bare model load + one render (fresh renderer process): {fmt(times['bare'])}")
        gaps = sorted(n - b for n, b in zip(times["now"], times["bare"], strict=True))
        best = min(times["now"]) - min(times["bare"])  # the runs least disturbed by other load
        lines.append(f"  first image minus bare, per round: median {gaps[len(gaps) // 2]:+.2f} s, "
                     f"worst {gaps[-1]:+.2f} s; best runs {best:+.2f} s (goal within 1 s)")
    if "before" in times:
        lines.append(f"  with the calibration measured before the first job (as before, "
                     f"{len(times['before'])} run(s)): {fmt(times['before'])}")
    lines.append(f"  over {len(times['now'])} runs")
    return lines
