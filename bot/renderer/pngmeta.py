"""PNG writing with AUTOMATIC1111-style generation parameters (Pillow only, no torch).

The text stored in the PNG's `parameters` chunk looks exactly like AUTOMATIC1111's, so other tools
(A1111/Forge "PNG Info", ComfyUI importers, civitai) can read it::

    <prompt>
    Negative prompt: <negative>          (line omitted when negative is empty)
    Steps: 20, Sampler: EulerDiscreteScheduler, CFG scale: 7.0, Seed: 42, Size: 512x512, Model: <model>

"Negative prompt" is the member's own; what content safety added to it is the labelled pair
`Safety negative prompt: "..."` on the last line (a separate text line would be read as more of the
member's negative by A1111 and other readers).

Values containing a comma, colon or newline are written as JSON strings (A1111's `quote()`), so they
survive `parse_parameters`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from bot.renderer.storage import write_atomic

PARAMETERS_KEY = "parameters"
NEGATIVE_PREFIX = "Negative prompt: "

# "Key: value" pairs of the last line; a value is a JSON string or anything up to the next comma.
_RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_RE_SIZE = re.compile(r"^(\d+)x(\d+)$")

# A1111 label -> (key in the parsed dict, converter)
_KNOWN = {
    "Steps": ("steps", int),
    "Sampler": ("sampler", str),
    "CFG scale": ("cfg_scale", float),
    "Seed": ("seed", int),
    "Model": ("model", str),
    "Denoising strength": ("denoising_strength", float),
    "Hires upscale": ("hires_upscale", float),
    "Safety negative prompt": ("safety_negative_prompt", str),
}


def _quote(value: Any) -> str:
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text and not text.startswith('"'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _format_number(value: float) -> str:
    # 7 -> "7.0", 7.25 -> "7.25", 0.1 + 0.2 -> "0.3"
    return str(round(float(value), 4))


def format_parameters(
    prompt: str,
    negative: str,
    steps: int,
    sampler: str,
    cfg: float,
    seed: int,
    width: int,
    height: int,
    model: str,
    extra: Mapping[str, Any] | None = None,
    safety_negative: str = "",
) -> str:
    """A1111 `parameters` text. `extra` adds "Key: value" pairs after Model (e.g.
    {"Denoising strength": 0.6} for variations); floats are written like CFG scale. `negative` is
    the member's; `safety_negative` (what the bot added) comes last, labelled."""
    pairs = [
        ("Steps", str(int(steps))),
        ("Sampler", _quote(sampler)),
        ("CFG scale", _format_number(cfg)),
        ("Seed", str(int(seed))),
        ("Size", f"{int(width)}x{int(height)}"),
        ("Model", _quote(model)),
    ]
    for key, value in (extra or {}).items():
        if value is None:
            continue
        shown = _format_number(value) if isinstance(value, float) else _quote(value)
        pairs.append((str(key), shown))
    if safety_negative:
        pairs.append(("Safety negative prompt", _quote(safety_negative)))
    lines = [prompt]
    if negative:
        lines.append(NEGATIVE_PREFIX + negative)
    lines.append(", ".join(f"{k}: {v}" for k, v in pairs))
    return "\n".join(lines)


def parse_parameters(text: str) -> dict:
    """Inverse of `format_parameters` (also reads real A1111 files).

    Returns {"prompt", "negative_prompt", "steps", "sampler", "cfg_scale", "seed", "width", "height",
    "model", ...}: known labels get typed snake_case keys (see _KNOWN; "Size" becomes width/height);
    other labels are kept as strings under their original label. Missing labels are absent.
    """
    lines = text.split("\n")
    result: dict[str, Any] = {}
    params_line = lines[-1] if lines else ""
    matches = _RE_PARAM.findall(params_line)
    if len(matches) >= 3:
        lines = lines[:-1]
        for key, raw in matches:
            key = key.strip()
            value = _unquote(raw)
            if key == "Size":
                m = _RE_SIZE.match(value)
                if m:
                    result["width"], result["height"] = int(m.group(1)), int(m.group(2))
                    continue
            if key in _KNOWN:
                name, conv = _KNOWN[key]
                try:
                    result[name] = conv(value)
                except ValueError:
                    result[name] = value
            else:
                result[key] = value
    neg_at = next((i for i, line in enumerate(lines) if line.startswith(NEGATIVE_PREFIX)), None)
    if neg_at is None:
        result["prompt"] = "\n".join(lines)
        result["negative_prompt"] = ""
    else:
        result["prompt"] = "\n".join(lines[:neg_at])
        result["negative_prompt"] = "\n".join(lines[neg_at:])[len(NEGATIVE_PREFIX):]
    return result


def read_parameters(path: str | os.PathLike) -> str | None:
    """The `parameters` text of a PNG, or None."""
    with Image.open(path) as im:
        im.load()
        value = im.info.get(PARAMETERS_KEY)
        if value is None:
            value = getattr(im, "text", {}).get(PARAMETERS_KEY)
    return value


def png_bytes(image: Image.Image, parameters: str | None, compress_level: int = 6, xmp: str | None = None) -> bytes:
    """Encode `image` as PNG with a `parameters` text chunk (tEXt, or iTXt for non-Latin-1 text) and,
    when given, an XMP packet (uncompressed iTXt "XML:com.adobe.xmp", as the XMP spec asks; provenance.py)."""
    info = PngInfo()
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp)
    if parameters is not None:
        try:
            parameters.encode("latin-1")
            info.add_text(PARAMETERS_KEY, parameters)
        except UnicodeEncodeError:
            info.add_itxt(PARAMETERS_KEY, parameters)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info, compress_level=compress_level)
    return buf.getvalue()


def save_png(
    image: Image.Image, path: str | os.PathLike, parameters: str | None, compress_level: int = 6
) -> str:
    """Write `image` to `path` atomically (see storage.write_atomic), creating parent folders.
    Returns the sha256 hex digest of the bytes written."""
    data = png_bytes(image, parameters, compress_level)
    write_atomic(path, data)
    return hashlib.sha256(data).hexdigest()
