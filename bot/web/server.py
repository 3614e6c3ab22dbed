"""The web front end's server: aiohttp (which discord.py already depends on) in the bot's own event
loop, over the same services (bot/wiring.py).

`python -m bot web` runs it alone, without a Discord token; `python -m bot` with WEB_ENABLED=true
runs it beside the Discord client: one queue, one database.

Who may use it (README "Web front end"):
- bound to loopback (127.0.0.0/8, ::1, localhost) without sign-in configured, every visitor is the
  local owner; the Host header must then name a loopback address too, so another site cannot
  reach it through DNS rebinding;
- bound to any other address, it refuses to start unless sign-in with Discord is configured, and
  then every page but the sign-in needs a signed-in member;
- every POST needs the session's CSRF token (and a same-origin Origin header when the browser
  sends one); sessions are signed HttpOnly SameSite=Lax cookies (bot/web/sessions.py).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import signal
import socket
import sys
from importlib import resources

from aiohttp import web

from bot.errors import BotError, ConfigError, NotAllowed, NotFound, StartRefused, user_message
from bot.services.review import ReviewService
from bot.web import create, mod, more, oauth, pages, tools
from bot.web.context import WEB, WebContext
from bot.web.events import WebEvents
from bot.web.identity import WEB_CHANNEL_ID, WEB_SERVER_ID, is_web_job, local_owner, signed_in
from bot.web.sessions import COOKIE, SESSION_LIFETIME, Sessions, load_secret

log = logging.getLogger(__name__)

OPEN_PATHS = ("/static/", "/signin", "/oauth/callback", "/healthz")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Only this site's own scripts, styles and images; htmx needs no inline script or eval.
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(settings) -> None:
    """A web front end reachable from other machines must know who is asking."""
    if is_loopback(settings.web_host):
        return
    if not (settings.web_oauth_client_id and settings.web_oauth_client_secret):
        raise ConfigError(f"WEB_HOST={settings.web_host} is not a loopback address: set WEB_OAUTH_CLIENT_ID and "
                          "WEB_OAUTH_CLIENT_SECRET (sign-in with Discord) or bind to 127.0.0.1")
    if not settings.web_public_url:
        raise ConfigError("WEB_PUBLIC_URL is needed with sign-in: the address members open (the OAuth2 redirect "
                          "goes back there)")


class WebServer:
    def __init__(self, core, discord_client=None):
        settings = core.settings
        check_binding(settings)
        self.core = core
        self.events = WebEvents()
        # Claimed before the services start: recovered web jobs must reach the web, never Discord.
        core.events.claim(is_web_job, self.events)
        core.safety_front.sfw_channels.add(WEB_CHANNEL_ID)
        owner_mode = is_loopback(settings.web_host) and not (settings.web_oauth_client_id
                                                             and settings.web_oauth_client_secret)
        self.context = WebContext(core, self.events, Sessions(load_secret(settings.web_secret, settings.data_dir)),
                                  settings, owner_mode, discord_client)
        self.context.review = ReviewService(core.db, core.audit, settings.data_dir)
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None

    def bind_or_refuse(self) -> None:
        """bind(), a taken address told in one line (StartRefused): `python -m bot` calls it before
        the services start."""
        try:
            self.bind()
        except OSError as exc:
            raise StartRefused(cannot_listen(self.core.settings, exc)) from None

    def bind(self) -> None:
        """Take the address now (OSError if it is taken), before anything else starts."""
        settings = self.core.settings
        if self._socket is None:
            family = socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET
            self._socket = socket.create_server((settings.web_host.strip("[]"), settings.web_port), family=family)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._guard],
                              client_max_size=self.core.inputs.max_bytes + 2**20)
        app[WEB] = self.context
        app.add_routes(create.routes)
        app.add_routes(tools.routes)
        app.add_routes(mod.routes)
        app.add_routes(oauth.routes)
        app.add_routes(more.routes)
        app.router.add_get("/healthz", _healthz)
        app.router.add_static("/static", str(resources.files("bot.web") / "static"), append_version=False)
        return app

    async def start(self) -> None:
        settings = self.core.settings
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        self.bind()
        assert self._socket is not None  # bind() took the address
        site = web.SockSite(self._runner, self._socket)
        await site.start()
        mode = "local owner, no sign-in" if self.context.local_owner else "sign-in with Discord"
        log.info("web front end on http://%s:%s (%s)", settings.web_host, settings.web_port, mode)

    async def close(self) -> None:
        if self.context.http is not None:
            await self.context.http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # ---- middlewares ----
    @web.middleware
    async def _guard(self, request: web.Request, handler):
        c = self.context
        settings = c.settings
        if c.local_owner:
            host = (request.host or "").rsplit(":", 1)[0] if not (request.host or "").startswith("[") else \
                (request.host or "").split("]")[0] + "]"
            if not is_loopback(host):
                raise web.HTTPMisdirectedRequest(text="This Pixelforge answers on its loopback address only.")
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            if origin and origin != "null" and origin.rstrip("/") != self._origin(request):
                raise web.HTTPForbidden(text="Cross-site form refused (CSRF).")
        session = c.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            session = c.sessions.new()
        request["session"] = session
        if c.local_owner:
            request["viewer"] = local_owner(settings)
        else:
            request["viewer"] = signed_in(settings, session.user_id, session.name, session.servers,
                                          session.guild_id) if session.user_id else None
        if request["viewer"] is None and not request.path.startswith(OPEN_PATHS):
            refusal: web.HTTPException
            if request.method in ("GET", "HEAD") and not request.path.endswith("/events"):
                refusal = web.HTTPSeeOther("/signin")
            else:
                refusal = web.HTTPUnauthorized(text="Sign in first.")
            self._cookie(refusal, request)
            raise refusal
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self._cookie(exc, request)
            raise
        if isinstance(response, web.StreamResponse) and not response.prepared:
            self._cookie(response, request)
        return response

    def _origin(self, request: web.Request) -> str:
        if self.context.settings.web_public_url:
            from urllib.parse import urlsplit

            parts = urlsplit(self.context.settings.web_public_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"{request.scheme}://{request.host}"

    def _cookie(self, response, request: web.Request) -> None:
        session = request.get("session")
        if session is None or request.cookies.get(COOKIE) == self.context.sessions.sign(session.sid):
            return
        secure = (self.context.settings.web_public_url or "").startswith("https://")
        response.set_cookie(COOKIE, self.context.sessions.sign(session.sid), httponly=True, samesite="Lax",
                            secure=secure, path="/", max_age=int(SESSION_LIFETIME))

    @web.middleware
    async def _errors(self, request: web.Request, handler):
        """The one place a failure becomes a page: a domain error says what was wrong, anything
        unexpected says "something went wrong" with a reference that is also in the log."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            for name, value in HEADERS.items():
                exc.headers.setdefault(name, value)
            raise
        except BotError as exc:
            status = 403 if isinstance(exc, NotAllowed) else 404 if isinstance(exc, NotFound) else 400
            response = await self._error_page(request, user_message(exc), status)
        except Exception as exc:
            reference = secrets.token_hex(3)
            log.error("web request %s %s failed [ref %s]", request.method, request.path, reference, exc_info=exc)
            response = await self._error_page(request, f"{user_message(exc)} (reference {reference})", 500)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _error_page(self, request: web.Request, message: str, status: int) -> web.Response:
        session = request.get("session")
        body = pages.error_box(message) + '<p><a href="/">Back to the create page</a></p>'
        return web.Response(text=pages.layout("Refused", body, request.get("viewer"), session.csrf if session else "",
                                              None), content_type="text/html", status=status)


async def _healthz(request: web.Request) -> web.Response:
    # A coroutine: aiohttp warns (DeprecationWarning) on a plain function handler and wraps it.
    return web.Response(text="ok")


def cannot_listen(settings, exc: OSError) -> str:
    return f"the web front end cannot listen on {settings.web_host}:{settings.web_port}: {exc.strerror or exc}"


def attach_web(core, discord_client=None) -> WebServer:
    return WebServer(core, discord_client)


async def _serve(settings) -> int:
    from bot.wiring import Services

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async def fatal() -> None:
        stop.set()

    core = Services(settings, on_fatal=fatal)
    server = WebServer(core)
    try:
        server.bind()  # a taken port stops here, before any renderer starts
    except OSError as exc:
        log.critical("%s", cannot_listen(settings, exc))
        await core.pool.close()
        return 1
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await core.open()
        await core.start()
        await server.start()
        await stop.wait()
    finally:
        await server.close()
        await core.close()
    return core.exit_code


def main(argv: list[str]) -> int:
    """`python -m bot web [--host H] [--port P]`: the services and the web front end, no Discord."""
    import os

    from bot.config import load_settings, prepare_data_dir
    from bot.logsetup import setup_logging

    args = list(argv)
    for flag, name in (("--host", "WEB_HOST"), ("--port", "WEB_PORT")):
        if flag in args:
            at = args.index(flag)
            if at + 1 >= len(args):
                print(f"web: {flag} needs a value", file=sys.stderr)
                return 2
            os.environ[name] = args[at + 1]
            del args[at:at + 2]
    if args:
        print(f"web: unknown arguments {' '.join(args)}; usage: python -m bot web [--host H] [--port P]",
              file=sys.stderr)
        return 2
    try:
        settings = load_settings(require_token=False)
        prepare_data_dir(settings.data_dir)
        check_binding(settings)
        from bot.safety.classifier import load_classifier

        load_classifier(settings.safety_prompt_classifier)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.discord_token)
    try:
        return asyncio.run(_serve(settings))
    except KeyboardInterrupt:
        return 0


__all__ = ["WEB_SERVER_ID", "WebServer", "attach_web", "check_binding", "main"]
