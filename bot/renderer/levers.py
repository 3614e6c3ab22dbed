"""Speed levers diffusers supports, applied to a loaded pipeline in one place.

    levers = from_env(os.environ)          # RENDER_CHANNELS_LAST, RENDER_FUSE_QKV, RENDER_COMPILE
    applied = apply_levers(pipe, levers)   # ["sdpa", "channels_last", ...]

Used by the renderer's loader (render.load_pipelines, every worker and Ray actor) and by
`python -m bot bench --gpu`, which measures each lever on a device. Defaults are what the bot did
before: SDPA attention (diffusers' own default on PyTorch 2), nothing else. The others are opt-in:
- channels_last: NHWC weights for the UNet and VAE convolutions (faster tensor-core convolutions
  on recent NVIDIA GPUs; tiny float differences from another summation order);
- fuse_qkv: one matmul for the query/key/value projections (`fuse_qkv_projections`, diffusers
  marks it experimental; float differences of the order of 1e-6);
- compile: `torch.compile` of the UNet. The first call at each new shape (size, batch) compiles,
  which can take minutes: apply_levers renders once at the model's default size here, during the
  load (which has its own long timeout), so the first member's job does not hit the step timeout.
The VAE's fp16 safety is the model's own `force_upcast` config (SDXL's VAE upcasts to fp32 to decode;
an fp16-fix VAE says false); the bench measures the difference, the bot keeps the model's choice.
VAE tiling changes pixels at tile seams: the bench measures it above 1024², the bot tiles only an
upscale that ran out of memory (upscale.py).

torch and diffusers are imported inside functions: `from_env` is torch-free (config.py uses it).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("pixelforge.renderer.levers")

COMPILE_MODES = ("off", "default", "max-autotune", "max-autotune-no-cudagraphs")
_ON, _OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no", "")


@dataclass(frozen=True)
class Levers:
    sdpa: bool = True  # False: the classic attention processor (explicit matmuls), for the bench's baseline
    channels_last: bool = False
    fuse_qkv: bool = False
    compile: str = "off"  # one of COMPILE_MODES
    vae_upcast: bool | None = None  # None: the VAE config's force_upcast; False: decode in half precision
    vae_tiling: bool = False

    @property
    def active(self) -> bool:
        return self != Levers()


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = str(env.get(name, "")).strip().lower()
    if raw in _ON:
        return True
    if raw in _OFF:
        return False
    raise ValueError(f"{name} must be on or off, got {raw!r}")


def from_env(env: Mapping[str, str]) -> Levers:
    """The serving renderer's levers from RENDER_CHANNELS_LAST, RENDER_FUSE_QKV (on|off, default
    off) and RENDER_COMPILE (off|default|max-autotune|max-autotune-no-cudagraphs). ValueError with one
    sentence for a bad value."""
    mode = str(env.get("RENDER_COMPILE", "")).strip().lower() or "off"
    if mode in _ON:
        mode = "default"
    if mode not in COMPILE_MODES:
        raise ValueError(f"RENDER_COMPILE must be one of {', '.join(COMPILE_MODES)}, got {mode!r}")
    return Levers(channels_last=_switch(env, "RENDER_CHANNELS_LAST"), fuse_qkv=_switch(env, "RENDER_FUSE_QKV"),
                  compile=mode)


def _plain_attention(module) -> bool:
    """Only the standard self/cross-attention processors are swapped (not IP-adapter, LoRA-added or
    FLUX/SD3 joint-attention ones, which have their own)."""
    names = {type(p).__name__ for p in getattr(module, "attn_processors", {}).values()}
    return bool(names) and names <= {"AttnProcessor", "AttnProcessor2_0", "FusedAttnProcessor2_0"}


def _fused(module) -> bool:
    return any(getattr(m, "fused_projections", False) for m in module.modules())


def _denoiser(pipe):
    return getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)


def apply_levers(pipe, levers: Levers, *, warm_up: bool = True) -> list[str]:
    """Apply `levers` to `pipe` in place (already on its device); returns the names applied."""
    import torch
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    applied: list[str] = []
    modules = [m for m in (_denoiser(pipe), getattr(pipe, "vae", None)) if m is not None]
    if levers.fuse_qkv:
        # Fusing sets its own SDPA processor; fuse from the plain one so the fused layers exist.
        for module in modules:
            if _plain_attention(module) and hasattr(module, "fuse_qkv_projections"):
                if not _fused(module):  # once: fusing again would rebuild every fused layer
                    module.set_attn_processor(AttnProcessor2_0())
                    module.fuse_qkv_projections()
                applied.append(f"fuse_qkv:{type(module).__name__}")
    else:
        processor = AttnProcessor2_0 if levers.sdpa else AttnProcessor
        for module in modules:
            if _plain_attention(module):
                module.set_attn_processor(processor())
        applied.append("sdpa" if levers.sdpa else "classic_attention")
    if levers.channels_last:
        for module in modules:
            module.to(memory_format=torch.channels_last)
        applied.append("channels_last")
    vae = getattr(pipe, "vae", None)
    if levers.vae_upcast is not None and vae is not None and "force_upcast" in vae.config:
        vae.register_to_config(force_upcast=bool(levers.vae_upcast))
        applied.append(f"vae_upcast={'on' if levers.vae_upcast else 'off'}")
    if vae is not None and hasattr(vae, "enable_tiling"):
        (vae.enable_tiling if levers.vae_tiling else vae.disable_tiling)()
        if levers.vae_tiling:
            applied.append("vae_tiling")
    if levers.compile != "off":
        denoiser = _denoiser(pipe)
        if getattr(denoiser, "_compiled_call_impl", None) is None:  # once (a second compile starts over)
            # nn.Module.compile compiles in place: pipe.unet keeps its class and config for every reader.
            denoiser.compile(mode=None if levers.compile == "default" else levers.compile)
            if warm_up:
                _warm_up(pipe)
        applied.append(f"compile:{levers.compile}")
    log.info("renderer levers: %s", ", ".join(applied))
    return applied


def _warm_up(pipe) -> None:
    """One short render at the model's default size: compiles the UNet for that shape now."""
    import torch

    denoiser = _denoiser(pipe)
    sample = getattr(denoiser.config, "sample_size", None)
    sample = sample[0] if isinstance(sample, (list, tuple)) else sample
    edge = int(sample or 64) * int(getattr(pipe, "vae_scale_factor", 8) or 8)
    started = time.perf_counter()
    with torch.inference_mode():
        pipe(prompt="warm-up", num_inference_steps=2, width=edge, height=edge, output_type="latent")
    log.info("torch.compile warm-up at %dx%d took %.1f s", edge, edge, time.perf_counter() - started)
