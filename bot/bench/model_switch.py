"""A model switch's cost (IMAGE_MODELS, bot/renderer/model_cache.py), in this process on the
renderer's own path (ModelCache.prepare, then render.render_batch):

- a job on the model already loaded (no switch);
- a job on the other model with MODEL_CACHE_SIZE=1: the held one is unloaded, the other loaded
  (what a GPU with room for one model pays at every switch);
- a job on the other model with MODEL_CACHE_SIZE=2: both held, the switch costs nothing but the
  render.

Jobs alternate between the two models, so every job of the two switching rows is a switch. The
second model is `--second-model`, else, with the tiny default, a second tiny model built now, else
the same model loaded a second time under another name (a load costs what it costs). On CUDA it also
prints the memory one and two loaded models take (torch.cuda.max_memory_allocated).
"""
from __future__ import annotations

import gc
import statistics
import tempfile
import time
from pathlib import Path


def _spread(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return statistics.median(values), q[0], q[-1]


def _peak_mib(device: str) -> float | None:
    import torch

    if not device.startswith("cuda"):
        return None
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def _reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def measure(first: str, second: str, device: str, dtype: str, width: int, height: int, steps: int,
            guidance: float, runs: int) -> dict[str, list[float] | float | None]:
    from bot.models import ImageSpec, RenderBatch
    from bot.renderer import render
    from bot.renderer.model_cache import ModelCache

    def loader(source: str):
        return render.load_pipelines(source.split("#", 1)[0], device, dtype)  # "#2": the same model again

    with tempfile.TemporaryDirectory() as tmp:
        spec = ImageSpec(job_id=1, index=0, prompt="a photo of a cat", negative_prompt="", seed=0,
                         output_path=str(Path(tmp) / "x.png"))

        def batch(source: str) -> RenderBatch:
            return RenderBatch(batch_id=1, width=width, height=height, steps=steps, guidance=guidance,
                               images=(spec,), model_source=source)

        def job(cache: ModelCache, source: str) -> float:
            t0 = time.perf_counter()  # ends with PIL images on the CPU: no device sync needed
            loaded, prepared = cache.prepare(batch(source), first)
            render.render_batch(loaded, prepared)
            return time.perf_counter() - t0

        out: dict[str, list[float] | float | None] = {"same": [], "evict": [], "cached": []}
        _reset_peak(render.resolve_device(device))
        one = ModelCache(loader, size=1)
        job(one, first)  # load + warm-up
        resolved = one.entries[first].loaded.device
        out["one_model_mib"] = _peak_mib(resolved)
        for _ in range(runs):
            out["same"].append(job(one, first))  # type: ignore[union-attr]
        for i in range(runs * 2):
            out["evict"].append(job(one, second if i % 2 == 0 else first))  # type: ignore[union-attr]
        del one
        gc.collect()
        render.free_memory(resolved)
        _reset_peak(resolved)
        two = ModelCache(loader, size=2)
        job(two, first), job(two, second)  # both loaded and warm
        out["two_models_mib"] = _peak_mib(resolved)
        for i in range(runs * 2):
            out["cached"].append(job(two, second if i % 2 == 0 else first))  # type: ignore[union-attr]
        del two
        gc.collect()
    return out


def report(args, model: str, width: int, height: int, steps: int, guidance: float) -> str:
    """The bench's lines (`args`: --device, --dtype, --second-model, --switch-runs)."""
    second = getattr(args, "second_model", None)
    with tempfile.TemporaryDirectory() as tmp:
        if not second and not args.model:
            from bot.renderer.tiny import build_tiny_pipeline

            second = str(build_tiny_pipeline(Path(tmp) / "tiny-other", seed=1))
        second = second or f"{model}#2"
        runs = max(1, int(getattr(args, "switch_runs", 4)))
        m = measure(model, second, args.device, args.dtype, width, height, steps, guidance, runs)
    same, s_lo, s_hi = _spread(m["same"])  # type: ignore[arg-type]
    evict, e_lo, e_hi = _spread(m["evict"])  # type: ignore[arg-type]
    cached, c_lo, c_hi = _spread(m["cached"])  # type: ignore[arg-type]
    lines = [
        f"model switch ({2 * runs} alternating jobs each, medians, IQR): same model {same * 1000:.0f} ms "
        f"({s_lo * 1000:.0f}-{s_hi * 1000:.0f}); switch with MODEL_CACHE_SIZE=1 (unload + load) "
        f"{evict * 1000:.0f} ms ({e_lo * 1000:.0f}-{e_hi * 1000:.0f}) = x{evict / same:.2f}; "
        f"switch to a cached model (MODEL_CACHE_SIZE=2) {cached * 1000:.0f} ms ({c_lo * 1000:.0f}-{c_hi * 1000:.0f}) "
        f"= x{cached / same:.2f}",
    ]
    if m.get("one_model_mib") is not None:
        lines.append(f"model cache memory (CUDA peak allocated): one model {m['one_model_mib']:.0f} MiB, "
                     f"two models {m['two_models_mib']:.0f} MiB")
    return "\n".join(lines)
