"""/imagine end to end: unmodified discord.py in `python -m bot`, the tiny model, the test server."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e_helpers import custom_ids, is_result, job_id_of, job_rows, png_parameters, wait_result, wait_statuses


def _jobs(world):
    return job_rows(world.data_dir)


async def test_imagine_defers_shows_progress_and_delivers_pngs_with_buttons(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a red fox @everyone", "count": 2, "seed": 42, "steps": 4})
    first = await i.wait_ack(timeout=5)
    assert i.ack_latency < 3.0 and first["type"] == 4 and not i.ephemeral
    assert "Waiting in queue — position 1" in first["data"]["content"]
    assert [c["custom_id"] for row in first["data"]["components"] for c in row["components"]] == [
        f"job:cancel:v1:{_jobs(world)[0]['id']}"]
    message = await wait_result(server, i)

    assert len(message.attachments) == 2
    ids = custom_ids(message)
    job_id = job_id_of(message)
    assert ids == [f"img:up:v1:{job_id}:0", f"img:up:v1:{job_id}:1",
                   f"img:var:v1:{job_id}:0", f"img:var:v1:{job_id}:1",
                   f"img:reroll:v1:{job_id}", f"img:info:v1:{job_id}", f"img:delete:v1:{job_id}",
                   f"img:report:v1:{job_id}"]
    assert message.edit_count >= 2, "expected progress edits before the result"
    assert "seed 42" in message.content and "@\u200beveryone" in message.content

    params = png_parameters(message.attachments[0])
    assert params.startswith("a red fox @everyone\n")
    assert "Steps: 4" in params and "Seed: 42" in params and "Size: 64x64" in params
    assert "Seed: 43" in png_parameters(message.attachments[1])

    # The delivered PNG says it is AI-made: `python -m bot verify` reads the XMP source type and the
    # parameters; at the tiny model's 64x64 no watermark fits (imwatermark's 256x256 minimum).
    delivered = world.tmp_path / "delivered.png"
    delivered.write_bytes(message.attachments[0].data)
    # The bot's own interpreter and folder (.ci/wheel-check: the installed wheel's).
    verify = subprocess.run([os.environ.get("PIXELFORGE_BOT_PYTHON", sys.executable), "-m", "bot", "verify",
                             "--json", str(delivered)], capture_output=True, text=True, timeout=120,
                            cwd=os.environ.get("PIXELFORGE_BOT_CWD"))
    assert verify.returncode == 0, verify.stderr
    marks = json.loads(verify.stdout)
    assert marks["digital_source_type"] == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert marks["parameters"] == params and marks["marked"]
    assert marks["watermark"]["too_small"] and not marks["watermark"]["found"]

    assert await wait_statuses(world.data_dir, ["delivered"]) == ["delivered"]
    (job,) = _jobs(world)
    assert job["seed"] == 42 and job["message_id"] == message.id
    assert job["user_id"] == world.alice.id and job["channel_id"] == world.channel.id


async def test_same_seed_reproduces_the_same_png_pixels(world):
    server = world.server
    await world.start_bot()
    results = []
    for _ in range(2):
        i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                      {"prompt": "a lighthouse", "seed": 7, "steps": 4})
        results.append(await wait_result(server, i))
    import io

    from PIL import Image
    a, b = (Image.open(io.BytesIO(m.attachments[0].data)).convert("RGB").tobytes() for m in results)
    assert a == b


async def test_reroll_and_variation_belong_to_the_clicker(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a castle", "seed": 5, "steps": 4,
                                                                       "count": 2})
    original = await wait_result(server, i)
    job_id = job_id_of(original)

    reroll = await server.click_button(world.bob, original.id, f"img:reroll:v1:{job_id}")
    ack = await reroll.wait_ack(timeout=5)
    assert ack["type"] == 4 and "Waiting in queue" in ack["data"]["content"]
    rerolled = await wait_result(server, reroll)
    assert rerolled.id != original.id and "(re-roll)" in rerolled.content
    assert f"<@{world.bob.id}>" in rerolled.content

    vary = await server.click_button(world.bob, original.id, f"img:var:v1:{job_id}:0")
    varied = await wait_result(server, vary)
    assert "(variation)" in varied.content and "strength 0.6" in varied.content

    jobs = {j["id"]: j for j in _jobs(world)}
    kinds = {j["kind"]: j for j in jobs.values()}
    assert kinds["reroll"]["user_id"] == world.bob.id and kinds["reroll"]["parent_job_id"] == job_id
    assert kinds["variation"]["init_image"].startswith(f"images/{job_id}/")
    assert kinds["variation"]["parent_image_index"] == 0


async def test_delete_is_refused_for_a_stranger_and_done_for_the_requester(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a boat", "steps": 4})
    message = await wait_result(server, i)
    job_id = job_id_of(message)

    stranger = await server.click_button(world.bob, message.id, f"img:delete:v1:{job_id}")
    await stranger.wait_ack(timeout=5)
    assert stranger.ephemeral and "Only the person" in stranger.responses[0]["data"]["content"]
    assert server.get_message(message.id) is not None and not server.get_message(message.id).deleted

    owner = await server.click_button(world.alice, message.id, f"img:delete:v1:{job_id}")
    await owner.wait_ack(timeout=5)
    await server.wait_for(lambda s: all(m.id != message.id for m in s.messages(world.channel.id)), 10)


async def test_moderators_may_delete_anyones_images(world):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a kite", "steps": 4})
    message = await wait_result(server, i)
    click = await server.click_button(world.mod, message.id, f"img:delete:v1:{job_id_of(message)}")
    await click.wait_ack(timeout=5)
    await server.wait_for(lambda s: all(m.id != message.id for m in s.messages(world.channel.id)), 10)


@pytest.mark.parametrize("options,needle", [
    ({"prompt": "a fox", "steps": 120}, "Steps must be between 1 and 100"),
    ({"prompt": "a fox", "seed": 2**32}, "Seed must be between 0 and 4294967295"),
    ({"prompt": "x" * 1001}, "limit is 1000"),
    ({"prompt": "a fox", "guidance": 25.0}, "Guidance must be between"),
])
async def test_bad_options_get_an_ephemeral_error_and_no_render(world, options, needle):
    server = world.server
    await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine", options)
    response = await i.wait_ack(timeout=5)
    assert response["type"] == 4 and i.ephemeral
    assert needle in response["data"]["content"]
    assert _jobs(world) == []
    assert not any(is_result(m) for m in server.messages(world.channel.id))


async def test_buttons_keep_working_after_the_bot_restarts(world):
    server = world.server
    bot = await world.start_bot()
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a tower", "steps": 4})
    message = await wait_result(server, i)
    job_id = job_id_of(message)
    await bot.stop()

    await world.start_bot()
    reroll = await server.click_button(world.bob, message.id, f"img:reroll:v1:{job_id}")
    await wait_result(server, reroll)
    vary = await server.click_button(world.alice, message.id, f"img:vary:v1:{job_id}:0:subtle")
    await wait_result(server, vary)


async def test_missing_channel_permissions_are_named_while_the_job_waits(world):
    from tests.fakediscord.models import ATTACH_FILES, DEFAULT_APP_PERMISSIONS

    server = world.server
    locked = server.add_channel(world.guild.id, name="locked",
                                app_permissions=DEFAULT_APP_PERMISSIONS & ~ATTACH_FILES)
    await world.start_bot()
    i = await server.invoke_slash(world.alice, locked, "imagine", {"prompt": "a quiet street", "steps": 4})
    await i.wait_ack(timeout=5)
    await server.wait_for(
        lambda s: "missing Attach Files" in (s.get_message(i.original_message_id).content or ""), 30)
    message = await wait_result(server, i)  # still delivered through the interaction token
    assert "missing" not in message.content
