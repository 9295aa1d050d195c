/* lib_pool.h — admd's pool (admd --batch N): continuous batching of the
 * images of many jobs that share one model pair.
 *
 * Up to N images are in flight, each with its own sampler state
 * (model/generate_pool.c); every device pass advances all of them by one
 * network evaluation.  Slots go in queue order (priority, then age): the
 * next images of the jobs already in the pool first, then the queue's next
 * job when it is a one-stage job of the same model (claimed with the
 * normal lease; a job of another model, a two-stage or super-resolution
 * job at the head of the queue waits until the pool drains, then the
 * daemon's one-job path takes it).  A finished image is written and
 * recorded at once and its slot is taken at the next pass.
 *
 * Per job as on the one-job path: progress (step, pass_images) after
 * passes at a bounded rate; leases renewed by the heartbeat thread whatever
 * the device is doing (lib_heartbeat.h); a cancelled or taken job's images
 * leave at the next pass; a failed pass is retried job by job, so a failed
 * image fails only its job; SIGTERM requeues every job of the pool with
 * its recorded images.  Each finished job's provenance records the
 * smallest and largest pass its images ran in and how many passes it
 * shared (schema/010_batch.sql). */
#ifndef ADMD_LIB_POOL_H
#define ADMD_LIB_POOL_H
#include "lib_heartbeat.h"
#include "lib_modelcache.h"
#include "spool.h"
#include <signal.h>

/* How a pooled job ends (admd.c's end callback does the spool work and the log line). */
enum { ADMD_POOL_DONE, ADMD_POOL_FAILED, ADMD_POOL_REQUEUE, ADMD_POOL_PAUSE, ADMD_POOL_LOST };

typedef struct {
    adm_spool *spool;
    const char *root;                /* the output root */
    int batch;                       /* images in flight at most */
    double progress_s;               /* at most one progress write per job per this many seconds */
    volatile sig_atomic_t *stop;     /* SIGTERM: requeue everything */
    admd_heartbeat *hb;
    void *user;
    /* Claim the queue's next job if it is a one-stage job of model:
     * 1 claimed, 0 not now (another model first, nothing queued, paused), -1 error. */
    int (*claim)(void *user, const char *model, adm_spool_job *job, adm_spool_model *row);
    /* A claimed job on the pool's model cm: provenance, checks, output
     * folder.  0 ready; -1 ended by begin (failed or requeued); 1 it cannot
     * join this pool (requeued: the pool claims no more). */
    int (*begin)(void *user, const adm_spool_job *job, const adm_spool_model *row, adm_cached_model *cm,
                 adm_spool_provenance *p);
    /* End a job (ADMD_POOL_*); images: recorded in this attempt. */
    void (*end)(void *user, const adm_spool_job *job, int how, const char *error, int images,
                adm_spool_provenance *p);
    /* After every pass: the daemon's periodic work (reaping other workers'
     * expired leases); may be NULL. */
    void (*tick)(void *user);
} admd_pool_env;

/* Run the pool from its first job (claimed at t_claim and begun, p its
 * provenance) until no job is left in it. */
void admd_pool_run(const admd_pool_env *env, adm_cached_model *cm, const adm_spool_job *first,
                   const adm_spool_provenance *p, double t_claim);

/* This daemon's pooled totals since it started (for worker_rates). */
void admd_pool_totals(int64_t *images, double *busy_s, int64_t *passes);

#endif
