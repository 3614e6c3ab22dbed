"""Benign senses that a word list alone gets wrong, and the attacks that must still be refused.
Prompts are written for these tests (none copied from a labelled set); the learned layer is off, so
the terms, rules and senses must hold by themselves."""
from __future__ import annotations

import pytest

from bot.safety.decision import check_text
from bot.safety.normalize import normalize
from bot.safety.policy import ChannelKind
from bot.safety.prompt_filter import PromptFilter

RULES_ONLY = PromptFilter(classifier=None)


def refused(prompt: str, negative: str = "") -> str | None:
    category = check_text(RULES_ONLY, prompt, negative, None, ChannelKind.SFW).category
    return category and category.value


@pytest.mark.parametrize("prompt", [
    "studio portrait of a violinist, 50mm, f/1.8", "a jazz club in the 1920s, 35mm film grain",
    "city at night, 4k, 60fps, 1080p", "retro 80s arcade, neon", "a 3d render of a teapot, 8k",
])
def test_numbers_with_units_are_measures_and_are_not_folded_as_leetspeak(prompt):
    assert refused(prompt) is None


def test_a_number_with_a_unit_keeps_its_digits():
    assert [t.canonical for t in normalize("85mm 1960s").readings[0].tokens] == ["85mm", "1960s"]


@pytest.mark.parametrize("prompt", [
    "un loro verde volando sobre la selva", "paseo por la playa al atardecer", "Hund und Katze im Garten",
    "uno dos tres, cartel de feria",
])
def test_everyday_words_of_other_languages_are_not_read_as_misspelt_terms(prompt):
    assert refused(prompt) is None


@pytest.mark.parametrize("prompt", [
    "a pornstar martini with passion fruit foam, bar photography",
    "cocktail menu: sex on the beach and mojito, pastel illustration",
    "a screaming orgasm cocktail with crushed ice, dark moody bar",
    "slippery nipple shot, layered liqueur in a shot glass",
])
def test_drink_names_next_to_a_drink_word_are_the_drink(prompt):
    assert refused(prompt) is None


@pytest.mark.parametrize("prompt", [
    "sex in a cocktail bar", "naked woman sipping a cocktail", "a bartender having sex behind the counter",
    "woman with her nipples showing, martini glass in hand",
])
def test_a_drink_word_does_not_lift_a_sexual_request(prompt):
    assert refused(prompt) == "sexual"


@pytest.mark.parametrize("prompt", [
    "a snowy road sign for the village of Fucking, Austria", "welcome to Intercourse, Pennsylvania, postcard",
    "touristen am Ortsschild von Fucking, Winter",
])
def test_place_names_written_capitalized_after_a_preposition_in_a_place_prompt(prompt):
    assert refused(prompt) is None


@pytest.mark.parametrize("prompt", ["two people Fucking in a small town", "fucking in the village square"])
def test_a_place_word_does_not_lift_the_same_word_used_as_a_verb(prompt):
    assert refused(prompt) == "sexual"


def test_a_sign_about_nudism_is_benign_but_nudists_on_a_beach_are_not():
    assert refused("a faded nudist beach sign on a sand dune, empty coast") is None
    assert refused("nudists sunbathing on the beach near a warning sign") == "sexual"


@pytest.mark.parametrize("prompt", [
    "a naked cake with raspberries and figs", "a naked burrito bowl, overhead shot",
    "zombie horde in the rain, cinematic, no gore", "a knight's portrait, without nudity",
])
def test_food_served_plain_and_things_asked_away_from_are_benign(prompt):
    assert refused(prompt) is None


def test_the_dish_needs_cooking_words_and_no_person():
    assert refused("homemade faggots in onion gravy with mash, pub dinner") is None
    assert refused("a gay man called a faggot in a pub") == "hate"


@pytest.mark.parametrize("prompt", ["memorial, flores blancas, fotografía en blanco y negro",
                                    "um gato negro no telhado"])
def test_black_in_spanish_and_portuguese_is_a_colour(prompt):
    assert refused(prompt) is None
