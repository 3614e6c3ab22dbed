"""`python -m bot render` renders once without Discord, as an operator checking a GPU would."""
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_render_command_writes_a_png_with_its_parameters(tiny_model, tmp_path):
    out = tmp_path / "fox.png"
    env = {**os.environ, "IMAGE_MODEL": str(tiny_model), "DEVICE": "cpu"}
    env.pop("DISCORD_TOKEN", None)  # not needed offline
    proc = subprocess.run([sys.executable, "-m", "bot", "render", "a red fox", "--seed", "42", "--steps", "4",
                           "-o", str(out)], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    image = Image.open(out)
    assert image.size == (64, 64)
    assert "Seed: 42" in image.info["parameters"] and image.info["parameters"].startswith("a red fox\n")
    assert "rendered 64x64, 4 steps, seed 42" in proc.stderr


def test_render_command_rejects_out_of_range_steps_without_loading_the_model(tiny_model, tmp_path):
    env = {**os.environ, "IMAGE_MODEL": str(tiny_model), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bot", "render", "a fox", "--steps", "500"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Steps must be between 1 and 100" in proc.stderr
    assert not (tmp_path / "render.png").exists()
