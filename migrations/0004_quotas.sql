-- Quotas and moderator tools (issue 7). Amounts are integer tenths of a credit (bot/credits.py).

-- What a job costs (its GPU work priced against the model's default image; what fair share counts),
-- what was debited for it at admission, and what went back to its owner when it ended.
-- Rows from before quotas count as one default image and were never charged.
ALTER TABLE jobs ADD COLUMN cost     INTEGER NOT NULL DEFAULT 10 CHECK (cost > 0);
ALTER TABLE jobs ADD COLUMN charged  INTEGER NOT NULL DEFAULT 0 CHECK (charged >= 0);
ALTER TABLE jobs ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded BETWEEN 0 AND charged);

-- /mod stats reads jobs per day of one server.
CREATE INDEX jobs_by_guild_created ON jobs (guild_id, created_at);

-- One row per member and server. available = allowance + bonus - used, where the allowance is
-- `allowance` (set by a moderator) or else `tier`: the member's QUOTA_ROLE_CREDITS tier or
-- QUOTA_CREDITS, as of the last time the bot saw their roles (a refund after a restart does not
-- know them). NULL tier: no limit. Admission debits with one conditional UPDATE
-- (used + cost <= allowance + bonus), so `used` never passes what the member has, whatever arrives
-- at once. `bonus` may be negative (credits taken away). What is left counts as 0 when a lower
-- allowance (a moderator's, or a role taken away) falls under what was already used.
CREATE TABLE quota_accounts (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    period_start REAL    NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    bonus        INTEGER NOT NULL DEFAULT 0,
    allowance    INTEGER CHECK (allowance >= 0),
    tier         INTEGER CHECK (tier >= 0),
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- Every change of an account, written in the transaction that changes it. `amount` is what the
-- change gave (+) or took (-): bonus - used moved by it (a `set` row: the allowance moved by it).
-- used_after and bonus_after are the account after it, so the ledger replays to the account
-- (tests/ledger_check.py proves it); balance_after is what was left then (NULL: no limit).
CREATE TABLE quota_ledger (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('debit', 'refund', 'grant', 'set', 'reset', 'period')),
    amount        INTEGER NOT NULL,
    used_after    INTEGER NOT NULL,
    bonus_after   INTEGER NOT NULL,
    balance_after INTEGER,
    job_id        INTEGER REFERENCES jobs(id),
    moderator_id  INTEGER,
    reason        TEXT,
    created_at    REAL    NOT NULL
);
CREATE INDEX quota_ledger_by_member ON quota_ledger (guild_id, user_id, id);

-- Moderator actions: who did what to whom, the values before and after, and why.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    moderator_id INTEGER NOT NULL,
    target_id    INTEGER,
    action       TEXT    NOT NULL,
    before       TEXT,
    after        TEXT,
    reason       TEXT,
    created_at   REAL    NOT NULL
);
CREATE INDEX audit_log_by_guild ON audit_log (guild_id, id);
CREATE INDEX audit_log_by_target ON audit_log (guild_id, target_id, id);

-- Told to a member in their next reply ("a moderator gave you 20 credits: ...").
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    shown_at   REAL
);
CREATE INDEX notices_pending ON notices (guild_id, user_id) WHERE shown_at IS NULL;

-- until NULL: until a moderator unbans.
CREATE TABLE bans (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    moderator_id INTEGER NOT NULL,
    reason       TEXT,
    until        REAL,
    created_at   REAL    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
