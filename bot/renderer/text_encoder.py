"""Which text encoder of IMAGE_MODEL the semantic prompt layer reads (bot/safety/semantic.py's
docstring says why this one), found from model_index.json alone (profiles.read_model_index): no
torch, safe in the bot's process, and shared by the settings check at start (config_values.py), the
encoder's child process (bot/safety/semantic_child.py) and `python -m bot semantic-calibrate`."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_CLIP_CLASSES = ("CLIPTextModel", "CLIPTextModelWithProjection")


@dataclass(frozen=True)
class Encoder:
    """Which pipeline component embeds prompts, and with which tokenizer."""

    component: str  # "text_encoder", "text_encoder_2", ...
    tokenizer: str  # "tokenizer", "tokenizer_2", ...
    class_name: str  # CLIPTextModel or CLIPTextModelWithProjection

    @property
    def projected(self) -> bool:
        return self.class_name == "CLIPTextModelWithProjection"


def pick_encoder(index: dict) -> Encoder | None:
    """The CLIP text encoder of a pipeline's model_index.json (see the module's docstring), or None."""
    for component in sorted(key for key in index if key.startswith("text_encoder")):
        entry = index.get(component)
        class_name = entry[1] if isinstance(entry, list) and len(entry) == 2 else None
        tokenizer = "tokenizer" + component[len("text_encoder"):]
        if class_name in _CLIP_CLASSES and index.get(tokenizer):
            return Encoder(component, tokenizer, class_name)
    return None


def model_encoder(model: str) -> Encoder:
    """The encoder of IMAGE_MODEL (a folder, or a hub id in the local cache: never downloaded), or
    ValueError with the reason. Reads JSON only: safe in the bot's process."""
    from bot.renderer import profiles

    index = profiles.read_model_index(model, local_files_only=True)
    if index is None:
        raise ValueError(f"{model} has no model_index.json here (a folder saved with save_pretrained, or a hub "
                         "model already in the local Hugging Face cache: run `python -m bot render` once)")
    encoder = pick_encoder(index)
    if encoder is None:
        raise ValueError(f"{model} has no CLIP text encoder with a tokenizer (model_index.json lists "
                         f"{sorted(k for k in index if k.startswith('text_encoder')) or 'none'})")
    folder = Path(os.path.expanduser(model))
    if folder.is_dir():
        for part in (encoder.component, encoder.tokenizer):
            if not (folder / part).is_dir():
                raise ValueError(f"{model} lists {part} in model_index.json but has no {part}/ folder")
        if not (folder / encoder.component / "config.json").is_file():
            raise ValueError(f"{model}/{encoder.component} has no config.json")
    return encoder
