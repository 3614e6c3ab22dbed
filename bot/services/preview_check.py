"""Checked live previews, for a front end that shows previews where the result itself gets the
image check (the web: its channel is never age-restricted, so preview_relay.py's rule alone would
never show one there): each preview is scored by content safety's image checker, against the
server's threshold, before the front end gets it. Fails closed: no checker, a failed or invalid
score, or a score at the threshold shows no preview (the text progress goes on as before).

Each check costs one image-checker run on a small JPEG, at most one per progress edit
(PROGRESS_EDIT_INTERVAL), in content safety's own checking thread."""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.models import Job

if TYPE_CHECKING:
    from bot.services.safety import SafetyService

log = logging.getLogger(__name__)


async def preview_passes(safety: SafetyService | None, job: Job, data: bytes) -> bool:
    if safety is None or safety.checker is None:
        return False
    guild = await safety.guild(job.requester.guild_id)
    path = await asyncio.to_thread(_write, data, safety.settings.data_dir)
    try:
        score = await safety._score(path)
    finally:
        await asyncio.to_thread(_remove, path)
    passed = score is not None and score < guild.threshold
    if not passed:
        log.info("job %s: a live preview was not shown (image check score %s)", job.id,
                 "none" if score is None else f"{score:.2f}")
    return passed


def _write(data: bytes, folder) -> str:
    handle, path = tempfile.mkstemp(prefix="preview-", suffix=".jpg", dir=folder)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return path


def _remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)
