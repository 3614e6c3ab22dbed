"""Queue-side costs for `python -m bot bench` (no renderer): picking the next job, recovering a
long queue at start-up, and one /imagine's admission while the queue is long.

Each one must not grow with the queue (DEVELOPERS guide: measure at 10,000 queued).
"""
from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from contextlib import asynccontextmanager
from pathlib import Path

from bot.models import GenerationRequest, Job, JobKind, JobParams, JobStatus, Priority, Requester


def bench_job(job_id: int, user: int) -> Job:
    return Job(id=job_id, kind=JobKind.IMAGINE, requester=Requester(user_id=user, channel_id=1),
               params=JobParams(prompt="a cat", negative_prompt="", aspect="1:1", width=512, height=512,
                                steps=25, guidance=7.0, count=1, seed=job_id, model="m"),
               priority=Priority.INTERACTIVE, status=JobStatus.QUEUED, created_at=time.time())


def measure_pick_time(queued: int = 10_000, picks: int = 1000) -> tuple[float, float]:
    """(seconds per pop_batch with `queued` waiting, MiB the queue holds)."""
    from bot.scheduler import FairScheduler

    tracemalloc.start()
    sched = FairScheduler()
    sched.push_many(bench_job(i + 1, user=i % 700) for i in range(queued + picks))
    memory = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    started = time.perf_counter()
    for _ in range(picks):  # every pick sees >= `queued` jobs waiting
        sched.pop_batch(4)
    return (time.perf_counter() - started) / picks, memory


class _Silent:
    """JobEvents that count the edits the bot would make."""

    def __init__(self):
        self.edits = 0

    async def waiting(self, job, position, eta):
        self.edits += 1

    async def rendering(self, job, step, total, eta):
        self.edits += 1

    async def deliver(self, job, images):
        return None

    async def ended(self, job, status, message):
        self.edits += 1


def _percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p99) of `values`."""
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]


@asynccontextmanager
async def _queued_database(queued: int, **env: str):
    """(settings, db, store, admission) over a fresh database with `queued` SDXL-sized jobs waiting
    (700 members, server 1), the way a long queue looks after a busy evening."""
    from bot.config import load_settings
    from bot.database import Database
    from bot.renderer.profiles import profile_for
    from bot.services.admission import Admission
    from bot.services.jobs import JobStore

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = load_settings({"DISCORD_TOKEN": "bench", "DATA_DIR": str(data), "MAX_QUEUED_PER_USER": "1000",
                                  "MAX_QUEUE_SIZE": "100000", **env}, dotenv=False)
        db = await Database(settings.db_path).connect()
        try:
            store = JobStore(db, data)
            admission = Admission(settings, profile_for("StableDiffusionXLPipeline", 1024), store, "bench")
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, prompt, negative_prompt, aspect,"
                    " width, height, steps, guidance, count, seed, model, priority, status, created_at)"
                    " VALUES ('imagine', 'txt2img', ?, 1, 1, 'a cat', '', '1:1', 1024, 1024, 30, 6.0, 1, 1, 'bench',"
                    " 1, 'queued', ?)", [(n % 700, time.time()) for n in range(queued)])
            yield settings, db, store, admission
        finally:
            await db.close()


async def _no_reply(job, position, eta):
    """The Discord reply, as a no-op: what is measured is the bot's own work."""
    return None


async def measure_queue_costs(queued: int = 10_000, submits: int = 200) -> dict[str, float]:
    """With `queued` jobs in SQLite: seconds to recover them at start-up (and the edits that
    causes), then p50/p99 seconds of one /imagine through JobService.submit (validation, the
    conditional INSERT, queueing and its place in line; the Discord reply is a no-op here)."""
    import asyncio

    from bot.scheduler import FairScheduler
    from bot.services.dispatcher import Dispatcher, DispatchSettings
    from bot.services.lifecycle import JobService

    async with _queued_database(queued) as (settings, db, store, admission):
        events = _Silent()
        dispatcher = Dispatcher(store, FairScheduler(), [], events, DispatchSettings(images_dir=settings.images_dir))
        jobs = JobService(admission, store, dispatcher)
        started = time.perf_counter()
        await dispatcher.recover()
        recovery = time.perf_counter() - started
        await asyncio.sleep(0.1)  # let the position edits it posted run
        took = []
        for n in range(submits):
            requester = Requester(user_id=10_000 + n, channel_id=1)
            started = time.perf_counter()
            await jobs.submit(requester, GenerationRequest(prompt="a fox in the snow"), _no_reply)
            took.append(time.perf_counter() - started)
        p50, p99 = _percentiles(took)
        return {"recovery": recovery, "recovery_edits": events.edits, "submit_p50": p50, "submit_p99": p99}


async def measure_quota_admission(queued: int = 10_000, pairs: int = 300, members: int = 200) -> dict[str, float]:
    """One /imagine's admission (JobService.submit) with quotas and without, in the same run and
    database: `queued` jobs waiting and a ledger of a day's use already there; the two alternate
    (one of each per pair) so that load on the machine hits both alike. With quotas it is one
    BEGIN IMMEDIATE transaction: the account upsert, the conditional debit, the conditional job
    INSERT and the ledger row; without, the one conditional INSERT."""
    from bot.scheduler import FairScheduler
    from bot.services.audit import AuditLog
    from bot.services.dispatcher import Dispatcher, DispatchSettings
    from bot.services.lifecycle import JobService
    from bot.services.quotas import QuotaPolicy, QuotaService

    async with _queued_database(queued, QUOTA_CREDITS="100000") as (settings, db, store, admission):
        now = time.time()
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO quota_ledger (guild_id, user_id, kind, amount, used_after, bonus_after, balance_after,"
                " created_at) VALUES (1, ?, 'debit', -10, 10, 0, 990, ?)", [(n % 700, now) for n in range(queued)])
        dispatcher = Dispatcher(store, FairScheduler(), [], _Silent(), DispatchSettings(images_dir=settings.images_dir))
        await dispatcher.recover()
        quotas = QuotaService(db, QuotaPolicy.from_settings(settings), AuditLog(db))
        services = {"without": JobService(admission, store, dispatcher),
                    "with": JobService(admission, store, dispatcher, quotas=quotas)}
        took: dict[str, list[float]] = {"without": [], "with": []}
        for n in range(pairs):
            for name in (("without", "with") if n % 2 else ("with", "without")):
                requester = Requester(user_id=n % members, channel_id=1, guild_id=1)
                started = time.perf_counter()
                await services[name].submit(requester, GenerationRequest(prompt="a fox in the snow"), _no_reply)
                took[name].append(time.perf_counter() - started)
        charged = await db.fetchone("SELECT COUNT(*) FROM quota_ledger WHERE job_id IS NOT NULL")
        assert charged[0] == pairs, "every admission with quotas wrote its debit"
        out = {}
        for name, values in took.items():
            out[f"{name}_p50"], out[f"{name}_p99"] = _percentiles(values)
        return out


async def measure_history(jobs: int = 100_000, runs: int = 30) -> dict[str, float]:
    """/history at `jobs` jobs in SQLite (200 members; one prolific member owns a tenth of them): the
    p50 seconds of one page through HistoryService.page (the SQL the command runs), for the first
    page, a page deep in the member's history, and searches (FTS5): a word in 10% of all prompts
    that the member used, the same word for a member who never used it (the walk over every match:
    the worst case), and a rare word."""
    import random

    from bot.database import Database
    from bot.services.history import HistoryService, HistoryView
    from bot.services.jobs import JobStore

    rnd = random.Random(1)
    vocabulary = [f"w{n}" for n in range(3000)]
    rows = []
    for n in range(jobs):
        user = 1 if n % 10 == 0 else 2 + n % 199
        words = [rnd.choice(vocabulary[:50]) if rnd.random() < 0.3 else rnd.choice(vocabulary) for _ in range(8)]
        if n % 10 == 0 or n % 10 == 3:
            words.append("lighthouse")  # in 20% of prompts: every one of member 1's, none of member 2's
        if n % 1000 == 7:
            words.append("zebra")
        rows.append((user, " ".join(words), n))
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database(Path(tmp) / "db.sqlite3").connect()
        try:
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, prompt, negative_prompt, aspect,"
                    " width, height, steps, guidance, count, seed, model, priority, status, created_at)"
                    " VALUES ('imagine', 'txt2img', ?, 5, 1, ?, '', '1:1', 1024, 1024, 30, 6.0, 1, ?, 'bench', 1,"
                    " 'delivered', 0)", rows)
            history = HistoryService(db, JobStore(db, Path(tmp)))

            async def p50(member: int, search: str = "", **cursor) -> float:
                view = HistoryView(1, member, member, 5, search)
                took = []
                for _ in range(runs):
                    started = time.perf_counter()
                    await history.page(view, **cursor)
                    took.append(time.perf_counter() - started)
                return statistics.median(took)

            return {
                "first_page": await p50(1),
                "deep_page": await p50(1, older_than=jobs // 2),
                "search_common": await p50(1, "lighthouse"),
                "search_common_unused": await p50(2, "lighthouse"),
                "search_rare": await p50(1, "zebra"),
            }
        finally:
            await db.close()
