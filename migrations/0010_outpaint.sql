-- Outpainting (issue 15, section 2): Zoom Out, Pan and Make Square are jobs of their own, kind
-- 'outpaint', task 'inpaint', with `edit` saying what was done to the parent image ("zoom:2",
-- "pan:left", "square"; bot/renderer/outpaint_geometry.py). Kind 'region' is reserved for Vary Region
-- (section 3), which renders through the same task.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (as in 0002), every row
-- and column kept, then its indexes and triggers (0002, 0003, 0004, 0006) are created again: they
-- go with the old table. The INSERT names the old columns and takes `SELECT *`: should a migration
-- before this one have added a column to `jobs`, it fails loudly instead of dropping that column
-- (add the column here too).
CREATE TABLE jobs_new (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('imagine', 'reroll', 'variation', 'upscale', 'outpaint',
                                                        'region')),
    task               TEXT    NOT NULL CHECK (task IN ('txt2img', 'img2img', 'upscale', 'inpaint')),
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
    cost               INTEGER NOT NULL DEFAULT 10 CHECK (cost > 0),
    charged            INTEGER NOT NULL DEFAULT 0 CHECK (charged >= 0),
    refunded           INTEGER NOT NULL DEFAULT 0 CHECK (refunded BETWEEN 0 AND charged),
    reported_at        REAL,
    safety_negative    TEXT    NOT NULL DEFAULT '',
    upscale_factor     REAL    CHECK (upscale_factor IS NULL OR upscale_factor > 1),
    -- 0009: the prompt's inline parameters.
    chaos              INTEGER CHECK (chaos IS NULL OR chaos BETWEEN 0 AND 100),
    tile               INTEGER NOT NULL DEFAULT 0 CHECK (tile IN (0, 1)),
    inline_params      TEXT    NOT NULL DEFAULT '',
    -- inpaint jobs: what was done to the parent image (outpaint_geometry.py).
    edit               TEXT,
    CHECK ((task = 'txt2img') = (init_image IS NULL)),
    CHECK ((task = 'inpaint') = (edit IS NOT NULL))
);

INSERT INTO jobs_new (
    id,
    kind,
    task,
    user_id,
    guild_id,
    channel_id,
    interaction_id,
    interaction_token,
    application_id,
    message_id,
    parent_job_id,
    parent_image_index,
    prompt,
    negative_prompt,
    aspect,
    width,
    height,
    steps,
    guidance,
    count,
    seed,
    strength,
    init_image,
    model,
    scheduler,
    priority,
    status,
    attempts,
    error,
    dedupe_key,
    created_at,
    started_at,
    finished_at,
    delivered_at,
    render_seconds,
    message_deleted_at,
    cost,
    charged,
    refunded,
    reported_at,
    safety_negative,
    upscale_factor,
    chaos,
    tile,
    inline_params)
SELECT * FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE UNIQUE INDEX jobs_one_active_per_click ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_user_status ON jobs (user_id, status);
CREATE INDEX jobs_by_parent ON jobs (parent_job_id);
CREATE INDEX jobs_with_token ON jobs (created_at) WHERE interaction_token IS NOT NULL;
CREATE INDEX jobs_by_guild_created ON jobs (guild_id, created_at);
CREATE INDEX jobs_by_user_guild ON jobs (user_id, guild_id, id);
CREATE INDEX jobs_by_init_image ON jobs (init_image, created_at) WHERE init_image IS NOT NULL;

CREATE TRIGGER queue_size_on_insert AFTER INSERT ON jobs
    WHEN NEW.status IN ('queued', 'running')
BEGIN
    UPDATE queue_size SET active = active + 1 WHERE id = 1;
END;

CREATE TRIGGER queue_size_on_update AFTER UPDATE OF status ON jobs
    WHEN (OLD.status IN ('queued', 'running')) != (NEW.status IN ('queued', 'running'))
BEGIN
    UPDATE queue_size SET active = active + CASE WHEN NEW.status IN ('queued', 'running') THEN 1 ELSE -1 END
        WHERE id = 1;
END;

CREATE TRIGGER queue_size_on_delete AFTER DELETE ON jobs
    WHEN OLD.status IN ('queued', 'running')
BEGIN
    UPDATE queue_size SET active = active - 1 WHERE id = 1;
END;

-- The prompt index (0006) keeps its rows: ids are unchanged, and the rebuild's INSERT and DROP fired
-- no trigger (they went with the old table before any could).
CREATE TRIGGER jobs_fts_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO jobs_fts (rowid, prompt) VALUES (NEW.id, NEW.prompt);
END;

CREATE TRIGGER jobs_fts_on_delete AFTER DELETE ON jobs
BEGIN
    INSERT INTO jobs_fts (jobs_fts, rowid, prompt) VALUES ('delete', OLD.id, OLD.prompt);
END;

CREATE TRIGGER jobs_fts_on_update AFTER UPDATE OF prompt ON jobs
BEGIN
    INSERT INTO jobs_fts (jobs_fts, rowid, prompt) VALUES ('delete', OLD.id, OLD.prompt);
    INSERT INTO jobs_fts (rowid, prompt) VALUES (NEW.id, NEW.prompt);
END;
