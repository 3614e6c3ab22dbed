"""No secret in the log at any level: bot token, interaction and webhook tokens.

The end-to-end test runs the bot at LOG_LEVEL=DEBUG through a whole /imagine and a button click and
searches its log for every token the test server knows; the unit tests pin what the filter hides."""
from __future__ import annotations

import io
import logging

import pytest

from bot import logsafety
from tests.e2e_helpers import job_id_of, wait_result


async def test_debug_log_of_an_imagine_and_a_button_click_holds_no_token(world):
    server = world.server
    bot = await world.start_bot(LOG_LEVEL="DEBUG")
    i = await server.invoke_slash(world.alice, world.channel, "imagine", {"prompt": "a quiet harbour", "steps": 4})
    original = await wait_result(server, i)
    click = await server.click_button(world.bob, original.id, f"img:reroll:v1:{job_id_of(original)}")
    await wait_result(server, click)
    assert await bot.stop() == 0, "SIGTERM must stop the bot cleanly"

    log = bot.log_path.read_text(errors="replace")
    assert " DEBUG " in log, "no DEBUG lines: the test would prove nothing"
    tokens = {"bot token": server.token} | {f"interaction {n}": x.token for n, x in server.interactions.items()}
    assert len(tokens) >= 3
    assert [name for name, token in tokens.items() if token in log] == []


@pytest.fixture
def captured():
    """A logger whose handler has the filter, and the text it wrote."""
    logsafety.forget_secrets()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logsafety.install(logging.DEBUG, [handler])
    logger = logging.getLogger("tests.log_secrets")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logsafety.forget_secrets()


def test_a_registered_secret_is_redacted_in_arguments_and_tracebacks(captured):
    logger, stream = captured
    logsafety.register_secret("s3cr3t-interaction-token")
    logger.debug("executing %r", ("INSERT INTO jobs VALUES (?)", ("s3cr3t-interaction-token",)))
    try:
        raise RuntimeError("request with s3cr3t-interaction-token failed")
    except RuntimeError:
        logger.exception("failed")
    text = stream.getvalue()
    assert "s3cr3t-interaction-token" not in text
    assert "DEBUG executing ('INSERT INTO jobs VALUES (?)', ('<redacted>',))" in text
    assert "Traceback" in text and "RuntimeError: request with <redacted> failed" in text


@pytest.mark.parametrize("message,secret", [
    ("POST /api/v10/interactions/1234/aW50ZXJhY3Rpb24.tok-en_1/callback?with_response=1", "aW50ZXJhY3Rpb24.tok-en_1"),
    ("PATCH https://discord.com/api/v10/webhooks/99/wEbHoOkToKeN/messages/@original", "wEbHoOkToKeN"),
    ("""payload {"t": "INTERACTION_CREATE", "d": {"token": "unseen-token-in-json"}}""", "unseen-token-in-json"),
    ("headers {'Authorization': 'Bot MTIzNDU2Nzg5.abcdef.ghijklmnop'}", "MTIzNDU2Nzg5.abcdef.ghijklmnop"),
    ("token MTAxMjM0NTY3ODkwMTIzNDU2Nw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123 leaked",
     "MTAxMjM0NTY3ODkwMTIzNDU2Nw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"),
])
def test_tokens_are_redacted_by_shape_even_when_never_registered(captured, message, secret):
    logger, stream = captured
    logger.warning("%s", message)
    text = stream.getvalue()
    assert secret not in text and logsafety.REDACTED in text


def test_ordinary_text_is_left_alone(captured):
    logger, stream = captured
    logsafety.register_secret("short")  # too short to be a token: it would hide ordinary words
    logger.info("job %d delivered in %.1f s to channel %s (short queue)", 7, 1.5, "art")
    assert stream.getvalue() == "INFO job 7 delivered in 1.5 s to channel art (short queue)\n"


def test_interaction_tokens_are_forgotten_after_their_lifetime(monkeypatch):
    logsafety.forget_secrets()
    now = [1000.0]
    monkeypatch.setattr(logsafety.time, "monotonic", lambda: now[0])
    logsafety.register_secret("the-bot-token-forever")
    logsafety.register_secret("an-interaction-token", logsafety.INTERACTION_TOKEN_LIFETIME)
    assert logsafety.redact("an-interaction-token the-bot-token-forever") == "<redacted> <redacted>"
    now[0] += logsafety.INTERACTION_TOKEN_LIFETIME + 1
    logsafety.register_secret("a-later-interaction-token", logsafety.INTERACTION_TOKEN_LIFETIME)
    assert logsafety.redact("an-interaction-token the-bot-token-forever") == "an-interaction-token <redacted>"
    logsafety.forget_secrets()


@pytest.mark.parametrize("level,expected", [("DEBUG", logging.INFO), ("INFO", logging.INFO),
                                            ("WARNING", logging.WARNING)])
def test_libraries_that_log_secrets_at_debug_stay_at_info_or_above(level, expected):
    handler = logging.StreamHandler(io.StringIO())
    logsafety.install(level, [handler])
    logsafety.install(level, [handler])
    assert [logging.getLogger(name).level for name in ("discord", "aiosqlite")] == [expected, expected]
    assert sum(isinstance(f, logsafety.RedactingFilter) for f in handler.filters) == 1
