-- 002_ownership.sql — who may write what (schema version 2).
--
-- People (the sqlite3 CLI, admctl) insert jobs, cancel them, put ended ones
-- back in the queue, change their priority and, while a job is still
-- queued and has no image, its request.  Everything else in a job row is
-- the daemon's (state changes other than those, attempts, crashes, worker,
-- lease_until, step, total_steps, images_done, the timestamps, error, id),
-- and so are the outputs and provenance tables.  A refused change names the
-- column and the rule:
--
--   sqlite> UPDATE jobs SET images_done = 2 WHERE id = 1;
--   Error: jobs.images_done is owned by the daemon (users may cancel, requeue or re-prioritise a job)
--
-- How the daemon's connection is told apart: admd (any program that calls
-- adm_spool_set_worker) registers the SQL function adm_is_daemon() on its
-- connection; the triggers below look it up in pragma_function_list and
-- let such a connection through.  The sqlite3 shell and admctl never have
-- it.  This stops mistakes and casual writes; it is no security boundary
-- against a member of the spool's group who sets out to break it: whoever
-- may write the file may also DROP these triggers, .load a compiled
-- extension that defines adm_is_daemon(), or edit the file's pages
-- directly.  (Only a file the group cannot write could stop that.)
--
-- The cancel and requeue side effects (finished_at, the attempt counter,
-- ...) used to be two AFTER UPDATE triggers of 001; their UPDATEs would now
-- be refused as the user's own changes, so they move into jobs_owner,
-- which SQLite does not fire again for the UPDATEs it runs itself
-- (recursive_triggers is off unless a connection turns it on; a shell that
-- does so can no longer cancel, which fails safe).

DROP TRIGGER jobs_cancelled;
DROP TRIGGER jobs_requeued;

-- Crashes of a worker on the job's host (its process gone, seen by the next
-- admd there) do not count as attempts: each costs at most one device pass,
-- since images are recorded as each pass ends.  This counts them in a row
-- without a new image recorded; at the daemon's bound the job is dead (a
-- job that kills its worker every time must end too).
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0
    CONSTRAINT "jobs.crashes must be >= 0" CHECK (crashes >= 0);

CREATE TRIGGER jobs_insert_crashes BEFORE INSERT ON jobs
WHEN NEW.crashes IS NOT 0
BEGIN
    SELECT RAISE(ABORT, 'jobs.crashes is set by the daemon');
END;

CREATE TRIGGER jobs_owner AFTER UPDATE ON jobs
BEGIN
    SELECT CASE
        WHEN NEW.id IS NOT OLD.id THEN
            RAISE(ABORT, 'jobs.id is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.state IS NOT OLD.state AND NOT (
                 (OLD.state IN ('queued', 'running') AND NEW.state = 'cancelled')
              OR (OLD.state IN ('failed', 'cancelled', 'dead') AND NEW.state = 'queued')) THEN
            RAISE(ABORT, 'jobs.state: users may only cancel a queued or running job or requeue a failed, cancelled or dead one; other changes are the daemon''s')
        WHEN NEW.attempts IS NOT OLD.attempts THEN
            RAISE(ABORT, 'jobs.attempts is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.worker IS NOT OLD.worker THEN
            RAISE(ABORT, 'jobs.worker is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.lease_until IS NOT OLD.lease_until THEN
            RAISE(ABORT, 'jobs.lease_until is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.step IS NOT OLD.step OR NEW.total_steps IS NOT OLD.total_steps THEN
            RAISE(ABORT, 'jobs.step and jobs.total_steps are owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.images_done IS NOT OLD.images_done THEN
            RAISE(ABORT, 'jobs.images_done is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.created_at IS NOT OLD.created_at OR NEW.started_at IS NOT OLD.started_at
             OR NEW.updated_at IS NOT OLD.updated_at OR NEW.finished_at IS NOT OLD.finished_at THEN
            RAISE(ABORT, 'jobs.created_at, started_at, updated_at and finished_at are owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.error IS NOT OLD.error THEN
            RAISE(ABORT, 'jobs.error is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
        WHEN NEW.crashes IS NOT OLD.crashes THEN
            RAISE(ABORT, 'jobs.crashes is owned by the daemon (users may cancel, requeue or re-prioritise a job)')
    END
    WHERE NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon');

    -- Cancelling ends the job now (a daemon running it stops at its next step).
    UPDATE jobs SET finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), lease_until = NULL
    WHERE id = NEW.id AND NEW.state = 'cancelled' AND OLD.state <> 'cancelled';

    -- Putting an ended job back in the queue starts its attempts afresh
    -- (recorded images are kept and not redone).
    UPDATE jobs SET attempts = 0, crashes = 0, error = NULL, finished_at = NULL, worker = NULL, lease_until = NULL,
                    step = 0, total_steps = 0
    WHERE id = NEW.id AND NEW.state = 'queued' AND OLD.state IN ('failed', 'cancelled', 'dead');
END;

-- ---------------------------------------------------------------- outputs, provenance
-- Written by the daemon only.  Deleting a job (not running) still takes
-- its rows along (001's jobs_delete_cascade runs after the job row is
-- gone, which these triggers allow).  The job must exist whatever the
-- connection's PRAGMA foreign_keys says (the sqlite3 shell leaves it off).

CREATE TRIGGER outputs_insert_owner BEFORE INSERT ON outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'outputs: rows are written by the daemon only (one per image it wrote)');
END;

CREATE TRIGGER outputs_update_owner BEFORE UPDATE ON outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'outputs: rows are written by the daemon only (one per image it wrote)');
END;

CREATE TRIGGER outputs_delete_owner BEFORE DELETE ON outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
     AND EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
BEGIN
    SELECT RAISE(ABORT, 'outputs: rows of an existing job go only with the job (DELETE FROM jobs WHERE id = ...)');
END;

CREATE TRIGGER outputs_job_exists BEFORE INSERT ON outputs
WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE id = NEW.job_id)
BEGIN
    SELECT RAISE(ABORT, 'outputs.job_id: no such job');
END;

CREATE TRIGGER provenance_insert_owner BEFORE INSERT ON provenance
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'provenance: rows are written by the daemon only (one per finished job)');
END;

CREATE TRIGGER provenance_update_owner BEFORE UPDATE ON provenance
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'provenance: rows are written by the daemon only (one per finished job)');
END;

CREATE TRIGGER provenance_delete_owner BEFORE DELETE ON provenance
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
     AND EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
BEGIN
    SELECT RAISE(ABORT, 'provenance: the row of an existing job goes only with the job (DELETE FROM jobs WHERE id = ...)');
END;

CREATE TRIGGER provenance_job_exists BEFORE INSERT ON provenance
WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE id = NEW.job_id)
BEGIN
    SELECT RAISE(ABORT, 'provenance.job_id: no such job');
END;

-- ---------------------------------------------------------------- pauses
-- A daemon that stopped claiming for a while (its output disk is full)
-- says why here, one row per paused worker, gone when it resumes or exits
-- (a crashed one's row is removed by the next admd of its host).
-- `admctl status` shows them.  Written by the daemon only.
CREATE TABLE pauses (
    worker   TEXT PRIMARY KEY NOT NULL,
    reason   TEXT NOT NULL,
    since    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    retry_at TEXT
) STRICT;

CREATE TRIGGER pauses_insert_owner BEFORE INSERT ON pauses
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'pauses: rows are written by the daemon only');
END;

CREATE TRIGGER pauses_update_owner BEFORE UPDATE ON pauses
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'pauses: rows are written by the daemon only');
END;

CREATE TRIGGER pauses_delete_owner BEFORE DELETE ON pauses
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'pauses: rows are written by the daemon only');
END;
