"""Credits: prices, periods, the debit at admission, refunds when a job ends, moderator changes,
and the ledger that agrees with the balances, against the real JobService and a scripted renderer."""
from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import datetime, timezone

import pytest

from bot import credits
from bot.config import load_settings
from bot.errors import AdmissionRefused, ConfigError, QuotaExceeded
from bot.models import GenerationRequest, JobStatus, Requester, RerollRequest
from bot.renderer.profiles import profile_for
from bot.services.admission import Admission
from bot.services.audit import AuditLog
from bot.services.lifecycle import JobService
from bot.services.quotas import Member, QuotaPolicy, QuotaService
from tests.ledger_check import ledger_disagreements
from tests.test_dispatcher import Harness


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- amounts, prices and periods ----

def test_credit_amounts_are_tenths_and_format_with_one_decimal():
    assert credits.parse_credits("12.5") == 125 and credits.parse_credits("50") == 500
    assert credits.parse_credits("unlimited", allow_unlimited=True) is None
    for bad in ("-1", "1.25", "nan", "lots"):
        with pytest.raises(ValueError):
            credits.parse_credits(bad)
    assert (credits.fmt(125), credits.fmt(0), credits.fmt(-35), credits.fmt(None)) == ("12.5", "0.0", "-3.5",
                                                                                        "unlimited")
    assert credits.partial(20, 3, 10) == 6 and credits.partial(20, 1, 3) == 7 and credits.partial(20, 0, 10) == 0


def test_a_default_image_costs_one_credit_and_the_price_follows_the_work():
    """Until this device's costs are measured, the documented defaults price (tests/test_prices.py
    covers measured tables): a per-step part and a per-image part that does not grow with steps."""
    admission = Admission(load_settings({"DISCORD_TOKEN": "t"}), profile_for("StableDiffusionXLPipeline"),
                          None, "sdxl")
    params = admission.validate(GenerationRequest(prompt="a fox"))
    assert (params.width, params.height, params.steps) == (1024, 1024, 30)
    assert admission.price(params) == 10
    assert admission.price(admission.validate(GenerationRequest(prompt="a fox", count=4))) == 40
    more = admission.price(admission.validate(GenerationRequest(prompt="a fox", steps=45)))
    assert 10 < more <= 15  # 1.5x the steps: at most 1.5x the price
    # To the nearest tenth: 31 of 30 steps is 1.03 default images -> 1.0, 32 steps 1.07 -> 1.1.
    assert admission.price(admission.validate(GenerationRequest(prompt="a fox", steps=31))) == 10
    assert admission.price(admission.validate(GenerationRequest(prompt="a fox", steps=32))) == 11
    wide = admission.validate(GenerationRequest(prompt="a fox", aspect="16:9"))  # 1344x768: a little fewer pixels
    assert admission.price(wide) == 10
    from dataclasses import replace
    variation = replace(params, strength=0.6)  # img2img runs int(30 x 0.6) = 18 steps
    assert 6 <= admission.price(variation) < 10  # 0.6 of the steps, and the whole per-image part


@pytest.mark.parametrize("period,hour,now,start,reset", [
    ("day", 0, "2025-03-10T15:30", "2025-03-10T00:00", "2025-03-11T00:00"),
    ("day", 6, "2025-03-10T05:59", "2025-03-09T06:00", "2025-03-10T06:00"),
    ("day", 6, "2025-03-10T06:00", "2025-03-10T06:00", "2025-03-11T06:00"),
    ("week", 0, "2025-03-12T10:00", "2025-03-10T00:00", "2025-03-17T00:00"),  # Wednesday: back to Monday
    ("week", 3, "2025-03-10T02:00", "2025-03-03T03:00", "2025-03-10T03:00"),  # Monday before the hour
    ("month", 0, "2025-02-28T23:00", "2025-02-01T00:00", "2025-03-01T00:00"),
    ("month", 12, "2025-01-01T11:00", "2024-12-01T12:00", "2025-01-01T12:00"),  # across a year
    ("month", 0, "2024-12-31T23:59", "2024-12-01T00:00", "2025-01-01T00:00"),
])
def test_periods_reset_at_fixed_utc_boundaries(period, hour, now, start, reset):
    assert credits.period_start(ts(now), period, hour) == ts(start)
    assert credits.next_reset(ts(now), period, hour) == ts(reset)


def test_quota_settings_are_validated_with_one_line_errors():
    s = load_settings({"DISCORD_TOKEN": "t"})
    assert (s.quota_credits, s.quota_period, s.quota_reset_hour, s.quota_role_credits) == (500, "day", 0, ())
    s = load_settings({"DISCORD_TOKEN": "t", "QUOTA_CREDITS": "unlimited", "QUOTA_PERIOD": "week",
                       "QUOTA_RESET_HOUR": "23", "QUOTA_ROLE_CREDITS": "123:200, 456:0,789:unlimited"})
    assert (s.quota_credits, s.quota_period, s.quota_reset_hour) == (None, "week", 23)
    assert s.quota_role_credits == ((123, 2000), (456, 0), (789, None))
    for name, value in [("QUOTA_CREDITS", "-5"), ("QUOTA_CREDITS", "many"), ("QUOTA_PERIOD", "year"),
                        ("QUOTA_RESET_HOUR", "24"), ("QUOTA_ROLE_CREDITS", "123"),
                        ("QUOTA_ROLE_CREDITS", "abc:5"), ("QUOTA_ROLE_CREDITS", "123:lots")]:
        with pytest.raises(ConfigError, match=name) as err:
            load_settings({"DISCORD_TOKEN": "t", name: value})
        assert "\n" not in str(err.value)


def test_role_tiers_give_the_highest_of_a_members_roles():
    policy = QuotaPolicy(500, role_credits=((1, 2000), (2, 0), (3, None)))
    assert policy.tier(frozenset()) == 500
    assert policy.tier(frozenset({2})) == 0  # a tier may be below the default
    assert policy.tier(frozenset({1, 2})) == 2000
    assert policy.tier(frozenset({1, 3})) is None  # unlimited beats any number


# ---- through JobService ----

class QuotaHarness(Harness):
    """The dispatcher harness with quotas: `credits` per day by default, a movable clock."""

    def __init__(self, tmp_path, credits_per_day="2", **dispatch):
        super().__init__(tmp_path, **dispatch)
        self.credits_per_day = credits_per_day
        self.clock = Clock(ts("2025-03-10T12:00"))

    async def __aenter__(self):
        await super().__aenter__()
        settings = load_settings({"DISCORD_TOKEN": "t", "DATA_DIR": str(self.tmp_path), "MAX_QUEUED_PER_USER": "20",
                                  "QUOTA_CREDITS": self.credits_per_day})
        self.dispatcher.clock = self.clock
        self.audit = AuditLog(self.db)
        self.quotas = QuotaService(self.db, QuotaPolicy.from_settings(settings), self.audit, clock=self.clock)
        self.jobs = JobService(self.admission, self.store, self.dispatcher, clock=self.clock, quotas=self.quotas)
        return self

    async def ask(self, prompt, user=1, **kw):
        """One default image (25 steps of the 64 px profile): 1.0 credit."""
        return await self.submit(prompt, user=user, **{"steps": 25, **kw})

    async def account(self, user=1):
        return (await self.quotas.status(Member(0, user))).account

    async def ledger(self, user=1):
        rows = await self.db.fetchall("SELECT kind, amount, job_id FROM quota_ledger WHERE user_id = ? ORDER BY id",
                                      (user,))
        return [(r["kind"], r["amount"], r["job_id"]) for r in rows]

    def agree(self):
        assert ledger_disagreements(self.tmp_path / "db.sqlite3") == []


async def test_five_concurrent_requests_with_credits_for_two_admit_exactly_two(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="2") as h:
        results = await asyncio.gather(*(h.ask(f"fox {n}") for n in range(5)), return_exceptions=True)
        admitted = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, QuotaExceeded)]
        assert (len(admitted), len(refused)) == (2, 3)
        assert "you have 0.0 left" in refused[0].user_message and "reset in 12 h 0 min (00:00 UTC)" in \
            refused[0].user_message
        assert len(await h.db.fetchall("SELECT id FROM jobs")) == 2, "a refused request queues nothing"
        assert (await h.account()).used == 20
        h.agree()


async def test_the_first_reply_knows_the_price_and_what_is_left(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="5") as h:
        job = await h.ask("fox", count=2)
        assert (job.cost, job.charged, job.balance_left) == (20, 20, 30)


async def test_a_refund_gives_back_what_was_charged_even_after_the_prices_changed(tmp_path):
    from bot.prices import PriceTable, TaskCost

    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        job = await h.ask("never mind", steps=50)  # twice the default's steps: nearly twice its price
        charged = job.charged
        assert 15 < charged <= 20
        # A cost measurement finishes while the job waits: on this device half a default image's time
        # is per image (VAE, PNG), so twice the steps cost only 1.5x from now on.
        h.admission.prices.update(PriceTable({"txt2img": TaskCost(1.0, 25.0)}, measured_at=1.0))
        assert h.admission.price(job.params) == 15
        assert (await h.store.get(job.id)).charged == charged
        assert await h.jobs.cancel(job)
        assert await h.ledger() == [("debit", -charged, job.id), ("refund", charged, job.id)]
        assert (await h.account()).used == 0
        h.agree()


async def test_a_double_click_is_charged_once(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        await h.start()
        parent = await h.ask("a fox")
        assert (await h.settle(parent.id))[0].status == JobStatus.DELIVERED
        requester = Requester(user_id=2, channel_id=10)

        async def acknowledge(job, position, eta):
            return 1

        clicks = await asyncio.gather(*(h.jobs.submit(requester, RerollRequest(parent.id), acknowledge)
                                        for _ in range(2)), return_exceptions=True)
        assert sorted(type(c).__name__ for c in clicks) == ["AdmissionRefused", "Job"]
        assert isinstance([c for c in clicks if isinstance(c, Exception)][0], AdmissionRefused)
        assert (await h.account(2)).used == 10
        assert [k for k, _, _ in await h.ledger(2)] == ["debit"]
        h.agree()


async def test_a_full_queue_refuses_without_charging(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        h.admission.settings = load_settings({"DISCORD_TOKEN": "t", "MAX_QUEUED_PER_USER": "1"})
        await h.ask("first")
        with pytest.raises(AdmissionRefused, match="already have 1"):
            await h.ask("second")
        assert (await h.account()).used == 10
        h.agree()


async def test_failed_expired_blocked_and_cancelled_before_start_cost_nothing(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="10", max_attempts=1, job_max_age=60) as h:
        failed = await h.ask("oom please")
        expired = await h.ask("too old", user=2)
        cancelled = await h.ask("never mind", user=3)
        blocked = await h.ask("forbidden", user=4)
        await h.db.execute("UPDATE jobs SET created_at = created_at - 120 WHERE id = ?", (expired.id,))
        expired.created_at -= 120
        assert await h.jobs.cancel(cancelled)
        # the safety filter's path: a fake filter ends the job as blocked through the one end
        assert await h.jobs.end(blocked, JobStatus.BLOCKED, "Blocked by the content filter.")
        await h.start()
        await h.settle(failed.id, expired.id, cancelled.id)
        for user, job in ((1, failed), (2, expired), (3, cancelled), (4, blocked)):
            assert (await h.store.get(job.id)).status in (JobStatus.FAILED, JobStatus.EXPIRED, JobStatus.CANCELLED,
                                                          JobStatus.BLOCKED)
            assert (await h.account(user)).used == 0, f"user {user} was charged for job {job.id}"
            assert await h.ledger(user) == [("debit", -10, job.id), ("refund", 10, job.id)]
        h.agree()


async def test_a_job_cancelled_while_rendering_pays_for_the_steps_it_used(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        await h.start()
        job = await h.ask("slow and long", steps=50, count=2)  # about 4 credits, 0.05 s a step
        assert job.charged == h.jobs.admission.price(job.params) and 36 <= job.charged <= 40
        for _ in range(500):
            progress = h.dispatcher.progress(job.id)
            if progress and progress[0] >= 10:
                break
            await asyncio.sleep(0.01)
        assert await h.jobs.cancel(job)
        (done,) = await h.settle(job.id)
        (debit, refund) = await h.ledger()
        kept = job.charged - refund[1]
        assert done.status == JobStatus.CANCELLED and (await h.account()).used == kept
        assert 8 <= kept <= 12, f"{kept} tenths kept for about 10 of 50 steps"  # 10/50 of 4.0 = 0.8, plus a step
        row = await h.db.fetchone("SELECT charged, refunded FROM jobs WHERE id = ?", (job.id,))
        assert (row["charged"], row["refunded"]) == (job.charged, job.charged - kept)
        h.agree()


async def test_delivered_jobs_stay_charged_and_balances_survive_a_restart(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        await h.start()
        job = await h.ask("a fox")
        await h.settle(job.id)
        assert (await h.store.get(job.id)).status == JobStatus.DELIVERED
    async with QuotaHarness(tmp_path, credits_per_day="10") as h:
        assert (await h.account()).used == 10
        assert await h.ledger() == [("debit", -10, job.id)]


async def test_a_new_period_resets_usage_and_keeps_unspent_bonus(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="2") as h:
        await h.quotas.grant(99, Member(0, 1, frozenset()), 15, "helping out")
        for n in range(3):
            await h.ask(f"fox {n}")
        with pytest.raises(QuotaExceeded):
            await h.ask("one too many", count=2)
        assert ((await h.account()).used, (await h.account()).available) == (30, 5)
        h.clock.now = ts("2025-03-11T00:00")  # midnight UTC: a new day
        account = await h.account()
        assert (account.used, account.bonus, account.available) == (0, 5, 25)
        kinds = [k for k, _, _ in await h.ledger()]
        assert kinds == ["grant", "debit", "debit", "debit", "period"]
        await h.ask("a new day", count=2)
        h.agree()


async def test_moderator_changes_are_ledgered_audited_and_announced(tmp_path):
    async with QuotaHarness(tmp_path, credits_per_day="5") as h:
        alice = Member(0, 1, frozenset())
        await h.ask("fox")
        change = await h.quotas.set_allowance(7, alice, 20)
        assert (change.before.allowance, change.after.allowance, change.after.available) == (50, 20, 10)
        await h.quotas.grant(7, alice, -400, "spam")  # never below zero
        assert (await h.account()).available == 0
        await h.quotas.reset(7, alice)
        assert (await h.account()).available == 10
        await h.quotas.set_allowance(7, alice, None)
        assert (await h.account()).available == 40
        audit = await h.audit.page(0, target_id=1)
        assert [e.action for e in audit.entries] == ["quota set", "quota reset", "quota grant", "quota set"]
        assert audit.entries[2].reason == "spam" and audit.entries[3].before == "5.0 per day (default)"
        notices = await h.audit.take_notices(0, 1, h.clock())
        assert notices[1] == "A moderator took 1.0 credits from you: spam"
        assert await h.audit.take_notices(0, 1, h.clock()) == [], "a notice is shown once"
        h.agree()


async def test_balances_and_the_ledger_never_disagree_whatever_happens(tmp_path):
    """Random admissions, endings, moderator changes and period ends, checked after every step."""
    async with QuotaHarness(tmp_path, credits_per_day="3", job_max_age=3600) as h:
        rng = random.Random(7)
        members = {u: Member(0, u, frozenset()) for u in (1, 2, 3)}
        live = []
        for _ in range(120):
            user = rng.choice(list(members))
            action = rng.random()
            if action < 0.4:
                with contextlib.suppress(QuotaExceeded, AdmissionRefused):
                    live.append(await h.ask(f"fox {rng.random()}", user=user, count=rng.randint(1, 3)))
            elif action < 0.6 and live:
                job = live.pop(rng.randrange(len(live)))
                status = rng.choice([JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.BLOCKED])
                await h.jobs.end(job, status, "ended")
            elif action < 0.7:
                await h.quotas.grant(9, members[user], rng.randint(-40, 40), None)
            elif action < 0.75:
                await h.quotas.set_allowance(9, members[user], rng.choice([None, 0, 10, 50]))
            elif action < 0.8:
                await h.quotas.reset(9, members[user])
            elif action < 0.9:
                h.clock.now += rng.choice([3600, 6 * 3600, 86400])
            else:
                await h.quotas.status(members[user])
            h.agree()
        assert len(await h.db.fetchall("SELECT id FROM quota_ledger")) > 50


async def test_the_bench_measures_admission_with_and_without_quotas_in_one_run():
    from bot.bench.queue_costs import measure_quota_admission

    result = await measure_quota_admission(queued=200, pairs=10, members=3)
    assert set(result) == {"with_p50", "with_p99", "without_p50", "without_p99"}
    assert all(value > 0 for value in result.values())


def test_every_quota_setting_is_documented():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    example, readme = (root / ".env.example").read_text(), (root / "README.md").read_text()
    for name in ("QUOTA_CREDITS", "QUOTA_PERIOD", "QUOTA_RESET_HOUR", "QUOTA_ROLE_CREDITS"):
        assert f"\n{name}=" in example and f"`{name}`" in readme, name


def test_reset_times_read_the_same_everywhere():
    now = ts("2025-03-10T12:00")
    assert credits.until(ts("2025-03-11T00:00"), now) == "in 12 h 0 min (00:00 UTC)"
    assert credits.until(ts("2025-03-10T12:20"), now) == "in 20 min (12:20 UTC)"
    assert credits.until(ts("2025-03-17T00:00"), now) == "in 6 days 12 h (Mon 17 Mar 00:00 UTC)"
    assert credits.until(ts("2025-04-01T12:00"), now) == "in 22 days (Tue 1 Apr 12:00 UTC)"
