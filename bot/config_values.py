"""Readers of single settings from the environment: each returns the validated value or raises
ConfigError with one sentence naming the setting. `bot.config.load_settings` puts them together."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import urlparse

from bot import credits
from bot.errors import ConfigError

DEFAULT_UPLOAD_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
_UPLOAD_HOST = re.compile(r"^(?:http://)?[a-z0-9.-]+(?::\d{1,5})?$")


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


def _quota_credits(env: dict) -> int | None:
    raw = env.get("QUOTA_CREDITS", "").strip()
    if not raw:
        return 500
    try:
        return credits.parse_credits(raw, allow_unlimited=True)
    except ValueError:
        raise ConfigError(f"QUOTA_CREDITS must be a number of credits (0 or more, one decimal at most) or "
                          f"unlimited, got {raw!r}") from None


def _role_credits(env: dict) -> tuple[tuple[int, int | None], ...]:
    """QUOTA_ROLE_CREDITS=123:200,456:0,789:unlimited"""
    raw = env.get("QUOTA_ROLE_CREDITS", "").strip()
    tiers: dict[int, int | None] = {}
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        role, _, amount = part.partition(":")
        try:
            role_id = int(role)
            tiers[role_id] = credits.parse_credits(amount, allow_unlimited=True)
        except ValueError:
            raise ConfigError(f"QUOTA_ROLE_CREDITS must look like 123:200,456:unlimited (role id:credits), "
                              f"got {part!r} in {raw!r}") from None
        if role_id <= 0:
            raise ConfigError(f"QUOTA_ROLE_CREDITS: {role_id} is not a Discord role id")
    return tuple(sorted(tiers.items()))


# --- provenance ---
def _watermark(env: dict) -> bool:
    """WATERMARK=on (default) needs the `invisible-watermark` package where the renderer runs; it is
    looked up, not imported (it imports torch and OpenCV, which only the renderer process may)."""
    on = _choice(env, "WATERMARK", "on", ("on", "off")) == "on"
    if on and importlib.util.find_spec("imwatermark") is None:
        raise ConfigError("WATERMARK=on needs the invisible-watermark package: pip install invisible-watermark "
                          "(or set WATERMARK=off, see README \"Provenance\")")
    return on


# --- hygiene ---
def _upload_hosts(env: dict) -> tuple[str, ...]:
    """UPLOAD_HOSTS: comma-separated hosts (https) or http://host:port entries (test servers)."""
    raw = env.get("UPLOAD_HOSTS", "").strip()
    if not raw:
        return DEFAULT_UPLOAD_HOSTS
    hosts = tuple(dict.fromkeys(h.strip().lower().rstrip("/") for h in raw.split(",") if h.strip()))
    bad = [h for h in hosts if not _UPLOAD_HOST.match(h)]
    if bad or not hosts:
        raise ConfigError(f"UPLOAD_HOSTS must be host names (https) or http://host:port entries, got {bad or raw!r}")
    return hosts


# --- authz ---
def _bool(env: dict, name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _dm_quota_credits(env: dict) -> int | None:
    """DM_QUOTA_CREDITS: credits per day for each member's DM jobs (their own bucket)."""
    raw = env.get("DM_QUOTA_CREDITS", "").strip()
    if not raw:
        return 100
    try:
        return credits.parse_credits(raw, allow_unlimited=True)
    except ValueError:
        raise ConfigError(f"DM_QUOTA_CREDITS must be a number of credits (0 or more, one decimal at most) or "
                          f"unlimited, got {raw!r}") from None


# --- prompt-safety ---
def prompt_classifier_setting(env: dict) -> str:
    """SAFETY_PROMPT_CLASSIFIER: builtin (default), none, or the path of an .npz. The file itself is
    read (and a bad one refused with a ConfigError) by bot.safety.classifier.load_classifier."""
    raw = env.get("SAFETY_PROMPT_CLASSIFIER", "").strip()
    if not raw or raw.lower() in ("builtin", "none"):
        return raw.lower() or "builtin"
    if not raw.endswith(".npz"):
        raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER must be builtin, none or the path of an .npz file, got {raw!r}")
    return raw
# --- semantic ---
def _semantic(env: dict, model: str) -> bool:
    """SAFETY_SEMANTIC=on needs IMAGE_MODEL's CLIP text encoder here (a folder, or the hub model in
    the local cache): checked now from its JSON files, so a model without one stops the start."""
    on = _choice(env, "SAFETY_SEMANTIC", "off", ("off", "on")) == "on"
    if on:
        from bot.renderer.text_encoder import model_encoder

        try:
            model_encoder(model)
        except ValueError as exc:
            raise ConfigError(f"SAFETY_SEMANTIC=on needs the text encoder of IMAGE_MODEL: {exc}") from None
    return on
# --- gpubench ---
_LEVER_SETTINGS = ("RENDER_CHANNELS_LAST", "RENDER_FUSE_QKV", "RENDER_COMPILE")


def _render_levers(env: dict) -> tuple[tuple[str, str], ...]:
    """RENDER_CHANNELS_LAST / RENDER_FUSE_QKV (on|off) and RENDER_COMPILE (off|default|max-autotune|
    max-autotune-no-cudagraphs), checked now; the renderer reads them again where it loads the model."""
    from bot.renderer.levers import from_env

    try:
        from_env(env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return tuple((name, str(env[name]).strip()) for name in _LEVER_SETTINGS if str(env.get(name, "")).strip())
# --- prices ---
def _price_factors(env: dict) -> tuple[tuple[str, float], ...]:
    """PRICE_FACTORS=upscale:1.5,img2img:0.8: the measured price of a task times this."""
    from bot.prices import TASKS

    names = [task.name for task in TASKS]
    factors: dict[str, float] = {}
    for part in env.get("PRICE_FACTORS", "").replace(" ", "").split(","):
        if not part:
            continue
        name, _, raw = part.partition(":")
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if name not in names or not (0.1 <= value <= 100):
            raise ConfigError(f"PRICE_FACTORS must look like upscale:1.5,img2img:0.8 (a task of "
                              f"{', '.join(names)} and a factor from 0.1 to 100), got {part!r}")
        factors[name] = value
    return tuple(factors.items())


# --- models ---
def _image_models(env: dict, fallback: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """(IMAGE_MODELS as (name, source) pairs, the default model's source). With IMAGE_MODELS empty:
    ((), IMAGE_MODEL or `fallback`), exactly the one-model set-up of before."""

    from bot.models_catalog import parse_models

    model = env.get("IMAGE_MODEL", "").strip()
    many = env.get("IMAGE_MODELS", "").strip()
    if not many:
        return (), model or fallback
    try:
        entries, default = parse_models(many, model)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if model and default == entries[0][1] and model.lower() not in (entries[0][0].lower(), entries[0][1].lower()):
        raise ConfigError(f"IMAGE_MODEL={model!r} is not one of IMAGE_MODELS ({', '.join(n for n, _ in entries)}): "
                          "name the default by its name or source")
    for name, source in entries:
        if source.startswith((".", "/", "~")) and not Path(source).expanduser().is_dir():
            raise ConfigError(f"IMAGE_MODELS: the folder of {name} does not exist: {source}")
    return entries, default


def _lora_dir(env: dict):

    raw = env.get("LORA_DIR", "").strip()
    if not raw:
        return None
    folder = Path(raw).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"LORA_DIR points to a folder that does not exist: {raw}")
    return folder


# --- image checker, upscaler, free text (moved from config.py) ---
SAFETY_CHECKERS = ("opennsfw", "sd", "none")
_CHECKER_PLUGIN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


_UPSCALER_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")


def _upscaler_model(env: dict) -> str | None:
    """UPSCALER_MODEL: a local model file spandrel can read (checked at start, not at the first U)."""
    raw = env.get("UPSCALER_MODEL", "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if path.suffix.lower() not in _UPSCALER_SUFFIXES:
        raise ConfigError(f"UPSCALER_MODEL must be a {', '.join(_UPSCALER_SUFFIXES)} file, got {raw!r}")
    if not path.is_file():
        raise ConfigError(f"UPSCALER_MODEL points to a file that does not exist: {raw}")
    if importlib.util.find_spec("spandrel") is None:
        raise ConfigError("UPSCALER_MODEL needs spandrel: pip install 'pixelforge[upscaler]'")
    return str(path.resolve())
def _safety_checker(env: dict) -> tuple[str, Path | None]:
    raw = env.get("SAFETY_IMAGE_CHECKER", "").strip()
    kind = raw.lower() if raw.lower() in SAFETY_CHECKERS or not raw else raw
    kind = kind or "opennsfw"
    if kind not in SAFETY_CHECKERS and not _CHECKER_PLUGIN.match(kind):
        raise ConfigError(f"SAFETY_IMAGE_CHECKER must be opennsfw, sd, none or module:callable, got {raw!r}")
    model_raw = env.get("SAFETY_CHECKER_MODEL", "").strip()
    model = Path(model_raw).expanduser() if model_raw else None
    if kind == "sd":
        if model is None:
            raise ConfigError("SAFETY_IMAGE_CHECKER=sd needs SAFETY_CHECKER_MODEL: the folder of a "
                              "StableDiffusionSafetyChecker saved with save_pretrained")
        if not (model / "config.json").is_file():
            raise ConfigError(f"SAFETY_CHECKER_MODEL must be a folder with a config.json, got {model_raw!r}")
    return kind, model


def _text(env: dict, name: str, default: str, limit: int = 1000) -> str:
    raw = env.get(name)
    value = default if raw is None else raw.strip()
    if len(value) > limit:
        raise ConfigError(f"{name} must be at most {limit} characters, got {len(value)}")
    return value
