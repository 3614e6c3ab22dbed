"""Settings and presets (as /settings), and the moderators' stats chart and storage (as /mod stats
and /mod storage), on the web: the same services, limits and texts."""
from __future__ import annotations

import time

from aiohttp import web

from bot import charts, offload
from bot.errors import BotError, ValidationError, user_message
from bot.frontend.historytexts import defaults as defaults_text
from bot.frontend.modtexts import stats_summary
from bot.models import GenerationRequest
from bot.renderer.profiles import ASPECTS
from bot.services import stats as stats_service
from bot.services.settings_store import MAX_PRESET_NAME, VARIATIONS, Defaults
from bot.web.context import WEB
from bot.web.handlers import _number, render
from bot.web.mod import _moderator, _whole_bot
from bot.web.model_fields import form_text, settings_field
from bot.web.pages import ASPECT_NAMES, csrf_field, e, error_box

routes = web.RouteTableDef()


def _plain(text: str) -> str:
    """The Discord text of historytexts.defaults without its markdown."""
    return text.replace("**", "")


async def _settings_page(request: web.Request, message: str | None = None, error: str | None = None,
                         status: int = 200) -> web.Response:
    c, viewer, csrf = request.app[WEB], request["viewer"], request["session"].csrf
    store = c.core.member_settings
    current = await store.defaults(viewer.user_id)
    presets = await store.preset_names(viewer.user_id)
    aspects = "".join(f'<option value="{a}">{ASPECT_NAMES[a]}</option>' for a in ASPECTS)
    variations = "".join(f'<option value="{n}">{n} ({v:g})</option>' for n, v in VARIATIONS.items())
    lines = "<br>".join(e(line) for line in _plain(defaults_text(current)).split("\n"))
    done = f'<p class="notice" role="status">{e(message)}</p>' if message else ""
    body = (f"<h1>Settings</h1>{done}{error_box(error)}<p id=\"defaults\">{lines}</p>"
            f"<p>Presets: {e(', '.join(presets)) or 'none'}</p>"
            f'<form method="post" action="/settings/set">{csrf_field(csrf)}<div class="row">'
            f'<label>Aspect <select name="aspect"><option value="">(keep)</option>{aspects}</select></label>'
            '<label>Steps <input name="steps" type="number" min="1" max="150"></label>'
            '<label>Guidance <input name="guidance" type="number" step="0.1" min="0" max="30"></label>'
            '<label>Count <input name="count" type="number" min="1" max="4"></label>'
            f'<label>Variation <select name="variation"><option value="">(keep)</option>{variations}</select></label>'
            f"{settings_field(c.core.admission.catalog)}"
            '</div><label>Negative <input name="negative" maxlength="6000"></label>'
            "<button>Set defaults</button></form>"
            f'<form method="post" action="/settings/save" class="block">{csrf_field(csrf)}'
            f'<input name="name" maxlength="{MAX_PRESET_NAME}" placeholder="preset name" required>'
            "<button>Save as preset</button></form>"
            f'<form method="post" action="/settings/reset" class="block">{csrf_field(csrf)}'
            "<button>Reset defaults</button></form>")
    return await render(request, "Settings", body, status)


@routes.get("/settings")
async def settings_page(request: web.Request) -> web.Response:
    return await _settings_page(request)


@routes.post("/settings/{what:set|save|reset}")
async def settings_change(request: web.Request) -> web.Response:
    c, viewer = request.app[WEB], request["viewer"]
    form = await request.post()
    c.check_csrf(request, form.get("csrf"))
    store = c.core.member_settings
    try:
        c.check_ban(viewer)
        what = request.match_info["what"]
        if what == "reset":
            await store.reset(viewer.user_id)
            return await _settings_page(request, "Your defaults are reset: every option uses the model's default "
                                                 "again.")
        if what == "save":
            values = await store.save_preset(viewer.user_id, str(form.get("name") or ""))
            return await _settings_page(request, _plain(defaults_text(values, "Preset saved")).replace("\n", " · "))
        variation = str(form.get("variation") or "")
        model = form_text(form, "model")  # as /settings set model: (an unknown one refused, naming them)
        admission = c.core.admission
        changes = Defaults(aspect=str(form.get("aspect") or "") or None,
                           steps=_number(form, "steps", int, 1, 150, "Steps"),
                           guidance=_number(form, "guidance", float, 0.0, 30.0, "Guidance"),
                           negative=str(form.get("negative") or "") or None,
                           count=_number(form, "count", int, 1, 4, "Count"),
                           variation=VARIATIONS.get(variation) if variation else None,
                           model=admission.catalog.resolve(model).name if model else None)
        if changes.empty:
            raise ValidationError("Choose at least one option to set (or reset).")
        # The same limits and words as /imagine (the model's step and guidance ranges, prompt length).
        admission.validate(GenerationRequest(
            prompt="-", negative_prompt=changes.negative or "", aspect=changes.aspect or "1:1",
            count=changes.count or 1, steps=changes.steps, guidance=changes.guidance, seed=0,
            model=changes.model or (await store.defaults(viewer.user_id)).model))
        await store.update(viewer.user_id, changes)
    except BotError as exc:
        return await _settings_page(request, error=user_message(exc), status=400)
    return await _settings_page(request, "Saved.")


@routes.get("/mod/stats")
async def mod_stats(request: web.Request) -> web.Response:
    c, viewer = _moderator(request)
    days = int(request.query["days"]) if request.query.get("days", "").isdecimal() else 7
    numbers = await stats_service.collect(c.core.db, viewer.guild_id, days, time.time())
    await c.core.audit.viewed(guild_id=viewer.guild_id, moderator_id=viewer.user_id, action="view stats",
                              target_id=None, now=time.time())
    summary = _plain(stats_summary(numbers)).replace("<@", "member ").replace(">", "")
    return await render(request, "Stats", f"<h1>Stats</h1><p>{e(summary)}</p>"
                                          f'<img src="/mod/stats.png?days={len(numbers.days)}" alt="stats chart">')


@routes.get("/mod/stats.png")
async def mod_stats_png(request: web.Request) -> web.Response:
    c, viewer = _moderator(request)
    days = int(request.query["days"]) if request.query.get("days", "").isdecimal() else 7
    numbers = await stats_service.collect(c.core.db, viewer.guild_id, days, time.time())
    names = {m.user_id: f"member {m.user_id}" for m in numbers.top}
    # matplotlib draws in a worker thread (object API on an Agg canvas): the event loop keeps serving.
    # matplotlib draws in a helper process (bot/offload.py): in a thread it holds the loop's GIL.
    png = await offload.in_process(charts.stats_png, numbers, names, f"last {len(numbers.days)} day(s)")
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, no-store"})


@routes.get("/mod/storage")
async def mod_storage(request: web.Request) -> web.Response:
    from bot.frontend.historytexts import storage

    c, viewer = _moderator(request)
    _whole_bot(c, viewer)  # every server's images share the disk, as /mod storage
    use = await c.core.retention.usage()
    await c.core.audit.viewed(guild_id=viewer.guild_id, moderator_id=viewer.user_id, action="view storage",
                              target_id=None, now=time.time())
    lines = "<br>".join(e(line) for line in _plain(storage(use)).split("\n"))
    return await render(request, "Storage", f"<h1>Storage</h1><p>{lines}</p>")
