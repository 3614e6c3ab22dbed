"""Image prompts are fetched only from UPLOAD_HOSTS, and a body over the limit is cut off while it
streams (bot/services/downloads.py), against a local HTTP server on 127.0.0.1."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.config import ConfigError, load_settings
from bot.errors import ValidationError
from bot.services import downloads

LIMIT = 2**20
DEFAULT = ("cdn.discordapp.com", "media.discordapp.net")


@pytest.mark.parametrize("url", [
    "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1",
    "https://media.discordapp.net/attachments/1/2/a.png",
    "https://CDN.discordapp.com:443/attachments/1/2/a.png",
])
def test_discord_attachment_urls_over_https_are_allowed(url):
    downloads.check_url(url, DEFAULT)


@pytest.mark.parametrize("url", [
    "http://cdn.discordapp.com/attachments/1/2/a.png",  # plain http
    "https://evil.example/a.png",
    "https://cdn.discordapp.com.evil.example/a.png",
    "https://evil.example/cdn.discordapp.com/a.png",
    "https://cdn.discordapp.com:8443/a.png",
    "https://user@169.254.169.254/latest/meta-data",
    "file:///etc/passwd",
    "http://127.0.0.1:8080/a.png",  # a local server, unless listed as http://127.0.0.1:8080
    "not a url",
])
def test_other_urls_are_refused_before_any_request(url):
    with pytest.raises(ValidationError, match="not on Discord's attachment servers"):
        downloads.check_url(url, DEFAULT)


def test_upload_hosts_setting_defaults_to_discord_and_takes_http_only_as_host_and_port():
    base = {"DISCORD_TOKEN": "t"}
    assert load_settings(base, dotenv=False).upload_hosts == DEFAULT
    hosts = load_settings({**base, "UPLOAD_HOSTS": "cdn.discordapp.com, http://127.0.0.1:8080/"},
                          dotenv=False).upload_hosts
    assert hosts == ("cdn.discordapp.com", "http://127.0.0.1:8080")
    downloads.check_url("http://127.0.0.1:8080/a.png", hosts)
    with pytest.raises(ConfigError, match="UPLOAD_HOSTS"):
        load_settings({**base, "UPLOAD_HOSTS": "https://cdn.discordapp.com/path"}, dotenv=False)


@pytest.fixture
async def files():
    sent: dict[str, int] = {}

    async def endless(request: web.Request) -> web.StreamResponse:
        # A server that claims nothing and never stops: only the client's limit ends it.
        response = web.StreamResponse()
        await response.prepare(request)
        sent["endless"] = 0
        chunk = b"\0" * 65536
        try:
            while sent["endless"] < 64 * LIMIT:
                await response.write(chunk)
                sent["endless"] += len(chunk)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        return response

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"\0" * (LIMIT + 1))

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/small")

    app = web.Application()
    app.router.add_get("/endless", endless)
    app.router.add_get("/declared", declared)
    app.router.add_get("/small", small)
    app.router.add_get("/moved", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", (f"http://127.0.0.1:{port}",), sent
    await runner.cleanup()


async def test_a_body_over_the_limit_is_cut_off_while_it_streams(files):
    base, hosts, sent = files
    with pytest.raises(ValidationError, match="larger than the limit of 1.0 MiB"):
        await downloads.fetch(f"{base}/endless", LIMIT, hosts)
    await asyncio.sleep(0.2)  # the server notices the closed connection
    # What the kernel's socket buffers took on top of the limit, not the 64 MiB on offer.
    print("bytes sent before the cut-off:", sent["endless"])
    assert sent["endless"] < 8 * LIMIT, sent


async def test_a_declared_length_over_the_limit_is_refused_before_the_body(files):
    base, hosts, _ = files
    with pytest.raises(ValidationError, match="the limit is 1.0 MiB"):
        await downloads.fetch(f"{base}/declared", LIMIT, hosts)


async def test_a_small_file_downloads_and_redirects_are_not_followed(files):
    base, hosts, _ = files
    assert await downloads.fetch(f"{base}/small", LIMIT, hosts) == b"x" * 1000
    with pytest.raises(downloads.DownloadFailed, match="upload it again"):
        await downloads.fetch(f"{base}/moved", LIMIT, hosts)
    with pytest.raises(ValidationError, match="not on Discord's attachment servers"):
        await downloads.fetch(f"{base}/small", LIMIT, DEFAULT)
