"""The README's pictures of a result message: a real /imagine count=4 and its U1 through the
Discord-compatible server (`python -m bot`, the tiny model), each result message rendered by
tests/fakediscord/snapshot.py and photographed by Debian's Chromium (Playwright).

The pictures go to docs/screenshots/ only with PIXELFORGE_WRITE_SCREENSHOTS=1 (else to tmp_path).
The tiny model draws noise whatever it is asked; its copy here renders at 256 px instead of 64 so
the noise at least fills the frame as a real image would (a real render, never a stand-in)."""
from __future__ import annotations

import io
import json
import os
import re
import shutil

from PIL import Image

from tests.e2e_helpers import custom_ids, job_id_of, wait_result
from tests.fakediscord.models import walk_components
from tests.fakediscord.snapshot import render_message
from tests.web_helpers import CHROMIUM, SCREENSHOTS, need_browser


def _larger_tiny_model(tiny_model, tmp_path):
    """The tiny model with a 4× larger native edge (UNet sample_size 32 → 128 latent px): the same
    weights; the size is only read from the config."""
    model = tmp_path / "tiny-sd-256"
    shutil.copytree(tiny_model, model)
    config_path = model / "unet" / "config.json"
    config = json.loads(config_path.read_text())
    config["sample_size"] = 128
    config_path.write_text(json.dumps(config))
    return model


def _labels(message) -> list[str]:
    return [c["label"] for c in walk_components(message.components) if c.get("type") == 2 and c.get("label")]


async def _screenshot(page_html: str, path) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = await browser.new_page(viewport={"width": 760, "height": 400})
            await page.set_content(page_html, wait_until="load")
            # Every image decoded (data URLs) before the picture is taken.
            await page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            picture = await page.locator(".chat").screenshot()
        finally:
            await browser.close()
    # Noise compresses badly: 128 colours keep the text crisp and the file under ~300 KB.
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    image.quantize(128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def _check_page(page_html: str, message) -> None:
    """The page draws what the message holds: every button label, every image with its alt text."""
    for label in _labels(message):
        assert f"<span class='label'>{label}</span>" in page_html, label
    alts = re.findall(r"<img src='data:image/png;base64,[^']+' alt='([^']*)'>", page_html)
    assert alts == [a.description for a in message.attachments]
    assert "<span class='app'>APP</span>" in page_html


async def test_a_grid_and_its_upscale_render_as_discord_messages_with_every_button(world, tiny_model, tmp_path):
    need_browser()
    server = world.server
    world.tiny_model = _larger_tiny_model(tiny_model, tmp_path)
    await world.start_bot()
    out = SCREENSHOTS if os.environ.get("PIXELFORGE_WRITE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)

    command = await server.invoke_slash(world.alice, world.channel, "imagine", {
        "prompt": "a lighthouse on a cliff at dusk, oil painting", "count": 4, "aspect": "3:2", "seed": 11,
        "steps": 4})
    grid = await wait_result(server, command, timeout=240)
    grid_id = job_id_of(grid)
    assert len(grid.attachments) == 4
    assert {f"U{n}" for n in range(1, 5)} | {f"V{n}" for n in range(1, 5)} | {"Re-roll"} <= set(_labels(grid))
    grid_html = render_message(server, grid)
    _check_page(grid_html, grid)
    assert "used <span class='cmd'>/imagine</span>" in grid_html  # the command it answers
    await _screenshot(grid_html, out / "discord-result-grid.png")

    single = await wait_result(server, await server.click_button(world.alice, grid.id, f"img:up:v1:{grid_id}:0"),
                               timeout=240)
    single_id = job_id_of(single)
    assert len(single.attachments) == 1
    labels = _labels(single)
    for label in ("Vary (Subtle)", "Vary (Strong)", "Vary (Region)", "Make Square"):
        assert label in labels, labels
    assert any(label.startswith("Zoom Out") for label in labels), labels
    assert f"img:out:v1:{single_id}:0:l" in custom_ids(single)  # a pan
    single_html = render_message(server, single)
    _check_page(single_html, single)
    await _screenshot(single_html, out / "discord-result-single.png")

    for name in ("discord-result-grid.png", "discord-result-single.png"):
        assert 10_000 < (out / name).stat().st_size < 300_000, name  # a picture, not a blank frame


def test_the_page_draws_markdown_mentions_and_button_styles_from_the_message_alone():
    from tests.fakediscord import FakeDiscord

    server = FakeDiscord()
    guild = server.add_guild("Test")
    channel = server.add_channel(guild.id, name="art")
    alice = server.add_user("alice")
    content = f"**a fox** <@{alice.id}> `seed 3` <#{channel.id}>\n-# small"
    message = server.add_message(channel, server.bot_user, content)
    message.components = [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Re-roll", "emoji": {"name": "🔄"}, "custom_id": "a"},
        {"type": 2, "style": 4, "label": "<Delete>", "custom_id": "b", "disabled": True}]}]
    page = render_message(server, message)
    assert "<strong>a fox</strong>" in page and "<code>seed 3</code>" in page
    assert "<span class='mention'>@alice</span>" in page and "<span class='mention'>#art</span>" in page
    assert "<span class='sub'>small</span>" in page
    assert "background:#5865f2'><span class='emoji'>🔄</span><span class='label'>Re-roll</span>" in page
    assert "button disabled' style='background:#da373c'><span class='label'>&lt;Delete&gt;</span>" in page
    assert "<img" not in page and "used <span" not in page  # no images and no command it answers
