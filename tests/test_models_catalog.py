"""IMAGE_MODELS, LORA_DIR and what members type for them (bot/models_catalog.py), their settings, and
admission choosing the model's own profile."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError, ValidationError
from bot.models import GenerationRequest, JobParams
from bot.models_catalog import (
    DEFAULT_LORA_WEIGHT,
    LoraChoice,
    ModelCatalog,
    ModelEntry,
    extract_prompt_loras,
    format_loras,
    merge_loras,
    parse_lora_option,
    parse_models,
    read_loras,
)
from bot.renderer.profiles import FAMILIES, profile_for
from bot.services.inline_checks import check_job_model
from bot.services.inline_params import inline_request
from bot.services.settings_store import Defaults


def _env(tmp_path: Path, **values) -> dict:
    return {"DISCORD_TOKEN": "x", "DATA_DIR": str(tmp_path / "data"), **values}


def test_image_models_lists_names_and_sources_and_the_first_is_the_default():
    entries, default = parse_models("sd15=runwayml/stable-diffusion-v1-5, anime=someone/anything-v5", "")
    assert entries == (("sd15", "runwayml/stable-diffusion-v1-5"), ("anime", "someone/anything-v5"))
    assert default == "runwayml/stable-diffusion-v1-5"


def test_image_model_names_the_default_by_name_or_source():
    many = "sd15=runwayml/stable-diffusion-v1-5,anime=someone/anything-v5"
    assert parse_models(many, "anime")[1] == "someone/anything-v5"
    assert parse_models(many, "someone/anything-v5")[1] == "someone/anything-v5"


@pytest.mark.parametrize("bad", ["sd15", "=x/y", "sd 15=x/y", "a=x/y,A=z/w"])
def test_malformed_image_models_are_refused(bad):
    with pytest.raises(ValueError):
        parse_models(bad, "")


def test_image_model_alone_is_one_model_named_as_before(tmp_path):
    settings = load_settings(_env(tmp_path, IMAGE_MODEL="runwayml/stable-diffusion-v1-5"), dotenv=False)
    assert settings.image_models == () and settings.image_model == "runwayml/stable-diffusion-v1-5"
    catalog = ModelCatalog.from_settings(settings)
    assert catalog.names == ["runwayml/stable-diffusion-v1-5"] and catalog.default == "runwayml/stable-diffusion-v1-5"


def test_settings_read_image_models_lora_dir_and_refuse_an_image_model_not_listed(tmp_path, tiny_model):
    loras = tmp_path / "loras"
    loras.mkdir()
    env = _env(tmp_path, IMAGE_MODELS=f"tiny={tiny_model},hub=owner/some-sdxl", IMAGE_MODEL="hub",
               LORA_DIR=str(loras), MODEL_CACHE_SIZE="2")
    settings = load_settings(env, dotenv=False)
    assert settings.image_model == "owner/some-sdxl" and settings.lora_dir == loras
    assert settings.model_cache_size == 2
    catalog = ModelCatalog.from_settings(settings)
    assert catalog.default == "hub" and catalog.names == ["tiny", "hub"]
    assert catalog.get("tiny").profile.default_size == 64  # read from its own model_index.json
    assert catalog.get("hub").profile.family == "sdxl"
    with pytest.raises(ConfigError, match="not one of IMAGE_MODELS"):
        load_settings({**env, "IMAGE_MODEL": "other"}, dotenv=False)
    with pytest.raises(ConfigError, match="LORA_DIR"):
        load_settings({**env, "LORA_DIR": str(tmp_path / "missing")}, dotenv=False)


def _catalog(tmp_path: Path) -> ModelCatalog:
    (tmp_path / "ink.safetensors").write_bytes(b"x")
    (tmp_path / "Film-Grain.safetensors").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a lora")
    return ModelCatalog((ModelEntry("tiny", "/models/tiny-sd", profile_for("StableDiffusionPipeline", 64)),
                         ModelEntry("xl", "owner/some-sdxl", FAMILIES["sdxl"])), "tiny", tmp_path, max_loras=2)


def test_an_unknown_model_is_refused_naming_it_and_listing_the_models(tmp_path):
    catalog = _catalog(tmp_path)
    assert catalog.resolve(None).name == "tiny"
    assert catalog.resolve("XL").name == "xl" and catalog.resolve("some-sdxl").name == "xl"
    with pytest.raises(ValidationError) as refused:
        catalog.resolve("anime")
    assert refused.value.user_message == "There is no model named `anime`. Available: `tiny`, `xl`."
    assert catalog.suggest_models("x") == ["xl"]


def test_lora_files_are_offered_and_an_unknown_lora_is_refused_naming_it(tmp_path):
    catalog = _catalog(tmp_path)
    assert catalog.suggest_loras("") == ["Film-Grain", "ink"]
    assert catalog.suggest_loras("gra:0.5") == ["Film-Grain"]
    assert catalog.check_loras((LoraChoice("film-grain", 0.5),)) == (LoraChoice("Film-Grain", 0.5),)
    with pytest.raises(ValidationError, match="There is no LoRA named `pastel`. Available: `Film-Grain`, `ink`"):
        catalog.check_loras((LoraChoice("pastel"),))
    with pytest.raises(ValidationError, match="At most 2 LoRAs"):
        catalog.check_loras((LoraChoice("ink"), LoraChoice("Film-Grain"), LoraChoice("x")))


def test_lora_option_and_prompt_tags_parse_with_the_default_weight():
    assert parse_lora_option("ink") == (LoraChoice("ink", DEFAULT_LORA_WEIGHT),)
    assert parse_lora_option("ink:0.5") == (LoraChoice("ink", 0.5),)
    text, found = extract_prompt_loras("a cat <lora:ink:0.6> on a mat <LORA:grain>")
    assert text == "a cat on a mat" and found == (LoraChoice("ink", 0.6), LoraChoice("grain", 0.8))
    assert extract_prompt_loras("no tags here") == ("no tags here", ())
    for bad in ("ink:2.5", "ink:heavy", "ink:nan"):
        with pytest.raises(ValidationError, match="weight of LoRA `ink`"):
            parse_lora_option(bad)


def test_a_lora_given_twice_with_two_weights_is_refused_and_once_is_kept():
    assert merge_loras((LoraChoice("ink", 0.5),), (LoraChoice("INK", 0.5),)) == (LoraChoice("ink", 0.5),)
    with pytest.raises(ValidationError, match="given twice with different weights"):
        merge_loras((LoraChoice("ink", 0.5),), (LoraChoice("ink", 0.9),))


def test_stored_loras_read_back_as_written():
    loras = (LoraChoice("ink", 0.8), LoraChoice("Film-Grain", -0.25))
    assert format_loras(loras) == "ink:0.8,Film-Grain:-0.25" and read_loras(format_loras(loras)) == loras


def test_the_model_option_and_model_parameter_must_agree():
    with pytest.raises(ValidationError, match="The `model` option says tiny but the prompt says --model xl"):
        inline_request("a cat --model xl", Defaults(model="tiny"), Defaults())
    assert inline_request("a cat --model TINY", Defaults(model="tiny"), Defaults()).model == "TINY"
    request = inline_request("a cat <lora:ink>", Defaults(), Defaults(model="xl"), lora="grain:0.3")
    assert request.prompt == "a cat" and request.model == "xl"
    assert request.loras == (LoraChoice("grain", 0.3), LoraChoice("ink", 0.8))


def test_admission_validates_against_the_chosen_models_profile(tmp_path, admission_factory):
    admission = admission_factory(_catalog(tmp_path))
    tiny = admission.validate(GenerationRequest("a cat"))
    xl = admission.validate(GenerationRequest("a cat", model="xl", loras=(LoraChoice("ink", 0.7),)))
    assert (tiny.model, tiny.width, tiny.steps) == ("tiny", 64, 25)
    assert (xl.model, xl.width, xl.steps, xl.loras) == ("xl", 1024, 30, "ink:0.7")


def test_a_jobs_model_removed_from_the_configuration_is_refused_for_its_buttons(tmp_path):
    catalog = _catalog(tmp_path)
    params = JobParams("a cat", "", "1:1", 64, 64, 4, 7.0, 1, 1, model="anime")
    with pytest.raises(ValidationError, match="Model `anime` of that job is no longer available"):
        check_job_model(params, catalog)
    with pytest.raises(ValidationError, match="no LoRA named `gone`"):
        check_job_model(replace(params, model="xl", loras="gone:0.8"), catalog)
    alone = ModelCatalog((catalog.entries[0],), "tiny")  # IMAGE_MODEL alone: today's model, as before
    assert check_job_model(params, alone).model == "tiny"


@pytest.fixture
def admission_factory(tmp_path):
    from bot.services.admission import Admission

    def build(catalog: ModelCatalog) -> Admission:
        settings = load_settings(_env(tmp_path), dotenv=False)
        return Admission(settings, catalog.entries[0].profile, store=None, model_label="tiny",  # type: ignore[arg-type]
                         catalog=catalog)

    return build


async def test_migration_0011_keeps_every_job_and_setting_with_no_loras_and_no_model(tmp_path):
    import shutil

    from bot.database import Database

    migrations = Path(__file__).resolve().parent.parent / "migrations"
    v10 = tmp_path / "v10"
    v10.mkdir()
    for path in sorted(migrations.glob("00*.sql")):
        if int(path.name[:4]) <= 10:
            shutil.copy(path, v10)
    db_path = tmp_path / "db.sqlite3"
    db = await Database(db_path, migrations_dir=v10).connect()
    await db.execute("INSERT INTO jobs (id, kind, task, user_id, guild_id, channel_id, prompt, aspect, width, height, "
                     "steps, guidance, count, seed, model, priority, status, created_at, cost) VALUES "
                     "(1, 'imagine', 'txt2img', 1, 5, 10, 'a fox', '1:1', 64, 64, 4, 7.0, 1, 1, 'tiny', 1, 'queued', "
                     "1.0, 10)")
    await db.execute("INSERT INTO member_settings (user_id, steps, updated_at) VALUES (7, 5, 1.0)")
    before = [dict(r) for r in await db.fetchall("SELECT * FROM jobs")]
    await db.close()
    db = await Database(db_path).connect()
    try:
        after = [dict(r) for r in await db.fetchall("SELECT * FROM jobs")]
        assert [{k: r[k] for k in before[0]} for r in after] == before and after[0]["loras"] == ""
        row = await db.fetchone("SELECT steps, model FROM member_settings WHERE user_id = 7")
        assert (row["steps"], row["model"]) == (5, None)
    finally:
        await db.close()
