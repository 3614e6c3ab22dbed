"""A scripted image checker FOR TESTS, plugged in as SAFETY_IMAGE_CHECKER=pixelforge_test_checker:Scripted
(the e2e tests put this folder on the bot's PYTHONPATH; the product only knows "module:callable").

It reads the prompt from the PNG's A1111 `parameters` chunk and scores 0.99 when it holds a word of
PIXELFORGE_TEST_FLAG_WORDS (comma-separated), else 0.01; a word of PIXELFORGE_TEST_CHECK_ERRORS
makes the check raise. Real pixels of the tiny model say nothing about content, so this is how the
blocking paths are driven end to end.
"""
from __future__ import annotations

import os

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
        if any(word in prompt for word in _words("PIXELFORGE_TEST_CHECK_ERRORS")):
            raise RuntimeError("scripted checker failure")
        return 0.99 if any(word in prompt for word in _words("PIXELFORGE_TEST_FLAG_WORDS")) else 0.01

    def close(self) -> None:
        pass
