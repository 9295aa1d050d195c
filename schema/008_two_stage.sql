-- 008_two_stage.sql — two-stage jobs (a base model, then an upsampler) and
-- super-resolution of given images (ADM-U, the paper's 64 -> 256 and
-- 128 -> 512 pipelines).
--
--   jobs.upsampler     NULL: one stage.  Else a registered super-resolution
--                      model: stage 1 samples jobs.model as usual; each stage-1
--                      image becomes uint8 exactly as its PNG, then
--                      low_res = u8/127.5 - 1, and stage 2 samples the
--                      upsampler on it with the same class (class-conditional
--                      upsamplers take y).  The final images (outputs,
--                      images_done) are stage 2's; stage 1's are kept in
--                      stage_outputs.
--   jobs.up_sampler, up_respacing, up_steps, up_eta
--                      stage 2's sampler; NULL: the upsampler's defaults, as
--                      for jobs.sampler.  Stage 2's noise is its own Philox
--                      stream of the job's seed (stage in the counter
--                      layout, kernels/noise.cl), so a stage-2 image is
--                      reproducible alone from (seed, index).
--   jobs.input_path    NULL, or an absolute path to one PNG or a folder of
--                      PNGs that jobs.model (then an upsampler) enlarges:
--                      super-resolution of given images, one stage; count
--                      must equal the number of PNGs.  The daemon checks it
--                      lies inside its allowed input roots (admd
--                      --input-root) and reads it with bounds checks.
--   jobs.stage1_done   stage-1 images recorded (the daemon's, like images_done):
--                      a job resumed after a crash does not redo them.
--
--   sqlite> INSERT INTO jobs (model, upsampler, class, count, seed) VALUES ('imagenet64', 'up256', 207, 4, 1);

ALTER TABLE jobs ADD COLUMN upsampler TEXT
    CONSTRAINT "jobs.upsampler must be NULL (one stage) or a model name (1-64 characters of A-Z a-z 0-9 _ . -)"
    CHECK (upsampler IS NULL OR (length(upsampler) BETWEEN 1 AND 64 AND upsampler NOT GLOB '*[^A-Za-z0-9_.-]*'));
ALTER TABLE jobs ADD COLUMN up_sampler TEXT
    CONSTRAINT "jobs.up_sampler must be NULL (the upsampler's default_sampler), ddpm, ddim, dpm++2m, dpm++3m or dpm3s"
    CHECK (up_sampler IS NULL OR up_sampler IN ('ddpm', 'ddim', 'dpm++2m', 'dpm++3m', 'dpm3s'));
ALTER TABLE jobs ADD COLUMN up_respacing TEXT
    CONSTRAINT "jobs.up_respacing must be NULL (the upsampler's default_respacing), a step count (50), ddimN (ddim25) or a comma list (10,20,30)"
    CHECK (up_respacing IS NULL OR (length(up_respacing) BETWEEN 1 AND 1000 AND (
           (up_respacing GLOB 'ddim[1-9]*' AND substr(up_respacing, 5) NOT GLOB '*[^0-9]*')
        OR (up_respacing GLOB '[1-9]*' AND up_respacing NOT GLOB '*[^0-9,]*' AND up_respacing NOT GLOB '*,'
            AND up_respacing NOT GLOB '*,,*' AND up_respacing NOT GLOB '*,0*'))));
ALTER TABLE jobs ADD COLUMN up_steps INTEGER
    CONSTRAINT "jobs.up_steps must be NULL (the upsampler's default_steps) or from 1 to 1000"
    CHECK (up_steps IS NULL OR up_steps BETWEEN 1 AND 1000);
ALTER TABLE jobs ADD COLUMN up_eta REAL
    CONSTRAINT "jobs.up_eta must be NULL (0) or a number from 0 to 1" CHECK (up_eta IS NULL OR (up_eta >= 0 AND up_eta <= 1));
ALTER TABLE jobs ADD COLUMN input_path TEXT
    CONSTRAINT "jobs.input_path must be NULL or an absolute path of printable characters (at most 4000)"
    CHECK (input_path IS NULL OR (input_path GLOB '/*' AND length(input_path) <= 4000
                                  AND input_path NOT GLOB '*[' || char(1) || '-' || char(31) || char(127) || ']*'));
ALTER TABLE jobs ADD COLUMN stage1_done INTEGER NOT NULL DEFAULT 0
    CONSTRAINT "jobs.stage1_done must be from 0 to jobs.count" CHECK (stage1_done BETWEEN 0 AND count);

-- The combinations, named like the CHECKs.
CREATE TRIGGER jobs_insert_stages BEFORE INSERT ON jobs
BEGIN
    SELECT CASE
        WHEN NEW.stage1_done IS NOT 0 THEN RAISE(ABORT, 'jobs.stage1_done is set by the daemon')
        WHEN NEW.upsampler IS NOT NULL AND NOT EXISTS (SELECT 1 FROM models WHERE name = NEW.upsampler) THEN
            RAISE(ABORT, 'jobs.upsampler: unknown model (SELECT name FROM models lists them)')
        WHEN NEW.upsampler IS NOT NULL AND NEW.input_path IS NOT NULL THEN
            RAISE(ABORT, 'jobs.upsampler and jobs.input_path do not go together (an input_path job names the upsampler as jobs.model)')
        WHEN NEW.upsampler IS NULL AND (NEW.up_sampler IS NOT NULL OR NEW.up_respacing IS NOT NULL
                                        OR NEW.up_steps IS NOT NULL OR NEW.up_eta IS NOT NULL) THEN
            RAISE(ABORT, 'jobs.up_sampler, up_respacing, up_steps and up_eta need jobs.upsampler')
        WHEN NEW.upsampler IS NOT NULL
             AND coalesce(NEW.up_sampler, (SELECT default_sampler FROM models WHERE name = NEW.upsampler)) IN ('ddpm', 'ddim')
             AND NEW.up_steps IS NOT NULL THEN
            RAISE(ABORT, 'jobs.up_steps is for the dpm samplers (ddpm and ddim take jobs.up_respacing)')
        WHEN NEW.upsampler IS NOT NULL
             AND coalesce(NEW.up_sampler, (SELECT default_sampler FROM models WHERE name = NEW.upsampler)) NOT IN ('ddpm', 'ddim')
             AND NEW.up_respacing IS NOT NULL THEN
            RAISE(ABORT, 'jobs.up_respacing is for ddpm and ddim (the dpm samplers take jobs.up_steps)')
        WHEN NEW.upsampler IS NOT NULL AND (SELECT default_scale FROM models WHERE name = NEW.upsampler) > 0 THEN
            RAISE(ABORT, 'jobs.upsampler: the upsampler samples unguided (its models.default_scale must be 0)')
    END;
END;

-- A two-stage job's row shows what stage 2 runs (the upsampler's defaults).
CREATE TRIGGER jobs_insert_stage_defaults AFTER INSERT ON jobs
WHEN NEW.upsampler IS NOT NULL
BEGIN
    UPDATE jobs SET
        up_sampler   = coalesce(NEW.up_sampler, (SELECT default_sampler FROM models WHERE name = NEW.upsampler)),
        up_respacing = CASE WHEN coalesce(NEW.up_sampler, (SELECT default_sampler FROM models WHERE name = NEW.upsampler))
                                 IN ('ddpm', 'ddim')
                            THEN coalesce(NEW.up_respacing, (SELECT default_respacing FROM models WHERE name = NEW.upsampler)) END,
        up_steps     = CASE WHEN coalesce(NEW.up_sampler, (SELECT default_sampler FROM models WHERE name = NEW.upsampler))
                                 NOT IN ('ddpm', 'ddim')
                            THEN coalesce(NEW.up_steps, (SELECT default_steps FROM models WHERE name = NEW.upsampler)) END,
        up_eta       = coalesce(NEW.up_eta, 0.0)
    WHERE id = NEW.id;
END;

CREATE TRIGGER jobs_request_frozen_stages
BEFORE UPDATE OF upsampler, up_sampler, up_respacing, up_steps, up_eta, input_path ON jobs
WHEN (OLD.state <> 'queued' OR OLD.images_done > 0 OR OLD.stage1_done > 0)
     AND (NEW.upsampler IS NOT OLD.upsampler OR NEW.up_sampler IS NOT OLD.up_sampler
          OR NEW.up_respacing IS NOT OLD.up_respacing OR NEW.up_steps IS NOT OLD.up_steps
          OR NEW.up_eta IS NOT OLD.up_eta OR NEW.input_path IS NOT OLD.input_path)
BEGIN
    SELECT RAISE(ABORT, 'jobs: the request (upsampler, up_sampler, up_respacing, up_steps, up_eta, input_path) cannot change once the job has started');
END;

CREATE TRIGGER jobs_stage1_owner BEFORE UPDATE OF stage1_done ON jobs
WHEN NEW.stage1_done IS NOT OLD.stage1_done
     AND NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'jobs.stage1_done is owned by the daemon (users may cancel, requeue or re-prioritise a job)');
END;

CREATE TRIGGER models_delete_upsampler_in_use BEFORE DELETE ON models
WHEN EXISTS (SELECT 1 FROM jobs WHERE upsampler = OLD.name AND state IN ('queued', 'running'))
BEGIN
    SELECT RAISE(ABORT, 'models: the model is the upsampler of queued or running jobs (cancel them first)');
END;

CREATE TRIGGER models_rename_upsampler_in_use BEFORE UPDATE OF name ON models
WHEN NEW.name IS NOT OLD.name AND EXISTS (SELECT 1 FROM jobs WHERE upsampler = OLD.name)
BEGIN
    SELECT RAISE(ABORT, 'models.name cannot change while jobs refer to the model as their upsampler');
END;

-- ---------------------------------------------------------------- stage_outputs
-- The stage-1 images of two-stage jobs, one row per image, as outputs holds
-- the final ones (written by the daemon in the transaction that advances
-- jobs.stage1_done).  Stage 2 reads them back from their PNG files and
-- checks each file's sha256 against its row.
CREATE TABLE stage_outputs (
    id              INTEGER PRIMARY KEY,
    job_id          INTEGER NOT NULL REFERENCES jobs (id),
    stage           INTEGER NOT NULL DEFAULT 1,
    idx             INTEGER NOT NULL,
    seed            INTEGER NOT NULL,
    class           INTEGER,
    noise_algorithm TEXT NOT NULL,
    path            TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    seconds         REAL NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (job_id, stage, idx),
    CONSTRAINT "stage_outputs.stage must be 1 (stage 2's images are the job's outputs)" CHECK (stage = 1),
    CONSTRAINT "stage_outputs.idx must be >= 0" CHECK (idx >= 0),
    CONSTRAINT "stage_outputs.bytes must be > 0" CHECK (bytes > 0),
    CONSTRAINT "stage_outputs.sha256 must be 64 lowercase hex digits"
        CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')
) STRICT;

CREATE TRIGGER stage_outputs_insert_owner BEFORE INSERT ON stage_outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'stage_outputs: rows are written by the daemon only (one per stage-1 image it wrote)');
END;

CREATE TRIGGER stage_outputs_update_owner BEFORE UPDATE ON stage_outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
BEGIN
    SELECT RAISE(ABORT, 'stage_outputs: rows are written by the daemon only (one per stage-1 image it wrote)');
END;

CREATE TRIGGER stage_outputs_delete_owner BEFORE DELETE ON stage_outputs
WHEN NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'adm_is_daemon')
     AND EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id)
BEGIN
    SELECT RAISE(ABORT, 'stage_outputs: rows of an existing job go only with the job (DELETE FROM jobs WHERE id = ...)');
END;

CREATE TRIGGER stage_outputs_job_exists BEFORE INSERT ON stage_outputs
WHEN NOT EXISTS (SELECT 1 FROM jobs WHERE id = NEW.job_id)
BEGIN
    SELECT RAISE(ABORT, 'stage_outputs.job_id: no such job');
END;

CREATE TRIGGER jobs_delete_stage_outputs AFTER DELETE ON jobs
BEGIN
    DELETE FROM stage_outputs WHERE job_id = OLD.id;
END;

-- Stage 2 in the provenance: the upsampler, its files and hashes, its
-- sampler as run, and each stage's denoising time (steps_s is both).
ALTER TABLE provenance ADD COLUMN upsampler TEXT;
ALTER TABLE provenance ADD COLUMN up_unet_path TEXT;
ALTER TABLE provenance ADD COLUMN up_unet_config TEXT;
ALTER TABLE provenance ADD COLUMN up_unet_sha256 TEXT;
ALTER TABLE provenance ADD COLUMN up_sampler TEXT;
ALTER TABLE provenance ADD COLUMN up_respacing TEXT;
ALTER TABLE provenance ADD COLUMN up_steps INTEGER;
ALTER TABLE provenance ADD COLUMN up_eta REAL;
ALTER TABLE provenance ADD COLUMN up_image_size INTEGER;
ALTER TABLE provenance ADD COLUMN input_path TEXT;
ALTER TABLE provenance ADD COLUMN stage1_steps_s REAL;
ALTER TABLE provenance ADD COLUMN stage2_steps_s REAL;
ALTER TABLE provenance ADD COLUMN up_model_load_s REAL;
