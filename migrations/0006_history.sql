-- History and creative tools (issue 9): /history search, upscales, image prompts, member defaults and
-- presets, image retention.

-- Upscales: by how much the parent's image was enlarged (2 unless MAX_UPSCALE_PIXELS capped it);
-- NULL for every other task. The PNG's A1111 metadata names the first-pass size and this factor.
ALTER TABLE jobs ADD COLUMN upscale_factor REAL CHECK (upscale_factor IS NULL OR upscale_factor > 1);

-- /history: a member's jobs in one server, newest first, paged by id (keyset, never OFFSET): this
-- index answers a page with a range scan and no sort, whatever the size of the table.
CREATE INDEX jobs_by_user_guild ON jobs (user_id, guild_id, id);

-- Prompt search: an external-content FTS5 index of jobs.prompt (the text is stored once, in jobs),
-- kept in step by triggers. NB: a later migration that rebuilds `jobs` (CREATE jobs_new ... DROP
-- jobs) drops these triggers with the old table and must create them again.
CREATE VIRTUAL TABLE jobs_fts USING fts5(
    prompt, content = 'jobs', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO jobs_fts (rowid, prompt) SELECT id, prompt FROM jobs;

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

-- Retention: files older than IMAGE_RETENTION_DAYS are removed, their rows stay and say when.
ALTER TABLE images ADD COLUMN pruned_at REAL;
-- The daily pass reads only images that still have a file, oldest first.
CREATE INDEX images_unpruned ON images (created_at) WHERE pruned_at IS NULL;

-- Image prompts: each uploaded file once, validated and re-encoded as PNG under DATA_DIR/inputs/
-- (named by its sha256, so the same upload twice is one file). Retention removes one once no job
-- (a re-roll included) rendered from it for IMAGE_RETENTION_DAYS, and never while a queued or
-- running job needs it: both read this index of the jobs that start from a stored image.
CREATE TABLE input_images (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE,
    path          TEXT    NOT NULL,  -- relative to DATA_DIR
    width         INTEGER NOT NULL,  -- as stored: fitted to the model's size for its aspect
    height        INTEGER NOT NULL,
    source_format TEXT    NOT NULL,  -- PNG, JPEG or WEBP, read from the content
    source_width  INTEGER NOT NULL,
    source_height INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,  -- who uploaded it first
    created_at    REAL    NOT NULL,
    pruned_at     REAL
);
CREATE INDEX input_images_unpruned ON input_images (created_at) WHERE pruned_at IS NULL;
CREATE INDEX jobs_by_init_image ON jobs (init_image, created_at) WHERE init_image IS NOT NULL;

-- /settings: a member's defaults for the /imagine options they leave empty (NULL: the model's),
-- and named presets of the same fields. `variation` is the V buttons' strength (0.35 or 0.75).
CREATE TABLE member_settings (
    user_id    INTEGER PRIMARY KEY,
    aspect     TEXT,
    steps      INTEGER,
    guidance   REAL,
    negative   TEXT,
    count      INTEGER CHECK (count IS NULL OR count BETWEEN 1 AND 4),
    variation  REAL,
    updated_at REAL NOT NULL
);

CREATE TABLE member_presets (
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL COLLATE NOCASE,
    aspect     TEXT,
    steps      INTEGER,
    guidance   REAL,
    negative   TEXT,
    count      INTEGER CHECK (count IS NULL OR count BETWEEN 1 AND 4),
    variation  REAL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (user_id, name)
);

-- /history pages: what a viewer asked for (whose history, which search). The Prev/Next buttons and
-- the select menu carry only this row's id and a cursor, so a search of any length fits Discord's
-- 100-character custom_id, and the pages keep working after a restart. The retention pass removes
-- rows older than a day (an ephemeral message is gone by then anyway).
CREATE TABLE history_views (
    id         INTEGER PRIMARY KEY,
    viewer_id  INTEGER NOT NULL,
    member_id  INTEGER NOT NULL,
    guild_id   INTEGER,
    search     TEXT    NOT NULL DEFAULT '',
    created_at REAL    NOT NULL
);
CREATE INDEX history_views_by_age ON history_views (created_at);
