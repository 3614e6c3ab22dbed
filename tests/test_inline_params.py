"""Prompt parameters merged into /imagine's request (bot/services/inline_params.py) and admitted
like the options (bot/services/admission.py): conflicts, --no, precedence, the model, storage."""
from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.database import Database
from bot.errors import ValidationError
from bot.models import ImagePrompt, JobTask, Requester
from bot.renderer.profiles import profile_for, sizes_for_ratio
from bot.services.admission import Admission
from bot.services.inline_params import inline_request, limits_for
from bot.services.jobs import JobStore
from bot.services.settings_store import Defaults

ALICE = Requester(user_id=1, channel_id=10, guild_id=5)
NONE = Defaults()
IMAGE = ImagePrompt(path="inputs/x.png", width=512, height=512, aspect="1:1")


@pytest.fixture
async def admission(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(tmp_path),
                              "IMAGE_MODEL": "runwayml/stable-diffusion-v1-5"})
    yield Admission(settings, profile_for("StableDiffusionPipeline"), JobStore(db, tmp_path), "sd15-test")
    await db.close()


async def _job(admission, request):
    plan = await admission.plan(ALICE, request)
    return await admission.admit(ALICE, plan)


@pytest.mark.parametrize(("prompt", "given", "seed", "needle"), [
    ("a fox --steps 30", Defaults(steps=20), None, "The `steps` option says 20 but the prompt says --steps 30"),
    ("a fox --seed 5", NONE, 6, "The `seed` option says 6 but the prompt says --seed 5"),
    ("a fox --ar 3:2", Defaults(aspect="16:9"), None, "The `aspect` option says 16:9 but the prompt says --ar 3:2"),
    ("a fox --cfg 6", Defaults(guidance=7.5), None, "The `guidance` option says 7.5 but the prompt says --cfg 6"),
])
def test_an_option_and_a_parameter_that_disagree_are_refused_naming_both(prompt, given, seed, needle):
    with pytest.raises(ValidationError, match=needle.replace("(", r"\(")):
        inline_request(prompt, given, NONE, seed=seed)


def test_an_option_and_a_parameter_that_agree_are_fine():
    request = inline_request("a fox --steps 20 --ar 6:4 --seed 5", Defaults(steps=20, aspect="3:2"), NONE, seed=5)
    assert (request.prompt, request.steps, request.aspect, request.seed) == ("a fox", 20, "3:2", 5)


def test_no_joins_the_negative_of_the_option_or_else_of_the_preset():
    assert inline_request("a fox --no trees, cars", Defaults(negative="blurry"), NONE).negative_prompt == \
        "blurry, trees, cars"
    assert inline_request("a fox --no trees", NONE, Defaults(negative="text")).negative_prompt == "text, trees"
    assert inline_request("a fox --no trees", NONE, NONE).negative_prompt == "trees"


def test_parameters_count_as_given_so_they_beat_a_preset():
    request = inline_request("a fox --steps 30 --ar 16:9", NONE, Defaults(steps=10, aspect="1:1", count=2))
    assert (request.steps, request.aspect, request.count) == (30, "16:9", 2)
    assert request.inline == "--steps 30 --ar 16:9"


def test_image_prompts_take_no_aspect_and_no_chaos():
    with pytest.raises(ValidationError, match="--ar does not apply to an image prompt"):
        inline_request("a fox --ar 16:9", NONE, NONE, image=IMAGE)
    with pytest.raises(ValidationError, match="--chaos applies to text prompts only"):
        inline_request("a fox --chaos 10", NONE, NONE, image=IMAGE)
    assert inline_request("a fox --tile", NONE, NONE, image=IMAGE).tile


def test_the_models_step_limits_are_named_by_the_parser():
    limits = limits_for(profile_for("StableDiffusionPipeline"))
    with pytest.raises(ValidationError, match=f"--steps takes a whole number from 1 to {limits.max_steps}"):
        inline_request(f"a fox --steps {limits.max_steps + 1}", NONE, NONE, limits=limits)


async def test_admitted_parameters_are_validated_stored_and_read_back(admission):
    job = await _job(admission, inline_request("a fox --ar 4:3 --chaos 40 --tile --no trees --seed 9", NONE, NONE))
    p = job.params
    assert (p.prompt, p.negative_prompt, p.seed, p.chaos, p.tile, p.aspect) == ("a fox", "trees", 9, 40, True, "4:3")
    assert (p.width, p.height) == sizes_for_ratio(admission.profile, 4 / 3)
    assert p.inline == "--ar 4:3 --chaos 40 --tile --no trees --seed 9"
    stored = await admission.store.get(job.id)
    assert (stored.params.chaos, stored.params.tile, stored.params.inline) == (40, True, p.inline)
    plain = await _job(admission, inline_request("a plain fox", NONE, NONE))
    stored = await admission.store.get(plain.id)
    assert (stored.params.chaos, stored.params.tile, stored.params.inline) == (None, False, "")
    # A tiled job never shares a pipeline call with an untiled one.
    assert job.batch_key() != plain.batch_key()


@pytest.mark.parametrize("name", ["sd15-test", "SD15-TEST", "runwayml/stable-diffusion-v1-5", "stable-diffusion-v1-5"])
async def test_model_accepts_the_loaded_models_names(admission, name):
    job = await _job(admission, inline_request(f"a fox --model {name}", NONE, NONE))
    assert job.params.model == "sd15-test"


async def test_an_unknown_model_is_refused_naming_the_available_one(admission):
    with pytest.raises(ValidationError, match="There is no model named `sdxl`. Available: `sd15-test`."):
        await admission.plan(ALICE, inline_request("a fox --model sdxl", NONE, NONE))


async def test_chaos_and_tile_are_refused_where_the_renderer_cannot_do_them(admission):
    admission.profile = profile_for("FluxPipeline")
    with pytest.raises(ValidationError, match="--chaos is not available for this model"):
        await admission.plan(ALICE, inline_request("a fox --chaos 3", NONE, NONE))
    with pytest.raises(ValidationError, match="--tile is not available for this model"):
        await admission.plan(ALICE, inline_request("a fox --tile", NONE, NONE))


async def test_inline_values_meet_the_same_admission_limits_as_options(admission):
    # A request built by hand (a future path) is still checked: chaos out of range, an odd aspect.
    from dataclasses import replace

    request = inline_request("a fox --chaos 10", NONE, NONE)
    with pytest.raises(ValidationError, match="--chaos must be a whole number from 0 to 100"):
        await admission.plan(ALICE, replace(request, chaos=101))
    with pytest.raises(ValidationError, match="or a ratio W:H between 1:4 and 4:1"):
        await admission.plan(ALICE, replace(request, aspect="9:1"))
    job = await _job(admission, request)
    assert job.params.task is JobTask.TXT2IMG and job.params.chaos == 10
