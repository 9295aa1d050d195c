-- 004_evaluations.sql — the paper's five numbers, one row per evaluation
-- (`admctl eval`, `admctl sweep`): a set of samples against a reference
-- batch through a feature network (the FID Inception, or a model's own
-- classifier at t = 0 when no Inception weights are at hand).
--
--   fid, sfid        Frechet distances of pool / spatial features (sfid NULL
--                    when the feature network has no spatial features)
--   inception_score  exp(E KL(p(y|x) || p(y))) over splits of is_split images
--   precision        fraction of samples inside some reference k-NN ball (k=3)
--   recall           fraction of references inside some sample k-NN ball
-- reference_stats = 'npz' when the reference batch carried mu/sigma (from
-- the TensorFlow graph) and those were used for FID/sFID, 'computed' else.
CREATE TABLE evaluations (
    id               INTEGER PRIMARY KEY,
    reference        TEXT NOT NULL,       -- the reference batch as given (path)
    reference_sha256 TEXT NOT NULL,       -- of the reference .npz file
    reference_count  INTEGER NOT NULL,    -- images in it
    reference_stats  TEXT NOT NULL DEFAULT 'computed',
    samples          TEXT NOT NULL,       -- 'jobs 3,5-9', an .npz path or a PNG folder
    sample_count     INTEGER NOT NULL,
    feature_net      TEXT NOT NULL,       -- 'inception FID (pytorch-fid 2015-12-05)', 'classifier mnist at t=0', ...
    feature_sha256   TEXT NOT NULL,       -- of its weights file
    device           TEXT NOT NULL,       -- the OpenCL device the features ran on
    is_split         INTEGER NOT NULL DEFAULT 5000,
    fid              REAL NOT NULL,
    sfid             REAL,
    inception_score  REAL NOT NULL,
    precision        REAL NOT NULL,
    recall           REAL NOT NULL,
    seconds          REAL NOT NULL DEFAULT 0,   -- features + metrics, wall clock
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),

    CONSTRAINT "evaluations.reference must not be empty" CHECK (length(reference) > 0),
    CONSTRAINT "evaluations.reference_sha256 must be 64 lowercase hex digits"
        CHECK (length(reference_sha256) = 64 AND reference_sha256 NOT GLOB '*[^0-9a-f]*'),
    CONSTRAINT "evaluations.reference_count must be at least 4 (k-NN balls with k=3)" CHECK (reference_count >= 4),
    CONSTRAINT "evaluations.reference_stats must be computed or npz" CHECK (reference_stats IN ('computed', 'npz')),
    CONSTRAINT "evaluations.samples must not be empty" CHECK (length(samples) > 0),
    CONSTRAINT "evaluations.sample_count must be at least 4 (k-NN balls with k=3)" CHECK (sample_count >= 4),
    CONSTRAINT "evaluations.feature_net must not be empty" CHECK (length(feature_net) > 0),
    CONSTRAINT "evaluations.feature_sha256 must be 64 lowercase hex digits"
        CHECK (length(feature_sha256) = 64 AND feature_sha256 NOT GLOB '*[^0-9a-f]*'),
    CONSTRAINT "evaluations.device must not be empty" CHECK (length(device) > 0),
    CONSTRAINT "evaluations.is_split must be at least 1" CHECK (is_split >= 1),
    CONSTRAINT "evaluations.fid must be a finite number" CHECK (fid BETWEEN -1e300 AND 1e300),
    CONSTRAINT "evaluations.sfid must be NULL or a finite number" CHECK (sfid IS NULL OR sfid BETWEEN -1e300 AND 1e300),
    CONSTRAINT "evaluations.inception_score must be at least 1" CHECK (inception_score >= 0.999999),
    CONSTRAINT "evaluations.precision must be from 0 to 1" CHECK (precision BETWEEN 0 AND 1),
    CONSTRAINT "evaluations.recall must be from 0 to 1" CHECK (recall BETWEEN 0 AND 1),
    CONSTRAINT "evaluations.seconds must not be negative" CHECK (seconds >= 0)
) STRICT;
