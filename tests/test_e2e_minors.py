"""Minors and the negative prompt end to end: `python -m bot` with the tiny model and the scripted
checker plugin (tests/safety_plugins) against the test server. In an age-restricted channel of a
server that enabled NSFW, a flagged result is withheld when the prompt names a minor or the upload
it started from was flagged; a clothing negative is refused in an ordinary channel; a NaN score
withholds; Info and the PNG show the member's negative and the bot's safety negative apart."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.e2e_helpers import (
    custom_ids,
    db_rows,
    job_id_of,
    png_parameters,
    reply_text,
    wait_failure,
    wait_result,
)

PLUGINS = Path(__file__).resolve().parent / "safety_plugins"
MAGENTA = (250, 0, 250)


def _png(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_minors_uploads_negatives_and_nan_scores_in_every_channel(world):
    server = world.server
    after_dark = server.add_channel(world.guild.id, name="after-dark", nsfw=True)
    await world.start_bot(SAFETY_IMAGE_CHECKER="pixelforge_test_checker:Scripted", PYTHONPATH=str(PLUGINS),
                          PIXELFORGE_TEST_FLAG_WORDS="zebra", PIXELFORGE_TEST_NAN_WORDS="mirage",
                          PIXELFORGE_TEST_FLAG_COLOR=",".join(map(str, MAGENTA)))
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod safety nsfw", {"enabled": True}))

    async def imagine(channel, prompt, **options):
        return await server.invoke_slash(world.alice, channel, "imagine", {"prompt": prompt, "steps": 4, **options})

    # A result the checker flags: posted for an adult prompt, withheld when the prompt names a minor.
    adult = await wait_result(server, await imagine(after_dark, "a woman with a zebra"))
    assert adult.attachments
    minor = await wait_failure(server, await imagine(after_dark, "a teenager with a zebra"))
    assert "minor" in minor.content and not minor.attachments and not custom_ids(minor)

    # A flagged upload: refused at once with a minor in the prompt; its flagged result withheld.
    refused = await imagine(after_dark, "a teenager on a sofa", image=("me.png", _png(MAGENTA)))
    assert "minors" in await reply_text(server, refused) and refused.ephemeral
    upload = await wait_failure(server, await imagine(after_dark, "a zebra", image=("me.png", _png(MAGENTA))))
    assert "uploaded image" in upload.content and not upload.attachments

    # The negative prompt: steering away from clothing is refused in an ordinary channel.
    negative = await imagine(world.channel, "a calm lake", negative="clothes, shirt, underwear")
    assert "negative prompt was refused" in await reply_text(server, negative) and negative.ephemeral

    # A checker that answers NaN withholds (it used to count as "not flagged").
    nan = await wait_failure(server, await imagine(world.channel, "a mirage"))
    assert "could not be safety-checked" in nan.content and not nan.attachments

    # The member's negative and the safety negative, labelled apart, in Info and in the PNG.
    result = await wait_result(server, await imagine(world.channel, "a calm lake", negative="blurry"))
    job_id = job_id_of(result)
    parameters = png_parameters(result.attachments[0])
    assert "\nNegative prompt: blurry\n" in parameters and 'Safety negative prompt: "nsfw, nude' in parameters
    info = await reply_text(server, await server.click_button(world.alice, result.id, f"img:info:v1:{job_id}"))
    assert "**Negative:** blurry" in info and "**Safety negative (added by the bot):** nsfw, nude" in info

    blocks = db_rows(world.data_dir, "SELECT kind, category FROM safety_blocks ORDER BY id")
    assert [(b["kind"], b["category"]) for b in blocks] == [
        ("image", "sexual-minors"), ("image", "sexual-minors"), ("image", "sexual-minors"), ("prompt", "sexual"),
        ("image", "unchecked")]
