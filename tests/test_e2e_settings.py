"""/settings end to end: defaults and presets change what /imagine renders, the preset option
autocompletes, the V buttons take the clicker's variation strength, and all of it survives a restart."""
from __future__ import annotations

from tests.e2e_helpers import job_id_of, job_rows, reply_text, wait_result


def _last(world) -> dict:
    return job_rows(world.data_dir)[-1]


async def test_settings_and_presets_change_what_imagine_renders_and_survive_a_restart(world):
    server, alice = world.server, world.alice
    bot = await world.start_bot()

    async def say(command: str, options: dict | None = None) -> str:
        i = await server.invoke_slash(alice, world.channel, command, options)
        text = await reply_text(server, i)
        assert i.ephemeral, (command, text)
        return text

    async def imagine(options: dict) -> dict:
        message = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine", options))
        row = _last(world)
        assert row["id"] == job_id_of(message)
        return row

    assert "Steps must be between 1 and 100" in await say("settings set", {"steps": 120})
    assert "at least one option" in await say("settings set")
    saved = await say("settings set", {"aspect": "3:2", "steps": 3, "count": 2, "negative": "blurry",
                                       "variation": "subtle"})
    assert "aspect 3:2" in saved and "steps 3" in saved and "variation subtle (0.35)" in saved
    row = await imagine({"prompt": "a sailing boat"})
    assert (row["width"], row["height"], row["steps"], row["count"], row["negative_prompt"]) == (72, 48, 3, 2,
                                                                                                 "blurry")
    row = await imagine({"prompt": "a sailing boat", "count": 1, "aspect": "1:1"})  # what /imagine says wins
    assert (row["width"], row["height"], row["steps"], row["count"]) == (64, 64, 3, 1)

    assert "Preset “wide fast”" in await say("settings save", {"name": "wide fast"})
    await say("settings set", {"aspect": "9:16", "steps": 5, "count": 1})
    typed = await server.autocomplete(alice, world.channel, "imagine", {"prompt": "a boat"}, "preset", "WI")
    await typed.wait_ack(5)
    assert [c["value"] for c in typed.choices] == ["wide fast"]
    row = await imagine({"prompt": "a boat", "preset": "wide fast"})
    assert (row["width"], row["height"], row["steps"], row["count"]) == (72, 48, 3, 2)
    assert "no preset named" in await say("imagine", {"prompt": "a boat", "preset": "nope"})

    # V takes the clicker's variation strength (alice: subtle).
    message = await wait_result(server, await server.invoke_slash(alice, world.channel, "imagine",
                                                                 {"prompt": "a kite", "count": 2}))
    await wait_result(server, await server.click_button(alice, message.id, f"img:var:v1:{job_id_of(message)}:0"))
    assert _last(world)["kind"] == "variation" and _last(world)["strength"] == 0.35

    await bot.stop()
    await world.start_bot()
    shown = await say("settings show")
    assert "aspect 9:16" in shown and "steps 5" in shown and "“wide fast”" in shown
    row = await imagine({"prompt": "a boat"})
    assert (row["width"], row["height"], row["steps"]) == (48, 80, 5)  # 9:16 on the tiny 64-px model
    row = await imagine({"prompt": "a boat", "preset": "wide fast"})
    assert (row["width"], row["height"], row["steps"], row["count"]) == (72, 48, 3, 2)
    assert "reset" in await say("settings reset")
    row = await imagine({"prompt": "a boat", "steps": 4})
    assert (row["width"], row["height"], row["count"], row["negative_prompt"]) == (64, 64, 1, "")
