"""History, member settings and retention services against a real SQLite database (no Discord)."""
from __future__ import annotations

import time

import pytest

from bot.database import Database
from bot.errors import NotAllowed, NotFound, ValidationError
from bot.services.history import PAGE_SIZE, HistoryService, fts_query
from bot.services.jobs import JobStore
from bot.services.retention import DAY, RetentionService
from bot.services.settings_store import Defaults, SettingsStore, build_request

GUILD = 5


@pytest.fixture
async def db(tmp_path):
    database = await Database(tmp_path / "db.sqlite3").connect()
    yield database
    await database.close()


async def _jobs(db, rows, status="delivered", created_at=None) -> list[int]:
    """rows: (user_id, prompt[, guild, parent, init_image]); returns the new ids."""
    ids = []
    now = time.time() if created_at is None else created_at
    for row in rows:
        user, prompt, *rest = row
        guild, parent, init = (rest + [GUILD, None, None][len(rest):])[:3]
        ids.append(await db.insert(
            "INSERT INTO jobs (kind, task, user_id, guild_id, channel_id, parent_job_id, prompt, aspect, width,"
            " height, steps, guidance, count, seed, model, priority, status, created_at, init_image)"
            " VALUES (?, ?, ?, ?, 1, ?, ?, '1:1', 64, 64, 4, 7.0, 1, 1, 'm', 1, ?, ?, ?)",
            ("variation" if parent else "imagine", "img2img" if init else "txt2img", user, guild, parent, prompt,
             status, now, init)))
    return ids


def test_fts_query_quotes_every_word_and_prefixes_the_last():
    assert fts_query("Blue  WHALE") == '"blue" "whale"*'
    assert fts_query('fox" OR NEAR(a b) -cat *') == '"fox" "or" "near" "a" "b" "cat"*'
    assert fts_query("a fo") == '"a" "fo"'  # a 2-letter prefix would match half the vocabulary
    assert fts_query("  ?!  ") is None


async def test_pages_are_newest_first_by_keyset_and_search_matches_words(db, tmp_path):
    ids = await _jobs(db, [(1, f"a blue whale {n}") for n in range(23)] + [(2, "a blue whale of bob")]
                      + [(1, "whale in another server", 99)])
    history = HistoryService(db, JobStore(db, tmp_path))
    view = await history.open(1, 1, GUILD)
    first = await history.page(view)
    assert [e.id for e in first.entries] == ids[22:12:-1] and first.has_older and not first.has_newer
    second = await history.page(view, older_than=first.entries[-1].id)
    third = await history.page(view, older_than=second.entries[-1].id)
    assert [e.id for e in third.entries] == ids[2::-1] and not third.has_older and third.has_newer
    back = await history.page(view, newer_than=third.entries[0].id)
    assert back.entries == second.entries and back.has_newer and back.has_older
    assert len(first.entries) == PAGE_SIZE

    searched = await history.open(1, 1, GUILD, "whale 1")
    page = await history.page(searched)
    assert [e.prompt for e in page.entries] == ["a blue whale 1"]  # "1" is a whole word, no prefix
    searched = await history.open(1, 1, GUILD, "blu wha")
    assert len((await history.page(searched)).entries) == 0  # only the last word is a prefix
    searched = await history.open(1, 1, GUILD, "blue wha")
    assert len((await history.page(searched)).entries) == PAGE_SIZE


async def test_another_members_history_and_views_belong_to_their_viewer(db, tmp_path):
    history = HistoryService(db, JobStore(db, tmp_path))
    with pytest.raises(NotAllowed, match="Only moderators"):
        await history.open(1, 2, GUILD)
    view = await history.open(3, 2, GUILD, is_moderator=True)
    with pytest.raises(NotAllowed):
        await history.view(view.id, 1, GUILD, is_moderator=True)
    assert (await history.view(view.id, 3, GUILD, is_moderator=True)).member_id == 2
    with pytest.raises(NotAllowed, match="another server"):  # a list opened in one server pages only there
        await history.view(view.id, 3, GUILD + 1, is_moderator=True)
    with pytest.raises(NotAllowed, match="Only moderators"):  # rights are read again at every click
        await history.view(view.id, 3, GUILD)
    with pytest.raises(ValidationError, match="letters or digits"):
        await history.open(1, 1, GUILD, "!!!")


async def test_showable_and_the_lineage(db, tmp_path):
    store = JobStore(db, tmp_path)
    history = HistoryService(db, store)
    (root,) = await _jobs(db, [(1, "root")])
    (child,) = await _jobs(db, [(2, "root", GUILD, root)])
    (grandchild,) = await _jobs(db, [(3, "root", GUILD, child)])
    details = await history.details(grandchild)
    assert [j.id for j in details.lineage] == [child, root]
    # Who may show it is bot/services/authz.py's (tests/test_authz.py); here: what there is to show.
    with pytest.raises(NotFound, match="no longer stored"):
        await history.showable(await store.get(root))
    (failed,) = await _jobs(db, [(1, "broken")], status="failed")
    with pytest.raises(NotFound, match="it is failed"):
        await history.showable(await store.get(failed))


async def test_settings_precedence_presets_and_limits(db):
    store = SettingsStore(db)
    await store.update(1, Defaults(aspect="3:2", steps=10, negative="blurry"))
    await store.update(1, Defaults(count=2))  # None leaves the others alone
    assert await store.defaults(1) == Defaults(aspect="3:2", steps=10, negative="blurry", count=2)
    await store.save_preset(1, "  Wide   100%_fast ")
    assert await store.preset_names(1, "wide 100%") == ["Wide 100%_fast"]
    assert await store.preset_names(1, "wide 1000") == []
    assert await store.preset_names(1, "%") == []  # a LIKE wildcard typed is a literal
    await store.update(1, Defaults(aspect="1:1", steps=20))
    chosen = await store.resolve(1, "WIDE 100%_FAST")
    assert (chosen.aspect, chosen.steps, chosen.count) == ("3:2", 10, 2)
    request = build_request("a fox", Defaults(steps=4), chosen)
    assert (request.aspect, request.steps, request.count, request.negative_prompt) == ("3:2", 4, 2, "blurry")
    assert build_request("a fox", Defaults(negative=""), chosen).negative_prompt == ""  # given, even empty
    with pytest.raises(NotFound, match="no preset named"):
        await store.resolve(1, "nope")
    await store.reset(1)
    assert (await store.defaults(1)).empty and await store.preset_names(1) == ["Wide 100%_fast"]
    with pytest.raises(ValidationError, match="no defaults to save"):
        await store.save_preset(1, "empty")
    await store.update(2, Defaults(steps=3))
    for n in range(25):
        await store.save_preset(2, f"p{n}")
    with pytest.raises(ValidationError, match="25 presets"):
        await store.save_preset(2, "one more")
    await store.save_preset(2, "P3")  # saving over one of them is fine (names ignore case)


async def test_retention_removes_old_files_but_not_what_a_job_still_needs(db, tmp_path):
    now = time.time()
    store = JobStore(db, tmp_path)
    old_ids = await _jobs(db, [(1, "old"), (1, "old, kept for a queued variation"), (1, "old, not delivered")],
                          created_at=now - 10 * DAY)
    paths = []
    for job_id in old_ids:
        path = tmp_path / "images" / str(job_id) / "0-1.png"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"png")
        paths.append(path)
        await db.execute("INSERT INTO images (job_id, idx, seed, path, sha256, width, height, created_at) "
                         "VALUES (?, 0, 1, ?, 'x', 64, 64, ?)", (job_id, f"images/{job_id}/0-1.png", now - 10 * DAY))
    await db.execute("UPDATE jobs SET status = 'done' WHERE id = ?", (old_ids[2],))
    await _jobs(db, [(2, "vary it", GUILD, old_ids[1], f"images/{old_ids[1]}/0-1.png")], status="queued")
    # Image prompts: one unused for 10 days, one a recent re-roll still uses.
    for name in ("stale", "fresh"):
        (tmp_path / "inputs").mkdir(exist_ok=True)
        (tmp_path / "inputs" / f"{name}.png").write_bytes(b"input")
        await db.execute("INSERT INTO input_images (sha256, path, width, height, source_format, source_width, "
                         "source_height, user_id, created_at) VALUES (?, ?, 64, 64, 'PNG', 64, 64, 1, ?)",
                         (name, f"inputs/{name}.png", now - 10 * DAY))
    await _jobs(db, [(1, "re-roll", GUILD, None, "inputs/fresh.png")], created_at=now - DAY)
    await db.execute("INSERT INTO history_views (viewer_id, member_id, search, created_at) VALUES (1, 1, '', ?)",
                     (now - 2 * DAY,))

    report = await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=7).run_once(now)
    assert (report.images, report.inputs, report.bytes) == (1, 1, 3 + 5)
    assert [p.exists() for p in paths] == [False, True, True]
    assert not paths[0].parent.exists()  # its empty folder went too
    images = {i.job_id: i for job_id in old_ids for i in await store.images(job_id)}
    assert images[old_ids[0]].pruned_at == now and images[old_ids[1]].pruned_at is None
    assert (tmp_path / "inputs" / "fresh.png").exists() and not (tmp_path / "inputs" / "stale.png").exists()
    assert await db.fetchall("SELECT * FROM history_views") == []
    assert (await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=7).run_once(now)).images == 0

    use = await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=7).usage()
    assert (use.image_files, use.image_bytes, use.input_files, use.pruned_images) == (2, 6, 1, 1)
    assert use.database_bytes > 0 and use.retention_days == 7
    # Off (0 days): nothing is ever removed.
    assert (await RetentionService(db, tmp_path, tmp_path / "db.sqlite3", days=0).run_once(now + 99 * DAY)).images == 0


async def test_the_bench_measures_history_pages_and_searches():
    from bot.bench.queue_costs import measure_history

    result = await measure_history(jobs=2000, runs=2)
    assert set(result) == {"first_page", "deep_page", "search_common", "search_common_unused", "search_rare"}
    assert all(0 < value < 1 for value in result.values())


async def test_migration_0006_indexes_the_jobs_already_stored_and_keeps_the_index_in_step(tmp_path):
    import shutil
    from pathlib import Path

    migrations = Path(__file__).resolve().parent.parent / "migrations"
    older = tmp_path / "v5"
    older.mkdir()
    for path in sorted(migrations.glob("000[1-5]_*.sql")):
        shutil.copy(path, older)
    db = await Database(tmp_path / "db.sqlite3", migrations_dir=older).connect()
    await _jobs(db, [(1, "an old lighthouse"), (1, "an old harbour")])
    await db.close()
    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        history = HistoryService(db, JobStore(db, tmp_path))
        view = await history.open(1, 1, GUILD, "lighthouse")
        assert [e.prompt for e in (await history.page(view)).entries] == ["an old lighthouse"]
        await db.execute("UPDATE jobs SET prompt = 'a new harbour' WHERE prompt = 'an old lighthouse'")
        assert (await history.page(view)).entries == []
        view = await history.open(1, 1, GUILD, "harbour")
        assert len((await history.page(view)).entries) == 2
        await db.execute("DELETE FROM jobs WHERE prompt = 'an old harbour'")
        assert [e.prompt for e in (await history.page(view)).entries] == ["a new harbour"]
        assert (await db.fetchone("PRAGMA user_version"))[0] >= 6  # and every later migration on top
    finally:
        await db.close()
