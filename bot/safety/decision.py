"""The decision on a job's text in one channel: the prompt filter (prompt and negative, through
`screen_text`), then the negative-steering rule (bot/safety/negative.py), with a learned score that
is not a probability failing closed. SafetyService and `python -m bot safety-eval` both call
`check_text`, so the evaluation measures exactly what the bot decides."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.i18n import N_
from bot.safety.negative import Steering, negative_refusal, negative_refusal_text, steering
from bot.safety.policy import ALWAYS_REFUSED, ChannelKind, refusal
from bot.safety.prompt_filter import FilterResult, PromptFilter, ServerTerms, screen_text
from bot.safety.scene import no_one_shown
from bot.safety.scores import is_probability
from bot.safety.terms import Category

if TYPE_CHECKING:
    from bot.models import JobParams

CLASSIFIER_ERROR = N_("🚫 Your prompt could not be safety-checked (the prompt classifier gave no valid score), so "
                      "it was refused. Nothing was queued or charged; please try again.")


@dataclass(frozen=True)
class TextCheck:
    """What the prompt and the member's negative say in one channel: the refusing category (None:
    may be rendered) and the member's reason, the filter's result and what the negative steers from."""

    category: Category | None
    reason: str
    result: FilterResult
    steer: Steering
    by_negative: bool = False  # the negative-steering rule decided

    @property
    def suggests_minor(self) -> bool:
        """A minor named (or an age under 18) in the prompt, or a negative steering away from adults.
        A negative that names minors ("child, teen") keeps them out: it suggests none."""
        return Category.MINORS in self.result.categories or bool(self.steer.adulthood)

    def recorded(self, params: JobParams, always: bool = False) -> str:
        """The text a block record keeps: the prompt, and the negative when it had a part in it."""
        if params.negative_prompt and (self.by_negative or (always and self.steer.adulthood)):
            # One line: the log channel quotes the record as a single "> " line.
            return f"{params.prompt} · negative prompt: {params.negative_prompt}"
        return params.prompt


def check_text(prompt_filter: PromptFilter, prompt: str, negative: str, server: ServerTerms | None,
               kind: ChannelKind, delivering: bool = False) -> TextCheck:
    """The prompt and negative against the policy of a channel of `kind` (`delivering`: checked
    again before posting a finished job, which changes the member's wording only)."""
    category, result = screen_text(prompt_filter, prompt, negative, server, kind)
    steer = steering(negative)
    if (steer.clothing and Category.MINORS not in result.categories
            and no_one_shown(prompt, prompt_filter.words(prompt), prompt_filter.words(negative))):
        steer = replace(steer, clothing=())  # no one to undress: an empty wardrobe, a tidy room
    if result.score is not None and not is_probability(result.score):  # None: no learned layer ran
        # A learned layer that answered NaN (or nothing usable) proves nothing: refuse.
        unusable = replace(result, score=None, layer="classifier-error")
        return TextCheck(Category.UNCHECKED, CLASSIFIER_ERROR, unusable, steer)
    by_steering = negative_refusal(steer, result.categories, kind)
    # The terms and rules name what the prompt asks for; the learned layer also reads the negative, so
    # where the steering rule refuses too, its reason (the negative) is the one the member needs; and
    # a refusal everywhere (sexual-minors) outranks one that only this channel makes.
    steering_first = by_steering is not None and (
        result.layer == "classifier" or (by_steering in ALWAYS_REFUSED and category not in ALWAYS_REFUSED))
    if category is not None and not steering_first:
        return TextCheck(category, refusal(category, kind, delivering), result, steer)
    if by_steering is not None:
        return TextCheck(by_steering, negative_refusal_text(steer, by_steering, kind, delivering), result, steer,
                         by_negative=True)
    return TextCheck(None, "", result, steer)
