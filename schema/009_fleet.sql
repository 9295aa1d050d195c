-- 009_fleet.sql — a box of a fleet (admd --nats): jobs that came from the
-- fleet's work queue (NATS JetStream) and results waiting to go out.
--
--   fleet_inbox  one row per job message taken from the queue, keyed by its
--                message id (the submitter's Nats-Msg-Id): the job row and
--                this row are inserted in one transaction, so a message the
--                server delivers again never makes a second job.
--                state: held (this box holds the message unacknowledged
--                while the job waits or runs), acked (the job ended and the
--                message was acknowledged), released (the box stopped or
--                crashed before the job ended: the job is cancelled here and
--                the message goes back to the queue; if it comes back here,
--                the job is requeued and keeps its recorded images).
--   fleet_outbox one row per result to publish: each image (filled by a
--                trigger in the transaction that records the image) and the
--                job's end (done with its provenance, failed, dead).  The
--                publisher retries until the server acknowledges, then sets
--                sent_at; a box that was offline catches up.

CREATE TABLE fleet_inbox (
    msg_id      TEXT PRIMARY KEY NOT NULL,         -- Nats-Msg-Id of the job message
    job_id      INTEGER NOT NULL UNIQUE,           -- the local job
    stream_seq  INTEGER NOT NULL,                  -- its sequence in the jobs stream
    holder      TEXT,                              -- worker id of the admd holding the message
    state       TEXT NOT NULL DEFAULT 'held',
    deliveries  INTEGER NOT NULL DEFAULT 1,        -- times the message reached this box
    published_at TEXT,                             -- when the server stored it (its stream timestamp)
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    settled_at  TEXT,
    CONSTRAINT "fleet_inbox.msg_id must be 1-128 printable ASCII characters without spaces or dots"
        CHECK (length(msg_id) BETWEEN 1 AND 128 AND msg_id NOT GLOB '*[^!-~]*' AND msg_id NOT GLOB '*.*'
               AND msg_id NOT GLOB '*[*>]*'),
    CONSTRAINT "fleet_inbox.state must be held, acked or released" CHECK (state IN ('held', 'acked', 'released'))
) STRICT;

CREATE TABLE fleet_outbox (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL,
    kind        TEXT NOT NULL,                     -- image | done | failed | dead
    image_index INTEGER NOT NULL DEFAULT -1,       -- kind image: the outputs row's index
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    tries       INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    sent_at     TEXT,                              -- NULL: not acknowledged by the server yet
    messages    INTEGER NOT NULL DEFAULT 0,        -- messages it took (parts of a large PNG)
    bytes       INTEGER NOT NULL DEFAULT 0,        -- payload bytes sent
    CONSTRAINT "fleet_outbox.kind must be image, done, failed or dead" CHECK (kind IN ('image', 'done', 'failed', 'dead')),
    UNIQUE (job_id, kind, image_index)
) STRICT;

CREATE INDEX fleet_outbox_pending ON fleet_outbox (sent_at, id);

CREATE TRIGGER fleet_outbox_image AFTER INSERT ON outputs
WHEN EXISTS (SELECT 1 FROM fleet_inbox WHERE job_id = NEW.job_id)
BEGIN
    INSERT OR REPLACE INTO fleet_outbox (job_id, kind, image_index) VALUES (NEW.job_id, 'image', NEW.idx);
END;

CREATE TRIGGER fleet_outbox_end AFTER UPDATE OF state ON jobs
WHEN NEW.state IN ('done', 'failed', 'dead') AND NEW.state IS NOT OLD.state
     AND EXISTS (SELECT 1 FROM fleet_inbox WHERE job_id = NEW.id)
BEGIN
    INSERT OR REPLACE INTO fleet_outbox (job_id, kind) VALUES (NEW.id, NEW.state);
END;
