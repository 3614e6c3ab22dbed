"""`python -m bot bench --gpu`: images per second of full-size SD 1.5 and SDXL on this device, and the
share of the device's physical ceiling they reach, with and without each speed lever.

The pipelines are built from the published configs with random weights (bot/bench/gpu_models.py: no
hub, no download; FLOPs do not depend on weights). For each model, one row per lever set, each adding
one lever to the row above (SDPA, channels_last, fused QKV, an fp16 VAE decode for SDXL, torch.compile
of the UNet on CUDA), then the same at batch 2 and 4 (compatible jobs in one call). Each row: a
warm-up call, then `--gpu-runs` timed calls (device synchronised); the median gives img/s and
ms/img; TFLOP/s achieved = FLOPs per image (counted, see gpu_models.py) x images / seconds; % of the
device's dense fp16/bf16 tensor ceiling (CEILINGS, matched on the CUDA device name). Then the VAE
decode at twice the edge, untiled vs tiled, and the serving layer's own cost: a job through the
whole stack (admission, queue, renderer process, PNG, SQLite) / the bare pipeline call, as
`python -m bot bench` measures it, on the same random-weight model saved with save_pretrained.

Without CUDA the full-size table prints "no device: unmeasured" (with the FLOPs per image, which need
no device) and the same code path runs on small configs (`--gpu-config small` runs only that), so it
is exercised on any CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from bot.bench.gpu_models import FULL_SPECS, SMALL_SPECS, ModelSpec, build_pipeline, spec_flops
from bot.renderer.levers import COMPILE_MODES, Levers, apply_levers

# Dense (no sparsity) fp16/bf16 tensor-core TFLOP/s; the first name fragment found in the CUDA device
# name wins (so "GH200" before "H200", "L40S" before "L4"). H200: the project's figure (NVIDIA's
# sheet gives 989 dense for the SXM part at full clocks). Consumer cards: fp32 accumulation, which is
# what PyTorch uses.
CEILINGS: tuple[tuple[str, float], ...] = (
    ("GH200", 989.0), ("H200", 790.0), ("H100 NVL", 835.0), ("H100 PCIE", 756.0), ("H100", 989.0),
    ("A100", 312.0), ("L40S", 362.0), ("L40", 181.0), ("L4", 121.0), ("A10", 125.0),
    ("RTX 4090", 165.0), ("RTX 3090", 71.0), ("V100", 125.0), ("T4", 65.0),
)
REFERENCE = ("H200", 790.0)  # for the "at the ceiling" figure when no device is present


def ceiling_for(device_name: str | None) -> float | None:
    """Dense fp16/bf16 TFLOP/s of a known device, None for anything else (CPU, unknown GPU)."""
    name = (device_name or "").upper()
    return next((tflops for fragment, tflops in CEILINGS if fragment in name), None)


@dataclass(frozen=True)
class Row:
    label: str
    levers: Levers
    batch: int


def lever_rows(spec: ModelSpec, cuda: bool, compile_mode: str) -> list[Row]:
    """Each row adds one lever to the one above; the batch rows keep the last lever set."""
    rows = [Row("eager, classic attention", Levers(sdpa=False), 1), Row("+ SDPA", Levers(), 1)]
    rows.append(Row("+ channels_last", replace(rows[-1].levers, channels_last=True), 1))
    rows.append(Row("+ fused QKV", replace(rows[-1].levers, fuse_qkv=True), 1))
    if spec.family == "sdxl":  # SD 1.5's pipeline never upcasts its VAE
        rows.append(Row("+ fp16 VAE decode (no upcast)", replace(rows[-1].levers, vae_upcast=False), 1))
    if cuda and compile_mode != "off":  # on a CPU, compiling takes minutes and says nothing about a GPU
        rows.append(Row(f"+ torch.compile UNet ({compile_mode})", replace(rows[-1].levers, compile=compile_mode), 1))
    best = rows[-1].levers
    rows += [Row("  same, batch 2", best, 2), Row("  same, batch 4", best, 4)]
    return rows


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _call(pipe, spec: ModelSpec, device: str, batch: int, size: int, steps: int) -> float:
    """Seconds of one pipeline call as the renderer makes it (one generator per image, PIL output)."""
    import torch

    generators = [torch.Generator(device).manual_seed(n) for n in range(batch)]
    _sync(device)
    started = time.perf_counter()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random weights may give NaN pixels: numpy warns on the cast
        pipe(prompt=["a lighthouse on a cliff at dusk"] * batch, negative_prompt=["low quality"] * batch,
             num_inference_steps=steps, guidance_scale=spec.guidance, width=size, height=size,
             generator=generators, output_type="pil")
    _sync(device)
    return time.perf_counter() - started


def _vae_tiling(pipe, device: str, edge: int, runs: int) -> dict[str, str]:
    """ms per VAE decode at `edge` px, untiled and tiled (and peak memory on CUDA)."""
    import torch

    from bot.renderer.render import free_memory, is_oom

    vae = pipe.vae
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    latents = torch.randn(1, vae.config.latent_channels, edge // scale, edge // scale, device=device, dtype=vae.dtype)
    out: dict[str, str] = {}
    for tiled in (False, True):
        (vae.enable_tiling if tiled else vae.disable_tiling)()
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        try:
            times = []
            for _ in range(runs + 1):
                _sync(device)
                started = time.perf_counter()
                with torch.inference_mode():
                    vae.decode(latents)
                _sync(device)
                times.append(time.perf_counter() - started)
            text = f"{statistics.median(times[1:]) * 1000:.1f} ms"
            if device.startswith("cuda"):
                text += f" (peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB)"
        except Exception as exc:
            if not is_oom(exc):
                raise
            text = "out of memory"
        if text == "out of memory":
            free_memory(device)
        out["tiled" if tiled else "untiled"] = text
    vae.disable_tiling()
    return out


def measure_model(spec: ModelSpec, device: str, dtype, runs: int, compile_mode: str, ceiling: float | None,
                  save_to: Path | None = None) -> list[str]:
    """The table lines of one model (and `save_pretrained` of its untouched pipeline into `save_to`)."""
    flops = spec_flops(spec)
    pipe = build_pipeline(spec, device, dtype)
    if save_to is not None:
        pipe.save_pretrained(str(save_to))  # before any lever: fused layers would be saved as extra weights
    lines = [f"{spec.label} at {spec.size}x{spec.size}, {spec.steps} steps, CFG {spec.guidance:g}: "
             f"{flops.per_image / 1e12:.4g} TFLOP per image (UNet {flops.unet_call / 1e12:.4g} TFLOP per step at "
             f"batch 2, text encoders {flops.text / 1e12:.3g}, VAE decode {flops.vae_decode / 1e12:.3g})",
             f"  {'lever set':<40} {'img/s':>8} {'ms/img':>9} {'TFLOP/s':>8} {'% ceiling':>9}  warm-up"]
    cuda = device.startswith("cuda")
    for row in lever_rows(spec, cuda, compile_mode):
        apply_levers(pipe, row.levers, warm_up=False)  # the row's own warm-up call compiles
        warm = _call(pipe, spec, device, row.batch, spec.size, spec.steps)
        seconds = statistics.median(_call(pipe, spec, device, row.batch, spec.size, spec.steps) for _ in range(runs))
        achieved = flops.per_image * row.batch / seconds / 1e12
        share = f"{achieved / ceiling * 100:.1f}%" if ceiling else "unknown"
        lines.append(f"  {row.label:<40} {row.batch / seconds:>8.3f} {seconds * 1000 / row.batch:>9.1f} "
                     f"{achieved:>8.4g} {share:>9}  {warm:.1f} s")
    tiling = _vae_tiling(pipe, device, spec.size * 2, runs)
    lines.append(f"  VAE decode at {spec.size * 2}x{spec.size * 2} (above the model's size, as after a 2x upscale): "
                 f"untiled {tiling['untiled']}, tiled {tiling['tiled']}")
    del pipe
    gc.collect()
    with contextlib.suppress(Exception):
        from bot.renderer.render import free_memory

        free_memory(device)
    return lines


def serving_cost(spec: ModelSpec, folder: Path, device: str, dtype: str, runs: int, measure_end_to_end) -> str:
    """End-to-end job through the bot's renderer ÷ bare pipeline call, on the saved random-weight model."""
    from bot.renderer.worker import bare_pipeline_call

    bare = bare_pipeline_call(str(folder), device, dtype, spec.size, spec.size, spec.steps, spec.guidance)
    try:
        e2e = asyncio.run(measure_end_to_end(str(folder), device, dtype, spec.size, spec.steps, spec.guidance,
                                             runs, bare))
    finally:
        del bare
        gc.collect()
    return (f"serving layer's own cost, {spec.label}: end-to-end job {e2e['served'] * 1000:.1f} ms vs bare pipeline "
            f"{e2e['bare'] * 1000:.1f} ms (medians): ratio {e2e['ratio']:.3f}, IQR {e2e['ratio_p25']:.3f}-"
            f"{e2e['ratio_p75']:.3f} over {runs} paired runs (goal <= 1.02)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("GPU speed (--gpu)")
    group.add_argument("--gpu", action="store_true", help="only the GPU speed table (this module's doc)")
    group.add_argument("--gpu-config", choices=("auto", "full", "small"), default="auto",
                       help="auto: full-size on CUDA, else 'no device' and the small configs; small: only those")
    group.add_argument("--gpu-models", default="sd15,sdxl", help="comma-separated: sd15, sdxl")
    group.add_argument("--gpu-runs", type=int, default=3, help="timed calls per row (after one warm-up)")
    group.add_argument("--gpu-compile", choices=COMPILE_MODES, default="default", help="torch.compile mode of its row")
    group.add_argument("--gpu-serving", choices=("on", "off"), default="on",
                       help="also measure end-to-end / bare through the renderer (saves each model to disk)")


def main(args: argparse.Namespace, measure_end_to_end) -> int:
    """`measure_end_to_end` is bot.bench.run's (passed in: this module stays below run.py)."""
    from bot.renderer.render import quiet_libraries

    quiet_libraries()
    import torch

    from bot.renderer.render import dtype_name, resolve_device, resolve_dtype

    names = [n.strip() for n in args.gpu_models.split(",") if n.strip()]
    unknown = [n for n in names if n not in FULL_SPECS]
    if unknown or not names:
        print(f"--gpu-models: unknown {', '.join(unknown) or '(none)'}; use sd15, sdxl")
        return 2
    device = resolve_device(args.device)
    cuda = device.startswith("cuda") and torch.cuda.is_available()
    full = args.gpu_config == "full" or (args.gpu_config == "auto" and cuda)
    if args.gpu_config != "small" and not cuda:
        print("full-size GPU table: no device: unmeasured (no CUDA device here)")
        for name in names:  # counted on the meta device: known without one
            spec, flops = FULL_SPECS[name], spec_flops(FULL_SPECS[name])
            print(f"  {spec.label} at {spec.size}x{spec.size}, {spec.steps} steps with CFG: "
                  f"{flops.per_image / 1e12:.2f} TFLOP per image -> at most "
                  f"{REFERENCE[1] * 1e12 / flops.per_image:.2f} img/s on an {REFERENCE[0]} ({REFERENCE[1]:g} TFLOP/s)")
        full = False
    specs = [(FULL_SPECS if full else SMALL_SPECS)[n] for n in names]
    device_name = torch.cuda.get_device_name(device) if cuda else "cpu"
    ceiling = ceiling_for(device_name) if cuda else None
    dtype = resolve_dtype(args.dtype, device, None)
    print(f"GPU speed table ({'full-size' if full else 'small configs, the same code path'}) on {device_name}, "
          f"{dtype_name(dtype)}, torch {torch.__version__}; ceiling "
          + (f"{ceiling:g} TFLOP/s dense fp16/bf16" if ceiling else "unknown") + f"; median of {args.gpu_runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            folder = Path(tmp) / spec.name if args.gpu_serving == "on" else None
            print("\n".join(measure_model(spec, device, dtype, max(1, args.gpu_runs), args.gpu_compile, ceiling,
                                          folder)), flush=True)
            if folder is not None:
                print(serving_cost(spec, folder, device, dtype_name(dtype), max(1, args.gpu_runs), measure_end_to_end),
                      flush=True)
    return 0
