"""`python -m bot web` as a real process for the browser tests, and the system Chromium for Playwright."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).resolve().parent / "safety_plugins"
CHROMIUM = os.environ.get("PIXELFORGE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_browser() -> None:
    """Debian's chromium (.ci/run installs it) driven by Playwright; never a downloaded browser."""
    pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")


class WebProcess:
    def __init__(self, model: Path, data_dir: Path, log_path: Path, **env):
        self.port = int(env.pop("WEB_PORT", 0)) or free_port()
        self.env = {
            **os.environ,
            "IMAGE_MODEL": str(model),
            "DATA_DIR": str(data_dir),
            "DEVICES": "cpu",
            "BATCHING": "off",
            "PROGRESS_EDIT_INTERVAL": "0.2",
            "PYTHONUNBUFFERED": "1",
            "WEB_PORT": str(self.port),
            "SAFETY_IMAGE_CHECKER": "pixelforge_test_checker:Scripted",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(PLUGINS)]),
            **{k: str(v) for k, v in env.items()},
        }
        self.env.pop("DISCORD_TOKEN", None)
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> WebProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "web"], cwd=ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, renderer: bool = True, timeout: float = 120.0) -> None:
        """Up (/healthz answers) and, with `renderer`, the model loaded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the web process ended ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    up = response.status == 200
            except OSError:
                up = False
            if up and (not renderer or "renderer cpu#0 ready" in self.log()):
                return
            time.sleep(0.3)
        raise AssertionError(f"the web front end did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> list[str]:
        return [chunk[:1500] for chunk in self.log().split("Traceback (most recent call last)")[1:]]

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)  # a render in progress stops at its next step: slow on a busy CPU
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
