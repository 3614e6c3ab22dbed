"""Writing finished images on the bot's machine (no torch).

Workers (a local process, or a Ray actor that may run on another machine) hand back PNG bytes;
the bot writes them here, so every image lands under DATA_DIR the same way whoever rendered it.
Blocking file I/O: call from a thread (`asyncio.to_thread(store_encoded, ...)`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.models import EncodedImage, RenderBatch, RenderedImage

# Shared by every batch (store_encoded already runs in a thread of its own); a batch has at most
# MAX_BATCH_IMAGES x 4 images.
_WRITERS = ThreadPoolExecutor(8, thread_name_prefix="png-writer")


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a reader (or a restart after kill -9 / power loss) sees the old
    file, no file, or the whole new file, never a torn one: temp file in the same folder, fsync,
    os.replace, then fsync of the folder so the rename itself is durable. Creates parent folders."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_encoded(batch: RenderBatch, images: Sequence[EncodedImage]) -> tuple[RenderedImage, ...]:
    """Write every image of `batch` to its spec's output_path; returns them in batch order.

    Each image is matched to its spec by (job_id, index), and its bytes are checked against the
    sha256 the worker computed (a result that crossed a network, or got paired with the wrong batch,
    is refused instead of stored). Raises ValueError on a missing, extra or mismatched image."""
    by_key = {(img.job_id, img.index): img for img in images}
    if len(by_key) != len(images) or len(images) != len(batch.images):
        raise ValueError(f"batch {batch.batch_id}: {len(images)} images for {len(batch.images)} specs")
    stored, writes = [], []
    for spec in batch.images:
        img = by_key.get((spec.job_id, spec.index))
        if img is None:
            raise ValueError(f"batch {batch.batch_id}: no image for job {spec.job_id} #{spec.index}")
        if hashlib.sha256(img.png).hexdigest() != img.sha256:
            raise ValueError(f"batch {batch.batch_id}: image {spec.job_id} #{spec.index} does not match its sha256")
        writes.append((spec.output_path, img.png))
        stored.append(RenderedImage(spec.job_id, spec.index, img.seed, spec.output_path, img.sha256,
                                    img.width, img.height))
    if len(writes) == 1:
        write_atomic(*writes[0])
    else:
        # A batch's images are written at once: each costs two fsyncs (file, folder; 5-40 ms on a
        # busy disk), which one by one made the whole batch wait for the sum of them. Concurrent
        # fsyncs share the file system's journal commits. The first failure is raised.
        for future in [_WRITERS.submit(write_atomic, path, data) for path, data in writes]:
            future.result()
    return tuple(stored)
