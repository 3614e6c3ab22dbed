"""REST API under /api/v10: routing, auth, body parsing, Discord-shaped responses, rule checks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

from . import messages as M
from .models import (
    ATTACH_FILES,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Interaction,
    Message,
    channel_json,
    dm_channel_json,
    user_json,
)
from .rules import DiscordError, FormErrors, check_commands, max_length

if TYPE_CHECKING:
    from .server import FakeDiscord

PERMISSION_NAMES = {VIEW_CHANNEL: "VIEW_CHANNEL", SEND_MESSAGES: "SEND_MESSAGES", ATTACH_FILES: "ATTACH_FILES",
                    READ_MESSAGE_HISTORY: "READ_MESSAGE_HISTORY", MANAGE_MESSAGES: "MANAGE_MESSAGES"}
TRUE_VALUES = ("true", "1", "True")


class RequestRecord(NamedTuple):
    method: str
    path: str  # interaction tokens replaced by <token:INTERACTION_ID>
    status: int


@dataclass
class ApiRequest:
    method: str
    path: str
    template: str
    params: dict[str, str]
    query: Any
    headers: Any
    json: Any = None
    uploads: list[M.Upload] = field(default_factory=list)
    multipart: bool = False

    @property
    def route(self) -> str:
        """METHOD + path template: safe to print (no tokens)."""
        return f"{self.method} {self.template}"


class Route(NamedTuple):
    method: str
    template: str
    regex: re.Pattern[str]
    handler: str
    bot_auth: bool


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


ROUTE_TABLE = [
    ("GET", "/users/@me", "get_me", True),
    ("GET", "/users/{user_id}", "get_user", True),
    ("GET", "/oauth2/applications/@me", "get_application", True),
    ("GET", "/gateway", "get_gateway", False),
    ("GET", "/gateway/bot", "get_gateway_bot", True),
    ("GET", "/applications/{application_id}/commands", "get_commands", True),
    ("PUT", "/applications/{application_id}/commands", "put_commands", True),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "get_commands", True),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "put_commands", True),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback", "callback", False),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "webhook_get", False),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "webhook_edit", False),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "webhook_delete", False),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "webhook_get", False),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "webhook_edit", False),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "webhook_delete", False),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", "followup", False),
    ("GET", "/channels/{channel_id}", "get_channel", True),
    ("POST", "/channels/{channel_id}/messages", "channel_send", True),
    ("GET", "/channels/{channel_id}/messages/{message_id}", "channel_get_message", True),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", "channel_edit", True),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", "channel_delete", True),
    ("POST", "/channels/{channel_id}/typing", "typing", True),
]
ROUTES = [Route(m, t, _compile(t), h, a) for m, t, h, a in ROUTE_TABLE]
TOKEN_PARAMS = ("interaction_token", "webhook_token")


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py only parses JSON when the header is that string, and
    # aiohttp's json_response would append "; charset=utf-8".
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if body is None:
        all_headers.pop("Content-Type")
        return web.Response(status=status, headers=all_headers)
    return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)


def _ratelimit_headers(template: str) -> dict[str, str]:
    # Generous limits: discord.py sleeps pre-emptively when Remaining hits 0.
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": hashlib.md5(template.encode()).hexdigest()[:16],
    }


class Rest:
    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self._recent: deque = deque()  # request times for the 50/s global limit

    # --- plumbing ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        server = self.server
        path = "/" + request.match_info["tail"]
        route, params, method_mismatch = None, {}, False
        for r in ROUTES:
            m = r.regex.match(path)
            if m:
                if r.method == request.method:
                    route, params = r, m.groupdict()
                    break
                method_mismatch = True
        logged_path = self._redact(request.path, params)
        if route is None:
            status = 405 if method_mismatch else 404
            msg = "405: Method Not Allowed" if method_mismatch else "404: Not Found"
            server.violation(f"unhandled route: {request.method} {self._redact(path, {})}")
            return self._finish(request.method, logged_path, _json_response(status, {"message": msg, "code": 0}))
        if route.bot_auth and request.headers.get("Authorization") != f"Bot {server.token}":
            server.violation(f"401 Unauthorized: {route.method} {route.template} without the right bot token")
            return self._finish(request.method, logged_path,
                                _json_response(401, {"message": "401: Unauthorized", "code": 0}))
        self._global_rate(route)
        req = ApiRequest(request.method, path, route.template, params, request.query, request.headers)
        try:
            await self._read_body(request, req)
            self._check_request_spec(req)
            status, body = await getattr(self, route.handler)(req)
            resp = _json_response(status, body, _ratelimit_headers(route.template))
        except DiscordError as exc:
            if not exc.reported:
                server.violation(f"rejected request: {route.method} {route.template}: {exc.summary()}")
            status, body = exc.status, exc.body()
            resp = _json_response(status, body, {**_ratelimit_headers(route.template), **exc.headers})
        except Exception as exc:  # a fakediscord bug: answer 400 (a 500 makes discord.py retry for ~25 s)
            server.violation(f"fakediscord bug: {route.method} {route.template}: {traceback.format_exc(limit=-3)}")
            status, body = 400, {"message": f"fakediscord internal error: {exc!r}", "code": 0}
            resp = _json_response(status, body)
            return self._finish(request.method, logged_path, resp)
        problem = server.spec.check_response(route.method, route.template, status, body)
        if problem:
            server.violation(f"spec: {route.method} {route.template}: response {status}: {problem} (fakediscord bug)")
        return self._finish(request.method, logged_path, resp)

    def _finish(self, method: str, logged_path: str, resp: web.Response) -> web.Response:
        self.server.requests.append(RequestRecord(method, logged_path, resp.status))
        self.server._changed()
        return resp

    def _broken(self, text: str, status: int, code: int, message: str, errors: dict | None = None) -> DiscordError:
        """Record a specific violation and build the error Discord would answer with."""
        self.server.violation(text)
        return DiscordError(status, code, message, errors, reported=True)

    def _redact(self, path: str, params: dict[str, str]) -> str:
        """Interaction tokens are credentials: logs and violations get <token:INTERACTION_ID>."""
        for key in TOKEN_PARAMS:
            token = params.get(key)
            if token:
                i = self.server._by_token.get(token)
                path = path.replace(token, f"<token:{i.id if i else 'unknown'}>")
        if not params:  # unmatched route: still hide any token we issued
            for token, i in self.server._by_token.items():
                if token in path:
                    path = path.replace(token, f"<token:{i.id}>")
        return path

    def _global_rate(self, route: Route) -> None:
        # Interaction callbacks and webhooks are exempt from Discord's global 50 requests/s.
        if not route.bot_auth:
            return
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > 1.0:
            self._recent.popleft()
        if len(self._recent) == self.server.global_rate + 1:
            self.server.violation(f"global rate limit: more than {self.server.global_rate} requests within 1s")

    async def _read_body(self, request: web.Request, req: ApiRequest) -> None:
        ctype = request.content_type
        if ctype == "multipart/form-data":
            req.multipart = True
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""
                if name == "payload_json":
                    try:
                        req.json = json.loads(await part.text())
                    except ValueError as exc:
                        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc
                elif m := re.fullmatch(r"files\[(\d+)\]", name):
                    filename = part.filename or f"file{m.group(1)}"
                    req.uploads.append(M.Upload(int(m.group(1)), filename, bytes(await part.read())))
                else:
                    errs = FormErrors()
                    errs.add([name], "UNKNOWN_FIELD", "Unknown form field")
                    errs.raise_if_any()
            if req.json is None:
                req.json = {}
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    req.json = json.loads(raw)
                except ValueError as exc:
                    raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc

    def _check_request_spec(self, req: ApiRequest) -> None:
        if req.json is None:
            return
        ctype = "multipart/form-data" if req.multipart else "application/json"
        problem = self.server.spec.check_request(req.method, req.template, ctype, req.json)
        if problem:
            self.server.violation(f"spec: {req.route}: {problem}")

    def _body(self, req: ApiRequest) -> dict[str, Any]:
        if not isinstance(req.json, dict):
            errs = FormErrors()
            errs.add([], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            errs.raise_if_any()
        return req.json

    # --- identity -----------------------------------------------------------------------------

    async def get_me(self, req: ApiRequest):
        data = user_json(self.server.bot_user)
        data.update({"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None, "premium_type": 0})
        return 200, data

    async def get_user(self, req: ApiRequest):
        user = self.server.users.get(int(req.params["user_id"])) if req.params["user_id"].isdigit() else None
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return 200, user_json(user)

    async def get_application(self, req: ApiRequest):
        s = self.server
        return 200, {
            "id": str(s.application_id), "name": s.bot_user.username, "icon": None, "description": "",
            "type": None, "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "flags": 0, "flags_new": "0", "redirect_uris": [], "interactions_endpoint_url": None,
            "role_connections_verification_url": None, "owner": user_json(s.owner), "team": None,
            "approximate_guild_count": len(s.guilds), "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0, "explicit_content_filter": 0,
            "eligible_oauth2_scopes": ["bot", "applications.commands"], "summary": "", "hook": True,
            "bot": user_json(s.bot_user), "tags": [], "rpc_origins": [],
        }

    async def get_gateway(self, req: ApiRequest):
        return 200, {"url": self.server.gateway_url.rstrip("/")}

    async def get_gateway_bot(self, req: ApiRequest):
        used = self.server.gateway.identify_count
        return 200, {"url": self.server.gateway_url.rstrip("/"), "shards": 1, "session_start_limit": {
            "total": self.server.max_identifies, "remaining": max(0, self.server.max_identifies - used),
            "reset_after": 86_400_000, "max_concurrency": 1}}

    # --- application commands -------------------------------------------------------------------

    def _scope(self, req: ApiRequest) -> int | None:
        if req.params["application_id"] != str(self.server.application_id):
            raise DiscordError(403, 20012, "You are not authorized to perform this action on this application")
        guild_id = req.params.get("guild_id")
        if guild_id is None:
            return None
        if not guild_id.isdigit() or int(guild_id) not in self.server.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild_id)

    async def get_commands(self, req: ApiRequest):
        scope = self._scope(req)
        return 200, self.server.global_commands if scope is None else self.server.guild_commands.get(scope, [])

    async def put_commands(self, req: ApiRequest):
        scope = self._scope(req)
        try:
            check_commands(req.json)
        except DiscordError as exc:
            raise self._broken(f"invalid command sync: {req.route}: {json.dumps(exc.errors)[:500]}",
                               exc.status, exc.code, exc.message, exc.errors) from exc
        return 200, self.server._store_commands(scope, req.json)

    # --- interaction callback ----------------------------------------------------------------

    async def callback(self, req: ApiRequest):
        s = self.server
        iid = req.params["interaction_id"]
        i = s.interactions.get(int(iid)) if iid.isdigit() else None
        if i is None or not secrets.compare_digest(i.token, req.params["interaction_token"]):
            raise self._broken(f"callback for an unknown interaction: {req.route}", 404, 10062, "Unknown interaction")
        body = self._body(req)
        now = time.monotonic()
        attempt = {"type": body.get("type"), "data": body.get("data"), "status": None, "code": None}
        first = i.first_callback_at is None
        if first:
            i.first_callback_at = now
        i.callback_attempts.append(attempt)
        try:
            status, result = self._callback(req, i, body, now)
            attempt["status"] = status
            delays = s.reply_delays.get(i.user_id)
            if delays:  # the answer travels slowly back to the bot (the ack itself counts at once)
                await asyncio.sleep(delays.pop(0))
            return status, result
        except DiscordError as exc:
            attempt["status"], attempt["code"] = exc.status, exc.code
            raise
        finally:
            if first:
                i._event().set()

    def _callback(self, req: ApiRequest, i: Interaction, body: dict[str, Any], now: float):
        s = self.server
        if i.acknowledged:
            raise self._broken(f"interaction acknowledged twice: {i.name!r} (second response type {body.get('type')})",
                               400, 40060, "Interaction has already been acknowledged.")
        elapsed = now - (i.dispatched_at or now)
        if elapsed > s.ack_deadline:
            if not getattr(i, "_late_reported", False):
                i._late_reported = True
                s.violation(f"late ack: first response to {i.name!r} after {elapsed:.2f}s "
                            f"(limit {s.ack_deadline}s): defer() first")
            raise DiscordError(404, 10062, "Unknown interaction", reported=True)
        rtype, data = body.get("type"), body.get("data") or {}
        allowed = {2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}.get(i.type, ())
        if rtype not in allowed:
            raise self._broken(f"invalid callback type {rtype} for interaction type {i.type} ({i.name!r})",
                               400, 50035, "Invalid Form Body", {"type": {"_errors": [
                                   {"code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                    "message": "Interaction response type is invalid"}]}})
        channel = s.channels[i.channel_id]
        msg: Message | None = None
        ephemeral = bool((data.get("flags") or 0) & FLAG_EPHEMERAL)
        # Any error below leaves the interaction unacknowledged, as on Discord (the bot may retry).
        if rtype == 4:
            msg = M.create_message(s, channel, s.bot_user_id, data, req.uploads, req.route, interaction=i,
                                   extra_flags=FLAG_EPHEMERAL if ephemeral else 0)
        elif rtype == 5:
            msg = M.create_message(s, channel, s.bot_user_id, {}, [], req.route, interaction=i, allow_empty=True,
                                   extra_flags=FLAG_LOADING | (FLAG_EPHEMERAL if ephemeral else 0))
        elif rtype == 7:
            target = s.get_message(i.message_id)
            if target is None or target.deleted:
                raise DiscordError(404, 10008, "Unknown Message")
            msg = M.edit_message(s, target, data, req.uploads, req.route)
        elif rtype == 9:
            self._check_modal(data)
            i.modal = dict(data, components=M.normalize_components(data.get("components")))
        elif rtype == 8:
            i.choices = self._check_choices(data)
        i.acknowledged = True
        i.responses.append({"type": rtype, "data": body.get("data")})
        if rtype in (4, 5):
            i.ephemeral, i.original_message_id = ephemeral, msg.id
        if req.query.get("with_response") not in TRUE_VALUES:
            return 204, None
        info: dict[str, Any] = {"id": str(i.id), "type": i.type, "activity_instance_id": None}
        result: dict[str, Any] = {"interaction": info}
        if msg is not None:
            info.update(response_message_id=str(msg.id), response_message_loading=msg.loading,
                        response_message_ephemeral=msg.ephemeral)
        if rtype in (4, 7):
            # The spec lists a resource only for message-creating/updating types (4, 7).
            result["resource"] = {"type": rtype, "message": M.message_json(s, msg)}
        return 200, result

    @staticmethod
    def _check_choices(data: dict[str, Any]) -> list[dict[str, Any]]:
        errs = FormErrors(["data"])
        choices = data.get("choices")
        if not isinstance(choices, list) or len(choices) > 25:
            errs.add(["choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            errs.raise_if_any()
        for k, choice in enumerate(choices):
            name = choice.get("name") if isinstance(choice, dict) else None
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                errs.add(["choices", k, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if not isinstance(choice, dict) or "value" not in choice:
                errs.add(["choices", k, "value"], "BASE_TYPE_REQUIRED", "This field is required")
            else:
                max_length(errs, ["choices", k, "value"], choice.get("value"), 100)
        errs.raise_if_any()
        return choices

    @staticmethod
    def _check_modal(data: dict[str, Any]) -> None:
        errs = FormErrors(["data"])
        if not data.get("custom_id"):
            errs.add(["custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        max_length(errs, ["custom_id"], data.get("custom_id"), 100)
        if not data.get("title"):
            errs.add(["title"], "BASE_TYPE_REQUIRED", "This field is required")
        max_length(errs, ["title"], data.get("title"), 45)
        if not 1 <= len(data.get("components") or []) <= 5:
            errs.add(["components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        errs.raise_if_any()

    # --- interaction webhooks ------------------------------------------------------------------

    def _token_interaction(self, req: ApiRequest) -> Interaction:
        s = self.server
        if req.params["webhook_id"] != str(s.application_id):
            raise self._broken(f"unknown webhook: {req.route} with a webhook id that is not the application id",
                               404, 10015, "Unknown Webhook")
        i = s._by_token.get(req.params["webhook_token"])
        if i is None:
            raise self._broken(f"unknown interaction token: {req.route}", 401, 50027, "Invalid Webhook Token")
        if i.expired or time.monotonic() - (i.dispatched_at or 0) > s.token_ttl:
            i.expired_uses += 1
            s.expired_token_uses.append({"interaction_id": i.id, "name": i.name, "route": req.route,
                                         "use": i.expired_uses})
            if i.expired_uses > s.expired_token_retries:
                s.violation(f"kept using an expired interaction token: {req.route} "
                            f"({i.name!r}, use #{i.expired_uses}); "
                            "after 50027 deliver through channel endpoints")
            raise DiscordError(401, 50027, "Invalid Webhook Token", reported=True)
        if not i.acknowledged:
            raise self._broken(f"webhook used before the interaction was acknowledged: {req.route} ({i.name!r})",
                               404, 10015, "Unknown Webhook")
        return i

    def _webhook_message(self, req: ApiRequest, i: Interaction) -> Message:
        s = self.server
        mid = req.params.get("message_id")
        if mid is None:
            target = i.original_target_id
        else:
            target = int(mid) if mid.isdigit() else None
            msg = s._messages_by_id.get(target) if target else None
            ours = msg is not None and (msg.interaction_id == i.id
                                        or (msg.webhook_id == s.application_id and msg.channel_id == i.channel_id))
            if not ours:
                target = None
        msg = s._messages_by_id.get(target) if target is not None else None
        if msg is None or msg.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def webhook_get(self, req: ApiRequest):
        i = self._token_interaction(req)
        return 200, M.message_json(self.server, self._webhook_message(req, i))

    async def webhook_edit(self, req: ApiRequest):
        i = self._token_interaction(req)
        msg = self._webhook_message(req, i)
        edited = M.edit_message(self.server, msg, self._body(req), req.uploads, req.route)
        return 200, M.message_json(self.server, edited)

    async def webhook_delete(self, req: ApiRequest):
        i = self._token_interaction(req)
        self.server._delete_message(self._webhook_message(req, i))
        return 204, None

    async def followup(self, req: ApiRequest):
        s = self.server
        i = self._token_interaction(req)
        payload = self._body(req)
        original = s._messages_by_id.get(i.original_message_id) if i.original_message_id else None
        if original is not None and original.loading and not original.deleted:
            # Discord: the first follow-up after a deferred response completes the "thinking"
            # message (keeping the defer's ephemerality) instead of creating a new one.
            msg = M.edit_message(s, original, {k: v for k, v in payload.items() if k != "flags"},
                                 req.uploads, req.route)
        else:
            msg = M.create_message(s, s.channels[i.channel_id], s.bot_user_id, payload, req.uploads, req.route,
                                   interaction=i, extra_flags=FLAG_EPHEMERAL if M.is_ephemeral_request(payload) else 0)
        i.followups.append(msg)
        if req.query.get("wait") in TRUE_VALUES:
            return 200, M.message_json(s, msg)
        return 204, None

    # --- channels -------------------------------------------------------------------------------

    def _channel(self, req: ApiRequest) -> Channel:
        cid = req.params["channel_id"]
        channel = self.server.channels.get(int(cid)) if cid.isdigit() else None
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _require(self, req: ApiRequest, channel: Channel, bits: int) -> None:
        missing = bits & ~channel.app_permissions
        if not missing:
            return
        names = [n for b, n in PERMISSION_NAMES.items() if missing & b]
        text = f"missing permissions: {req.route} in #{channel.name} needs {names}"
        if missing & VIEW_CHANNEL:
            # Discord's answer when the bot cannot see the channel
            raise self._broken(text, 403, 50001, "Missing Access")
        raise self._broken(text, 403, 50013, "Missing Permissions")

    def _channel_message(self, req: ApiRequest, channel: Channel) -> Message:
        mid = req.params["message_id"]
        msg = self.server._messages_by_id.get(int(mid)) if mid.isdigit() else None
        # Ephemeral messages do not exist for channel endpoints.
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def get_channel(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL)
        if channel.is_dm:
            return 200, dm_channel_json(channel, self.server.users[channel.recipient_id])
        return 200, channel_json(channel, self.server.bot_user)

    async def channel_send(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if req.uploads else 0))
        msg = M.create_message(self.server, channel, self.server.bot_user_id, self._body(req), req.uploads, req.route)
        return 200, M.message_json(self.server, msg)

    async def channel_get_message(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        return 200, M.message_json(self.server, self._channel_message(req, channel))

    async def channel_edit(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL | (ATTACH_FILES if req.uploads else 0))
        msg = self._channel_message(req, channel)
        if msg.author_id != self.server.bot_user_id:
            raise self._broken(f"edit of another user's message: {req.route} (message {msg.id})",
                               403, 50005, "Cannot edit a message authored by another user")
        edited = M.edit_message(self.server, msg, self._body(req), req.uploads, req.route)
        return 200, M.message_json(self.server, edited)

    async def channel_delete(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL)
        msg = self._channel_message(req, channel)
        if msg.author_id != self.server.bot_user_id:
            self._require(req, channel, MANAGE_MESSAGES)
        self.server._delete_message(msg)
        return 204, None

    async def typing(self, req: ApiRequest):
        channel = self._channel(req)
        self._require(req, channel, VIEW_CHANNEL | SEND_MESSAGES)
        return 204, None

