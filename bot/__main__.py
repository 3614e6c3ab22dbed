"""`python -m bot` runs the bot; `python -m bot render ...` renders once without Discord;
`python -m bot bench` measures the serving layer; `python -m bot verify FILE` reads an image's
provenance marks (watermark, XMP source type, parameters); `python -m bot safety-eval [--set PATH]`
measures the prompt check on a labelled set; `python -m bot semantic-calibrate --set FILE` prints the
semantic prompt layer's errors per threshold (SAFETY_SEMANTIC_THRESHOLD); `python -m bot web` runs
the web front end alone, without Discord (bot/web/server.py)."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from bot.errors import ConfigError, StartRefused
from bot.logsetup import reason, setup_logging

log = logging.getLogger("bot.startup")

# Back-off between attempts to reach Discord at start: 5, 10, 20 ... 300 s. Never a tight loop:
# Discord resets a bot's token after 1,000 logins in a day.
RETRY_BASE = 5.0
RETRY_CAP = 300.0
# Undocumented, for tests only: a shorter first delay (the growth and the cap stay as they are).
_RETRY_BASE_ENV = "PIXELFORGE_RETRY_BASE"
# How long a stop waits for the bot's own start-up task once close() has run.
_STOP_GRACE = 30.0



def _unreachable(exc: BaseException, bot) -> tuple[str, BaseException] | None:
    """(where, the error) for a failure to reach Discord, which a later attempt may get past; else None."""
    import aiohttp
    import discord

    logged_in = bot.user is not None
    where = discord.http.Route.BASE
    if isinstance(exc, AttributeError) and logged_in and bot.ws is None and exc.__context__ is not None:
        # discord.py 2.7 cannot retry a gateway it never reached: its reconnect reads `self.ws.sequence`
        # while `ws` is still None, inside the handler of the real error. Start over like a REST failure.
        exc = exc.__context__
        where = str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        if not isinstance(exc, (OSError, aiohttp.ClientError, asyncio.TimeoutError)):
            return None
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, discord.DiscordServerError)):
        return where, exc
    # aiohttp wraps connection errors, but a bare OSError can still escape it during the REST login;
    # after login, an OSError is the bot's own (the database, the data folder) and is not retried.
    if isinstance(exc, OSError) and (not logged_in or where != discord.http.Route.BASE):
        return where, exc
    return None


def _retry_delays():
    try:
        base = float(os.environ.get(_RETRY_BASE_ENV, "") or RETRY_BASE)
    except ValueError:
        base = RETRY_BASE
    delay = max(base, 0.05)
    while True:
        yield min(delay, RETRY_CAP)
        delay *= 2


async def _watched(settings) -> int:
    """The bot under the event-loop lag monitor (bot/looplag.py) for its whole run."""
    from bot import offload
    from bot.looplag import LoopLagMonitor

    monitor = LoopLagMonitor(warn_after=settings.loop_lag_warn, report_every=settings.loop_lag_report).start()
    try:
        return await _serve(settings)
    finally:
        offload.shutdown()
        await monitor.stop()


async def _serve(settings) -> int:
    """Start the bot; retry with growing back-off while Discord cannot be reached; stop on a signal."""
    import discord

    from bot.frontend.app import PixelBot

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    api_base = discord.http.Route.BASE
    delays = _retry_delays()
    while True:
        bot = PixelBot(settings)  # a fresh client per attempt: a closed discord.py client cannot start again
        # Installed after the client is built: RENDERER=ray starts Ray there, and Ray puts its own
        # SIGTERM handler in place (it aborts the process instead of stopping cleanly).
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        started = asyncio.ensure_future(bot.start(settings.discord_token))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({started, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not started.done():  # SIGTERM or Ctrl+C while starting or running
            await _close(bot, started)
            return bot.exit_code
        exc = started.exception()
        if exc is None:  # start() returns only once closed: the bot stopped itself (e.g. no model)
            return bot.exit_code
        logged_in = bot.user is not None
        unreachable = _unreachable(exc, bot)
        await bot.close()
        if isinstance(exc, StartRefused):  # said in one line, as a configuration error is
            print(f"cannot start: {exc}", file=sys.stderr)
            return exc.exit_code
        if isinstance(exc, discord.LoginFailure):
            # Never retry a bad token: Discord resets tokens after 1,000 logins a day.
            print("Discord rejected DISCORD_TOKEN: check the token in .env", file=sys.stderr)
            return 3
        if isinstance(exc, discord.HTTPException) and not isinstance(exc, discord.DiscordServerError) \
                and not logged_in:
            print(f"Discord at {api_base} refused the login: {exc.status} {exc.text or exc.response.reason}; "
                  "check DISCORD_API_BASE", file=sys.stderr)
            return 1
        if unreachable is None:
            raise exc
        where, cause = unreachable
        delay = next(delays)
        what = "Discord" if where == api_base else "the Discord gateway"
        log.error("cannot reach %s at %s: %s; retrying in %g s", what, where, reason(cause), delay)
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except asyncio.TimeoutError:
            continue
        return 0


async def _close(bot, started: asyncio.Future) -> None:
    await bot.close()
    # After close(), start() returns (connected) or fails (still logging in): either ends the attempt.
    done, _ = await asyncio.wait({started}, timeout=_STOP_GRACE)
    if not done:
        log.warning("the Discord client did not stop within %g s; leaving it", _STOP_GRACE)
        started.cancel()
    elif not started.cancelled() and started.exception() is not None:
        log.debug("start-up ended by the stop: %r", started.exception())


def run_bot() -> int:
    from bot.config import load_settings, prepare_data_dir

    try:
        settings = load_settings()
        prepare_data_dir(settings.data_dir)
        from bot.safety.classifier import load_classifier

        load_classifier(settings.safety_prompt_classifier)  # a bad file stops here, with its reason
        if settings.web_enabled:
            from bot.web.server import check_binding

            check_binding(settings)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    # Until the event loop takes over SIGTERM (systemd, docker stop): stop like Ctrl+C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        from bot.frontend.app import apply_endpoints  # imports discord.py: after the settings check

        setup_logging(settings.log_level, settings.discord_token)
        apply_endpoints(settings)
        return asyncio.run(_watched(settings))
    except KeyboardInterrupt:  # a signal before the event loop took over: nothing had started yet
        return 0


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        from bot.render_cli import main as render_main

        return render_main(argv[1:])
    if argv and argv[0] == "bench":
        from bot.bench.run import main as bench_main

        return bench_main(argv[1:])
    if argv and argv[0] == "web":
        from bot.web.server import main as web_main

        return web_main(argv[1:])
    if argv and argv[0] == "verify":
        from bot.verify_cli import main as verify_main

        return verify_main(argv[1:])
    if argv and argv[0] == "safety-eval":
        from bot.safety.evaluate import main as safety_eval_main

        try:
            return safety_eval_main(argv[1:], dict(os.environ))
        except ConfigError as exc:
            print(f"safety-eval: {exc}", file=sys.stderr)
            return 2
    if argv and argv[0] == "semantic-calibrate":
        from bot.semantic_calibrate import main as calibrate_main

        return calibrate_main(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return run_bot()


if __name__ == "__main__":
    sys.exit(main())
