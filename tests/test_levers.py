"""The renderer's speed levers (bot/renderer/levers.py): settings, what each sets on a pipeline, and
that images stay the same with them on."""
from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.renderer import levers

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_levers_are_off_by_default_and_read_from_the_settings():
    assert levers.from_env({}) == levers.Levers()
    assert not levers.Levers().active
    chosen = levers.from_env({"RENDER_CHANNELS_LAST": "on", "RENDER_FUSE_QKV": "true", "RENDER_COMPILE": "on"})
    assert chosen == levers.Levers(channels_last=True, fuse_qkv=True, compile="default")
    assert levers.from_env({"RENDER_COMPILE": "max-autotune"}).compile == "max-autotune"


def test_a_bad_lever_setting_stops_the_start_with_its_name():
    with pytest.raises(ConfigError, match="RENDER_COMPILE"):
        load_settings({"DISCORD_TOKEN": "t", "RENDER_COMPILE": "fast"}, dotenv=False)
    with pytest.raises(ConfigError, match="RENDER_FUSE_QKV"):
        load_settings({"DISCORD_TOKEN": "t", "RENDER_FUSE_QKV": "maybe"}, dotenv=False)
    settings = load_settings({"DISCORD_TOKEN": "t", "RENDER_CHANNELS_LAST": "on"}, dotenv=False)
    assert settings.render_levers == (("RENDER_CHANNELS_LAST", "on"),)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from bot.renderer.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("levers") / "tiny-sd")


def _render(pipe):
    with torch.inference_mode():
        return pipe(prompt="a cat", negative_prompt="blurry", num_inference_steps=3, guidance_scale=7.0,
                    width=64, height=64, generator=torch.Generator("cpu").manual_seed(3), output_type="np").images


def _processors(module) -> set[str]:
    return {type(p).__name__ for p in module.attn_processors.values()}


def test_levers_set_what_they_claim_and_leave_the_image_unchanged(tiny_folder):
    from diffusers.models.attention_processor import Attention

    from bot.renderer.render import load_pipelines

    pipe = load_pipelines(str(tiny_folder), "cpu", "float32").txt2img
    before = _render(pipe)
    assert _processors(pipe.unet) == {"AttnProcessor2_0"}

    applied = levers.apply_levers(pipe, levers.Levers(channels_last=True, fuse_qkv=True))

    assert "channels_last" in applied and "fuse_qkv:UNet2DConditionModel" in applied
    convs = [m.weight for m in pipe.unet.modules() if isinstance(m, torch.nn.Conv2d) and m.weight.shape[-1] > 1]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not convs[0].is_contiguous()  # really NHWC, not a 1x1 that is both
    attention = [m for m in pipe.unet.modules() if isinstance(m, Attention)]
    assert attention and all(m.fused_projections for m in attention)
    assert all(hasattr(m, "to_kv" if m.is_cross_attention else "to_qkv") for m in attention)
    assert _processors(pipe.unet) == {"FusedAttnProcessor2_0"}
    after = _render(pipe)
    assert abs(after - before).max() < 1e-4


def test_the_classic_attention_baseline_renders_the_same_image(tiny_folder):
    from bot.renderer.render import load_pipelines

    pipe = load_pipelines(str(tiny_folder), "cpu", "float32").txt2img
    before = _render(pipe)
    levers.apply_levers(pipe, levers.Levers(sdpa=False))
    assert _processors(pipe.unet) == {"AttnProcessor"} and _processors(pipe.vae) == {"AttnProcessor"}
    assert abs(_render(pipe) - before).max() < 1e-4
    levers.apply_levers(pipe, levers.Levers())
    assert _processors(pipe.unet) == {"AttnProcessor2_0"}


def test_the_loader_applies_the_levers_the_settings_ask_for(tiny_folder, monkeypatch):
    from bot.renderer.render import load_pipelines

    monkeypatch.setenv("RENDER_CHANNELS_LAST", "on")
    monkeypatch.setenv("RENDER_FUSE_QKV", "on")
    loaded = load_pipelines(str(tiny_folder), "cpu", "float32")
    conv = loaded.txt2img.unet.conv_in.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert _processors(loaded.txt2img.unet) == {"FusedAttnProcessor2_0"}
    assert loaded.img2img.unet is loaded.txt2img.unet  # image-to-image shares the levered modules


def test_the_fp16_vae_lever_turns_off_the_upcast_and_tiling_follows_its_lever(tiny_folder):
    from bot.renderer.render import load_pipelines

    pipe = load_pipelines(str(tiny_folder), "cpu", "float32").txt2img
    assert pipe.vae.config.force_upcast is True  # diffusers' default, as in SDXL's VAE
    levers.apply_levers(pipe, levers.Levers(vae_upcast=False, vae_tiling=True))
    assert pipe.vae.config.force_upcast is False and pipe.vae.use_tiling
    levers.apply_levers(pipe, levers.Levers())
    assert not pipe.vae.use_tiling
