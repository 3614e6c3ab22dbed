"""`python -m bot bench --gpu`: the FLOP count, the full-size configs, the device ceilings, and the
small-config path that runs on a CPU (bot/bench/gpu.py, bot/bench/gpu_models.py)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bot.bench import gpu, gpu_models  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_flop_count_matches_the_shapes_of_a_conv_and_a_linear_layer():
    conv = torch.nn.Conv2d(4, 8, kernel_size=3, padding=1, device="meta")
    linear = torch.nn.Linear(8 * 16 * 16, 10, device="meta")
    x = torch.empty(2, 4, 16, 16, device="meta")

    counted = gpu_models.count_flops(lambda: linear(conv(x).flatten(1)))

    # 2 FLOPs per multiply-add: every output pixel of the conv is 4*3*3 multiply-adds per channel.
    conv_flops = 2 * 2 * 8 * 16 * 16 * 4 * 3 * 3
    linear_flops = 2 * 2 * (8 * 16 * 16) * 10
    assert counted == conv_flops + linear_flops


def test_small_unet_flops_grow_with_the_latent_area_and_the_steps():
    spec = gpu_models.SMALL_SPECS["sd15"]
    small = gpu_models.spec_flops(spec, 64, 64, 4)
    double_edge = gpu_models.spec_flops(spec, 128, 128, 8)
    # Convolutions scale with the area (x4); self-attention faster (x16 for its two matmuls).
    assert 4.0 <= double_edge.unet_call / small.unet_call < 6.0
    assert double_edge.per_image == 8 * double_edge.unet_call + double_edge.text + double_edge.vae_decode
    assert double_edge.text == small.text  # 77 tokens whatever the image size


def test_full_size_configs_have_the_published_parameter_counts():
    sd15 = gpu_models.build_components(gpu_models.FULL_SPECS["sd15"], "meta")
    sdxl = gpu_models.build_components(gpu_models.FULL_SPECS["sdxl"], "meta")

    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(sd15["unet"]) == 859_520_964
    assert count(sd15["vae"]) == 83_653_863
    assert count(sd15["text_encoder"]) == 123_060_480
    assert count(sdxl["unet"]) == 2_567_463_684
    assert count(sdxl["text_encoder_2"]) == 694_659_840


def test_sd15_costs_about_43_tflop_per_image_at_512_with_25_steps():
    flops = gpu_models.spec_flops(gpu_models.FULL_SPECS["sd15"])
    # Published: the SD 1.5 UNet is ~0.8 TFLOP per 512x512 forward at batch 1 (~400 G multiply-adds).
    assert 1.5e12 < flops.unet_call < 1.8e12
    assert 40e12 < flops.per_image < 46e12


def test_ceilings_know_the_common_devices_and_nothing_else():
    assert gpu.ceiling_for("NVIDIA H200") == 790.0
    assert gpu.ceiling_for("NVIDIA GH200 480GB") == 989.0
    assert gpu.ceiling_for("NVIDIA H100 PCIe") == 756.0
    assert gpu.ceiling_for("NVIDIA H100 80GB HBM3") == 989.0
    assert gpu.ceiling_for("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu.ceiling_for("NVIDIA L4") == 121.0
    assert gpu.ceiling_for("NVIDIA L40S") == 362.0
    assert gpu.ceiling_for("NVIDIA GeForce RTX 4090") == 165.0
    assert gpu.ceiling_for("Some Future GPU") is None
    assert gpu.ceiling_for(None) is None


def test_lever_rows_add_one_lever_each_and_compile_only_on_cuda():
    sdxl = gpu_models.SMALL_SPECS["sdxl"]
    on_cpu = gpu.lever_rows(sdxl, cuda=False, compile_mode="default")
    on_cuda = gpu.lever_rows(sdxl, cuda=True, compile_mode="default")
    assert [r.batch for r in on_cpu][-2:] == [2, 4]
    assert not any(r.levers.compile != "off" for r in on_cpu)
    assert on_cuda[-3].levers.compile == "default" and on_cuda[-1].levers.compile == "default"
    assert on_cpu[0].levers.sdpa is False and on_cpu[1].levers.sdpa is True
    assert any(r.levers.vae_upcast is False for r in on_cpu)
    assert not any(r.levers.vae_upcast is False for r in gpu.lever_rows(gpu_models.SMALL_SPECS["sd15"], False, "off"))


def test_bench_gpu_on_a_cpu_says_no_device_and_prints_the_small_table(capsys):
    from bot.bench.run import main

    # SDXL only, to keep it short: its path is the longer one (two text encoders, the VAE upcast row).
    assert main(["--gpu", "--device", "cpu", "--gpu-models", "sdxl", "--gpu-runs", "1", "--gpu-serving", "off"]) == 0
    out = capsys.readouterr().out
    assert "full-size GPU table: no device: unmeasured" in out
    assert "SDXL at 1024x1024, 30 steps with CFG: 416." in out and "at most 1.90 img/s on an H200" in out
    assert "small configs, the same code path" in out and "ceiling unknown" in out
    assert "small SDXL-shaped at 64x64, 2 steps" in out and "SD-shaped at" not in out.replace("SDXL-shaped", "")
    rows = [line for line in out.splitlines() if line.startswith("  ") and line.rstrip().endswith(" s")]
    labels = [row[2:42].strip() for row in rows]
    assert labels == ["eager, classic attention", "+ SDPA", "+ channels_last", "+ fused QKV",
                      "+ fp16 VAE decode (no upcast)", "same, batch 2", "same, batch 4"]
    assert all("unknown" in row for row in rows)
    assert "VAE decode at 128x128" in out and "untiled" in out and " tiled " in out
