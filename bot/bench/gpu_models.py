"""Full-size SD 1.5 / SDXL pipelines with random weights, built from configs (no hub), and their FLOPs.

FLOPs do not depend on the weights, so a random-weight pipeline of the real shape costs what the
real model costs on a device. The configs below are those of the published models' config.json
files (runwayml/stable-diffusion-v1-5 and stabilityai/stable-diffusion-xl-base-1.0: unet/,
vae/, text_encoder/, text_encoder_2/); `tests/test_gpu_bench.py` checks their parameter counts
against the published ones (SD 1.5 UNet 859.5 M, SDXL UNet 2,567 M). The "small" specs have the same
structure at test size, so the same code path runs on a CPU in seconds.

FLOPs are counted with torch.utils.flop_counter.FlopCounterMode over one forward of each component
on the META device (shapes only: no memory, no compute, seconds on a CPU even for SDXL), with the
classic attention processor (explicit matmuls, counted on every backend; SDPA computes the same
products). A multiply-add is 2 FLOPs; normalisations and activations are not counted (as in
published figures). Per image: steps x one UNet call at batch 2 (classifier-free guidance runs the
conditional and unconditional halves in one batch) + the text encoders over the prompt and the
negative prompt (77 tokens each) + one VAE decode.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLIP_VOCAB = 49408

_SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
    downsample_padding=1, act_fn="silu",
)
_SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
    act_fn="silu",
)


def _vae(sample_size: int, scaling: float, force_upcast: bool) -> dict:
    return dict(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
        block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=sample_size, scaling_factor=scaling,
        force_upcast=force_upcast, act_fn="silu",
    )


_CLIP_L = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
               hidden_act="quick_gelu", projection_dim=768, vocab_size=CLIP_VOCAB, max_position_embeddings=77)
_CLIP_BIGG = dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=20, num_hidden_layers=32,
                  hidden_act="gelu", projection_dim=1280, vocab_size=CLIP_VOCAB, max_position_embeddings=77)

# Test-size shapes of the same structure (the SD one is bot/renderer/tiny.py's; the SDXL one follows
# diffusers' own tiny SDXL test pipeline: text_time embeddings, two text encoders).
_SMALL_SD_UNET = dict(
    sample_size=32, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32,
)
_SMALL_SDXL_UNET = dict(
    sample_size=32, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2), attention_head_dim=(2, 4), use_linear_projection=True,
    addition_embed_type="text_time", addition_time_embed_dim=8, projection_class_embeddings_input_dim=80,
    cross_attention_dim=64, norm_num_groups=32,
)
_SMALL_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=32,
    block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2,
    up_block_types=("UpDecoderBlock2D",) * 2, sample_size=64,
)
_SMALL_CLIP = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                   projection_dim=32, max_position_embeddings=77)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    family: str  # "sd" | "sdxl"
    unet: dict[str, Any]
    vae: dict[str, Any]
    text_encoders: tuple[dict[str, Any], ...]  # CLIPTextConfig kwargs; SDXL's second one has a projection
    size: int  # edge in pixels
    steps: int
    guidance: float = 7.0
    extra: dict[str, Any] = field(default_factory=dict)


FULL_SPECS = {
    "sd15": ModelSpec("sd15", "SD 1.5", "sd", _SD15_UNET, _vae(512, 0.18215, False), (_CLIP_L,), 512, 25),
    "sdxl": ModelSpec("sdxl", "SDXL", "sdxl", _SDXL_UNET, _vae(1024, 0.13025, True), (_CLIP_L, _CLIP_BIGG), 1024, 30),
}
SMALL_SPECS = {
    "sd15": ModelSpec("sd15", "small SD-shaped", "sd", _SMALL_SD_UNET, _SMALL_VAE, (_SMALL_CLIP,), 64, 2),
    "sdxl": ModelSpec("sdxl", "small SDXL-shaped", "sdxl", _SMALL_SDXL_UNET, dict(_SMALL_VAE, force_upcast=True),
                      (_SMALL_CLIP, _SMALL_CLIP), 64, 2),
}


def _tokenizer():
    import tempfile
    from pathlib import Path

    from transformers import CLIPTokenizer

    from bot.renderer.tiny import _write_tokenizer_files

    # Token ids only index the embedding table; the text encoders always see 77 positions, so a small
    # byte-level vocabulary costs what CLIP's own does.
    with tempfile.TemporaryDirectory() as folder:
        size = _write_tokenizer_files(Path(folder))
        return CLIPTokenizer.from_pretrained(folder, model_max_length=77), size


def build_components(spec: ModelSpec, device: str = "cpu", dtype=None, seed: int = 0) -> dict[str, Any]:
    """unet, vae, text encoder(s) of `spec` with random weights, created on `device` ("meta": shapes only)."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    tokenizer, vocab = _tokenizer()
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    parts: dict[str, Any] = {"tokenizer": tokenizer}
    with torch.device(device):  # created in place: a full-size SDXL on the GPU in about a second
        parts["unet"] = UNet2DConditionModel(**spec.unet)
        parts["vae"] = AutoencoderKL(**spec.vae)
        for index, config in enumerate(spec.text_encoders):
            cfg = CLIPTextConfig(**{"vocab_size": vocab, **config, **ids})
            cls = CLIPTextModelWithProjection if index == 1 else CLIPTextModel
            parts["text_encoder" if index == 0 else "text_encoder_2"] = cls(cfg)
    if len(spec.text_encoders) > 1:
        parts["tokenizer_2"] = tokenizer
    for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
        if name in parts:
            parts[name] = parts[name].eval()
            if dtype is not None and device != "meta" and dtype != torch.float32:  # created in float32
                parts[name] = parts[name].to(dtype)
    return parts


def build_pipeline(spec: ModelSpec, device: str = "cpu", dtype=None, seed: int = 0):
    """The text-to-image pipeline the bot would load for this model family (Euler: one UNet call a step)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline

    parts = build_components(spec, device, dtype, seed)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       num_train_timesteps=1000, timestep_spacing="trailing", steps_offset=1)
    pipe: StableDiffusionPipeline | StableDiffusionXLPipeline
    if spec.family == "sdxl":
        pipe = StableDiffusionXLPipeline(scheduler=scheduler, force_zeros_for_empty_prompt=True, **parts)
    else:
        pipe = StableDiffusionPipeline(scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False, **parts)
    pipe.set_progress_bar_config(disable=True)  # type: ignore[union-attr]  # a DiffusionPipeline method
    return pipe


def count_flops(fn) -> int:
    """FLOPs of `fn()` as FlopCounterMode counts them (2 per multiply-add of conv/linear/matmul)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


@dataclass(frozen=True)
class Flops:
    unet_call: int  # one UNet forward at batch 2 (one image with CFG)
    text: int  # all text encoders over prompt + negative prompt
    vae_decode: int  # one image
    steps: int

    @property
    def per_image(self) -> int:
        return self.steps * self.unet_call + self.text + self.vae_decode


def spec_flops(spec: ModelSpec, width: int | None = None, height: int | None = None,
               steps: int | None = None) -> Flops:
    """FLOPs of one image of `spec` (see the module doc), counted on the meta device."""
    import torch
    from diffusers.models.attention_processor import AttnProcessor

    width, height, steps = width or spec.size, height or spec.size, steps or spec.steps
    parts = build_components(spec, "meta")
    unet, vae = parts["unet"], parts["vae"]
    unet.set_attn_processor(AttnProcessor())
    vae.set_attn_processor(AttnProcessor())
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    with torch.device("meta"):
        latents = torch.empty(2, unet.config.in_channels, height // scale, width // scale)
        timestep = torch.full((2,), 999.0)
        context = torch.empty(2, 77, unet.config.cross_attention_dim)
        added = None
        if spec.family == "sdxl":
            pooled = parts["text_encoder_2"].config.projection_dim
            added = {"text_embeds": torch.empty(2, pooled), "time_ids": torch.empty(2, 6)}
        unet_call = count_flops(lambda: unet(latents, timestep, context, added_cond_kwargs=added))
        tokens = torch.zeros(2, 77, dtype=torch.long)  # prompt + negative prompt
        text = sum(count_flops(lambda enc=parts[name]: enc(tokens))
                   for name in ("text_encoder", "text_encoder_2") if name in parts)
        decode = count_flops(lambda: vae.decode(latents[:1]))
    return Flops(unet_call, text, decode, steps)
