import sqlite3

import pytest

from bot.database import Database, MigrationError, split_statements


async def test_fresh_database_gets_every_migration(tmp_path):
    db = await Database(tmp_path / "a.sqlite3").connect()
    try:
        assert await db.schema_version() >= 1
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"jobs", "images", "bot_state"} <= tables
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    finally:
        await db.close()


def _write(dir_, name, sql):
    (dir_ / name).write_text(sql)


async def test_upgrade_applies_only_new_migrations(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    _write(mig, "0001_a.sql", "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);")
    db = await Database(tmp_path / "db.sqlite3", migrations_dir=mig).connect()
    await db.close()
    _write(mig, "0002_b.sql", "-- adds b\nCREATE TABLE b (y TEXT);\nINSERT INTO a VALUES (2);")
    db = await Database(tmp_path / "db.sqlite3", migrations_dir=mig).connect()
    try:
        assert await db.schema_version() == 2
        assert [r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY x")] == [1, 2]
    finally:
        await db.close()


async def test_failed_migration_rolls_back_entirely(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    _write(mig, "0001_a.sql", "CREATE TABLE a (x INTEGER);")
    _write(mig, "0002_bad.sql", "CREATE TABLE b (y TEXT);\nINSERT INTO nope VALUES (1);")
    with pytest.raises(MigrationError, match="0002_bad.sql"):
        await Database(tmp_path / "db.sqlite3", migrations_dir=mig).connect()
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "b" not in tables and "a" in tables
    finally:
        conn.close()


async def test_a_rolled_back_transaction_is_not_committed_by_another_coroutine(tmp_path):
    import asyncio

    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        await db.execute("INSERT INTO bot_state VALUES ('k', 'v0')")

        async def failing():
            with pytest.raises(RuntimeError):
                async with db.transaction() as conn:
                    await conn.execute("UPDATE bot_state SET value = 'bad' WHERE key = 'k'")
                    await asyncio.sleep(0.05)
                    raise RuntimeError("boom")

        async def committing():
            await asyncio.sleep(0.01)
            await db.execute("INSERT INTO bot_state VALUES ('other', 'x')")

        await asyncio.gather(failing(), committing())
        assert (await db.fetchone("SELECT value FROM bot_state WHERE key='k'"))[0] == "v0"
    finally:
        await db.close()


def test_statement_splitter_keeps_semicolons_inside_strings():
    assert split_statements("INSERT INTO t VALUES ('a;b');\nSELECT 1;") == [
        "INSERT INTO t VALUES ('a;b');", "SELECT 1;"]


def test_misnamed_migration_is_refused(tmp_path):
    mig = tmp_path / "m"
    mig.mkdir()
    _write(mig, "init.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="0001_name.sql"):
        from bot.database import discover_migrations
        discover_migrations(mig)


def test_a_gap_in_the_migration_numbers_is_refused(tmp_path):
    # A database at version 3 would never run a 0002 added later: numbers run 1..N.
    from bot.database import discover_migrations

    mig = tmp_path / "m"
    mig.mkdir()
    _write(mig, "0001_a.sql", "SELECT 1;")
    _write(mig, "0003_c.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="without gaps"):
        discover_migrations(mig)
    _write(mig, "0002_b.sql", "SELECT 1;")
    assert [v for v, _ in discover_migrations(mig)] == [1, 2, 3]


async def test_cancelling_a_writer_mid_transaction_leaves_the_connection_usable(tmp_path):
    import asyncio

    db = await Database(tmp_path / "db.sqlite3").connect()
    try:
        for delay in (0, 0.0005, 0.001, 0.002, 0.005):
            async def writer():
                async with db.transaction() as conn:
                    await conn.execute("INSERT OR REPLACE INTO bot_state VALUES ('w', 'x')")
                    await asyncio.sleep(0.01)
            task = asyncio.create_task(writer())
            await asyncio.sleep(delay)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert not db.conn.in_transaction
            await db.execute("INSERT OR REPLACE INTO bot_state VALUES ('after', ?)", (str(delay),))
    finally:
        await db.close()
