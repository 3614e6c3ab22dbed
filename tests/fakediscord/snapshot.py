"""A stored message as a static HTML page in the style of Discord's dark theme, for the README's
pictures of what the bot posts. Everything drawn comes from the message as the bot sent it (its JSON
as the server answers it, and the attachments' bytes): the author, the "used /command" line of the
interaction it answers, the content's markdown, the images (their alt text as the img alt), embeds,
and the action rows. Nothing is added that Discord would not show.

    html = render_message(server, message)
"""
from __future__ import annotations

import base64
import datetime
import html
import re
from typing import TYPE_CHECKING, Any

from .messages import message_json

if TYPE_CHECKING:
    from .models import Attachment, Message
    from .server import FakeDiscord

# Discord's button styles (1 primary, 2 secondary, 3 success, 4 danger, 5 link, 6 premium).
BUTTON_COLOURS = {1: "#5865f2", 2: "#4e5058", 3: "#248046", 4: "#da373c", 5: "#4e5058", 6: "#5865f2"}
# Discord's default avatars, picked from the user id for users without a discriminator.
DEFAULT_AVATARS = ["#5865f2", "#757e8a", "#3ba55c", "#faa61a", "#ed4245", "#eb459f"]
FLAG_EPHEMERAL = 1 << 6

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #313338; color: #dbdee1; font: 16px/1.375 "gg sans", "Noto Sans",
  "Helvetica Neue", Helvetica, Arial, sans-serif; }
.chat { padding: 16px 16px 16px 0; width: 720px; }
.msg { position: relative; padding: 2px 48px 2px 72px; min-height: 44px; }
.body { position: relative; }
.avatar { position: absolute; left: -56px; top: 2px; width: 40px; height: 40px; border-radius: 50%; }
.used, .reply { position: relative; display: flex; align-items: center; gap: 4px; font-size: 14px;
  color: #949ba4; margin-bottom: 4px; white-space: nowrap; overflow: hidden; }
.used::before, .reply::before { content: ""; position: absolute; left: -36px; top: 50%; width: 33px;
  height: 12px; border: 2px solid #4e5058; border-right: 0; border-bottom: 0; border-top-left-radius: 6px; }
.mini { width: 16px; height: 16px; border-radius: 50%; display: inline-block; flex: none; }
.used .who, .reply .who { color: #f2f3f5; font-weight: 500; }
.used .cmd { color: #00a8fc; }
.header { display: flex; align-items: center; gap: 4px; }
.name { color: #f2f3f5; font-weight: 500; }
.app { background: #5865f2; color: #fff; font-size: 10px; font-weight: 600; line-height: 15px;
  height: 15px; padding: 0 4.5px; border-radius: 3px; margin-top: 1px; }
.time { color: #949ba4; font-size: 12px; margin-left: 4px; }
.content { white-space: pre-wrap; word-wrap: break-word; }
.edited { color: #949ba4; font-size: 10px; margin-left: 2px; }
.content code { background: #2b2d31; border: 1px solid #1e1f22; border-radius: 4px; padding: 0 .2em;
  font: 85% Consolas, "DejaVu Sans Mono", monospace; }
.content pre { background: #2b2d31; border: 1px solid #1e1f22; border-radius: 4px; padding: .5em;
  margin: 4px 0; font: 14px Consolas, "DejaVu Sans Mono", monospace; white-space: pre-wrap; }
.content .sub { color: #949ba4; font-size: 13px; }
.content blockquote { margin: 0; padding-left: 12px; border-left: 4px solid #4e5058; }
.content h1 { font-size: 24px; margin: 8px 0 0; } .content h2 { font-size: 20px; margin: 8px 0 0; }
.content h3 { font-size: 16px; margin: 8px 0 0; }
.mention { background: rgba(88, 101, 242, .3); color: #c9cdfb; border-radius: 3px; padding: 0 2px;
  font-weight: 500; }
.content a { color: #00a8fc; text-decoration: none; }
.media { display: grid; gap: 4px; margin-top: 8px; max-width: 550px; }
.media.n1 { grid-template-columns: auto; justify-content: start; }
.media.n2, .media.n4 { grid-template-columns: 1fr 1fr; }
.media.n3 { grid-template-columns: 1fr 1fr 1fr; }
.media img { display: block; border-radius: 8px; max-width: 100%; max-height: 350px; }
.media.n2 img, .media.n3 img, .media.n4 img { width: 100%; height: 100%; object-fit: cover;
  aspect-ratio: 1 / 1; max-height: none; }
.file { margin-top: 8px; background: #2b2d31; border: 1px solid #1e1f22; border-radius: 8px;
  padding: 10px; width: 432px; color: #00a8fc; }
.embed { margin-top: 8px; max-width: 520px; background: #2b2d31; border-left: 4px solid #1e1f22;
  border-radius: 4px; padding: 8px 16px 16px 12px; font-size: 14px; }
.embed .title { color: #f2f3f5; font-weight: 600; margin-top: 8px; }
.embed .field-name { color: #f2f3f5; font-weight: 600; margin-top: 8px; }
.rows { margin-top: 4px; }
.row { display: flex; flex-wrap: wrap; gap: 8px; padding: 4px 0; }
.button { display: inline-flex; align-items: center; justify-content: center; gap: 4px; height: 32px;
  min-width: 60px; padding: 2px 16px; border-radius: 8px; color: #fff; font-size: 14px; font-weight: 500;
  user-select: none; }
.button.disabled { opacity: .5; }
.button .emoji { font-size: 17px; line-height: 1; font-family: "Noto Color Emoji", sans-serif; }
.select { display: flex; align-items: center; justify-content: space-between; width: 400px; height: 40px;
  padding: 8px; background: #1e1f22; border: 1px solid #1e1f22; border-radius: 4px; color: #949ba4;
  font-size: 14px; }
.select.disabled { opacity: .5; }
.ephemeral { color: #949ba4; font-size: 12px; margin-top: 4px; }
.ephemeral a { color: #00a8fc; }
"""


def render_message(server: FakeDiscord, message: Message) -> str:
    """The whole page: one message as the Discord client shows it in a channel."""
    data = message_json(server, message)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>message</title>"
            f"<style>{CSS}</style></head><body><div class='chat'>{message_html(server, message, data)}"
            "</div></body></html>")


def message_html(server: FakeDiscord, message: Message, data: dict[str, Any] | None = None) -> str:
    data = data if data is not None else message_json(server, message)
    author = data["author"]
    parts = ["<div class='msg'>", _context_line(server, data)]
    parts.append(f"<div class='body'>{_avatar(author, 'avatar')}<div class='header'>"
                 f"<span class='name'>{_esc(_display_name(author))}</span>")
    if author.get("bot"):
        parts.append("<span class='app'>APP</span>")
    parts.append(f"<span class='time'>{_esc(_timestamp(message.created))}</span></div>")
    if data["content"]:
        edited = "<span class='edited'>(edited)</span>" if data.get("edited_timestamp") else ""
        parts.append(f"<div class='content'>{markdown(server, data['content'])}{edited}</div>")
    parts.append(_attachments(message.attachments))
    parts.extend(_embed(server, e) for e in data.get("embeds") or [])
    if data.get("components"):
        parts.append(f"<div class='rows'>{''.join(_component(c) for c in data['components'])}</div>")
    if data["flags"] & FLAG_EPHEMERAL:
        parts.append("<div class='ephemeral'>👁 Only you can see this • <a>Dismiss message</a></div>")
    parts.append("</div></div>")
    return "".join(parts)


def _context_line(server: FakeDiscord, data: dict[str, Any]) -> str:
    """The line above a message: "alice used /imagine" for a command's reply, or the replied-to
    message for a reply. A button's messages carry neither, and Discord draws neither."""
    meta = data.get("interaction_metadata")
    if meta and meta.get("type") == 2:
        user = meta["user"]
        return (f"<div class='used'>{_avatar(user, 'mini')}<span class='who'>{_esc(_display_name(user))}</span>"
                f" used <span class='cmd'>/{_esc(meta.get('name', ''))}</span></div>")
    ref = data.get("message_reference")
    target = server.get_message(int(ref["message_id"])) if ref and ref.get("message_id") else None
    if target is not None:
        user = message_json(server, target)["author"]
        first = (target.content or "").splitlines()[0] if target.content else ""
        return (f"<div class='reply'>{_avatar(user, 'mini')}<span class='who'>@{_esc(_display_name(user))}</span>"
                f" {_esc(first[:80])}</div>")
    return ""


def _display_name(user: dict[str, Any]) -> str:
    return user.get("global_name") or user["username"]


def _avatar(user: dict[str, Any], cls: str) -> str:
    # Avatars without an image are Discord's default ones: a colour chosen by the user id.
    colour = DEFAULT_AVATARS[(int(user["id"]) >> 22) % len(DEFAULT_AVATARS)]
    return f"<span class='{cls}' style='background:{colour}'></span>" if cls == "mini" else (
        f"<div class='{cls}' style='background:{colour}'></div>")


def _timestamp(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, datetime.timezone.utc)
    return f"Today at {moment:%H:%M}"


def _attachments(attachments: list[Attachment]) -> str:
    images = [a for a in attachments if a.content_type.startswith("image/")]
    files = [a for a in attachments if not a.content_type.startswith("image/")]
    out = []
    if images:
        cells = []
        for a in images:
            src = f"data:{a.content_type};base64,{base64.b64encode(a.data).decode()}"
            alt = a.description if a.description is not None else a.filename
            cells.append(f"<img src='{src}' alt='{_esc(alt)}'>")
        out.append(f"<div class='media n{min(len(images), 4)}'>{''.join(cells)}</div>")
    out.extend(f"<div class='file'>📄 {_esc(a.filename)}</div>" for a in files)
    return "".join(out)


def _embed(server: FakeDiscord, embed: dict[str, Any]) -> str:
    colour = f"#{embed['color']:06x}" if isinstance(embed.get("color"), int) else "#1e1f22"
    parts = [f"<div class='embed' style='border-left-color:{colour}'>"]
    if embed.get("title"):
        parts.append(f"<div class='title'>{markdown(server, embed['title'])}</div>")
    if embed.get("description"):
        parts.append(f"<div class='content'>{markdown(server, embed['description'])}</div>")
    for field in embed.get("fields") or []:
        parts.append(f"<div class='field-name'>{markdown(server, field.get('name', ''))}</div>"
                     f"<div class='content'>{markdown(server, field.get('value', ''))}</div>")
    if (embed.get("footer") or {}).get("text"):
        parts.append(f"<div class='time'>{_esc(embed['footer']['text'])}</div>")
    parts.append("</div>")
    return "".join(parts)


def _component(component: dict[str, Any]) -> str:
    kind = component.get("type")
    if kind == 1:  # action row
        return f"<div class='row'>{''.join(_component(c) for c in component.get('components') or [])}</div>"
    if kind == 2:
        disabled = " disabled" if component.get("disabled") else ""
        colour = BUTTON_COLOURS.get(component.get("style", 2), "#4e5058")
        inner = _emoji(component.get("emoji"))
        if component.get("label"):
            inner += f"<span class='label'>{_esc(component['label'])}</span>"
        if component.get("style") == 5:
            inner += "<span class='emoji'>↗</span>"
        return f"<span class='button{disabled}' style='background:{colour}'>{inner}</span>"
    if kind in (3, 5, 6, 7, 8):  # selects: the placeholder (or the default option) and a chevron
        disabled = " disabled" if component.get("disabled") else ""
        chosen = [o["label"] for o in component.get("options") or [] if o.get("default")]
        text = ", ".join(chosen) or component.get("placeholder") or "Make a selection"
        return f"<div class='row'><div class='select{disabled}'><span>{_esc(text)}</span><span>⌄</span></div></div>"
    return ""


def _emoji(emoji: dict[str, Any] | None) -> str:
    if not emoji:
        return ""
    # A custom emoji (with an id) is an image on Discord's CDN, which a test cannot reach: its name.
    name = emoji.get("name") or ""
    return f"<span class='emoji'>{_esc(name if not emoji.get('id') else ':' + name + ':')}</span>"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*", re.S), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__", re.S), r"<u>\1</u>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.S), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)", re.S), r"<em>\1</em>"),
    (re.compile(r"~~(.+?)~~", re.S), r"<s>\1</s>"),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)"), r"<a>\1</a>"),
]


def markdown(server: FakeDiscord, text: str) -> str:
    """Discord's markdown, the parts a bot message uses: code blocks and inline code (taken out
    first: nothing inside them is markdown), headings, -# subtext, > quotes, bold, italics,
    underline, strikethrough, masked links, backslash escapes, and mentions as pills."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"\x00{len(stash) - 1}\x00"

    text = re.sub(r"```(?:[\w+-]*\n)?(.*?)```", lambda m: keep(f"<pre>{_esc(m.group(1).strip(chr(10)))}</pre>"),
                  text, flags=re.S)
    text = re.sub(r"``(.+?)``|`([^`]+)`", lambda m: keep(f"<code>{_esc(m.group(1) or m.group(2))}</code>"), text)
    text = re.sub(r"\\([\\*_~`|>#\[\]()<@-])", lambda m: keep(_esc(m.group(1))), text)
    text = re.sub(r"<(@!?|@&|#)(\d+)>", lambda m: keep(_mention(server, m.group(1), int(m.group(2)))), text)
    text = re.sub(r"<a?:(\w+):\d+>", lambda m: keep(_esc(f":{m.group(1)}:")), text)
    lines = []
    for line in _esc(text).split("\n"):
        for pattern, repl in _INLINE:
            line = pattern.sub(repl, line)
        heading = re.match(r"(#{1,3}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            line = f"<h{level}>{heading.group(2)}</h{level}>"
        elif line.startswith("-# "):
            line = f"<span class='sub'>{line[3:]}</span>"
        elif line.startswith("&gt; "):
            line = f"<blockquote>{line[5:]}</blockquote>"
        lines.append(line)
    out = "\n".join(lines)
    # Block elements carry their own line break.
    out = re.sub(r"(</h[123]>|</blockquote>)\n", r"\1", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], out)


def _mention(server: FakeDiscord, kind: str, target: int) -> str:
    if kind == "#":
        channel = server.channels.get(target)
        return f"<span class='mention'>#{_esc(channel.name if channel else 'unknown')}</span>"
    if kind == "@&":
        name = server.shared_roles.get(target, ("unknown-role", 0))[0]
        return f"<span class='mention'>@{_esc(name)}</span>"
    user = server.users.get(target)
    return f"<span class='mention'>@{_esc(user.username if user else 'unknown-user')}</span>"
