"""Several models and LoRAs end to end (`python -m bot`, two tiny models, a tiny LoRA, the
Discord-compatible server): model: and lora: autocomplete from IMAGE_MODELS and LORA_DIR; a job on
the second model with a LoRA renders, stores both, shows them in Info, writes A1111's `Model hash`
and `Lora hashes` into the PNG, and its Re-roll keeps them; /settings set model: becomes the
member's default; an unknown model or LoRA is refused ephemerally, naming it, with nothing queued or
charged."""
from __future__ import annotations

import hashlib
import io
import struct

import pytest
from PIL import Image

from bot.renderer.tiny import build_tiny_lora, build_tiny_pipeline
from tests.e2e_helpers import custom_ids, db_rows, job_id_of, job_rows, png_parameters, reply_text, wait_result
from tests.model_helpers import build_wider_tiny_model


@pytest.fixture(scope="module")
def second_model(tmp_path_factory):
    return build_tiny_pipeline(tmp_path_factory.mktemp("model2") / "tiny-other", seed=1)


@pytest.fixture(scope="module")
def lora_dir(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("loras")
    build_tiny_lora(tiny_model, folder / "ink.safetensors")
    return folder


def _short_hashes(model, lora) -> tuple[str, str]:
    unet = sorted((model / "unet").glob("*.safetensors"))
    data = lora.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return (hashlib.sha256(b"".join(p.read_bytes() for p in unet)).hexdigest()[:10],
            hashlib.sha256(data[8 + length:]).hexdigest()[:12])


async def test_a_second_model_and_a_lora_render_are_recorded_and_unknown_ones_are_refused(
        world, second_model, lora_dir):
    server, alice = world.server, world.alice
    await world.start_bot(IMAGE_MODELS=f"tiny-sd={world.tiny_model},other={second_model}", LORA_DIR=str(lora_dir),
                          QUOTA_CREDITS="20", MAX_QUEUED_PER_USER="10")

    typed = await server.autocomplete(alice, world.channel, "imagine", {"prompt": "a fox"}, "model", "oth")
    await typed.wait_ack(5)
    assert [c["value"] for c in typed.choices] == ["other"]
    typed = await server.autocomplete(alice, world.channel, "imagine", {"prompt": "a fox"}, "lora", "in:0.6")
    await typed.wait_ack(5)
    assert [c["value"] for c in typed.choices] == ["ink:0.6"]

    i = await server.invoke_slash(alice, world.channel, "imagine",
                                  {"prompt": "a fox <lora:ink:0.6> --steps 3", "model": "other"})
    message = await wait_result(server, i)
    job_id = job_id_of(message)
    (row,) = job_rows(world.data_dir)
    assert (row["prompt"], row["model"], row["loras"], row["steps"]) == ("a fox", "other", "ink:0.6", 3)
    model_hash, lora_hash = _short_hashes(second_model, lora_dir / "ink.safetensors")
    text = png_parameters(message.attachments[0])
    assert text.startswith("a fox\n")  # the tag is not drawn
    assert f"Model: other, Model hash: {model_hash}" in text
    assert f'Lora hashes: "ink: {lora_hash}"' in text and 'Lora weights: "ink: 0.6"' in text

    shown = await reply_text(server, await server.click_button(world.bob, message.id, f"img:info:v1:{job_id}"))
    assert "**Model:** other" in shown and "**LoRAs:** ink:0.6" in shown, shown
    rerolled = await wait_result(server, await server.click_button(alice, message.id, f"img:reroll:v1:{job_id}"))
    again = next(r for r in job_rows(world.data_dir) if r["id"] == job_id_of(rerolled))
    assert (again["model"], again["loras"]) == ("other", "ink:0.6")
    assert f"Model: other, Model hash: {model_hash}" in png_parameters(rerolled.attachments[0])

    # The default model renders without the LoRA again (the adapter left with the other jobs).
    plain = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                                {"prompt": "a fox", "steps": 3}))
    plain_text = png_parameters(plain.attachments[0])
    assert "Model: tiny-sd, Model hash: " in plain_text and "Lora hashes" not in plain_text

    # Refusals: ephemeral, naming what is missing, nothing queued or charged.
    def ledger():
        return db_rows(world.data_dir, "SELECT id, amount FROM quota_ledger ORDER BY id")

    before = ([r["id"] for r in job_rows(world.data_dir)], ledger())
    for options, expected in (
        ({"prompt": "a fox", "model": "anime"}, "There is no model named `anime`. Available: `tiny-sd`, `other`."),
        ({"prompt": "a fox --model anime"}, "There is no model named `anime`."),
        ({"prompt": "a fox", "lora": "pastel"}, "There is no LoRA named `pastel`. Available: `ink`."),
        ({"prompt": "a fox <lora:pastel:0.5>"}, "There is no LoRA named `pastel`."),
        ({"prompt": "a fox", "lora": "ink:7"}, "The weight of LoRA `ink` must be a number from -2 to 2"),
        ({"prompt": "a fox --model other", "model": "tiny-sd"}, "The `model` option says tiny-sd"),
    ):
        refused = await server.invoke_slash(alice, world.channel, "imagine", options)
        said = await reply_text(server, refused)
        assert refused.ephemeral and expected in said, (options, said)
    assert ([r["id"] for r in job_rows(world.data_dir)], ledger()) == before

    # /settings set model: becomes the member's default, autocompleted the same way.
    typed = await server.autocomplete(alice, world.channel, "settings set", {}, "model", "")
    await typed.wait_ack(5)
    assert [c["value"] for c in typed.choices] == ["tiny-sd", "other"]
    saved = await server.invoke_slash(alice, world.channel, "settings set", {"model": "other"})
    assert "model other" in await reply_text(server, saved)
    refused = await server.invoke_slash(alice, world.channel, "settings set", {"model": "anime"})
    assert "There is no model named `anime`" in await reply_text(server, refused)
    await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                        {"prompt": "a hare", "steps": 3}))
    assert job_rows(world.data_dir)[-1]["model"] == "other"


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    return build_wider_tiny_model(tmp_path_factory.mktemp("model3") / "tiny-wide")


async def test_the_u_button_under_a_non_default_models_image_follows_that_models_size_cap(world, wide_model):
    """A 128×128 image is at the default tiny model's upscale cap (128²) but a quarter of `wide`'s
    (256²): under a `wide` job U is offered, as admission (which checks the job's model) allows it."""
    server = world.server
    await world.start_bot(IMAGE_MODELS=f"tiny-sd={world.tiny_model},wide={wide_model}")
    message = await wait_result(server, await server.invoke_slash(
        world.alice, world.channel, "imagine", {"prompt": "a fox", "steps": 2, "model": "wide"}))
    job_id = job_id_of(message)
    assert Image.open(io.BytesIO(message.attachments[0].data)).size == (128, 128)
    assert f"img:up:v1:{job_id}:0" in custom_ids(message)

