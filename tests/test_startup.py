"""Start-up when Discord cannot be reached or refuses the bot: `python -m bot` as a real process.

Failures to reach Discord are one line naming where, then retries with a growing back-off (never a
tight login loop); a rejected token is one line and exit code 3; SIGTERM and Ctrl+C stop at once,
also between retries. PIXELFORGE_RETRY_BASE (undocumented, tests only) shortens the first delay;
the doubling and the cap are the product's.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def _closed_port() -> int:
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bot:
    """`python -m bot` with its merged output read line by line as it comes."""

    def __init__(self, tmp_path: Path, **env: str):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "DATA_DIR": str(tmp_path / "data"), "DEVICES": "cpu", "HF_HUB_OFFLINE": "1",
                 "PYTHONUNBUFFERED": "1", **env})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_lines(self, needle: str, count: int, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if needle in line]
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"expected {count} lines with {needle!r}; output:\n" + "\n".join(self.lines[-40:]))

    def wait(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        time.sleep(0.2)  # let the reader thread take the last lines
        return code

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def bots():
    started: list[Bot] = []
    yield started
    for bot in started:
        bot.kill()


def _stamp(line: str) -> float:
    return datetime.strptime(STAMP.match(line).group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def test_unreachable_discord_is_one_line_naming_the_api_base_then_retries_with_growing_delays(tmp_path, bots):
    base = f"http://127.0.0.1:{_closed_port()}/api/v10"
    bot = Bot(tmp_path, DISCORD_TOKEN="a-token-for-nobody", DISCORD_API_BASE=base, PIXELFORGE_RETRY_BASE="0.2")
    bots.append(bot)
    failures = bot.wait_lines("cannot reach Discord", 3)[:3]
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0

    assert "Traceback" not in bot.output()
    for line in failures:
        assert f"cannot reach Discord at {base}: connection refused; retrying in " in line
    delays = [float(re.search(r"retrying in ([\d.]+) s", line).group(1)) for line in failures]
    assert delays == [0.2, 0.4, 0.8]
    # The waits really happen: each attempt starts no sooner than the delay announced before it.
    gaps = [_stamp(later) - _stamp(earlier) for earlier, later in zip(failures, failures[1:], strict=False)]
    assert all(gap >= delay - 0.01 for gap, delay in zip(gaps, delays, strict=False)), (gaps, delays)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_the_back_off_exits_0_at_once(tmp_path, bots, signum):
    base = f"http://127.0.0.1:{_closed_port()}/api/v10"
    bot = Bot(tmp_path, DISCORD_TOKEN="a-token-for-nobody", DISCORD_API_BASE=base, PIXELFORGE_RETRY_BASE="120")
    bots.append(bot)
    (line,) = bot.wait_lines("retrying in 120 s", 1)
    sent = time.monotonic()
    bot.proc.send_signal(signum)
    assert bot.wait(30) == 0
    assert time.monotonic() - sent < 10, "the stop waited for the back-off"
    assert "Traceback" not in bot.output()
    assert len(bot.wait_lines("cannot reach Discord", 1)) == 1, "retried instead of stopping"


def _logins(server) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/users/@me"))


async def test_a_rejected_token_exits_3_with_one_line_after_one_login(discord_server, tmp_path, bots):
    bot = Bot(tmp_path, DISCORD_TOKEN="not-the-token-of-this-bot", DISCORD_API_BASE=discord_server.api_base,
              DISCORD_GATEWAY_URL=discord_server.gateway_url, PIXELFORGE_RETRY_BASE="0.2")
    bots.append(bot)
    assert await asyncio.to_thread(bot.wait, 60) == 3
    assert "Traceback" not in bot.output()
    assert [line for line in bot.lines if "DISCORD_TOKEN" in line] == [
        "Discord rejected DISCORD_TOKEN: check the token in .env"]
    assert _logins(discord_server) == 1
    assert "not-the-token-of-this-bot" not in bot.output()


async def test_a_login_refused_for_another_reason_is_one_line_and_no_retry(discord_server, tmp_path, bots):
    wrong_base = discord_server.api_base.replace("/api/v10", "/api/v9")
    assert wrong_base != discord_server.api_base
    bot = Bot(tmp_path, DISCORD_TOKEN=discord_server.token, DISCORD_API_BASE=wrong_base,
              DISCORD_GATEWAY_URL=discord_server.gateway_url, PIXELFORGE_RETRY_BASE="0.2")
    bots.append(bot)
    assert await asyncio.to_thread(bot.wait, 60) == 1
    assert "Traceback" not in bot.output()
    (line,) = [line for line in bot.lines if "refused the login" in line]
    assert line.startswith(f"Discord at {wrong_base} refused the login: 404") and "DISCORD_API_BASE" in line
    assert len(bot.wait_lines("logging in using static token", 1)) == 1


async def test_an_unreachable_gateway_is_one_line_per_attempt_and_retried_with_back_off(
        discord_server, tiny_model, tmp_path, bots):
    gateway = f"ws://127.0.0.1:{_closed_port()}/"
    bot = Bot(tmp_path, DISCORD_TOKEN=discord_server.token, DISCORD_API_BASE=discord_server.api_base,
              DISCORD_GATEWAY_URL=gateway, IMAGE_MODEL=str(tiny_model), BATCHING="off",
              PIXELFORGE_RETRY_BASE="0.2")
    bots.append(bot)
    failures = (await asyncio.to_thread(bot.wait_lines, "cannot reach the Discord gateway at", 2, 120))[:2]
    bot.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(bot.wait, 30) == 0
    assert "Traceback" not in bot.output()
    assert failures[0].endswith(f"cannot reach the Discord gateway at {gateway}: connection refused; retrying in 0.2 s")
    assert failures[1].endswith(f"cannot reach the Discord gateway at {gateway}: connection refused; retrying in 0.4 s")
    # discord.py's own reconnect attempt before it: one line too, no traceback.
    assert bot.wait_lines(f"cannot reach the Discord gateway ({gateway}): connection refused; Attempting", 1)
