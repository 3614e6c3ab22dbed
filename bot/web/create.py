"""The member pages: create (every /imagine option), a job's live page (server-sent events), its
result actions (the Discord buttons: U, V, Re-roll, Info, Delete, Report, Cancel), images, history.

Every job goes through the one submit path (`JobService.submit`: validation, safety, quota, in that
order), with the same domain errors as in Discord, shown in the page. Every action on a job asks
bot/services/authz.py first, from stored state: the place (the viewer's server), the person."""
from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import BodyPartReader, web

from bot.credits import fmt
from bot.errors import BotError, NotAllowed, NotFound, ValidationError, user_message
from bot.models import MAX_SEED, Job, JobStatus, RerollRequest, UpscaleRequest, VariationRequest, WorkRequest
from bot.services import downloads
from bot.services.authz import JobAction
from bot.services.inline_params import inline_request, limits_for
from bot.services.quotas import Member
from bot.services.settings_store import Defaults
from bot.web import model_fields, pages, tools
from bot.web.context import WebContext
from bot.web.handlers import _after_action, _job, _number, ctx, render, submit
from bot.web.identity import is_web_job

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
KEEPALIVE = 15.0  # seconds between SSE comments, so proxies keep the stream open
MAX_FIELD_BYTES = 4 * 6000  # /imagine's longest text option, in UTF-8


# ---- the create page ----
async def _create_page(request: web.Request, values: dict, error: str | None = None, status: int = 200):
    c, viewer = ctx(request), request["viewer"]
    presets = await c.core.member_settings.preset_names(viewer.user_id)
    fields = model_fields.create_fields(c.core.admission.catalog, values)
    body = pages.create_form(request["session"].csrf, c.core.profile, presets, values, error, fields)
    return await render(request, "Create", body + await credits_line(c, viewer), status)


async def credits_line(c: WebContext, viewer) -> str:
    """What /quota says first: credits used and left this period here."""
    quotas = c.core.quotas
    if not quotas.policy.enabled_for(viewer.guild_id):
        return '<p class="credits">Quotas are off on this bot: images cost no credits.</p>'
    status = await quotas.status(Member(viewer.guild_id, viewer.user_id, viewer.role_ids), entries=0)
    a = status.account
    if a.allowance is None:
        text = f"Used {fmt(a.used)} credits this {status.period} · no limit"
    else:
        text = f"Used {fmt(a.used)} of {fmt(a.allowance)} credits this {status.period} · {fmt(a.available)} left"
    return f'<p class="credits" id="credits">💳 {pages.e(text)} · resets {pages.when(status.resets_at)}</p>'



@routes.get("/")
async def create_page(request: web.Request) -> web.Response:
    return await _create_page(request, {})


async def _read_form(request: web.Request, limit: int) -> tuple[dict, bytes | None]:
    """The form's fields, and the uploaded file's bytes (None without one), read as they stream:
    a file over the limit is refused as soon as more than `limit` bytes arrived."""
    values, data = {}, None
    if not request.content_type.startswith("multipart/"):  # a form without a file input
        return {k: str(v)[:7000] for k, v in (await request.post()).items() if isinstance(v, str)}, None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):  # a multipart nested in the form: no field of ours
            continue
        if part.name == "image" and part.filename:
            chunks, size = [], 0
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise downloads.too_big(limit, request.content_length)
                chunks.append(chunk)
            data = b"".join(chunks) if size else None
        elif part.name:  # a text field: read no more than a prompt can hold
            raw = b""
            while len(raw) <= MAX_FIELD_BYTES and (chunk := await part.read_chunk(8192)):
                raw += chunk
            values[part.name] = raw[:MAX_FIELD_BYTES].decode("utf-8", "replace")
    return values, data


@routes.post("/imagine")
async def imagine(request: web.Request) -> web.Response:
    c, viewer = ctx(request), request["viewer"]
    values: dict = {}
    try:
        values, data = await _read_form(request, c.core.inputs.max_bytes)
        c.check_csrf(request, values.get("csrf"))
        c.check_ban(viewer)
        prompt = str(values.get("prompt") or "").strip()
        if not prompt:
            raise ValidationError("Write a prompt first.")
        given = Defaults(aspect=values.get("aspect") or None, negative=values.get("negative") or None,
                         count=_number(values, "count", int, 1, 4, "Count"),
                         steps=_number(values, "steps", int, 1, 150, "Steps"),
                         guidance=_number(values, "guidance", float, 0.0, 30.0, "Guidance"),
                         model=model_fields.form_text(values, "model"))
        lora = model_fields.form_text(values, "lora")  # `name` or `name:0.8`, as /imagine lora:
        seed = _number(values, "seed", int, 0, MAX_SEED * 2, "Seed")
        strength = _number(values, "strength", float, 0.05, 1.0, "Strength")
        chosen = await c.core.member_settings.resolve(viewer.user_id, values.get("preset") or None)

        admission = c.core.admission  # the chosen model's step and guidance ranges, as /imagine's
        limits = limits_for(admission.profile_of(given.model or chosen.model or admission.model_label))

        def request_for(image=None):  # `--ar 16:9 --seed 5 …` in the prompt, exactly as /imagine reads them
            return inline_request(prompt, given, chosen, seed=seed, image=image, strength=strength, limits=limits,
                                  lora=lora)

        if data is None:
            job = await submit(c, viewer, request_for())
        else:  # the cheap checks first, as for a Discord upload; then the bytes are validated and stored
            await c.core.jobs.precheck(viewer.requester(), request_for(c.core.inputs.pending()))
            prompt_image = await c.core.inputs.store(data, viewer.user_id)
            try:
                job = await submit(c, viewer, request_for(prompt_image))
            except BaseException:  # refused or cancelled: no job keeps the stored upload
                await c.core.inputs.discard(prompt_image.path)
                raise
    except web.HTTPException:
        raise
    except BotError as exc:
        values.pop("csrf", None)
        return await _create_page(request, values, user_message(exc), status=400)
    raise web.HTTPSeeOther(f"/jobs/{job.id}")


# ---- a job's page ----
async def job_inner(c: WebContext, request: web.Request, job: Job) -> tuple[str, bool]:
    """(the job's status or result HTML, whether it is still live)."""
    csrf = request["session"].csrf
    if job.status in (JobStatus.DONE, JobStatus.DELIVERED):
        if job.status is JobStatus.DONE:  # stored, the safety review and delivery still to come
            return pages.progress_block(job, "🎨 Rendering… finishing", csrf, True), True
        try:
            images = await c.showable(job)
        except BotError as exc:
            return pages.error_box(user_message(exc)), False
        # U under the job's own model's cap, as admission checks an upscale of it
        by_index = {i.index: c.core.admission.upscale_target(i.width, i.height, job.params.model) is not None
                    for i in images}
        ups = [by_index.get(n, False) for n in range(job.params.count)]
        withheld = len(await c.core.store.images(job.id)) - len(images)
        return pages.result_grid(job, images, ups, csrf, withheld) + tools.single_image_tools(job, csrf), False
    state = c.events.state(job.id)
    if job.status.is_active:
        if state is None or state.kind == "ended":
            position, eta = c.core.dispatcher.place(job)
            progress = c.core.dispatcher.progress(job.id)
            from bot.web.events import JobState

            state = (JobState("rendering", step=progress[0], total=progress[1], eta=eta) if progress
                     else JobState("waiting", position=position, eta=eta))
        pause = c.core.moderation.paused
        line = pages.status_line(job, state, pause.reason if pause else None, pause is not None)
        shown = c.events.preview(job.id)
        return pages.progress_block(job, line, csrf, False) + tools.preview_block(job, shown[0] if shown else 0), True
    return pages.progress_block(job, f"❌ {job.error or job.status.value}", csrf, True), False


@routes.get("/jobs/{job}")
async def job_page(request: web.Request) -> web.Response:
    c = ctx(request)
    job = await _job(request, JobAction.INFO)
    inner, live = await job_inner(c, request, job)
    extra = c.events.first_lines.pop(job.id, None) if job.user_id == request["viewer"].user_id else None
    return await render(request, f"Job #{job.id}", pages.job_page_body(job, inner, live, extra))


@routes.get("/jobs/{job}/events")
async def job_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the job's status HTML on every change, then `close` once it ended."""
    c = ctx(request)
    job = await _job(request, JobAction.INFO)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    queue = c.events.watch(job.id)
    try:
        while True:
            job = await c.core.store.get(job.id)
            if job is None:
                break
            inner, live = await job_inner(c, request, job)
            data = "\n".join(f"data: {line}" for line in inner.split("\n"))
            await response.write(f"event: status\n{data}\n\n".encode())
            if not live:
                await response.write(b"event: close\ndata: done\n\n")
                break
            try:
                await asyncio.wait_for(queue.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        c.events.unwatch(job.id, queue)
    return response


@routes.get("/jobs/{job}/state.json")
async def job_state(request: web.Request) -> web.Response:
    """The job's status in words, for scripts and tests."""
    c = ctx(request)
    job = await _job(request, JobAction.INFO)
    state = c.events.state(job.id)
    return web.json_response({"id": job.id, "status": job.status.value, "state": state.kind if state else None,
                              "error": job.error}, dumps=json.dumps)


@routes.get("/jobs/{job}/info")
async def job_info(request: web.Request) -> web.Response:
    c = ctx(request)
    job = await _job(request, JobAction.INFO)
    details = await c.core.history.details(job.id)
    init = job.params.init_image
    source = await c.core.inputs.describe(init) if init and init.startswith("inputs/") else None
    return await render(request, f"Info #{job.id}", pages.info_page(details, source))


async def _new_job(request: web.Request, action: JobAction, work_for) -> web.Response:
    c, viewer = ctx(request), request["viewer"]
    form = await request.post()
    await _after_action(request, form)
    parent = await _job(request, action)
    job = await submit(c, viewer, await work_for(parent))
    raise web.HTTPSeeOther(f"/jobs/{job.id}")


@routes.post("/jobs/{job}/vary/{index:\\d+}")
async def vary(request: web.Request) -> web.Response:
    async def work(parent: Job) -> WorkRequest:
        strength = (await ctx(request).core.member_settings.defaults(request["viewer"].user_id)).variation
        return VariationRequest(parent.id, int(request.match_info["index"]), strength)
    return await _new_job(request, JobAction.VARY, work)


@routes.post("/jobs/{job}/upscale/{index:\\d+}")
async def upscale(request: web.Request) -> web.Response:
    async def work(parent: Job) -> WorkRequest:
        return UpscaleRequest(parent.id, int(request.match_info["index"]))
    return await _new_job(request, JobAction.UPSCALE, work)


@routes.post("/jobs/{job}/reroll")
async def reroll(request: web.Request) -> web.Response:
    async def work(parent: Job) -> WorkRequest:
        return RerollRequest(parent.id)
    return await _new_job(request, JobAction.REROLL, work)


@routes.post("/jobs/{job}/cancel")
async def cancel(request: web.Request) -> web.Response:
    c = ctx(request)
    await _after_action(request, await request.post())
    job = await _job(request, JobAction.CANCEL)
    if await c.core.jobs.cancel(job):
        await c.core.moderation.job_cancelled(job, request["viewer"].user_id)  # audited if a moderator's
    raise web.HTTPSeeOther(f"/jobs/{job.id}")


@routes.post("/jobs/{job}/delete")
async def delete(request: web.Request) -> web.Response:
    """Delete removes the result from view (as Delete removes the Discord message); audited when a
    moderator deletes someone else's."""
    c = ctx(request)
    await _after_action(request, await request.post())
    job = await _job(request, JobAction.DELETE)
    if not is_web_job(job):  # its Discord message stays where it is: deleting it is Discord's Delete button
        raise NotAllowed("This result was posted in Discord: delete it there, with its Delete button.")
    await c.core.moderation.result_deleted(job, request["viewer"].user_id, original=True)
    return await render(request, "Deleted", f"<h1>Deleted</h1><p>Job #{job.id} was deleted.</p>")


@routes.post("/jobs/{job}/report")
async def report(request: web.Request) -> web.Response:
    c = ctx(request)
    await _after_action(request, await request.post())
    job = await _job(request, JobAction.REPORT)
    new = await c.core.safety.report(job, request["viewer"].user_id)
    text = ("🚩 Thanks: the moderators were told about this image." if new
            else "You already reported this image; the moderators have it.")
    return await render(request, "Reported", f'<p class="notice">{pages.e(text)}</p>'
                                             f'<p><a href="/jobs/{job.id}">back</a></p>')


@routes.get("/images/{job}/{index:\\d+}")
async def image(request: web.Request) -> web.StreamResponse:
    """An image, only to those who may see it: the job's server, and what /show would post in an
    ordinary channel there (content safety's rules, asked now)."""
    c = ctx(request)
    job = await _job(request, JobAction.INFO)
    index = int(request.match_info["index"])
    shown = {i.index: i for i in await c.showable(job)}
    if index not in shown:
        raise NotFound("That image is not shown here.")
    return web.FileResponse(shown[index].path, headers={"Cache-Control": "private, max-age=3600",
                                                        "Content-Type": "image/png"})


# ---- history ----
@routes.get("/history")
async def history(request: web.Request) -> web.Response:
    c, viewer = ctx(request), request["viewer"]
    search = request.query.get("q", "")
    try:
        view = await c.core.history.open(viewer.user_id, viewer.user_id, viewer.guild_id, search)
        older = request.query.get("older")
        newer = request.query.get("newer")
        page = await c.core.history.page(view, older_than=int(older) if older and older.isdecimal() else None,
                                         newer_than=int(newer) if newer and newer.isdecimal() else None)
    except BotError as exc:
        return await render(request, "History", pages.history_page(None, search, user_message(exc)), 400)
    return await render(request, "History", pages.history_page(page, search))
