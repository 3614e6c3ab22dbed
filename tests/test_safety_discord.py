"""Content safety's Discord edges: which channels count as age-restricted (threads take their
parent's flag; DMs, partial and unknown channels fail closed), and no torch in the bot's process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import discord

from bot.frontend.flows import channel_is_nsfw

ROOT = Path(__file__).resolve().parent.parent


class _Guild:
    def __init__(self):
        self.id = 1
        self.channels = {}

    def get_channel(self, channel_id):
        return self.channels.get(channel_id)

    def _resolve_channel(self, channel_id):
        return self.channels.get(channel_id)


def _text_channel(guild: _Guild, channel_id: int, nsfw: bool) -> discord.TextChannel:
    data = {"id": str(channel_id), "type": 0, "name": f"c{channel_id}", "position": 0, "nsfw": nsfw,
            "permission_overwrites": [], "guild_id": "1", "parent_id": None}
    channel = discord.TextChannel(state=mock.MagicMock(), guild=guild, data=data)
    guild.channels[channel_id] = channel
    return channel


def _thread(guild: _Guild, parent_id: int) -> discord.Thread:
    data = {"id": "900", "type": 11, "name": "thread", "guild_id": "1", "parent_id": str(parent_id),
            "owner_id": "5", "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": 60, "archive_timestamp":
                                "2025-01-01T00:00:00+00:00", "locked": False}}
    return discord.Thread(guild=guild, state=mock.MagicMock(), data=data)


def test_age_restricted_channels_and_threads_inherit_their_parent():
    guild = _Guild()
    assert channel_is_nsfw(_text_channel(guild, 10, nsfw=True)) is True
    assert channel_is_nsfw(_text_channel(guild, 11, nsfw=False)) is False
    assert channel_is_nsfw(_thread(guild, 10)) is True
    assert channel_is_nsfw(_thread(guild, 11)) is False
    assert channel_is_nsfw(_thread(guild, 12)) is False  # parent unknown: fail closed


def test_dms_partial_and_unknown_channels_are_not_age_restricted():
    assert channel_is_nsfw(None) is False
    assert channel_is_nsfw(discord.PartialMessageable(state=mock.MagicMock(), id=5)) is False
    dm = discord.DMChannel(me=mock.MagicMock(), state=mock.MagicMock(), data={"id": "7", "type": 1, "recipients": []})
    assert channel_is_nsfw(dm) is False


def test_the_bot_process_never_imports_torch_for_content_safety():
    code = ("import bot.frontend.app, cogs.safety, bot.safety.sd_checker, sys\n"
            "from bot.safety.image_checker import build_checker\n"
            "build_checker('sd', __import__('pathlib').Path('/nonexistent')); build_checker('opennsfw').load()\n"
            "print('torch' in sys.modules, 'diffusers' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"]
