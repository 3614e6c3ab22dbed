"""Discord's OAuth2 authorization code flow, for the web front end's sign-in.

- GET /oauth2/authorize: the user the test signed in at "Discord" (`FakeDiscord.oauth_user`)
  approves at once (prompt=none) and is sent back to `redirect_uri` with a one-time code and the
  state unchanged. The client and its exact redirect URI must be registered
  (`FakeDiscord.add_oauth_client`); response_type must be `code`; scope must hold `identify`.
- POST /api/v10/oauth2/token: grant_type=authorization_code, the code (once, within 10 minutes),
  the same redirect_uri, the client's id and secret (HTTP Basic or form fields). Answers a bearer
  token with the code's scopes.
- With that bearer token: GET /users/@me (identify), /users/@me/guilds (guilds: partial guilds
  with the member's permissions as a string, `owner`), /users/@me/guilds/{id}/member
  (guilds.members.read: the member's roles there).
Anything else is a violation, as everywhere in this server.
"""
from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from .models import user_json

if TYPE_CHECKING:
    from .server import FakeDiscord

CODE_LIFETIME = 600.0


@dataclass
class _Grant:
    user_id: int
    client_id: int
    redirect_uri: str
    scopes: frozenset[str]
    issued: float


class OAuth:
    def __init__(self, server: FakeDiscord):
        self.server = server
        self.clients: dict[int, tuple[str, str]] = {}  # client id -> (secret, redirect uri)
        self.user_id: int | None = None  # who is signed in at "Discord" in the browser
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _Grant] = {}
        self.token_requests = 0

    def handles(self, request: web.Request) -> bool:
        path = request.match_info.get("tail", "")
        bearer = request.headers.get("Authorization", "").startswith("Bearer ")
        return path == "oauth2/token" or (bearer and path.startswith("users/@me"))

    def _refuse(self, status: int, message: str) -> web.Response:
        self.server.violation(f"oauth2: {message}")
        return web.json_response({"error": "invalid_request", "error_description": message}, status=status)

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            client_id = int(q.get("client_id", ""))
        except ValueError:
            return self._refuse(400, "authorize without a numeric client_id")
        if client_id not in self.clients:
            return self._refuse(400, f"authorize for an unknown client {client_id}")
        if q.get("response_type") != "code":
            return self._refuse(400, "authorize: response_type must be code")
        if q.get("redirect_uri") != self.clients[client_id][1]:
            return self._refuse(400, f"authorize: redirect_uri {q.get('redirect_uri')!r} is not registered")
        scopes = frozenset(q.get("scope", "").split())
        if "identify" not in scopes:
            return self._refuse(400, "authorize: scope must hold identify")
        if self.user_id is None:
            return self._refuse(400, "authorize with nobody signed in at Discord (set oauth.user_id)")
        code = secrets.token_urlsafe(16)
        self._codes[code] = _Grant(self.user_id, client_id, q["redirect_uri"], scopes, time.time())
        back = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode(back)}")

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["tail"]
        if path == "oauth2/token":
            return await self._token(request)
        grant = self._tokens.get(request.headers["Authorization"][len("Bearer "):])
        if grant is None:
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        user = self.server.users[grant.user_id]
        if request.method == "GET" and path == "users/@me" and "identify" in grant.scopes:
            return web.json_response(user_json(user))
        if request.method == "GET" and path == "users/@me/guilds" and "guilds" in grant.scopes:
            return web.json_response([
                {"id": str(g.id), "name": g.name, "icon": None, "banner": None, "owner": g.owner_id == user.id,
                 "permissions": str(user.effective_permissions(g.id)), "features": [],
                 "approximate_member_count": None, "approximate_presence_count": None}
                for g in self.server.guilds.values() if user.is_member(g.id)])
        prefix, suffix = "users/@me/guilds/", "/member"
        if request.method == "GET" and path.startswith(prefix) and path.endswith(suffix):
            if "guilds.members.read" not in grant.scopes:
                return self._refuse(403, "member read without the guilds.members.read scope")
            guild = self.server.guilds.get(int(path[len(prefix):-len(suffix)]))
            if guild is None or not user.is_member(guild.id):
                return web.json_response({"message": "Unknown Guild", "code": 10004}, status=404)
            return web.json_response(self.server.member_json(user, guild))
        return self._refuse(403 if request.method == "GET" else 405, f"{request.method} /{path} with a bearer token")

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        try:
            client = self.clients.get(int(client_id or 0))
        except ValueError:
            client = None
        if client is None or secret != client[0]:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return self._refuse(400, "token: only the authorization_code grant is used")
        grant = self._codes.pop(str(form.get("code", "")), None)  # a code works once
        if grant is None or time.time() - grant.issued > CODE_LIFETIME or grant.client_id != int(client_id):
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return web.json_response({"error": "invalid_grant", "error_description": "redirect_uri"}, status=400)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = grant
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 604800,
                                  "refresh_token": secrets.token_urlsafe(24), "scope": " ".join(sorted(grant.scopes))})
