"""Image retention and storage use (`IMAGE_RETENTION_DAYS`, `/mod storage`).

PNGs take 1.5-2.6 MiB each at 1024x1024, about 3 TiB per million jobs. With IMAGE_RETENTION_DAYS
set, a background pass (a few seconds after start, then daily) removes image files older than that;
the rows stay, marked `pruned_at`, so history, Info and lineage keep working and /show, V and U say
why the picture is gone. It never removes what a job still needs: images of jobs not delivered yet,
images a queued or running job starts from, and image prompts a job used within the period. The
same pass forgets /history views older than a day (their ephemeral messages are gone by then), and
content-safety block-log rows older than BLOCK_LOG_RETENTION_DAYS (default 90; 0 keeps them).
Plain SQL and file I/O (in a thread), no Discord.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bot.database import Database

log = logging.getLogger(__name__)

DAY = 86400.0
FIRST_PASS_DELAY = 5.0  # let the bot finish starting first
CHUNK = 500
HISTORY_VIEW_LIFETIME = DAY


@dataclass(frozen=True)
class PruneReport:
    images: int = 0
    inputs: int = 0
    bytes: int = 0
    blocks: int = 0  # block-log rows purged


@dataclass(frozen=True)
class StorageUse:
    image_files: int
    image_bytes: int
    input_files: int
    input_bytes: int
    database_bytes: int
    pruned_images: int
    free_bytes: int
    retention_days: int


def _remove(paths: list[Path]) -> int:
    """Delete files (a missing one is fine: removed by hand, or a pass interrupted); bytes freed.
    Empty job folders go too."""
    freed = 0
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
            freed += size
        except FileNotFoundError:
            continue
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only succeeds once the folder is empty
    return freed


def _walk(folder: Path) -> tuple[int, int]:
    """(files, bytes) under `folder`, temporary files of interrupted writes included."""
    files = size = 0
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        files += 1
                        size += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            continue
    return files, size


class RetentionService:
    def __init__(self, db: Database, data_dir: Path, db_path: Path, days: int, clock=time.time,
                 block_log_days: int = 0):
        self.db = db
        self.data_dir = Path(data_dir)
        self.db_path = Path(db_path)
        self.days = int(days)
        self.block_log_days = int(block_log_days)  # BLOCK_LOG_RETENTION_DAYS; 0: keep the block log forever
        self.clock = clock
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(FIRST_PASS_DELAY)
        while True:
            try:
                report = await self.run_once()
                if report.images or report.inputs:
                    log.info("retention: removed %d image(s) and %d image prompt(s), %.1f MiB", report.images,
                             report.inputs, report.bytes / 2**20)
                if report.blocks:
                    log.info("retention: purged %d block-log row(s)", report.blocks)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the retention pass failed; it runs again tomorrow", exc_info=True)
            await asyncio.sleep(DAY)

    async def run_once(self, now: float | None = None) -> PruneReport:
        now = self.clock() if now is None else now
        await self.db.execute("DELETE FROM history_views WHERE created_at < ?", (now - HISTORY_VIEW_LIFETIME,))
        blocks = await self.purge_block_log(now)
        if self.days <= 0:
            return PruneReport(blocks=blocks)
        cutoff = now - self.days * DAY
        needed = {r["init_image"] for r in await self.db.fetchall(
            "SELECT DISTINCT init_image FROM jobs WHERE status IN ('queued', 'running') AND init_image IS NOT NULL")}
        images, freed = await self._prune_images(cutoff, needed, now)
        inputs, freed_inputs = await self._prune_inputs(cutoff, needed, now)
        return PruneReport(images, inputs, freed + freed_inputs, blocks)

    async def purge_block_log(self, now: float) -> int:
        """Delete content-safety block-log rows older than BLOCK_LOG_RETENTION_DAYS (the refused
        prompts in them are members' words, kept for moderators' review, not forever). Oldest
        first in rowid order, a chunk per statement, stopping at the first newer row: no index on
        the age is needed, and the lock is held briefly. secure_delete zeroes what goes."""
        if self.block_log_days <= 0:
            return 0
        cutoff = now - self.block_log_days * DAY
        purged = 0
        while True:
            rows = await self.db.fetchall("SELECT id, created_at FROM safety_blocks ORDER BY id LIMIT ?", (CHUNK,))
            old = [r["id"] for r in rows if r["created_at"] < cutoff]
            if old:
                marks = ",".join("?" for _ in old)
                purged += await self.db.execute(f"DELETE FROM safety_blocks WHERE id IN ({marks})", old)
            if len(old) < len(rows) or len(rows) < CHUNK:
                return purged

    async def _prune_images(self, cutoff: float, needed: set[str], now: float) -> tuple[int, int]:
        count = freed = 0
        last_id = 0
        while True:
            rows = await self.db.fetchall(
                "SELECT i.id, i.path FROM images i JOIN jobs j ON j.id = i.job_id "
                "WHERE i.pruned_at IS NULL AND i.created_at < ? AND i.id > ? AND j.status != 'done' "
                "ORDER BY i.id LIMIT ?", (cutoff, last_id, CHUNK))
            if not rows:
                return count, freed
            last_id = rows[-1]["id"]
            chosen = [r for r in rows if r["path"] not in needed]
            if chosen:
                freed += await asyncio.to_thread(_remove, [self.data_dir / r["path"] for r in chosen])
                ids = [r["id"] for r in chosen]
                marks = ",".join("?" for _ in ids)
                await self.db.execute(f"UPDATE images SET pruned_at = ? WHERE id IN ({marks})", [now, *ids])
                count += len(ids)

    async def _prune_inputs(self, cutoff: float, needed: set[str], now: float) -> tuple[int, int]:
        count = freed = 0
        rows = await self.db.fetchall(
            "SELECT id, path FROM input_images WHERE pruned_at IS NULL AND created_at < ?", (cutoff,))
        for row in rows:
            if row["path"] in needed:
                continue
            recent = await self.db.fetchone(
                "SELECT 1 FROM jobs WHERE init_image = ? AND created_at >= ? LIMIT 1", (row["path"], cutoff))
            if recent is not None:
                continue
            freed += await asyncio.to_thread(_remove, [self.data_dir / row["path"]])
            await self.db.execute("UPDATE input_images SET pruned_at = ? WHERE id = ?", (now, row["id"]))
            count += 1
        return count, freed

    async def usage(self) -> StorageUse:
        """What /mod storage shows: files on disk (walked: the truth, whatever the rows say) and the
        database with its WAL."""
        image_files, image_bytes = await asyncio.to_thread(_walk, self.data_dir / "images")
        input_files, input_bytes = await asyncio.to_thread(_walk, self.data_dir / "inputs")
        database = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                database += os.stat(f"{self.db_path}{suffix}").st_size
        row = await self.db.fetchone("SELECT COUNT(*) FROM images WHERE pruned_at IS NOT NULL")
        free = shutil.disk_usage(self.data_dir).free
        return StorageUse(image_files, image_bytes, input_files, input_bytes, database, int(row[0]), free, self.days)  # type: ignore[index]
