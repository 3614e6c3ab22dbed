"""Shared fixtures: the tiny model, the Discord-compatible server, and the bot as a real process."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import FAULTS_ENV, TRUST_ENV, with_fault_hook

# Ray reads this once, when it is imported: set before any test module can import it (a collection-time
# importorskip does), else a "local" Ray binds to the machine's network address instead of 127.0.0.1.
# The bot processes the tests start inherit it too.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"

MANAGE_MESSAGES = 1 << 13


@pytest.fixture(autouse=True)
def _keep_the_umask():
    """prepare_data_dir sets the process umask to 077 (as the bot does at start): give each test
    the umask it started with back, so one test's call does not change the files of the next."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-weight SD pipeline saved with save_pretrained: loaded like a hub model."""
    from bot.renderer.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("model") / "tiny-sd")


class BotProcess:
    """`python -m bot` as users run it, pointed at the test server.

    PIXELFORGE_BOT_PYTHON and PIXELFORGE_BOT_CWD (both optional) run the bot with another
    interpreter from another folder: .ci/wheel-check uses them to run the end-to-end flow against
    the installed wheel instead of this source tree."""

    def __init__(self, server, model: Path, data_dir: Path, log_path: Path, **env):
        self.server = server
        self.env = {
            **os.environ,
            "DISCORD_TOKEN": server.token,
            "DISCORD_API_BASE": server.api_base,
            "DISCORD_GATEWAY_URL": server.gateway_url,
            "IMAGE_MODEL": str(model),
            "DATA_DIR": str(data_dir),
            "DEVICES": "cpu",
            "BATCHING": "off",
            # Prices at the documented defaults, so the tests' credit arithmetic holds on any machine;
            # tests/test_e2e_prices.py measures.
            "PRICE_MEASURE": "false",
            "PROGRESS_EDIT_INTERVAL": "1.25",  # 4 progress edits + the final one fit Discord's 5 per 5 s
            "PYTHONUNBUFFERED": "1",
            # Image prompts come from the test server's own attachment URLs (plain http on 127.0.0.1):
            # allowed here, in the tests, never by the product's default.
            "UPLOAD_HOSTS": f"cdn.discordapp.com,media.discordapp.net,{server.base_url}",
            **{k: str(v) for k, v in env.items()},
        }
        if FAULTS_ENV in self.env or TRUST_ENV in self.env:  # test faults live in test code, not in the bot
            self.env = with_fault_hook(self.env)
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> BotProcess:
        # Open for the process's whole life (its stdout and stderr); stop() closes it.
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        python = os.environ.get("PIXELFORGE_BOT_PYTHON") or sys.executable
        cwd = os.environ.get("PIXELFORGE_BOT_CWD") or ROOT
        self.proc = subprocess.Popen([python, "-m", "bot"], cwd=cwd, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    async def ready(self, logins: int, timeout: float = 90.0) -> None:
        try:
            await self.server.wait_ready(timeout=timeout, logins=logins)
        except Exception:
            raise AssertionError(f"bot did not become ready; log:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    async def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None


@pytest.fixture(scope="module")
def one_torch_thread():
    """Two cores shared by several test runs: torch's spinning worker threads make a 0.3 s render
    take 10 s when the cores are oversubscribed; one thread is steady (restored after the module)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def loaded(tiny_model, one_torch_thread):
    """The tiny model's pipelines loaded on the CPU in this process, once per test module."""
    from bot.renderer import render

    return render.load_pipelines(str(tiny_model), "cpu")


@pytest.fixture
async def discord_server():
    from tests.fakediscord import FakeDiscord

    server = FakeDiscord(spec_path=SPEC if SPEC.exists() else None)
    await server.start()
    yield server
    await server.stop()


class World:
    """A guild with a channel, a few members and a helper to start the bot."""

    def __init__(self, server, tiny_model: Path, tmp_path: Path):
        self.server = server
        self.tiny_model = tiny_model
        self.tmp_path = tmp_path
        self.guild = server.add_guild(name="Pixel Test")
        self.channel = server.add_channel(self.guild.id, name="art")
        self.alice = server.add_user("alice")
        self.bob = server.add_user("bob")
        from tests.fakediscord.models import DEFAULT_USER_PERMISSIONS

        self.mod = server.add_user("mod", permissions=DEFAULT_USER_PERMISSIONS | MANAGE_MESSAGES)
        self.data_dir = tmp_path / "data"
        self.bots: list[BotProcess] = []
        # A test that provokes an unexpected error on purpose says so; any other traceback in the
        # bot's log fails the test (a refusal answered and then "something went wrong" was one).
        self.tracebacks_expected = False

    async def start_bot(self, **env) -> BotProcess:
        bot = BotProcess(self.server, self.tiny_model, self.data_dir, self.tmp_path / "bot.log", **env).start()
        self.bots.append(bot)
        await bot.ready(logins=len(self.bots))
        await self.server.wait_commands(timeout=30)
        return bot

    async def close(self):
        for bot in self.bots:
            await bot.stop()

    def tracebacks(self) -> list[str]:
        log = self.tmp_path / "bot.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return [chunk[:1500] for chunk in text.split("Traceback (most recent call last)")[1:]]


@pytest.fixture
async def world(discord_server, tiny_model, tmp_path):
    w = World(discord_server, tiny_model, tmp_path)
    yield w
    await w.close()
    assert not w.server.violations, f"Discord rules broken: {w.server.violations}"
    if not w.tracebacks_expected:
        assert not w.tracebacks(), "traceback in the bot's log:\n" + "\n---\n".join(w.tracebacks())


@pytest.fixture(scope="module")
def browser():
    """Headless system Chromium through Playwright, one per test module (the web and browser tests);
    skipped with the reason when there is none (tests/web_helpers.py)."""
    from tests.web_helpers import launch, need_browser

    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
