"""The model select and LoRA field on the web (issue 16, "the model once several exist"), in a real
browser against `python -m bot web` with two tiny models and a tiny LoRA: a job on the second model
with a LoRA, its Info, its U button under that model's own size cap, the default model in settings,
and the same refusals as /imagine model: / lora:."""
from __future__ import annotations

import pytest

from bot.renderer.tiny import build_tiny_lora
from tests.e2e_helpers import job_rows
from tests.model_helpers import build_wider_tiny_model
from tests.web_helpers import WebProcess, need_browser

RESULT_TIMEOUT = 120_000


@pytest.fixture(scope="module")
def web(tiny_model, tmp_path_factory):
    need_browser()
    tmp = tmp_path_factory.mktemp("webmodels")
    wide = build_wider_tiny_model(tmp / "tiny-wide")
    (tmp / "loras").mkdir()
    build_tiny_lora(tiny_model, tmp / "loras" / "ink.safetensors")
    process = WebProcess(tiny_model, tmp / "data", tmp / "web.log", IMAGE_MODELS=f"tiny-sd={tiny_model},wide={wide}",
                         LORA_DIR=str(tmp / "loras"), PRICE_MEASURE="false").start()
    try:
        process.wait_ready()
        yield process
    finally:
        code = process.stop()
    assert code == 0, process.log()[-3000:]
    assert not process.tracebacks(), "traceback in the web log:\n" + "\n---\n".join(process.tracebacks())


def _create(page, base: str, prompt: str, model: str = "", lora: str = "") -> None:
    page.goto(base + "/")
    page.fill("textarea[name=prompt]", prompt)
    page.fill("input[name=steps]", "2")
    page.select_option("select[name=model]", model)
    page.fill("input[name=lora]", lora)
    page.click("#create button[type=submit]")


def test_the_second_model_and_a_lora_chosen_on_the_web_render_and_unknown_ones_are_refused(web, browser):
    page = browser.new_page()
    page.goto(web.base + "/")
    options = page.locator("select[name=model] option").all_inner_texts()
    assert options == ["(your default)", "tiny-sd (default)", "wide"]
    assert page.locator("#lora-names option").evaluate_all("os => os.map(o => o.value)") == ["ink"]

    _create(page, web.base, "a fox", model="wide", lora="ink:0.6")
    page.wait_for_url("**/jobs/*")
    page.wait_for_function("() => { const i = document.querySelector('.grid img');"
                           " return i && i.complete && i.naturalWidth > 0 }", timeout=RESULT_TIMEOUT)
    row = job_rows(web.data_dir)[-1]
    assert (row["model"], row["loras"], row["width"]) == ("wide", "ink:0.6", 128)
    # 128×128 is the default model's upscale cap but a quarter of `wide`'s: U1 follows the job's model.
    assert page.locator("form[action$='/upscale/0'] button").count() == 1
    page.click("a.button[href$='/info']")
    info = page.inner_text("table.info")
    assert "Model\twide" in info and "LoRAs\tink:0.6" in info, info

    for prompt, model, lora, expected in (
        ("a fox", "", "pastel", "There is no LoRA named `pastel`. Available: `ink`."),
        ("a fox <lora:pastel:0.5>", "", "", "There is no LoRA named `pastel`."),
        ("a fox", "", "ink:7", "The weight of LoRA `ink` must be a number from -2 to 2"),
        ("a fox --model wide", "tiny-sd", "", "The `model` option says tiny-sd"),
        ("a fox --model anime", "", "", "There is no model named `anime`. Available: `tiny-sd`, `wide`."),
    ):
        before = len(job_rows(web.data_dir))
        _create(page, web.base, prompt, model, lora)
        assert expected in page.inner_text(".error"), (prompt, model, lora)
        assert len(job_rows(web.data_dir)) == before  # nothing queued

    page.goto(web.base + "/settings")
    page.select_option("select[name=model]", "wide")
    page.click("form[action='/settings/set'] button")
    assert "model wide" in page.inner_text("#defaults")
    page.close()
