"""`python -m bot` with WEB_ENABLED=true: the Discord bot and the web front end in one process, on
one queue and one database. Each front end gets its own jobs' events, and neither shows the
other's server's jobs."""
from __future__ import annotations

import asyncio
import re

import aiohttp

from tests.conftest import BotProcess
from tests.e2e_helpers import imagine, job_rows, wait_result
from tests.web_helpers import free_port


async def _web_ready(base: str, timeout: float = 60.0) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(int(timeout / 0.25)):
            try:
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError("the web front end did not answer")


async def test_a_web_job_and_a_discord_job_share_one_queue_and_one_database(world):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    await world.start_bot(WEB_ENABLED="true", WEB_PORT=str(port))
    await _web_ready(base)
    # unsafe=True: aiohttp's jar keeps no cookies of a bare IP address otherwise (browsers do).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(base + "/") as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())[1]
        form = aiohttp.FormData({"csrf": csrf, "prompt": "a web fox", "steps": "4"})
        discord_job = await imagine(world, world.alice, "a discord fox")
        async with http.post(base + "/imagine", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            web_job = int(response.headers["Location"].rsplit("/", 1)[1])
        message = await wait_result(world.server, discord_job)
        assert len(message.attachments) == 1
        for _ in range(480):
            async with http.get(f"{base}/jobs/{web_job}/state.json") as response:
                state = await response.json()
            if state["status"] == "delivered":
                break
            await asyncio.sleep(0.25)
        assert state["status"] == "delivered", state
        async with http.get(f"{base}/images/{web_job}/0") as response:
            assert response.status == 200 and (await response.read()).startswith(b"\x89PNG")
        discord_id = next(r["id"] for r in job_rows(world.data_dir) if r["id"] != web_job)
        async with http.get(f"{base}/jobs/{discord_id}") as response:  # another server's job: not the web's to show
            assert response.status == 403
            assert "That job belongs to another server or DM, so nothing was done." in await response.text()
        async with http.get(f"{base}/images/{discord_id}/0") as response:
            assert response.status == 403
        # The single-image tools and the live preview authorize from the job's stored server too.
        for path in (f"/jobs/{discord_id}/region/0", f"/jobs/{discord_id}/preview/1"):
            async with http.get(base + path) as response:
                assert response.status == 403, path
        for path in (f"/jobs/{discord_id}/outpaint/0/z2", f"/jobs/{discord_id}/vary/0/subtle",
                     f"/jobs/{discord_id}/region/0"):
            async with http.post(base + path, data={"csrf": csrf, "mask": ""}, allow_redirects=False) as response:
                assert response.status == 403, path
        assert len(job_rows(world.data_dir)) == 2  # nothing was queued
    rows = {r["id"]: r for r in job_rows(world.data_dir)}
    assert rows[web_job]["channel_id"] == 1 and rows[web_job]["guild_id"] == 1
    assert rows[discord_id]["channel_id"] == world.channel.id and rows[discord_id]["message_id"] == message.id
    assert {r["status"] for r in rows.values()} == {"delivered"}


async def test_a_taken_web_port_stops_the_bot_with_one_clear_line_before_anything_starts(world):
    """WEB_ENABLED=true and WEB_PORT already in use: the bot says so and exits != 0, no traceback,
    no renderer started (the socket is bound in setup_hook before the services start)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = BotProcess(world.server, world.tiny_model, world.data_dir, world.tmp_path / "bot.log",
                         WEB_ENABLED="true", WEB_PORT=str(port)).start()
        world.bots.append(bot)
        code = await asyncio.to_thread(bot.proc.wait, 90)
    log = bot.log()
    assert code == 1, log
    assert f"the web front end cannot listen on 127.0.0.1:{port}" in log, log
    assert "Traceback" not in log, log
    assert "renderer cpu#0 ready" not in log and "loading" not in log.lower(), log
