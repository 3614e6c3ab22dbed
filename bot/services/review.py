"""The moderators' review queue: images content safety withheld (flagged by the image check) and
results members reported, per server, until a moderator decides (the web's moderator desk).

- **approve**: the image was fine. The item leaves the queue and the owner is told. It does not
  override the channel policy: a withheld image stays withheld where the policy withholds it
  (lower false positives with the server's threshold instead). Withheld for sexual content with
  minors, for hate or for non-consensual content, an image cannot be approved.
- **delete**: the image files are removed from disk (their rows stay, marked removed, so history
  and Info keep working) and the result is marked deleted.

Each decision is written to the audit log in its own transaction, like every moderator action.
Discord-free; the SQL is here."""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from bot.database import Database
from bot.errors import NotAllowed, NotFound
from bot.i18n import N_
from bot.safety.terms import Category
from bot.services.audit import AuditLog

NEVER_APPROVED = (Category.SEXUAL_MINORS.value, Category.HATE.value, Category.NONCONSENSUAL.value)


@dataclass(frozen=True)
class ReviewItem:
    job_id: int
    user_id: int
    prompt: str
    reason: str  # "flagged" or "reported"
    category: str | None  # the block's category for a flagged image
    score: float | None
    reports: int
    created_at: float
    image_indexes: tuple[int, ...]


class ReviewService:
    def __init__(self, db: Database, audit: AuditLog, data_dir: Path, clock=time.time):
        self.db = db
        self.audit = audit
        self.data_dir = Path(data_dir)
        self.clock = clock

    async def queue(self, guild_id: int, limit: int = 50) -> list[ReviewItem]:
        """Withheld images and reported results of this server with no decision yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT j.id AS job_id, j.user_id, j.prompt, j.created_at, "
            "  (SELECT b.category FROM safety_blocks b WHERE b.job_id = j.id AND b.kind = 'image' "
            "   ORDER BY b.id DESC LIMIT 1) AS category, "
            "  (SELECT b.score FROM safety_blocks b WHERE b.job_id = j.id AND b.kind = 'image' "
            "   ORDER BY b.id DESC LIMIT 1) AS score, "
            "  (SELECT COUNT(*) FROM safety_reports r WHERE r.job_id = j.id) AS reports, "
            "  (SELECT group_concat(i.idx) FROM images i WHERE i.job_id = j.id AND i.pruned_at IS NULL) AS idxs "
            "FROM jobs j WHERE j.guild_id = ? AND NOT EXISTS (SELECT 1 FROM safety_reviews v WHERE v.job_id = j.id) "
            "AND (j.reported_at IS NOT NULL OR EXISTS (SELECT 1 FROM safety_blocks b WHERE b.job_id = j.id "
            "     AND b.kind = 'image')) "
            "ORDER BY j.id LIMIT ?", (guild_id, limit))
        return [ReviewItem(r["job_id"], r["user_id"], r["prompt"], "flagged" if r["category"] else "reported",
                           r["category"], r["score"], r["reports"], r["created_at"],
                           tuple(sorted(int(x) for x in (r["idxs"] or "").split(",") if x))) for r in rows]

    async def item(self, guild_id: int, job_id: int) -> ReviewItem:
        for item in await self.queue(guild_id, limit=10_000):
            if item.job_id == job_id:
                return item
        raise NotFound(N_("Job #{job} is not waiting for review in this server.", job=job_id))

    async def approve(self, guild_id: int, moderator_id: int, job_id: int) -> ReviewItem:
        item = await self.item(guild_id, job_id)
        if item.category in NEVER_APPROVED:
            raise NotAllowed(N_("This image was withheld for content that is never allowed; it can only be "
                                "deleted."))
        now = self.clock()
        async with self.db.transaction() as conn:
            await conn.execute("INSERT INTO safety_reviews (job_id, decision, moderator_id, decided_at) "
                               "VALUES (?, 'approved', ?, ?)", (job_id, moderator_id, now))
            await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=item.user_id,
                                    action=f"approve {item.reason} image", before=f"job #{job_id} {item.reason}",
                                    after="approved", reason=None, now=now)
            await self.audit.notify(conn, guild_id, item.user_id,
                                    f"A moderator reviewed job #{job_id} and found nothing wrong with it.", now)
        return item

    async def delete(self, guild_id: int, moderator_id: int, job_id: int) -> ReviewItem:
        item = await self.item(guild_id, job_id)
        now = self.clock()
        rows = await self.db.fetchall("SELECT path FROM images WHERE job_id = ? AND pruned_at IS NULL", (job_id,))
        async with self.db.transaction() as conn:
            await conn.execute("INSERT INTO safety_reviews (job_id, decision, moderator_id, decided_at) "
                               "VALUES (?, 'deleted', ?, ?)", (job_id, moderator_id, now))
            await conn.execute("UPDATE images SET pruned_at = ? WHERE job_id = ? AND pruned_at IS NULL", (now, job_id))
            await conn.execute("UPDATE jobs SET message_deleted_at = COALESCE(message_deleted_at, ?) WHERE id = ?",
                               (now, job_id))
            await self.audit.record(conn, guild_id=guild_id, moderator_id=moderator_id, target_id=item.user_id,
                                    action=f"delete {item.reason} image", before=f"job #{job_id} {item.reason}",
                                    after="images removed", reason=None, now=now)
        for row in rows:  # after the commit: a crash in between leaves a file, never a row without one
            await asyncio.to_thread(_unlink, self.data_dir / row["path"])
        return item


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
