"""Sessions and CSRF tokens for the web front end.

The cookie holds only a random session id, signed with HMAC-SHA256 (the standard library's hmac),
HttpOnly, SameSite=Lax and Secure when the public address is https; what the session knows (who
signed in, their servers, the CSRF token) stays in memory here, so it ends with the process and a
stolen cookie cannot be edited into another member. Every form carries the session's CSRF token and
every POST is refused without it (bot/web/server.py).

The signing key is WEB_SECRET, or a random key kept in DATA_DIR/web-secret (mode 0600) so sessions
keep their signature across restarts of the same install.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

COOKIE = "pixelforge_session"
SESSION_LIFETIME = 7 * 86400.0
MAX_SESSIONS = 10_000


def load_secret(configured: str, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = Path(data_dir) / "web-secret"
    if path.is_file():
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


@dataclass
class Session:
    sid: str
    csrf: str
    created_at: float
    user_id: int | None = None
    name: str = ""
    servers: tuple = ()  # identity.Membership of each server, from sign-in
    guild_id: int | None = None  # the server chosen in the header
    oauth_state: str | None = None
    data: dict = field(default_factory=dict)


class Sessions:
    def __init__(self, secret: bytes, clock=time.time):
        self._key = hashlib.sha256(b"pixelforge-web-session:" + secret).digest()
        self._sessions: dict[str, Session] = {}
        self.clock = clock

    def sign(self, sid: str) -> str:
        mac = hmac.new(self._key, sid.encode(), hashlib.sha256).digest()
        return f"{sid}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def unsign(self, value: str | None) -> str | None:
        if not value or "." not in value:
            return None
        sid, _, _ = value.partition(".")
        return sid if hmac.compare_digest(self.sign(sid).encode(), value.encode()) else None  # bytes: see csrf_ok

    def get(self, cookie: str | None) -> Session | None:
        sid = self.unsign(cookie)
        session = self._sessions.get(sid) if sid else None
        if session is not None and self.clock() - session.created_at > SESSION_LIFETIME:
            self._sessions.pop(session.sid, None)
            return None
        return session

    def new(self) -> Session:
        if len(self._sessions) >= MAX_SESSIONS:  # the oldest go first: memory stays bounded
            for sid in sorted(self._sessions, key=lambda s: self._sessions[s].created_at)[: MAX_SESSIONS // 10]:
                del self._sessions[sid]
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24), self.clock())
        self._sessions[session.sid] = session
        return session

    def renew(self, session: Session) -> Session:
        """A fresh id (and CSRF token) at sign-in: a session id known before it is worth nothing after."""
        self._sessions.pop(session.sid, None)
        fresh = self.new()
        fresh.data = session.data
        return fresh

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.sid, None)


def csrf_ok(session: Session | None, sent: object) -> bool:
    if session is None or not isinstance(sent, str) or not sent:
        return False
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters (a forged token).
    return hmac.compare_digest(session.csrf.encode(), sent.encode())
