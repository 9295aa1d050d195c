-- 010_batch.sql — continuous batching (admd --batch N): the images of many
-- jobs of one model share device passes (daemon/lib_pool.c).
--
--   provenance.batch_min, batch_max  the smallest and largest device pass
--                  (images of any jobs) this job's images ran in
--   provenance.passes         device passes that held at least one of its images
--   provenance.passes_shared  of those, passes that also held another job's
--                  images (0: it ran alone; NULL on all four: the one-job path)
--   worker_rates   one row per running pooled daemon: images recorded and the
--                  seconds its pool was busy, so `admctl status` shows its
--                  images/s.  Gone when the daemon exits (a crashed one's row
--                  goes with its jobs' reclaim).  Written by the daemon only.

ALTER TABLE provenance ADD COLUMN batch_min INTEGER;
ALTER TABLE provenance ADD COLUMN batch_max INTEGER;
ALTER TABLE provenance ADD COLUMN passes INTEGER;
ALTER TABLE provenance ADD COLUMN passes_shared INTEGER;

CREATE TABLE worker_rates (
    worker     TEXT PRIMARY KEY NOT NULL,
    images     INTEGER NOT NULL DEFAULT 0,    -- images recorded by its pool
    seconds    REAL NOT NULL DEFAULT 0,       -- seconds its pool held images in flight
    passes     INTEGER NOT NULL DEFAULT 0,    -- device passes
    pool       INTEGER NOT NULL DEFAULT 0,    -- its --batch: images in flight at most
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
) STRICT;

CREATE TRIGGER worker_rates_insert_owner BEFORE INSERT ON worker_rates
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'worker_rates: rows are written by the daemon only');
END;

CREATE TRIGGER worker_rates_update_owner BEFORE UPDATE ON worker_rates
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'worker_rates: rows are written by the daemon only');
END;

CREATE TRIGGER worker_rates_delete_owner BEFORE DELETE ON worker_rates
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'worker_rates: rows are written by the daemon only');
END;
