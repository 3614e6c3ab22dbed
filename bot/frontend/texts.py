"""What job messages say. Plain strings, so they are easy to test and to change; everything a member
wrote goes through `escape` (discord.py's escaping lives here, in the front end: services never
import discord)."""
from __future__ import annotations

import re

import discord

from bot.credits import fmt
from bot.i18n import _, say
from bot.models import Job, JobKind

CONTENT_LIMIT = 2000
BAR_CELLS = 12


# Bidirectional controls would let member text reorder what follows it on screen.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# Every character Discord's markdown reads, escaped one by one. Not discord.utils.escape_markdown
# alone: its masked-link rule matches "[...](...)" greedily up to the last ")" of the text and
# escapes only the first "[", which leaves all the markup inside that span live (measured with
# discord.py 2.7: "[a](b) **bold** f(x)" kept its bold).
_MARKUP = {ord(ch): "\\" + ch for ch in "\\*_~|`[]<"}
# Headings, quotes and lists only start a line; escaped text is one line, so only its start counts.
_LINE_START = ("#", "-", ">", "+")
_ORDERED_LIST = re.compile(r"^(\d+)\.(?=\s)")


def _escape(text: str) -> str:
    """Member-written text (prompts, negatives, preset names, searches, names, reasons) as plain text
    inside a bot message: on one line (a new line would start a heading, quote or list), with every
    markdown character escaped (bold, italics, code, spoilers, masked links, `<#…>`/`</…>`/`<t:…>`,
    and a heading, quote or list marker at its start), so a trailing backslash cannot swallow the
    markup that follows, and mentions defused with a zero-width space (allowed_mentions is none as well, so
    nothing pings whatever slips through)."""
    plain = " ".join(str(text).translate(_BIDI).split()).translate(_MARKUP)
    if plain.startswith(_LINE_START):
        plain = "\\" + plain
    plain = _ORDERED_LIST.sub(r"\1\\.", plain)
    return discord.utils.escape_mentions(plain)


escape = _escape  # shared with the moderator texts


def clip(escaped: str, limit: int) -> str:
    """Shorten escaped text to `limit` characters with an ellipsis, never leaving half an escape
    (a lone trailing backslash would escape the markup after it)."""
    cut = escaped[: limit - 1]
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]
    return cut + "…"


def headline(job: Job, limit: int = 1500) -> str:
    prompt = _escape(job.params.prompt)
    if len(prompt) > limit:
        prompt = clip(prompt, limit)
    what = {JobKind.IMAGINE: "", JobKind.REROLL: _(" (re-roll)"), JobKind.VARIATION: _(" (variation)"),
            JobKind.UPSCALE: _(" (upscale)")}.get(job.kind, f" ({job.kind.value})")
    return f"**{prompt}**{what} — <@{job.user_id}>"


def _duration(seconds: float) -> str:
    seconds = max(1, int(round(seconds)))
    if seconds < 90:
        return _("{seconds} s", seconds=seconds)
    return _("{minutes} min {seconds:02d} s", minutes=seconds // 60, seconds=seconds % 60)


def progress_bar(fraction: float) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * BAR_CELLS))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def waiting(job: Job, position: int, eta: float | None) -> str:
    when = _(" · ready in about {duration}", duration=_duration(eta)) if eta is not None else ""
    return fit(f"{headline(job)}\n"
               + _("⏳ Waiting in queue — position {position}{when}", position=position, when=when))


def rendering(job: Job, step: int, total: int, eta: float | None) -> str:
    fraction = step / total if total else 0.0
    left = _(" · about {duration} left", duration=_duration(eta)) if eta is not None and step else ""
    return fit(
        f"{headline(job)}\n" + _("🎨 Rendering `{bar}` {percent}% (step {step}/{total}){left}",
                                 bar=progress_bar(fraction), percent=int(fraction * 100), step=step, total=total,
                                 left=left)
    )


def details(job: Job) -> str:
    """The result's second line (Discord and the web front end alike): seed, size, steps, how it was made."""
    p = job.params
    line = _("seed {seed} · {width}×{height} · {steps} steps · CFG {guidance:g}", seed=p.seed, width=p.width,
             height=p.height, steps=p.steps, guidance=p.guidance)
    if p.upscale_factor:
        line += _(" · {factor:g}× upscale", factor=p.upscale_factor)
    elif p.edit:
        from bot.renderer.outpaint_geometry import describe

        line += _(" · {edit} from job #{job}", edit=describe(p.edit), job=job.parent_job_id)
    elif p.init_image and p.init_image.startswith("inputs/"):
        line += _(" · from an image prompt")
    if p.strength is not None:
        line += _(" · strength {strength:g}", strength=p.strength)
    if p.chaos is not None:
        line += _(" · chaos {chaos}", chaos=p.chaos)
    if p.tile:
        line += _(" · tiled")
    return line


def result(job: Job) -> str:
    return fit(f"{headline(job)}\n{details(job)}")


def ended(job: Job, message: str) -> str:
    return fit(f"{headline(job)}\n❌ {say(message)}")


def price(job: Job) -> str | None:
    """The first reply's price line; None without quotas (nothing was charged)."""
    if not job.charged:
        return None
    left = _("no limit") if job.balance_left is None else _("{credits} left", credits=fmt(job.balance_left))
    return _("💳 costs {credits} credits · {left}", credits=fmt(job.charged), left=left)


def paused(reason: str | None) -> str:
    why = f": {_escape(reason)}" if reason else ""
    return _("⏸ A moderator paused the queue{why}. Your job keeps its place and starts when they resume it.", why=why)


def with_notices(notices: list[str], text: str, locale: object = ...) -> str:
    """A reply with what moderators did to the member first ("a moderator gave you 20.0 credits"), in
    `locale`'s language (default: the reply being written)."""
    if not notices:
        return text
    told = "\n".join(f"📣 {_escape(say(notice, locale))}" for notice in notices)
    return fit(f"{told}\n\n{text}" if text else told)


def fit(text: str) -> str:
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "…"
