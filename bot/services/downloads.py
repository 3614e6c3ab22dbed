"""Downloading an image prompt from Discord's attachment hosts, and nothing else. No Discord import.

An attachment option carries a URL; the bot fetches it. Left open, that is a way to make the bot
fetch any URL (an internal address, a huge file elsewhere). So:
- only hosts in UPLOAD_HOSTS are fetched (default cdn.discordapp.com, media.discordapp.net), over
  https; an entry written `http://host:port` allows plain http to exactly that host and port (a local
  test server), a bare host never does;
- redirects are not followed (a redirect could leave the allowed hosts);
- the body is streamed in chunks and the connection is dropped as soon as more bytes than the limit
  have arrived (a Content-Length over the limit is refused before the first byte of the body): a
  server that lies about the size costs at most one chunk over the limit, never the whole file.
The bytes stay in memory until bot/services/image_input.py validated them: nothing half-downloaded
or refused ever reaches the disk.
"""
from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aiohttp

from bot.errors import ValidationError
from bot.i18n import N_

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
TIMEOUT = 30.0  # seconds for the whole download (Discord's CDN answers a 10 MiB file in well under that)


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


class DownloadFailed(ValidationError):
    """The file could not be fetched (expired link, network error): the member uploads it again."""

    def __init__(self) -> None:
        super().__init__("Discord did not hand over that image (its link may have expired): upload it again.")


def check_url(url: str, hosts: tuple[str, ...]) -> None:
    """Refuse a URL that is not on an allowed attachment host (see the module docstring)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        host, port, parts = "", None, None
    allowed = False
    if parts is not None and host:
        if parts.scheme == "https":
            allowed = host in hosts and port in (None, 443)
        elif parts.scheme == "http":
            allowed = f"http://{host}:{port or 80}" in hosts or (port in (None, 80) and f"http://{host}" in hosts)
    if not allowed:
        log.info("refused to download an image prompt from %s://%s", getattr(parts, "scheme", "?"), host or "?")
        raise ValidationError(N_("That image is not on Discord's attachment servers, so it was not downloaded: "
                                 "attach the file itself."))


def too_big(limit: int, size: int | None = None) -> ValidationError:
    if size is None:
        return ValidationError(N_("That image is larger than the limit of {limit}; it was not downloaded.",
                                  limit=mib(limit)))
    return ValidationError(N_("That image is {size}; the limit is {limit}.", size=mib(size), limit=mib(limit)))


async def fetch(url: str, limit: int, hosts: tuple[str, ...], *, timeout: float = TIMEOUT,
                session: aiohttp.ClientSession | None = None) -> bytes:
    """The body at `url`, at most `limit` bytes; ValidationError (too big, wrong host) or
    DownloadFailed otherwise."""
    check_url(url, hosts)
    own = session is None
    session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
    try:
        async with session.get(url, allow_redirects=False) as response:
            if response.status != 200:
                log.info("downloading an image prompt failed: HTTP %s", response.status)
                raise DownloadFailed()
            if response.content_length is not None and response.content_length > limit:
                response.close()
                raise too_big(limit, response.content_length)
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > limit:
                    response.close()  # drops the connection: the rest is never read
                    raise too_big(limit)
            return bytes(body)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.info("downloading an image prompt failed: %s", type(exc).__name__)
        raise DownloadFailed() from None
    finally:
        if own:
            await session.close()
