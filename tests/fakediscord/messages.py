"""Creating, editing and serializing messages, shared by channel, webhook and callback routes."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import rules
from .models import (
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    Attachment,
    Channel,
    Interaction,
    Message,
    attachment_json,
    guess_content_type,
    iso,
    user_json,
    walk_components,
)
from .rules import DiscordError

if TYPE_CHECKING:
    from .server import FakeDiscord

# Flags a bot may set when sending; anything else is ignored like Discord does.
CREATE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
EDIT_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2


@dataclass
class Upload:
    """One multipart `files[n]` part."""

    index: int
    filename: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def _uploads_by_index(uploads: list[Upload]) -> dict[int, Upload]:
    return {u.index: u for u in uploads}


def resolve_attachments(server: FakeDiscord, payload: dict[str, Any], uploads: list[Upload],
                        existing: list[Attachment] | None) -> list[Attachment]:
    """The attachment list after this request.

    `attachments` in the payload is the complete new list: entries whose id is an attachment the
    message already has are kept, entries whose id is n refer to the `files[n]` upload; anything
    not listed is dropped. Without `attachments`, uploads are added to what exists (edit) or
    become the list (create). Uploads no entry refers to are still attached, as on Discord.
    """
    by_index = _uploads_by_index(uploads)
    used: set = set()
    if "attachments" not in payload or payload["attachments"] is None:
        result = list(existing or [])
    else:
        result = []
        kept = {a.id: a for a in existing or []}
        errs = rules.FormErrors()
        for n, entry in enumerate(payload["attachments"]):
            try:
                ref = int(entry.get("id"))
            except (TypeError, ValueError):
                errs.add(["attachments", n, "id"], "BASE_TYPE_REQUIRED", "This field is required")
                continue
            if ref in kept:
                att = kept[ref]
                if entry.get("description") is not None:
                    att.description = entry["description"]
                result.append(att)
            elif ref in by_index:
                result.append(_new_attachment(server, by_index[ref], entry))
                used.add(ref)
            else:
                errs.add(["attachments", n, "id"], "ATTACHMENT_NOT_FOUND", f"Unknown attachment id {ref}")
        errs.raise_if_any()
    for upload in uploads:
        if upload.index not in used:
            result.append(_new_attachment(server, upload, {}))
    return result


def _new_attachment(server: FakeDiscord, upload: Upload, entry: dict[str, Any]) -> Attachment:
    filename = entry.get("filename") or upload.filename
    att = Attachment(id=server.ids.next(), filename=filename, content_type=guess_content_type(filename),
                     size=upload.size, data=upload.data, description=entry.get("description"))
    server.attachments[att.id] = att
    return att


def normalize_components(components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Copy and number components: Discord gives every component a numeric `id` in responses."""
    result = copy.deepcopy(components or [])
    next_id = 1
    for comp in walk_components(result):
        if "id" not in comp or comp["id"] is None:
            comp["id"] = next_id
        next_id = max(next_id, int(comp["id"])) + 1
    for comp in walk_components(result):
        for key in [k for k, v in comp.items() if v is None]:
            del comp[key]
        emoji = comp.get("emoji")
        if isinstance(emoji, dict):  # Discord omits a unicode emoji's null id in responses
            for key in [k for k, v in emoji.items() if v is None]:
                del emoji[key]
    return result


def _mention_check(server: FakeDiscord, route: str, payload: dict[str, Any]) -> None:
    risk = rules.mention_risk(payload.get("content"), payload.get("allowed_mentions"))
    if risk:
        server.violation(f"mentions could ping: {route}: {risk}")


def create_message(server: FakeDiscord, channel: Channel, author_id: int, payload: dict[str, Any],
                   uploads: list[Upload], route: str, *, interaction: Interaction | None = None,
                   extra_flags: int = 0, allow_empty: bool = False) -> Message:
    rules.check_message_payload(payload, uploads, size_limit=server.attachment_size_limit,
                                final_attachment_count=_final_count(payload, uploads, 0))
    attachments = resolve_attachments(server, payload, uploads, None)
    content = payload.get("content") or ""
    components = normalize_components(payload.get("components"))
    if not allow_empty:
        rules.check_not_empty(content, payload.get("embeds") or [], len(attachments), components, payload)
    _mention_check(server, route, payload)
    allowed = payload.get("allowed_mentions")
    msg = Message(
        id=server.ids.next(), channel_id=channel.id, guild_id=channel.guild_id, author_id=author_id,
        content=content, embeds=copy.deepcopy(payload.get("embeds") or []), components=components,
        attachments=attachments, flags=((payload.get("flags") or 0) & CREATE_FLAGS) | extra_flags,
        mentions=rules.mentioned_user_ids(content, allowed),
        mention_everyone=bool(rules.EVERYONE_MENTION.search(content))
        and (allowed is None or "everyone" in (allowed.get("parse") or [])),
        message_reference=payload.get("message_reference"),
    )
    if interaction is not None:
        msg.interaction_id = interaction.id
        msg.webhook_id = server.application_id
        msg.type = 20 if interaction.type == 2 else 0
    server._store_message(msg)
    return msg


def check_edit_rate(server: FakeDiscord, msg: Message, route: str) -> None:
    """Discord limits edits of one message (about 5 per 5 s); discord.py retries a 429 only when
    the response carries `Via`, sleeping `retry_after`."""
    limit, window = server.edit_rate
    now = time.monotonic()
    msg.edit_times[:] = [t for t in msg.edit_times if now - t < window]
    if len(msg.edit_times) >= limit:
        retry_after = round(window - (now - msg.edit_times[0]), 3)
        server.violation(f"edit rate exceeded: {route}: more than {limit} edits of message {msg.id} within {window}s")
        raise DiscordError(429, 0, "You are being rate limited.", extra={"retry_after": retry_after, "global": False},
                           reported=True,
                           headers={
                               "Retry-After": str(max(1, int(retry_after + 0.999))),
                               "Via": "1.1 google",
                               "X-RateLimit-Scope": "user",
                               "X-RateLimit-Limit": str(limit),
                               "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                               "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                           })


def edit_message(server: FakeDiscord, msg: Message, payload: dict[str, Any], uploads: list[Upload],
                 route: str) -> Message:
    """Apply a PATCH-style edit after checking limits; the rate check comes first, as on Discord."""
    check_edit_rate(server, msg, route)
    rules.check_message_payload(payload, uploads, size_limit=server.attachment_size_limit,
                                final_attachment_count=_final_count(payload, uploads, len(msg.attachments)))
    attachments = resolve_attachments(server, payload, uploads, msg.attachments)
    content = msg.content if "content" not in payload else (payload.get("content") or "")
    embeds = msg.embeds if "embeds" not in payload else copy.deepcopy(payload.get("embeds") or [])
    components = msg.components if "components" not in payload else normalize_components(payload.get("components"))
    rules.check_not_empty(content, embeds, len(attachments), components, payload)
    if "content" in payload:
        _mention_check(server, route, payload)
        allowed = payload.get("allowed_mentions")
        msg.mentions = rules.mentioned_user_ids(content, allowed)
    msg.content, msg.embeds, msg.components, msg.attachments = content, embeds, components, attachments
    if payload.get("flags") is not None:
        msg.flags = (msg.flags & ~EDIT_FLAGS) | (payload["flags"] & EDIT_FLAGS)
    msg.flags &= ~FLAG_LOADING  # the first edit of a deferred response completes it
    msg.edit_count += 1
    msg.edit_times.append(time.monotonic())
    msg.edited_timestamp = iso(time.time())
    server._message_changed(msg)
    return msg


def _final_count(payload: dict[str, Any], uploads: list[Upload], existing: int) -> int:
    """How many attachments the message will have, computed before anything is stored."""
    listed = payload.get("attachments")
    if listed is None:
        return existing + len(uploads)
    referenced = {_as_int(a.get("id")) for a in listed if isinstance(a, dict)}
    return len(listed) + len([u for u in uploads if u.index not in referenced])


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def message_json(server: FakeDiscord, msg: Message, *, gateway: bool = False) -> dict[str, Any]:
    author = server.users.get(msg.author_id) or server.bot_user
    data: dict[str, Any] = {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "author": user_json(author),
        "content": msg.content,
        "timestamp": iso(msg.created),
        "edited_timestamp": msg.edited_timestamp,
        "tts": False,
        "mention_everyone": msg.mention_everyone,
        "mentions": [user_json(server.users[u]) for u in msg.mentions if u in server.users],
        "mention_roles": [],
        "attachments": [attachment_json(a, server.base_url, msg.channel_id, msg.ephemeral) for a in msg.attachments],
        "embeds": [dict({"type": "rich"}, **e) for e in msg.embeds],
        "components": copy.deepcopy(msg.components),
        "flags": msg.flags,
        "type": msg.type,
        "pinned": False,
    }
    if msg.message_reference:
        data["message_reference"] = dict(msg.message_reference, channel_id=str(msg.channel_id))
    if msg.webhook_id:
        data["webhook_id"] = str(msg.webhook_id)
        data["application_id"] = str(server.application_id)
    interaction = server.interactions.get(msg.interaction_id) if msg.interaction_id else None
    if interaction is not None:
        meta = interaction_metadata(server, interaction)
        if interaction.original_message_id is not None and interaction.original_message_id != msg.id:
            meta["original_response_message_id"] = str(interaction.original_message_id)
        data["interaction_metadata"] = meta
        if interaction.type == 2:  # the deprecated `interaction` field, still sent for commands
            data["interaction"] = {"id": str(interaction.id), "type": 2, "name": interaction.name, "user": meta["user"]}
    if gateway and msg.guild_id:  # DM messages carry no guild
        data["guild_id"] = str(msg.guild_id)
        if msg.author_id in server.users:
            guild = server.guilds[msg.guild_id]
            member = server.member_json(server.users[msg.author_id], guild)
            member.pop("user", None)
            data["member"] = member
    return data


def interaction_metadata(server: FakeDiscord, i: Interaction) -> dict[str, Any]:
    """message.interaction_metadata; a modal submit nests the interaction that opened the modal."""
    meta: dict[str, Any] = {
        "id": str(i.id), "type": i.type, "user": user_json(server.users[i.user_id]),
        # The guild install's key "0": the guild's id, or "0" in a bot DM.
        "authorizing_integration_owners": {"0": str(i.guild_id or 0)},
    }
    if i.type == 2:
        meta.update(name=i.name, command_type=1)
    elif i.type == 3:
        meta["interacted_message_id"] = str(i.message_id)
    elif i.type == 5 and i.opened_by in server.interactions:
        meta["triggering_interaction_metadata"] = interaction_metadata(server, server.interactions[i.opened_by])
    return meta


def is_ephemeral_request(payload: dict[str, Any]) -> bool:
    return bool((payload.get("flags") or 0) & FLAG_EPHEMERAL)
