"""Image prompts: an uploaded file checked by its content, fitted to the model and stored once.

The attachment is downloaded once by the front end; everything here works on its bytes. Nothing
about the upload is trusted: not its content type, not its file name, not its claimed size. Pillow
reads the format from the bytes; only PNG, JPEG and WebP pass; the header's size is checked before
any pixel is decoded (Pillow's decompression-bomb guard stays on and counts as a refusal); a
truncated or damaged file fails while decoding; an animated file gives its first frame; the EXIF
orientation is applied; transparency is flattened onto white. The result is fitted (centre crop,
Lanczos) to the model's size nearest the image's own aspect and stored as PNG under
DATA_DIR/inputs/, named by its sha256: re-rolls and variations read it from there after a restart
and long after Discord's signed attachment URL stopped working.

Each refusal is a ValidationError naming the problem; the caller queues nothing and charges nothing.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.database import Database
from bot.errors import ValidationError
from bot.i18n import N_
from bot.models import ImagePrompt
from bot.renderer.profiles import ModelProfile, ratio_label, sizes_for_ratio
from bot.renderer.storage import write_atomic
from bot.services.downloads import too_big

MAX_BYTES = 10 * 2**20
MAX_EDGE = 4096
MAX_PIXELS = 16 * 10**6
FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}  # Pillow's name -> what members read
# warnings.catch_warnings changes process-wide state: one decode at a time (they are CPU-bound anyway).
_DECODE_LOCK = threading.Lock()


@dataclass(frozen=True)
class DecodedImage:
    """A validated upload, fitted to the model, as the PNG that will be stored."""

    png: bytes
    sha256: str
    width: int
    height: int
    source_format: str  # "PNG", "JPEG" or "WebP"
    source_width: int
    source_height: int
    frames: int

    @property
    def source(self) -> str:
        text = f"{self.source_format} {self.source_width}×{self.source_height}"
        return text + (f", first of {self.frames} frames" if self.frames > 1 else "")


def check_size(size: int, limit: int = MAX_BYTES) -> None:
    """Refuse an upload over the byte limit (before downloading it, from the size Discord reports,
    and again on the bytes themselves)."""
    if size > limit:
        raise too_big(limit, size)


def decode(data: bytes, profile: ModelProfile, limit: int = MAX_BYTES) -> DecodedImage:
    """Validate `data` and fit it to `profile` (blocking: run it in a thread)."""
    check_size(len(data), limit)
    if not data:
        raise ValidationError(N_("That file is empty."))
    with _DECODE_LOCK, warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above: both refuse here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(N_("That image claims far more pixels than it could hold (a decompression "
                                     "bomb); it was not opened.")) from None
        except UnidentifiedImageError:
            raise ValidationError(N_("That file is not an image (PNG, JPEG or WebP), whatever its name says.")) \
                from None
        except Exception:  # a header Pillow chokes on
            raise ValidationError(N_("That file is damaged: it could not be read as an image.")) from None
        with image:
            return _fit(image, profile)


def _fit(image: Image.Image, profile: ModelProfile) -> DecodedImage:
    kind = image.format or "unknown"
    if kind not in FORMATS:
        what = (N_("an animated {format}", format=kind) if int(getattr(image, "n_frames", 1) or 1) > 1
                else N_("a {format}", format=kind))
        raise ValidationError(N_("That file is {what} image, whatever its name says; image prompts must "
                                 "be PNG, JPEG or WebP (an animated PNG or WebP gives its first frame).", what=what))
    width, height = image.size
    if width > MAX_EDGE or height > MAX_EDGE or width * height > MAX_PIXELS:
        raise ValidationError(N_("That image is {width}×{height}; the limit is {edge}×{edge} and "
                                 "{megapixels} megapixels.", width=width, height=height, edge=MAX_EDGE,
                                 megapixels=MAX_PIXELS // 10**6))
    frames = int(getattr(image, "n_frames", 1) or 1)
    try:
        image.seek(0)  # an animation: its first frame
        image.load()
    except Exception:
        raise ValidationError(N_("That image is truncated or damaged: it could not be decoded.")) from None
    upright = ImageOps.exif_transpose(image)
    rgb = _flatten(upright)
    target = sizes_for_ratio(profile, rgb.width / rgb.height)
    fitted = ImageOps.fit(rgb, target, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    fitted.save(buffer, format="PNG", compress_level=6)
    png = buffer.getvalue()
    return DecodedImage(png, hashlib.sha256(png).hexdigest(), fitted.width, fitted.height, FORMATS[kind],
                        width, height, frames)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only once the folder is empty


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited onto white (dropping alpha would leave whatever colour
    the transparent pixels happen to hold)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


class ImageInputs:
    """Stores validated image prompts under DATA_DIR/inputs/ and records them (SQL here)."""

    def __init__(self, db: Database, data_dir: Path, profile: ModelProfile, clock=time.time,
                 max_bytes: int = MAX_BYTES):
        self.db = db
        self.data_dir = Path(data_dir)
        self.profile = profile
        self.clock = clock
        self.max_bytes = int(max_bytes)
        # store() and discard() of the same file must not interleave (a discard between another
        # upload's "file exists" and its row would leave that upload's job without its file).
        self._files = asyncio.Lock()

    def pending(self) -> ImagePrompt:
        """A stand-in for an upload not downloaded yet, at the model's own size: the cheap checks
        (validation, prompt filter, credits) run on it before anything is fetched. Its empty path is
        never stored nor rendered."""
        size = self.profile.default_size
        return ImagePrompt("", size, size, ratio_label(size, size), "an image not downloaded yet")

    async def store(self, data: bytes, user_id: int) -> ImagePrompt:
        """Validate, fit and store an upload; the image prompt a GenerationRequest carries."""
        decoded = await asyncio.to_thread(decode, data, self.profile, self.max_bytes)
        rel = f"inputs/{decoded.sha256[:2]}/{decoded.sha256}.png"
        async with self._files:
            await self._write(rel, decoded, user_id)
        return ImagePrompt(rel, decoded.width, decoded.height, ratio_label(decoded.width, decoded.height),
                           decoded.source)

    async def _write(self, rel: str, decoded: DecodedImage, user_id: int) -> None:
        target = self.data_dir / rel
        if not target.is_file():
            await asyncio.to_thread(write_atomic, target, decoded.png)
        # The same image uploaded again is the same file; one removed by retention is back now.
        await self.db.execute(
            "INSERT INTO input_images (sha256, path, width, height, source_format, source_width, source_height, "
            "user_id, created_at) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(sha256) DO UPDATE SET pruned_at = NULL, created_at = excluded.created_at",
            (decoded.sha256, rel, decoded.width, decoded.height, decoded.source_format, decoded.source_width,
             decoded.source_height, user_id, self.clock()),
        )

    async def discard(self, path: str) -> bool:
        """Remove a stored image prompt whose job was refused after the upload was stored (the
        upload's own image check, a queue or credit race): file and row go, unless some job uses
        that same image. True if it was removed."""
        if not path.startswith("inputs/"):
            return False
        async with self._files:
            removed = await self.db.execute(
                "DELETE FROM input_images WHERE path = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE init_image = ?)",
                (path, path))
            if removed:
                await asyncio.to_thread(_unlink, self.data_dir / path)
        return bool(removed)

    async def describe(self, path: str) -> str | None:
        """"JPEG 1600×1200" for a stored image prompt, or None."""
        row = await self.db.fetchone(
            "SELECT source_format, source_width, source_height FROM input_images WHERE path = ?", (path,))
        return f"{row['source_format']} {row['source_width']}×{row['source_height']}" if row else None
