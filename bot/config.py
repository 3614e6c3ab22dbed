"""Settings from the environment (and `.env`), validated once at start.

A bad or missing value raises ConfigError with one clear sentence; `python -m bot` prints it
and exits non-zero. The token is never part of any message or repr.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.errors import ConfigError

# SDXL base: the best widely supported open model that still fits an 8 GB consumer card in
# fp16 (its VAE upcasts itself to avoid fp16 NaNs); see README for smaller-card options.
DEFAULT_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"


@dataclass(frozen=True)
class Settings:
    discord_token: str = field(repr=False)
    image_model: str = DEFAULT_MODEL
    data_dir: Path = Path("./data")
    device: str = "auto"
    dtype: str = "auto"
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None
    log_level: str = "INFO"
    max_prompt_length: int = 1000
    max_queued_per_user: int = 3
    max_queue_size: int = 100
    max_batch_images: int = 4
    batching: str = "auto"  # auto: measured at start-up; on; off
    max_attempts: int = 3
    job_max_age: float = 3600.0
    step_timeout: float = 120.0
    progress_interval: float = 2.5
    moderator_role_ids: frozenset[int] = frozenset()
    bulk_role_ids: frozenset[int] = frozenset()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "pixelforge.sqlite3"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"


def _int(env: dict, name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float(env: dict, name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _choice(env: dict, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: dict, name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{name} must be a {'/'.join(schemes)} URL, got {raw!r}")
    return raw.rstrip("/") if name == "DISCORD_API_BASE" else raw


def _id_set(env: dict, name: str) -> frozenset[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return frozenset()
    try:
        return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"{name} must be a comma-separated list of Discord ids, got {raw!r}") from None


def load_settings(env: dict | None = None, dotenv: bool = True, require_token: bool = True) -> Settings:
    """Read settings from `env` (default: os.environ after loading `.env`).
    `require_token=False` is for the offline commands (render, bench)."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(override=False)
        env = dict(os.environ)
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token and require_token:
        raise ConfigError("DISCORD_TOKEN is missing: put your bot token in .env (see .env.example)")
    guild_raw = env.get("DISCORD_GUILD_ID", "").strip()
    guild_id = _int(env, "DISCORD_GUILD_ID", 0, 1, 2**63 - 1) if guild_raw else None
    device = env.get("DEVICE", "").strip().lower() or "auto"
    if device not in ("auto", "cpu", "mps", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"DEVICE must be auto, cuda, cuda:N, mps or cpu, got {device!r}")
    model = env.get("IMAGE_MODEL", "").strip() or DEFAULT_MODEL
    if model.startswith((".", "/", "~")) and not Path(model).expanduser().is_dir():
        raise ConfigError(f"IMAGE_MODEL points to a folder that does not exist: {model}")
    level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    return Settings(
        discord_token=token,
        image_model=str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model,
        data_dir=Path(env.get("DATA_DIR", "").strip() or "./data").expanduser(),
        device=device,
        dtype=_choice(env, "DTYPE", "auto", ("auto", "float16", "bfloat16", "float32")),
        discord_api_base=_url(env, "DISCORD_API_BASE", ("http", "https")),
        discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
        discord_guild_id=guild_id,
        log_level=level,
        max_prompt_length=_int(env, "MAX_PROMPT_LENGTH", 1000, 1, 6000),
        max_queued_per_user=_int(env, "MAX_QUEUED_PER_USER", 3, 1, 1000),
        max_queue_size=_int(env, "MAX_QUEUE_SIZE", 100, 1, 100_000),
        max_batch_images=_int(env, "MAX_BATCH_IMAGES", 4, 1, 64),
        batching=_choice(env, "BATCHING", "auto", ("auto", "on", "off")),
        max_attempts=_int(env, "MAX_ATTEMPTS", 3, 1, 20),
        job_max_age=_float(env, "JOB_MAX_AGE", 3600.0, 10.0, 7 * 86400.0),
        step_timeout=_float(env, "RENDER_STEP_TIMEOUT", 120.0, 1.0, 3600.0),
        progress_interval=_float(env, "PROGRESS_EDIT_INTERVAL", 2.5, 0.0, 60.0),
        moderator_role_ids=_id_set(env, "MODERATOR_ROLE_IDS"),
        bulk_role_ids=_id_set(env, "BULK_ROLE_IDS"),
    )
