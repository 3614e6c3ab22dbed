"""The safety negative (what the bot adds) is kept apart from the member's negative all the way to
what members and other tools read: the Info text and the PNG's A1111 `parameters` chunk show both,
each labelled; the pipeline still gets both."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.frontend.historytexts import info
from bot.models import ImageSpec, RenderBatch
from bot.renderer import pngmeta, render
from bot.services.history import JobDetails
from tests.factories import make_job

SAFETY = "nsfw, nude, naked"


def test_info_shows_the_members_negative_and_the_safety_negative_labelled():
    job = make_job(negative_prompt="blurry", safety_negative=SAFETY)
    text = info(JobDetails(job, None, None, []))
    assert "**Negative:** blurry" in text
    assert f"**Safety negative (added by the bot):** {SAFETY}" in text
    # With no negative of the member's, only the bot's line.
    alone = info(JobDetails(make_job(negative_prompt="", safety_negative=SAFETY), None, None, []))
    assert "**Negative:**" not in alone and "**Safety negative (added by the bot):**" in alone


def test_the_parameters_chunk_labels_the_safety_negative_apart():
    text = pngmeta.format_parameters("a fox", "blurry", 4, "Euler", 7.0, 42, 64, 64, "tiny", safety_negative=SAFETY)
    assert text.split("\n")[1] == "Negative prompt: blurry"
    assert f'Safety negative prompt: "{SAFETY}"' in text.split("\n")[-1]
    parsed = pngmeta.parse_parameters(text)
    assert (parsed["negative_prompt"], parsed["safety_negative_prompt"]) == ("blurry", SAFETY)
    assert (parsed["seed"], parsed["model"]) == (42, "tiny")
    # Without one, the text is exactly what it was.
    assert pngmeta.format_parameters("a fox", "blurry", 4, "Euler", 7.0, 42, 64, 64, "tiny") == (
        "a fox\nNegative prompt: blurry\nSteps: 4, Sampler: Euler, CFG scale: 7.0, Seed: 42, Size: 64x64, Model: tiny")


def _encoded(negative: str, safety: str) -> bytes:
    spec = ImageSpec(1, 0, "a fox", negative, 42, "", safety_negative=safety)
    batch = RenderBatch(1, 64, 64, 4, 7.0, (spec,), model_label="tiny")
    (encoded,) = render.encode_batch(batch, [Image.new("RGB", (64, 64))], "EulerDiscreteScheduler", "tiny")
    return encoded.png


def test_a_delivered_png_shows_both_negatives_and_an_independent_reader_agrees():
    png = _encoded("blurry", SAFETY)
    parsed = pngmeta.parse_parameters(Image.open(io.BytesIO(png)).info["parameters"])
    assert (parsed["negative_prompt"], parsed["safety_negative_prompt"]) == ("blurry", SAFETY)
    sd_parsers = pytest.importorskip("sd_parsers")
    read = sd_parsers.ParserManager().parse(Image.open(io.BytesIO(png)))
    assert read.prompts[0].value == "a fox"
    assert read.negative_prompts[0].value == "blurry"  # the member's, not the bot's words mixed in
    assert str(read.samplers[0].parameters["seed"]) == "42"  # the labelled pair breaks nothing else


def test_the_pipeline_gets_the_members_negative_and_the_safety_negative():
    assert ImageSpec(1, 0, "p", "blurry", 1, "", safety_negative=SAFETY).pipeline_negative == f"blurry, {SAFETY}"
    assert ImageSpec(1, 0, "p", "", 1, "", safety_negative=SAFETY).pipeline_negative == SAFETY
    assert ImageSpec(1, 0, "p", "blurry", 1, "").pipeline_negative == "blurry"
