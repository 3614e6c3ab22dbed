"""The tools under a single web result, in a real browser (Debian's chromium through Playwright),
against `python -m bot web` with the tiny model: Vary (Subtle/Strong), Zoom Out, Pan, Vary (Region)
with a painted canvas mask, and the prompt's inline parameters, through the same services as the
Discord buttons (same prices, same refusals, same lineage). Screenshots for the README go to
docs/screenshots/."""
from __future__ import annotations

import pytest

from bot.credits import fmt
from tests.e2e_helpers import db_rows
from tests.web_helpers import SCREENSHOTS, WebProcess, need_browser

RESULT_TIMEOUT = 120_000  # ms: a render of the tiny model on a busy 2-core machine


@pytest.fixture(scope="module")
def web(tiny_model, tmp_path_factory):
    """Bound to loopback, no sign-in. MAX_UPSCALE_PIXELS=3000: a 64×64 image cannot pan at all (the
    canvas would pass the pixel limit), so the refusal is reached without rendering three pans."""
    need_browser()
    tmp = tmp_path_factory.mktemp("webtools")
    process = WebProcess(tiny_model, tmp / "data", tmp / "web.log", MAX_UPSCALE_PIXELS="3000",
                         PRICE_MEASURE="false", PREVIEW_EVERY_STEPS="2").start()
    try:
        process.wait_ready()
        yield process
    finally:
        code = process.stop()
    assert code == 0, process.log()[-3000:]
    assert not process.tracebacks(), "traceback in the web log:\n" + "\n---\n".join(process.tracebacks())


def create(page, base: str, prompt: str, steps: int = 4, **fields) -> None:
    page.goto(base + "/")
    page.fill("textarea[name=prompt]", prompt)
    page.fill("input[name=steps]", str(steps))
    for name, value in fields.items():
        page.fill(f"input[name={name}]", str(value))
    page.click("#create button[type=submit]")
    page.wait_for_url("**/jobs/*")


def wait_images(page) -> None:
    page.wait_for_function("() => { const i = document.querySelector('.grid img');"
                           " return i && i.complete && i.naturalWidth > 0 }", timeout=RESULT_TIMEOUT)


def job_id(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def job_row(web, job: int) -> dict:
    return db_rows(web.data_dir, "SELECT kind, task, parent_job_id, parent_image_index, edit, strength, cost, prompt, "
                                 "aspect, seed, steps, inline_params AS inline FROM jobs WHERE id = ?", (job,))[0]


def test_a_single_result_offers_the_discord_tools_each_a_priced_job_with_its_lineage(web, browser):
    page = browser.new_page(viewport={"width": 1000, "height": 760})
    create(page, web.base, "a lighthouse on a cliff at dusk", seed=7)
    base = job_id(page)
    wait_images(page)
    labels = page.locator(".actions button, .actions a").all_inner_texts()
    for label in ("🪄 Vary (Subtle)", "🪄 Vary (Strong)", "Zoom Out 2×", "Zoom Out 1.5×", "🖌 Vary (Region)",
                  "⬅", "➡", "⬆", "⬇", "🔄 Re-roll", "ℹ️ Info"):
        assert label in labels, labels
    assert "Make Square" not in labels and "V1" not in labels  # square already; a single image has Vary
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-result-tools.png"))

    page.click("form[action$='/outpaint/0/z2'] button")
    page.wait_for_function(f"() => location.pathname !== '/jobs/{base}'")
    zoomed = job_id(page)
    row = job_row(web, zoomed)
    assert (row["kind"], row["task"], row["parent_job_id"], row["edit"]) == ("outpaint", "inpaint", base, "zoom:2")
    assert f"💳 costs {fmt(row['cost'])} credits" in page.inner_text("main")  # the price line of Discord
    wait_images(page)
    page.click("text=ℹ️ Info")
    assert f"zoomed out 2× from job #{base}" in page.inner_text("main")
    assert "Outpaint: zoomed out 2×" in page.inner_text("main")

    page.goto(f"{web.base}/jobs/{base}")
    before = db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"]
    page.click("form[action$='/outpaint/0/l'] button")  # past the pixel limit: the geometry's own refusal
    assert "That image is at the model's pixel limit in that direction." in page.inner_text(".error")
    assert db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == before  # nothing queued

    page.goto(f"{web.base}/jobs/{base}")
    page.click("form[action$='/vary/0/strong'] button")
    page.wait_for_function(f"() => location.pathname !== '/jobs/{base}'")
    row = job_row(web, job_id(page))
    assert (row["kind"], row["parent_job_id"], row["strength"]) == ("variation", base, 0.75)


def test_vary_region_redraws_a_painted_stroke_and_refuses_an_empty_mask(web, browser):
    page = browser.new_page(viewport={"width": 900, "height": 900})
    create(page, web.base, "a red barn in a green field", seed=11)
    base = job_id(page)
    wait_images(page)
    page.click("text=🖌 Vary (Region)")
    page.wait_for_url(f"**/jobs/{base}/region/0")
    before = db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"]
    page.click("#region button[type=submit]")  # nothing painted
    assert page.inner_text(".error") == "Nothing is painted: paint over the part of the image to redraw first."
    assert db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == before

    page.wait_for_function("() => document.querySelector('.paint img').complete")
    box = page.locator("#mask").bounding_box()
    page.fill("#brush", "30")
    page.mouse.move(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(1, 11):  # a stroke across the top of the image
        page.mouse.move(box["x"] + box["width"] * (0.15 + 0.07 * step), box["y"] + box["height"] * 0.25)
    page.mouse.up()
    page.fill("textarea[name=prompt]", "a red barn under a stormy sky")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-vary-region.png"))
    page.click("#region button[type=submit]")
    page.wait_for_function(f"() => /^\\/jobs\\/\\d+$/.test(location.pathname) && location.pathname !== '/jobs/{base}'")
    redraw = job_id(page)
    row = job_row(web, redraw)
    assert (row["kind"], row["task"], row["parent_job_id"]) == ("region", "inpaint", base)
    assert row["edit"].startswith("region:paint:") and row["prompt"] == "a red barn under a stormy sky"
    wait_images(page)
    page.click("text=ℹ️ Info")
    info = page.inner_text("main")
    assert "vary region (inpainting the region)" in info
    assert "region varied (painted, " in info and f"from job #{base}" in info
    image = db_rows(web.data_dir, "SELECT path FROM images WHERE job_id = ?", (redraw,))[0]["path"]
    from PIL import Image

    with Image.open(web.data_dir / image) as png:  # the mask goes into the PNG's parameters, readable back
        assert f"mask 32x32 {row['edit'].split(':', 2)[2]}" in png.info["parameters"]


def test_prompt_parameters_in_the_web_prompt_box_behave_as_in_discord(web, browser):
    page = browser.new_page()
    create(page, web.base, "a calm sea --ar 3:2 --seed 5 --no boats")
    row = job_row(web, job_id(page))
    assert (row["prompt"], row["aspect"], row["seed"]) == ("a calm sea", "3:2", 5)
    assert "--ar 3:2" in row["inline"] and "--seed 5" in row["inline"]
    before = db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"]
    create_refused = page.goto(web.base + "/")
    assert create_refused.ok
    page.fill("textarea[name=prompt]", "a calm sea --seed 5")
    page.fill("input[name=seed]", "7")
    page.click("#create button[type=submit]")
    assert page.inner_text(".error") == ("The `seed` option says 7 but the prompt says --seed 5: give one of them "
                                         "(or the same value in both).")
    page.fill("textarea[name=prompt]", "a calm sea --bogus 3")
    page.fill("input[name=seed]", "")
    page.click("#create button[type=submit]")
    assert "--bogus" in page.inner_text(".error")
    assert db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == before


def test_the_live_preview_shows_in_the_progress_area_while_rendering(web, browser):
    page = browser.new_page()
    create(page, web.base, "a harbour at night", steps=60)
    job = job_id(page)
    page.wait_for_function("() => { const i = document.querySelector('#job #preview');"
                           " return i && i.complete && i.naturalWidth > 0 }", timeout=RESULT_TIMEOUT)
    src = page.get_attribute("#job #preview", "src")
    assert src.startswith(f"/jobs/{job}/preview/")
    assert "🎨 Rendering" in page.inner_text("#status-line")
    wait_images(page)
    assert page.locator("#job #preview").count() == 0  # the result replaces it
    assert page.request.get(web.base + src).status == 404  # and it is gone once the job ended
