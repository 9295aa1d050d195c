-- 007_dpm_views.sql — the views show what a DPM-Solver job runs.
--
-- A dpm++2m / dpm++3m / dpm3s job keeps jobs.respacing (the model's
-- default_respacing, filled by 001's insert trigger) but does not use it:
-- it runs jobs.steps network passes on jobs.skip time steps with
-- jobs.thresholding (003).  queue, results and job_status showed only the
-- unused respacing; they now show respacing for ddpm/ddim jobs only (NULL
-- for DPM jobs) and steps, skip and thresholding (NULL for ddpm/ddim).
-- A DPM job given a respacing is refused (below).

DROP VIEW queue;
DROP VIEW results;
DROP VIEW job_status;

CREATE VIEW queue AS
SELECT CASE WHEN state = 'queued'
            THEN row_number() OVER (PARTITION BY state ORDER BY priority DESC, id) END AS position,
       id, state, model, class, count, scale, sampler,
       CASE WHEN steps IS NULL THEN respacing END AS respacing, steps, skip, thresholding, priority,
       images_done || '/' || count AS images,
       CASE WHEN total_steps > 0 THEN step || '/' || total_steps END AS step,
       attempts, worker, created_at, started_at, updated_at
FROM jobs
WHERE state IN ('queued', 'running')
ORDER BY state = 'running' DESC, priority DESC, id;

CREATE VIEW results AS
SELECT j.id AS job, o.idx AS image, j.model, o.class, j.scale, j.sampler,
       CASE WHEN j.steps IS NULL THEN j.respacing END AS respacing,
       CASE WHEN j.steps IS NULL THEN j.eta END AS eta, j.steps, j.skip, j.thresholding,
       o.seed, o.noise_algorithm, o.path, o.bytes, o.sha256, round(o.seconds, 3) AS seconds,
       o.created_at
FROM outputs AS o JOIN jobs AS j ON j.id = o.job_id
ORDER BY j.id, o.idx;

CREATE VIEW job_status AS
SELECT id, state, model, class, count, images_done, scale, sampler,
       CASE WHEN steps IS NULL THEN respacing END AS respacing, steps, skip, thresholding, seed, attempts,
       max_attempts, worker, error, created_at, started_at, finished_at,
       round((julianday(started_at) - julianday(created_at)) * 86400.0, 3) AS wait_s,
       round((julianday(coalesce(finished_at, strftime('%Y-%m-%d %H:%M:%f', 'now')))
              - julianday(started_at)) * 86400.0, 3) AS run_s
FROM jobs
ORDER BY id;

-- A respacing on a DPM job was silently unused; refuse it by name.  (admctl
-- submit and the spool API turn a respacing without a sampler into a ddpm
-- job when the model's default sampler is a dpm one.)
CREATE TRIGGER jobs_insert_dpm_respacing BEFORE INSERT ON jobs
WHEN coalesce(NEW.sampler, (SELECT default_sampler FROM models WHERE name = NEW.model)) IN ('dpm++2m', 'dpm++3m', 'dpm3s')
     AND NEW.respacing IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'jobs.respacing is for ddpm and ddim (the dpm samplers take jobs.steps)');
END;
