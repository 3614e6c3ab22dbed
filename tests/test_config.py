import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_MODEL, load_settings, prepare_data_dir
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_apply_when_only_the_token_is_set():
    s = load_settings({"DISCORD_TOKEN": "abc"})
    assert s.image_model == DEFAULT_MODEL
    assert s.data_dir == Path("./data")
    assert (s.devices, s.dtype, s.discord_guild_id) == (("auto",), "auto", None)
    assert (s.renderer, s.ray_address) == ("local", None)


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


@pytest.mark.parametrize("env,devices", [
    ({}, ("auto",)),
    ({"DEVICES": "auto"}, ("auto",)),
    ({"DEVICES": "cuda:0,cuda:1"}, ("cuda:0", "cuda:1")),
    ({"DEVICES": "cpu, cpu"}, ("cpu", "cpu")),
    ({"DEVICES": "CUDA,mps"}, ("cuda", "mps")),
    ({"DEVICE": "cuda:1"}, ("cuda:1",)),  # the older single-device setting still works
    ({"DEVICE": "cpu", "DEVICES": "cpu"}, ("cpu",)),
])
def test_devices_list_one_renderer_per_entry(env, devices):
    settings = load_settings({"DISCORD_TOKEN": "abc", **env})
    assert settings.devices == devices
    assert settings.device == devices[0]


@pytest.mark.parametrize("env,needle", [
    ({"DEVICES": "tpu"}, "DEVICES"),
    ({"DEVICES": "cuda:x"}, "DEVICES"),
    ({"DEVICES": "cuda:"}, "DEVICES"),
    ({"DEVICES": "auto,cpu"}, "DEVICES"),
    ({"DEVICES": "cpu,"}, "DEVICES"),
    ({"DEVICE": "cuda:0,cuda:1"}, "use DEVICES"),
    ({"DEVICE": "cuda:0", "DEVICES": "cuda:1"}, "not both"),
    ({"DEVICES": "cuda:0,cuda"}, "listed twice"),  # cuda is cuda:0: one worker per GPU
])
def test_bad_devices_name_the_setting(env, needle):
    with pytest.raises(ConfigError, match=needle):
        load_settings({"DISCORD_TOKEN": "abc", **env})


def test_renderer_is_local_by_default_and_ray_address_is_only_read_for_ray():
    settings = load_settings({"DISCORD_TOKEN": "abc", "RAY_ADDRESS": "10.0.0.5:6379"})
    assert (settings.renderer, settings.ray_address) == ("local", None)


@pytest.mark.parametrize("address,expected", [
    ("", None), ("auto", "auto"), ("AUTO", "auto"), ("127.0.0.1:6379", "127.0.0.1:6379"),
    ("gpu-box.lan:10001", "gpu-box.lan:10001"), ("[::1]:6379", "[::1]:6379"),
])
def test_ray_renderer_takes_empty_auto_or_host_port(monkeypatch, address, expected):
    monkeypatch.setattr("bot.config._ray_installed", lambda: True)
    settings = load_settings({"DISCORD_TOKEN": "abc", "RENDERER": "ray", "RAY_ADDRESS": address})
    assert (settings.renderer, settings.ray_address) == ("ray", expected)


@pytest.mark.parametrize("address", ["gpu-box", "gpu-box:0", "gpu-box:70000", "ray://gpu-box:10001", ":6379",
                                     "gpu box:6379", "gpu-box:63x9"])
def test_bad_ray_address_is_a_config_error(monkeypatch, address):
    monkeypatch.setattr("bot.config._ray_installed", lambda: True)
    with pytest.raises(ConfigError, match="RAY_ADDRESS"):
        load_settings({"DISCORD_TOKEN": "abc", "RENDERER": "ray", "RAY_ADDRESS": address})


def test_ray_renderer_without_ray_installed_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr("bot.config._ray_installed", lambda: False)
    with pytest.raises(ConfigError, match=r"pixelforge\[ray\]"):
        load_settings({"DISCORD_TOKEN": "abc", "RENDERER": "ray"})
    with pytest.raises(ConfigError, match="RENDERER"):
        load_settings({"DISCORD_TOKEN": "abc", "RENDERER": "celery"})


def test_data_dir_that_is_a_file_or_lies_under_a_file_is_a_config_error(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="DATA_DIR must be a folder.*is a file"):
        load_settings({"DISCORD_TOKEN": "abc", "DATA_DIR": str(a_file)})
    with pytest.raises(ConfigError, match="DATA_DIR must be a folder.*cannot be created"):
        load_settings({"DISCORD_TOKEN": "abc", "DATA_DIR": str(a_file / "data")})


def test_prepare_data_dir_creates_the_folder_and_leaves_nothing_behind(tmp_path):
    data = tmp_path / "a" / "b" / "data"
    prepare_data_dir(data)
    assert data.is_dir() and list(data.iterdir()) == []


def test_prepare_data_dir_that_cannot_be_created_is_a_config_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="DATA_DIR .* is not a writable folder"):
        prepare_data_dir(tmp_path / "notes.txt" / "data")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: the check cannot fail")
def test_unwritable_data_dir_is_a_config_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match="DATA_DIR .* is not a writable folder: Permission denied"):
            prepare_data_dir(data)
    finally:
        data.chmod(0o755)


def _run_bot(cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot"], cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)


def test_bot_exits_with_one_line_when_data_dir_is_a_file(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    proc = _run_bot(tmp_path, {"DISCORD_TOKEN": "sekrit-token", "DATA_DIR": str(tmp_path / "data")})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATA_DIR" in lines[0] and "is a file" in lines[0]


def test_bot_reads_the_env_file_of_the_folder_it_runs_in(tmp_path):
    # Run from a folder that is not the source tree, as an installed package runs.
    (tmp_path / ".env").write_text("DISCORD_TOKEN=sekrit-token\nDEVICES=tpu\n")
    proc = _run_bot(tmp_path, {})
    assert proc.returncode == 2
    assert "DEVICES" in proc.stderr and "DISCORD_TOKEN" not in proc.stderr


# --- encode-timeout ---
def test_encode_timeout_is_its_own_setting_apart_from_the_step_timeout():
    assert load_settings({"DISCORD_TOKEN": "abc"}).encode_timeout == 60.0
    s = load_settings({"DISCORD_TOKEN": "abc", "RENDER_ENCODE_TIMEOUT": "15", "RENDER_STEP_TIMEOUT": "300"})
    assert (s.encode_timeout, s.step_timeout) == (15.0, 300.0)
    with pytest.raises(ConfigError, match="RENDER_ENCODE_TIMEOUT"):
        load_settings({"DISCORD_TOKEN": "abc", "RENDER_ENCODE_TIMEOUT": "0"})
