-- Jobs carry an explicit task (txt2img, img2img, upscale) instead of one inferred from `strength`
-- and `init_image`; `kind` gains 'upscale' and `status` gains 'blocked' (content safety).
-- SQLite cannot change a CHECK constraint in place: rebuild the table (sqlite.org/lang_altertable.html
-- "making other kinds of table schema changes"). The migration runner turns foreign keys off around
-- this transaction (dropping `jobs` with them on would cascade-delete every image row) and runs
-- PRAGMA foreign_key_check before it commits.
CREATE TABLE jobs_new (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('imagine', 'reroll', 'variation', 'upscale')),
    task               TEXT    NOT NULL CHECK (task IN ('txt2img', 'img2img', 'upscale')),
    user_id            INTEGER NOT NULL,
    guild_id           INTEGER,
    channel_id         INTEGER NOT NULL,
    interaction_id     INTEGER,
    -- A credential for 15 minutes: cleared once the job is delivered or ended, and once it expired.
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
                           ('queued', 'running', 'done', 'delivered', 'failed', 'cancelled', 'expired',
                            'blocked')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    dedupe_key         TEXT,
    created_at         REAL    NOT NULL,
    started_at         REAL,
    finished_at        REAL,
    delivered_at       REAL,
    render_seconds     REAL,
    message_deleted_at REAL,
    CHECK ((task = 'txt2img') = (init_image IS NULL))
);

INSERT INTO jobs_new (id, kind, task, user_id, guild_id, channel_id, interaction_id, interaction_token,
                      application_id, message_id, parent_job_id, parent_image_index, prompt,
                      negative_prompt, aspect, width, height, steps, guidance, count, seed, strength,
                      init_image, model, scheduler, priority, status, attempts, error, dedupe_key,
                      created_at, started_at, finished_at, delivered_at, render_seconds,
                      message_deleted_at)
SELECT id, kind, CASE WHEN init_image IS NULL THEN 'txt2img' ELSE 'img2img' END, user_id, guild_id,
       channel_id, interaction_id,
       -- Tokens of jobs that already ended are dead weight (and a secret): not carried over.
       CASE WHEN status IN ('queued', 'running', 'done') THEN interaction_token END,
       application_id, message_id, parent_job_id, parent_image_index, prompt, negative_prompt,
       aspect, width, height, steps, guidance, count, seed, strength, init_image, model, scheduler,
       priority, status, attempts, error, dedupe_key, created_at, started_at, finished_at,
       delivered_at, render_seconds, message_deleted_at
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE UNIQUE INDEX jobs_one_active_per_click ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_user_status ON jobs (user_id, status);
CREATE INDEX jobs_by_parent ON jobs (parent_job_id);
-- The token sweep reads only rows that still hold a token.
CREATE INDEX jobs_with_token ON jobs (created_at) WHERE interaction_token IS NOT NULL;
