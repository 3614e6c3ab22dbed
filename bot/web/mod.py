"""The moderator desk (/mod pages): the review queue of withheld and reported images (approve,
delete, ban), members' credits (set, grant, reset), bans and the pause, and the audit log with
filters. Only a moderator of the viewer's server gets in (as /mod); everything acts through the
same services as /mod, so it lands in the same audit log, and pages that only show are recorded as
views, as /mod log is."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.credits import fmt, to_tenths
from bot.errors import BotError, NotAllowed, ValidationError, user_message
from bot.services.moderation import MAX_BAN_HOURS
from bot.services.quotas import Member
from bot.web.context import WEB, WebContext
from bot.web.handlers import render
from bot.web.identity import Viewer
from bot.web.pages import csrf_field, e, error_box, when

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    Form = MultiDictProxy[str | bytes | bytearray | web.FileField]  # what request.post() returns

routes = web.RouteTableDef()
MAX_CREDITS = 1_000_000


def _moderator(request: web.Request) -> tuple[WebContext, Viewer]:
    viewer: Viewer = request["viewer"]  # the guard let only a signed-in viewer through to /mod
    if not viewer.is_moderator:
        raise NotAllowed("Only moderators of this server can use the moderator desk.")
    return request.app[WEB], viewer


def _whole_bot(c: WebContext, viewer) -> None:
    """The pause holds the one queue every server shares: as /mod pause, a server's moderators may
    while it is the only server served; beyond that only the bot's operators."""
    if viewer.local_owner or viewer.user_id in c.settings.owner_user_ids:
        return
    if len(c.served_guilds()) > 1:
        raise NotAllowed("This acts on every server this bot is in (one shared queue and disk): only the bot's "
                         "operators (OWNER_USER_IDS) can use it.")


def _member_id(raw: object) -> int:
    try:
        value = int(str(raw or "").strip())
    except ValueError:
        raise ValidationError("Name the member by their user id (a number).") from None
    if value <= 0:
        raise ValidationError("Name the member by their user id (a number).")
    return value


def _form(csrf: str, action: str, fields: str, label: str, cls: str = "inline") -> str:
    return (f'<form method="post" action="{action}" class="{cls}">{csrf_field(csrf)}{fields}'
            f'<button>{e(label)}</button></form>')


async def _desk(request: web.Request, message: str | None = None, error: str | None = None,
                status: int = 200) -> web.Response:
    c, viewer = _moderator(request)
    csrf = request["session"].csrf
    items = await c.review.queue(viewer.guild_id)
    cards = []
    for item in items:
        images = "".join(f'<img class="review" src="/mod/images/{item.job_id}/{i}" alt="image {i + 1} of job '
                         f'#{item.job_id}" width="160">' for i in item.image_indexes)
        why = (f"withheld: {item.category}" + (f" · score {item.score:.2f}" if item.score is not None else "")
               if item.reason == "flagged" else f"reported by {item.reports} member(s)")
        ban = _form(csrf, "/mod/ban", f'<input type="hidden" name="member" value="{item.user_id}">'
                    f'<input name="reason" placeholder="reason" maxlength="200">', "Ban member")
        cards.append(
            f'<article class="card" id="review-{item.job_id}"><h3>Job #{item.job_id} · {e(why)}</h3>'
            f'<p>{e(item.prompt[:300])}</p><p>member {item.user_id} · {when(item.created_at)}</p>'
            f'<div class="blurred">{images}</div>'
            + _form(csrf, f"/mod/review/{item.job_id}/approve", "", "Approve")
            + _form(csrf, f"/mod/review/{item.job_id}/delete", "", "Delete") + ban + "</article>")
    queue = "".join(cards) or "<p>Nothing waits for review.</p>"
    pause = c.core.moderation.paused
    if pause is None:
        pause_box = "<p>The queue is running.</p>" + _form(
            csrf, "/mod/pause", '<input name="reason" placeholder="reason" maxlength="200">', "⏸ Pause the queue")
    else:
        why = f": {e(pause.reason)}" if pause.reason else ""
        pause_box = f"<p>⏸ Paused since {when(pause.since)}{why}.</p>" + _form(csrf, "/mod/resume", "", "▶ Resume")
    done = f'<p class="notice" role="status">{e(message)}</p>' if message else ""
    body = (f"<h1>Moderator desk</h1>{done}{error_box(error)}<section><h2>Review queue ({len(items)})</h2>{queue}"
            f"</section><section><h2>Queue</h2>{pause_box}</section>"
            "<section><h2>Members</h2>"
            f'<form method="get" action="/mod/member"><input name="member" placeholder="user id" required>'
            f"<button>Open</button></form>"
            + _form(csrf, "/mod/ban", '<input name="member" placeholder="user id" required>'
                    '<input name="reason" placeholder="reason" maxlength="200">'
                    f'<input name="hours" type="number" min="1" max="{MAX_BAN_HOURS}" placeholder="hours">',
                    "Ban", "block")
            + _form(csrf, "/mod/unban", '<input name="member" placeholder="user id" required>', "Unban", "block")
            + '</section><p><a href="/mod/log">Audit log</a> · <a href="/mod/stats">Stats</a> · '
              '<a href="/mod/storage">Storage</a></p>')
    return await render(request, "Moderator desk", body, status)


@routes.get("/mod")
async def desk(request: web.Request) -> web.Response:
    return await _desk(request)


async def _post(request: web.Request) -> tuple[WebContext, Viewer, Form]:
    c, viewer = _moderator(request)
    form = await request.post()
    c.check_csrf(request, form.get("csrf"))
    return c, viewer, form


async def _act(request: web.Request, action) -> web.Response:
    try:
        c, viewer, form = await _post(request)
        message = await action(c, viewer, form)
    except web.HTTPException:
        raise
    except BotError as exc:
        return await _desk(request, error=user_message(exc), status=400)
    return await _desk(request, message=message)


@routes.post("/mod/review/{job:\\d+}/{decision:approve|delete}")
async def review(request: web.Request) -> web.Response:
    async def act(c, viewer, form):
        job_id = int(request.match_info["job"])
        if request.match_info["decision"] == "approve":
            await c.review.approve(viewer.guild_id, viewer.user_id, job_id)
            return f"Approved job #{job_id}."
        await c.review.delete(viewer.guild_id, viewer.user_id, job_id)
        return f"Deleted the images of job #{job_id}."
    return await _act(request, act)


@routes.post("/mod/ban")
async def ban(request: web.Request) -> web.Response:
    async def act(c, viewer, form):
        member = _member_id(form.get("member"))
        if c.is_moderator(viewer.guild_id, member):
            raise NotAllowed("Moderators and bots cannot be banned from the bot.")
        hours = str(form.get("hours") or "").strip()
        reason = str(form.get("reason") or "").strip()[:200] or None
        result = await c.core.moderation.ban(viewer.user_id, viewer.guild_id, member, reason,
                                             int(hours) if hours.isdecimal() else None)
        jobs = len(result.cancelled_jobs)
        cancelled = f" Cancelled and refunded {jobs} queued job(s)." if jobs else ""
        return f"Banned member {member}: the ban {result.ban.describe(time.time())}.{cancelled}"
    return await _act(request, act)


@routes.post("/mod/unban")
async def unban(request: web.Request) -> web.Response:
    async def act(c, viewer, form):
        member = _member_id(form.get("member"))
        lifted = await c.core.moderation.unban(viewer.user_id, viewer.guild_id, member)
        return f"Lifted member {member}'s ban." if lifted else f"Member {member} was not banned."
    return await _act(request, act)


@routes.post("/mod/pause")
async def pause(request: web.Request) -> web.Response:
    async def act(c, viewer, form):
        _whole_bot(c, viewer)
        await c.core.moderation.pause(viewer.user_id, viewer.guild_id, str(form.get("reason") or "")[:200] or None)
        return "⏸ Queue paused. Running renders finish; new requests are admitted and wait until you resume."
    return await _act(request, act)


@routes.post("/mod/resume")
async def resume(request: web.Request) -> web.Response:
    async def act(c, viewer, form):
        _whole_bot(c, viewer)
        ended = await c.core.moderation.resume(viewer.user_id, viewer.guild_id)
        return f"▶ Queue resumed (paused since {when(ended.since)})." if ended else "The queue was not paused."
    return await _act(request, act)


# ---- one member: credits and ban ----
async def _member_page(request: web.Request, member: int, message: str | None = None, error: str | None = None,
                       status: int = 200) -> web.Response:
    c, viewer = _moderator(request)
    csrf = request["session"].csrf
    quotas = c.core.quotas
    body = f"<h1>Member {member}</h1>{error_box(error)}"
    if message:
        body += f'<p class="notice" role="status">{e(message)}</p>'
    if not quotas.policy.enabled_for(viewer.guild_id):
        body += "<p>Quotas are off on this bot: images cost no credits.</p>"
    else:
        s = await quotas.status(Member(viewer.guild_id, member))
        a = s.account
        used = (f"Used {fmt(a.used)} this {s.period} · no limit" if a.allowance is None else
                f"Used {fmt(a.used)} of {fmt(a.allowance)} this {s.period} · {fmt(a.available)} left")
        hidden = f'<input type="hidden" name="member" value="{member}">'
        body += (f'<p id="credits">{e(used)} · bonus {fmt(a.bonus)} · resets {when(s.resets_at)}</p>'
                 + _form(csrf, "/mod/quota/set", hidden + '<input name="credits" placeholder="credits per period, '
                         '-1: default" required>', "Set allowance", "block")
                 + _form(csrf, "/mod/quota/grant", hidden + '<input name="credits" placeholder="credits (negative: '
                         'take away)" required><input name="reason" placeholder="reason" maxlength="200">', "Grant",
                         "block")
                 + _form(csrf, "/mod/quota/reset", hidden, "Reset usage", "block"))
    ban_now = c.core.moderation.ban_of(viewer.guild_id, member)
    body += f"<p>{'Banned: the ban ' + e(ban_now.describe(time.time())) if ban_now else 'Not banned.'}</p>"
    body += f'<p><a href="/mod/log?member={member}">Audit log of this member</a> · <a href="/mod">desk</a></p>'
    return await render(request, f"Member {member}", body, status)


@routes.get("/mod/member")
async def member_page(request: web.Request) -> web.Response:
    _moderator(request)
    try:
        member = _member_id(request.query.get("member"))
    except BotError as exc:
        return await _desk(request, error=user_message(exc), status=400)
    return await _member_page(request, member)


@routes.post("/mod/quota/{what:set|grant|reset}")
async def quota(request: web.Request) -> web.Response:
    c, viewer, form = await _post(request)
    what = request.match_info["what"]
    try:
        member = _member_id(form.get("member"))
    except BotError as exc:
        return await _desk(request, error=user_message(exc), status=400)
    try:
        quotas = c.core.quotas
        if not quotas.enabled:
            raise NotAllowed("Quotas are off on this bot (QUOTA_CREDITS=unlimited): there are no credits to change.")
        account = Member(viewer.guild_id, member)
        if what == "reset":
            change = await quotas.reset(viewer.user_id, account)
            text = f"Reset member {member}'s usage this {quotas.policy.period} (was {fmt(change.before.used)})."
        else:
            try:
                credits = float(str(form.get("credits") or "").strip())
            except ValueError:
                raise ValidationError("Credits must be a number.") from None
            if not -MAX_CREDITS <= credits <= MAX_CREDITS:
                raise ValidationError(f"Credits must be between {-MAX_CREDITS} and {MAX_CREDITS}.")
            if what == "set":
                if credits < 0 and credits != -1:
                    raise ValidationError("Credits must be 0 or more, or -1 to go back to the default.")
                change = await quotas.set_allowance(viewer.user_id, account,
                                                    None if credits == -1 else to_tenths(credits))
                text = f"Member {member}'s allowance is now {fmt(change.after.allowance)} credits per " \
                       f"{quotas.policy.period}, was {fmt(change.before.allowance)}."
            else:
                amount = to_tenths(credits)
                if amount == 0:
                    raise ValidationError("Grant at least 0.1 credits (or take at least 0.1 away).")
                reason = str(form.get("reason") or "").strip()[:200] or None
                change = await quotas.grant(viewer.user_id, account, amount, reason)
                applied = change.after.bonus - change.before.bonus
                text = (f"Gave member {member} {fmt(applied)} credits." if applied >= 0
                        else f"Took {fmt(-applied)} credits from member {member}.")
        text += f" They have {fmt(change.after.available)} left."
    except BotError as exc:
        return await _member_page(request, member, error=user_message(exc), status=400)
    return await _member_page(request, member, message=text)


# ---- the audit log ----
@routes.get("/mod/log")
async def audit_log(request: web.Request) -> web.Response:
    c, viewer = _moderator(request)
    q = request.query
    # isdecimal, not isdigit: isdigit() passes "²", which int() refuses (that was a 500 page).
    member = int(q["member"]) if q.get("member", "").isdecimal() else None
    moderator = int(q["moderator"]) if q.get("moderator", "").isdecimal() else None
    action = q.get("action", "").strip()[:40] or None
    page_no = int(q["page"]) if q.get("page", "").isdecimal() else 0
    page = await c.core.audit.page(viewer.guild_id, member, page_no, 20, moderator_id=moderator, action=action)
    await c.core.audit.viewed(guild_id=viewer.guild_id, moderator_id=viewer.user_id, action="view mod log",
                              target_id=member, now=time.time())
    rows = "".join(f"<tr><td>{when(x.created_at)}</td><td>{x.moderator_id}</td><td>{e(x.action)}</td>"
                   f"<td>{x.target_id or ''}</td><td>{e(x.before or '')}</td><td>{e(x.after or '')}</td>"
                   f"<td>{e(x.reason or '')}</td></tr>" for x in page.entries)
    keep = "".join(f"&{k}={e(v)}" for k, v in (("member", member), ("moderator", moderator), ("action", action))
                   if v is not None)
    pager = ""
    if page.page > 0:
        pager += f'<a href="/mod/log?page={page.page - 1}{keep}">◀ Newer</a> '
    if page.has_older:
        pager += f'<a href="/mod/log?page={page.page + 1}{keep}">Older ▶</a>'
    form = ('<form method="get" action="/mod/log">'
            f'<input name="member" placeholder="member id" value="{e(member or "")}">'
            f'<input name="moderator" placeholder="moderator id" value="{e(moderator or "")}">'
            f'<input name="action" placeholder="action (ban, quota, approve…)" value="{e(action or "")}">'
            "<button>Filter</button></form>")
    body = (f"<h1>Audit log</h1>{form}<table id=\"audit\"><tr><th>when</th><th>moderator</th><th>action</th>"
            f"<th>member</th><th>before</th><th>after</th><th>reason</th></tr>{rows}</table><p>{pager}</p>")
    return await render(request, "Audit log", body)


@routes.get("/mod/images/{job:\\d+}/{index:\\d+}")
async def review_image(request: web.Request) -> web.StreamResponse:
    """A withheld or reported image, for the moderators of its own server only."""
    c, viewer = _moderator(request)
    item = await c.review.item(viewer.guild_id, int(request.match_info["job"]))
    index = int(request.match_info["index"])
    images = {i.index: i for i in await c.core.store.images(item.job_id) if i.pruned_at is None}
    if index not in images:
        raise web.HTTPNotFound()
    return web.FileResponse(images[index].path, headers={"Cache-Control": "private, no-store",
                                                         "Content-Type": "image/png"})
