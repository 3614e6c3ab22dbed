"""Live previews end to end (`python -m bot`, the tiny model, the Discord-compatible server): in an
age-restricted channel of a server with NSFW on (where results are posted unchecked) the progress
message gets a small JPEG preview attachment before the result replaces it; in an ordinary channel
(where the image checker decides about the result) no preview is ever shown."""
from __future__ import annotations

from tests.e2e_helpers import is_result, reply_text


def _watch(server, interaction, seen: list[list[str]]):
    """A wait_for predicate: every state of the job's message is noted; the result ends the wait."""
    def check(s):
        msg = s.get_message(interaction.original_message_id) if interaction.original_message_id else None
        if msg is not None:
            names = [a.filename for a in msg.attachments]
            if not seen or seen[-1] != names:
                seen.append(names)
        return msg if is_result(msg) else None
    return check


async def test_progress_shows_a_preview_before_the_result_only_where_results_go_unchecked(world):
    server = world.server
    after_dark = server.add_channel(world.guild.id, name="after-dark", nsfw=True)
    await world.start_bot(PREVIEW_EVERY_STEPS="2")
    await reply_text(server, await server.invoke_slash(world.mod, world.channel, "mod safety nsfw", {"enabled": True}))

    seen: list[list[str]] = []
    # Enough steps for several progress edits (PROGRESS_EDIT_INTERVAL=1.25 in the tests) on a busy CPU.
    job = await server.invoke_slash(world.alice, after_dark, "imagine", {"prompt": "a red fox", "steps": 60})
    result = await server.wait_for(_watch(server, job, seen), 120)
    previews = [names for names in seen if any(n.endswith("-preview.jpg") for n in names)]
    assert previews and previews[0] == [previews[0][0]], f"no preview before the result: {seen}"
    assert seen.index(previews[0]) < seen.index(seen[-1])
    assert [a.filename.endswith(".png") for a in result.attachments] == [True] * len(result.attachments)
    shown = next(a for a in server.attachments.values() if a.filename.endswith("-preview.jpg"))
    assert shown.description.startswith("Preview of an AI-generated image, still rendering: a red fox")

    plain: list[list[str]] = []
    job = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a red fox", "steps": 40})
    await server.wait_for(_watch(server, job, plain), 120)
    assert not any(n.endswith("-preview.jpg") for names in plain for n in names), plain
    assert world.server.violations == []
