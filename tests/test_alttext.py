"""Alt text (Discord's attachment description): the prompt, in one plain line, within 1024 characters."""
from __future__ import annotations

import random

from bot.frontend.alttext import DESCRIPTION_LIMIT, chart_description, fit, image_description


def test_alt_text_names_the_image_as_ai_generated_with_its_prompt():
    assert image_description("a red fox in the snow") == "AI-generated image: a red fox in the snow"


def test_alt_text_keeps_markdown_characters_but_drops_line_breaks_controls_and_bidi_overrides():
    text = image_description("**bold**\n# heading\u202e evil\u200b zero\x00 width <@123> `code`")
    assert text == "AI-generated image: **bold** # heading evil zero width <@123> `code`"
    assert "\\" not in text  # not escaped: a screen reader would read the backslashes aloud


def test_an_empty_prompt_still_gets_a_description():
    assert image_description(" \n ") == "AI-generated image: no prompt"


def test_a_long_prompt_is_cut_at_a_word_within_the_limit_with_an_ellipsis():
    prompt = " ".join(f"word{i}" for i in range(400))
    text = image_description(prompt)
    assert len(text) <= DESCRIPTION_LIMIT and text.endswith("…")
    assert text[:-1].split()[-1] in prompt.split()  # the last word is whole


def test_cuts_never_split_a_combining_mark_or_an_emoji_sequence_and_always_fit():
    rng = random.Random(7)
    pieces = ["e\u0301", "👩\u200d🔬", "❤\ufe0f", "a", " ", "x" * 30, "日本"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(50, 900)))
        cut = fit(text, rng.randint(20, 1024))
        assert len(cut) <= max(20, len(text))
        body = cut[:-1] if cut.endswith("…") and cut != text else cut
        assert not body or body[0] != "\u0301"
        if cut != text:
            rest = text[len(body):].lstrip()
            assert not rest or (rest[0] != "\u0301" and rest[0] != "\u200d" and not body.endswith("\u200d"))


def test_the_stats_chart_is_described_by_its_totals():
    text = chart_description(7, 12, 30.25, 1, 2)
    assert "12 jobs" in text and "30.2 GPU-seconds" in text and "last 7 UTC day(s)" in text
