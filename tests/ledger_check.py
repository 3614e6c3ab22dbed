"""Proof that quota balances and the ledger never disagree, read straight from the SQLite file
(unit tests and end-to-end tests alike; WAL lets it read while the bot runs)."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def ledger_disagreements(db_path: Path) -> list[str]:
    """Every way the accounts, the ledger and the jobs' charges disagree (empty: they agree).

    - replaying each member's ledger rows from an empty account gives the account as stored;
    - each row's amount is what its change did to the member's credits (bonus up, usage down);
    - debits only ever add usage and refunds only ever give back;
    - each charged job has one debit row, and its debit and refunds add up to what it still costs;
    - nobody has less than nothing left, and the last row's balance is what the account has left."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    problems: list[str] = []
    try:
        accounts = {(r["guild_id"], r["user_id"]): r for r in conn.execute("SELECT * FROM quota_accounts")}
        rows = conn.execute("SELECT * FROM quota_ledger ORDER BY id").fetchall()
        replay: dict[tuple[int, int], tuple[int, int]] = {}
        last: dict[tuple[int, int], sqlite3.Row] = {}
        for row in rows:
            key = (row["guild_id"], row["user_id"])
            used, bonus = replay.get(key, (0, 0))
            d_used, d_bonus = row["used_after"] - used, row["bonus_after"] - bonus
            where = f"ledger row {row['id']} ({row['kind']}, member {key})"
            if row["kind"] == "set":
                if (d_used, d_bonus) != (0, 0):
                    problems.append(f"{where}: a set changed usage or bonus")
            elif row["amount"] != d_bonus - d_used:
                problems.append(f"{where}: amount {row['amount']} but the account moved by {d_bonus - d_used}")
            if row["kind"] == "debit" and not (row["amount"] < 0 and d_bonus == 0):
                problems.append(f"{where}: a debit must add usage only")
            if row["kind"] == "refund" and row["amount"] <= 0:
                problems.append(f"{where}: a refund must give back")
            if row["kind"] in ("reset", "period") and row["used_after"] != 0:
                problems.append(f"{where}: usage not back to zero")
            if row["balance_after"] is not None and row["balance_after"] < 0:
                problems.append(f"{where}: balance below zero")
            replay[key] = (row["used_after"], row["bonus_after"])
            last[key] = row
        for key, account in accounts.items():
            if replay.get(key, (0, 0)) != (account["used"], account["bonus"]):
                problems.append(f"account {key}: stored (used, bonus) = ({account['used']}, {account['bonus']}),"
                                f" the ledger says {replay.get(key, (0, 0))}")
            allowance = account["allowance"] if account["allowance"] is not None else account["tier"]
            available = None if allowance is None else max(0, allowance + account["bonus"] - account["used"])
            if key in last and last[key]["balance_after"] != available:
                problems.append(f"account {key}: last ledger balance {last[key]['balance_after']}, has {available}")
        for key in replay.keys() - accounts.keys():
            problems.append(f"ledger rows for {key} without an account")
        for job in conn.execute("SELECT id, charged, refunded FROM jobs"):
            entries = conn.execute("SELECT kind, amount FROM quota_ledger WHERE job_id = ?", (job["id"],)).fetchall()
            debits = [e for e in entries if e["kind"] == "debit"]
            if job["charged"] and len(debits) != 1:
                problems.append(f"job {job['id']}: charged {job['charged']} with {len(debits)} debit rows")
            if -sum(e["amount"] for e in entries) != job["charged"] - job["refunded"]:
                problems.append(f"job {job['id']}: ledger says it costs {-sum(e['amount'] for e in entries)}, "
                                f"the job {job['charged'] - job['refunded']}")
    finally:
        conn.close()
    return problems
