"""Credits per member and server: the debit at admission, refunds when a job ends, the ledger,
and the moderator's quota tools. Discord-free; amounts are tenths of a credit (bot/credits.py).

An account holds `used` (this period), `bonus` (one-off grants, negative when credits were taken
away) and an optional moderator-set `allowance`; what a member has left is
allowance + bonus - used (0 if that is negative). Every change goes through `_apply`, which writes the account and its
ledger row in the caller's transaction, so the two cannot disagree.

The debit is one conditional UPDATE inside the transaction that inserts the job (JobService.submit
via Admission.admit): concurrent requests are serialized by BEGIN IMMEDIATE and each one either
fits what is left or changes nothing; a refused insert (queue full, a double click's duplicate)
rolls its debit back with it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot import credits
from bot.config import Settings
from bot.credits import fmt
from bot.database import Database
from bot.errors import QuotaExceeded
from bot.i18n import N_
from bot.models import JobStatus, Requester
from bot.services.audit import AuditLog
from bot.words import period

LEDGER_KINDS = ("debit", "refund", "grant", "set", "reset", "period")
DM_GUILD = 0  # the accounts of DM jobs: each member's own bucket, apart from every server's


@dataclass(frozen=True)
class QuotaPolicy:
    credits: int | None  # QUOTA_CREDITS in tenths; None: quotas are off
    period: str = "day"
    reset_hour: int = 0
    role_credits: tuple[tuple[int, int | None], ...] = ()  # (role id, tenths or None = no limit)
    # DM jobs (ALLOW_DMS=true): each member's own bucket (guild 0), DM_QUOTA_CREDITS per day.
    dms: bool = False
    dm_credits: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotaPolicy:
        return cls(settings.quota_credits, settings.quota_period, settings.quota_reset_hour,
                   settings.quota_role_credits, settings.allow_dms, settings.dm_quota_credits)

    @property
    def enabled(self) -> bool:
        return self.credits is not None or (self.dms and self.dm_credits is not None)

    def enabled_for(self, guild_id: int) -> bool:
        """Whether jobs there cost credits (a server, or DM_GUILD for DMs)."""
        return (self.dms and self.dm_credits is not None) if guild_id == DM_GUILD else self.credits is not None

    def period_of(self, guild_id: int) -> str:
        """DMs count per day whatever QUOTA_PERIOD says (DM_QUOTA_CREDITS is a daily allowance)."""
        return "day" if self.dms and guild_id == DM_GUILD else self.period

    def tier(self, role_ids: frozenset[int], guild_id: int | None = None) -> int | None:
        """The highest allowance among the member's tier roles (None beats any number), else the
        default; in DMs (no roles there) DM_QUOTA_CREDITS."""
        if self.dms and guild_id == DM_GUILD:
            return self.dm_credits
        tiers = [amount for role, amount in self.role_credits if role in role_ids]
        if not tiers:
            return self.credits
        return None if None in tiers else max(tiers)  # type: ignore[type-var]


@dataclass(frozen=True)
class Member:
    guild_id: int
    user_id: int
    role_ids: frozenset[int] | None = None  # None: not known here (the tier last seen stays)

    @classmethod
    def of(cls, requester: Requester) -> Member:
        return cls(requester.guild_id or 0, requester.user_id, requester.role_ids)


@dataclass(frozen=True)
class Account:
    guild_id: int
    user_id: int
    period_start: float
    used: int
    bonus: int
    override: int | None  # set by a moderator
    tier: int | None  # from roles or QUOTA_CREDITS; None: no limit

    @property
    def allowance(self) -> int | None:
        return self.override if self.override is not None else self.tier

    @property
    def available(self) -> int | None:
        """What is left; never below zero, also when a moderator or a role change lowered the
        allowance under what was already used this period."""
        return None if self.allowance is None else max(0, self.allowance + self.bonus - self.used)

    @classmethod
    def from_row(cls, row) -> Account:
        return cls(row["guild_id"], row["user_id"], row["period_start"], row["used"], row["bonus"],
                   row["allowance"], row["tier"])


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    kind: str
    amount: int
    balance_after: int | None
    job_id: int | None
    moderator_id: int | None
    reason: str | None
    created_at: float


@dataclass(frozen=True)
class QuotaStatus:
    account: Account
    period: str
    resets_at: float
    entries: list[LedgerEntry]


@dataclass(frozen=True)
class Charge:
    """A debit done in an open transaction, waiting for its job id to be written to the ledger."""

    account: Account  # after the debit
    amount: int


@dataclass(frozen=True)
class QuotaChange:
    before: Account
    after: Account


class QuotaService:
    def __init__(self, db: Database, policy: QuotaPolicy, audit: AuditLog,
                 clock: Callable[[], float] = time.time):
        self.db = db
        self.policy = policy
        self.audit = audit
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.policy.enabled

    def resets_at(self, now: float, guild_id: int | None = None) -> float:
        period = self.policy.period if guild_id is None else self.policy.period_of(guild_id)
        return credits.next_reset(now, period, self.policy.reset_hour)

    # ---- the account, inside a transaction ----
    async def _touch(self, conn, member: Member, now: float) -> Account:
        """The member's account, created if new, with the tier of the roles given, and reset first if
        its period is over (a "period" ledger row)."""
        start = credits.period_start(now, self.policy.period_of(member.guild_id), self.policy.reset_hour)
        known = member.role_ids is not None or (self.policy.dms and member.guild_id == DM_GUILD)
        tier = self.policy.tier(member.role_ids or frozenset(), member.guild_id)
        (row,) = await conn.execute_fetchall(
            "INSERT INTO quota_accounts (guild_id, user_id, period_start, tier) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET tier = CASE WHEN ? THEN excluded.tier ELSE tier END "
            "RETURNING *", (member.guild_id, member.user_id, start, tier, known))
        account = Account.from_row(row)
        if account.period_start >= start:
            return account
        # A new period: usage starts again; unspent bonus carries over (the allowance is spent
        # first), credits taken away do not.
        left = account.available
        carried = max(0, account.bonus if left is None else min(account.bonus, left))
        if account.used == 0 and carried == account.bonus:
            await conn.execute("UPDATE quota_accounts SET period_start = ? WHERE guild_id = ? AND user_id = ?",
                               (start, member.guild_id, member.user_id))
            return replace(account, period_start=start)
        return await self._apply(conn, account, "period", used=0, bonus=carried, now=now,
                                 period_start=start, reason="new period")

    async def _apply(self, conn, before: Account, kind: str, *, now: float, used: int | None = None,
                     bonus: int | None = None, override: int | None | bool = False, period_start: float | None = None,
                     job_id: int | None = None, moderator_id: int | None = None,
                     reason: str | None = None) -> Account:
        """Write the account's new values and their ledger row (override=False: unchanged)."""
        after = replace(
            before,
            used=before.used if used is None else used,
            bonus=before.bonus if bonus is None else bonus,
            override=before.override if override is False else override,
            period_start=before.period_start if period_start is None else period_start,
        )
        await conn.execute(
            "UPDATE quota_accounts SET used = ?, bonus = ?, allowance = ?, period_start = ? "
            "WHERE guild_id = ? AND user_id = ?",
            (after.used, after.bonus, after.override, after.period_start, before.guild_id, before.user_id))
        await self._ledger(conn, after, kind, _amount(before, after, kind), now, job_id, moderator_id, reason)
        return after

    @staticmethod
    async def _ledger(conn, after: Account, kind: str, amount: int, now: float, job_id: int | None = None,
                      moderator_id: int | None = None, reason: str | None = None) -> None:
        await conn.execute(
            "INSERT INTO quota_ledger (guild_id, user_id, kind, amount, used_after, bonus_after, balance_after,"
            " job_id, moderator_id, reason, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (after.guild_id, after.user_id, kind, amount, after.used, after.bonus, after.available, job_id,
             moderator_id, reason, now))

    # ---- admission and endings (JobService) ----
    async def debit(self, conn, requester: Requester, amount: int, now: float) -> Charge:
        """Take `amount` from the requester's credits in the caller's transaction, or raise
        QuotaExceeded (nothing changed). One conditional UPDATE: it never takes more than is left."""
        member = Member.of(requester)
        account = await self._touch(conn, member, now)
        rows = await conn.execute_fetchall(
            "UPDATE quota_accounts SET used = used + ?1 WHERE guild_id = ?2 AND user_id = ?3"
            " AND (COALESCE(allowance, tier) IS NULL OR used + ?1 <= COALESCE(allowance, tier) + bonus)"
            " RETURNING *", (amount, member.guild_id, member.user_id))
        if not rows:
            raise QuotaExceeded(self._refusal(account, amount, now))
        return Charge(Account.from_row(rows[0]), amount)

    async def check(self, requester: Requester, amount: int, now: float) -> None:
        """Raise QuotaExceeded if the requester's credits cannot cover `amount` now; charges nothing
        (a check before costly work; `debit` decides for real)."""
        async with self.db.transaction() as conn:  # a period reset may be due
            account = await self._touch(conn, Member.of(requester), now)
        if account.available is not None and amount > account.available:
            raise QuotaExceeded(self._refusal(account, amount, now))

    async def record_debit(self, conn, charge: Charge, job_id: int, now: float) -> None:
        """The debit's ledger row, once the job it paid for has its id (same transaction)."""
        await self._ledger(conn, charge.account, "debit", -charge.amount, now, job_id=job_id)

    def _refusal(self, account: Account, amount: int, now: float) -> str:
        left = max(0, account.available or 0)
        when = credits.until(self.resets_at(now, account.guild_id), now)
        if account.allowance == 0 and account.bonus <= 0:
            return N_("You have no credits for images here. Your credits reset {when}; a moderator can grant some.",
                      when=when)
        return N_("This costs {cost} credits and you have {left} left (used {used} of {allowance} this {period}). "
                  "Your credits reset {when}.", cost=fmt(amount), left=fmt(left), used=fmt(account.used),
                  allowance=fmt(account.allowance), period=period(self.policy.period_of(account.guild_id)), when=when)

    async def refund(self, conn, job_id: int, status: JobStatus, progress: tuple[int, int] | None,
                     now: float) -> int:
        """Give back what a job that ended undelivered should not cost (in JobService.end's
        transaction): everything, except for a job cancelled while rendering, which pays for the
        steps it used. Returns the tenths given back."""
        rows = await conn.execute_fetchall(
            "SELECT COALESCE(guild_id, 0) AS guild_id, user_id, charged, refunded FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return 0
        row = rows[0]
        keep = 0
        if status is JobStatus.CANCELLED and progress is not None:
            keep = credits.partial(row["charged"], *progress)
        owed = row["charged"] - row["refunded"] - keep
        if owed <= 0:
            return 0
        await conn.execute("UPDATE jobs SET refunded = refunded + ? WHERE id = ?", (owed, job_id))
        account = await self._touch(conn, Member(row["guild_id"], row["user_id"]), now)
        # Back into this period's usage; what the period reset already forgot comes back as bonus.
        back_to_used = min(owed, account.used)
        reason = f"kept {fmt(keep)} for the steps rendered" if keep else None
        await self._apply(conn, account, "refund", used=account.used - back_to_used,
                          bonus=account.bonus + owed - back_to_used, job_id=job_id, now=now, reason=reason)
        return owed

    # ---- reading ----
    async def status(self, member: Member, entries: int = 5) -> QuotaStatus:
        now = self.clock()
        async with self.db.transaction() as conn:  # a period reset may be due
            account = await self._touch(conn, member, now)
            rows = await conn.execute_fetchall(
                "SELECT * FROM quota_ledger WHERE guild_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
                (member.guild_id, member.user_id, entries))
        return QuotaStatus(account, self.policy.period_of(member.guild_id), self.resets_at(now, member.guild_id), [
            LedgerEntry(r["id"], r["kind"], r["amount"], r["balance_after"], r["job_id"], r["moderator_id"],
                        r["reason"], r["created_at"]) for r in rows])

    # ---- moderator tools (each audited, and announced to the member) ----
    async def set_allowance(self, moderator_id: int, member: Member, allowance: int | None) -> QuotaChange:
        """The member's allowance per period from now on; None: back to the default (role tier or QUOTA_CREDITS)."""
        now = self.clock()
        per = f"per {self.policy.period}"
        async with self.db.transaction() as conn:
            before = await self._touch(conn, member, now)
            after = await self._apply(conn, before, "set", override=allowance, moderator_id=moderator_id, now=now)
            word = period(self.policy.period)
            if allowance is None:
                text = N_("A moderator set your allowance back to the default: {credits} credits per {period}.",
                          credits=fmt(after.allowance), period=word)
            else:
                text = N_("A moderator set your allowance to {credits} credits per {period}.", credits=fmt(allowance),
                          period=word)
            await self._audit(conn, moderator_id, member, "quota set", _allowance_text(before, per),
                              _allowance_text(after, per), None, text, now)
        return QuotaChange(before, after)

    async def grant(self, moderator_id: int, member: Member, amount: int, reason: str | None) -> QuotaChange:
        """A one-off bonus; a negative amount takes credits away, never below zero left."""
        now = self.clock()
        async with self.db.transaction() as conn:
            before = await self._touch(conn, member, now)
            floor = before.available if before.available is not None else max(0, before.bonus)
            applied = max(amount, -max(0, floor))
            after = await self._apply(conn, before, "grant", bonus=before.bonus + applied,
                                      moderator_id=moderator_id, reason=reason, now=now)
            if applied >= 0:
                text = (N_("A moderator gave you {credits} credits: {reason}", credits=fmt(applied), reason=reason)
                        if reason else N_("A moderator gave you {credits} credits.", credits=fmt(applied)))
            else:
                text = (N_("A moderator took {credits} credits from you: {reason}", credits=fmt(-applied),
                           reason=reason)
                        if reason else N_("A moderator took {credits} credits from you.", credits=fmt(-applied)))
            await self._audit(conn, moderator_id, member, "quota grant", _balance_text(before),
                              _balance_text(after), reason, text, now)
        return QuotaChange(before, after)

    async def reset(self, moderator_id: int, member: Member) -> QuotaChange:
        """Usage this period back to zero."""
        now = self.clock()
        async with self.db.transaction() as conn:
            before = await self._touch(conn, member, now)
            after = await self._apply(conn, before, "reset", used=0, moderator_id=moderator_id, now=now)
            text = N_("A moderator reset your usage this {period}: you have {credits} credits.",
                      period=period(self.policy.period), credits=fmt(after.available))
            await self._audit(conn, moderator_id, member, "quota reset", f"used {fmt(before.used)}",
                              f"used {fmt(after.used)}", None, text, now)
        return QuotaChange(before, after)

    async def _audit(self, conn, moderator_id: int, member: Member, action: str, before: str, after: str,
                     reason: str | None, notice: str, now: float) -> None:
        await self.audit.record(conn, guild_id=member.guild_id, moderator_id=moderator_id,
                                target_id=member.user_id, action=action, before=before, after=after,
                                reason=reason, now=now)
        await self.audit.notify(conn, member.guild_id, member.user_id, notice, now)


def _amount(before: Account, after: Account, kind: str) -> int:
    """What the change gave (+) or took (-): bonus up or usage down. A `set` moves the allowance
    instead (0 when either side has no limit)."""
    if kind == "set":
        if before.allowance is None or after.allowance is None:
            return 0
        return after.allowance - before.allowance
    return (after.bonus - before.bonus) - (after.used - before.used)


def _allowance_text(account: Account, per: str) -> str:
    which = "set by a moderator" if account.override is not None else "default"
    return f"{fmt(account.allowance)} {per} ({which})"


def _balance_text(account: Account) -> str:
    return f"bonus {fmt(account.bonus)} · {fmt(account.available)} left"
