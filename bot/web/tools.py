"""The tools under a single web result (a count=1 image, an upscale, an outpaint, a redraw): what the
Discord buttons offer there (bot/frontend/result_view.py, outpaint_buttons.py, region_views.py):
Vary (Subtle) / Vary (Strong), Zoom Out 2× / 1.5×, Vary (Region), Make Square (non-square only),
Pan ⬅ ➡ ⬆ ⬇, each a POST that builds the same request the button builds and sends it through the
one submit path (validation, safety, quota), so prices, refusals and lineage are the bot's.

Vary (Region) opens a page with the image under a <canvas> (bot/web/static/region.js): the member
paints what to redraw (or ticks cells of the 3×3 grid the Discord picker offers), may change the
prompt, and submits; the painted layer arrives as a PNG data URL and becomes a painted edit
(bot/services/region_masks.py), stored with the job like the picker's cells.

Every handler authorizes from stored state first (`authz.job`: the viewer's server, the job's
owner and place), never from the form. The job's live preview (preview_block, `preview`) is
served here too, to those who may see the job."""
from __future__ import annotations

from aiohttp import web

from bot.errors import BotError, NotFound, ValidationError, user_message
from bot.models import Job, OutpaintRequest, RegionRequest, StoredImage, VariationRequest, WorkRequest
from bot.renderer import outpaint_geometry as geometry
from bot.services import region_masks
from bot.services.authz import JobAction
from bot.services.settings_store import VARIATIONS
from bot.web import pages
from bot.web.handlers import _after_action, _job, ctx, render, submit
from bot.web.pages import csrf_field, e

routes = web.RouteTableDef()

# The web's names of the Discord edits (the same edits, bot/frontend/outpaint_buttons.py EDITS):
# URL code -> (edit, label). Pans are always offered; one past the model's limit is refused, saying why.
EDITS: dict[str, tuple[str, str]] = {
    "z2": ("zoom:2", "Zoom Out 2×"),
    "z15": ("zoom:1.5", "Zoom Out 1.5×"),
    "sq": ("square", "Make Square"),
    "l": ("pan:left", geometry.ARROWS["left"]),
    "r": ("pan:right", geometry.ARROWS["right"]),
    "u": ("pan:up", geometry.ARROWS["up"]),
    "d": ("pan:down", geometry.ARROWS["down"]),
}
MAX_MASK_URL = 8 * 2**20  # characters of the painted layer's data URL (a 2048² PNG is far less)


def single_image_tools(job: Job, csrf: str) -> str:
    """The outpaint and Vary (Region) row under a single image (empty under a grid)."""
    if job.params.count != 1:
        return ""

    def button(code: str) -> str:
        return (f'<form method="post" action="/jobs/{job.id}/outpaint/0/{code}" class="inline">{csrf_field(csrf)}'
                f'<button>{e(EDITS[code][1])}</button></form>')

    zoom = button("z2") + button("z15") + f'<a class="button" href="/jobs/{job.id}/region/0">🖌 Vary (Region)</a>'
    if job.params.width != job.params.height:
        zoom += button("sq")
    pans = "".join(button(code) for code in ("l", "r", "u", "d"))
    return f'<div class="actions tools"><div>{zoom}</div><div>{pans}</div></div>'


def _ctx(request: web.Request):

    return ctx(request)


async def _authorized(request: web.Request, action: JobAction) -> Job:

    return await _job(request, action)


async def _new_job(request: web.Request, action: JobAction, work: WorkRequest) -> web.Response:

    form = await request.post()
    await _after_action(request, form)  # CSRF, then the ban check, as every action
    await _authorized(request, action)
    job = await submit(_ctx(request), request["viewer"], work)
    raise web.HTTPSeeOther(f"/jobs/{job.id}")


def _index(request: web.Request) -> int:
    return int(request.match_info["index"])


@routes.post("/jobs/{job}/vary/{index:\\d+}/{mode:subtle|strong}")
async def vary_fixed(request: web.Request) -> web.Response:
    """Vary (Subtle) / Vary (Strong): a variation at that fixed strength, whatever /settings says."""
    work = VariationRequest(int(request.match_info["job"]), _index(request), VARIATIONS[request.match_info["mode"]])
    return await _new_job(request, JobAction.VARY, work)


@routes.post("/jobs/{job}/outpaint/{index:\\d+}/{code}")
async def outpaint(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    if code not in EDITS:
        raise web.HTTPNotFound()
    work = OutpaintRequest(int(request.match_info["job"]), _index(request), EDITS[code][0])
    return await _new_job(request, JobAction.OUTPAINT, work)


async def _image(request: web.Request, job: Job) -> StoredImage:
    shown = {i.index: i for i in await _ctx(request).showable(job)}
    image = shown.get(_index(request))
    if image is None:
        raise NotFound("That image is not shown here.")
    return image


def region_page(job: Job, image: StoredImage, csrf: str, prompt: str, cells: set[int], error: str | None) -> str:
    grid = "".join(f'<label class="cell"><input type="checkbox" name="cells" value="{n}"'
                   f'{" checked" if n in cells else ""}> {e(name)}</label>'
                   for n, name in enumerate(geometry.CELL_NAMES, start=1))
    return (f'<h1>🖌 Vary (Region) · job #{job.id}</h1>{pages.error_box(error)}'
            '<p>Paint over the part of the image to redraw (or tick cells of the grid below), change the '
            'prompt if you like, then redraw. Everything you do not paint is kept.</p>'
            f'<form method="post" action="/jobs/{job.id}/region/{image.index}" id="region">{csrf_field(csrf)}'
            f'<div class="paint"><img src="/images/{job.id}/{image.index}" alt="the image to redraw" '
            f'width="{image.width}" height="{image.height}">'
            f'<canvas id="mask" width="{image.width}" height="{image.height}" aria-label="paint the region"></canvas>'
            '</div><input type="hidden" name="mask" id="mask-data">'
            '<div class="row"><label>Brush size <input type="range" id="brush" min="2" max="40" value="10">'
            '</label><button type="button" id="clear">Clear</button></div>'
            f'<details><summary>Or choose parts of a 3×3 grid</summary><div class="cells">{grid}</div></details>'
            f'<label>Prompt for the region <textarea name="prompt" rows="3" maxlength="4000">{e(prompt)}</textarea>'
            '</label><button type="submit">Redraw the region</button></form>'
            f'<p><a href="/jobs/{job.id}">back</a></p><script src="/static/region.js"></script>')


@routes.get("/jobs/{job}/region/{index:\\d+}")
async def region_form(request: web.Request) -> web.Response:

    job = await _authorized(request, JobAction.VARY)
    image = await _image(request, job)
    return await render(request, f"Vary (Region) #{job.id}",
                        region_page(job, image, request["session"].csrf, job.params.prompt, set(), None))


@routes.post("/jobs/{job}/region/{index:\\d+}")
async def region_submit(request: web.Request) -> web.Response:

    form = await request.post()
    await _after_action(request, form)
    job = await _authorized(request, JobAction.VARY)
    image = await _image(request, job)
    prompt = str(form.get("prompt") or "").strip()
    cells = {int(v) for v in form.getall("cells", []) if isinstance(v, str) and v in "123456789" and len(v) == 1}
    try:
        mask = form.get("mask")
        if not isinstance(mask, str) or len(mask) > MAX_MASK_URL:
            raise ValidationError("The painted region did not arrive: paint again and resubmit.")
        edit = region_masks.edit_for(mask, cells, image.width, image.height)
        new = await submit(_ctx(request), request["viewer"], RegionRequest(job.id, image.index, edit, prompt or None))
    except BotError as exc:
        body = region_page(job, image, request["session"].csrf, prompt or job.params.prompt, cells, user_message(exc))
        return await render(request, f"Vary (Region) #{job.id}", body, status=400)
    raise web.HTTPSeeOther(f"/jobs/{new.id}")


# ---- live previews ----
def preview_block(job: Job, number: int) -> str:
    """The newest live preview under the progress line (swapped in with it over server-sent events)."""
    if not number:
        return ""
    return (f'<figure class="preview"><img src="/jobs/{job.id}/preview/{number}" alt="live preview" '
            f'id="preview"><figcaption>live preview</figcaption></figure>')


@routes.get("/jobs/{job}/preview/{number:\\d+}")
async def preview(request: web.Request) -> web.Response:
    """The job's newest preview, to those who may see the job (authorized as its page is); the
    number in the URL only makes each new one a new image for the browser."""
    job = await _authorized(request, JobAction.INFO)
    shown = _ctx(request).events.preview(job.id)
    if shown is None:
        raise NotFound("There is no live preview of that job now.")
    return web.Response(body=shown[1], content_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
