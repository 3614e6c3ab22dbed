"""The child-process side of SAFETY_IMAGE_CHECKER=sd: diffusers' StableDiffusionSafetyChecker.

Runs only in the process image_checker.SdSafetyChecker spawns: torch, transformers and diffusers
are imported inside these functions, never when the bot imports this module.
"""
from __future__ import annotations

from pathlib import Path

_state: dict = {}


def init(model_path: str) -> None:
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPImageProcessor

    torch.set_num_threads(1)  # a side job next to the renderers: one core is plenty
    folder = Path(model_path)
    checker = StableDiffusionSafetyChecker.from_pretrained(folder, local_files_only=True).eval()
    # A diffusers pipeline folder keeps the processor beside the checker, in feature_extractor/.
    for candidate in (folder, folder.parent / "feature_extractor"):
        if (candidate / "preprocessor_config.json").is_file():
            processor = CLIPImageProcessor.from_pretrained(candidate, local_files_only=True)
            break
    else:
        processor = CLIPImageProcessor()  # CLIP's own defaults (224 px, OpenAI mean and std)
    _state.update(checker=checker, processor=processor, torch=torch)


def ready() -> bool:
    return "checker" in _state


def score(path: str) -> float:
    import numpy as np
    from PIL import Image

    torch, checker, processor = _state["torch"], _state["checker"], _state["processor"]
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    pixels = processor(images=[rgb], return_tensors="pt").pixel_values
    with torch.no_grad():
        _, flagged = checker(clip_input=pixels, images=[np.zeros((1, 1, 3))])
    return 1.0 if flagged[0] else 0.0
