"""A tiny random-weight Stable Diffusion pipeline for tests and `python -m bot bench` (no hub, no GPU).

`build_tiny_pipeline(path)` creates an SD1.5-shaped pipeline from configs and saves it with
`save_pretrained`, so tests load it through the real `from_pretrained(local_dir)` path.

Shape: UNet block_out_channels (32, 64), sample_size 32; VAE block_out_channels [32, 64]
(vae scale factor 2), so the model's own default size is 32 x 2 = 64 px. 64x64 with 4 steps takes
~0.1-0.3 s on a CPU. Weights come from torch.manual_seed(seed): every build gives the same model.

`attention=False` builds a convolution-only variant (no attention in the UNet or the VAE's mid
block) for benchmarks at large sizes: at 1024x1024 the standard shape's self-attention runs over
256^2 latent tokens and one step takes ~5 minutes on 2 CPU cores; the conv-only one ~2.5 s.
`variant="fp16"` saves half-precision weights as `*.fp16.safetensors`, like hub repos' fp16 variant.

torch/diffusers/transformers are imported inside the function, so importing this module is cheap and
torch-free; calling `build_tiny_pipeline` imports torch in the CALLING process (a test or bench
process, never the bot's main process).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

TINY_SIZE = 64  # default render edge in pixels (unet sample_size 32 x vae scale factor 2)
TINY_STEPS = 4


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte -> printable unicode map (what ByteLevel pre-tokenisation emits)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def _write_tokenizer_files(folder: Path) -> int:
    """A byte-level BPE vocabulary: every byte symbol alone and as a word end, plus a few merges.

    Returns the vocabulary size.
    """
    symbols = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for s in symbols:
        vocab.setdefault(s, len(vocab))
    for s in symbols:
        vocab.setdefault(s + "</w>", len(vocab))
    merges = ["a t", "t h", "th e</w>", "a n", "o n</w>", "c a", "ca t</w>", "d o", "do g</w>"]
    for merge in merges:
        vocab.setdefault(merge.replace(" ", ""), len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return len(vocab)


def build_tiny_pipeline(path: Path, *, attention: bool = True, variant: str | None = None, seed: int = 0) -> Path:
    """Build the tiny pipeline and `save_pretrained` it to `path`. Returns `path`. Another `seed`:
    other random weights (a second model for IMAGE_MODELS tests)."""
    from bot.renderer.render import quiet_libraries

    quiet_libraries()
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    path = Path(path)
    with tempfile.TemporaryDirectory() as tok_dir:
        vocab_size = _write_tokenizer_files(Path(tok_dir))
        tokenizer = CLIPTokenizer.from_pretrained(tok_dir, model_max_length=77)

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D" if attention else "DownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D" if attention else "UpBlock2D", "UpBlock2D"),
        mid_block_type="UNetMidBlock2DCrossAttn" if attention else None,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    torch.manual_seed(seed)
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=64,
        mid_block_add_attention=attention,
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=vocab_size,
            max_position_embeddings=77,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        timestep_spacing="trailing", steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet.eval(),
        vae=vae.eval(),
        text_encoder=text_encoder.eval(),
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    if variant == "fp16":
        for module in (unet, vae, text_encoder):
            module.half()  # (pipe.to(float16) warns that from_pretrained should pick the dtype)
    elif variant is not None:
        raise ValueError(f"unknown variant {variant!r}")
    pipe.save_pretrained(str(path), variant=variant)
    return path


def build_tiny_lora(pipeline: Path, path: Path, rank: int = 4, seed: int = 0) -> Path:
    """A LoRA for the tiny pipeline's UNet attention (peft), non-zero weights, saved as one
    .safetensors file with `save_lora_weights` (what LORA_DIR holds). Returns `path`."""
    from bot.renderer.render import quiet_libraries

    quiet_libraries()
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(str(pipeline), subfolder="unet")
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn_like(param) * 0.5)
    path = Path(path)
    StableDiffusionPipeline.save_lora_weights(str(path.parent), unet_lora_layers=get_peft_model_state_dict(unet),
                                              weight_name=path.name, safe_serialization=True)
    return path
