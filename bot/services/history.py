"""A member's job history (/history), showing a job again (/show) and a job's lineage (Info).

Pages are newest first, 10 jobs each, by keyset on the job id (`id < cursor`, never OFFSET): the
index (user_id, guild_id, id) gives any page with a short range scan. A search matches the prompt
through the FTS5 index `jobs_fts` (migration 0006): every word the member typed must appear, the
last one also as a prefix ("fox jum" finds "a fox jumping"). Measured at 100,000 jobs: see
`bot/bench/queue_costs.py` (`measure_history`). Plain SQL, no Discord.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from bot.database import Database
from bot.errors import NotAllowed, NotFound, ValidationError
from bot.i18n import N_
from bot.models import Job, JobKind, JobStatus, StoredImage
from bot.services.jobs import JobStore

PAGE_SIZE = 10
MAX_SEARCH = 200
MAX_LINEAGE = 10
_WORD = re.compile(r"\w+", re.UNICODE)
_COLUMNS = "j.id, j.kind, j.prompt, j.seed, j.width, j.height, j.count, j.status, j.created_at"


@dataclass(frozen=True)
class HistoryView:
    """One /history request: who looks at whose jobs in which server, searching for what."""

    id: int
    viewer_id: int
    member_id: int
    guild_id: int | None
    search: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    kind: JobKind
    prompt: str
    seed: int
    width: int
    height: int
    count: int
    status: JobStatus
    created_at: float


@dataclass(frozen=True)
class HistoryPage:
    view: HistoryView
    entries: list[HistoryEntry]
    has_newer: bool
    has_older: bool


@dataclass(frozen=True)
class JobDetails:
    """What the Info button shows besides the job itself."""

    job: Job
    render_seconds: float | None
    finished_at: float | None
    lineage: list[Job]  # parent first, then its parent, ...: re-rolls, variations and upscales


def fts_query(search: str) -> str | None:
    """An FTS5 MATCH expression for what the member typed: each word quoted (so no FTS syntax can
    be injected), all required, the last also as a prefix. None when it holds no word."""
    words = _WORD.findall(search.lower())[:12]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]
    if len(words[-1]) >= 3:  # a shorter prefix matches half the vocabulary: whole words only then
        quoted[-1] += "*"
    return " ".join(quoted)


def _entry(row) -> HistoryEntry:
    return HistoryEntry(row["id"], JobKind(row["kind"]), row["prompt"], row["seed"], row["width"],
                        row["height"], row["count"], JobStatus(row["status"]), row["created_at"])


class HistoryService:
    def __init__(self, db: Database, store: JobStore, clock=time.time):
        self.db = db
        self.store = store
        self.clock = clock

    async def open(self, viewer_id: int, member_id: int, guild_id: int | None, search: str = "",
                   *, is_moderator: bool = False) -> HistoryView:
        """A new view. Another member's history is for moderators only."""
        if member_id != viewer_id and not is_moderator:
            raise NotAllowed(N_("Only moderators can look at another member's history."))
        search = " ".join((search or "").split())
        if len(search) > MAX_SEARCH:
            raise ValidationError(N_("A search has at most {limit} characters.", limit=MAX_SEARCH))
        if search and fts_query(search) is None:
            raise ValidationError(N_("Search for words of the prompt (letters or digits)."))
        view_id = await self.db.insert(
            "INSERT INTO history_views (viewer_id, member_id, guild_id, search, created_at) VALUES (?,?,?,?,?)",
            (viewer_id, member_id, guild_id, search, self.clock()))
        assert view_id is not None
        return HistoryView(view_id, viewer_id, member_id, guild_id, search)

    async def view(self, view_id: int, viewer_id: int, guild_id: int | None, *,
                   is_moderator: bool = False) -> HistoryView:
        """A stored view, for its viewer, in the server it was opened in; another member's history
        still only while the viewer is a moderator there."""
        row = await self.db.fetchone("SELECT * FROM history_views WHERE id = ?", (view_id,))
        if row is None:
            raise NotFound(N_("This history list has expired: run /history again."))
        if row["viewer_id"] != viewer_id:
            raise NotAllowed(N_("This history list belongs to someone else: run /history yourself."))
        if row["guild_id"] != guild_id:
            raise NotAllowed(N_("This history list is from another server (or a DM): run /history here."))
        if row["member_id"] != viewer_id and not is_moderator:
            raise NotAllowed(N_("Only moderators can look at another member's history."))
        return HistoryView(row["id"], row["viewer_id"], row["member_id"], row["guild_id"], row["search"])

    async def page(self, view: HistoryView, *, older_than: int | None = None,
                   newer_than: int | None = None) -> HistoryPage:
        """The newest page (no cursor), the page before `older_than`, or the one after `newer_than`."""
        ascending = newer_than is not None
        cursor = newer_than if ascending else older_than
        rows = await self._select(view, cursor, ascending, PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        if ascending:
            rows.reverse()
        entries = [_entry(r) for r in rows]
        if not entries:
            return HistoryPage(view, [], False, False)
        if ascending:
            has_newer, has_older = more, bool(await self._select(view, entries[-1].id, False, 1))
        else:
            has_older, has_newer = more, bool(await self._select(view, entries[0].id, True, 1))
        return HistoryPage(view, entries, has_newer, has_older)

    async def _select(self, view: HistoryView, cursor: int | None, ascending: bool, limit: int) -> list:
        compare, order = (">", "ASC") if ascending else ("<", "DESC")
        args: list = [view.member_id, view.guild_id]
        if view.search:
            # FTS5 hands out its matches in rowid order (either way), so the newest matches come
            # first and LIMIT stops the walk as soon as the page is full; the member filter is one
            # primary-key lookup per match.
            where = ["jobs_fts MATCH ?", "j.user_id = ?", "j.guild_id IS ?"]
            args.insert(0, fts_query(view.search))
            if cursor is not None:
                where.append(f"f.rowid {compare} ?")
                args.append(cursor)
            sql = (f"SELECT {_COLUMNS} FROM jobs_fts f JOIN jobs j ON j.id = f.rowid WHERE {' AND '.join(where)} "
                   f"ORDER BY f.rowid {order} LIMIT ?")
        else:
            where = ["j.user_id = ?", "j.guild_id IS ?"]
            if cursor is not None:
                where.append(f"j.id {compare} ?")
                args.append(cursor)
            sql = (f"SELECT {_COLUMNS} FROM jobs j INDEXED BY jobs_by_user_guild WHERE {' AND '.join(where)} "
                   f"ORDER BY j.id {order} LIMIT ?")
        return await self.db.fetchall(sql, [*args, limit])

    # ---- /show and Info ----
    async def showable(self, job: Job, kept_days: int = 0) -> list[StoredImage]:
        """The images of `job` still on disk, for /show (whether the member may show it here is
        bot/services/authz.py's to say, before this); NotFound naming why there are none."""
        job_id = job.id
        if job.status not in (JobStatus.DONE, JobStatus.DELIVERED):
            raise NotFound(N_("Job #{job} has no images to show (it is {status}).", job=job_id,
                              status=job.status.value))
        images = await self.store.images(job.id)
        kept = [image for image in images if image.pruned_at is None and Path(image.path).is_file()]
        if not kept:
            if any(image.pruned_at is not None for image in images):
                policy = (N_("images are kept for {days} days", days=kept_days) if kept_days
                          else N_("the retention policy"))
                raise NotFound(N_("The images of job #{job} were removed ({policy}).", job=job_id, policy=policy))
            raise NotFound(N_("The images of job #{job} are no longer stored.", job=job_id))
        return kept

    async def details(self, job_id: int) -> JobDetails:
        job = await self.store.get(job_id)
        if job is None:
            raise NotFound(N_("That job no longer exists."))
        row = await self.db.fetchone("SELECT render_seconds, finished_at FROM jobs WHERE id = ?", (job_id,))
        lineage, parent_id, seen = list[Job](), job.parent_job_id, {job.id}
        while parent_id is not None and parent_id not in seen and len(lineage) < MAX_LINEAGE:
            parent = await self.store.get(parent_id)
            if parent is None:
                break
            lineage.append(parent)
            seen.add(parent.id)
            parent_id = parent.parent_job_id
        return JobDetails(job, row["render_seconds"], row["finished_at"], lineage)  # type: ignore[index]

