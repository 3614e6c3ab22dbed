"""The prompt-parameter parser (bot/prompt_params.py): properties over generated prompts, and the
errors that name the parameter and its limit."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ValidationError
from bot.models import MAX_SEED
from bot.prompt_params import InlineParams, Limits, aspect_ratio, parse

# Prompt text that cannot start a parameter (no dash followed by a letter after a space).
words = st.text(alphabet=st.characters(blacklist_characters="-—", blacklist_categories=("Cs",)), min_size=1,
                max_size=40).filter(lambda s: s.strip())
ratios = st.tuples(st.integers(1, 64), st.integers(1, 64)).filter(lambda wh: 0.25 <= wh[0] / wh[1] <= 4)
no_words = st.lists(st.sampled_from(["trees", "cars", "blurry", "text", "people"]), min_size=1, max_size=3)


@st.composite
def parameter_sets(draw) -> InlineParams:
    names = draw(st.lists(st.sampled_from(["ar", "no", "seed", "steps", "cfg", "chaos", "tile", "model"]),
                          unique=True, min_size=1))
    w, h = draw(ratios)
    from math import gcd
    g = gcd(w, h)
    return InlineParams(
        aspect=f"{w // g}:{h // g}" if "ar" in names else None,
        no=", ".join(draw(no_words)) if "no" in names else None,
        seed=draw(st.integers(0, MAX_SEED)) if "seed" in names else None,
        steps=draw(st.integers(1, 150)) if "steps" in names else None,
        guidance=draw(st.integers(0, 60)) / 2 if "cfg" in names else None,
        chaos=draw(st.integers(0, 100)) if "chaos" in names else None,
        tile="tile" in names,
        model=draw(st.sampled_from(["tiny-sd", "sdxl"])) if "model" in names else None,
        given=tuple(names),
    )


@given(words)
def test_a_prompt_without_parameters_is_itself_trimmed(text):
    parsed = parse(text)
    assert parsed.prompt == text.strip() and parsed.params.empty


@settings(max_examples=200)
@given(words, parameter_sets())
def test_parameters_written_after_a_prompt_are_read_back_and_leave_the_prompt(text, params):
    parsed = parse(f"{text} {params.text()}")
    assert parsed.prompt == text.strip()
    assert parsed.params == params and parsed.params.given == params.given
    assert parse(f"{parsed.prompt} {parsed.params.text()}") == parsed  # canonical text round-trips


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_any_text_either_parses_or_is_refused_with_a_validation_error(text):
    try:
        parsed = parse(text)
    except ValidationError as exc:
        assert str(exc)
    else:  # the drawn text is the prompt's start; what follows it was all parameters
        assert text.lstrip().startswith(parsed.prompt)
        assert parsed.params.empty == (parsed.prompt == text.strip())


@given(ratios)
def test_aspect_ratios_are_reduced(wh):
    w, h = wh
    parsed = parse(f"a field --ar {w * 3}:{h * 3}")
    a, b = (int(x) for x in parsed.params.aspect.split(":"))
    assert a / b == pytest.approx(w / h) and aspect_ratio(parsed.params.aspect) == pytest.approx(w / h)


def test_every_parameter_at_once():
    parsed = parse("a red fox   in snow --ar 16:9 --no trees, cars --seed 5 --steps 30 --cfg 6 --chaos 40 --tile "
                   "--model tiny-sd")
    assert parsed.prompt == "a red fox   in snow"
    p = parsed.params
    assert (p.aspect, p.no, p.seed, p.steps, p.guidance, p.chaos, p.tile, p.model) == (
        "16:9", "trees, cars", 5, 30, 6.0, 40, True, "tiny-sd")
    assert p.text() == "--ar 16:9 --no trees, cars --seed 5 --steps 30 --cfg 6 --chaos 40 --tile --model tiny-sd"


def test_long_dashes_aliases_and_capitals_are_accepted():
    p = parse("a boat —AR 3:2 --c 7").params
    assert (p.aspect, p.chaos) == ("3:2", 7)


def test_dashes_inside_words_or_alone_are_prompt_text():
    assert parse("a well-lit e-mail -- draft --- x").params.empty


@pytest.mark.parametrize(("prompt", "needle"), [
    ("a cat --foo 3", "Unknown parameter `--foo`. The parameters are --ar, --no"),
    ("a cat --ar 9:1", "`--ar 9:1` is not valid: --ar takes a ratio W:H between 1:4 and 4:1"),
    ("a cat --ar wide", "`--ar wide` is not valid"),
    ("a cat --ar 0:1", "`--ar 0:1` is not valid"),
    ("a cat --seed -1", f"--seed takes a whole number from 0 to {MAX_SEED}"),
    ("a cat --seed 4294967296", f"--seed takes a whole number from 0 to {MAX_SEED}"),
    ("a cat --seed", "--seed needs a value"),
    ("a cat --steps 3.5", "--steps takes a whole number from 1 to 150"),
    ("a cat --cfg nan", "--cfg takes a number from 0 to 30"),
    ("a cat --cfg inf", "--cfg takes a number from 0 to 30"),
    ("a cat --chaos 101", "--chaos takes a whole number from 0 to 100"),
    ("a cat --chaos 5 trees", "`--chaos 5 trees` is not valid"),  # text after a parameter is its value
    ("a cat --tile please", "--tile takes no value"),
    ("a cat --seed 1 --seed 2", "--seed is given twice"),
    ("a cat --model two words", "--model takes one model name"),
    ("--ar 1:1", "nothing to draw"),
    ("a cat --ar `x`", "`--ar 'x'` is not valid"),  # no backtick can close the code span early
])
def test_a_bad_parameter_is_refused_naming_it_and_its_limit(prompt, needle):
    with pytest.raises(ValidationError) as caught:
        parse(prompt)
    assert needle in str(caught.value)


def test_the_model_limits_are_the_ones_named():
    limits = Limits(min_steps=10, max_steps=60, min_guidance=1.0, max_guidance=12.0)
    with pytest.raises(ValidationError, match="from 10 to 60 for this model"):
        parse("a cat --steps 61", limits)
    with pytest.raises(ValidationError, match="from 1 to 12 for this model"):
        parse("a cat --cfg 0.5", limits)
    assert parse("a cat --steps 60 --cfg 12", limits).params.steps == 60
