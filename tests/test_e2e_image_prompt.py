"""Image prompts end to end: /imagine image:<attachment> strength:<number> through the test server.

Bad files are refused by their content with the reason and nothing queued; a good one is downloaded
once (slowly here, so the bot defers first), fitted and stored, renders, and its re-roll still works
after the bot restarted and the attachment URL stopped resolving."""
from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
from PIL import Image

from tests.e2e_helpers import job_id_of, job_rows, public_message, reply_text, wait_public_result, wait_result


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb() -> bytes:
    """A 90-byte PNG whose header claims 30000x30000 pixels (900 megapixels)."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    rnd = random.Random(3)
    return Image.frombytes("RGB", size, bytes(rnd.randrange(256) for _ in range(size[0] * size[1] * 3)))


def animated_webp() -> bytes:
    """Two frames, 96x64 (3:2): red, then blue."""
    frames = [Image.new("RGB", (96, 64), (220, 30, 30)), Image.new("RGB", (96, 64), (30, 30, 220))]
    return encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)


def bad_files() -> list[tuple[str, bytes, str]]:
    gif_frames = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    truncated = encoded(noise((128, 128)), "PNG")
    return [
        ("photo.png", encoded(Image.new("RGB", (32, 32), "red"), "GIF"), "is a GIF image, whatever its name says"),
        ("notes.jpg", b"just some text, not a picture\n" * 40, "not an image"),
        ("huge.png", b"\x89PNG\r\n\x1a\n" + bytes(11 * 2**20), "is 11.0 MiB; the limit is 10.0 MiB"),
        ("bomb.png", decompression_bomb(), "decompression bomb"),
        ("cut.png", truncated[: len(truncated) * 6 // 10], "truncated or damaged"),
        ("dance.webp", encoded(gif_frames[0], "GIF", save_all=True, append_images=gif_frames[1:]),
         "is an animated GIF image"),
    ]


async def test_bad_files_are_refused_and_a_good_one_renders_and_rerolls_after_the_url_expires(world):
    server = world.server
    server.attachment_size_limit = 25 * 2**20  # a boosted server: Discord lets the 11 MiB file through
    bot = await world.start_bot()

    for filename, data, reason in bad_files():
        i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                      {"prompt": "a fox", "image": (filename, data), "steps": 4})
        text = await reply_text(server, i)
        assert i.ephemeral and reason in text, (filename, text)
        assert public_message(server, i) is None
    assert job_rows(world.data_dir) == []  # nothing queued, nothing charged
    too_big = next(a for a in server.attachments.values() if a.filename == "huge.png")
    assert too_big.id not in server.attachment_downloads  # refused from its size, never downloaded

    # A good one, slow to download: the bot defers (ephemerally) and the job's message follows in public.
    server.attachment_delay = 2.0
    i = await server.invoke_slash(world.alice, world.channel, "imagine",
                                  {"prompt": "a red fox", "image": ("dance.webp", animated_webp()), "strength": 0.5,
                                   "steps": 4, "seed": 11})
    result = await wait_public_result(server, i)
    server.attachment_delay = 0.0
    assert i.ephemeral and "Got your image" in server.get_message(i.original_message_id).content
    assert "from an image prompt" in result.content and "strength 0.5" in result.content
    (job,) = job_rows(world.data_dir)
    assert (job["task"], job["width"], job["height"], job["aspect"], job["strength"]) == ("img2img", 72, 48, "3:2", 0.5)
    assert job["init_image"].startswith("inputs/")
    with Image.open(world.data_dir / job["init_image"]) as stored:  # frame 0 (red), fitted to 3:2
        assert stored.format == "PNG" and stored.size == (72, 48)
        red, _, blue = np.asarray(stored.convert("RGB"), dtype=np.float32).mean(axis=(0, 1))
    assert red > 180 and blue < 60
    (good,) = [a for a in server.attachments.values() if a.filename == "dance.webp" and a.data[:4] == b"RIFF"]
    assert server.attachment_downloads.count(good.id) == 1

    # The URL stops resolving and the bot restarts: the re-roll renders from the stored file.
    server.expire_attachment_urls()
    await bot.stop()
    await world.start_bot()
    reroll = await server.click_button(world.bob, result.id, f"img:reroll:v1:{job_id_of(result)}")
    await wait_result(server, reroll)
    rows = job_rows(world.data_dir)
    assert rows[-1]["kind"] == "reroll" and rows[-1]["init_image"] == job["init_image"]
    assert server.attachment_downloads.count(good.id) == 1
    # The expired attachment itself can no longer be used: the member is told to upload it again.
    again = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a fox", "image": good})
    assert "upload it again" in await reply_text(server, again)
