"""The semantic prompt layer (SAFETY_SEMANTIC=on) with the tiny random-weight pipeline's text encoder.

A random encoder gives meaningless similarities, so nothing here measures what the layer catches
(that needs the operator's model: `python -m bot semantic-calibrate`). What is tested: the child
loads the encoder from the model folder, an anchor phrase scores ~1.0 against its own category and
is refused under the channel's policy, off spawns nothing, a crashed, stuck or unloadable child
refuses (fail closed) and is replaced, the bot's process stays torch-free, and the settings.

One child serves the module; a few anchors in words no other layer refuses (a lighthouse, a teapot)
are added to drive the bot's own refusal path, so the tests do not depend on the word lists.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import load_settings
from bot.errors import ConfigError, ContentBlocked
from bot.models import JobStatus
from bot.safety import semantic
from bot.safety.decision import check_text
from bot.safety.policy import ChannelKind
from bot.safety.prompt_filter import PromptFilter
from bot.safety.semantic import CONCEPTS, SEMANTIC_ERROR, SemanticLayer, decide
from bot.safety.terms import Category
from tests.test_safety_service import GUILD, NSFW, SafetyHarness

amark = pytest.mark.asyncio(loop_scope="module")  # the tests share the module's child
ROOT = Path(__file__).resolve().parent.parent
EXACT = 0.999  # only the anchor itself reaches this with the random encoder
SEXUAL_TEST_ANCHOR = "a lighthouse in purple fog"
MINORS_TEST_ANCHOR = "a teapot on a windowsill"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def layer(tiny_model):
    concepts = {c: tuple(p) for c, p in CONCEPTS.items()}
    concepts[Category.SEXUAL] += (SEXUAL_TEST_ANCHOR,)
    concepts[Category.SEXUAL_MINORS] += (MINORS_TEST_ANCHOR,)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(semantic, "CONCEPTS", concepts)  # the parent sends the anchors to each child it starts
        shared = SemanticLayer(str(tiny_model), EXACT, score_timeout=120)  # a restart on 2 busy cores
        await shared.start()
        assert shared.child_pid is not None, "the child did not load the tiny model's text encoder"
        yield shared
        await shared.close()


async def _ends(pid: int, timeout: float = 10.0) -> bool:
    """Whether process `pid` is gone (or a zombie) within `timeout` seconds."""
    for _ in range(int(timeout / 0.05)):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return True
        except FileNotFoundError:
            return True
        await asyncio.sleep(0.05)
    return False


def _allowed(prompt: str, kind: ChannelKind = ChannelKind.SFW):
    text = check_text(PromptFilter(), prompt, "", None, kind)
    assert text.category is None, f"the filter layers already refuse {prompt!r}"
    return text


@amark
async def test_every_anchor_scores_about_one_against_its_own_category(layer):
    for category, phrases in CONCEPTS.items():
        for phrase in phrases:
            scores = await layer.scores(phrase)
            assert set(scores) == set(CONCEPTS)
            assert scores[category] == pytest.approx(1.0, abs=1e-4), (category, phrase)
    unrelated = await layer.scores("a fox in the snow")
    assert max(unrelated.values()) < EXACT  # not a constant: a different text scores lower


@amark
async def test_an_anchor_is_refused_with_its_category_and_score_under_the_channel_policy(layer):
    sfw = await layer.check(_allowed(SEXUAL_TEST_ANCHOR), SEXUAL_TEST_ANCHOR, ChannelKind.SFW)
    assert (sfw.category, sfw.result.layer) == (Category.SEXUAL, "semantic")
    assert sfw.result.score == pytest.approx(1.0, abs=1e-4)
    assert "sexual content" in sfw.reason
    # Sexual content passes where NSFW is enabled; sexual content with minors never does.
    nsfw = _allowed(SEXUAL_TEST_ANCHOR, ChannelKind.NSFW)
    assert await layer.check(nsfw, SEXUAL_TEST_ANCHOR, ChannelKind.NSFW) is nsfw
    minors = await layer.check(_allowed(MINORS_TEST_ANCHOR, ChannelKind.NSFW), MINORS_TEST_ANCHOR, ChannelKind.NSFW)
    assert (minors.category, minors.result.layer) == (Category.SEXUAL_MINORS, "semantic")
    benign = _allowed("a fox in the snow")
    assert await layer.check(benign, "a fox in the snow", ChannelKind.SFW) is benign


def test_the_policy_picks_the_most_severe_category_over_the_threshold():
    scores = {c: 0.1 for c in CONCEPTS}
    assert decide({**scores, Category.SEXUAL: 0.9}, 0.85, ChannelKind.SFW) == (Category.SEXUAL, 0.9)
    assert decide({**scores, Category.SEXUAL: 0.9}, 0.85, ChannelKind.NSFW) is None
    assert decide({**scores, Category.GORE: 0.9}, 0.85, ChannelKind.AGE_RESTRICTED) == (Category.GORE, 0.9)
    both = {**scores, Category.SEXUAL: 0.95, Category.HATE: 0.86}
    assert decide(both, 0.85, ChannelKind.NSFW) == (Category.HATE, 0.86)
    assert decide(both, 0.96, ChannelKind.SFW) is None


@amark
async def test_the_bot_refuses_and_records_a_semantic_hit_and_renders_it_where_allowed(layer, tmp_path):
    async with SafetyHarness(tmp_path) as h:
        h.safety.semantic = layer
        try:
            await h.start()
            with pytest.raises(ContentBlocked, match="sexual content"):
                await h.ask(SEXUAL_TEST_ANCHOR)
            (record,) = await h.safety.blocks(GUILD)
            assert (record.kind, record.category, record.job_id) == ("prompt", Category.SEXUAL, None)
            assert record.score == pytest.approx(1.0, abs=1e-4)
            assert await h.store.with_status(*JobStatus) == []
            await h.safety.set_nsfw(GUILD, True)
            job = await h.ask(SEXUAL_TEST_ANCHOR, channel=NSFW)
            assert (await h.final(job.id)).status == JobStatus.DELIVERED  # asked again at delivery: still allowed
            with pytest.raises(ContentBlocked, match="minors"):
                await h.ask(MINORS_TEST_ANCHOR, channel=NSFW)
        finally:
            h.safety.semantic = None  # the module's child outlives this harness


@amark
async def test_off_by_default_adds_nothing_and_spawns_nothing(tmp_path):
    before = {p.pid for p in multiprocessing.active_children()}
    assert load_settings({"DISCORD_TOKEN": "t"}).safety_semantic is False
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        assert h.safety.semantic is None
        job = await h.ask(SEXUAL_TEST_ANCHOR)
        assert (await h.final(job.id)).status == JobStatus.DELIVERED
    assert {p.pid for p in multiprocessing.active_children()} <= before


@amark
async def test_a_crashed_child_refuses_the_prompt_and_a_fresh_one_takes_over(layer, caplog):
    old = layer.child_pid
    os.kill(old, signal.SIGKILL)
    refused = await layer.check(_allowed("a quiet harbour at dawn"), "a quiet harbour at dawn", ChannelKind.SFW)
    assert (refused.category, refused.result.layer, refused.reason) == (Category.UNCHECKED, "semantic-error",
                                                                        SEMANTIC_ERROR)
    assert "refused (layer semantic-error)" in caplog.text
    fresh = await layer.scores("a quiet harbour at dusk")  # a new prompt: the new child answers
    assert layer.child_pid not in (None, old) and set(fresh) == set(CONCEPTS)


@amark
async def test_a_child_that_does_not_answer_in_time_refuses_and_is_replaced(layer):
    stuck, timeout = layer.child_pid, layer.score_timeout
    layer.score_timeout = 0.5
    os.kill(stuck, signal.SIGSTOP)
    try:
        refused = await layer.check(_allowed("a red kite over the hills"), "a red kite over the hills",
                                    ChannelKind.NSFW)
        assert (refused.category, refused.result.layer) == (Category.UNCHECKED, "semantic-error")
    finally:
        layer.score_timeout = timeout
    assert await _ends(stuck), "the stuck child was left running"
    again = await layer.scores(MINORS_TEST_ANCHOR + " ")  # not cached; the same tokens
    assert again[Category.SEXUAL_MINORS] == pytest.approx(1.0, abs=1e-4)
    assert layer.child_pid not in (None, stuck)


@amark
async def test_a_model_whose_encoder_cannot_load_refuses_every_prompt(tiny_model, tmp_path, caplog):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    for weights in (broken / "text_encoder").glob("*.safetensors"):
        weights.unlink()
    failing = SemanticLayer(str(broken), EXACT, score_timeout=60)
    try:
        await failing.start()
        assert "could not load" in caplog.text and failing.child_pid is None
        refused = await failing.check(_allowed("a fox in the snow"), "a fox in the snow", ChannelKind.SFW)
        assert (refused.category, refused.result.layer) == (Category.UNCHECKED, "semantic-error")
    finally:
        await failing.close()


def test_the_bots_process_never_imports_torch(tiny_model):
    script = ("import asyncio, sys\n"
              "from bot.safety.semantic import SemanticLayer, CONCEPTS\n"
              "from bot.safety.terms import Category\n"
              "async def main():\n"
              f"    layer = SemanticLayer({str(tiny_model)!r}, 0.9)\n"
              "    await layer.start()\n"
              "    scores = await layer.scores(CONCEPTS[Category.GORE][0])\n"
              "    await layer.close()\n"
              "    print(round(scores[Category.GORE], 3), 'torch' in sys.modules, 'transformers' in sys.modules)\n"
              "if __name__ == '__main__':\n"
              "    asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["1.0", "False", "False"], out.stderr[-2000:]


# ---- settings ----
def _env(model, **extra):
    return {"DISCORD_TOKEN": "t", "IMAGE_MODEL": str(model), **extra}


def test_on_needs_a_model_with_a_clip_text_encoder(tiny_model, tmp_path):
    settings = load_settings(_env(tiny_model, SAFETY_SEMANTIC="on", SAFETY_SEMANTIC_THRESHOLD="0.9"))
    assert (settings.safety_semantic, settings.safety_semantic_threshold) == (True, 0.9)
    assert load_settings(_env(tiny_model)).safety_semantic_threshold == 0.85

    no_encoder = tmp_path / "no-encoder"
    no_encoder.mkdir()
    index = json.loads((tiny_model / "model_index.json").read_text())
    (no_encoder / "model_index.json").write_text(json.dumps({**index, "text_encoder": [None, None]}))
    with pytest.raises(ConfigError, match="SAFETY_SEMANTIC=on needs the text encoder.*no CLIP text encoder"):
        load_settings(_env(no_encoder, SAFETY_SEMANTIC="on"))
    missing = tmp_path / "missing-folder"
    missing.mkdir()
    (missing / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ConfigError, match="no text_encoder/ folder"):
        load_settings(_env(missing, SAFETY_SEMANTIC="on"))
    assert load_settings(_env(missing)).safety_semantic is False  # off: the model is the renderer's business


def test_on_with_a_hub_model_that_is_not_in_the_cache_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="no model_index.json here"):
        load_settings(_env("nobody-here/no-such-model-for-tests", SAFETY_SEMANTIC="on"))


@pytest.mark.parametrize("env, message", [({"SAFETY_SEMANTIC": "maybe"}, "SAFETY_SEMANTIC must be one of"),
                                          ({"SAFETY_SEMANTIC_THRESHOLD": "1.5"}, "between 0.01 and 1.0"),
                                          ({"SAFETY_SEMANTIC_THRESHOLD": "high"}, "must be a number")])
def test_bad_semantic_settings_are_config_errors(tiny_model, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(_env(tiny_model, **env))


# ---- the calibration tool ----
def test_calibrate_prints_errors_per_threshold_and_refuses_a_test_split(tiny_model, tmp_path, capsys):
    from bot.__main__ import main

    rows = [{"prompt": CONCEPTS[Category.GORE][0], "label": "unsafe", "category": "gore"},
            {"prompt": CONCEPTS[Category.HATE][1], "label": "unsafe", "category": "hate"},
            {"prompt": "a fox in the snow", "label": "benign", "category": "benign"},
            {"prompt": "a bowl of ramen, studio light", "label": "benign", "category": "benign"}]
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["semantic-calibrate", "--set", str(dev), "--model", str(tiny_model), "--low", "-1",
                 "--high", "0.999", "--step", "1.999"]) == 0
    out = capsys.readouterr().out

    def counts(threshold: str) -> list[int]:  # semantic FP, semantic FN, with the filter FP, FN
        line = next(x for x in out.splitlines() if x.split() and x.split()[0] == threshold)
        return [int(n) for n in re.findall(r"\(\s*(\d+)/2\)", line)]

    assert counts("-1.000")[:2] == [2, 0], out  # everything refused
    assert counts("0.999") == [0, 0, 0, 0], out  # only the two anchors
    assert "suggested: SAFETY_SEMANTIC_THRESHOLD=" in out and "time per prompt: median" in out

    test = tmp_path / "test.jsonl"
    shutil.copy(dev, test)
    assert main(["semantic-calibrate", "--set", str(test), "--model", str(tiny_model)]) == 2
    marked = tmp_path / "mine.jsonl"
    marked.write_text("".join(json.dumps({**r, "split": "test"}) + "\n" for r in rows))
    assert main(["semantic-calibrate", "--set", str(marked), "--model", str(tiny_model)]) == 2
    assert "test split" in capsys.readouterr().err


def test_a_start_with_on_and_a_model_without_a_text_encoder_stops_with_one_clear_line(tiny_model, tmp_path):
    model = tmp_path / "no-encoder"
    model.mkdir()
    index = json.loads((tiny_model / "model_index.json").read_text())
    (model / "model_index.json").write_text(json.dumps({k: v for k, v in index.items() if "text_encoder" not in k}))
    env = {**os.environ, "DISCORD_TOKEN": "t", "IMAGE_MODEL": str(model), "DATA_DIR": str(tmp_path / "data"),
           "SAFETY_SEMANTIC": "on"}
    out = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"configuration error: SAFETY_SEMANTIC=on needs the text encoder of IMAGE_MODEL: {model} has no CLIP text "
        "encoder with a tokenizer (model_index.json lists none)"]
