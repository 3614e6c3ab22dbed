"""What the web's page handlers share (create.py, tools.py, mod.py, more.py): the context, the page
layout with the viewer's notices, form numbers, the one submit path, a job looked up through the
authorizer, and the checks before any action (CSRF, bans)."""
from __future__ import annotations

from aiohttp import web

from bot.errors import ValidationError
from bot.frontend.texts import price
from bot.models import Job, WorkRequest
from bot.services.authz import JobAction
from bot.web import pages
from bot.web.context import WEB, WebContext


def ctx(request: web.Request) -> WebContext:
    return request.app[WEB]


async def render(request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
    c, viewer = ctx(request), request["viewer"]
    notices = await c.take_notices(viewer) if viewer is not None else []
    return web.Response(text=pages.layout(title, body, viewer, request["session"].csrf, notices),
                        content_type="text/html", status=status)


def _number(form, name: str, kind, low, high, what: str):
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ValidationError(f"{what} must be a {'whole ' if kind is int else ''}number.") from None
    if not low <= value <= high:
        raise ValidationError(f"{what} must be between {low:g} and {high:g}.")
    return value


async def submit(c: WebContext, viewer, work: WorkRequest) -> Job:
    """The one submit path; the acknowledgement is the job's page, which the browser opens next."""

    async def acknowledge(job: Job, position: int | None, eta: float | None) -> None:
        if position is None:
            await c.events.rendering(job, 0, job.params.steps, eta)
        else:
            await c.events.waiting(job, position, eta)
        line = price(job)
        if line:
            c.events.first_lines[job.id] = line
        return None

    return await c.core.jobs.submit(viewer.requester(), work, acknowledge)


async def _job(request: web.Request, action: JobAction) -> Job:
    c, viewer = ctx(request), request["viewer"]
    try:
        job_id = int(request.match_info["job"])
    except ValueError:
        raise web.HTTPNotFound() from None
    return await c.core.authz.job(viewer.actor(), job_id, action)


async def _after_action(request: web.Request, form) -> None:
    ctx(request).check_csrf(request, form.get("csrf"))
    ctx(request).check_ban(request["viewer"])
