"""A scripted image checker FOR TESTS, plugged in as SAFETY_IMAGE_CHECKER=pixelforge_test_checker:Scripted
(the e2e tests put this folder on the bot's PYTHONPATH; the product only knows "module:callable").

It reads the prompt from the PNG's A1111 `parameters` chunk and scores 0.99 when it holds a word of
PIXELFORGE_TEST_FLAG_WORDS (comma-separated), else 0.01; a word of PIXELFORGE_TEST_CHECK_ERRORS
makes the check raise, one of PIXELFORGE_TEST_NAN_WORDS makes it return NaN (a broken model). An
image whose top-left pixel is PIXELFORGE_TEST_FLAG_COLOR ("r,g,b": uploads keep no text chunk) scores
0.99 too. Real pixels of the tiny model say nothing about content, so this is how the blocking paths
are driven end to end.
"""
from __future__ import annotations

import asyncio
import os
import time

from PIL import Image


def _words(name: str) -> list[str]:
    return [w.strip().lower() for w in os.environ.get(name, "").split(",") if w.strip()]


class Scripted:
    name = "scripted"

    def load(self) -> None:
        pass

    def score(self, path: str) -> float:
        with Image.open(path) as image:
            prompt = str(image.info.get("parameters", "")).split("\n", 1)[0].lower()
            corner = image.convert("RGB").getpixel((0, 0))
        if any(word in prompt for word in _words("PIXELFORGE_TEST_CHECK_ERRORS")):
            raise RuntimeError("scripted checker failure")
        if any(word in prompt for word in _words("PIXELFORGE_TEST_NAN_WORDS")):
            return float("nan")
        color = tuple(int(c) for c in _words("PIXELFORGE_TEST_FLAG_COLOR"))
        if color and tuple(corner) == color:
            return 0.99
        return 0.99 if any(word in prompt for word in _words("PIXELFORGE_TEST_FLAG_WORDS")) else 0.01

    def close(self) -> None:
        pass


def _deliberate_stall(seconds: float) -> None:
    time.sleep(seconds)  # on the bot's event loop: nothing else runs there meanwhile


class StallsTheLoop(Scripted):
    """Scripted, and an image whose prompt holds a word of PIXELFORGE_TEST_STALL_WORDS makes the
    bot's event loop run `_deliberate_stall(PIXELFORGE_TEST_STALL_SECONDS)`: a blocking call on
    the loop, for the lag monitor's test. Built on the loop (PixelBot builds its checker there);
    scores run in the checking thread, which hands the stall to the loop."""

    def __init__(self):
        self._loop = asyncio.get_running_loop()

    def score(self, path: str) -> float:
        with Image.open(path) as image:
            prompt = str(image.info.get("parameters", "")).split("\n", 1)[0].lower()
        if any(word in prompt for word in _words("PIXELFORGE_TEST_STALL_WORDS")):
            seconds = float(os.environ.get("PIXELFORGE_TEST_STALL_SECONDS", "1.5"))
            self._loop.call_soon_threadsafe(_deliberate_stall, seconds)
        return super().score(path)
