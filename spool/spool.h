/* spool.h — the job spool: the only code in admd that talks SQL.
 *
 * A spool is one SQLite file (WAL mode) holding the tables of schema/NNN_name.sql:
 *   models      registered UNet (+ classifier) files, their hashes and defaults
 *   jobs        requests people insert (sqlite3 CLI or admctl) and the
 *               daemon-owned state: queued -> running -> done | failed |
 *               cancelled | dead (retries exhausted)
 *   outputs     one row per image (path, seed, sha256 of the PNG file, ...)
 *   provenance  one row per finished job (device, driver, versions, hashes,
 *               every sampling parameter, per-phase timings)
 *   views       queue (position, progress), results (jobs joined to outputs)
 *
 * People see the tables; C code sees the structs below.  Every function
 * follows util.h's convention: 0 on success, -1 after adm_error(); some
 * return 1 for a documented "nothing to do / not yours any more" case.
 * Write transactions are short: none is held across a denoising step.
 *
 * Daemon side (one worker = one process):
 *   adm_spool_set_worker   who we are ("host:pid"), the lease length; marks the
 *                          connection as the daemon's (schema/002_ownership.sql)
 *   adm_spool_claim        BEGIN IMMEDIATE; UPDATE ... RETURNING: the oldest
 *                          highest-priority queued job becomes ours
 *   adm_spool_heartbeat    between steps: extend the lease, write progress;
 *                          tells us when the job was cancelled or taken away
 *   adm_spool_record_output  one image, in the transaction that advances the job
 *   adm_spool_finish / adm_spool_fail / adm_spool_release (SIGTERM: requeue)
 *   adm_spool_reap         expired leases: requeue, or `dead` after max_attempts
 *   adm_spool_reclaim      running jobs of workers known to be dead
 */
#ifndef ADM_SPOOL_H
#define ADM_SPOOL_H
#include <stddef.h>
#include <stdint.h>

typedef struct adm_spool adm_spool;

/* ---- sizes of the text fields (bytes, including the NUL) ---- */
#define ADM_SPOOL_NAME 65        /* model names: 1-64 of [A-Za-z0-9_.-] */
#define ADM_SPOOL_PATH 4096
#define ADM_SPOOL_SPEC 1024      /* respacing specs, config specs */
#define ADM_SPOOL_SHORT 32       /* state, sampler, timestamps */
#define ADM_SPOOL_TEXT 1024      /* errors, worker ids, device strings */
#define ADM_SPOOL_SHA 65

/* ---- open / schema ---- */

#define ADM_SPOOL_CREATE   1     /* create the file if missing */
#define ADM_SPOOL_MIGRATE  2     /* apply pending migrations (one transaction) */
#define ADM_SPOOL_READONLY 4     /* open read-only (no migration possible) */

/* Open (and with ADM_SPOOL_MIGRATE bring up to date) the spool at path.
 * Sets WAL mode, a busy timeout (5 s) and foreign keys.  Refuses a file
 * whose schema is newer than this build knows, and (without MIGRATE) one
 * that is older. */
int adm_spool_open(const char *path, int flags, adm_spool **out);
void adm_spool_close(adm_spool *s);
const char *adm_spool_path(const adm_spool *s);
/* The folder holding the database file (no trailing slash). */
const char *adm_spool_dir(const adm_spool *s);

/* Schema version of the open file (PRAGMA user_version) / of this build. */
int adm_spool_schema_version(adm_spool *s);
int adm_spool_latest_version(void);

/* PRAGMA data_version: changes when another connection commits. */
int adm_spool_data_version(adm_spool *s, int64_t *version);

/* ---- models ---- */

typedef struct {
    char name[ADM_SPOOL_NAME];
    char unet_path[ADM_SPOOL_PATH];
    char unet_config[ADM_SPOOL_SPEC];         /* key=value file, MODEL_FLAGS string or preset */
    char classifier_path[ADM_SPOOL_PATH];     /* "" : none (no guidance) */
    char classifier_config[ADM_SPOOL_SPEC];
    char unet_sha256[ADM_SPOOL_SHA];          /* "" : not hashed yet */
    char classifier_sha256[ADM_SPOOL_SHA];
    int image_size, channels, num_classes;    /* -1: not known yet (daemon fills in) */
    char default_sampler[ADM_SPOOL_SHORT];    /* "ddpm" | "ddim" | "dpm++2m" | "dpm++3m" | "dpm3s" */
    char default_respacing[ADM_SPOOL_SPEC];
    double default_scale;
    int default_steps;                        /* dpm* samplers (0: 20) */
    char created_at[ADM_SPOOL_SHORT];
} adm_spool_model;

/* Defaults: empty strings, -1 sizes, sampler "ddpm", respacing "50", scale 0. */
void adm_spool_model_init(adm_spool_model *m);
/* Insert a model (replace = 1: replace a row of the same name; its jobs
 * keep referring to it by name).  Relative paths are stored as given and
 * resolved against the spool's folder by adm_spool_resolve. */
int adm_spool_model_add(adm_spool *s, const adm_spool_model *m, int replace);
/* -1 with "unknown model NAME" when absent. */
int adm_spool_model_get(adm_spool *s, const char *name, adm_spool_model *m);
/* All models by name (malloc'd array; free()). */
int adm_spool_model_list(adm_spool *s, adm_spool_model **models, int *n);
/* Refused while queued or running jobs use the model. */
int adm_spool_model_remove(adm_spool *s, const char *name);
/* What the daemon learns on loading: hashes ("" or NULL: leave) and sizes (< 0: leave). */
int adm_spool_model_set_info(adm_spool *s, const char *name, const char *unet_sha256,
                             const char *classifier_sha256, int image_size, int channels,
                             int num_classes);

/* models.labels, the model's class names (model/labels.h: one per line,
 * line k = class k): *labels malloc'd (free()), NULL when it has none;
 * -1 with "unknown model NAME" when absent. */
int adm_spool_model_labels(adm_spool *s, const char *name, char **labels);
/* Set them (NULL: none). */
int adm_spool_model_set_labels(adm_spool *s, const char *name, const char *labels);

/* A model path as the daemon opens it: absolute paths unchanged, relative
 * ones joined to the spool's folder.  Returns out. */
char *adm_spool_resolve(const adm_spool *s, const char *path, char *out, int out_len);

/* ---- jobs: requests ---- */

typedef struct {
    char model[ADM_SPOOL_NAME];
    int klass;                            /* class label; -1: random per image */
    int count;                            /* images, 1..10000 */
    double scale;                         /* guidance scale; NAN: the model's default */
    char sampler[ADM_SPOOL_SHORT];        /* "": the model's default */
    char respacing[ADM_SPOOL_SPEC];       /* "": the model's default */
    double eta;                           /* DDIM eta, 0..1 (NAN: 0) */
    int steps;                            /* dpm*: network passes (0: the model's default_steps) */
    char skip[ADM_SPOOL_SHORT];           /* dpm*: time_uniform | logsnr | time_quadratic ("": time_uniform) */
    char thresholding[ADM_SPOOL_SHORT];   /* dpm*: none | dynamic ("": the sampler's default) */
    int64_t seed;                         /* -1: the daemon chooses (recorded) */
    int priority;                         /* higher first, -1000..1000 */
    char outdir[256];                     /* under the output root; "": "job-<id>" */
    int max_attempts;                     /* 0: default (3) */
} adm_spool_request;

void adm_spool_request_init(adm_spool_request *r);   /* the defaults above, count 1 */
/* "ddim ddim25, eta 0" or "dpm++2m 15 steps time_uniform, thresholding dynamic"
 * (a request's or a provenance's sampling settings, for people); returns buf. */
char *adm_spool_sampling_text(const char *sampler, const char *respacing, double eta, int steps, const char *skip,
                              const char *thresholding, char *buf, size_t n);
/* Insert; the schema's triggers check everything and fill the model's
 * defaults.  The error names the column ("jobs.count must be ..."). */
int adm_spool_submit(adm_spool *s, const adm_spool_request *r, int64_t *job_id);

/* ---- jobs: state ---- */

typedef struct {
    int64_t id;
    adm_spool_request req;                /* effective values (defaults filled in) */
    char state[ADM_SPOOL_SHORT];          /* queued running done failed cancelled dead */
    int attempts;
    char worker[ADM_SPOOL_TEXT];          /* "" when none */
    char lease_until[ADM_SPOOL_SHORT];
    int step, total_steps;                /* progress of the current device pass */
    int pass_images;                      /* images of that pass not recorded yet (0: none or not known) */
    int images_done;                      /* images recorded (outputs rows) */
    int position;                         /* 1-based place in the queue (queued jobs), else 0 */
    char created_at[ADM_SPOOL_SHORT], started_at[ADM_SPOOL_SHORT], finished_at[ADM_SPOOL_SHORT];
    char updated_at[ADM_SPOOL_SHORT];     /* last progress write */
    char error[ADM_SPOOL_TEXT];
} adm_spool_job;

/* -1 with "no job N" when absent. */
int adm_spool_job_get(adm_spool *s, int64_t id, adm_spool_job *job);
/* Jobs, newest first; state NULL: all states; limit <= 0: no limit.
 * Malloc'd array; free(). */
int adm_spool_job_list(adm_spool *s, const char *state, int limit, adm_spool_job **jobs, int *n);
/* Count of jobs per state: counts[0..5] = queued running done failed cancelled dead. */
int adm_spool_counts(adm_spool *s, int counts[6]);
/* Cancel a queued or running job (a running one stops at its next step).
 * Returns 1 (and sets the error) if the job had already ended. */
int adm_spool_cancel(adm_spool *s, int64_t id);
/* Put a failed, dead or cancelled job back in the queue (attempts reset;
 * images already recorded are kept and not redone). */
int adm_spool_requeue(adm_spool *s, int64_t id);

/* ---- outputs and provenance ---- */

typedef struct {
    int64_t job_id;
    int index;                            /* image index within the job */
    int64_t seed;                         /* the job's seed; image = f(seed, index) */
    int klass;                            /* class used (-1: unconditional) */
    char noise_algorithm[64];             /* ADM_NOISE_ALGORITHM */
    char path[ADM_SPOOL_PATH];            /* absolute path of the PNG */
    int64_t bytes;
    char sha256[ADM_SPOOL_SHA];           /* of the PNG file */
    double seconds;                       /* its device pass's time / the pass's images,
                                             plus this image's own PNG encode + write */
    char created_at[ADM_SPOOL_SHORT];
} adm_spool_output;

/* Outputs of a job by index (malloc'd; free()). */
int adm_spool_outputs(adm_spool *s, int64_t job_id, adm_spool_output **outs, int *n);

typedef struct {
    int64_t job_id;
    char host[256], worker[ADM_SPOOL_TEXT];
    int attempt;
    char device_name[256], device_vendor[256], driver_version[128], opencl_version[128];
    char admd_version[ADM_SPOOL_SHORT], kernel_hash[ADM_SPOOL_SHA], clblast_version[ADM_SPOOL_SHORT];
    char model[ADM_SPOOL_NAME];
    char unet_path[ADM_SPOOL_PATH], unet_config[ADM_SPOOL_PATH], unet_sha256[ADM_SPOOL_SHA];
    char classifier_path[ADM_SPOOL_PATH], classifier_config[ADM_SPOOL_PATH], classifier_sha256[ADM_SPOOL_SHA];
    char sampler[ADM_SPOOL_SHORT], respacing[ADM_SPOOL_SPEC];
    double eta, scale;
    int steps;                                /* dpm*: as run (0 for ddpm/ddim) */
    char skip[ADM_SPOOL_SHORT], thresholding[ADM_SPOOL_SHORT];
    int64_t seed;
    int klass, count, batch;
    int image_size, channels;
    char noise_algorithm[64];
    double queue_wait_s, model_load_s, steps_s, encode_s, total_s;   /* per-phase timings */
    char recorded_at[ADM_SPOOL_SHORT];
    char engine[512];           /* matrix engines used (adm_ops_engine_summary; schema 005) */
    /* two-stage jobs and super-resolution of given images (schema 008; "" / 0 otherwise) */
    char upsampler[ADM_SPOOL_NAME];
    char up_unet_path[ADM_SPOOL_PATH], up_unet_config[ADM_SPOOL_PATH], up_unet_sha256[ADM_SPOOL_SHA];
    char up_sampler[ADM_SPOOL_SHORT], up_respacing[ADM_SPOOL_SPEC];
    int up_steps, up_image_size;
    double up_eta;
    char input_path[ADM_SPOOL_PATH];
    double stage1_steps_s, stage2_steps_s, up_model_load_s;
    /* jobs run in admd's pool (--batch N; schema 010; 0: the one-job path):
     * the smallest and largest device pass its images ran in, the passes
     * that held its images and, of those, the passes shared with other jobs */
    int batch_min, batch_max, passes, passes_shared;
    /* Not a column: the model's class names (models.labels) for the PNG
     * chunks (output/job_files.h), set by whoever writes them; NULL: none. */
    const char *labels;
} adm_spool_provenance;

/* 1 when the job has no provenance row (not finished yet). */
int adm_spool_provenance_get(adm_spool *s, int64_t job_id, adm_spool_provenance *p);

/* ---- two stages (spool_stages.c, schema/008_two_stage.sql) ---- */

/* A job's second stage or given input: what adm_spool_request does not hold. */
typedef struct {
    char upsampler[ADM_SPOOL_NAME];        /* "": one stage */
    char up_sampler[ADM_SPOOL_SHORT];      /* "": the upsampler's default */
    char up_respacing[ADM_SPOOL_SPEC];
    int up_steps;                          /* 0: default (dpm samplers) */
    double up_eta;                         /* NAN: 0 */
    char input_path[ADM_SPOOL_PATH];       /* "": none; else one PNG or a folder of PNGs */
    int stage1_done;                       /* stage-1 images recorded (daemon-owned) */
} adm_spool_stages;

void adm_spool_stages_init(adm_spool_stages *st);
/* Insert a job with its stages (st may be NULL: adm_spool_submit). */
int adm_spool_submit_stages(adm_spool *s, const adm_spool_request *r, const adm_spool_stages *st, int64_t *job_id);
/* The stage columns of a job (effective values). */
int adm_spool_stages_get(adm_spool *s, int64_t job_id, adm_spool_stages *st);
/* Record one stage-1 image (a stage_outputs row) and advance stage1_done,
 * in one transaction; o->index must equal stage1_done.  1 when the job is
 * no longer ours. */
int adm_spool_record_stage1(adm_spool *s, const adm_spool_output *o);
/* Stage-1 images of a job by index (malloc'd; free()). */
int adm_spool_stage1_outputs(adm_spool *s, int64_t job_id, adm_spool_output **outs, int *n);
/* The given images of a super-resolution job (schema 011 job_inputs): each
 * input PNG as the daemon read it. */
typedef struct {
    int index;                             /* the image's index in the job */
    char path[ADM_SPOOL_PATH];
    int64_t bytes;
    char sha256[ADM_SPOOL_SHA];
} adm_spool_input;
/* Record a job's inputs in one transaction (the daemon's connection); rows
 * already recorded are kept as they are. */
int adm_spool_record_inputs(adm_spool *s, int64_t job_id, const adm_spool_input *in, int n);
/* A job's recorded inputs by index (malloc'd; free(); *n = 0 when none). */
int adm_spool_job_inputs(adm_spool *s, int64_t job_id, adm_spool_input **in, int *n);
/* (spool internal: provenance's stage columns, written and read with the row) */

/* ---- the daemon's side ---- */

/* Who claims (e.g. "host:1234") and how long a lease lasts (seconds).
 * Also makes this connection the daemon's: it registers the SQL function
 * adm_is_daemon(), which the ownership triggers of schema/002 let write
 * the daemon-owned columns and the outputs and provenance tables. */
int adm_spool_set_worker(adm_spool *s, const char *worker, double lease_seconds);
const char *adm_spool_worker(const adm_spool *s);

/* Claim the next job (priority, then age): it becomes running, ours, with
 * attempts + 1 and a seed chosen (random_seed) if it had none.  Fills job
 * and its model.  1 claimed, 0 nothing queued, -1 error. */
int adm_spool_claim(adm_spool *s, uint64_t random_seed, adm_spool_job *job, adm_spool_model *model);
/* The same, but only when the queue's next job (priority, then age) is a
 * one-stage job of model (no upsampler, no input_path): what admd's pool
 * takes to fill a free slot.  1 claimed, 0 the next job is another's (or
 * none is queued), -1 error. */
int adm_spool_claim_model(adm_spool *s, uint64_t random_seed, const char *model, adm_spool_job *job,
                          adm_spool_model *row);
/* Extend the leases of jobs ids[0..n) (no progress written), in one
 * transaction; lost[i] = 1 when job i is no longer ours.  admd's heartbeat
 * thread, on its own connection. */
int adm_spool_renew(adm_spool *s, const int64_t *ids, int n, int *lost);
/* Extend the lease and write progress.  0 ok; 1 the job is no longer ours
 * (cancelled, reaped, taken): stop working on it. */
int adm_spool_heartbeat(adm_spool *s, int64_t job_id, int step, int total_steps);
/* The same, recording the images of the pass running (jobs.pass_images):
 * what `admctl watch` turns into a true fraction and ETA. */
int adm_spool_heartbeat_pass(adm_spool *s, int64_t job_id, int step, int total_steps, int pass_images);
/* Record one image (an outputs row) and advance images_done, in one
 * transaction.  Images are recorded in index order: o->index must equal
 * the job's images_done (a retry resumes there).  1 when the job is no
 * longer ours (nothing recorded: the caller removes the file). */
int adm_spool_record_output(adm_spool *s, const adm_spool_output *o);
/* running -> done (+ provenance, may be NULL).  1 when no longer ours. */
int adm_spool_finish(adm_spool *s, int64_t job_id, const adm_spool_provenance *p);
/* running -> failed with error (+ provenance, may be NULL).  1 when no longer ours. */
int adm_spool_fail(adm_spool *s, int64_t job_id, const char *error, const adm_spool_provenance *p);
/* running -> queued (SIGTERM): the attempt is not counted.  1 when no longer ours. */
int adm_spool_release(adm_spool *s, int64_t job_id);
/* Expired leases: requeue (attempts < max_attempts) or mark dead with an
 * error.  Counts may be NULL. */
int adm_spool_reap(adm_spool *s, int *requeued, int *dead);
/* Running jobs whose worker is_dead(worker) says is gone (a process of
 * this host that no longer runs): requeued with the attempt given back,
 * since at most one device pass was lost; dead after ADM_SPOOL_MAX_CRASHES
 * such ends in a row without a new image recorded (jobs.crashes).  Their
 * rows in pauses and worker_rates go too.  n may be NULL. */
#define ADM_SPOOL_MAX_CRASHES 10
int adm_spool_reclaim(adm_spool *s, int (*is_dead)(const char *worker, void *user), void *user, int *n);

/* This worker stops claiming for retry_s seconds and says why (the pauses
 * table, shown by admctl status); reason NULL: it claims again (row gone). */
int adm_spool_pause(adm_spool *s, const char *reason, double retry_s);
typedef struct {
    char worker[ADM_SPOOL_TEXT], reason[ADM_SPOOL_TEXT];
    char since[ADM_SPOOL_SHORT], retry_at[ADM_SPOOL_SHORT];
} adm_spool_pause_row;
/* Paused workers, oldest first (malloc'd; free()). */
int adm_spool_pauses(adm_spool *s, adm_spool_pause_row **rows, int *n);

/* A pooled daemon's throughput (worker_rates, schema 010): images recorded
 * and seconds its pool was busy, its passes and pool size.  images < 0:
 * remove this worker's row (at exit). */
int adm_spool_worker_rate(adm_spool *s, int64_t images, double seconds, int64_t passes, int pool);
typedef struct {
    char worker[ADM_SPOOL_TEXT], updated_at[ADM_SPOOL_SHORT];
    int64_t images, passes;
    double seconds;
    int pool;
} adm_spool_rate_row;
/* All rows, by worker (malloc'd; free()). */
int adm_spool_worker_rates(adm_spool *s, adm_spool_rate_row **rows, int *n);

/* This process's worker id "host:pid:nonce" (stable for the process). */
const char *adm_worker_id(void);
/* 1 when worker names a process of this host that no longer runs (the
 * is_dead of adm_spool_reclaim); 0 when alive, elsewhere, or unparseable. */
int adm_worker_is_dead(const char *worker, void *user);

/* ---- administration (spool_admin.c): id lists, prune, metrics ---- */

/* Ids of the jobs in state (NULL: every job), ascending (malloc'd; free()). */
int adm_spool_job_ids(adm_spool *s, const char *state, int64_t **ids, int *n);

/* Which ended jobs `admctl prune` removes: all conditions hold. */
typedef struct {
    const char *states;       /* comma list of done,failed,cancelled,dead; NULL: all four */
    double older_than_s;      /* < 0: any age; else ended (finished_at, else updated_at,
                                 else created_at) more than this many seconds ago */
    int keep_last;            /* < 0: none kept; else the newest N jobs (by id) in `states` stay */
} adm_spool_prune_filter;

/* Ids of the jobs the filter selects, ascending (malloc'd; free()). */
int adm_spool_prune_select(adm_spool *s, const adm_spool_prune_filter *f, int64_t **ids, int *n);
/* In one transaction: delete the ended jobs ids[0..n) with their outputs and
 * provenance and, with with_files, move their outputs' paths into
 * prune_pending (the caller then unlinks them: adm_spool_pending_*).  A job
 * that is queued or running is refused (-1, nothing changed).  *jobs and
 * *files (may be NULL) count what was deleted and queued. */
int adm_spool_prune_jobs(adm_spool *s, const int64_t *ids, int n, int with_files, int *jobs, int *files);
/* Up to max paths waiting in prune_pending (malloc'd array of
 * ADM_SPOOL_PATH-byte strings; free()). */
int adm_spool_pending_list(adm_spool *s, int max, char (**paths)[ADM_SPOOL_PATH], int *n);
/* Forget paths[0..n) (their files are gone), in one transaction. */
int adm_spool_pending_forget(adm_spool *s, char (*paths)[ADM_SPOOL_PATH], int n);
/* Number of paths waiting in prune_pending. */
int adm_spool_pending_count(adm_spool *s, int64_t *n);
/* VACUUM the database file (no transaction may be open). */
int adm_spool_vacuum(adm_spool *s);

/* What `admctl metrics` exports, measured over the last window_s seconds. */
typedef struct {
    int jobs[6];                 /* queued running done failed cancelled dead */
    int64_t images;              /* outputs rows (images recorded and not pruned) */
    int64_t images_window;       /* of those, recorded within the window */
    double queue_age_s;          /* age of the oldest queued job (0: none queued) */
    double busy_s;               /* device time on jobs within the window, summed over
                                    workers: attempts that ended (provenance: total_s up
                                    to recorded_at) and running jobs (since started_at) */
    int64_t prune_pending;       /* files an interrupted prune still has to remove */
} adm_spool_metrics;
int adm_spool_metrics_get(adm_spool *s, double window_s, adm_spool_metrics *m);

/* ---- evaluations (schema/004_evaluations.sql) ---- */

typedef struct {
    int64_t id;                           /* set by adm_spool_evaluation_add */
    char reference[ADM_SPOOL_PATH], reference_sha256[ADM_SPOOL_SHA];
    int64_t reference_count;
    char reference_stats[ADM_SPOOL_SHORT];  /* "computed" or "npz" (mu/sigma from the file) */
    char samples[ADM_SPOOL_PATH];
    int64_t sample_count;
    char feature_net[ADM_SPOOL_TEXT], feature_sha256[ADM_SPOOL_SHA];
    char device[ADM_SPOOL_TEXT];
    int64_t is_split;
    double fid, sfid;                     /* sfid NAN: the feature network has no spatial features */
    double inception_score, precision, recall, seconds;
    char created_at[ADM_SPOOL_SHORT];
} adm_spool_evaluation;

/* Insert one row; its id in *id (may be NULL). */
int adm_spool_evaluation_add(adm_spool *s, const adm_spool_evaluation *e, int64_t *id);
/* All rows, oldest first (malloc'd; free()). */
int adm_spool_evaluation_list(adm_spool *s, adm_spool_evaluation **out, int *n);

/* ---- a box of a fleet (schema/009_fleet.sql; the NATS side is fleet/) ----
 *
 * Jobs taken from the fleet's queue are keyed by their message id in
 * fleet_inbox; results wait in fleet_outbox (a trigger adds each image in
 * the transaction that records it, another the job's end). */

/* What adm_spool_fleet_take did with a job message. */
#define ADM_FLEET_NEW     0   /* a new job (*job_id), held by holder */
#define ADM_FLEET_HELD    1   /* its job exists and has not ended: held by holder again
                                 (requeued if it had been released) */
#define ADM_FLEET_ENDED   2   /* its job ended (done, failed, dead, cancelled here) or was
                                 pruned: the message only needs its acknowledgement */
#define ADM_FLEET_REFUSED 3   /* the schema refused the request (adm_last_error: why) */
/* In one transaction: look msg_id up, else insert the job and its
 * fleet_inbox row (published_s: the server's timestamp of the message,
 * seconds since the epoch; 0: unknown).  Returns ADM_FLEET_* or -1 (a
 * passing error: retry). */
int adm_spool_fleet_take(adm_spool *s, const char *msg_id, uint64_t stream_seq, double published_s,
                         const char *holder, const adm_spool_request *r, int64_t *job_id);
/* The message of msg_id was acknowledged: fleet_inbox.state = acked. */
int adm_spool_fleet_acked(adm_spool *s, const char *msg_id);
/* Give held messages back: those of holder (holder non-NULL), or those
 * whose holder is_dead() says is gone.  A queued job of theirs is
 * cancelled with a "released" error (the message goes back to the queue
 * and, should it come back here, adm_spool_fleet_take requeues the job);
 * *n counts the rows released (may be NULL). */
int adm_spool_fleet_release(adm_spool *s, const char *holder, int (*is_dead)(const char *worker, void *user),
                            void *user, int *n);
/* Jobs waiting or running that would delay a new one for worker: queued
 * jobs plus jobs running under worker. */
int adm_spool_fleet_busy(adm_spool *s, const char *worker, int *n);

typedef struct {
    int64_t id, job_id;
    char kind[16];                        /* image | done | failed | dead */
    int index;                            /* image: its index, else -1 */
    char msg_id[129];                     /* the job's message id */
    int tries;
    adm_spool_output out;                 /* image: its outputs row (path "" when pruned) */
    int64_t seed;                         /* the job's seed */
    char error[ADM_SPOOL_TEXT];           /* failed, dead: the job's error */
} adm_spool_outbox_row;
/* Up to max unsent rows, oldest first (malloc'd; free()). */
int adm_spool_outbox_pending(adm_spool *s, int max, adm_spool_outbox_row **rows, int *n);
/* The server acknowledged row id (messages, payload bytes); error non-NULL:
 * it was given up with that reason (its PNG is gone). */
int adm_spool_outbox_sent(adm_spool *s, int64_t id, int messages, int64_t bytes, const char *error);
/* A try failed (error): tries + 1, last_error. */
int adm_spool_outbox_failed(adm_spool *s, int64_t id, const char *error);
/* Unsent outbox rows of one job. */
int adm_spool_outbox_unsent(adm_spool *s, int64_t job_id, int *n);
/* Outbox rows waiting / sent. */
int adm_spool_outbox_counts(adm_spool *s, int64_t *pending, int64_t *sent);

/* ---- the central results file of `admctl fleet collect` (spool_collect.c) ----
 * Its own SQLite file (not a spool): fleet_results, one row per image
 * (job message id, index) and fleet_ends, one row per job end. */
typedef struct adm_collect_db adm_collect_db;
int adm_collect_open(const char *path, adm_collect_db **out);
void adm_collect_close(adm_collect_db *c);
/* The highest results-stream sequence seen (0: none). */
int adm_collect_last_seq(adm_collect_db *c, uint64_t *seq);
int adm_collect_set_last_seq(adm_collect_db *c, uint64_t seq);
typedef struct {
    char job[129];
    int index;
    int64_t seed;
    char sha256[ADM_SPOOL_SHA], box[ADM_SPOOL_TEXT], path[ADM_SPOOL_PATH];
    int64_t bytes, local_job_id;
    uint64_t stream_seq;
} adm_collect_image;
/* 1 when (job, index) is already there (*sha256_there filled, may be NULL). */
int adm_collect_has_image(adm_collect_db *c, const char *job, int index, char sha256_there[ADM_SPOOL_SHA]);
int adm_collect_add_image(adm_collect_db *c, const adm_collect_image *im);
/* A job's end (state done|failed|dead, provenance JSON or the error); replaces. */
int adm_collect_add_end(adm_collect_db *c, const char *job, const char *state, const char *box, const char *text,
                        uint64_t stream_seq);
/* Rows: images, ends. */
int adm_collect_counts(adm_collect_db *c, int64_t *images, int64_t *ends);
int adm_collect_begin(adm_collect_db *c);
int adm_collect_commit(adm_collect_db *c);

#endif
