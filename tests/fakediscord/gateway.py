"""The gateway: HELLO, IDENTIFY/RESUME, READY + GUILD_CREATE, heartbeats, dispatches.

Plain JSON text frames whatever `compress=` the client asked for (discord.py accepts both).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

HELLO, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT, REQUEST_MEMBERS = 10, 1, 2, 3, 4, 6, 7, 8
INVALID_SESSION, HEARTBEAT_ACK, DISPATCH = 9, 11, 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9


class GatewaySession:
    """A gateway session: survives its socket so the bot can RESUME and get missed events."""

    def __init__(self, session_id: str, intents: int) -> None:
        self.session_id = session_id
        self.intents = intents
        self.seq = 0
        self.ws: web.WebSocketResponse | None = None
        self.ready = False  # READY and every GUILD_CREATE written
        self.resumable = True
        self.buffer: deque[tuple[int, str]] = deque(maxlen=1000)  # (seq, frame) for RESUME replay
        self.lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def dispatch(self, event: str, data: dict[str, Any]) -> float:
        """Write one op 0 event; returns time.monotonic() right after the frame was written."""
        async with self.lock:
            self.seq += 1
            frame = json.dumps({"op": DISPATCH, "t": event, "s": self.seq, "d": data})
            self.buffer.append((self.seq, frame))
            if not self.connected:
                raise ConnectionError(f"gateway session is not connected; {event} was only buffered")
            await self.ws.send_str(frame)
            return time.monotonic()


class Gateway:
    def __init__(self, server: FakeDiscord, heartbeat_interval: int = 41250) -> None:
        self.server = server
        self.heartbeat_interval = heartbeat_interval
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None  # the session events go to (latest login)
        self.identify_count = 0
        self.resume_count = 0
        self.close_codes: list = []  # close codes the server sent, for diagnostics
        self._closed_by_server: set = set()  # id() of sockets the server closed
        self._acks: set = set()  # heartbeat acks on their way (_ack_later)
        self.ack_delay = 0.1  # seconds: the round trip to Discord (bot/looplag.py measures real stalls)

    async def _ack_later(self, ws: web.WebSocketResponse) -> None:
        await asyncio.sleep(self.ack_delay)
        if not ws.closed:
            # the socket may close while the ack is on its way, as on a real network
            with contextlib.suppress(ConnectionError):
                await ws.send_str(json.dumps({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None}))

    @property
    def ready(self) -> bool:
        return self.current is not None and self.current.ready and self.current.connected

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        # Discord does not send websocket pings; the client's heartbeats keep the socket alive.
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        session: GatewaySession | None = None
        hello = {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval}, "s": None, "t": None}
        await ws.send_str(json.dumps(hello))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        await self._close(ws, 4002, "Decode error")
                    break
                try:
                    payload = json.loads(msg.data)
                    op, data = payload["op"], payload.get("d")
                except (ValueError, KeyError, TypeError):
                    await self._close(ws, 4002, "Decode error")
                    break
                if op == HEARTBEAT:
                    # Acked after a network round trip, as Discord is: discord.py stamps a heartbeat as
                    # sent in its keep-alive thread only once the loop has sent it, so an ack that comes
                    # back at once on localhost can be handled before that stamp and is then measured
                    # against the previous beat: "Can't keep up ... websocket is 41.3s behind" (one
                    # heartbeat interval), with no stall at all, whenever the machine is busy.
                    task = asyncio.get_running_loop().create_task(self._ack_later(ws))
                    self._acks.add(task)
                    task.add_done_callback(self._acks.discard)
                elif op == IDENTIFY:
                    if session is not None:
                        await self._close(ws, 4005, "Already authenticated")
                        break
                    session = await self._identify(ws, data or {})
                    if session is None:
                        break
                elif op == RESUME:
                    if session is not None:
                        await self._close(ws, 4005, "Already authenticated")
                        break
                    session = await self._resume(ws, data or {})
                    if session is None and ws.closed:
                        break
                elif session is None:
                    await self._close(ws, 4003, "Not authenticated")
                    break
                elif op == REQUEST_MEMBERS:
                    await self._members_chunk(session, data or {})
                elif op in (PRESENCE, VOICE_STATE):
                    pass
                else:
                    await self._close(ws, 4001, "Unknown opcode")
                    break
        finally:
            if session is not None and session.ws is ws:
                session.ws = None
                # A clean close by the client ends the session on Discord's side too.
                if ws.close_code in (1000, 1001) and id(ws) not in self._closed_by_server:
                    session.resumable = False
            self._closed_by_server.discard(id(ws))
            self.server._changed()
        return ws

    async def _close(self, ws: web.WebSocketResponse, code: int, reason: str) -> None:
        self.close_codes.append(code)
        self._closed_by_server.add(id(ws))
        await ws.close(code=code, message=reason.encode())

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        server = self.server
        if data.get("token") != server.token:
            server.violation("gateway: IDENTIFY with a wrong token (the bot must not restart-loop on a bad token)")
            await self._close(ws, 4004, "Authentication failed.")
            return None
        self.identify_count += 1
        if self.identify_count > server.max_identifies:
            server.violation(f"gateway: {self.identify_count} logins (limit {server.max_identifies}): "
                             "back off between restarts")
        session = GatewaySession(secrets.token_hex(16), int(data.get("intents") or 0))
        session.ws = ws
        self.sessions[session.session_id] = session
        self.current = session
        ready = {
            "v": 10,
            "user": server.bot_user_json(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in server.guilds.values()],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": server.gateway_url,
            "application": {"id": str(server.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["fakediscord"],
        }
        if data.get("shard"):
            ready["shard"] = data["shard"]
        await session.dispatch("READY", ready)
        for guild in list(server.guilds.values()):
            await session.dispatch("GUILD_CREATE", server.guild_create_json(guild, session.intents))
        session.ready = True
        server._changed()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        if data.get("token") != self.server.token:
            await self._close(ws, 4004, "Authentication failed.")
            return None
        session = self.sessions.get(data.get("session_id") or "")
        seq = data.get("seq") or 0
        if session is None or not session.resumable or seq > session.seq:
            # Not resumable: op 9 with d=false makes discord.py IDENTIFY afresh.
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False, "s": None, "t": None}))
            return None
        if session.buffer and seq < session.buffer[0][0] - 1:
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False, "s": None, "t": None}))
            return None
        if session.connected:  # a zombie socket still holds the session: the new one takes over
            await self._close(session.ws, 4000, "Session resumed elsewhere")
        async with session.lock:
            session.ws = ws
            for s, frame in list(session.buffer):
                if s > seq:
                    await ws.send_str(frame)
        self.resume_count += 1
        self.current = session
        await session.dispatch("RESUMED", {"_trace": ["fakediscord"]})
        self.server._changed()
        return session

    async def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.server.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = [self.server.member_json(u, guild) for u in self.server.all_members(guild)]
        await session.dispatch("GUILD_MEMBERS_CHUNK", {
            "guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1,
            "not_found": [], "nonce": data.get("nonce"),
        })

    async def dispatch(self, event: str, data: dict[str, Any]) -> float:
        """Send an event to the bot's current session (raises if the bot is not connected)."""
        if not self.ready:
            raise RuntimeError(f"cannot dispatch {event}: the bot is not connected and READY "
                               "(await server.wait_ready())")
        return await self.current.dispatch(event, data)

    def dispatch_soon(self, event: str, data: dict[str, Any]) -> None:
        """Fire-and-forget dispatch for state changes made from synchronous test helpers."""
        if not self.ready:
            return
        task = asyncio.get_running_loop().create_task(self.current.dispatch(event, data))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def disconnect(self, code: int = 4000) -> None:
        """Drop the bot's socket as Discord sometimes does; discord.py should RESUME."""
        if self.current is not None and self.current.connected:
            await self._close(self.current.ws, code, "fakediscord disconnect")

    async def close_all(self) -> None:
        for session in self.sessions.values():
            if session.connected:
                await session.ws.close(code=1001, message=b"server stopping")
