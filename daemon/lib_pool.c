/* lib_pool.c — admd's pool: the images of many jobs of one model in
 * shared device passes (see lib_pool.h).
 *
 * One loop, one pass per turn:
 *   drop     jobs the heartbeat or a progress write found no longer ours
 *   fill     free slots: the next images of the pool's jobs (queue order),
 *            then newly claimed jobs of the same model
 *   pass     adm_gen_pass over every image in flight; if it fails, once
 *            more per job, and a job whose own pass fails is failed
 *   record   finished images, by job and index: PNG + outputs row
 *   end      jobs with every image recorded: done with provenance
 *   progress per job at a bounded rate; the daemon's rate row
 */
#include "lib_pool.h"
#include "generate.h"
#include "lib_notify.h"
#include "lib_output.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    adm_spool_job job;
    adm_spool_provenance p;
    adm_gen_job *gj;
    int next;                 /* the next image index to start */
    int in_flight, recorded;  /* images in slots; recorded in this attempt */
    int passes_per_image;
    double t_claim;           /* when the pool took it */
    double device_s, encode_s;
    double last_progress;
    int in_pass;              /* images of it in the current pass */
} pool_job;

typedef struct {
    adm_gen_image *im;
    pool_job *j;
    double device_s;          /* its share of the passes it ran in */
} slot;

typedef struct {
    const admd_pool_env *env;
    adm_cached_model *cm;
    pool_job **jobs;          /* in queue order (priority, then id) */
    int njobs;
    slot *slots;
    int nslots;
    int cap;                  /* images in flight at most: adm_generate_pass_size of --batch */
    int closed;               /* claim no more (a job could not join, SIGTERM, claim errors) */
    uint8_t *px;              /* one image's pixels */
} pool;

static int64_t total_images, total_passes, total_evals;   /* evals: images x passes */
static double total_busy_s;

void admd_pool_totals(int64_t *images, double *busy_s, int64_t *passes) {
    *images = total_images;
    *busy_s = total_busy_s;
    *passes = total_passes;
}

/* ---- jobs in and out ---- */

static int job_before(const pool_job *a, const pool_job *b) {
    if (a->job.req.priority != b->job.req.priority) return a->job.req.priority > b->job.req.priority;
    return a->job.id < b->job.id;
}

/* A begun job joins: its sampler settings; the end callback has it when that fails. */
static int add_job(pool *P, const adm_spool_job *job, const adm_spool_provenance *p, double t_claim) {
    const admd_pool_env *e = P->env;
    pool_job *j = adm_calloc(1, sizeof *j);
    if (!j) {
        e->end(e->user, job, ADMD_POOL_REQUEUE, adm_last_error(), 0, NULL);
        return -1;
    }
    j->job = *job;
    j->p = *p;
    j->t_claim = t_claim;
    j->next = job->images_done;
    j->last_progress = adm_now();
    const adm_spool_request *r = &job->req;
    adm_gen_request req = {
        .sampler = r->sampler, .respacing = r->respacing, .eta = r->eta, .scale = r->scale,
        .steps = r->steps, .skip = r->skip[0] ? r->skip : NULL,
        .thresholding = r->thresholding[0] ? r->thresholding : NULL, .seed = (uint64_t)r->seed,
    };
    j->gj = adm_gen_job_new(P->cm->model, &req);
    if (!j->gj || admd_heartbeat_add(e->hb, job->id) != 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", adm_last_error());
        adm_gen_job_free(j->gj);
        e->end(e->user, job, ADMD_POOL_FAILED, why, 0, &j->p);
        free(j);
        return -1;
    }
    j->passes_per_image = adm_gen_job_passes(j->gj);
    int at = P->njobs;
    while (at > 0 && job_before(j, P->jobs[at - 1])) at--;
    memmove(P->jobs + at + 1, P->jobs + at, sizeof *P->jobs * (size_t)(P->njobs - at));
    P->jobs[at] = j;
    P->njobs++;
    return 0;
}

/* Drop a job's images and the job: ended with how (its provenance filled in for done and failed). */
static void end_job(pool *P, pool_job *j, int how, const char *error) {
    const admd_pool_env *e = P->env;
    for (int i = 0; i < P->nslots; i++) {
        if (P->slots[i].j != j) continue;
        adm_gen_image_free(P->slots[i].im);
        P->slots[i] = P->slots[--P->nslots];
        i--;
    }
    admd_heartbeat_remove(e->hb, j->job.id);
    j->p.batch = j->p.batch_max;
    j->p.steps_s = j->device_s;
    j->p.encode_s = j->encode_s;
    j->p.total_s = adm_now() - j->t_claim;
    e->end(e->user, &j->job, how, error, j->recorded, &j->p);
    for (int i = 0; i < P->njobs; i++) {
        if (P->jobs[i] != j) continue;
        memmove(P->jobs + i, P->jobs + i + 1, sizeof *P->jobs * (size_t)(P->njobs - i - 1));
        P->njobs--;
        break;
    }
    adm_gen_job_free(j->gj);
    free(j);
}

/* Jobs the heartbeat found cancelled or taken over leave before the next pass. */
static void drop_lost(pool *P) {
    for (int i = 0; i < P->njobs; i++) {
        if (!admd_heartbeat_lost(P->env->hb, P->jobs[i]->job.id)) continue;
        end_job(P, P->jobs[i], ADMD_POOL_LOST, NULL);
        i--;
    }
}

/* ---- filling the slots ---- */

/* Start the job's next image in a free slot.  0, -1 (the job failed and is gone). */
static int start_image(pool *P, pool_job *j) {
    int klass = j->job.req.klass >= 0 ? j->job.req.klass : -1;
    adm_gen_image *im = adm_gen_image_new(j->gj, j->next, klass);
    if (!im) {
        char why[1200];
        snprintf(why, sizeof why, "image %d: %s", j->next, adm_last_error());
        end_job(P, j, ADMD_POOL_FAILED, why);
        return -1;
    }
    P->slots[P->nslots++] = (slot){im, j, 0};
    j->next++;
    j->in_flight++;
    return 0;
}

/* The pool's jobs first (queue order), then the queue's next jobs of this model. */
static void fill(pool *P) {
    const admd_pool_env *e = P->env;
    for (int i = 0; i < P->njobs && P->nslots < P->cap; i++) {
        pool_job *j = P->jobs[i];
        while (P->nslots < P->cap && j->next < j->job.req.count)
            if (start_image(P, j) != 0) { i--; break; }
    }
    while (!P->closed && P->nslots < P->cap && !*e->stop) {
        adm_spool_job job;
        adm_spool_model row;
        int rc = e->claim(e->user, P->cm->name, &job, &row);
        if (rc <= 0) { if (rc < 0) P->closed = 1; return; }
        double t_claim = adm_now();
        adm_spool_provenance p;
        rc = e->begin(e->user, &job, &row, P->cm, &p);
        if (rc == 1) P->closed = 1;
        if (rc != 0) continue;
        if (add_job(P, &job, &p, t_claim) != 0) continue;
        pool_job *j = NULL;
        for (int i = 0; i < P->njobs; i++) if (P->jobs[i]->job.id == job.id) j = P->jobs[i];
        while (j && P->nslots < P->cap && j->next < j->job.req.count)
            if (start_image(P, j) != 0) j = NULL;
    }
}

/* ---- the pass ---- */

/* One pass over the slots whose job is j (NULL: all).  0 / -1. */
static int pass_over(pool *P, const pool_job *j, adm_gen_image **ims) {
    int n = 0;
    for (int i = 0; i < P->nslots; i++) if (!j || P->slots[i].j == j) ims[n++] = P->slots[i].im;
    return adm_gen_pass(P->cm->model, ims, n);
}

/* Account a pass of n images over every slot, dt seconds: each image's
 * share, and each job's batch provenance. */
static void account(pool *P, int n, double dt) {
    for (int i = 0; i < P->njobs; i++) P->jobs[i]->in_pass = 0;
    for (int i = 0; i < P->nslots; i++) {
        slot *sl = &P->slots[i];
        sl->device_s += dt / n;
        sl->j->device_s += dt / n;
        sl->j->in_pass++;
    }
    for (int i = 0; i < P->njobs; i++) {
        pool_job *j = P->jobs[i];
        if (j->in_pass <= 0) continue;
        if (j->p.passes == 0 || n < j->p.batch_min) j->p.batch_min = n;
        if (n > j->p.batch_max) j->p.batch_max = n;
        j->p.passes++;
        if (j->in_pass < n) j->p.passes_shared++;
    }
    total_passes++;
    total_evals += n;
}

/* Every image in flight one network evaluation further.  A failed pass is
 * run again job by job (the images are unchanged by a failure); a job
 * whose own pass fails is failed, the others go on. */
static int run_pass(pool *P) {
    adm_gen_image **ims = adm_malloc(sizeof *ims * (size_t)(P->nslots ? P->nslots : 1));
    if (!ims) return -1;
    int n = P->nslots;
    double t0 = adm_now();
    if (pass_over(P, NULL, ims) == 0) {
        account(P, n, adm_now() - t0);
        free(ims);
        return 0;
    }
    adm_log(ADM_LOG_WARNING, "pool: a pass of %d images failed (%s); running it job by job", n, adm_last_error());
    for (int i = 0; i < P->njobs; i++) {
        pool_job *j = P->jobs[i];
        if (j->in_flight == 0) continue;
        double t1 = adm_now();
        if (pass_over(P, j, ims) != 0) {
            char why[1200];
            snprintf(why, sizeof why, "device pass: %s", adm_last_error());
            end_job(P, j, ADMD_POOL_FAILED, why);
            i--;
            continue;
        }
        double dt = adm_now() - t1;
        for (int k = 0; k < P->nslots; k++)
            if (P->slots[k].j == j) { P->slots[k].device_s += dt / j->in_flight; j->device_s += dt / j->in_flight; }
        if (j->p.passes == 0 || j->in_flight < j->p.batch_min) j->p.batch_min = j->in_flight;
        if (j->in_flight > j->p.batch_max) j->p.batch_max = j->in_flight;
        j->p.passes++;
        total_passes++;
        total_evals += j->in_flight;
    }
    free(ims);
    return 0;
}

/* ---- after the pass ---- */

static int slot_order(const void *a, const void *b) {
    const slot *x = a, *y = b;
    if (x->j != y->j) return job_before(x->j, y->j) ? -1 : 1;
    int ix = adm_gen_image_index(x->im), iy = adm_gen_image_index(y->im);
    return (ix > iy) - (ix < iy);
}

/* Write and record the finished images, by job and index (the spool takes
 * a job's images in index order). */
static void record_finished(pool *P) {
    const admd_pool_env *e = P->env;
    const adm_model_info *info = &P->cm->info;
    for (;;) {
        qsort(P->slots, (size_t)P->nslots, sizeof *P->slots, slot_order);
        int i = 0;
        while (i < P->nslots && !adm_gen_image_finished(P->slots[i].im)) i++;
        if (i == P->nslots) return;
        slot sl = P->slots[i];
        pool_job *j = sl.j;
        int index = adm_gen_image_index(sl.im), klass = adm_gen_image_class(sl.im), transient = 0;
        adm_gen_image_pixels(sl.im, P->px);
        double t0 = adm_now();
        int rc = admd_record_image(e->spool, e->root, &j->job, &j->p, index, klass, P->px, info->image_size,
                                   info->image_size, info->channels, sl.device_s, e->stop, &transient);
        j->encode_s += adm_now() - t0;
        if (rc != 0) {
            char why[1200];
            snprintf(why, sizeof why, "image %d: %s", index, adm_last_error());
            end_job(P, j, rc == 1 ? ADMD_POOL_LOST : transient || *e->stop ? ADMD_POOL_PAUSE : ADMD_POOL_FAILED, why);
            continue;
        }
        adm_gen_image_free(sl.im);
        P->slots[i] = P->slots[--P->nslots];
        j->in_flight--;
        j->recorded++;
        total_images++;
        if (j->job.images_done + j->recorded == j->job.req.count) end_job(P, j, ADMD_POOL_DONE, NULL);
    }
}

/* Progress of each job (bounded rate): step = its images' mean evaluations
 * done, pass_images = its images in flight; a job no longer ours leaves. */
static void write_progress(pool *P) {
    const admd_pool_env *e = P->env;
    double now = adm_now();
    for (int i = 0; i < P->njobs; i++) {
        pool_job *j = P->jobs[i];
        if (now - j->last_progress < e->progress_s) continue;
        long sum = 0;
        for (int k = 0; k < P->nslots; k++)
            if (P->slots[k].j == j) sum += adm_gen_image_passes_done(P->slots[k].im);
        int step = j->in_flight ? (int)(sum / j->in_flight) : 0;
        int rc = adm_spool_heartbeat_pass(e->spool, j->job.id, step, j->passes_per_image, j->in_flight);
        if (rc == 1) { end_job(P, j, ADMD_POOL_LOST, NULL); i--; continue; }
        if (rc < 0) adm_log(ADM_LOG_WARNING, "job %lld: progress not written: %s", (long long)j->job.id, adm_last_error());
        else j->last_progress = now;
    }
}

static void write_rate(pool *P, double *last, int force) {
    if (!force && adm_now() - *last < 1.0) return;
    *last = adm_now();
    if (adm_spool_worker_rate(P->env->spool, total_images, total_busy_s, total_passes, P->env->batch) != 0)
        adm_log(ADM_LOG_WARNING, "worker rate not written: %s", adm_last_error());
}

void admd_pool_run(const admd_pool_env *env, adm_cached_model *cm, const adm_spool_job *first,
                   const adm_spool_provenance *p, double t_claim) {
    pool P = {.env = env, .cm = cm};
    P.cap = adm_generate_pass_size(env->batch, cm->info.image_size, 4096);   /* the batch rule, one place */
    P.jobs = adm_calloc((size_t)P.cap + 1, sizeof *P.jobs);
    P.slots = adm_calloc((size_t)P.cap, sizeof *P.slots);
    P.px = adm_malloc((size_t)cm->info.image_size * cm->info.image_size * cm->info.channels);
    if (!P.jobs || !P.slots || !P.px) {
        env->end(env->user, first, ADMD_POOL_REQUEUE, adm_last_error(), 0, NULL);
        goto out;
    }
    int64_t images0 = total_images, passes0 = total_passes, evals0 = total_evals;
    int jobs_seen = 1;
    double t_start = adm_now(), last_rate = 0;
    if (add_job(&P, first, p, t_claim) != 0) goto out;
    while (P.njobs > 0) {
        adm_notify_watchdog();
        if (*env->stop) {
            while (P.njobs > 0) end_job(&P, P.jobs[0], ADMD_POOL_REQUEUE, "stopped by signal");
            break;
        }
        drop_lost(&P);
        int before = P.njobs;
        fill(&P);
        if (P.njobs > before) jobs_seen += P.njobs - before;
        for (int i = 0; i < P.njobs; i++)   /* every image recorded already (a retry after the last one) */
            if (P.jobs[i]->job.images_done + P.jobs[i]->recorded >= P.jobs[i]->job.req.count) end_job(&P, P.jobs[i--], ADMD_POOL_DONE, NULL);
        if (P.nslots == 0) {            /* nothing in flight: the pool has drained */
            while (P.njobs > 0) end_job(&P, P.jobs[0], ADMD_POOL_REQUEUE, "pool: no image of it could start");
            break;
        }
        double t0 = adm_now();
        if (run_pass(&P) != 0) {        /* out of memory for the pass's list */
            while (P.njobs > 0) end_job(&P, P.jobs[0], ADMD_POOL_REQUEUE, adm_last_error());
            break;
        }
        record_finished(&P);
        total_busy_s += adm_now() - t0;
        write_rate(&P, &last_rate, 0);    /* before the progress: a job with progress has its pool's rate */
        write_progress(&P);
        if (env->tick) env->tick(env->user);
        adm_notify_progress("pool: %d image%s of %d job%s in flight (%lld images, %lld passes)", P.nslots,
                            P.nslots == 1 ? "" : "s", P.njobs, P.njobs == 1 ? "" : "s",
                            (long long)(total_images - images0), (long long)(total_passes - passes0));
    }
    write_rate(&P, &last_rate, 1);
    double dt = adm_now() - t_start;
    int64_t imgs = total_images - images0, passes = total_passes - passes0, evals = total_evals - evals0;
    adm_log(ADM_LOG_INFO, "pool: %d job%s, %lld image%s in %lld passes (%.1f images each) in %.2f s: %.2f images/s",
            jobs_seen, jobs_seen == 1 ? "" : "s", (long long)imgs, imgs == 1 ? "" : "s", (long long)passes,
            passes ? (double)evals / passes : 0.0, dt, dt > 0 ? imgs / dt : 0);
out:
    free(P.jobs);
    free(P.slots);
    free(P.px);
}
