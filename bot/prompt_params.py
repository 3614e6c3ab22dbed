"""Midjourney-style parameters inside a prompt: `a lighthouse at dusk --ar 16:9 --no boats --chaos 40`.

Pure parsing (no Discord, no database, no torch): `parse` splits the prompt into the text that is
drawn and the parameters, and checks each parameter's form and the limits that do not depend on
the model (`Limits` carries the model's step and guidance ranges when the caller knows them). The
values then go through the same admission as the /imagine options (bot/services/inline_params.py
merges them), so nothing here is the last word on a limit.

Syntax, as Midjourney's: a parameter starts with `--` (or `—`, which phones type for two dashes)
at the start of the prompt or after a space, followed by its name; its value is everything up to
the next parameter. Names are case-insensitive; `--aspect` is `--ar`, `--c` is `--chaos`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import MAX_SEED

MIN_RATIO, MAX_RATIO = 0.25, 4.0  # 1:4 to 4:1, what the size rule renders (profiles.sizes_for_ratio)
MAX_RATIO_TERM = 10_000
MIN_CHAOS, MAX_CHAOS = 0, 100

# name -> what it takes, for errors and /help
PARAMETERS = {
    "ar": N_("a ratio W:H between 1:4 and 4:1, e.g. 16:9"),
    "no": N_("words to keep out of the image, e.g. trees, cars"),
    "seed": N_("a whole number from 0 to {max}", max=MAX_SEED),
    "steps": N_("a whole number of denoising steps"),
    "cfg": N_("a number: how closely to follow the prompt"),
    "chaos": N_("a whole number from {min} to {max}: how different the images of one grid are", min=MIN_CHAOS,
                max=MAX_CHAOS),
    "tile": N_("no value: a seamless, tileable image"),
    "model": N_("a model's name"),
}
ALIASES = {"aspect": "ar", "c": "chaos"}
_FLAGS = {"tile"}
_START = re.compile(r"(?:^|(?<=\s))(?:--|—)(?=[A-Za-z])")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_RATIO = re.compile(r"(\d+)\s*:\s*(\d+)")
_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Limits:
    """The model's ranges for steps and guidance (ModelProfile's); the defaults are the /imagine
    option ranges Discord enforces."""

    min_steps: int = 1
    max_steps: int = 150
    min_guidance: float = 0.0
    max_guidance: float = 30.0


OPTION_LIMITS = Limits()


@dataclass(frozen=True)
class InlineParams:
    """The parameters found in a prompt; None / False: not given."""

    aspect: str | None = None  # reduced, e.g. "16:9"
    no: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None  # --cfg
    chaos: int | None = None
    tile: bool = False
    model: str | None = None
    given: tuple[str, ...] = field(default=(), compare=False)  # canonical names, in prompt order

    @property
    def empty(self) -> bool:
        return not self.given

    def text(self) -> str:
        """The parameters written back canonically (`--ar 16:9 --no trees --tile`), for Info."""
        parts = []
        for name in self.given:
            value = {"ar": self.aspect, "no": self.no, "seed": self.seed, "steps": self.steps,
                     "cfg": None if self.guidance is None else f"{self.guidance:g}", "chaos": self.chaos,
                     "model": self.model}.get(name)
            parts.append(f"--{name}" if name in _FLAGS else f"--{name} {value}")
        return " ".join(parts)


@dataclass(frozen=True)
class ParsedPrompt:
    prompt: str  # what is drawn: the text before the first parameter, trimmed
    params: InlineParams


def quoted(value: str, limit: int = 40) -> str:
    """Member text inside a `code span` of an error reply: no backtick can end the span early (and
    inside one, Discord renders no markdown and no mention)."""
    shown = value.replace("`", "'")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _bad(name: str, value: str, why: str | None = None) -> ValidationError:
    return ValidationError(N_("`--{name} {value}` is not valid: --{name} takes {why}.", name=name, value=quoted(value),
                              why=why or PARAMETERS[name]))


def aspect_ratio(text: str) -> float | None:
    """Width over height of an aspect written "W:H" within 1:4..4:1; None if it is not one."""
    match = _RATIO.fullmatch(text.strip())
    if not match:
        return None
    w, h = int(match[1]), int(match[2])
    if not (0 < w <= MAX_RATIO_TERM and 0 < h <= MAX_RATIO_TERM):
        return None
    ratio = w / h
    return ratio if MIN_RATIO - 1e-9 <= ratio <= MAX_RATIO + 1e-9 else None


def _aspect(value: str) -> str:
    if aspect_ratio(value) is None:
        raise _bad("ar", value)
    match = _RATIO.fullmatch(value.strip())
    assert match is not None  # aspect_ratio() above accepted it
    w, h = (int(x) for x in match.groups())
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


def _whole(name: str, value: str, low: int, high: int, why: str | None = None) -> int:
    if not _INT.fullmatch(value):
        raise _bad(name, value, why)
    number = int(value)
    if not low <= number <= high:
        raise _bad(name, value, why)
    return number


def _number(name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high) or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", value):
        raise _bad(name, value, N_("a number from {min:g} to {max:g} for this model", min=low, max=high))
    return number


def parse(prompt: str, limits: Limits = OPTION_LIMITS) -> ParsedPrompt:
    """Split `prompt` into its text and its parameters. Raises ValidationError naming the parameter
    and its limit: an unknown name, a missing or malformed value, a value out of range, a
    parameter given twice, or a prompt that is only parameters."""
    text = prompt or ""
    starts = [m.start() for m in _START.finditer(text)]
    if not starts:
        return ParsedPrompt(text.strip(), InlineParams())
    values: dict[str, Any] = {}
    order: list[str] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        chunk = text[start:end]
        chunk = chunk[2:] if chunk.startswith("--") else chunk[1:]
        match = _NAME.match(chunk)
        assert match is not None  # a start is only found where a name follows the dashes
        raw_name = match.group(0)
        value = " ".join(chunk[match.end():].split())
        name = ALIASES.get(raw_name.lower(), raw_name.lower())
        if name not in PARAMETERS:
            known = ", ".join(f"--{p}" for p in PARAMETERS)
            raise ValidationError(N_("Unknown parameter `--{name}`. The parameters are {known}.",
                                     name=quoted(raw_name), known=known))
        if name in values:
            raise ValidationError(N_("--{name} is given twice in the prompt: give it once.", name=name))
        if name in _FLAGS:
            if value:
                raise _bad(name, value, N_("no value (it is on when written)"))
            values[name] = True
        elif not value:
            raise ValidationError(N_("--{name} needs a value: {what}.", name=name, what=PARAMETERS[name]))
        elif name == "ar":
            values[name] = _aspect(value)
        elif name == "seed":
            values[name] = _whole(name, value, 0, MAX_SEED)
        elif name == "steps":
            values[name] = _whole(name, value, limits.min_steps, limits.max_steps,
                                  N_("a whole number from {min} to {max} for this model", min=limits.min_steps,
                                     max=limits.max_steps))
        elif name == "cfg":
            values[name] = _number(name, value, limits.min_guidance, limits.max_guidance)
        elif name == "chaos":
            values[name] = _whole(name, value, MIN_CHAOS, MAX_CHAOS)
        elif name == "model":
            if len(value.split()) != 1:
                raise _bad(name, value, N_("one model name (no spaces)"))
            values[name] = value
        else:  # no
            values[name] = value
        order.append(name)
    drawn = text[:starts[0]].strip()
    if not drawn:
        raise ValidationError(N_("The prompt has parameters but nothing to draw: describe the image first, "
                                 "then add the parameters (e.g. `a lighthouse --ar 16:9`)."))
    return ParsedPrompt(drawn, InlineParams(
        aspect=values.get("ar"), no=values.get("no"), seed=values.get("seed"), steps=values.get("steps"),
        guidance=values.get("cfg"), chaos=values.get("chaos"), tile=bool(values.get("tile", False)),
        model=values.get("model"), given=tuple(order),
    ))
