"""The models and LoRAs members can choose (IMAGE_MODELS, LORA_DIR): names, sources, profiles. No
Discord, no torch, no database.

IMAGE_MODELS is a comma-separated list of `name=source` (a hub id or a folder written by
save_pretrained); the default is IMAGE_MODEL when it names one of them (by name or source), else the
first. IMAGE_MODEL alone is one model named as today (a folder by its name, a hub id as written).
Each model's profile (native size, step and guidance limits, inpainting) is read from its own
model_index.json (bot/renderer/profiles.py).

LoRAs are the `*.safetensors` files of LORA_DIR, named by their file name without the extension,
listed when asked (a file added while the bot runs is offered at once). A job names them as
`name` or `name:weight`, in the `lora:` option or as `<lora:name:weight>` in the prompt (A1111's
syntax, removed from the text the model sees); weight default 0.8, from MIN_LORA_WEIGHT to
MAX_LORA_WEIGHT, at most MAX_LORAS per job.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from bot.errors import ValidationError
from bot.i18n import N_
from bot.prompt_params import quoted
from bot.renderer.profiles import ModelProfile, model_label, resolve_profile

DEFAULT_LORA_WEIGHT = 0.8
MIN_LORA_WEIGHT, MAX_LORA_WEIGHT = -2.0, 2.0  # A1111 allows any; past ±2 a LoRA only burns the image
MAX_LORAS = 4  # adapters active in one call; each adds its own matrices to every attention layer
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
# <lora:name> or <lora:name:0.8> (A1111); the name may hold anything but ':' and '>'
_PROMPT_LORA = re.compile(r"<lora:([^:>]+)(?::([^:>]*))?>", re.IGNORECASE)


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what members type and what jobs store (jobs.model), PNG "Model:"
    source: str  # hub id or folder, what the renderer loads
    profile: ModelProfile

    def names(self) -> list[str]:
        """What --model and model: accept for it: its name, its source and the source's last part."""
        names = [self.name, self.source, PurePath(self.source).name, self.source.rsplit("/", 1)[-1]]
        return list(dict.fromkeys(n for n in names if n))


def parse_models(image_models: str, image_model: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """((name, source), ...) of IMAGE_MODELS and the default's source. Raises ValueError naming the
    entry that is malformed or given twice. With IMAGE_MODELS empty: IMAGE_MODEL alone."""
    raw = [part.strip() for part in (image_models or "").split(",") if part.strip()]
    if not raw:
        return ((model_label(image_model), image_model),), image_model
    entries: list[tuple[str, str]] = []
    for part in raw:
        name, sep, source = (s.strip() for s in part.partition("="))
        if not sep or not name or not source:
            raise ValueError(f"IMAGE_MODELS entries are name=source (a hub id or a folder), got {part!r}")
        if not _NAME.match(name):
            raise ValueError(f"IMAGE_MODELS: a model name is letters, digits, '.', '_' or '-' (no spaces), "
                             f"got {name!r}")
        if name.lower() in {n.lower() for n, _ in entries}:
            raise ValueError(f"IMAGE_MODELS: the name {name!r} is given twice")
        folder = Path(source).expanduser()
        entries.append((name, str(folder) if folder.is_dir() else source))
    default = entries[0][1]
    wanted = (image_model or "").strip()
    for name, source in entries:
        if wanted and wanted.lower() in (name.lower(), source.lower()):
            default = source
    return tuple(entries), default


@dataclass(frozen=True)
class LoraChoice:
    name: str
    weight: float = DEFAULT_LORA_WEIGHT

    def text(self) -> str:
        return f"{self.name}:{self.weight:g}"


def format_loras(loras: tuple[LoraChoice, ...]) -> str:
    """As jobs.loras stores them and Info shows them: "name:0.8,other:0.5"."""
    return ",".join(lora.text() for lora in loras)


def read_loras(text: str | None) -> tuple[LoraChoice, ...]:
    """The inverse of format_loras (a stored job's LoRAs)."""
    out = []
    for part in (text or "").split(","):
        name, _, weight = part.strip().rpartition(":")
        if name:
            out.append(LoraChoice(name, float(weight)))
    return tuple(out)


def _weight(name: str, raw: str | None) -> float:
    if raw is None or not raw.strip():
        return DEFAULT_LORA_WEIGHT
    try:
        weight = float(raw)
    except ValueError:
        weight = math.nan
    if not (math.isfinite(weight) and MIN_LORA_WEIGHT <= weight <= MAX_LORA_WEIGHT):
        raise ValidationError(N_("The weight of LoRA `{name}` must be a number from {low:g} to {high:g} "
                                 "(`name:0.8`), got `{value}`.", name=quoted(name), low=MIN_LORA_WEIGHT,
                                 high=MAX_LORA_WEIGHT, value=quoted(raw)))
    return weight


def parse_lora_option(value: str | None) -> tuple[LoraChoice, ...]:
    """The `lora:` option: `name` or `name:0.8`."""
    if value is None or not value.strip():
        return ()
    name, sep, raw = value.strip().rpartition(":")
    if not sep:
        name, raw = value.strip(), ""
    return (LoraChoice(name.strip(), _weight(name.strip(), raw)),)


def extract_prompt_loras(prompt: str) -> tuple[str, tuple[LoraChoice, ...]]:
    """(the prompt without its `<lora:name:weight>` tags, the LoRAs they name in order)."""
    found = [LoraChoice(m[1].strip(), _weight(m[1].strip(), m[2])) for m in _PROMPT_LORA.finditer(prompt or "")]
    text = " ".join(_PROMPT_LORA.sub(" ", prompt or "").split()) if found else (prompt or "")
    return text, tuple(found)


def merge_loras(option: tuple[LoraChoice, ...], in_prompt: tuple[LoraChoice, ...]) -> tuple[LoraChoice, ...]:
    """The option's LoRA and the prompt's; one named twice with two weights is refused, as an
    option and an inline parameter that disagree are."""
    merged: dict[str, LoraChoice] = {}
    for lora in (*option, *in_prompt):
        key = lora.name.lower()
        if key in merged and abs(merged[key].weight - lora.weight) > 1e-9:
            raise ValidationError(N_("LoRA `{name}` is given twice with different weights ({first:g} and "
                                     "{second:g}): give it once.", name=quoted(lora.name),
                                     first=merged[key].weight, second=lora.weight))
        merged.setdefault(key, lora)
    return tuple(merged.values())


@dataclass
class ModelCatalog:
    """The configured models (the first of `entries` that is `default` is the default) and LORA_DIR."""

    entries: tuple[ModelEntry, ...]
    default: str  # a name
    lora_dir: Path | None = None
    max_loras: int = MAX_LORAS
    _by_name: dict[str, ModelEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {e.name.lower(): e for e in self.entries}

    @classmethod
    def from_settings(cls, settings, default_profile: ModelProfile | None = None) -> ModelCatalog:
        """From Settings (image_models, image_model, lora_dir); profiles read from the files."""
        pairs = tuple(getattr(settings, "image_models", ()) or ()) or ((model_label(settings.image_model),
                                                                         settings.image_model),)
        entries = []
        default = pairs[0][0]
        for name, source in pairs:
            is_default = source == settings.image_model
            profile = default_profile if (is_default and default_profile) else resolve_profile(source)
            entries.append(ModelEntry(name, source, profile))
            if is_default:
                default = name
        lora_dir = getattr(settings, "lora_dir", None)
        return cls(tuple(entries), default, Path(lora_dir) if lora_dir else None,
                   getattr(settings, "max_loras", MAX_LORAS))

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def get(self, name: str) -> ModelEntry | None:
        return self._by_name.get((name or "").lower())

    def resolve(self, name: str | None) -> ModelEntry:
        """The model `name` names (None: the default); refused naming it and the ones there are."""
        if name is None or not name.strip():
            return self._by_name[self.default.lower()]
        wanted = name.strip().lower()
        for entry in self.entries:
            if wanted in {n.lower() for n in entry.names()}:
                return entry
        available = ", ".join(f"`{quoted(n, 100)}`" for n in self.names)
        raise ValidationError(N_("There is no model named `{name}`. Available: {available}.", name=quoted(name),
                                 available=available))

    def suggest_models(self, typed: str, limit: int = 25) -> list[str]:
        typed = (typed or "").strip().lower()
        return [n for n in self.names if typed in n.lower()][:limit]

    # ---- LoRAs ----
    def lora_files(self) -> dict[str, Path]:
        """name -> file of every LORA_DIR/*.safetensors (sorted by name)."""
        if self.lora_dir is None or not self.lora_dir.is_dir():
            return {}
        files = sorted(self.lora_dir.glob("*.safetensors"), key=lambda p: p.stem.lower())
        return {p.stem: p for p in files if p.is_file()}

    def suggest_loras(self, typed: str, limit: int = 25) -> list[str]:
        name = (typed or "").split(":", 1)[0].strip().lower()
        return [n for n in self.lora_files() if name in n.lower()][:limit]

    def check_loras(self, loras: tuple[LoraChoice, ...]) -> tuple[LoraChoice, ...]:
        """The LoRAs with their names as the files spell them; refused: an unknown one (named, with
        the ones there are), or more than max_loras."""
        if not loras:
            return ()
        if len(loras) > self.max_loras:
            raise ValidationError(N_("At most {limit} LoRAs per image, got {count}.", limit=self.max_loras,
                                     count=len(loras)))
        files = {n.lower(): n for n in self.lora_files()}
        out = []
        for lora in loras:
            name = files.get(lora.name.lower())
            if name is None:
                if not files:
                    raise ValidationError(N_("There is no LoRA named `{name}`: this server has no LoRAs.",
                                             name=quoted(lora.name)))
                shown = ", ".join(f"`{quoted(n)}`" for n in list(files.values())[:10])
                raise ValidationError(N_("There is no LoRA named `{name}`. Available: {available}.",
                                         name=quoted(lora.name), available=shown))
            out.append(LoraChoice(name, lora.weight))
        return tuple(out)

    def lora_path(self, name: str) -> Path | None:
        return self.lora_files().get(name)
