-- The moderator desk's review queue (bot/services/review.py, the web front end): a withheld
-- (flagged) image or a reported result waits until a moderator decides. One decision per job.
CREATE TABLE safety_reviews (
    job_id       INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    decision     TEXT    NOT NULL CHECK (decision IN ('approved', 'deleted')),
    moderator_id INTEGER NOT NULL,
    decided_at   REAL    NOT NULL
);
