"""One probability check for every safety score (bot/safety/scores.py): the image checker's and the
learned prompt layer's answers go through the same function, and both fail closed on the same values."""
from __future__ import annotations

import numpy as np
import pytest

from bot.safety.decision import check_text
from bot.safety.image_checker import checked_score
from bot.safety.policy import ChannelKind
from bot.safety.prompt_filter import PromptFilter
from bot.safety.scores import InvalidScore, is_probability, probability
from bot.safety.terms import Category

NOT_PROBABILITIES = [float("nan"), float("inf"), float("-inf"), None, -0.01, 1.01, 2, "0.5", True, False, [0.1],
                     np.float32("nan")]
PROBABILITIES = [0, 1, 0.0, 0.5, np.float32(0.25), np.float64(0.75)]


@pytest.mark.parametrize("value", NOT_PROBABILITIES)
def test_anything_but_a_number_in_0_to_1_is_refused(value):
    with pytest.raises(InvalidScore):
        probability(value)
    assert not is_probability(value)


@pytest.mark.parametrize("value", PROBABILITIES)
def test_numbers_in_0_to_1_of_any_real_type_are_probabilities(value):
    assert probability(value) == float(value)
    assert is_probability(value)


class _FixedClassifier:
    """A learned layer that answers `value` for every prompt."""

    threshold = 0.8

    def __init__(self, value):
        self.value = value

    def predict(self, text):
        return self.value, Category.SEXUAL


class _FixedChecker:
    name = "fixed"

    def __init__(self, value):
        self.value = value

    def score(self, path):
        return self.value


@pytest.mark.parametrize("value", NOT_PROBABILITIES)
def test_the_prompt_layer_and_the_image_checker_fail_closed_on_the_same_values(value):
    check = check_text(PromptFilter(_FixedClassifier(value)), "a lighthouse at dawn", "", None, ChannelKind.SFW)
    assert check.category is Category.UNCHECKED and check.result.layer == "classifier-error"
    with pytest.raises(InvalidScore):
        checked_score(_FixedChecker(value), "unused.png")


@pytest.mark.parametrize("value", [0.0, np.float32(0.1), 0.79])
def test_a_valid_low_score_lets_a_benign_prompt_and_image_through(value):
    assert check_text(PromptFilter(_FixedClassifier(value)), "a lighthouse at dawn", "", None,
                      ChannelKind.SFW).category is None
    assert checked_score(_FixedChecker(value), "unused.png") == float(value)
