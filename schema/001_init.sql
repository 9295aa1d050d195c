-- 001_init.sql — admd's spool, schema version 1.
--
-- People insert jobs with the sqlite3 CLI (or admctl); admd claims them,
-- runs them and writes back outputs and provenance.  Every table is STRICT;
-- CHECK constraints (named after the rule they enforce, so the error says
-- which column is wrong) and triggers reject a bad row at once:
--
--   sqlite> INSERT INTO jobs(model, class, count, scale) VALUES ('mnist', 3, 4, 2.0);
--
-- Columns left out take the model's defaults (sampler, respacing, scale).
-- Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS.SSS' (they sort as text).
-- The daemon applies this file (and later NNN_*.sql migrations) in one
-- transaction and sets PRAGMA user_version to the highest NNN.

-- ---------------------------------------------------------------- models
-- A UNet checkpoint (+ optional noisy classifier for guidance).  Paths may
-- be relative to the folder holding the database.  Configs are a key=value
-- file, a MODEL_FLAGS string ("--image_size 64 ...") or a preset name.
CREATE TABLE models (
    name              TEXT PRIMARY KEY NOT NULL,
    unet_path         TEXT NOT NULL,
    unet_config       TEXT NOT NULL,
    classifier_path   TEXT,
    classifier_config TEXT,
    unet_sha256       TEXT,            -- filled in by the daemon (or admctl model add)
    classifier_sha256 TEXT,
    image_size        INTEGER,         -- NULL: not known yet (filled in by the daemon)
    channels          INTEGER,
    num_classes       INTEGER,         -- class labels a job may ask for (0: none)
    default_sampler   TEXT NOT NULL DEFAULT 'ddpm',
    default_respacing TEXT NOT NULL DEFAULT '50',
    default_scale     REAL NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),

    CONSTRAINT "models.name must be 1-64 characters of A-Z a-z 0-9 _ . -"
        CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9_.-]*'),
    CONSTRAINT "models.unet_path must not be empty" CHECK (length(unet_path) > 0),
    CONSTRAINT "models.unet_config must not be empty" CHECK (length(unet_config) > 0),
    CONSTRAINT "models.classifier_path and models.classifier_config go together (both or neither, not empty)"
        CHECK ((classifier_path IS NULL AND classifier_config IS NULL)
               OR (length(classifier_path) > 0 AND length(classifier_config) > 0)),
    CONSTRAINT "models.unet_sha256 must be NULL or 64 lowercase hex digits"
        CHECK (unet_sha256 IS NULL OR (length(unet_sha256) = 64 AND unet_sha256 NOT GLOB '*[^0-9a-f]*')),
    CONSTRAINT "models.classifier_sha256 must be NULL or 64 lowercase hex digits"
        CHECK (classifier_sha256 IS NULL
               OR (length(classifier_sha256) = 64 AND classifier_sha256 NOT GLOB '*[^0-9a-f]*')),
    CONSTRAINT "models.image_size must be NULL or from 1 to 4096"
        CHECK (image_size IS NULL OR image_size BETWEEN 1 AND 4096),
    CONSTRAINT "models.channels must be NULL, 1 or 3" CHECK (channels IS NULL OR channels IN (1, 3)),
    CONSTRAINT "models.num_classes must be NULL or from 0 to 100000"
        CHECK (num_classes IS NULL OR num_classes BETWEEN 0 AND 100000),
    CONSTRAINT "models.default_sampler must be ddpm or ddim" CHECK (default_sampler IN ('ddpm', 'ddim')),
    CONSTRAINT "models.default_respacing must be a step count (50), ddimN (ddim25) or a comma list (10,20,30)"
        CHECK (length(default_respacing) BETWEEN 1 AND 1000 AND (
               (default_respacing GLOB 'ddim[1-9]*' AND substr(default_respacing, 5) NOT GLOB '*[^0-9]*')
            OR (default_respacing GLOB '[1-9]*' AND default_respacing NOT GLOB '*[^0-9,]*'
                AND default_respacing NOT GLOB '*,' AND default_respacing NOT GLOB '*,,*'
                AND default_respacing NOT GLOB '*,0*'))),
    CONSTRAINT "models.default_scale must be a finite number from 0 to 1000"
        CHECK (default_scale >= 0 AND default_scale <= 1000),
    CONSTRAINT "models.default_scale > 0 needs a classifier (models.classifier_path)"
        CHECK (default_scale = 0 OR classifier_path IS NOT NULL)
) STRICT;

CREATE TRIGGER models_delete_in_use BEFORE DELETE ON models
WHEN EXISTS (SELECT 1 FROM jobs WHERE model = OLD.name AND state IN ('queued', 'running'))
BEGIN
    SELECT RAISE(ABORT, 'models: the model has queued or running jobs (cancel them first)');
END;

CREATE TRIGGER models_rename_in_use BEFORE UPDATE OF name ON models
WHEN NEW.name IS NOT OLD.name AND EXISTS (SELECT 1 FROM jobs WHERE model = OLD.name)
BEGIN
    SELECT RAISE(ABORT, 'models.name cannot change while jobs refer to the model');
END;

-- ---------------------------------------------------------------- jobs
-- The request (first block) is what people insert; the rest is owned by
-- the daemon.  state: queued -> running -> done | failed | cancelled | dead.
-- People may UPDATE jobs SET state = 'cancelled' (stops a running job at
-- its next step) or set a failed/cancelled/dead job back to 'queued'.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    model        TEXT NOT NULL,
    class        INTEGER,                 -- NULL: a random class per image
    count        INTEGER NOT NULL DEFAULT 1,
    scale        REAL,                    -- NULL: the model's default_scale
    sampler      TEXT,                    -- NULL: the model's default_sampler
    respacing    TEXT,                    -- NULL: the model's default_respacing
    eta          REAL,                    -- DDIM eta; NULL: 0
    seed         INTEGER,                 -- NULL: the daemon chooses one (and records it here)
    priority     INTEGER NOT NULL DEFAULT 0,  -- higher runs first, then older
    outdir       TEXT,                    -- under the output root; NULL: job-<id>
    max_attempts INTEGER NOT NULL DEFAULT 3,

    state        TEXT NOT NULL DEFAULT 'queued',
    attempts     INTEGER NOT NULL DEFAULT 0,
    worker       TEXT,                    -- host:pid of the daemon running it
    lease_until  TEXT,                    -- the worker's claim expires then
    step         INTEGER NOT NULL DEFAULT 0,  -- progress of the current device pass
    total_steps  INTEGER NOT NULL DEFAULT 0,
    images_done  INTEGER NOT NULL DEFAULT 0,  -- outputs recorded
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    started_at   TEXT,
    updated_at   TEXT,
    finished_at  TEXT,
    error        TEXT,

    CONSTRAINT "jobs.class must be NULL (random) or a class label >= 0" CHECK (class IS NULL OR class >= 0),
    CONSTRAINT "jobs.count must be an integer from 1 to 10000" CHECK (count BETWEEN 1 AND 10000),
    CONSTRAINT "jobs.scale must be a finite number from 0 to 1000"
        CHECK (scale IS NULL OR (scale >= 0 AND scale <= 1000)),
    CONSTRAINT "jobs.sampler must be ddpm or ddim" CHECK (sampler IS NULL OR sampler IN ('ddpm', 'ddim')),
    CONSTRAINT "jobs.respacing must be a step count (50), ddimN (ddim25) or a comma list (10,20,30)"
        CHECK (respacing IS NULL OR (length(respacing) BETWEEN 1 AND 1000 AND (
               (respacing GLOB 'ddim[1-9]*' AND substr(respacing, 5) NOT GLOB '*[^0-9]*')
            OR (respacing GLOB '[1-9]*' AND respacing NOT GLOB '*[^0-9,]*' AND respacing NOT GLOB '*,'
                AND respacing NOT GLOB '*,,*' AND respacing NOT GLOB '*,0*')))),
    CONSTRAINT "jobs.eta must be a number from 0 to 1" CHECK (eta IS NULL OR (eta >= 0 AND eta <= 1)),
    CONSTRAINT "jobs.seed must be NULL (daemon chooses) or an integer >= 0" CHECK (seed IS NULL OR seed >= 0),
    CONSTRAINT "jobs.priority must be from -1000 to 1000" CHECK (priority BETWEEN -1000 AND 1000),
    CONSTRAINT "jobs.outdir must be a relative path inside the output root (printable ASCII, no .., at most 255 characters)"
        CHECK (outdir IS NULL OR (length(outdir) BETWEEN 1 AND 255 AND outdir NOT GLOB '/*'
               AND outdir NOT GLOB '*[^ -~]*' AND outdir NOT GLOB '*\*'
               AND outdir <> '..' AND outdir NOT GLOB '../*' AND outdir NOT GLOB '*/../*'
               AND outdir NOT GLOB '*/..')),
    CONSTRAINT "jobs.max_attempts must be from 1 to 100" CHECK (max_attempts BETWEEN 1 AND 100),
    CONSTRAINT "jobs.state must be queued, running, done, failed, cancelled or dead"
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'dead')),
    CONSTRAINT "jobs.attempts must be >= 0" CHECK (attempts >= 0),
    CONSTRAINT "jobs.images_done must be from 0 to jobs.count" CHECK (images_done BETWEEN 0 AND count),
    CONSTRAINT "jobs.state done needs every image recorded (images_done = count)"
        CHECK (state <> 'done' OR images_done = count)
) STRICT;

CREATE INDEX jobs_queue ON jobs (state, priority DESC, id);
CREATE INDEX jobs_model ON jobs (model);

-- A new job: the daemon-owned columns must be left alone, and the request
-- must fit its model.
CREATE TRIGGER jobs_insert_check BEFORE INSERT ON jobs
BEGIN
    SELECT CASE
        WHEN NEW.state IS NOT 'queued' THEN
            RAISE(ABORT, 'jobs.state is set by the daemon (insert without it: new jobs are queued)')
        WHEN NEW.attempts IS NOT 0 THEN RAISE(ABORT, 'jobs.attempts is set by the daemon')
        WHEN NEW.worker IS NOT NULL THEN RAISE(ABORT, 'jobs.worker is set by the daemon')
        WHEN NEW.lease_until IS NOT NULL THEN RAISE(ABORT, 'jobs.lease_until is set by the daemon')
        WHEN NEW.step IS NOT 0 OR NEW.total_steps IS NOT 0 THEN
            RAISE(ABORT, 'jobs.step and jobs.total_steps are set by the daemon')
        WHEN NEW.images_done IS NOT 0 THEN RAISE(ABORT, 'jobs.images_done is set by the daemon')
        WHEN NEW.started_at IS NOT NULL OR NEW.updated_at IS NOT NULL OR NEW.finished_at IS NOT NULL THEN
            RAISE(ABORT, 'jobs.started_at, updated_at and finished_at are set by the daemon')
        WHEN NEW.error IS NOT NULL THEN RAISE(ABORT, 'jobs.error is set by the daemon')
    END;
END;

-- The request against its model (on insert, and when a queued job's request changes).
CREATE TRIGGER jobs_insert_model BEFORE INSERT ON jobs
BEGIN
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM models WHERE name = NEW.model) THEN
            RAISE(ABORT, 'jobs.model: unknown model (SELECT name FROM models lists them)')
        WHEN NEW.class IS NOT NULL AND typeof(NEW.class) = 'integer' AND NEW.class >= 0
             AND NEW.class >= (SELECT coalesce(num_classes, NEW.class + 1) FROM models WHERE name = NEW.model) THEN
            RAISE(ABORT, 'jobs.class is outside the model''s classes (0 .. models.num_classes-1)')
        WHEN typeof(NEW.scale) IN ('integer', 'real', 'null')
             AND coalesce(NEW.scale, (SELECT default_scale FROM models WHERE name = NEW.model)) > 0
             AND (SELECT classifier_path FROM models WHERE name = NEW.model) IS NULL THEN
            RAISE(ABORT, 'jobs.scale > 0 needs a model with a classifier (models.classifier_path)')
    END;
END;

CREATE TRIGGER jobs_update_model BEFORE UPDATE OF model, class, scale ON jobs
WHEN NEW.model IS NOT OLD.model OR NEW.class IS NOT OLD.class OR NEW.scale IS NOT OLD.scale
BEGIN
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM models WHERE name = NEW.model) THEN
            RAISE(ABORT, 'jobs.model: unknown model (SELECT name FROM models lists them)')
        WHEN NEW.class IS NOT NULL AND typeof(NEW.class) = 'integer' AND NEW.class >= 0
             AND NEW.class >= (SELECT coalesce(num_classes, NEW.class + 1) FROM models WHERE name = NEW.model) THEN
            RAISE(ABORT, 'jobs.class is outside the model''s classes (0 .. models.num_classes-1)')
        WHEN typeof(NEW.scale) IN ('integer', 'real') AND NEW.scale > 0
             AND (SELECT classifier_path FROM models WHERE name = NEW.model) IS NULL THEN
            RAISE(ABORT, 'jobs.scale > 0 needs a model with a classifier (models.classifier_path)')
    END;
END;

-- Columns left NULL take the model's defaults, so the row shows what runs.
CREATE TRIGGER jobs_insert_defaults AFTER INSERT ON jobs
BEGIN
    UPDATE jobs SET
        sampler   = coalesce(NEW.sampler,   (SELECT default_sampler   FROM models WHERE name = NEW.model)),
        respacing = coalesce(NEW.respacing, (SELECT default_respacing FROM models WHERE name = NEW.model)),
        scale     = coalesce(NEW.scale,     (SELECT default_scale     FROM models WHERE name = NEW.model)),
        eta       = coalesce(NEW.eta, 0.0)
    WHERE id = NEW.id;
END;

-- The request is frozen once a job has started (or has recorded images):
-- its outputs must match the parameters in the row.  Priority may change.
CREATE TRIGGER jobs_request_frozen
BEFORE UPDATE OF model, class, count, scale, sampler, respacing, eta, seed, outdir ON jobs
WHEN (OLD.state <> 'queued' OR OLD.images_done > 0)
     AND (NEW.model IS NOT OLD.model OR NEW.class IS NOT OLD.class OR NEW.count IS NOT OLD.count
          OR NEW.scale IS NOT OLD.scale OR NEW.sampler IS NOT OLD.sampler OR NEW.respacing IS NOT OLD.respacing
          OR NEW.eta IS NOT OLD.eta OR NEW.seed IS NOT OLD.seed OR NEW.outdir IS NOT OLD.outdir)
BEGIN
    SELECT RAISE(ABORT, 'jobs: the request (model, class, count, scale, sampler, respacing, eta, seed, outdir) cannot change once the job has started');
END;

CREATE TRIGGER jobs_state_change BEFORE UPDATE OF state ON jobs
WHEN NEW.state IS NOT OLD.state AND NOT (
       (OLD.state = 'queued'  AND NEW.state IN ('running', 'cancelled'))
    OR (OLD.state = 'running' AND NEW.state IN ('queued', 'done', 'failed', 'cancelled', 'dead'))
    OR (OLD.state IN ('failed', 'cancelled', 'dead') AND NEW.state = 'queued'))
BEGIN
    SELECT RAISE(ABORT, 'jobs.state: not an allowed change (queued->running|cancelled, running->queued|done|failed|cancelled|dead, failed|cancelled|dead->queued; done is final)');
END;

-- Cancelling ends the job now (a daemon running it stops at its next step).
CREATE TRIGGER jobs_cancelled AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'cancelled' AND OLD.state <> 'cancelled'
BEGIN
    UPDATE jobs SET finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), lease_until = NULL WHERE id = NEW.id;
END;

-- Putting an ended job back in the queue starts its attempts afresh.
CREATE TRIGGER jobs_requeued AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'queued' AND OLD.state IN ('failed', 'cancelled', 'dead')
BEGIN
    UPDATE jobs SET attempts = 0, error = NULL, finished_at = NULL, worker = NULL, lease_until = NULL,
                    step = 0, total_steps = 0
    WHERE id = NEW.id;
END;

CREATE TRIGGER jobs_delete_running BEFORE DELETE ON jobs
WHEN OLD.state = 'running'
BEGIN
    SELECT RAISE(ABORT, 'jobs: cancel a running job before deleting it');
END;

CREATE TRIGGER jobs_delete_cascade AFTER DELETE ON jobs
BEGIN
    DELETE FROM outputs WHERE job_id = OLD.id;
    DELETE FROM provenance WHERE job_id = OLD.id;
END;

-- ---------------------------------------------------------------- outputs
-- One row per image, written by the daemon in the transaction that
-- advances the job.  Image idx of a job is a function of (seed, idx) and
-- the job's parameters (and the noise algorithm), so it can be audited.
CREATE TABLE outputs (
    id              INTEGER PRIMARY KEY,
    job_id          INTEGER NOT NULL REFERENCES jobs (id),
    idx             INTEGER NOT NULL,
    seed            INTEGER NOT NULL,
    class           INTEGER,               -- the class used (NULL: unconditional)
    noise_algorithm TEXT NOT NULL,
    path            TEXT NOT NULL,         -- absolute path of the PNG file
    bytes           INTEGER NOT NULL,
    sha256          TEXT NOT NULL,         -- of the PNG file
    seconds         REAL NOT NULL,         -- time spent on this image: its device pass's time split
                                           -- evenly over the pass's images, plus its own PNG write
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (job_id, idx),
    CONSTRAINT "outputs.idx must be >= 0" CHECK (idx >= 0),
    CONSTRAINT "outputs.bytes must be > 0" CHECK (bytes > 0),
    CONSTRAINT "outputs.sha256 must be 64 lowercase hex digits"
        CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')
) STRICT;

-- ---------------------------------------------------------------- provenance
-- One row per finished (done or failed) job: where and how it ran.
CREATE TABLE provenance (
    job_id            INTEGER PRIMARY KEY REFERENCES jobs (id),
    host              TEXT,
    worker            TEXT,
    attempt           INTEGER,
    device_name       TEXT,
    device_vendor     TEXT,
    driver_version    TEXT,
    opencl_version    TEXT,
    admd_version      TEXT,
    kernel_hash       TEXT,                -- sha256 of the embedded OpenCL sources
    clblast_version   TEXT,
    model             TEXT,
    unet_path         TEXT,
    unet_config       TEXT,
    unet_sha256       TEXT,
    classifier_path   TEXT,
    classifier_config TEXT,
    classifier_sha256 TEXT,
    sampler           TEXT,
    respacing         TEXT,
    eta               REAL,
    scale             REAL,
    seed              INTEGER,
    class             INTEGER,
    count             INTEGER,
    batch             INTEGER,             -- images per device pass actually used
    image_size        INTEGER,
    channels          INTEGER,
    noise_algorithm   TEXT,
    queue_wait_s      REAL,                -- created -> first claimed
    model_load_s      REAL,                -- 0 when the model was cached on the device
    steps_s           REAL,                -- denoising (all device passes)
    encode_s          REAL,                -- PNG encode + write + record
    total_s           REAL,                -- claimed -> finished (this attempt)
    recorded_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
) STRICT;

-- ---------------------------------------------------------------- views
-- What is waiting and what runs: running jobs first, then the queue in the
-- order the daemon takes it.
CREATE VIEW queue AS
SELECT CASE WHEN state = 'queued'
            THEN row_number() OVER (PARTITION BY state ORDER BY priority DESC, id) END AS position,
       id, state, model, class, count, scale, sampler, respacing, priority,
       images_done || '/' || count AS images,
       CASE WHEN total_steps > 0 THEN step || '/' || total_steps END AS step,
       attempts, worker, created_at, started_at, updated_at
FROM jobs
WHERE state IN ('queued', 'running')
ORDER BY state = 'running' DESC, priority DESC, id;

-- Every image with the parameters that made it.
CREATE VIEW results AS
SELECT j.id AS job, o.idx AS image, j.model, o.class, j.scale, j.sampler, j.respacing, j.eta,
       o.seed, o.noise_algorithm, o.path, o.bytes, o.sha256, round(o.seconds, 3) AS seconds,
       o.created_at
FROM outputs AS o JOIN jobs AS j ON j.id = o.job_id
ORDER BY j.id, o.idx;

-- One line per job: state, progress, how long it waited and ran, the error.
CREATE VIEW job_status AS
SELECT id, state, model, class, count, images_done, scale, sampler, respacing, seed, attempts,
       max_attempts, worker, error, created_at, started_at, finished_at,
       round((julianday(started_at) - julianday(created_at)) * 86400.0, 3) AS wait_s,
       round((julianday(coalesce(finished_at, strftime('%Y-%m-%d %H:%M:%f', 'now')))
              - julianday(started_at)) * 86400.0, 3) AS run_s
FROM jobs
ORDER BY id;
