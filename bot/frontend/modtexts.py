"""What /quota and the /mod commands say. Plain strings (Discord markdown and <t:...> timestamps,
which every member sees in their own time zone); mentions never ping (allowed_mentions is none)."""
from __future__ import annotations

from bot.credits import fmt
from bot.frontend.texts import escape, fit
from bot.i18n import _, say
from bot.prices import PriceBook
from bot.services.audit import AuditPage
from bot.services.quotas import LedgerEntry, QuotaStatus
from bot.services.stats import Stats
from bot.words import action, period


def stamp(when: float, style: str = "R") -> str:
    return f"<t:{int(when)}:{style}>"


def signed(tenths: int) -> str:
    return f"+{fmt(tenths)}" if tenths > 0 else fmt(tenths)


def price_list(book: PriceBook) -> str:
    """What each task costs at the model's defaults, and where the prices come from."""
    table = book.table
    source = (_("measured on this device {when}", when=stamp(table.measured_at)) if book.measured and table.measured_at
              else _("defaults until measured on this device"))
    items = " · ".join(f"{say(line.task.label)} **{fmt(line.tenths)}**" for line in book.menu())
    return _("**Prices** ({source}): {items} credits at the default size and steps; more steps, "
             "images or pixels cost more, a lower strength less.", source=source, items=items)


def quota_status(status: QuotaStatus, whose: int | None, prices: PriceBook | None = None) -> str:
    """`whose`: None for the member's own, or the id of the member a moderator looks at; `prices`:
    the price list, shown after the balance."""
    a = status.account
    lines = [_("**Your credits here**") if whose is None else _("**<@{member}>'s credits here**", member=whose)]
    if a.allowance is None:
        lines.append(_("Used **{used}** this {period} · no limit", used=fmt(a.used), period=period(status.period)))
    else:
        lines.append(_("Used **{used}** of **{allowance}** this {period} · **{left} left**", used=fmt(a.used),
                       allowance=fmt(a.allowance), period=period(status.period), left=fmt(a.available)))
    if a.override is not None:
        lines.append(_("Allowance {credits} per {period}, set by a moderator", credits=fmt(a.override),
                       period=period(status.period)))
    if a.bonus > 0:
        lines.append(_("Bonus credits: {credits} (kept until spent)", credits=fmt(a.bonus)))
    elif a.bonus < 0:
        lines.append(_("Taken away by a moderator this {period}: {credits}", period=period(status.period),
                       credits=fmt(-a.bonus)))
    lines.append(_("Resets {when} ({date})", when=stamp(status.resets_at), date=stamp(status.resets_at, 'f')))
    if prices is not None:
        lines.append(price_list(prices))
    if status.entries:
        lines.append(_("**Last changes**"))
        lines.extend(ledger_line(e) for e in status.entries)
    return fit("\n".join(lines))


def ledger_line(entry: LedgerEntry) -> str:
    job = _("job #{job}", job=entry.job_id) if entry.job_id else ""
    by = _("by <@{moderator}>", moderator=entry.moderator_id) if entry.moderator_id else ""
    what = {
        "debit": job,
        "refund": _("refund · {job}", job=job),
        "grant": _("grant {by}", by=by),
        "set": _("allowance set {by}", by=by),
        "reset": _("usage reset {by}", by=by),
        "period": _("new period"),
    }.get(entry.kind, entry.kind)
    reason = f" · {escape(entry.reason)}" if entry.reason and entry.kind != "period" else ""
    amount = f"`{signed(entry.amount)}` " if entry.kind != "set" else ""
    return f"{amount}{what}{reason} · {stamp(entry.created_at)}"


def audit_page(page: AuditPage, member_id: int | None) -> str:
    about = _(" for <@{member}>", member=member_id) if member_id else ""
    lines = [_("**Moderator log{about}** · page {page}, newest first", about=about, page=page.page + 1)]
    if not page.entries:
        lines.append(_("Nothing recorded yet.") if page.page == 0 else _("No older entries."))
    for e in page.entries:
        whom = f" <@{e.target_id}>" if e.target_id else ""
        change = f": {escape(e.before or '')} → {escape(e.after or '')}" if e.before or e.after else ""
        reason = f" — {escape(e.reason)}" if e.reason else ""
        what = say(action(e.action))
        lines.append(f"{stamp(e.created_at, 'f')} <@{e.moderator_id}> **{what}**{whom}{change}{reason}")
    return fit("\n".join(lines))


def stats_summary(stats: Stats) -> str:
    jobs = sum(d.jobs for d in stats.days)
    seconds = sum(d.gpu_seconds for d in stats.days)
    failures = sum(d.failures for d in stats.days)
    blocks = sum(d.blocks for d in stats.days)
    text = _("📊 Last {days} day(s), UTC: {jobs} jobs, {seconds:.1f} GPU-seconds, {failures} failed, {blocks} blocked.",
             days=len(stats.days), jobs=jobs, seconds=seconds, failures=failures, blocks=blocks)
    if stats.top:
        text += "\n" + _("Most credits used: {members}",
                         members=", ".join(f"<@{m.user_id}> {fmt(m.credits)}" for m in stats.top))
    return text
