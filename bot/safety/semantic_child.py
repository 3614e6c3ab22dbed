"""The child-process side of SAFETY_SEMANTIC=on: the pipeline's CLIP text encoder on the CPU.

Runs in the process bot/safety/semantic.SemanticLayer spawns (and in `python -m bot
semantic-calibrate`, its own process): torch and transformers are imported inside these functions,
never when the bot imports this module. Only the tokenizer and the text encoder are loaded (from the
model folder or the local Hugging Face cache, never downloaded), not the UNet or the VAE.
"""
from __future__ import annotations

import os

_state: dict = {}


def init(model: str, anchors: dict[str, list[str]], threads: int = 1) -> dict:
    """Load the encoder and embed every anchor phrase once. Returns what was loaded, for the log."""
    import torch
    import transformers

    from bot.renderer.render import quiet_libraries
    from bot.renderer.text_encoder import model_encoder

    quiet_libraries()
    # A side job next to the renderers: one core keeps it out of their way (CLIP ViT-L: 72 ms for a
    # 20-token prompt, 185 ms for 77, on one thread here; semantic-calibrate prints it per model).
    torch.set_num_threads(threads)
    encoder = model_encoder(model)
    tokenizer = transformers.CLIPTokenizer.from_pretrained(model, subfolder=encoder.tokenizer, local_files_only=True)
    text_model = _load_encoder(getattr(transformers, encoder.class_name), model, encoder.component, torch)
    _state.update(torch=torch, tokenizer=tokenizer, model=text_model, projected=encoder.projected)
    _state["anchors"] = {category: torch.cat([_embed_window(ids) for phrase in phrases
                                              for ids in _windows(phrase)])
                         for category, phrases in anchors.items()}
    return {"pid": os.getpid(), "encoder": f"{model} {encoder.component} ({encoder.class_name})",
            "pooled": "text_embeds" if encoder.projected else "pooler_output",
            "anchors": sum(len(p) for p in anchors.values())}


def _load_encoder(cls, model: str, component: str, torch):
    """float32 on the CPU (half precision is slow there); a folder with only fp16 variant files
    (saved with variant="fp16") is read from those."""
    kwargs = dict(subfolder=component, local_files_only=True, dtype=torch.float32)
    try:
        return cls.from_pretrained(model, **kwargs).eval()
    except OSError:
        return cls.from_pretrained(model, variant="fp16", **kwargs).eval()


def _windows(text: str) -> list[list[int]]:
    """The text's token ids, framed like the pipeline frames them (start, tokens, end); a text
    longer than the encoder's 77 positions in overlapping windows, so nothing past the cut hides."""
    tokenizer = _state["tokenizer"]
    ids = tokenizer(text, add_special_tokens=False, verbose=False).input_ids
    size = tokenizer.model_max_length - 2
    starts = range(0, max(len(ids) - size, 0) + 1, max(size // 2, 1)) if len(ids) > size else [0]
    windows = [ids[s:s + size] for s in starts]
    if len(ids) > size and len(ids) - size not in starts:
        windows.append(ids[-size:])
    return [[tokenizer.bos_token_id, *w, tokenizer.eos_token_id] for w in windows]


def _embed_window(ids: list[int]):
    """The pooled embedding of one window, unit length (so a dot product is the cosine)."""
    torch = _state["torch"]
    with torch.no_grad():
        out = _state["model"](input_ids=torch.tensor([ids]))
    pooled = out.text_embeds if _state["projected"] else out.pooler_output
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


def embed(text: str):
    """Unit embeddings of the text's windows: a (windows x dim) tensor."""
    torch = _state["torch"]
    return torch.cat([_embed_window(ids) for ids in _windows(text)])


def score(text: str) -> dict[str, float]:
    """{category: the highest cosine between any window of `text` and any of its anchors}."""
    vectors = embed(text)
    return {category: float((vectors @ anchors.T).max()) for category, anchors in _state["anchors"].items()}


def ready() -> bool:
    return "anchors" in _state
