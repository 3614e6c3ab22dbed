-- Content safety (bot/services/safety.py): per-server settings and terms, the block log that
-- moderators review, every image check's score, and reports of delivered results.
-- Shipped as 0004 on this branch; renumber after the migrations that land before it.
CREATE TABLE safety_settings (
    guild_id        INTEGER PRIMARY KEY,
    nsfw_enabled    INTEGER NOT NULL DEFAULT 0 CHECK (nsfw_enabled IN (0, 1)),
    image_threshold REAL    CHECK (image_threshold IS NULL OR image_threshold BETWEEN 0 AND 1),
    log_channel_id  INTEGER,
    updated_at      REAL    NOT NULL
);

-- A moderator's additions ('block': refused everywhere in the server) and exemptions ('allow').
CREATE TABLE safety_terms (
    guild_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('block', 'allow')),
    term       TEXT    NOT NULL,  -- the normalized words, as the filter compares them
    display    TEXT    NOT NULL,  -- as the moderator typed it
    added_by   INTEGER NOT NULL,
    added_at   REAL    NOT NULL,
    PRIMARY KEY (guild_id, kind, term)
);

CREATE TABLE safety_blocks (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    job_id     INTEGER REFERENCES jobs(id) ON DELETE SET NULL,  -- NULL for a refused prompt
    kind       TEXT    NOT NULL CHECK (kind IN ('prompt', 'image')),
    category   TEXT    NOT NULL,
    score      REAL,
    prompt     TEXT    NOT NULL,
    created_at REAL    NOT NULL
);
CREATE INDEX safety_blocks_by_guild ON safety_blocks (guild_id, id);
CREATE INDEX safety_blocks_by_member ON safety_blocks (guild_id, user_id, id);

CREATE TABLE safety_image_checks (
    job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    checker    TEXT    NOT NULL,
    score      REAL,              -- NULL: the check failed and the image was withheld
    threshold  REAL    NOT NULL,
    flagged    INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    checked_at REAL    NOT NULL,
    PRIMARY KEY (job_id, idx)
);

-- One report per member per result.
CREATE TABLE safety_reports (
    job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (job_id, user_id)
);

ALTER TABLE jobs ADD COLUMN reported_at REAL;
-- Added to the member's negative prompt at render time (SFW channels: SAFETY_NEGATIVE_PROMPT;
-- age-restricted ones: SAFETY_MINORS_NEGATIVE_PROMPT); kept apart so a re-roll elsewhere can change it.
ALTER TABLE jobs ADD COLUMN safety_negative TEXT NOT NULL DEFAULT '';
