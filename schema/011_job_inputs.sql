-- 011_job_inputs.sql — the given images of a super-resolution job
-- (jobs.input_path, schema 008) as admd read them: one row per input PNG,
-- in the order the job uses them (file names sorted), with its size and
-- sha256.  Written by the daemon when it first reads the inputs; a job
-- resumed after a restart is failed if an input changed since, and
-- `admctl audit` names an input that changed before it replays the job.

CREATE TABLE job_inputs (
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    idx     INTEGER NOT NULL,
    path    TEXT NOT NULL,
    bytes   INTEGER NOT NULL,
    sha256  TEXT NOT NULL,
    PRIMARY KEY (job_id, idx),
    CONSTRAINT "job_inputs.idx must be >= 0" CHECK (idx >= 0),
    CONSTRAINT "job_inputs.bytes must be > 0" CHECK (bytes > 0),
    CONSTRAINT "job_inputs.sha256 must be 64 lowercase hex digits"
        CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')
) STRICT;

CREATE TRIGGER job_inputs_insert_owner BEFORE INSERT ON job_inputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'job_inputs: rows are written by the daemon only (one per input PNG it read)');
END;

CREATE TRIGGER job_inputs_update_owner BEFORE UPDATE ON job_inputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'job_inputs: rows are written by the daemon only (one per input PNG it read)');
END;

CREATE TRIGGER job_inputs_delete_owner BEFORE DELETE ON job_inputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
     AND EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
BEGIN
    SELECT RAISE(ABORT, 'job_inputs: rows of an existing job go only with the job (DELETE FROM jobs WHERE id = ...)');
END;

CREATE TRIGGER job_inputs_job_exists BEFORE INSERT ON job_inputs
WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE id = NEW.job_id)
BEGIN
    SELECT RAISE(ABORT, 'job_inputs.job_id: no such job');
END;

CREATE TRIGGER jobs_delete_job_inputs AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_inputs WHERE job_id = OLD.id;
END;
