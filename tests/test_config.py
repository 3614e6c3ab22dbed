import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_MODEL, load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_apply_when_only_the_token_is_set():
    s = load_settings({"DISCORD_TOKEN": "abc"})
    assert s.image_model == DEFAULT_MODEL
    assert s.data_dir == Path("./data")
    assert (s.device, s.dtype, s.discord_guild_id) == ("auto", "auto", None)


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        load_settings({})


@pytest.mark.parametrize("name,value,needle", [
    ("DISCORD_GUILD_ID", "abc", "DISCORD_GUILD_ID"),
    ("DEVICE", "tpu", "DEVICE"),
    ("DTYPE", "int8", "DTYPE"),
    ("DISCORD_API_BASE", "ftp://x", "DISCORD_API_BASE"),
    ("DISCORD_GATEWAY_URL", "http://x", "DISCORD_GATEWAY_URL"),
    ("MAX_QUEUED_PER_USER", "0", "between"),
    ("IMAGE_MODEL", "./does/not/exist", "does not exist"),
    ("MODERATOR_ROLE_IDS", "12,x", "MODERATOR_ROLE_IDS"),
])
def test_bad_values_name_the_setting(name, value, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings({"DISCORD_TOKEN": "abc", name: value})


def test_token_is_not_in_the_repr():
    assert "sekrit-token" not in repr(load_settings({"DISCORD_TOKEN": "sekrit-token"}))


def test_bot_exits_non_zero_with_one_line_on_bad_config(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEVICE": "tpu", "DISCORD_TOKEN": "sekrit-token"}
    proc = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DEVICE" in lines[0]
    assert "sekrit-token" not in proc.stderr + proc.stdout
