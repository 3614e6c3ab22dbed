"""The web front end in a real browser: Debian's chromium driven by Playwright, against
`python -m bot web` with the tiny model (no Discord token, no network).

The scripted image checker (tests/safety_plugins) flags images whose prompt holds "lighthouse", so a
withheld image can be reviewed on the moderator desk. Screenshots for the README are written to
docs/screenshots/."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e_helpers import db_rows
from tests.web_helpers import ROOT, SCREENSHOTS, WebProcess, free_port, need_browser

RESULT_TIMEOUT = 120_000  # ms: a render of the tiny model on a busy 2-core machine


@pytest.fixture(scope="module")
def owner_web(tiny_model, tmp_path_factory):
    """Bound to loopback, no sign-in: the visitor is the local owner."""
    need_browser()
    tmp = tmp_path_factory.mktemp("web")
    web = WebProcess(tiny_model, tmp / "data", tmp / "web.log", PIXELFORGE_TEST_FLAG_WORDS="lighthouse",
                     UPLOAD_MAX_MIB="0.1").start()
    try:
        web.wait_ready()
        yield web
    finally:
        code = web.stop()
    assert code == 0, web.log()[-3000:]
    assert not web.tracebacks(), "traceback in the web log:\n" + "\n---\n".join(web.tracebacks())


def create(page, base: str, prompt: str, steps: int = 4, **fields) -> None:
    page.goto(base + "/")
    page.fill("textarea[name=prompt]", prompt)
    page.fill("input[name=steps]", str(steps))
    for name, value in fields.items():
        page.fill(f"input[name={name}]", str(value))
    page.click("#create button[type=submit]")


def wait_images(page) -> None:
    page.wait_for_function("() => { const i = document.querySelector('.grid img');"
                           " return i && i.complete && i.naturalWidth > 0 }", timeout=RESULT_TIMEOUT)


def job_id(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_newcomers_first_image_arrives_on_the_create_page(owner_web, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(owner_web.base + "/")
    for name in ("prompt", "negative", "aspect", "count", "seed", "steps", "guidance", "image", "strength", "preset"):
        assert page.locator(f"#create [name={name}]").count() == 1, name  # every /imagine option
    page.fill("textarea[name=prompt]", "a red fox in the snow")
    page.fill("input[name=steps]", "4")
    page.fill("input[name=seed]", "42")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "create-page.png"), full_page=True)
    page.click("#create button[type=submit]")
    page.wait_for_url("**/jobs/*")
    assert "💳 costs 0.2 credits · 49.8 left" in page.inner_text("main")  # the Discord price line
    wait_images(page)
    assert page.inner_text("h1.prompt").startswith("a red fox in the snow")
    assert "seed 42 · 64×64 · 4 steps" in page.inner_text("#job")
    buttons = page.locator(".actions button, .actions a").all_inner_texts()
    for label in ("U1", "🪄 Vary (Subtle)", "🪄 Vary (Strong)", "🔄 Re-roll", "ℹ️ Info", "🗑 Delete", "🚩 Report"):
        assert label in buttons, buttons
    page.screenshot(path=str(SCREENSHOTS / "result.png"), full_page=True)
    rows = db_rows(owner_web.data_dir, "SELECT status, guild_id, channel_id, user_id FROM jobs WHERE id = ?",
                   (job_id(page),))
    assert rows == [{"status": "delivered", "guild_id": 1, "channel_id": 1, "user_id": 1}]


def test_a_variation_of_an_image_is_a_new_job_from_the_same_page(owner_web, browser):
    page = browser.new_page()
    create(page, owner_web.base, "a lonely boat on a lake")
    page.wait_for_url("**/jobs/*")
    parent = job_id(page)
    wait_images(page)
    page.click("form[action$='/vary/0/subtle'] button")  # a single image: Vary (Subtle), as in Discord
    page.wait_for_function(f"() => location.pathname !== '/jobs/{parent}'")
    wait_images(page)
    assert "(variation)" in page.inner_text("h1.prompt")
    row = db_rows(owner_web.data_dir, "SELECT kind, parent_job_id, parent_image_index FROM jobs WHERE id = ?",
                  (job_id(page),))[0]
    assert row == {"kind": "variation", "parent_job_id": parent, "parent_image_index": 0}


def test_place_in_line_and_progress_arrive_live_without_a_reload(owner_web, browser):
    page = browser.new_page()
    page.goto(owner_web.base + "/mod")
    page.fill("form[action='/mod/pause'] input[name=reason]", "maintenance")
    page.click("form[action='/mod/pause'] button")
    assert "Queue paused" in page.inner_text("main")
    create(page, owner_web.base, "a windmill in a field", steps=12)
    page.wait_for_url("**/jobs/*")
    status = page.locator("#status-line")
    assert "⏳ Waiting in queue — position 1" in status.inner_text()
    assert "A moderator paused the queue: maintenance." in status.inner_text()
    page.evaluate("window.stayed = true")  # gone if the page reloads
    other = browser.new_page()
    other.goto(owner_web.base + "/mod")
    other.click("form[action='/mod/resume'] button")
    assert "Queue resumed" in other.inner_text("main")
    page.wait_for_function("() => /🎨 Rendering .* \\d+% \\(step \\d+\\/12\\)/.test("
                           "document.querySelector('#status-line')?.innerText || '')", timeout=RESULT_TIMEOUT)
    wait_images(page)
    assert page.evaluate("window.stayed") is True


def test_an_upload_that_is_not_an_image_or_too_big_and_a_refused_prompt_get_the_bots_messages(owner_web, browser):
    page = browser.new_page()
    before = db_rows(owner_web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"]
    page.goto(owner_web.base + "/")
    page.fill("textarea[name=prompt]", "a cat made of glass")
    page.set_input_files("input[name=image]", files=[{"name": "cat.png", "mimeType": "image/png",
                                                       "buffer": b"this is not a picture at all"}])
    page.click("#create button[type=submit]")
    assert page.inner_text(".error") == "That file is not an image (PNG, JPEG or WebP), whatever its name says."
    assert page.input_value("textarea[name=prompt]") == "a cat made of glass"  # the form keeps what was typed
    page.set_input_files("input[name=image]", files=[{"name": "big.png", "mimeType": "image/png",
                                                       "buffer": b"\x89PNG" + b"\0" * 200_000}])
    page.click("#create button[type=submit]")
    assert page.inner_text(".error") == "That image is 0.2 MiB; the limit is 0.1 MiB."
    # A prompt the filter refuses: the bot's refusal, naming the category and never the word.
    page.fill("textarea[name=prompt]", "a nude woman on a beach")
    page.set_input_files("input[name=image]", files=[])
    page.click("#create button[type=submit]")
    refusal = page.inner_text(".error")
    assert "sexual content" in refusal and "nude" not in refusal
    assert db_rows(owner_web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == before
    assert not list((owner_web.data_dir / "inputs").rglob("*.png"))  # nothing refused stays on disk


def test_a_moderator_approves_a_flagged_image_on_the_desk(owner_web, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    create(page, owner_web.base, "a lighthouse at dusk")
    page.wait_for_url("**/jobs/*")
    flagged = job_id(page)
    page.wait_for_function("() => (document.querySelector('#status-line')?.innerText || '').includes('Not delivered')",
                           timeout=RESULT_TIMEOUT)
    assert "the image check flagged the result as explicit" in page.inner_text("#status-line")
    assert page.goto(owner_web.base + f"/images/{flagged}/0").status == 404  # withheld: not served to members
    page.goto(owner_web.base + "/mod")
    card = page.locator(f"#review-{flagged}")
    assert "withheld: sexual" in card.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "moderator-desk.png"), full_page=True)
    assert page.request.get(owner_web.base + f"/mod/images/{flagged}/0").status == 200  # moderators see it
    card.locator("form[action$='/approve'] button").click()
    assert f"Approved job #{flagged}." in page.inner_text("[role=status]")
    assert page.locator(f"#review-{flagged}").count() == 0
    page.goto(owner_web.base + "/mod/log?action=approve")
    assert "approve flagged image" in page.inner_text("#audit")
    entries = db_rows(owner_web.data_dir, "SELECT action, target_id FROM audit_log WHERE action LIKE 'approve%'")
    assert entries == [{"action": "approve flagged image", "target_id": 1}]


def test_settings_and_presets_fill_the_create_page_and_the_desk_shows_stats(owner_web, browser):
    page = browser.new_page()
    page.goto(owner_web.base + "/settings")
    page.fill("input[name=steps]", "120")  # within the form's range, beyond the model's: the bot's own refusal
    page.click("form[action='/settings/set'] button")
    assert page.inner_text(".error") == "Steps must be between 1 and 100 for this model."
    page.fill("input[name=steps]", "3")
    page.select_option("select[name=variation]", "subtle")
    page.click("form[action='/settings/set'] button")
    assert "steps 3" in page.inner_text("#defaults") and "variation subtle (0.35)" in page.inner_text("#defaults")
    page.fill("form[action='/settings/save'] input[name=name]", "quick")
    page.click("form[action='/settings/save'] button")
    page.goto(owner_web.base + "/")
    assert page.locator("select[name=preset] option").all_inner_texts() == ["(none)", "quick"]
    assert "left" in page.inner_text("#credits")
    page.goto(owner_web.base + "/mod/stats")
    page.wait_for_function("() => { const i = document.querySelector('img[alt=\"stats chart\"]');"
                           " return i && i.complete && i.naturalWidth > 0 }")
    assert "jobs" in page.inner_text("main")
    page.goto(owner_web.base + "/mod/storage")
    assert "Images:" in page.inner_text("main") and "Database:" in page.inner_text("main")
    page.goto(owner_web.base + "/settings")
    page.click("form[action='/settings/reset'] button")
    assert "none" in page.inner_text("#defaults")
    views = db_rows(owner_web.data_dir, "SELECT action FROM audit_log WHERE action IN ('view stats', 'view storage')")
    assert sorted(r["action"] for r in views) == ["view stats", "view storage"]


def test_a_form_from_another_site_is_refused(owner_web, browser):
    page = browser.new_page()
    page.goto(owner_web.base + "/")
    response = page.request.post(owner_web.base + "/mod/pause", form={"reason": "x", "csrf": "forged"})
    assert response.status == 403
    assert db_rows(owner_web.data_dir, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'pause' AND reason = 'x'"
                   )[0]["n"] == 0


def test_a_signed_out_visitor_is_refused_when_bound_beyond_loopback(tiny_model, tmp_path, browser):
    port = free_port()
    web = WebProcess(tiny_model, tmp_path / "data", tmp_path / "web.log", WEB_HOST="0.0.0.0", WEB_PORT=port,
                     WEB_OAUTH_CLIENT_ID="4242", WEB_OAUTH_CLIENT_SECRET="not-a-real-secret",
                     WEB_PUBLIC_URL=f"http://127.0.0.1:{port}", WEB_GUILD_IDS="777").start()
    try:
        web.wait_ready(renderer=False)
        page = browser.new_page()
        for path in ("/", "/history", "/mod", "/jobs/1", "/images/1/0"):
            page.goto(web.base + path)
            assert page.url == web.base + "/signin", path
            assert "Sign in with Discord" in page.inner_text("main")
        assert page.request.post(web.base + "/imagine", multipart={"prompt": "a fox"}).status == 401
        assert db_rows(web.data_dir, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == 0
    finally:
        assert web.stop() == 0
    assert not web.tracebacks()


def test_beyond_loopback_without_sign_in_it_refuses_to_start(tiny_model, tmp_path):
    env = {**WebProcess(tiny_model, tmp_path / "data", tmp_path / "log").env, "WEB_HOST": "0.0.0.0"}
    done = subprocess.run([sys.executable, "-m", "bot", "web"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "WEB_HOST=0.0.0.0 is not a loopback address: set WEB_OAUTH_CLIENT_ID" in done.stderr


@pytest.fixture
def fake_discord():
    """The Discord-compatible server (OAuth2 endpoints included) on a loop of its own: the sync
    Playwright API cannot share this thread's."""
    import asyncio
    import threading

    from tests.fakediscord import FakeDiscord

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeDiscord()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    assert not server.violations, server.violations


def test_signing_in_with_discord_gives_the_members_servers_and_roles(tiny_model, tmp_path, browser, fake_discord):
    from tests.fakediscord.models import DEFAULT_USER_PERMISSIONS

    served = fake_discord.add_guild(name="Pixel Test")
    other = fake_discord.add_guild(name="Elsewhere")  # not served here: never offered
    alice = fake_discord.add_user("alice")
    mod = fake_discord.add_user("mod", permissions=DEFAULT_USER_PERMISSIONS | (1 << 13))
    helper_role = fake_discord.add_role("helpers")
    bob = fake_discord.add_user("bob")
    fake_discord.give_role(bob, helper_role)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    fake_discord.add_oauth_client(4242, "s3cret", f"{public}/oauth/callback")
    web = WebProcess(tiny_model, tmp_path / "data", tmp_path / "web.log", WEB_HOST="0.0.0.0", WEB_PORT=port,
                     WEB_OAUTH_CLIENT_ID="4242", WEB_OAUTH_CLIENT_SECRET="s3cret", WEB_PUBLIC_URL=public,
                     WEB_OAUTH_AUTHORIZE_URL=f"{fake_discord.base_url}/oauth2/authorize",
                     DISCORD_API_BASE=fake_discord.api_base, WEB_GUILD_IDS=f"{served.id}",
                     MODERATOR_ROLE_IDS=str(helper_role)).start()
    try:
        web.wait_ready(renderer=False)

        def sign_in(user):
            context = browser.new_context()
            page = context.new_page()
            fake_discord.oauth.user_id = user.id
            page.goto(web.base + "/")
            page.click("text=Sign in with Discord")
            page.wait_for_url(web.base + "/")
            return page

        page = sign_in(alice)
        assert page.locator("select[name=guild] option").all_inner_texts() == ["Pixel Test"]
        assert "Moderator desk" not in page.inner_text("header")
        assert page.goto(web.base + "/mod").status == 403
        assert "Only moderators of this server can use the moderator desk." in page.inner_text(".error")
        create(page, web.base, "a fox in a hat", steps=40)  # long enough to be cancelled while it waits or renders
        page.wait_for_url("**/jobs/*")
        row = db_rows(web.data_dir, "SELECT guild_id, channel_id, user_id FROM jobs WHERE id = ?", (job_id(page),))
        assert row == [{"guild_id": served.id, "channel_id": 1, "user_id": alice.id}]
        page.click("form[action$='/cancel'] button")  # the owner's Cancel (and nothing left rendering at the stop)
        assert db_rows(web.data_dir, "SELECT status FROM jobs")[0]["status"] == "cancelled"
        cookie = next(c for c in page.context.cookies() if c["name"] == "pixelforge_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        for moderator in (mod, bob):  # Manage Messages, or a MODERATOR_ROLE_IDS role, as in the bot
            page = sign_in(moderator)
            assert "Moderator desk" in page.inner_text("header"), moderator.username
            assert page.goto(web.base + "/mod").status == 200
        assert other.id not in {int(x) for x in page.locator("select[name=guild] option").evaluate_all(
            "els => els.map(e => e.value)")}
    finally:
        assert web.stop() == 0
    assert not web.tracebacks(), web.tracebacks()
