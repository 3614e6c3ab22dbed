"""The one owner of the SQLite connection and of transactions.

aiosqlite shares one connection between coroutines, and one connection gives no isolation:
a coroutine's rollback can be undone by another's commit (NOTES.md). So every statement runs
under one lock, and writes run inside `transaction()` with BEGIN IMMEDIATE.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")


class MigrationError(Exception):
    pass


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements (executescript() would commit on its own)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") for part in current.strip().splitlines() if part.strip()
    ):
        raise MigrationError(f"incomplete SQL statement at end of script: {current.strip()[:60]!r}")
    return statements


def bundled_migrations() -> Traversable:
    """The `migrations` package's folder, wherever it is installed (source tree, wheel, zip)."""
    return resources.files("migrations")


def discover_migrations(directory: Path | Traversable | None = None) -> list[tuple[int, Traversable]]:
    """(version, file) of every `NNNN_name.sql` in `directory` (default: the bundled migrations)."""
    directory = bundled_migrations() if directory is None else directory
    found = []
    sql_files = [entry for entry in directory.iterdir() if entry.name.endswith(".sql") and entry.is_file()]
    for path in sorted(sql_files, key=lambda entry: entry.name):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append((int(match.group(1)), path))
    versions = [v for v, _ in found]
    # 1..N without gaps: a database at version N has run every migration up to N, so a number
    # added below N later would never run there.
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


async def _complete(awaitable) -> Any:
    """Await `awaitable` to its end even if the caller is cancelled meanwhile, then re-raise."""
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


class Database:
    def __init__(self, path: Path | str, migrations_dir: Path | Traversable | None = None):
        self.path = Path(path)
        self.migrations_dir = migrations_dir
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not connected")
        return self._conn

    async def connect(self) -> Database:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so nothing commits behind our back.
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        # WAL + synchronous=NORMAL survives kill -9 without partial transactions.
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        # Deleted and overwritten rows (a cleared interaction token, a purged block-log prompt) are
        # zeroed on disk instead of lingering in free pages.
        await self._conn.execute("PRAGMA secure_delete=ON")
        await self.migrate()
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0])  # type: ignore[index]

    async def migrate(self) -> int:
        """Apply pending migrations in order, each in one transaction with its user_version."""
        current = await self.schema_version()
        for version, path in discover_migrations(self.migrations_dir):
            if version <= current:
                continue
            statements = split_statements(path.read_text(encoding="utf-8"))
            async with self._lock:
                # Foreign keys off for the migration (the PRAGMA is a no-op inside a transaction):
                # a table rebuild drops the old table, and with them on that DROP would
                # cascade-delete the rows that reference it. foreign_key_check proves, before
                # COMMIT, that the rebuilt tables still fit together.
                await self.conn.execute("PRAGMA foreign_keys=OFF")
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        await self.conn.execute(statement)
                    broken = await self.conn.execute_fetchall("PRAGMA foreign_key_check")
                    if broken:
                        raise MigrationError(f"foreign keys broken: {[tuple(r) for r in broken][:5]}")
                    await self.conn.execute(f"PRAGMA user_version = {version}")
                    await self.conn.execute("COMMIT")
                except Exception as exc:
                    await self.conn.execute("ROLLBACK")
                    raise MigrationError(f"migration {path.name} failed: {exc}") from exc
                finally:
                    await self.conn.execute("PRAGMA foreign_keys=ON")
            log.info("applied migration %s", path.name)
            current = version
        return current

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it: old page versions (a token cleared a
        moment ago) leave the -wal file too. Cheap when little was written."""
        async with self._lock:
            await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction; nothing else touches the connection until it ends.

        BEGIN, COMMIT and ROLLBACK run to completion even when the caller is cancelled
        (shutdown, a cancelled job): a BEGIN that finished in aiosqlite's thread after its
        awaiting task was cancelled would leave the shared connection inside a transaction."""
        async with self._lock:
            try:
                await _complete(self.conn.execute("BEGIN IMMEDIATE"))
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    await _complete(self.conn.execute("ROLLBACK"))
                raise
            await _complete(self.conn.execute("COMMIT"))

    # Single statements run in autocommit mode: SQLite makes each one atomic on its own, and one
    # round trip to aiosqlite's thread (instead of BEGIN/statement/COMMIT) keeps the lock short
    # when a burst of interactions all write at once.
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement (atomic by itself); returns the affected row count."""
        async with self._lock:
            cursor = await self.conn.execute(sql, tuple(params))
            return cursor.rowcount

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int | None:
        """One INSERT (atomic by itself); the new row id, or None if it inserted nothing."""
        async with self._lock:
            cursor = await self.conn.execute(sql, tuple(params))
            return cursor.lastrowid if cursor.rowcount > 0 else None
