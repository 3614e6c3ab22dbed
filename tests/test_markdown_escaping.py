"""Member-written text cannot restyle the bot's messages: no masked links, headings, quotes, lists,
code blocks, spoilers or new lines, no live mentions, in every message that echoes it."""
from __future__ import annotations

import re
import time

from bot.frontend import historytexts, modtexts, texts
from bot.frontend.safety import describe_block
from bot.models import Job, JobKind, JobParams, JobStatus, Priority, Requester
from bot.safety.terms import Category
from bot.services.audit import AuditEntry, AuditPage
from bot.services.safety_records import BlockRecord

HOSTILE = ("[free nitro](https://evil.example/claim) @everyone @here <@123456789012345678> <@&123456789012345679> "
           "**bold** __under__ ~~gone~~ ||spoiler|| ```py\nprint(1)``` `tick`\n# Heading\n> quote\n- item\n"
           "-# small <#123456789012345670> </imagine:1> <t:0:R> \u202egnp.exe trailing\\")
MARKUP = set("*_~|`[]<")  # live anywhere in a line
LINE_START = ("#", "-", ">", "+")  # live at the start of a line only (escaped text is one line)


def unescaped(segment: str) -> str:
    """What is left of `segment` once every backslash escape is taken out: markup Discord would read."""
    return re.sub(r"\\.", "", segment)


def assert_plain(segment: str) -> None:
    assert "\n" not in segment and "\u202e" not in segment
    left = unescaped(segment)
    assert not MARKUP & set(left), sorted(MARKUP & set(left))
    assert not left.lstrip().startswith(LINE_START), left[:20]
    assert "@everyone" not in segment and "@here" not in segment
    assert not re.search(r"<@[!&]?\d", segment)


def job(prompt: str = HOSTILE, negative: str = HOSTILE) -> Job:
    params = JobParams(prompt=prompt, negative_prompt=negative, aspect="1:1", width=64, height=64, steps=4,
                       guidance=7.0, count=1, seed=1, model="tiny")
    return Job(id=7, kind=JobKind.IMAGINE, status=JobStatus.DELIVERED, requester=Requester(user_id=5, channel_id=9),
               priority=Priority.INTERACTIVE,
               params=params, created_at=time.time())


def test_a_hostile_prompt_stays_plain_text_in_the_job_message():
    content = texts.result(job())
    first, _ = content.split("\n", 1)  # the prompt is on the first line, with the owner's mention after it
    assert first.startswith("**") and first.endswith("** — <@5>")
    assert_plain(first[2:-len("** — <@5>")])


def test_a_long_hostile_prompt_is_clipped_without_half_an_escape():
    prompt = "a" * 1498 + "*" * 10  # escaping doubles the stars; the cut lands inside one
    first = texts.headline(job(prompt))
    segment = first[2:-len("** — <@5>")]
    assert segment.endswith("…") and not segment[:-1].endswith("\\")
    assert_plain(segment[:-1])


def test_block_log_moderator_log_and_notices_escape_what_members_wrote():
    record = BlockRecord(1, 3, 9, 5, None, "prompt", Category.CUSTOM, None, HOSTILE, time.time())
    quoted = describe_block(record).split("\n> ", 1)[1]
    assert_plain(quoted.rstrip("…"))
    entry = AuditEntry(1, 3, 4, 5, "ban", "not banned", "banned", HOSTILE, time.time())
    line = modtexts.audit_page(AuditPage([entry], 0, False), None).split("\n")[1]
    assert_plain(line.split(" — ", 1)[1])
    notice = texts.with_notices([f"A moderator gave you 2 credits: {HOSTILE}"], "")
    assert_plain(notice.split(": ", 1)[1])


def test_history_search_and_preset_texts_escape_what_members_wrote():
    assert_plain(texts.escape(historytexts.short(HOSTILE)))
    for start in ("# Heading", "> quote", "- item", "-# small"):
        assert texts.escape(start).startswith("\\"), start
    assert texts.escape("12. first") == "12\\. first" and texts.escape("12 cats") == "12 cats"
    assert_plain(texts.escape("my **preset** [x](https://evil.example)"))
