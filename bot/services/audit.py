"""The audit log of moderator actions, and the notices that tell a member what a moderator did.

Both are written inside the transaction of the action itself (a grant, a ban, a pause), so an
action is never done without its record, nor recorded without being done. A notice waits until the
member's next reply ("a moderator gave you 20 credits: ..."); the front end takes it then.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.database import Database
from bot.i18n import restored, stored


@dataclass(frozen=True)
class AuditEntry:
    id: int
    guild_id: int
    moderator_id: int
    target_id: int | None
    action: str
    before: str | None
    after: str | None
    reason: str | None
    created_at: float


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    has_older: bool


class AuditLog:
    def __init__(self, db: Database):
        self.db = db
        # (guild, member) with notices not yet shown: most interactions come from members without
        # any, and this spares each of them a read.
        self._pending: set[tuple[int, int]] = set()

    async def load(self) -> None:
        rows = await self.db.fetchall("SELECT DISTINCT guild_id, user_id FROM notices WHERE shown_at IS NULL")
        self._pending = {(r["guild_id"], r["user_id"]) for r in rows}

    async def record(self, conn, *, guild_id: int, moderator_id: int, target_id: int | None, action: str,
                     before: str | None, after: str | None, reason: str | None, now: float) -> None:
        """One moderator action (inside the action's transaction)."""
        await conn.execute(
            "INSERT INTO audit_log (guild_id, moderator_id, target_id, action, before, after, reason, created_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (guild_id, moderator_id, target_id, action, before, after, reason, now),
        )

    async def viewed(self, *, guild_id: int, moderator_id: int, action: str, target_id: int | None,
                     now: float) -> None:
        """A moderator looked at something members did not show them themselves (the block log with
        its refused prompts, the audit log, stats, storage): recorded too, so every /mod subcommand
        leaves a trace. One statement, no transaction of its own to share."""
        await self.db.execute(
            "INSERT INTO audit_log (guild_id, moderator_id, target_id, action, before, after, reason, created_at) "
            "VALUES (?,?,?,?,NULL,NULL,NULL,?)", (guild_id, moderator_id, target_id, action, now))

    async def notify(self, conn, guild_id: int, user_id: int, text: str, now: float) -> None:
        """Tell `user_id` in their next reply (inside the action's transaction)."""
        await conn.execute("INSERT INTO notices (guild_id, user_id, text, created_at) VALUES (?,?,?,?)",
                           (guild_id, user_id, stored(text), now))
        self._pending.add((guild_id, user_id))

    def has_notices(self, guild_id: int, user_id: int) -> bool:
        return (guild_id, user_id) in self._pending

    async def take_notices(self, guild_id: int, user_id: int, now: float) -> list[str]:
        """The member's waiting notices, oldest first, marked shown (one statement: taken once)."""
        if (guild_id, user_id) not in self._pending:
            return []
        self._pending.discard((guild_id, user_id))
        rows = await self.db.fetchall(
            "UPDATE notices SET shown_at = ? WHERE guild_id = ? AND user_id = ? AND shown_at IS NULL "
            "RETURNING id, text", (now, guild_id, user_id))
        return [restored(r["text"]) for r in sorted(rows, key=lambda r: r["id"])]

    async def page(self, guild_id: int, target_id: int | None = None, page: int = 0,
                   per_page: int = 10, *, moderator_id: int | None = None, action: str | None = None) -> AuditPage:
        """Newest first; `target_id` keeps only actions on that member, `moderator_id` those by that
        moderator, `action` those whose action starts with it ("quota" matches every quota action)."""
        where = "guild_id = ?"
        params: list[int | str] = [guild_id]
        if target_id is not None:
            where += " AND target_id = ?"
            params.append(target_id)
        if moderator_id is not None:
            where += " AND moderator_id = ?"
            params.append(moderator_id)
        if action:
            where += " AND substr(action, 1, ?) = ?"
            params.extend([len(action), action])
        rows = await self.db.fetchall(
            f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, per_page + 1, max(0, page) * per_page])
        entries = [AuditEntry(r["id"], r["guild_id"], r["moderator_id"], r["target_id"], r["action"],
                              r["before"], r["after"], r["reason"], r["created_at"]) for r in rows[:per_page]]
        return AuditPage(entries, max(0, page), len(rows) > per_page)
