-- 005_engine.sql — which code did a job's matrix work.
--
--   provenance.engine  the matrix backend the device ran ("own", "clblast",
--                      "convgemm"), or with the per-shape choice of GPUs
--                      ("auto") a summary of the choices the job used:
--                      "auto: N shapes: own a, clblast b, convgemm c
--                      (choices sha256 <16 hex>)"; the choices themselves
--                      are in the device's engine-<key>.tsv beside the
--                      program cache (kernels/ops_engine.c).  NULL for rows
--                      written before this migration.

ALTER TABLE provenance ADD COLUMN engine TEXT
    CONSTRAINT "provenance.engine must be NULL or 1 to 512 characters"
    CHECK (engine IS NULL OR length(engine) BETWEEN 1 AND 512);
