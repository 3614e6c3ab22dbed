"""Checked live previews for the web (bot/services/preview_check.py through preview_relay.py): the
web's channel is never age-restricted, so a preview reaches a web page only once the image checker
passed it; everything else fails closed to the text progress."""
from __future__ import annotations

from types import SimpleNamespace

from bot.services.preview_relay import PreviewRelay
from bot.web.events import WebEvents
from tests.factories import make_job


class FakeSafety:
    def __init__(self, tmp_path, score, checker=True):
        self.checker = object() if checker else None
        self.settings = SimpleNamespace(data_dir=tmp_path)
        self.front = None
        self.scored: list[bytes] = []
        self._score_value = score

    async def _kind(self, guild_id, channel_nsfw):
        return SimpleNamespace(allows_nsfw=False), None  # the web: never age-restricted

    async def guild(self, guild_id):
        return SimpleNamespace(threshold=0.5)

    async def _score(self, path):
        with open(path, "rb") as f:
            self.scored.append(f.read())
        if isinstance(self._score_value, Exception):
            raise self._score_value
        return self._score_value


async def _relay_once(safety, events, job, data=b"\xff\xd8jpeg"):
    relay = PreviewRelay()
    relay.keep({job.id: data})
    await relay.rendering(events, safety, job, 3, 10, 1.0)


async def test_a_preview_the_image_checker_passes_reaches_the_web_page(tmp_path):
    events, job = WebEvents(), make_job(job_id=7)
    safety = FakeSafety(tmp_path, 0.1)
    await _relay_once(safety, events, job)
    assert safety.scored == [b"\xff\xd8jpeg"]  # the preview itself was checked
    assert events.preview(7) == (1, b"\xff\xd8jpeg") and events.state(7).preview == 1
    assert list(tmp_path.iterdir()) == []  # the checked copy is removed


async def test_a_flagged_unscored_or_unchecked_preview_is_not_shown(tmp_path):
    for safety in (FakeSafety(tmp_path, 0.9), FakeSafety(tmp_path, None), FakeSafety(tmp_path, 0.1, checker=False)):
        events, job = WebEvents(), make_job(job_id=8)
        await _relay_once(safety, events, job)
        assert events.preview(8) is None
        assert events.state(8).kind == "rendering" and events.state(8).preview == 0  # the text progress goes on


async def test_a_front_end_that_does_not_ask_for_checked_previews_gets_none_where_the_rule_says_no(tmp_path):
    shown = []

    class Discordish:
        async def rendering(self, job, step, total, eta):
            shown.append("text")

        async def rendering_preview(self, job, step, total, eta, preview):
            shown.append("preview")

    safety = FakeSafety(tmp_path, 0.1)
    await _relay_once(safety, Discordish(), make_job(job_id=9))
    assert shown == ["text"] and safety.scored == []


async def test_the_preview_is_dropped_when_the_job_ends():
    events, job = WebEvents(), make_job(job_id=10)
    await events.rendering_preview(job, 2, 10, None, b"x")
    await events.rendering(job, 3, 10, None)
    assert events.state(10).preview == 1  # the last preview stays up between previews
    await events.deliver(job, [])
    assert events.preview(10) is None
