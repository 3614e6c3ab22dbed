"""What /history, /show, Info, /settings and /mod storage say. Plain strings, easy to test."""
from __future__ import annotations

from bot.credits import fmt
from bot.frontend.texts import _escape, fit
from bot.i18n import _, say
from bot.models import Job, JobKind, JobTask
from bot.services.history import HistoryEntry, HistoryPage, JobDetails
from bot.services.retention import StorageUse
from bot.services.settings_store import Defaults, variation_name
from bot.words import kind, status

PROMPT_SHOWN = 60
STATUS_ICONS = {"queued": "⏳", "running": "🎨", "done": "📦", "delivered": "✅", "failed": "❌",
                "cancelled": "✖", "expired": "⌛", "blocked": "🚫"}


def short(text: str, limit: int = PROMPT_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def history_line(entry: HistoryEntry) -> str:
    icon = STATUS_ICONS.get(entry.status.value, "•")
    what = "" if entry.kind is JobKind.IMAGINE else f" ({say(kind(entry.kind))})"
    count = f" ×{entry.count}" if entry.count > 1 else ""
    return (f"`#{entry.id}` {icon} {say(status(entry.status))}{what} · {_escape(short(entry.prompt))} · "
            + _("seed {seed}", seed=entry.seed)
            + f" · {entry.width}×{entry.height}{count} · <t:{int(entry.created_at)}:R>")


def history_page(page: HistoryPage, own: bool) -> str:
    whose = _("Your jobs") if own else _("Jobs of <@{member}>", member=page.view.member_id)  # never pings
    search = _(" matching “{search}”", search=_escape(page.view.search)) if page.view.search else ""
    if not page.entries:
        return (_("{whose}{search}: none here.", whose=whose, search=search) if not search
                else _("No jobs{search}.", search=search))
    head = _("**{whose}{search}** (newest first)", whose=whose, search=search)
    return fit("\n".join([head, *(history_line(e) for e in page.entries)]))


def _describe_kind(job: Job) -> str:
    n = job.parent_image_index + 1 if job.parent_image_index is not None else None
    parent = f"#{job.parent_job_id}" if job.parent_job_id else "?"
    if job.kind is JobKind.REROLL:
        return _("re-roll of {parent}", parent=parent)
    if job.kind is JobKind.VARIATION:
        return (_("variation of image {n} of {parent}", n=n, parent=parent) if n is not None
                else _("variation of {parent}", parent=parent))
    if job.kind is JobKind.UPSCALE:
        factor = job.params.upscale_factor or 2
        return (_("{factor:g}× upscale of image {n} of {parent}", factor=factor, n=n, parent=parent) if n is not None
                else _("{factor:g}× upscale of {parent}", factor=factor, parent=parent))
    if job.kind in (JobKind.OUTPAINT, JobKind.REGION) and job.params.edit:
        from bot.renderer.outpaint_geometry import describe

        edit = describe(job.params.edit)
        return (_("{edit} from job {parent} image {n}", edit=edit, parent=parent, n=n) if n is not None
                else _("{edit} from job {parent}", edit=edit, parent=parent))
    if job.params.init_image:
        return _("image prompt")
    return _("imagine")


def lineage(details: JobDetails) -> str:
    chain = [details.job, *details.lineage]
    parts = [f"#{job.id} {_describe_kind(job)}" for job in chain]
    return " ← ".join(parts)


def info(details: JobDetails, image_prompt: str | None = None) -> str:
    job, p = details.job, details.job.params
    lines = [_("ℹ️ **Job #{job}** · {kind} · {status} · by <@{user}>", job=job.id, kind=kind(job.kind),
               status=status(job.status), user=job.user_id),
             _("**Prompt:** {prompt}", prompt=_escape(p.prompt))]
    if p.negative_prompt:
        lines.append(_("**Negative:** {negative}", negative=_escape(p.negative_prompt)))
    if p.safety_negative:  # what content safety added for the channel, apart from the member's words
        lines.append(_("**Safety negative (added by the bot):** {negative}", negative=_escape(p.safety_negative)))
    seeds = ", ".join(str(p.image_seed(i)) for i in range(p.count))
    lines.append(_("**Seed:** {seed}", seed=p.seed) + (_(" (images: {seeds})", seeds=seeds) if p.count > 1 else ""))
    lines.append(_("**Size:** {width}×{height} ({aspect}) · **Images:** {count} · **Steps:** {steps} · "
                   "**CFG:** {guidance:g}", width=p.width, height=p.height, aspect=p.aspect, count=p.count,
                   steps=p.steps, guidance=p.guidance))
    task = {JobTask.TXT2IMG: _("text to image"), JobTask.IMG2IMG: _("image to image"),
            JobTask.UPSCALE: _("upscale (enlarge, then image to image)"),
            JobTask.INPAINT: _("outpaint (inpainting the new area)")}[p.task]
    extra = _(" · **Strength:** {strength:g}", strength=p.strength) if p.strength is not None else ""
    if p.upscale_factor:
        extra += _(" · **Upscale:** {factor:g}×", factor=p.upscale_factor)
    if p.edit:
        from bot.renderer.outpaint_geometry import describe

        region = p.edit.startswith("region:")
        task = _("vary region (inpainting the region)") if region else task
        extra += (_(" · **Region:** {edit}", edit=describe(p.edit)) if region
                  else _(" · **Outpaint:** {edit}", edit=describe(p.edit)))
    lines.append(_("**Task:** {task}{extra}", task=task, extra=extra))
    if p.inline:  # the parameters written in the prompt (--ar, --chaos, --tile, …), as parsed
        lines.append(_("**Prompt parameters:** {inline}", inline=_escape(p.inline)))
    lines.append(_("**Model:** {model}", model=_escape(p.model))
                 + (_(" · **Sampler:** {sampler}", sampler=p.scheduler) if p.scheduler else ""))
    if p.loras:  # "name:0.8,other:0.5" (bot/models_catalog.py)
        lines.append(_("**LoRAs:** {loras}", loras=_escape(p.loras.replace(',', ', '))))
    if image_prompt:
        lines.append(_("**Image prompt:** {source}", source=image_prompt))
    # The price fixed at submit (bot/prices.py); without quotas nothing was charged.
    charged = (_("{credits} credits charged", credits=fmt(job.charged)) if job.charged
               else _("{credits} credits (not charged)", credits=fmt(job.cost)))
    lines.append(_("**Price:** {charged}", charged=charged))
    lines.append(_("**Lineage:** {lineage}", lineage=lineage(details)))
    when = _("asked <t:{at}:f>", at=int(job.created_at))
    if details.render_seconds is not None:
        when += _(" · rendered in {seconds:.1f} s", seconds=details.render_seconds)
    lines.append(_("**Time:** {when}", when=when))
    return fit("\n".join(lines))


def shown(job: Job, viewer_id: int, total: int, kept: int) -> str:
    p = job.params
    missing = _(" · {hidden} of {total} images not shown", hidden=total - kept, total=total) if kept < total else ""
    who = "" if job.user_id == viewer_id else _(" (shown by <@{viewer}>)", viewer=viewer_id)
    return fit(f"**{_escape(short(p.prompt, 1500))}** — "
               + _("job #{job} by <@{user}>{who}", job=job.id, user=job.user_id, who=who) + "\n"
               + _("seed {seed} · {width}×{height} · {steps} steps · CFG {guidance:g}", seed=p.seed, width=p.width,
                   height=p.height, steps=p.steps, guidance=p.guidance) + missing)


def defaults(values: Defaults, title: str | None = None) -> str:
    title = title or _("Your /imagine defaults")
    if values.empty:
        return _("**{title}:** none — every option uses the model's default.", title=title)
    rows = []
    if values.model:
        rows.append(_("model {model}", model=_escape(short(values.model, 64))))
    if values.aspect:
        rows.append(_("aspect {aspect}", aspect=values.aspect))
    if values.steps is not None:
        rows.append(_("steps {steps}", steps=values.steps))
    if values.guidance is not None:
        rows.append(_("guidance {guidance:g}", guidance=values.guidance))
    if values.count is not None:
        rows.append(_("count {count}", count=values.count))
    if values.variation is not None:
        rows.append(_("variation {name} ({value:g})", name=variation_name(values.variation), value=values.variation))
    if values.negative:
        rows.append(_("negative “{negative}”", negative=_escape(short(values.negative, 200))))
    return fit(f"**{title}:** " + " · ".join(rows))


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _files(n: int) -> str:
    return _("{n} file", n=n) if n == 1 else _("{n} files", n=n)


def storage(use: StorageUse) -> str:
    keep = (_("{days} days", days=use.retention_days) if use.retention_days
            else _("forever (IMAGE_RETENTION_DAYS=0)"))
    return "\n".join([
        _("**Storage**"),
        _("Images: {size} in {files} · {pruned} removed by retention", size=_size(use.image_bytes),
          files=_files(use.image_files), pruned=use.pruned_images),
        _("Image prompts: {size} in {files}", size=_size(use.input_bytes), files=_files(use.input_files)),
        _("Database: {size}", size=_size(use.database_bytes)),
        _("Free on that disk: {size} · images are kept {keep}", size=_size(use.free_bytes), keep=keep),
    ])
