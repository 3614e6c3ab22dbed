-- Jobs: every parameter needed to reproduce, re-roll or vary a render, plus its lifecycle.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('imagine', 'reroll', 'variation')),
    user_id            INTEGER NOT NULL,
    guild_id           INTEGER,
    channel_id         INTEGER NOT NULL,
    interaction_id     INTEGER,
    -- Interaction tokens live 15 minutes; kept so a restart can still edit the message.
    interaction_token  TEXT,
    application_id     INTEGER,
    message_id         INTEGER,
    parent_job_id      INTEGER REFERENCES jobs(id),
    parent_image_index INTEGER,
    prompt             TEXT    NOT NULL,
    negative_prompt    TEXT    NOT NULL DEFAULT '',
    aspect             TEXT    NOT NULL,
    width              INTEGER NOT NULL,
    height             INTEGER NOT NULL,
    steps              INTEGER NOT NULL,
    guidance           REAL    NOT NULL,
    count              INTEGER NOT NULL CHECK (count BETWEEN 1 AND 4),
    seed               INTEGER NOT NULL CHECK (seed BETWEEN 0 AND 4294967295),
    strength           REAL,
    init_image         TEXT,
    model              TEXT    NOT NULL,
    scheduler          TEXT    NOT NULL DEFAULT '',
    priority           INTEGER NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN
                           ('queued', 'running', 'done', 'delivered', 'failed', 'cancelled', 'expired')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    -- Identifies "the same click": one active job per key, so a double-click queues once.
    dedupe_key         TEXT,
    created_at         REAL    NOT NULL,
    started_at         REAL,
    finished_at        REAL,
    delivered_at       REAL,
    render_seconds     REAL,
    message_deleted_at REAL   -- the Discord message was removed with the Delete button
);

CREATE UNIQUE INDEX jobs_one_active_per_click ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_user_status ON jobs (user_id, status);
CREATE INDEX jobs_by_parent ON jobs (parent_job_id);

CREATE TABLE images (
    id         INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    path       TEXT    NOT NULL,  -- relative to DATA_DIR
    sha256     TEXT    NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    UNIQUE (job_id, idx)
);

-- Small key/value facts the bot keeps about itself (e.g. the hash of the last command sync).
CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
