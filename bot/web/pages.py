"""Server-rendered HTML of the member pages: the layout, the create form, a job's status and result
grid, Info and history. Everything a member wrote goes through `e` (html.escape). The wording of
job states is the Discord messages' (bot/frontend/texts.py), without Discord's markdown."""
from __future__ import annotations

import time
from html import escape

from bot.credits import fmt
from bot.frontend import texts
from bot.frontend.historytexts import lineage
from bot.frontend.texts import _duration, progress_bar
from bot.models import Job, JobKind, JobStatus, JobTask, StoredImage
from bot.renderer.profiles import ASPECTS
from bot.services.history import HistoryPage, JobDetails
from bot.services.settings_store import VARIATIONS
from bot.web.events import JobState
from bot.web.identity import Viewer

HTMX = "/static/htmx-2.0.8.min.js"
HTMX_SSE = "/static/htmx-ext-sse-2.2.4.min.js"
ASPECT_NAMES = {"1:1": "1:1 square", "3:2": "3:2 landscape", "2:3": "2:3 portrait",
                "16:9": "16:9 wide", "9:16": "9:16 tall"}


def e(value: object) -> str:
    return escape(str(value), quote=True)


def csrf_field(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(csrf)}">'


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def layout(title: str, body: str, viewer: Viewer | None, csrf: str, notices: list[str] | None = None) -> str:
    nav = ""
    if viewer is not None:
        links = ['<a href="/">Create</a>', '<a href="/history">History</a>', '<a href="/settings">Settings</a>']
        if viewer.is_moderator:
            links.append('<a href="/mod">Moderator desk</a>')
        if not viewer.local_owner:
            options = "".join(f'<option value="{s.guild_id}"{" selected" if s.guild_id == viewer.guild_id else ""}>'
                              f'{e(s.name)}</option>' for s in viewer.servers)
            links.append(f'<form method="post" action="/server" class="inline">{csrf_field(csrf)}'
                         f'<select name="guild" aria-label="Server">{options}</select>'
                         f'<button>Switch</button></form>')
            links.append(f'<span>{e(viewer.name)}</span><form method="post" action="/signout" class="inline">'
                         f'{csrf_field(csrf)}<button>Sign out</button></form>')
        else:
            links.append('<span title="bound to this computer only">local owner</span>')
        nav = "<nav>" + " ".join(links) + "</nav>"
    told = "".join(f'<p class="notice">📣 {e(n)}</p>' for n in notices or [])
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} · Pixelforge</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # htmx would add an inline <style>, which the Content-Security-Policy refuses.
            '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>'
            '<link rel="stylesheet" href="/static/style.css">'
            f'<script src="{HTMX}"></script><script src="{HTMX_SSE}"></script></head>'
            f'<body><header><strong>Pixelforge</strong> {nav}</header><main>{told}{body}</main></body></html>')


def error_box(message: str | None) -> str:
    return f'<p class="error" role="alert">{e(message)}</p>' if message else ""


def create_form(csrf: str, profile, presets: list[str], values: dict, error: str | None = None,
                extra: str = "") -> str:
    """The /imagine form; `extra`: the model and LoRA fields (bot/web/model_fields.py)."""
    def val(name: str) -> str:
        return e(values.get(name, ""))

    aspects = "".join(f'<option value="{a}"{" selected" if values.get("aspect") == a else ""}>{ASPECT_NAMES[a]}'
                      f'</option>' for a in ASPECTS)
    preset_opts = "".join(f'<option value="{e(n)}"{" selected" if values.get("preset") == n else ""}>{e(n)}'
                          f'</option>' for n in presets)
    return f"""<h1>Create</h1>{error_box(error)}
<form method="post" action="/imagine" enctype="multipart/form-data" id="create">{csrf_field(csrf)}
<label>Prompt <textarea name="prompt" required maxlength="6000" rows="3">{val("prompt")}</textarea></label>
<label>Negative <input name="negative" maxlength="6000" value="{val("negative")}"></label>
<div class="row">
<label>Aspect <select name="aspect"><option value="">(your default)</option>{aspects}</select></label>
<label>Count <input name="count" type="number" min="1" max="4" value="{val("count")}" placeholder="1"></label>
<label>Seed <input name="seed" type="number" min="0" value="{val("seed")}" placeholder="random"></label>
<label>Steps <input name="steps" type="number" min="1" max="150" value="{val("steps")}"
 placeholder="{profile.default_steps}"></label>
<label>Guidance <input name="guidance" type="number" step="0.1" min="0" max="30" value="{val("guidance")}"
 placeholder="{profile.default_guidance:g}"></label>
</div><div class="row">
<label>Image prompt <input name="image" type="file" accept="image/png,image/jpeg,image/webp"></label>
<label>Strength <input name="strength" type="number" step="0.05" min="0.05" max="1" value="{val("strength")}"
 placeholder="0.75"></label>
<label>Preset <select name="preset"><option value="">(none)</option>{preset_opts}</select></label>
</div>{extra}
<button type="submit">Imagine</button></form>"""


def status_line(job: Job, state: JobState | None, paused_reason: str | None, paused: bool) -> str:
    """The words of the job's Discord message for its state now (waiting, rendering, ended)."""
    if state is None or state.kind == "waiting":
        if state is None or state.position is None:
            text = "⏳ Waiting in queue"
        else:
            eta = f" · ready in about {_duration(state.eta)}" if state.eta is not None else ""
            text = f"⏳ Waiting in queue — position {state.position}{eta}"
        if paused:
            why = f": {paused_reason}" if paused_reason else ""
            text += (f"\n⏸ A moderator paused the queue{why}. Your job keeps its place and starts when they "
                     "resume it.")
        return text
    if state.kind == "rendering":
        fraction = state.step / state.total if state.total else 0.0
        left = f" · about {_duration(state.eta)} left" if state.eta is not None and state.step else ""
        return f"🎨 Rendering {progress_bar(fraction)} {int(fraction * 100)}% (step {state.step}/{state.total}){left}"
    if state.kind == "ended":
        return f"❌ {state.message}"
    return "✅ Done"


def progress_block(job: Job, line: str, csrf: str, done: bool) -> str:
    lines = "<br>".join(e(part) for part in line.split("\n"))
    cancel = "" if done else (f'<form method="post" action="/jobs/{job.id}/cancel" class="inline">{csrf_field(csrf)}'
                              f'<button>✖ Cancel</button></form>')
    return f'<p class="status" id="status-line">{lines}</p>{cancel}'


def headline(job: Job) -> str:
    what = {JobKind.IMAGINE: "", JobKind.REROLL: " (re-roll)", JobKind.VARIATION: " (variation)",
            JobKind.UPSCALE: " (upscale)", JobKind.OUTPAINT: " (outpaint)", JobKind.REGION: " (vary region)"}[job.kind]
    return f'<h1 class="prompt">{e(job.params.prompt)}<small>{what} · job #{job.id}</small></h1>'


def details_line(job: Job) -> str:
    return texts.details(job)  # the same line as under a Discord result


def _button(job_id: int, action: str, label: str, csrf: str, title: str = "") -> str:
    return (f'<form method="post" action="/jobs/{job_id}/{action}" class="inline">{csrf_field(csrf)}'
            f'<button title="{e(title)}">{e(label)}</button></form>')


def result_grid(job: Job, images: list[StoredImage], upscalable: list[bool], csrf: str, withheld: int = 0) -> str:
    """The images, then the Discord buttons' actions: U1…Un, V1…Vn, Re-roll, Info, Delete, Report."""
    cells = "".join(f'<figure><a href="/images/{job.id}/{i.index}"><img src="/images/{job.id}/{i.index}" '
                    f'alt="image {i.index + 1}" width="{i.width}" height="{i.height}"></a>'
                    f'<figcaption>{i.index + 1}</figcaption></figure>' for i in images)
    note = f'<p class="error">{withheld} image(s) are not shown here.</p>' if withheld else ""
    ups = "".join(_button(job.id, f"upscale/{n}", f"U{n + 1}", csrf, "twice the size")
                  for n in range(job.params.count) if n < len(upscalable) and upscalable[n])
    if job.params.count == 1:  # a single image or an upscale: Vary (Subtle) and Vary (Strong), as in Discord
        vs = "".join(_button(job.id, f"vary/0/{mode}", f"🪄 Vary ({mode.title()})", csrf, f"a variation at {s:g}")
                     for mode, s in VARIATIONS.items())
    else:
        vs = "".join(_button(job.id, f"vary/{n}", f"V{n + 1}", csrf, "a variation") for n in range(job.params.count))
    rest = "" if job.params.task is JobTask.UPSCALE else _button(job.id, "reroll", "🔄 Re-roll", csrf)
    rest += f'<a class="button" href="/jobs/{job.id}/info">ℹ️ Info</a>'
    rest += _button(job.id, "delete", "🗑 Delete", csrf) + _button(job.id, "report", "🚩 Report", csrf)
    return (f'<p>{e(details_line(job))}</p><div class="grid">{cells}</div>{note}'
            f'<div class="actions"><div>{ups}</div><div>{vs}</div><div>{rest}</div></div>')


def job_page_body(job: Job, inner: str, live: bool, extra: str | None) -> str:
    price = f'<p class="price">{e(extra)}</p>' if extra else ""
    if live:  # the status swaps in over server-sent events until the job ends
        inner = (f'<div hx-ext="sse" sse-connect="/jobs/{job.id}/events" sse-close="close">'
                 f'<div id="live" sse-swap="status">{inner}</div></div>')
    return f"{headline(job)}{price}<section id=\"job\">{inner}</section>"


def info_page(details: JobDetails, image_prompt: str | None) -> str:
    job, p = details.job, details.job.params
    rows = [("Job", f"#{job.id} · {job.kind.value} · {job.status.value} · by member {job.user_id}"),
            ("Prompt", p.prompt)]
    if p.negative_prompt:
        rows.append(("Negative", p.negative_prompt))
    if p.safety_negative:
        rows.append(("Safety negative (added by the bot)", p.safety_negative))
    seeds = ", ".join(str(p.image_seed(i)) for i in range(p.count))
    rows.append(("Seed", f"{p.seed}" + (f" (images: {seeds})" if p.count > 1 else "")))
    rows.append(("Size", f"{p.width}×{p.height} ({p.aspect}) · Images: {p.count} · Steps: {p.steps} · "
                         f"CFG: {p.guidance:g}"))
    task = {JobTask.TXT2IMG: "text to image", JobTask.IMG2IMG: "image to image",
            JobTask.UPSCALE: "upscale (enlarge, then image to image)",
            JobTask.INPAINT: "outpaint (inpainting the new area)"}[p.task]
    if p.edit and p.edit.startswith("region:"):
        task = "vary region (inpainting the region)"
    if p.strength is not None:
        task += f" · Strength: {p.strength:g}"
    if p.upscale_factor:
        task += f" · Upscale: {p.upscale_factor:g}×"
    if p.edit:  # the same words as the Discord Info (bot/frontend/historytexts.py)
        from bot.renderer.outpaint_geometry import describe

        task += f" · {'Region' if p.edit.startswith('region:') else 'Outpaint'}: {describe(p.edit)}"
    rows.append(("Task", task))
    if p.inline:  # the parameters written in the prompt (--ar, --chaos, --tile, …), as parsed
        rows.append(("Prompt parameters", p.inline))
    rows.append(("Model", p.model + (f" · Sampler: {p.scheduler}" if p.scheduler else "")))
    if p.loras:  # "name:0.8,other:0.5", as the Discord Info shows them
        rows.append(("LoRAs", p.loras.replace(",", ", ")))
    if image_prompt:
        rows.append(("Image prompt", image_prompt))
    rows.append(("Lineage", lineage(details)))
    took = f" · rendered in {details.render_seconds:.1f} s" if details.render_seconds is not None else ""
    rows.append(("Time", f"asked {when(job.created_at)}{took}"))
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f'<h1>ℹ️ Job #{job.id}</h1><table class="info">{table}</table><p><a href="/jobs/{job.id}">back</a></p>'


def history_page(page: HistoryPage | None, search: str, error: str | None = None) -> str:
    form = (f'<form method="get" action="/history"><input name="q" value="{e(search)}" placeholder="words of the '
            f'prompt" aria-label="Search"><button>Search</button></form>')
    if page is None or not page.entries:
        return f"<h1>History</h1>{form}{error_box(error)}<p>No jobs{' match' if search else ' yet'}.</p>"
    rows = "".join(
        f'<tr><td><a href="/jobs/{x.id}">#{x.id}</a></td><td>{e(x.prompt[:120])}</td><td>{x.seed}</td>'
        f'<td>{x.width}×{x.height}{f" ×{x.count}" if x.count > 1 else ""}</td><td>{x.status.value}</td>'
        f'<td>{when(x.created_at)}</td></tr>' for x in page.entries)
    q = f"&q={e(search)}" if search else ""
    pager = ""
    if page.has_newer:
        pager += f'<a href="/history?newer={page.entries[0].id}{q}">◀ Newer</a> '
    if page.has_older:
        pager += f'<a href="/history?older={page.entries[-1].id}{q}">Older ▶</a>'
    return (f"<h1>History</h1>{form}<table><tr><th>job</th><th>prompt</th><th>seed</th><th>size</th>"
            f"<th>status</th><th>when</th></tr>{rows}</table><p>{pager}</p>")


def price_text(job: Job) -> str | None:
    if not job.charged:
        return None
    left = "no limit" if job.balance_left is None else f"{fmt(job.balance_left)} left"
    return f"💳 costs {fmt(job.charged)} credits · {left}"


def ended_statuses() -> tuple[JobStatus, ...]:
    return (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.BLOCKED)
