"""Settings from the environment (and `.env`), validated once at start.

A bad or missing value raises ConfigError with one clear sentence; `python -m bot` prints it
and exits non-zero. The token is never part of any message or repr.
"""
from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot import credits
from bot.config_values import (
    DEFAULT_UPLOAD_HOSTS,
    _bool,
    _choice,
    _dm_quota_credits,
    _float,
    _id_set,
    _image_models,
    _int,
    _lora_dir,
    _price_factors,
    _quota_credits,
    _render_levers,
    _role_credits,
    _safety_checker,
    _semantic,
    _text,
    _upload_hosts,
    _upscaler_model,
    _url,
    _watermark,
    prompt_classifier_setting,
)
from bot.errors import ConfigError
from bot.renderer.pool import plan_local_devices

# SDXL base: the best widely supported open model that still fits an 8 GB consumer card in
# fp16 (its VAE upcasts itself to avoid fp16 NaNs); see README for smaller-card options.
DEFAULT_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
# Content safety (README "Content safety"): added to the negative prompt of every job in an SFW
# channel, and the minors one to every job in an age-restricted channel instead.
DEFAULT_SAFETY_NEGATIVE = "nsfw, nude, naked, nudity, sexual, explicit, cleavage, underwear, gore, blood, violence"
DEFAULT_MINORS_NEGATIVE = "child, children, kid, minor, underage, teen, young-looking, childlike, loli, shota"


@dataclass(frozen=True)
class Settings:
    discord_token: str = field(repr=False)
    image_model: str = DEFAULT_MODEL
    data_dir: Path = Path("./data")
    # One renderer per entry: ("auto",) = one on the best device; else "cpu", "mps", "cuda", "cuda:N",
    # repeats allowed ("cpu", "cpu" = two CPU renderers).
    devices: tuple[str, ...] = ("auto",)
    dtype: str = "auto"
    renderer: str = "local"  # local: worker processes on this machine; ray: Ray actors
    ray_address: str | None = None  # RENDERER=ray only: None = a local Ray for this bot alone, "auto", "host:port"
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
    upscale_strength: float = 0.3  # the U buttons' image-to-image pass over the enlarged image
    max_upscale_pixels: int = 0  # 0: the model profile's cap (4x its trained area)
    upscaler_model: str | None = None  # a spandrel .pth/.safetensors file; None: Lanczos
    image_retention_days: int = 0  # 0: keep image files forever
    # Quotas, in tenths of a credit (bot/credits.py). quota_credits None: QUOTA_CREDITS=unlimited, quotas off.
    quota_credits: int | None = 500
    quota_period: str = "day"
    quota_reset_hour: int = 0
    # (role id, tenths or None for unlimited): a member gets the highest of their roles' allowances.
    quota_role_credits: tuple[tuple[int, int | None], ...] = ()
    # Content safety
    safety_image_checker: str = "opennsfw"  # opennsfw, sd, none, or module:callable
    safety_checker_model: Path | None = None  # SAFETY_IMAGE_CHECKER=sd: a local StableDiffusionSafetyChecker
    safety_image_threshold: float = 0.5  # default per server; /mod safety threshold changes it
    safety_negative_prompt: str = DEFAULT_SAFETY_NEGATIVE
    safety_minors_negative_prompt: str = DEFAULT_MINORS_NEGATIVE
    # --- provenance ---
    # WATERMARK=on|off: the invisible watermark in every PNG (bot/renderer/provenance.py). The XMP
    # "made by a generative model" packet and the parameters chunk are written either way.
    watermark: bool = True
    # --- hygiene ---
    # Hosts image prompts are downloaded from: a bare host means https only; an entry written
    # with http:// allows plain http for that host and port (a local test server).
    upload_hosts: tuple[str, ...] = DEFAULT_UPLOAD_HOSTS
    upload_max_mib: float = 10.0  # the byte limit of an image prompt, checked before and while downloading
    refusal_limit: int = 5  # refused prompts per member ...
    refusal_window_minutes: float = 10.0  # ... within this many minutes earn a cooldown
    refusal_cooldown_minutes: float = 15.0  # how long the bot then answers without checking
    block_log_retention_days: int = 90  # safety block-log rows older than this are purged; 0: forever
    # --- authz ---
    # DMs with the bot: off by default (every DM command and click gets one refusal). On: DM jobs are
    # always SFW, paid from their own daily allowance, and only their owner and the bot's operators
    # (OWNER_USER_IDS) may act on them.
    allow_dms: bool = False
    dm_quota_credits: int | None = 100  # tenths of a credit per day; None: unlimited
    owner_user_ids: frozenset[int] = frozenset()
    # --- prompt-safety ---
    # The prompt check's learned layer: builtin (the weights inside the package), the path of an .npz
    # of the same format (bot/safety/classifier.py), or none (terms and rules only).
    safety_prompt_classifier: str = "builtin"
    # --- encode-timeout ---
    # Seconds a batch's PNG encoding (metadata, watermark) may take before the renderer counts as
    # hung: killed, restarted, the batch retried like a hung step (bot/renderer/watchdog.py).
    encode_timeout: float = 60.0
    # --- semantic ---
    # SAFETY_SEMANTIC=on: the prompt's embedding from the pipeline's own CLIP text encoder against
    # category anchor phrases (bot/safety/semantic.py). Off by default: the threshold depends on the
    # encoder and must be calibrated with the operator's model (python -m bot semantic-calibrate).
    safety_semantic: bool = False
    safety_semantic_threshold: float = 0.85
    # --- gpubench ---
    # The renderer's speed levers (bot/renderer/levers.py), validated here and handed to every
    # renderer's environment (local processes and Ray actors alike): ((name, value), ...).
    render_levers: tuple[tuple[str, str], ...] = ()
    # --- web ---
    # The web front end (bot/web/): `python -m bot web` runs it alone, WEB_ENABLED=true beside the
    # Discord client. Bound to loopback the local user is the owner; any other address needs sign-in
    # with Discord (WEB_OAUTH_CLIENT_ID and _SECRET), or the start is refused.
    web_enabled: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 8765
    web_secret: str = field(default="", repr=False)  # signs session cookies; empty: DATA_DIR/web-secret
    web_public_url: str | None = None  # where members open it (the OAuth2 redirect); empty: http://host:port
    web_oauth_client_id: int | None = None
    web_oauth_client_secret: str = field(default="", repr=False)
    web_oauth_authorize_url: str = "https://discord.com/oauth2/authorize"
    web_guild_ids: frozenset[int] = frozenset()  # servers signed-in members may use (needed without a token)
    # --- looplag ---
    # The event-loop lag monitor (bot/looplag.py): a stall this long is logged with what the loop
    # was running; a summary line (p50, p99, max) this often, and always at shutdown (0: only then).
    loop_lag_warn: float = 1.0
    loop_lag_report: float = 600.0
    # --- prices ---
    # Prices follow seconds measured on this device (bot/prices.py, bot/services/costs.py).
    price_measure: bool = True  # PRICE_MEASURE: measure when idle; false: the documented defaults
    price_refresh_hours: float = 168.0  # measured again when older (0: never again)
    price_factors: tuple[tuple[str, float], ...] = ()  # PRICE_FACTORS=upscale:1.5,...
    # Live previews on the progress message every N steps (0: off), at most every PROGRESS_EDIT_INTERVAL.
    preview_every_steps: int = 5
    preview_taesd: str | None = None
    # --- models ---
    # IMAGE_MODELS=name=source,...: the models members choose from (image_model is the default's
    # source); LORA_DIR's *.safetensors; models kept loaded per worker (least recently used goes).
    image_models: tuple[tuple[str, str], ...] = ()
    lora_dir: Path | None = None
    model_cache_size: int = 1
    max_loras: int = 4

    @property
    def device(self) -> str:
        """The first renderer's device, for code that runs a single renderer."""
        return self.devices[0]

    @property
    def db_path(self) -> Path:
        return self.data_dir / "pixelforge.sqlite3"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def inputs_dir(self) -> Path:
        """Image prompts as uploaded (validated, re-encoded as PNG)."""
        return self.data_dir / "inputs"


_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _devices(env: dict) -> tuple[str, ...]:
    """DEVICES, or the older single DEVICE when DEVICES is not set."""
    many = env.get("DEVICES", "").strip().lower().replace(" ", "")
    one = env.get("DEVICE", "").strip().lower()
    if many and one and many != one:
        raise ConfigError(f"set DEVICES or the older DEVICE, not both (DEVICES={many!r}, DEVICE={one!r})")
    name, value = ("DEVICES", many) if many else ("DEVICE", one or "auto")
    if value == "auto":
        return ("auto",)
    entries = tuple(value.split(","))
    if name == "DEVICE" and len(entries) > 1:
        raise ConfigError(f"DEVICE takes one device; use DEVICES for a list, got {value!r}")
    for entry in entries:
        if not _DEVICE.match(entry):
            raise ConfigError(f"{name} must be auto or a comma-separated list of cpu, mps, cuda and cuda:N, "
                              f"got {entry!r} in {value!r}")
    try:  # the pool's own rules (one worker per GPU): the same words at start as later
        plan_local_devices(list(entries))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return entries


# A host name (RFC 1123 labels), an IPv4 address, or an IPv6 address in brackets; then a port.
_HOST_PORT = re.compile(r"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]"
                        r"(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$")


def _ray_address(env: dict, renderer: str) -> str | None:
    raw = env.get("RAY_ADDRESS", "").strip()
    # Only RENDERER=ray reads it; Ray itself sets RAY_ADDRESS in the environment of Ray jobs.
    if renderer != "ray" or not raw:
        return None
    if raw.lower() == "auto":
        return "auto"
    match = _HOST_PORT.match(raw)
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise ConfigError(f"RAY_ADDRESS must be empty (a local Ray for this bot), auto or host:port, got {raw!r}")
    return raw


def _ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None  # without importing it (it is slow and big)


def _renderer(env: dict) -> str:
    renderer = _choice(env, "RENDERER", "local", ("local", "ray"))
    if renderer == "ray" and not _ray_installed():
        raise ConfigError("RENDERER=ray needs Ray: pip install 'pixelforge[ray]' (or '.[ray]' in a source checkout)")
    return renderer


def _data_dir(env: dict) -> Path:
    """DATA_DIR, checked without touching the disk: a file on the way makes it impossible to create."""
    path = Path(env.get("DATA_DIR", "").strip() or "./data").expanduser()
    for existing in (path, *path.parents):
        if existing.exists():
            if not existing.is_dir():
                where = "is a file" if existing == path else f"cannot be created: {existing} is a file"
                raise ConfigError(f"DATA_DIR must be a folder, but {path} {where}")
            break
    return path


def prepare_data_dir(path: Path) -> None:
    """Create DATA_DIR if needed and prove that this process can write there, or raise ConfigError.

    Run by the bot at start, before anything else writes: a read-only or foreign-owned folder is a
    setting to fix, not a traceback from SQLite later."""
    from bot.filemodes import secure_data_dir

    try:
        secure_data_dir(path)  # umask 077, DATA_DIR 0700, its files 0600 (hygiene)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"DATA_DIR {path} is not a writable folder: {exc.strerror or exc}") from None


def load_settings(env: dict | None = None, dotenv: bool = True, require_token: bool = True) -> Settings:
    """Read settings from `env` (default: os.environ after loading `.env`).
    `require_token=False` is for the offline commands (render, bench)."""
    if env is None:
        if dotenv:
            from dotenv import find_dotenv, load_dotenv

            # usecwd: the .env of the folder the bot runs in (and its parents), also when the bot is an
            # installed package; without it python-dotenv searches upwards from bot/config.py.
            load_dotenv(find_dotenv(usecwd=True), override=False)
        env = dict(os.environ)
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token and require_token:
        raise ConfigError("DISCORD_TOKEN is missing: put your bot token in .env (see .env.example)")
    guild_raw = env.get("DISCORD_GUILD_ID", "").strip()
    guild_id = _int(env, "DISCORD_GUILD_ID", 0, 1, 2**63 - 1) if guild_raw else None
    image_models, model = _image_models(env, DEFAULT_MODEL)
    if model.startswith((".", "/", "~")) and not Path(model).expanduser().is_dir():
        raise ConfigError(f"IMAGE_MODEL points to a folder that does not exist: {model}")
    level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    renderer = _renderer(env)
    checker, checker_model = _safety_checker(env)
    return Settings(
        discord_token=token,
        image_model=str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model,
        data_dir=_data_dir(env),
        devices=_devices(env),
        dtype=_choice(env, "DTYPE", "auto", ("auto", "float16", "bfloat16", "float32")),
        renderer=renderer,
        ray_address=_ray_address(env, renderer),
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
        upscale_strength=_float(env, "UPSCALE_STRENGTH", 0.3, 0.05, 1.0),
        max_upscale_pixels=_int(env, "MAX_UPSCALE_PIXELS", 0, 0, 64 * 2**20),
        upscaler_model=_upscaler_model(env),
        image_retention_days=_int(env, "IMAGE_RETENTION_DAYS", 0, 0, 36500),
        quota_credits=_quota_credits(env),
        quota_period=_choice(env, "QUOTA_PERIOD", "day", credits.PERIODS),
        quota_reset_hour=_int(env, "QUOTA_RESET_HOUR", 0, 0, 23),
        quota_role_credits=_role_credits(env),
        safety_image_checker=checker,
        safety_checker_model=checker_model,
        safety_image_threshold=_float(env, "SAFETY_IMAGE_THRESHOLD", 0.5, 0.01, 1.0),
        safety_negative_prompt=_text(env, "SAFETY_NEGATIVE_PROMPT", DEFAULT_SAFETY_NEGATIVE),
        safety_minors_negative_prompt=_text(env, "SAFETY_MINORS_NEGATIVE_PROMPT", DEFAULT_MINORS_NEGATIVE),
        # --- provenance ---
        watermark=_watermark(env),
        # --- hygiene ---
        upload_hosts=_upload_hosts(env),
        upload_max_mib=_float(env, "UPLOAD_MAX_MIB", 10.0, 0.1, 25.0),
        refusal_limit=_int(env, "REFUSAL_LIMIT", 5, 0, 1000),
        refusal_window_minutes=_float(env, "REFUSAL_WINDOW_MINUTES", 10.0, 0.1, 1440.0),
        refusal_cooldown_minutes=_float(env, "REFUSAL_COOLDOWN_MINUTES", 15.0, 0.1, 10080.0),
        block_log_retention_days=_int(env, "BLOCK_LOG_RETENTION_DAYS", 90, 0, 36500),
        # --- authz ---
        allow_dms=_bool(env, "ALLOW_DMS", False),
        dm_quota_credits=_dm_quota_credits(env),
        owner_user_ids=_id_set(env, "OWNER_USER_IDS"),
        # --- prompt-safety ---
        safety_prompt_classifier=prompt_classifier_setting(env),
        # --- encode-timeout ---
        encode_timeout=_float(env, "RENDER_ENCODE_TIMEOUT", 60.0, 1.0, 3600.0),
        # --- semantic ---
        safety_semantic=_semantic(env, model),
        safety_semantic_threshold=_float(env, "SAFETY_SEMANTIC_THRESHOLD", 0.85, 0.01, 1.0),
        # --- gpubench ---
        render_levers=_render_levers(env),
        # --- web ---
        web_enabled=_bool(env, "WEB_ENABLED", False),
        web_host=env.get("WEB_HOST", "").strip() or "127.0.0.1",
        web_port=_int(env, "WEB_PORT", 8765, 1, 65535),
        web_secret=env.get("WEB_SECRET", "").strip(),
        web_public_url=_url(env, "WEB_PUBLIC_URL", ("http", "https")),
        web_oauth_client_id=_int(env, "WEB_OAUTH_CLIENT_ID", 0, 1, 2**63 - 1) if env.get(
            "WEB_OAUTH_CLIENT_ID", "").strip() else None,
        web_oauth_client_secret=env.get("WEB_OAUTH_CLIENT_SECRET", "").strip(),
        web_oauth_authorize_url=_url(env, "WEB_OAUTH_AUTHORIZE_URL", ("http", "https"))
        or "https://discord.com/oauth2/authorize",
        web_guild_ids=_id_set(env, "WEB_GUILD_IDS"),
        # --- looplag ---
        loop_lag_warn=_float(env, "LOOP_LAG_WARN", 1.0, 0.05, 60.0),
        loop_lag_report=_float(env, "LOOP_LAG_REPORT", 600.0, 0.0, 86400.0),
        # --- prices ---
        price_measure=_bool(env, "PRICE_MEASURE", True),
        price_refresh_hours=_float(env, "PRICE_REFRESH_HOURS", 168.0, 0.0, 24 * 3650.0),
        price_factors=_price_factors(env),
        preview_every_steps=_int(env, "PREVIEW_EVERY_STEPS", 5, 0, 1000),
        preview_taesd=env.get("PREVIEW_TAESD", "").strip() or None,
        # --- models ---
        image_models=image_models,
        lora_dir=_lora_dir(env),
        model_cache_size=_int(env, "MODEL_CACHE_SIZE", 1 if _devices(env) != ("cpu",) else 2, 1, 16),
        max_loras=_int(env, "MAX_LORAS", 4, 1, 8),
    )
