"""`python -m bot` runs the bot; `python -m bot render ...` renders once without Discord;
`python -m bot bench` measures the serving layer."""
from __future__ import annotations

import logging
import os
import signal
import sys

from bot.errors import ConfigError


def _setup_logging(level: str, discord_token: str) -> None:
    from bot import logsafety

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logsafety.register_secret(discord_token)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        logsafety.register_secret(os.environ.get(name))
    # Redacts secrets on the root handler; discord.py and aiosqlite stay at INFO (their DEBUG is secrets).
    logsafety.install(level)


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_bot() -> int:
    from bot.config import load_settings, prepare_data_dir

    try:
        settings = load_settings()
        prepare_data_dir(settings.data_dir)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    import discord  # after the settings check: a bad .env answers at once

    from bot.frontend.app import PixelBot, apply_endpoints
    _setup_logging(settings.log_level, settings.discord_token)
    apply_endpoints(settings)
    # SIGTERM (systemd, docker stop) shuts down like Ctrl+C: discord.py closes cleanly,
    # the renderer process is stopped and SQLite is closed.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    bot = PixelBot(settings)
    try:
        bot.run(settings.discord_token, log_handler=None)
    except discord.LoginFailure:
        # Never retry a bad token in a loop: Discord resets tokens after 1000 logins a day.
        print("Discord rejected DISCORD_TOKEN: check the token in .env", file=sys.stderr)
        return 3
    return bot.exit_code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        from bot.render_cli import main as render_main

        return render_main(argv[1:])
    if argv and argv[0] == "bench":
        from bot.bench import main as bench_main

        return bench_main(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return run_bot()


if __name__ == "__main__":
    sys.exit(main())
