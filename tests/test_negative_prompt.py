"""The negative-prompt rule (bot/safety/negative.py): what a negative steers the model away from,
read item by item through the prompt filter's normalizer, and where that is refused."""
from __future__ import annotations

import pytest

from bot.safety.negative import Steering, negative_refusal, steering
from bot.safety.policy import ChannelKind
from bot.safety.terms import Category

CLOTHING = ["clothes, shirt, underwear", "CL0THES", "c.l.o.t.h.e.s", "(clothes:1.4)",
            "t-shirt, jeans, jacket", "ＣＬＯＴＨＥＳ",
            "safe for work", "censored", "fully clothed", "clothes bad shirt underwear", "ropa", "vêtements",
            "Kleidung", "roupas", "одежда", "下着"]
ADULTHOOD = ["adult, mature, old", "adu1t", "(m4ture:1.3)", "mature looking woman", "adult body", "grown up"]
BENIGN = ["blurry, lowres, bad anatomy, watermark", "deformed clothes, bad hands", "adult content, nsfw, nude",
          "old photo, sepia", "aged wood, rust", "child, kid, teen", "old town, cars", "text, signature", "",
          "top view", "uniform lighting", "covered in mud",
          # A garment or two is not the trick ("dress" on a man in a suit); nor clothing words beside
          # words that keep nudity out (the bot's own safety negative).
          "dress", "dress, skirt, blurry", "nsfw, nude, underwear",
          "nsfw, nude, naked, nudity, sexual, explicit, cleavage, underwear, gore, blood, violence",
          # Away from old age, not from adulthood: everyday portrait negatives.
          "ugly, old", "elderly", "old looking woman", "middle aged, wrinkles"]


@pytest.mark.parametrize("negative", CLOTHING)
def test_clothing_words_in_any_spelling_steer_away_from_clothing(negative):
    found = steering(negative)
    assert found.clothing and not found.adulthood


@pytest.mark.parametrize("negative", ADULTHOOD)
def test_items_made_of_adulthood_words_steer_away_from_adults(negative):
    found = steering(negative)
    assert found.adulthood and not found.clothing


@pytest.mark.parametrize("negative", BENIGN)
def test_ordinary_negatives_steer_away_from_neither(negative):
    assert not steering(negative), negative


def test_each_steering_item_is_named():
    assert steering("blurry, clothes, mature, old, watermark, shirt") == Steering(("clothes", "shirt"), ("mature",))


CLOTHES, ADULTS, NONE = Steering(("clothes",)), Steering((), ("adult",)), Steering()
SFW, AGE, NSFW = ChannelKind.SFW, ChannelKind.AGE_RESTRICTED, ChannelKind.NSFW


@pytest.mark.parametrize("steer, prompt, kind, expected", [
    (CLOTHES, set(), SFW, Category.SEXUAL),
    (CLOTHES, set(), AGE, Category.SEXUAL),
    (ADULTS, set(), SFW, Category.SEXUAL_MINORS),
    (CLOTHES, set(), NSFW, None),
    (ADULTS, set(), NSFW, Category.SEXUAL_MINORS),  # away from adults: refused everywhere
    (CLOTHES, {Category.MINORS}, NSFW, Category.SEXUAL_MINORS),
    (ADULTS, {Category.MINORS}, NSFW, Category.SEXUAL_MINORS),
    (CLOTHES, {Category.MINORS}, SFW, Category.SEXUAL_MINORS),
    (ADULTS, {Category.SEXUAL}, NSFW, Category.SEXUAL_MINORS),
    (ADULTS, {Category.SUGGESTIVE}, NSFW, Category.SEXUAL_MINORS),
    (CLOTHES, {Category.SEXUAL}, NSFW, None),
    (NONE, {Category.MINORS}, SFW, None),
])
def test_where_a_steering_negative_is_refused(steer, prompt, kind, expected):
    assert negative_refusal(steer, frozenset(prompt), kind) is expected


def test_a_long_negative_is_read_in_linear_time():
    import time

    negative = ", ".join(["blurry", "lowres", "bad anatomy", "deformed clothes", "old photo"] * 400)
    started = time.perf_counter()
    assert not steering(negative)
    assert time.perf_counter() - started < 1.0
