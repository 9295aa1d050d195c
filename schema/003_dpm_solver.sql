-- 003_dpm_solver.sql — the DPM-Solver samplers (dpm++2m, dpm++3m, dpm3s).
--
-- jobs.sampler and models.default_sampler also take dpm++2m, dpm++3m and
-- dpm3s.  Those samplers are told their network passes (jobs.steps), the
-- spacing of their time steps (jobs.skip) and, for the data-prediction
-- ones, whether to threshold x0 dynamically (jobs.thresholding); DDPM and
-- DDIM keep using jobs.respacing and leave the three NULL.  Left out on a
-- DPM job they take the model's default_steps, 'time_uniform' and
-- 'dynamic' (dpm++2m, dpm++3m) or 'none' (dpm3s).  The provenance records
-- the three as run.
--
--   sqlite> INSERT INTO jobs (model, class, count, scale, sampler, steps) VALUES ('mnist', 3, 4, 4.0, 'dpm++2m', 15);

ALTER TABLE jobs ADD COLUMN steps INTEGER
    CONSTRAINT "jobs.steps must be NULL (the model's default_steps) or from 1 to 1000"
    CHECK (steps IS NULL OR steps BETWEEN 1 AND 1000);
ALTER TABLE jobs ADD COLUMN skip TEXT
    CONSTRAINT "jobs.skip must be NULL (time_uniform), time_uniform, logsnr or time_quadratic"
    CHECK (skip IS NULL OR skip IN ('time_uniform', 'logsnr', 'time_quadratic'));
ALTER TABLE jobs ADD COLUMN thresholding TEXT
    CONSTRAINT "jobs.thresholding must be NULL (the sampler's default), none or dynamic"
    CHECK (thresholding IS NULL OR thresholding IN ('none', 'dynamic'));

ALTER TABLE models ADD COLUMN default_steps INTEGER NOT NULL DEFAULT 20
    CONSTRAINT "models.default_steps must be from 1 to 1000" CHECK (default_steps BETWEEN 1 AND 1000);

ALTER TABLE provenance ADD COLUMN steps INTEGER;          -- dpm*: network passes (NULL for ddpm/ddim)
ALTER TABLE provenance ADD COLUMN skip TEXT;
ALTER TABLE provenance ADD COLUMN thresholding TEXT;

-- Widen the two sampler checks of 001 in place.  SQLite cannot ALTER a
-- CHECK; rewriting the constraint text is its documented procedure for
-- CHECK changes that existing rows satisfy (every stored row has ddpm or
-- ddim).  The ALTERs above come first: they edit the same statement text.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CONSTRAINT "jobs.sampler must be ddpm or ddim" CHECK (sampler IS NULL OR sampler IN (''ddpm'', ''ddim''))',
    'CONSTRAINT "jobs.sampler must be ddpm, ddim, dpm++2m, dpm++3m or dpm3s" CHECK (sampler IS NULL OR sampler IN (''ddpm'', ''ddim'', ''dpm++2m'', ''dpm++3m'', ''dpm3s''))')
WHERE type = 'table' AND name = 'jobs';
UPDATE sqlite_schema SET sql = replace(sql,
    'CONSTRAINT "models.default_sampler must be ddpm or ddim" CHECK (default_sampler IN (''ddpm'', ''ddim''))',
    'CONSTRAINT "models.default_sampler must be ddpm, ddim, dpm++2m, dpm++3m or dpm3s" CHECK (default_sampler IN (''ddpm'', ''ddim'', ''dpm++2m'', ''dpm++3m'', ''dpm3s''))')
WHERE type = 'table' AND name = 'models';
PRAGMA writable_schema = RESET;

-- The combinations a single column cannot check, named like the CHECKs.
CREATE TRIGGER jobs_insert_dpm BEFORE INSERT ON jobs
BEGIN
    SELECT CASE
        WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) IN ('ddpm', 'ddim')
             AND (NEW.steps IS NOT NULL OR NEW.skip IS NOT NULL OR NEW.thresholding IS NOT NULL) THEN
            RAISE(ABORT, 'jobs.steps, jobs.skip and jobs.thresholding are for the dpm samplers (ddpm and ddim take jobs.respacing)')
        WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) = 'dpm3s'
             AND NEW.thresholding = 'dynamic' THEN
            RAISE(ABORT, 'jobs.thresholding dynamic needs a data-prediction sampler (dpm++2m or dpm++3m), not dpm3s')
        WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) = 'dpm++2m'
             AND coalesce(NEW.steps, (SELECT default_steps FROM models WHERE name = NEW.model)) < 2 THEN
            RAISE(ABORT, 'jobs.steps must be at least 2 for dpm++2m')
        WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) = 'dpm++3m'
             AND coalesce(NEW.steps, (SELECT default_steps FROM models WHERE name = NEW.model)) < 3 THEN
            RAISE(ABORT, 'jobs.steps must be at least 3 for dpm++3m')
    END;
END;

-- A DPM job's row shows what runs (the model's default sampler included).
CREATE TRIGGER jobs_insert_dpm_defaults AFTER INSERT ON jobs
WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) IN ('dpm++2m', 'dpm++3m', 'dpm3s')
BEGIN
    UPDATE jobs SET
        steps        = coalesce(NEW.steps, (SELECT default_steps FROM models WHERE name = NEW.model)),
        skip         = coalesce(NEW.skip, 'time_uniform'),
        thresholding = coalesce(NEW.thresholding,
                                CASE coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model))
                                WHEN 'dpm3s' THEN 'none' ELSE 'dynamic' END)
    WHERE id = NEW.id;
END;

CREATE TRIGGER jobs_request_frozen_dpm
BEFORE UPDATE OF steps, skip, thresholding ON jobs
WHEN (OLD.state <> 'queued' OR OLD.images_done > 0)
     AND (NEW.steps IS NOT OLD.steps OR NEW.skip IS NOT OLD.skip OR NEW.thresholding IS NOT OLD.thresholding)
BEGIN
    SELECT RAISE(ABORT, 'jobs: the request (steps, skip, thresholding) cannot change once the job has started');
END;
