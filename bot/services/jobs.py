"""SQL for jobs and their images. SQLite is the source of truth for job state."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bot.database import Database
from bot.errors import AdmissionRefused
from bot.i18n import N_
from bot.models import (
    Job,
    JobKind,
    JobParams,
    JobStatus,
    JobTask,
    Priority,
    RenderedImage,
    Requester,
    StoredImage,
    denoising_steps,
    work_units,
)

_ACTIVE = "('queued', 'running')"
# The ways a job can stop without being delivered (JobService.end is the one path to them).
ENDINGS = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.BLOCKED)
# A job's own message is in the job's channel (a DM job's: the DM channel).
_RECORD_MESSAGE = ("INSERT OR IGNORE INTO job_messages (message_id, job_id, channel_id, created_at) "
                   "SELECT ?, id, channel_id, ? FROM jobs WHERE id = ?")


def _row_to_job(row) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        requester=Requester(
            user_id=row["user_id"],
            channel_id=row["channel_id"],
            guild_id=row["guild_id"],
            interaction_id=row["interaction_id"],
            interaction_token=row["interaction_token"],
            application_id=row["application_id"],
        ),
        params=JobParams(
            prompt=row["prompt"],
            negative_prompt=row["negative_prompt"],
            aspect=row["aspect"],
            width=row["width"],
            height=row["height"],
            steps=row["steps"],
            guidance=row["guidance"],
            count=row["count"],
            seed=row["seed"],
            model=row["model"],
            scheduler=row["scheduler"],
            strength=row["strength"],
            init_image=row["init_image"],
            task=JobTask(row["task"]),
            upscale_factor=row["upscale_factor"],
            safety_negative=row["safety_negative"],
            chaos=row["chaos"],
            tile=bool(row["tile"]),
            inline=row["inline_params"],
            edit=row["edit"],
            loras=row["loras"],
        ),
        priority=Priority(row["priority"]),
        status=JobStatus(row["status"]),
        created_at=row["created_at"],
        parent_job_id=row["parent_job_id"],
        parent_image_index=row["parent_image_index"],
        attempts=row["attempts"],
        message_id=row["message_id"],
        error=row["error"],
        cost=row["cost"],
        charged=row["charged"],
    )


class JobStore:
    def __init__(self, db: Database, data_dir: Path):
        self.db = db
        self.data_dir = Path(data_dir)

    async def insert(
        self,
        *,
        kind: JobKind,
        requester: Requester,
        params: JobParams,
        priority: Priority,
        max_per_user: int,
        max_total: int,
        parent_job_id: int | None = None,
        parent_image_index: int | None = None,
        dedupe_key: str | None = None,
        now: float | None = None,
        cost: int = 10,
        charged: int = 0,
        conn=None,
    ) -> Job:
        """Insert a queued job if the user's and the global queue limits allow it.

        One conditional INSERT ... SELECT ... WHERE checks both limits and inserts atomically, so
        concurrent clicks cannot both slip under a limit; the partial unique index turns a
        double-click into one job. The global limit reads a trigger-kept counter (migration 0003)
        and the user's one reads at most their own active rows: the cost does not grow with the
        queue. With `conn` it runs inside the caller's transaction (the quota debit's), and a
        refusal raised here rolls that transaction back."""
        now = time.time() if now is None else now
        sql = f"""INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, interaction_id,
                   interaction_token, application_id, parent_job_id, parent_image_index,
                   prompt, negative_prompt, aspect, width, height, steps, guidance, count,
                   seed, strength, init_image, model, scheduler, priority, status,
                   dedupe_key, created_at, cost, charged, safety_negative, upscale_factor,
                   chaos, tile, inline_params, edit, loras)
               SELECT ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'queued',?,?,?,?,?,?,?,?,?,?,?
               WHERE (SELECT COUNT(*) FROM jobs WHERE status IN {_ACTIVE} AND user_id = ?) < ?
                 AND (SELECT active FROM queue_size WHERE id = 1) < ?"""
        values = (
            kind.value, params.task.value, requester.user_id, requester.guild_id, requester.channel_id,
            requester.interaction_id, requester.interaction_token,
            requester.application_id, parent_job_id, parent_image_index,
            params.prompt, params.negative_prompt, params.aspect, params.width,
            params.height, params.steps, params.guidance, params.count, params.seed,
            params.strength, params.init_image, params.model, params.scheduler,
            int(priority), dedupe_key, now, cost, charged, params.safety_negative, params.upscale_factor,
            params.chaos, int(params.tile), params.inline, params.edit, params.loras,
            requester.user_id, max_per_user, max_total,
        )
        try:
            if conn is None:
                job_id = await self.db.insert(sql, values)
            else:
                cursor = await conn.execute(sql, values)
                job_id = cursor.lastrowid if cursor.rowcount > 0 else None
        except sqlite3.IntegrityError:
            raise AdmissionRefused(N_("That is already queued: one click makes one job.")) from None
        if job_id is None:
            raise await self._refusal(requester.user_id, max_per_user, max_total, conn)
        return Job(
            id=job_id, kind=kind, requester=requester, params=params, priority=priority,
            status=JobStatus.QUEUED, created_at=now, parent_job_id=parent_job_id,
            parent_image_index=parent_image_index, cost=cost, charged=charged,
        )

    async def _refusal(self, user_id: int, max_per_user: int, max_total: int, conn=None) -> AdmissionRefused:
        """Which limit refused a job (read after the fact: only for the message)."""
        sql = f"SELECT COUNT(*), COALESCE(SUM(user_id = ?), 0) FROM jobs WHERE status IN {_ACTIVE}"
        if conn is None:
            row = await self.db.fetchone(sql, (user_id,))
        else:  # inside the caller's transaction, which holds the connection
            row = (await conn.execute_fetchall(sql, (user_id,)))[0]
        total, mine = row[0], row[1]  # type: ignore[index]
        if mine >= max_per_user:
            return AdmissionRefused(
                N_("You already have {mine} job(s) waiting (limit {limit}). "
                   "Wait for one to finish or cancel one with /queue.", mine=mine, limit=max_per_user)
            )
        if total >= max_total:
            return AdmissionRefused(
                N_("The queue is full ({total} jobs, limit {limit}). Please try again in a few minutes.", total=total,
                   limit=max_total)
            )
        return AdmissionRefused(N_("The queue was full a moment ago. Please try again."))

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _row_to_job(row) if row else None

    async def with_status(self, *statuses: JobStatus) -> list[Job]:
        marks = ",".join("?" for _ in statuses)
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY id", [s.value for s in statuses]
        )
        return [_row_to_job(r) for r in rows]

    async def active_for_user(self, user_id: int, guild_id: int | None) -> list[Job]:
        """The member's waiting and running jobs in one server (None: their DM jobs). Never across
        servers: a moderator's rights and a member's list both stop at the server asked in."""
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE user_id = ? AND guild_id IS ? AND status IN {_ACTIVE} ORDER BY id",
            (user_id, guild_id),
        )
        return [_row_to_job(r) for r in rows]

    async def set_message(self, job_id: int, message_id: int | None) -> None:
        """The job's message (edited as it progresses); also one of the messages its buttons may be
        clicked on (bot/services/authz.py)."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE jobs SET message_id = ? WHERE id = ?", (message_id, job_id))
            if message_id is not None:
                await conn.execute(_RECORD_MESSAGE, (message_id, time.time(), job_id))

    async def mark_running(self, job_ids: list[int], now: float | None = None) -> None:
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? "
                "WHERE id = ? AND status = 'queued'",
                [(now, j) for j in job_ids],
            )

    async def requeue(self, job_ids: list[int], *, interrupted: bool = False) -> None:
        """Put running jobs back in the queue. `interrupted`: the bot stopped cleanly under them
        (shutdown), which is no fault of the job, so the attempt it started is given back."""
        give_back = 1 if interrupted else 0
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE jobs SET status = 'queued', attempts = MAX(0, attempts - ?) "
                "WHERE id = ? AND status = 'running'",
                [(give_back, j) for j in job_ids],
            )

    async def store_results(
        self, images: list[RenderedImage], job_ids: list[int], seconds: dict[int, float],
        now: float | None = None,
    ) -> list[int]:
        """Record rendered images and mark their jobs done, in one transaction.
        Returns the job ids that were still running (a cancelled job's images are dropped)."""
        now = time.time() if now is None else now
        stored = []
        async with self.db.transaction() as conn:
            for job_id in job_ids:
                cur = await conn.execute(
                    "UPDATE jobs SET status = 'done', finished_at = ?, render_seconds = ?, error = NULL "
                    "WHERE id = ? AND status = 'running'",
                    (now, seconds.get(job_id), job_id),
                )
                if cur.rowcount:
                    stored.append(job_id)
            for image in images:
                if image.job_id not in stored:
                    continue
                rel = str(Path(image.path).resolve().relative_to(self.data_dir.resolve()))
                await conn.execute(
                    "INSERT OR REPLACE INTO images (job_id, idx, seed, path, sha256, width, height, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (image.job_id, image.index, image.seed, rel, image.sha256, image.width, image.height, now),
                )
        return stored

    async def mark_delivered(self, job_id: int, message_id: int | None, now: float | None = None) -> None:
        """Delivered: the job's life is over, so its interaction token (a credential) goes too."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE jobs SET status = 'delivered', delivered_at = ?, message_id = COALESCE(?, message_id), "
                "interaction_token = NULL WHERE id = ? AND status = 'done'",
                (now, message_id, job_id),
            )
            if message_id is not None:
                await conn.execute(_RECORD_MESSAGE, (message_id, now, job_id))

    @staticmethod
    async def end(conn, job_id: int, status: JobStatus, error: str | None, now: float) -> bool:
        """End an active job (inside the caller's transaction). False if it had already ended.
        BLOCKED also ends a 'done' job: its images are stored but the safety check withheld them."""
        assert status in ENDINGS, status
        cursor = await conn.execute(
            f"UPDATE jobs SET status = ?, error = ?, finished_at = ?, interaction_token = NULL "
            f"WHERE id = ? AND (status IN {_ACTIVE} OR (status = 'done' AND ? = 'blocked'))",
            (status.value, error, now, job_id, status.value),
        )
        return cursor.rowcount > 0

    async def clear_expired_tokens(self, issued_before: float) -> int:
        """Forget interaction tokens issued before `issued_before` (they no longer work anyway)."""
        return await self.db.execute(
            "UPDATE jobs SET interaction_token = NULL WHERE interaction_token IS NOT NULL AND created_at < ?",
            (issued_before,),
        )

    async def images(self, job_id: int) -> list[StoredImage]:
        rows = await self.db.fetchall(
            "SELECT * FROM images WHERE job_id = ? ORDER BY idx", (job_id,)
        )
        return [
            StoredImage(
                job_id=r["job_id"], index=r["idx"], seed=r["seed"],
                path=str(self.data_dir / r["path"]), sha256=r["sha256"],
                width=r["width"], height=r["height"], pruned_at=r["pruned_at"],
            )
            for r in rows
        ]

    async def recent_render_rates(self, limit: int = 20) -> list[float]:
        """Seconds per unit of work (`work_units`) of recent renders, newest first (for ETAs)."""
        rows = await self.db.fetchall(
            "SELECT render_seconds, steps, strength, count, width, height FROM jobs "
            "WHERE render_seconds IS NOT NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            r["render_seconds"]
            / max(1e-9, work_units(r["width"], r["height"], denoising_steps(r["steps"], r["strength"]), r["count"]))
            for r in rows
        ]

    async def get_state(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set_state(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def mark_message_deleted(self, job_id: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        await self.db.execute("UPDATE jobs SET message_deleted_at = ? WHERE id = ?", (now, job_id))
