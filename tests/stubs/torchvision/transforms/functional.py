"""Test stub (see tests/stubs/README.md): the names spandrel imports, unusable on purpose."""
from __future__ import annotations

import enum


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def rotate(*args, **kwargs):
    raise NotImplementedError("torchvision stub: install torchvision to use this architecture")


def normalize(*args, **kwargs):
    raise NotImplementedError("torchvision stub: install torchvision to use this architecture")
