"""Refusals are rate-limited per member (a cooldown answers instead of more checks, rows and log
posts), and the block log is purged after BLOCK_LOG_RETENTION_DAYS."""
from __future__ import annotations

import time

import pytest

from bot.config import load_settings
from bot.database import Database
from bot.errors import ContentBlocked
from bot.services.refusals import RefusalLimiter, RefusalPolicy
from bot.services.retention import DAY, RetentionService
from tests.test_safety_service import GUILD, SafetyHarness


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_refusal_settings_have_defaults_and_can_be_turned_off():
    settings = load_settings({"DISCORD_TOKEN": "t"}, dotenv=False)
    assert (settings.refusal_limit, settings.refusal_window_minutes, settings.refusal_cooldown_minutes) == (5, 10, 15)
    assert settings.block_log_retention_days == 90
    off = RefusalLimiter(RefusalPolicy.from_settings(load_settings({"DISCORD_TOKEN": "t", "REFUSAL_LIMIT": "0"},
                                                                   dotenv=False)))
    for _ in range(50):
        assert off.refused(GUILD, 1) is False
    off.check(GUILD, 1)


def test_n_refusals_within_the_window_start_a_cooldown_that_ends():
    clock = Clock()
    limiter = RefusalLimiter(RefusalPolicy(limit=3, window=600, cooldown=900), clock)
    # Spread out wider than the window: no cooldown.
    for _ in range(3):
        assert limiter.refused(GUILD, 1) is False
        clock.now += 601
    limiter.check(GUILD, 1)
    assert [limiter.refused(GUILD, 1), limiter.refused(GUILD, 1), limiter.refused(GUILD, 1)] == [False, False, True]
    with pytest.raises(ContentBlocked, match="last 3 requests here were refused.*about 15 min"):
        limiter.check(GUILD, 1)
    limiter.check(GUILD, 2)  # another member
    limiter.check(GUILD + 1, 1)  # the same member in another server
    limiter.check(GUILD, 1, is_moderator=True)  # moderators test the filter on purpose
    clock.now += 900
    limiter.check(GUILD, 1)


async def test_a_member_cooling_down_adds_no_block_rows_or_log_posts(tmp_path):
    async with SafetyHarness(tmp_path) as h:
        await h.start()
        await h.safety.set_log_channel(GUILD, 999)
        await h.safety.add_term(GUILD, "block", "zebra", 5)
        for _ in range(5):
            with pytest.raises(ContentBlocked, match="moderators blocked"):
                await h.ask("a zebra")
        for prompt in ("a zebra", "a fox"):  # no more checks: a harmless prompt waits too
            with pytest.raises(ContentBlocked, match="not checking new ones"):
                await h.ask(prompt)
        rows = await h.db.fetchall("SELECT COUNT(*) FROM safety_blocks")
        assert rows[0][0] == 5
        assert len(h.front.blocks) == 5
        assert await h.db.fetchall("SELECT * FROM jobs") == []
        await h.final((await h.ask("a fox", user=2)).id)  # others are not affected


async def test_block_log_rows_older_than_the_retention_are_purged(tmp_path):
    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        now = time.time()
        ages = [400, 120, 91, 89, 3, 0]  # days
        await db.conn.executemany(
            "INSERT INTO safety_blocks (guild_id, channel_id, user_id, kind, category, prompt, created_at) "
            "VALUES (?, 1, 2, 'prompt', 'custom', ?, ?)", [(GUILD, f"prompt {d}", now - d * DAY) for d in ages])
        report = await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=0,
                                        block_log_days=90).run_once(now)
        assert report.blocks == 3
        left = [r["prompt"] for r in await db.fetchall("SELECT prompt FROM safety_blocks ORDER BY id")]
        assert left == ["prompt 89", "prompt 3", "prompt 0"]
        kept = await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=0).run_once(now + 999 * DAY)
        assert kept.blocks == 0  # 0: kept forever
    finally:
        await db.close()
