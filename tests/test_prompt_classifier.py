"""The learned layer: SAFETY_PROMPT_CLASSIFIER (builtin, a path, none, and files that are not a
classifier: a clear error at start-up), what it adds to the terms and rules, and its score in the
block record."""
from __future__ import annotations

import numpy as np
import pytest

from bot.__main__ import run_bot
from bot.config import load_settings, prompt_classifier_setting
from bot.errors import ConfigError, ContentBlocked
from bot.safety.classifier import CLASSES, classifier_input, features, load_classifier, save
from bot.safety.policy import ChannelKind
from bot.safety.prompt_filter import PromptFilter, screen_text
from bot.services.safety import SafetyService
from tests.test_safety_service import GUILD, SafetyHarness

# Said without a single listed word or rule pattern: only the learned layer can refuse it.
PARAPHRASE = "lady with her chest out, no shirt"  # ("a girl with no top on" is a rule now)


def test_the_setting_defaults_to_the_builtin_weights_and_accepts_none_and_a_path():
    assert prompt_classifier_setting({}) == "builtin"
    assert prompt_classifier_setting({"SAFETY_PROMPT_CLASSIFIER": "NONE"}) == "none"
    assert prompt_classifier_setting({"SAFETY_PROMPT_CLASSIFIER": "/opt/m.npz"}) == "/opt/m.npz"
    with pytest.raises(ConfigError, match="builtin, none or the path of an .npz"):
        prompt_classifier_setting({"SAFETY_PROMPT_CLASSIFIER": "bert-large"})
    settings = load_settings({"DISCORD_TOKEN": "t", "SAFETY_PROMPT_CLASSIFIER": "none"}, dotenv=False)
    assert settings.safety_prompt_classifier == "none"


def test_the_builtin_weights_load_from_the_package_and_none_loads_nothing():
    model = load_classifier("builtin")
    assert model.weights.shape[1] == len(CLASSES) and 0.0 < model.threshold < 1.0
    assert load_classifier("none") is None


def test_the_builtin_classifier_refuses_a_paraphrase_the_rules_let_through():
    assert screen_text(PromptFilter(None), PARAPHRASE, "", None, ChannelKind.SFW)[0] is None
    category, result = screen_text(PromptFilter(load_classifier("builtin")), PARAPHRASE, "", None, ChannelKind.SFW)
    assert category is not None and result.layer == "classifier" and result.score >= 0.5
    benign, result = screen_text(PromptFilter(load_classifier("builtin")), "a red fox in the snow", "", None,
                                 ChannelKind.SFW)
    assert benign is None and result.score < 0.2 and result.layer is None


def test_features_are_stable_and_the_negative_prompt_hashes_apart():
    index, weight = features("a nude woman", 1 << 15)
    again, _ = features("a nude woman", 1 << 15)
    assert np.array_equal(index, again) and abs(float(np.linalg.norm(weight)) - 1.0) < 1e-5
    as_prompt = set(features(classifier_input(["nude"], []), 1 << 15)[0])
    as_negative = set(features(classifier_input(["portrait"], ["nude"]), 1 << 15)[0])
    assert not as_prompt & as_negative - set(features("portrait", 1 << 15)[0])


def test_a_missing_file_a_foreign_npz_and_a_broken_file_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_classifier(str(tmp_path / "absent.npz"))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, something=np.zeros(3))
    with pytest.raises(ConfigError, match="not a prompt classifier"):
        load_classifier(str(foreign))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_classifier(str(broken))
    wrong_shape = tmp_path / "shape.npz"
    save(wrong_shape, np.zeros((16, 3)), np.zeros(len(CLASSES)), 0.5, "{}")
    with pytest.raises(ConfigError, match="shape"):
        load_classifier(str(wrong_shape))


def test_a_classifier_trained_elsewhere_loads_from_its_path(tmp_path):
    path = tmp_path / "mine.npz"
    weights = np.zeros((64, len(CLASSES)))
    save(path, weights, np.array([5.0, 0, 0, 0, 0, 0]), 0.7, "{}")
    model = load_classifier(str(path))
    assert model.dim == 64 and model.threshold == pytest.approx(0.7)
    assert model.predict("anything at all")[0] < 0.05  # all weight on benign


def test_the_service_refuses_to_start_with_a_bad_classifier_file(tmp_path):
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path),
                              "SAFETY_PROMPT_CLASSIFIER": str(tmp_path / "gone.npz")}, dotenv=False)
    with pytest.raises(ConfigError, match="gone.npz: no such file"):
        SafetyService(None, settings, None)


def test_start_up_stops_with_the_reason_before_reaching_discord(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SAFETY_PROMPT_CLASSIFIER", str(tmp_path / "nope.npz"))
    assert run_bot() == 2
    assert "SAFETY_PROMPT_CLASSIFIER" in capsys.readouterr().err


async def test_the_block_record_keeps_the_learned_score(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        with pytest.raises(ContentBlocked):
            await h.ask(PARAPHRASE)
        (record,) = await h.safety.blocks(GUILD)
        assert record.kind == "prompt" and record.score is not None and 0.5 <= record.score <= 1.0
