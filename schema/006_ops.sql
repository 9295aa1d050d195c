-- 006_ops.sql — what an operator needs to run a spool for months:
--
--   prune_pending  PNG files whose rows `admctl prune` has already deleted
--                  and that it is about to unlink.  Prune deletes rows and
--                  records their paths here in one transaction, then unlinks
--                  the files and forgets each path; a prune killed half-way
--                  leaves paths here (never rows pointing at missing files,
--                  never files nobody knows about), and the next prune (or
--                  `admctl prune --resume`) unlinks them first.
--   jobs.pass_images  images in the device pass now running (the daemon sets
--                  it with each heartbeat): progress is then
--                  (images_done + pass_images * step / total_steps) / count.
--   models.labels  the model's class names, one per line, line k = class k
--                  (NULL: none known; classes are shown as numbers).

CREATE TABLE prune_pending (
    path       TEXT PRIMARY KEY NOT NULL,     -- absolute path of a PNG to unlink
    job_id     INTEGER NOT NULL,              -- the (deleted) job it belonged to
    queued_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CONSTRAINT "prune_pending.path must be an absolute path" CHECK (path GLOB '/*')
) STRICT;

ALTER TABLE jobs ADD COLUMN pass_images INTEGER NOT NULL DEFAULT 0
    CONSTRAINT "jobs.pass_images must be from 0 to jobs.count" CHECK (pass_images BETWEEN 0 AND count);

ALTER TABLE models ADD COLUMN labels TEXT
    CONSTRAINT "models.labels must be NULL or class names, one per line (at most 1 MB)"
    CHECK (labels IS NULL OR (length(labels) BETWEEN 1 AND 1048576 AND labels NOT GLOB '*' || char(13) || '*'));
