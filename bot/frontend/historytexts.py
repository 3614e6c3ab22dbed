"""What /history, /show, Info, /settings and /mod storage say. Plain strings, easy to test."""
from __future__ import annotations

from bot.credits import fmt
from bot.frontend.texts import _escape, fit
from bot.models import Job, JobKind, JobTask
from bot.services.history import HistoryEntry, HistoryPage, JobDetails
from bot.services.retention import StorageUse
from bot.services.settings_store import Defaults, variation_name

PROMPT_SHOWN = 60
STATUS_ICONS = {"queued": "⏳", "running": "🎨", "done": "📦", "delivered": "✅", "failed": "❌",
                "cancelled": "✖", "expired": "⌛", "blocked": "🚫"}


def short(text: str, limit: int = PROMPT_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def history_line(entry: HistoryEntry) -> str:
    icon = STATUS_ICONS.get(entry.status.value, "•")
    kind = "" if entry.kind is JobKind.IMAGINE else f" ({entry.kind.value})"
    count = f" ×{entry.count}" if entry.count > 1 else ""
    return (f"`#{entry.id}` {icon} {entry.status.value}{kind} · {_escape(short(entry.prompt))} · seed {entry.seed} · "
            f"{entry.width}×{entry.height}{count} · <t:{int(entry.created_at)}:R>")


def history_page(page: HistoryPage, own: bool) -> str:
    whose = "Your jobs" if own else f"Jobs of <@{page.view.member_id}>"  # a mention never pings here
    search = f" matching “{_escape(page.view.search)}”" if page.view.search else ""
    if not page.entries:
        return f"{whose}{search}: none here." if not search else f"No jobs{search}."
    head = f"**{whose}{search}** (newest first)"
    return fit("\n".join([head, *(history_line(e) for e in page.entries)]))


def _describe_kind(job: Job) -> str:
    index = f"image {job.parent_image_index + 1} of " if job.parent_image_index is not None else ""
    parent = f"#{job.parent_job_id}" if job.parent_job_id else "?"
    if job.kind is JobKind.REROLL:
        return f"re-roll of {parent}"
    if job.kind is JobKind.VARIATION:
        return f"variation of {index}{parent}"
    if job.kind is JobKind.UPSCALE:
        return f"{job.params.upscale_factor or 2:g}× upscale of {index}{parent}"
    if job.kind in (JobKind.OUTPAINT, JobKind.REGION) and job.params.edit:
        from bot.renderer.outpaint_geometry import describe

        image = f" image {job.parent_image_index + 1}" if job.parent_image_index is not None else ""
        return f"{describe(job.params.edit)} from job {parent}{image}"
    if job.params.init_image:
        return "image prompt"
    return "imagine"


def lineage(details: JobDetails) -> str:
    chain = [details.job, *details.lineage]
    parts = [f"#{job.id} {_describe_kind(job)}" for job in chain]
    return " ← ".join(parts)


def info(details: JobDetails, image_prompt: str | None = None) -> str:
    job, p = details.job, details.job.params
    lines = [f"ℹ️ **Job #{job.id}** · {job.kind.value} · {job.status.value} · by <@{job.user_id}>",
             f"**Prompt:** {_escape(p.prompt)}"]
    if p.negative_prompt:
        lines.append(f"**Negative:** {_escape(p.negative_prompt)}")
    if p.safety_negative:  # what content safety added for the channel, apart from the member's words
        lines.append(f"**Safety negative (added by the bot):** {_escape(p.safety_negative)}")
    seeds = ", ".join(str(p.image_seed(i)) for i in range(p.count))
    lines.append(f"**Seed:** {p.seed}" + (f" (images: {seeds})" if p.count > 1 else ""))
    lines.append(f"**Size:** {p.width}×{p.height} ({p.aspect}) · **Images:** {p.count} · **Steps:** {p.steps} · "
                 f"**CFG:** {p.guidance:g}")
    task = {JobTask.TXT2IMG: "text to image", JobTask.IMG2IMG: "image to image",
            JobTask.UPSCALE: "upscale (enlarge, then image to image)",
            JobTask.INPAINT: "outpaint (inpainting the new area)"}[p.task]
    extra = f" · **Strength:** {p.strength:g}" if p.strength is not None else ""
    if p.upscale_factor:
        extra += f" · **Upscale:** {p.upscale_factor:g}×"
    if p.edit:
        from bot.renderer.outpaint_geometry import describe

        region = p.edit.startswith("region:")
        task = "vary region (inpainting the region)" if region else task
        extra += f" · **{'Region' if region else 'Outpaint'}:** {describe(p.edit)}"
    lines.append(f"**Task:** {task}{extra}")
    if p.inline:  # the parameters written in the prompt (--ar, --chaos, --tile, …), as parsed
        lines.append(f"**Prompt parameters:** {_escape(p.inline)}")
    lines.append(f"**Model:** {_escape(p.model)}" + (f" · **Sampler:** {p.scheduler}" if p.scheduler else ""))
    if p.loras:  # "name:0.8,other:0.5" (bot/models_catalog.py)
        lines.append(f"**LoRAs:** {_escape(p.loras.replace(',', ', '))}")
    if image_prompt:
        lines.append(f"**Image prompt:** {image_prompt}")
    # The price fixed at submit (bot/prices.py); without quotas nothing was charged.
    charged = f"{fmt(job.charged)} credits charged" if job.charged else f"{fmt(job.cost)} credits (not charged)"
    lines.append(f"**Price:** {charged}")
    lines.append(f"**Lineage:** {lineage(details)}")
    when = f"asked <t:{int(job.created_at)}:f>"
    if details.render_seconds is not None:
        when += f" · rendered in {details.render_seconds:.1f} s"
    lines.append(f"**Time:** {when}")
    return fit("\n".join(lines))


def shown(job: Job, viewer_id: int, total: int, kept: int) -> str:
    p = job.params
    missing = f" · {total - kept} of {total} images not shown" if kept < total else ""
    who = "" if job.user_id == viewer_id else f" (shown by <@{viewer_id}>)"
    return fit(f"**{_escape(short(p.prompt, 1500))}** — job #{job.id} by <@{job.user_id}>{who}\n"
               f"seed {p.seed} · {p.width}×{p.height} · {p.steps} steps · CFG {p.guidance:g}{missing}")


def defaults(values: Defaults, title: str = "Your /imagine defaults") -> str:
    if values.empty:
        return f"**{title}:** none — every option uses the model's default."
    rows = []
    if values.model:
        rows.append(f"model {_escape(short(values.model, 64))}")
    if values.aspect:
        rows.append(f"aspect {values.aspect}")
    if values.steps is not None:
        rows.append(f"steps {values.steps}")
    if values.guidance is not None:
        rows.append(f"guidance {values.guidance:g}")
    if values.count is not None:
        rows.append(f"count {values.count}")
    if values.variation is not None:
        rows.append(f"variation {variation_name(values.variation)} ({values.variation:g})")
    if values.negative:
        rows.append(f"negative “{_escape(short(values.negative, 200))}”")
    return fit(f"**{title}:** " + " · ".join(rows))


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def storage(use: StorageUse) -> str:
    keep = f"{use.retention_days} days" if use.retention_days else "forever (IMAGE_RETENTION_DAYS=0)"
    return "\n".join([
        "**Storage**",
        f"Images: {_size(use.image_bytes)} in {_files(use.image_files)} · {use.pruned_images} removed by retention",
        f"Image prompts: {_size(use.input_bytes)} in {_files(use.input_files)}",
        f"Database: {_size(use.database_bytes)}",
        f"Free on that disk: {_size(use.free_bytes)} · images are kept {keep}",
    ])
