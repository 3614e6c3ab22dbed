"""Alt text for every attachment the bot posts (Discord's attachment `description`, read by screen
readers): "AI-generated image: <prompt>", at most 1024 characters, Discord's limit.

Discord does not render markdown in a description, and a screen reader would read an escaping
backslash aloud, so the prompt is not markdown-escaped: it is made harmless instead. Controls that
reorder text (bidirectional overrides), other control and zero-width characters, and line breaks
are removed, whitespace is collapsed, and a long prompt is cut at a word boundary with an ellipsis,
never inside a grapheme (a combining mark or an emoji's joiner sequence is kept whole)."""
from __future__ import annotations

import unicodedata

DESCRIPTION_LIMIT = 1024  # Discord's limit for an attachment description, in characters
IMAGE_PREFIX = "AI-generated image: "
_ELLIPSIS = "…"
# A cut at one of these would split a grapheme: a combining mark, a variation selector, a joiner.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def _clean(text: str) -> str:
    """One line of visible text: control/format characters (bidi overrides, zero-width spaces, new
    lines) dropped, except the joiner and variation selectors that emoji need; runs of whitespace
    become one space."""
    kept = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif category in ("Cc", "Cf", "Co", "Cs", "Cn") and ch not in _JOINERS:
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def _splits_grapheme(text: str, at: int) -> bool:
    """Whether cutting `text` before index `at` separates a character from what belongs to it."""
    if at <= 0 or at >= len(text):
        return False
    nxt, prev = text[at], text[at - 1]
    return unicodedata.combining(nxt) > 0 or nxt in _JOINERS or prev == "\u200d"


def fit(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`text` shortened to `limit` characters: at the last space when one is near, never inside a
    grapheme, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = limit - len(_ELLIPSIS)
    space = text.rfind(" ", 0, cut + 1)
    if space >= cut * 3 // 4:  # a word boundary not too far back
        cut = space
    while _splits_grapheme(text, cut):
        cut -= 1
    return text[:cut].rstrip() + _ELLIPSIS


def image_description(prompt: str, what: str = IMAGE_PREFIX) -> str:
    """The alt text of a generated image: "AI-generated image: <prompt>" within Discord's limit."""
    prompt = _clean(prompt) or "no prompt"
    return fit(what + prompt)


def chart_description(days: int, jobs: int, gpu_seconds: float, failures: int, blocks: int) -> str:
    """The alt text of the /mod stats chart: what it draws and its totals (the message says them too)."""
    return fit(f"Chart of the image bot's use over the last {days} UTC day(s): jobs per day as bars and "
               f"GPU-seconds as a line ({jobs} jobs, {gpu_seconds:.1f} GPU-seconds in all), failures and "
               f"safety blocks per day ({failures} and {blocks}), and the five members who used the most credits.")
