"""Sign-in with Discord: the OAuth2 authorization code flow.

/signin/start sends the browser to Discord's authorize page with a fresh `state` kept in the
session; /oauth/callback checks that state, trades the code for a token (client secret, HTTP Basic,
server to server), reads /users/@me, /users/@me/guilds and, per server this front end serves, the
member's roles there (/users/@me/guilds/{id}/member: scope guilds.members.read). The token is used
for those reads only and never stored. The member's servers and roles then decide what they see
and may do, as in the bot (bot/web/identity.py); they are read again at every sign-in."""
from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.web.context import WEB, WebContext
from bot.web.identity import membership
from bot.web.pages import error_box, layout

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
SCOPES = "identify guilds guilds.members.read"
DISCORD_API = "https://discord.com/api/v10"


def _redirect_uri(c: WebContext) -> str:
    return f"{(c.settings.web_public_url or '').rstrip('/')}/oauth/callback"


def _api(c: WebContext) -> str:
    return (c.settings.discord_api_base or DISCORD_API).rstrip("/")


def _page(request: web.Request, body: str, status: int = 200) -> web.Response:
    return web.Response(text=layout("Sign in", body, None, request["session"].csrf), content_type="text/html",
                        status=status)


@routes.get("/signin")
async def signin(request: web.Request) -> web.Response:
    c: WebContext = request.app[WEB]
    if c.local_owner or request.get("viewer") is not None:
        raise web.HTTPSeeOther("/")
    return _page(request, "<h1>Sign in</h1><p>This Pixelforge is shared: sign in with the Discord account you use "
                          "in its servers. You see and may do what you may in the bot there.</p>"
                          '<p><a class="button" href="/signin/start">Sign in with Discord</a></p>', 401)


@routes.get("/signin/start")
async def start(request: web.Request) -> web.Response:
    c: WebContext = request.app[WEB]
    if c.local_owner:
        raise web.HTTPSeeOther("/")
    session = request["session"]
    session.oauth_state = secrets.token_urlsafe(24)
    query = urlencode({"response_type": "code", "client_id": str(c.settings.web_oauth_client_id), "scope": SCOPES,
                       "state": session.oauth_state, "redirect_uri": _redirect_uri(c), "prompt": "none"})
    raise web.HTTPSeeOther(f"{c.settings.web_oauth_authorize_url}?{query}")


async def _get(c: WebContext, path: str, token: str):
    async with c.http.get(f"{_api(c)}{path}", headers={"Authorization": f"Bearer {token}"}) as response:
        if response.status != 200:
            return None
        return await response.json()


@routes.get("/oauth/callback")
async def callback(request: web.Request) -> web.Response:
    c: WebContext = request.app[WEB]
    session = request["session"]
    state, code = request.query.get("state", ""), request.query.get("code", "")
    expected, session.oauth_state = session.oauth_state, None
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters (a forged state).
    if not expected or not hmac.compare_digest(expected.encode(), state.encode()) or not code:
        return _page(request, error_box("That sign-in link is out of date or was not started here: try again.")
                     + '<p><a href="/signin">Sign in</a></p>', 400)
    if c.http is None:
        c.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    try:
        async with c.http.post(f"{_api(c)}/oauth2/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": _redirect_uri(c)},
                auth=aiohttp.BasicAuth(str(c.settings.web_oauth_client_id), c.settings.web_oauth_client_secret)
        ) as response:
            grant = await response.json() if response.status == 200 else None
        token = str((grant or {}).get("access_token") or "")
        user = await _get(c, "/users/@me", token) if token else None
        guilds = await _get(c, "/users/@me/guilds", token) if user else None
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("sign-in with Discord failed: %s", exc)
        token, user, guilds = "", None, None
    if not user or guilds is None:
        return _page(request, error_box("Discord did not confirm the sign-in: try again.")
                     + '<p><a href="/signin">Sign in</a></p>', 400)
    served = c.served_guilds()
    servers = []
    for guild in guilds:
        if int(guild["id"]) not in served:
            continue
        member = await _get(c, f"/users/@me/guilds/{guild['id']}/member", token)
        roles = frozenset(int(r) for r in (member or {}).get("roles", []))
        servers.append(membership(c.settings, guild, roles))
    if not servers:
        return _page(request, error_box("None of your Discord servers uses this Pixelforge, so there is nothing "
                                        "for you here."), 403)
    fresh = c.sessions.renew(session)  # a new id at sign-in: an id known before is worth nothing now
    fresh.user_id = int(user["id"])
    fresh.name = str(user.get("global_name") or user.get("username") or user["id"])
    fresh.servers = tuple(servers)
    fresh.guild_id = servers[0].guild_id
    request["session"] = fresh
    log.info("web sign-in: user %s (%d server(s))", fresh.user_id, len(servers))
    raise web.HTTPSeeOther("/")


@routes.post("/signout")
async def signout(request: web.Request) -> web.Response:
    c: WebContext = request.app[WEB]
    form = await request.post()
    c.check_csrf(request, form.get("csrf"))
    c.sessions.drop(request["session"])
    request["session"] = c.sessions.new()
    raise web.HTTPSeeOther("/signin")


@routes.post("/server")
async def switch_server(request: web.Request) -> web.Response:
    c: WebContext = request.app[WEB]
    form = await request.post()
    c.check_csrf(request, form.get("csrf"))
    session = request["session"]
    guild = form.get("guild")
    wanted = int(guild) if isinstance(guild, str) and guild.isdecimal() else None
    if any(s.guild_id == wanted for s in session.servers):
        session.guild_id = wanted
    raise web.HTTPSeeOther("/")

