-- Authorization (issue 13): every message the bot posts for a job (its own message, a /show
-- repost, a /queue list with its Cancel button). A click is honoured only when the message it was
-- clicked on is one of the job's messages: a custom_id naming another job is refused whatever
-- Discord or the library checked. channel_id: where the message is (NULL: unknown, older rows).
CREATE TABLE job_messages (
    message_id INTEGER NOT NULL,
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    channel_id INTEGER,
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, job_id)
) WITHOUT ROWID;
CREATE INDEX job_messages_by_job ON job_messages (job_id);

-- The messages of jobs stored before this migration, so their buttons keep working.
INSERT OR IGNORE INTO job_messages (message_id, job_id, channel_id, created_at)
SELECT message_id, id, channel_id, created_at FROM jobs WHERE message_id IS NOT NULL;
