"""The one check of a probability that every safety layer's score goes through: the image checkers'
(image_checker.checked_score), the learned prompt layer's (decision.check_text) and the stored
image scores (SafetyService). Anything but a real number in 0..1 fails closed: NaN compares false
with every threshold, so unchecked it would read as "not flagged" (`score >= threshold` is False)."""
from __future__ import annotations

import math
import numbers
from typing import TypeGuard


class InvalidScore(ValueError):
    """A score that is not a number in [0, 1] (NaN, None, infinity, out of range, a bool or a string):
    what it scored counts as unchecked and is refused or withheld, never as "not flagged"."""


def probability(value: object, source: str = "the safety check") -> float:
    """`value` as a float in [0, 1], or InvalidScore naming `source`."""
    # bool is a numbers.Real in Python; True from a checker is a bug, not a score of 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidScore(f"{source} returned {value!r}, not a number")
    score = float(value)
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise InvalidScore(f"{source} returned {score!r}, outside 0..1")
    return score


def is_probability(value: object) -> TypeGuard[float]:
    """`probability` as a test: False for anything it refuses (None included)."""
    try:
        probability(value)
    except InvalidScore:
        return False
    return True
