"""The bot's logging, set up once per process (the Discord bot and `python -m bot web` alike):
one line per record, secrets redacted (bot/logsafety.py), and discord.py's gateway reconnects
shortened to one line that says why Discord could not be reached."""
from __future__ import annotations

import asyncio
import logging
import os
import socket


def setup_logging(level: str, discord_token: str) -> None:
    from bot import logsafety

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logsafety.register_secret(discord_token)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        logsafety.register_secret(os.environ.get(name))
    # Redacts secrets on the root handler; discord.py and aiosqlite stay at INFO (their DEBUG is secrets).
    logsafety.install(level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(one_line_gateway_retries)


def reason(exc: BaseException) -> str:
    """A few words for why Discord could not be reached, for a one-line log message."""
    import aiohttp
    import discord

    if isinstance(exc, discord.DiscordServerError):
        return f"server error {exc.status}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve {exc.host}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, aiohttp.ClientSSLError):
            return f"TLS error: {cause}"
        return cause.strerror or str(cause) or type(cause).__name__
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, discord.ConnectionClosed):
        return f"connection closed (code {exc.code})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def one_line_gateway_retries(record: logging.LogRecord) -> bool:
    """discord.py logs each gateway reconnect with a traceback of aiohttp internals: make it one line."""
    if record.name == "discord.client" and record.exc_info and str(record.msg).startswith("Attempting a reconnect"):
        import aiohttp
        import discord

        exc = record.exc_info[1]
        if isinstance(exc, (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.ConnectionClosed)):
            gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
            record.msg = f"cannot reach the Discord gateway ({gateway}): {reason(exc)}; {record.msg}"
            record.exc_info, record.exc_text = None, None
    return True
