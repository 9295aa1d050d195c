/* admd.c — the daemon: watch a spool (SQLite file) for jobs, run each one
 * through the model on an OpenCL device, write its PNGs and record them.
 *
 *   admd --db PATH [--device D] [--drain] [--output-root DIR] [options]
 *
 * The loop, top to bottom:
 *   start    open + migrate the spool; remove orphaned temp files; requeue
 *            the jobs of dead workers of this host; open the device (kernel
 *            compilation, with EXTEND_TIMEOUT_USEC pings); READY=1
 *   wait     inotify on the database's folder is the hint, PRAGMA
 *            data_version confirms another connection committed, and a slow
 *            poll (--poll seconds) catches anything missed; expired leases
 *            of other workers are reaped on the way
 *   claim    one job (priority, then age) with a lease
 *   run      the model from the cache (LRU, bounded by device memory); per
 *            step: watchdog ping, lease + progress at a bounded rate, stop on
 *            SIGTERM or cancellation; per image: PNG (temp, fsync, rename)
 *            recorded with its sha256 in the transaction that advances the job
 *   end      done + provenance | failed + error | requeued (SIGTERM)
 *   pool     with --batch N, a one-stage job of a non-super-resolution
 *            model starts a pool instead (lib_pool.c): up to N images of
 *            the queue's jobs of that model share every device pass, more
 *            jobs claimed as slots free up, leases renewed by a thread
 *            (lib_heartbeat.c); it returns here when it has drained
 *
 * SIGTERM/SIGINT: stop at the next step boundary (pass, in a pool), put the
 *            job (every job of the pool) back, exit 0.
 * SIGHUP: drop the model cache (models reload on next use).
 * --drain: run until the queue is empty, then exit 0.
 * --nats URL: also a box of a fleet (fleet/fleet_box.c: a thread that pulls
 *            jobs into this spool and publishes results; started before
 *            the loop, stopped after it, nothing in between).
 */
#include "fleet.h"
#include "generate.h"
#include "job_files.h"
#include "lib_heartbeat.h"
#include "lib_modelcache.h"
#include "lib_notify.h"
#include "lib_output.h"
#include "lib_pool.h"
#include "lib_stages.h"
#include "ops.h"
#include "png_file.h"
#include "spool.h"
#include "util.h"
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *db_path, *device, *output_root;
    int drain, verbose;
    double lease_s;          /* a claim lasts this long without a heartbeat */
    double poll_s;           /* fallback poll when idle */
    double progress_s;       /* at most one progress write per this many seconds */
    size_t cache_bytes;      /* model cache budget (0: 3/4 of device memory) */
    int batch;               /* images per device pass (0: the model's choice) */
    double pass_s;           /* a device pass lasts about this long at most (once measured) */
    double heartbeat_s;      /* --batch: the lease renewal period (0: lease / 3) */
    adm_fleet_options fleet; /* --nats URL ...: a box of a fleet (url NULL: alone) */
} admd_options;

/* ---- signals: flags + a self-pipe that wakes poll() ---- */

static volatile sig_atomic_t got_term, got_hup;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig) {
    int saved = errno;
    if (sig == SIGHUP) got_hup = 1; else got_term = 1;
    if (wake_pipe[1] >= 0) { ssize_t r = write(wake_pipe[1], "x", 1); (void)r; }
    errno = saved;
}

static int install_signals(void) {
    if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return adm_error("pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;        /* file I/O is not cut short (EINTR); poll() still wakes */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ---- small helpers ---- */

/* Seconds since the epoch of a spool timestamp ("YYYY-MM-DD HH:MM:SS.SSS", UTC). */
static double parse_ts(const char *ts) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(ts, "%Y-%m-%d %H:%M:%S", &tm);
    if (!rest) return NAN;
    double frac = *rest == '.' ? atof(rest) : 0;
    return (double)timegm(&tm) + frac;
}

static uint64_t random_seed(void) {
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) v = (uint64_t)time(NULL) * 6364136223846793005ULL ^ (uint64_t)getpid();
    return v;
}

/* ---- one job ---- */

typedef struct {
    adm_spool *spool;
    const admd_options *opt;
    const char *root;
    const adm_spool_job *job;
    const adm_cached_model *cm;
    const adm_spool_provenance *prov;
    double last_beat;        /* last lease/progress write */
    double last_image;       /* when the previous image (or the pass) ended */
    double encode_s;         /* PNG encode + write + record */
    int batch;               /* images per device pass (adm_generate_pass_size) */
    int end_index;           /* one past the last image index of this attempt */
    int pass_left;           /* images of the current pass not yet delivered */
    double pass_share;       /* the current pass's device time / its images */
    int lost;                /* the job is no longer ours (cancelled, reaped) */
    int transient;           /* the failure will pass (full disk, EINTR): requeue, pause claiming */
    int images;              /* images recorded this attempt */
    char error[1024];
} run_ctx;

/* After every denoising step: watchdog, lease + progress (bounded rate),
 * stop on SIGTERM or when the job was cancelled / taken away. */
static int on_step(void *user, int step, int total, int images_done, int images_total) {
    run_ctx *c = user;
    adm_notify_watchdog();
    if (got_term) return 1;
    double now = adm_now();
    double every = c->opt->progress_s < c->opt->lease_s / 3 ? c->opt->progress_s : c->opt->lease_s / 3;
    if (now - c->last_beat >= every || step == total) {
        int rc = adm_spool_heartbeat_pass(c->spool, c->job->id, step, total, c->batch);
        if (rc == 1) { c->lost = 1; return 1; }
        if (rc < 0) adm_log(ADM_LOG_WARNING, "job %lld: progress not written: %s", (long long)c->job->id, adm_last_error());
        else c->last_beat = now;
    }
    adm_notify_progress("job %lld: step %d/%d, images %d/%d", (long long)c->job->id, step, total,
                        c->job->images_done + c->images, c->job->req.count);
    return 0;
}

/* Each chunk of a model file read: proof of progress for the watchdog. */
static void on_read(void *ctx, const char *path, size_t got, size_t size) {
    (void)ctx;
    static double last;                /* its own pace: the steps' STATUS keeps its own */
    adm_notify_watchdog();
    if (adm_now() - last < 1.0 && got < size) return;
    last = adm_now();
    const char *base = strrchr(path, '/');
    adm_notify_status("loading %s: %zu/%zu MB", base ? base + 1 : path, got >> 20, size >> 20);
}

/* One finished image (lib_output.c: PNG, then its outputs row and the
 * job's advance in one transaction).  A device pass delivers its images
 * one after another once its last step is done; the pass's time (since
 * the previous pass's last image was recorded) is split evenly over its
 * images, so outputs.seconds = pass time / images of the pass + this
 * image's own PNG encode and write. */
static int on_image(void *user, int index, int klass, const uint8_t *pixels, int h, int w, int ch) {
    run_ctx *c = user;
    double t0 = adm_now();
    if (c->pass_left <= 0) {   /* the first image of a pass */
        int left = c->end_index - index;
        c->pass_left = left < c->batch ? left : c->batch;
        if (c->pass_left < 1) c->pass_left = 1;
        c->pass_share = (t0 - c->last_image) / c->pass_left;
    }
    c->pass_left--;
    int rc = admd_record_image(c->spool, c->root, c->job, c->prov, index, klass, pixels, h, w, ch, c->pass_share,
                               &got_term, &c->transient);
    if (rc == 1) { c->lost = 1; return 1; }
    if (rc != 0) {
        snprintf(c->error, sizeof c->error, "image %d: %s", index, adm_last_error());
        adm_error("%s", c->error);
        return -1;
    }
    c->images++;
    c->last_image = adm_now();
    c->encode_s += c->last_image - t0;
    return 0;
}

/* Images in the next device pass: at most batch and left, and no more than
 * fit in about pass_s seconds at per_image seconds per image (the job's
 * previous pass; one image while unmeasured).  A crash then loses at most
 * one such pass. */
static int pass_size(int batch, int left, double per_image, double pass_s) {
    int n = batch < left ? batch : left;
    double fit = per_image > 0 ? pass_s / per_image : 1;
    if (fit < n) n = fit < 1 ? 1 : (int)fit;
    return n;
}

/* End a job as failed (unless it is no longer ours), with a log line. */
static void fail_job(adm_spool *s, const adm_spool_job *job, const char *error, const adm_spool_provenance *p) {
    adm_log_job(ADM_LOG_ERR, ADM_MSG_JOB_FAILED, job->id, job->req.model, "job %lld: failed: %s", (long long)job->id, error);
    int rc = adm_spool_fail(s, job->id, error, p);
    if (rc < 0) adm_log(ADM_LOG_ERR, "job %lld: cannot record the failure: %s", (long long)job->id, adm_last_error());
}

/* Put the job back in the queue; the attempt is not counted (a signal, a
 * full disk).  images: recorded by this attempt. */
static void requeue_job(adm_spool *s, const adm_spool_job *job, int images, const char *why) {
    int n = job->images_done + images;
    if (adm_spool_release(s, job->id) == 0)
        adm_log_job(ADM_LOG_INFO, ADM_MSG_JOB_REQUEUED, job->id, job->req.model,
                    "job %lld: %s, back in the queue (%d image%s recorded)", (long long)job->id, why, n, n == 1 ? "" : "s");
    else
        adm_log(ADM_LOG_WARNING, "job %lld: cannot requeue: %s", (long long)job->id, adm_last_error());
}

/* ---- pausing: a full disk stops claiming for a while ---- */

static double pause_until;      /* adm_now() before which no job is claimed */
static double pause_s;          /* the current backoff: 2 s doubling to 60 s, 0 after a job got through */
static char pause_reason[1024];

/* A job that failed for a passing reason (ENOSPC, EDQUOT, EINTR, a signal)
 * goes back in the queue without spending its attempt, and claiming
 * pauses (ENOSPC would fail every queued job in seconds otherwise); the
 * spool's pauses table, the log and sd_notify STATUS say why. */
static void pause_claims(adm_spool *s, const adm_spool_job *job, int images, const char *why) {
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", why);
    if (got_term) { requeue_job(s, job, images, "stopped by signal"); return; }
    requeue_job(s, job, images, "cannot write its images now");
    pause_s = pause_s < 2 ? 2 : pause_s * 2 > 60 ? 60 : pause_s * 2;
    pause_until = adm_now() + pause_s;
    snprintf(pause_reason, sizeof pause_reason, "job %lld: %.900s", (long long)job->id, reason);
    adm_log(ADM_LOG_WARNING, "claiming paused for %.0f s: %s", pause_s, pause_reason);
    adm_notify_status("paused (retry in %.0f s): %s", pause_s, pause_reason);
    if (adm_spool_pause(s, pause_reason, pause_s) != 0)
        adm_log(ADM_LOG_WARNING, "cannot record the pause: %s", adm_last_error());
}

/* The pause is over: claim again (the row goes; the next failure pauses anew). */
static void resume_claims(adm_spool *s) {
    pause_until = 0;
    adm_log(ADM_LOG_INFO, "claiming resumed (was: %s)", pause_reason);
    adm_notify_status("idle");
    if (adm_spool_pause(s, NULL, 0) != 0) adm_log(ADM_LOG_WARNING, "cannot clear the pause: %s", adm_last_error());
}

/* The model's class names for the images' adm:class-name chunks (NULL:
 * none).  Each distinct list is kept for the daemon's life, so a pointer
 * in a provenance (a pooled job's copy too) never dangles; lists change
 * rarely, so they take little memory. */
static const char *job_labels(adm_spool *s, const char *model) {
    static struct kept { struct kept *next; char *text; } *kept;
    char *text = NULL;
    if (adm_spool_model_labels(s, model, &text) != 0) {
        adm_log(ADM_LOG_WARNING, "model %s: %s (its images get no class-name chunk)", model, adm_last_error());
        return NULL;
    }
    if (!text) return NULL;
    for (struct kept *k = kept; k; k = k->next)
        if (!strcmp(k->text, text)) { free(text); return k->text; }
    struct kept *k = malloc(sizeof *k);
    if (!k) { free(text); return NULL; }
    k->text = text;
    k->next = kept;
    kept = k;
    return text;
}

/* A claimed job, up to its sampling: provenance, the model (from the
 * cache, or the pool's model pool_cm), the checks the schema could not
 * make, the output folder.  0 ready (*cmp, *pp); -1 the job was ended
 * here (failed, requeued or paused); 1 (pool_cm only) its model row no
 * longer matches the pool's model: requeued. */
static int begin_job(adm_spool *s, adm_model_cache *cache, const adm_cl *cl, const char *root,
                     const adm_spool_job *job, const adm_spool_model *row, adm_cached_model *pool_cm,
                     adm_cached_model **cmp, adm_spool_provenance *pp) {
    const adm_spool_request *r = &job->req;
    adm_spool_provenance p;
    memset(&p, 0, sizeof p);
    adm_job_device_provenance(cl, &p);
    p.job_id = job->id;
    snprintf(p.worker, sizeof p.worker, "%s", adm_spool_worker(s));
    p.attempt = job->attempts;
    snprintf(p.model, sizeof p.model, "%s", row->name);
    snprintf(p.sampler, sizeof p.sampler, "%s", r->sampler);
    snprintf(p.respacing, sizeof p.respacing, "%s", r->respacing);
    p.eta = r->eta;
    p.steps = r->steps;
    snprintf(p.skip, sizeof p.skip, "%s", r->skip);
    snprintf(p.thresholding, sizeof p.thresholding, "%s", r->thresholding);
    p.scale = r->scale;
    p.seed = r->seed;
    p.klass = r->klass;
    p.count = r->count;
    p.labels = job_labels(s, row->name);
    snprintf(p.noise_algorithm, sizeof p.noise_algorithm, "%s", ADM_NOISE_ALGORITHM);
    double wait = parse_ts(job->started_at) - parse_ts(job->created_at);
    p.queue_wait_s = isfinite(wait) && wait > 0 ? wait : 0;

    char how[ADM_SPOOL_SPEC + 128];
    adm_spool_sampling_text(r->sampler, r->respacing, r->eta, r->steps, r->skip, r->thresholding, how, sizeof how);
    adm_log_job(ADM_LOG_INFO, ADM_MSG_JOB_STARTED, job->id, row->name, "job %lld: started (model %s, %d image%s from %d, class %d, %s, scale %g, seed %lld, attempt %d/%d%s)",
            (long long)job->id, row->name, r->count, r->count == 1 ? "" : "s", job->images_done, r->klass,
            how, r->scale, (long long)r->seed, job->attempts, r->max_attempts, pool_cm ? ", pooled" : "");

    /* The model, from the cache or loaded now; a pooled job uses the
     * pool's (the same row, unless it was replaced meanwhile). */
    double load_s = 0;
    adm_cached_model *cm = pool_cm;
    if (pool_cm && ((row->unet_sha256[0] && strcmp(row->unet_sha256, pool_cm->unet_sha256)) ||
                    (row->classifier_sha256[0] && strcmp(row->classifier_sha256, pool_cm->classifier_sha256)))) {
        requeue_job(s, job, 0, "its model changed since the pool loaded it");
        return 1;
    }
    if (!cm) {
        /* Watchdog pings come from the read's progress (on_read), not from a
         * timer: a load that hangs stops them and WatchdogSec catches it. */
        adm_notify_status("job %lld: loading model %s", (long long)job->id, row->name);
        cm = adm_model_cache_get(cache, s, row, &load_s);
        if (!cm && got_term) { requeue_job(s, job, 0, "stopped by signal"); return -1; }   /* a load cut short */
        if (!cm) { fail_job(s, job, adm_last_error(), &p); return -1; }
    }
    p.model_load_s = load_s;
    snprintf(p.unet_path, sizeof p.unet_path, "%s", cm->unet_path);
    snprintf(p.unet_config, sizeof p.unet_config, "%.*s", (int)sizeof p.unet_config - 1, cm->unet_config);
    snprintf(p.unet_sha256, sizeof p.unet_sha256, "%s", cm->unet_sha256);
    snprintf(p.classifier_path, sizeof p.classifier_path, "%s", cm->classifier_path);
    snprintf(p.classifier_config, sizeof p.classifier_config, "%.*s", (int)sizeof p.classifier_config - 1,
             cm->classifier_config);
    snprintf(p.classifier_sha256, sizeof p.classifier_sha256, "%s", cm->classifier_sha256);
    p.image_size = cm->info.image_size;
    p.channels = cm->info.channels;
    /* Hashes only where none was registered (a registered one was checked). */
    if (load_s > 0 && adm_spool_model_set_info(s, row->name, row->unet_sha256[0] ? NULL : cm->unet_sha256,
                                               row->classifier_sha256[0] ? NULL : cm->classifier_sha256,
                                               cm->info.image_size, cm->info.channels, cm->info.num_classes) != 0)
        adm_log(ADM_LOG_WARNING, "model %s: %s", row->name, adm_last_error());

    /* What the schema could not check before the model was known. */
    char msg[512];
    if (r->klass >= 0 && r->klass >= cm->info.num_classes) {
        snprintf(msg, sizeof msg, "jobs.class %d is outside the model's classes (it has %d)", r->klass, cm->info.num_classes);
        fail_job(s, job, msg, &p);
        return -1;
    }
    if (r->scale > 0 && !cm->info.has_classifier) {
        fail_job(s, job, "jobs.scale > 0 needs a model with a classifier", &p);
        return -1;
    }
    char dir[ADM_SPOOL_PATH];
    if (adm_job_output_dir(root, job, dir, sizeof dir) != 0 || adm_job_make_dir(root, dir) != 0) {
        if (admd_transient_errno(errno)) { pause_claims(s, job, 0, adm_last_error()); return -1; }
        fail_job(s, job, adm_last_error(), &p);
        return -1;
    }
    *cmp = cm;
    *pp = p;
    return 0;
}

/* The one-job path: a begun job's images in device passes of its own
 * (two-stage and super-resolution jobs, and every job without --batch). */
static void run_job(adm_spool *s, adm_model_cache *cache, const adm_cl *cl, const admd_options *opt,
                    const char *root, const adm_spool_job *job, adm_cached_model *cm, adm_spool_provenance p,
                    double t_claim) {
    const adm_spool_request *r = &job->req;

    /* Two-stage jobs (stage 1 runs now, then cm is the upsampler) and
     * given images: the final images' low-resolution inputs (lib_stages.c). */
    admd_stage_job sj = {.batch = opt->batch};
    run_ctx c1 = {.spool = s, .opt = opt, .root = root, .job = job, .cm = cm, .prov = &p};
    c1.last_beat = adm_now();
    int src = admd_stages_begin(&sj, s, cache, root, job, &cm, &p, on_step, &c1);
    if (src != 0) {
        admd_stages_free(&sj);
        if (c1.lost) adm_log(ADM_LOG_INFO, "job %lld: stopped: cancelled or taken over", (long long)job->id);
        else if (src == 1 || got_term) requeue_job(s, job, 0, "stopped by signal");
        else if (sj.transient) pause_claims(s, job, 0, sj.error);
        else fail_job(s, job, sj.error, &p);
        return;
    }

    /* The images not recorded yet (a retry resumes where the last attempt stopped). */
    int first = job->images_done, n = r->count - job->images_done;
    int *classes = NULL;
    if (n > 0 && r->klass >= 0) {
        classes = adm_malloc(sizeof *classes * (size_t)n);
        if (!classes) { admd_stages_free(&sj); fail_job(s, job, adm_last_error(), &p); return; }
        for (int i = 0; i < n; i++) classes[i] = r->klass;
    }
    /* Device passes of at most the batch (admd --batch or the model's
     * choice) and, once the job's rate is measured, about --pass-seconds
     * long; each pass's images are recorded as it ends.  Provenance records
     * the largest pass (images never depend on their pass). */
    int max_batch = adm_generate_pass_size(opt->batch, cm->info.image_size, n);
    run_ctx c = {.spool = s, .opt = opt, .root = root, .job = job, .cm = cm, .prov = &p, .end_index = first + n};
    double t_gen = adm_now(), per_image = 0;
    c.last_beat = c.last_image = t_gen;
    int rc = 0;
    p.batch = 0;
    for (int done = 0; rc == 0 && done < n; ) {
        int pass = pass_size(max_batch, n - done, per_image, opt->pass_s);
        adm_gen_request req = {
            .sampler = r->sampler, .respacing = r->respacing, .eta = r->eta, .scale = r->scale,
            .steps = r->steps, .skip = r->skip[0] ? r->skip : NULL,
            .thresholding = r->thresholding[0] ? r->thresholding : NULL,
            .seed = (uint64_t)r->seed, .first_index = first + done, .count = pass,
            .classes = classes ? classes + done : NULL, .batch = pass,
        };
        admd_stages_request(&sj, &req);
        c.batch = pass;
        double t_pass = adm_now();
        rc = adm_generate(cm->model, &req, on_step, on_image, &c);
        per_image = (adm_now() - t_pass) / pass;
        if (pass > p.batch) p.batch = pass;
        done += pass;
    }
    free(classes);
    double t_end = adm_now();
    p.steps_s = t_end - t_gen - c.encode_s;
    admd_stages_end(&sj, &p);
    admd_stages_free(&sj);
    p.encode_s = c.encode_s;
    p.total_s = t_end - t_claim;
    adm_ops_engine_summary(cl, p.engine, sizeof p.engine);

    if (c.lost) {
        adm_log(ADM_LOG_INFO, "job %lld: stopped: cancelled or taken over (%d image%s recorded)",
                (long long)job->id, c.images, c.images == 1 ? "" : "s");
    } else if (rc == 0) {
        pause_s = 0;                 /* a job got through: the next pause starts short again */
        if (adm_spool_finish(s, job->id, &p) == 0)
            adm_log_job(ADM_LOG_INFO, ADM_MSG_JOB_DONE, job->id, r->model, "job %lld: done, %d image%s in %.2f s (load %.2f s, steps %.2f s, encode %.2f s)",
                    (long long)job->id, r->count, r->count == 1 ? "" : "s", p.total_s, p.model_load_s, p.steps_s,
                    p.encode_s);
        else
            adm_log(ADM_LOG_ERR, "job %lld: cannot mark done: %s", (long long)job->id, adm_last_error());
    } else if (rc == 1) {
        requeue_job(s, job, c.images, "stopped by signal");
    } else if (c.transient || got_term) {
        pause_claims(s, job, c.images, c.error[0] ? c.error : adm_last_error());
    } else {
        fail_job(s, job, c.error[0] ? c.error : adm_last_error(), &p);
    }
}

/* ---- the pool (lib_pool.c): admd --batch N ---- */

typedef struct {
    adm_spool *s;
    adm_model_cache *cache;
    const adm_cl *cl;
    const char *root;
    double last_reap, reap_every;
} pool_ctx;

static void reap(adm_spool *s);

/* Other workers' expired leases are reaped while a pool runs too. */
static void pool_tick(void *user) {
    pool_ctx *c = user;
    if (adm_now() - c->last_reap < c->reap_every) return;
    reap(c->s);
    c->last_reap = adm_now();
}

/* One-stage jobs on models that are not super-resolutions share passes. */
static int poolable(adm_spool *s, const adm_spool_job *job, const adm_cached_model *cm) {
    adm_spool_stages st;
    if (cm->info.superres) return 0;
    if (adm_spool_stages_get(s, job->id, &st) != 0) {
        adm_log(ADM_LOG_WARNING, "job %lld: %s (runs on its own)", (long long)job->id, adm_last_error());
        return 0;
    }
    return !st.upsampler[0] && !st.input_path[0];
}

static int pool_claim(void *user, const char *model, adm_spool_job *job, adm_spool_model *row) {
    pool_ctx *c = user;
    if (got_term || (pause_until > 0 && adm_now() < pause_until)) return 0;
    int rc = adm_spool_claim_model(c->s, random_seed(), model, job, row);
    if (rc < 0) adm_log(ADM_LOG_WARNING, "claim: %s", adm_last_error());
    return rc;
}

static int pool_begin(void *user, const adm_spool_job *job, const adm_spool_model *row, adm_cached_model *cm,
                      adm_spool_provenance *p) {
    pool_ctx *c = user;
    adm_cached_model *same;
    return begin_job(c->s, c->cache, c->cl, c->root, job, row, cm, &same, p);
}

static void pool_end(void *user, const adm_spool_job *job, int how, const char *error, int images,
                     adm_spool_provenance *p) {
    pool_ctx *c = user;
    const adm_spool_request *r = &job->req;
    if (p) adm_ops_engine_summary(c->cl, p->engine, sizeof p->engine);
    switch (how) {
    case ADMD_POOL_DONE:
        pause_s = 0;                 /* a job got through: the next pause starts short again */
        if (adm_spool_finish(c->s, job->id, p) == 0)
            adm_log_job(ADM_LOG_INFO, ADM_MSG_JOB_DONE, job->id, r->model, "job %lld: done, %d image%s in %.2f s "
                        "(load %.2f s, steps %.2f s, encode %.2f s; %d passes, %d shared, batch %d-%d)",
                        (long long)job->id, r->count, r->count == 1 ? "" : "s", p->total_s, p->model_load_s,
                        p->steps_s, p->encode_s, p->passes, p->passes_shared, p->batch_min, p->batch_max);
        else
            adm_log(ADM_LOG_ERR, "job %lld: cannot mark done: %s", (long long)job->id, adm_last_error());
        break;
    case ADMD_POOL_FAILED: fail_job(c->s, job, error, p); break;
    case ADMD_POOL_REQUEUE: requeue_job(c->s, job, images, error); break;
    case ADMD_POOL_PAUSE: pause_claims(c->s, job, images, error); break;
    default:
        adm_log(ADM_LOG_INFO, "job %lld: stopped: cancelled or taken over (%d image%s recorded)", (long long)job->id,
                images, images == 1 ? "" : "s");
    }
}

/* ---- waiting for work ---- */

typedef struct {
    adm_spool *spool;
    int inotify_fd;
    int64_t data_version;
} watcher;

/* Drain whatever the fd holds. */
static void drain_fd(int fd) {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {}
}

/* Sleep until another connection may have committed (inotify hint + data
 * version), a signal arrives, or timeout_s passes. */
static void wait_for_work(watcher *w, double timeout_s) {
    double until = adm_now() + timeout_s;
    for (;;) {
        double left = until - adm_now();
        if (left <= 0 || got_term || got_hup) return;
        struct pollfd fds[2] = {{wake_pipe[0], POLLIN, 0}, {w->inotify_fd, POLLIN, 0}};
        int nfds = w->inotify_fd >= 0 ? 2 : 1;
        int rc = poll(fds, (nfds_t)nfds, (int)(left * 1000) + 1);
        if (rc < 0 && errno != EINTR) return;
        if (fds[0].revents) drain_fd(wake_pipe[0]);
        if (nfds == 2 && fds[1].revents) {
            drain_fd(w->inotify_fd);
            int64_t v;
            if (adm_spool_data_version(w->spool, &v) != 0) return;
            if (v != w->data_version) { w->data_version = v; return; }
        }
        adm_notify_watchdog();
    }
}

/* ---- start-up and the loop ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: admd [--db PATH] [options]   (options take --opt VALUE or --opt=VALUE; -- ends them)\n"
            "  -d, --db PATH        the spool (SQLite file; created and migrated if needed; default $ADMD_DB)\n"
            "  -D, --device D       OpenCL device: \"P:D\", a device number N or a name substring (default: first GPU, else first device)\n"
            "  --drain              run every queued job, then exit\n"
            "  --output-root DIR    where PNGs go (default: <db folder>/outputs)\n"
            "  --lease S            seconds a claim lasts without a heartbeat (default 300; heartbeats\n"
            "                       come between steps, so keep it above one step of the slowest model)\n"
            "  --poll S             fallback poll period when idle (default 10; inotify wakes us sooner)\n"
            "  --progress-interval S  at most one progress write per S seconds (default 0.5)\n"
            "  --cache-mb N         device memory for cached models (default: 3/4 of the device's)\n"
            "  --batch N            a pool of N images in flight: the one-stage jobs of one model share\n"
            "                       device passes, each image bit-identical to running alone\n"
            "                       (default 0: one job at a time, passes of the model's choice)\n"
            "  --heartbeat S        with --batch: renew the pool's leases every S seconds, whatever\n"
            "                       the device is doing (default: --lease / 3)\n"
            "  --pass-seconds S     without --batch: at most about S seconds of work per device pass,\n"
            "                       measured on the job's first pass of one image (default 30): a crash\n"
            "                       loses one pass\n"
            "  --input-root DIR     a folder whose PNGs jobs.input_path may name (repeatable; default none)\n"
            "  --nats URL           also take jobs from a fleet's NATS JetStream queue and publish\n"
            "                       results there (nats://host:4222, tls://host:4222 for TLS)\n"
            "  --nats-creds FILE    NATS credentials file (user JWT + nkey seed; not readable by others)\n"
            "  --nats-ca FILE       CA certificates for a tls:// server (default: the system's)\n"
            "  --nats-ack-wait S    the queue's ack deadline when this box creates it (default 60)\n"
            "  -v, --verbose        debug log lines\n"
            "  -V, --version        print the version\n"
            "  -h, --help           this help\n"
            "environment: ADMD_DB (the spool when --db is not given), ADMD_CACHE_DIR (compiled kernels;\n"
            "  else $CACHE_DIRECTORY, $XDG_CACHE_HOME/admd, ~/.cache/admd), JOURNAL_STREAM (set by systemd)\n");
}

/* A whole-string number for option name (junk like "5s" is refused). */
static int number(const char *name, const char *v, double *out) {
    char *end;
    *out = strtod(v, &end);
    if (end == v || *end || !isfinite(*out)) {
        fprintf(stderr, "admd: %s needs a number, not '%s'\n", name, v);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, admd_options *o) {
    enum { O_DRAIN = 256, O_OUTPUT_ROOT, O_INPUT_ROOT, O_LEASE, O_POLL, O_PROGRESS, O_CACHE_MB, O_BATCH, O_PASS, O_HEARTBEAT,
           O_NATS, O_NATS_CREDS, O_NATS_CA, O_NATS_ACK_WAIT };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},           {"device", required_argument, NULL, 'D'},
        {"drain", no_argument, NULL, O_DRAIN},          {"output-root", required_argument, NULL, O_OUTPUT_ROOT},
        {"input-root", required_argument, NULL, O_INPUT_ROOT},
        {"lease", required_argument, NULL, O_LEASE},    {"poll", required_argument, NULL, O_POLL},
        {"progress-interval", required_argument, NULL, O_PROGRESS},
        {"cache-mb", required_argument, NULL, O_CACHE_MB}, {"batch", required_argument, NULL, O_BATCH},
        {"pass-seconds", required_argument, NULL, O_PASS}, {"verbose", no_argument, NULL, 'v'},
        {"heartbeat", required_argument, NULL, O_HEARTBEAT},
        {"version", no_argument, NULL, 'V'},            {"help", no_argument, NULL, 'h'},
        {"nats", required_argument, NULL, O_NATS},      {"nats-creds", required_argument, NULL, O_NATS_CREDS},
        {"nats-ca", required_argument, NULL, O_NATS_CA}, {"nats-ack-wait", required_argument, NULL, O_NATS_ACK_WAIT},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->lease_s = 300;
    o->poll_s = 10;
    o->progress_s = 0.5;
    o->pass_s = 30;
    const char *env_db = getenv("ADMD_DB");
    if (env_db && *env_db) o->db_path = env_db;
    double num;
    int c, li;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":d:D:vVh", longopts, &li)) != -1) {
        const char *a = argv[optind - 1];
        switch (c) {
        case 'd': o->db_path = optarg; break;
        case 'D': o->device = optarg; break;
        case O_OUTPUT_ROOT: o->output_root = optarg; break;
        case O_INPUT_ROOT:
            if (admd_stages_add_input_root(optarg) != 0) { fprintf(stderr, "admd: %s\n", adm_last_error()); return 2; }
            break;
        case O_DRAIN: o->drain = 1; break;
        case 'v': o->verbose = 1; break;
        case O_NATS: o->fleet.url = optarg; break;
        case O_NATS_CREDS: o->fleet.creds = optarg; break;
        case O_NATS_CA: o->fleet.ca = optarg; break;
        case O_NATS_ACK_WAIT: if (number("--nats-ack-wait", optarg, &o->fleet.ack_wait_s)) return 2; break;
        case O_LEASE: if (number("--lease", optarg, &o->lease_s)) return 2; break;
        case O_POLL: if (number("--poll", optarg, &o->poll_s)) return 2; break;
        case O_PROGRESS: if (number("--progress-interval", optarg, &o->progress_s)) return 2; break;
        case O_PASS: if (number("--pass-seconds", optarg, &o->pass_s)) return 2; break;
        case O_HEARTBEAT: if (number("--heartbeat", optarg, &o->heartbeat_s)) return 2; break;
        case O_CACHE_MB:
            if (number("--cache-mb", optarg, &num) || num < 1 || num > 1e9) { fprintf(stderr, "admd: --cache-mb must be 1..1e9\n"); return 2; }
            o->cache_bytes = (size_t)(num * 1e6);
            break;
        case O_BATCH:
            if (number("--batch", optarg, &num) || num < 0 || num > 4096 || num != (int)num) {
                fprintf(stderr, "admd: --batch must be an integer 0..4096\n");
                return 2;
            }
            o->batch = (int)num;
            break;
        case 'V': printf("admd %s\n", ADM_VERSION); exit(0);
        case 'h': usage(stdout); exit(0);
        case ':': fprintf(stderr, "admd: %s needs a value\n", a); return 2;
        default:
            if (optopt && optopt < 256) fprintf(stderr, "admd: unknown option '-%c' (see admd --help)\n", optopt);
            else fprintf(stderr, "admd: unknown option '%s' (see admd --help)\n", a);
            return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "admd: unexpected argument '%s' (see admd --help)\n", argv[optind]); return 2; }
    if (!o->db_path) { usage(stderr); return 2; }
    if (!(o->lease_s >= 1 && o->lease_s <= 86400)) { fprintf(stderr, "admd: --lease must be 1..86400 seconds\n"); return 2; }
    if (!(o->poll_s >= 0.05 && o->poll_s <= 3600)) { fprintf(stderr, "admd: --poll must be 0.05..3600 seconds\n"); return 2; }
    if (!(o->progress_s >= 0 && o->progress_s <= 3600)) { fprintf(stderr, "admd: --progress-interval must be 0..3600 seconds\n"); return 2; }
    if (!(o->pass_s > 0 && o->pass_s <= 86400)) { fprintf(stderr, "admd: --pass-seconds must be above 0, at most 86400\n"); return 2; }
    if (o->heartbeat_s != 0 && !(o->heartbeat_s >= 0.05 && o->heartbeat_s < o->lease_s)) {
        fprintf(stderr, "admd: --heartbeat must be at least 0.05 seconds and below --lease\n");
        return 2;
    }
    if (!o->fleet.url && (o->fleet.creds || o->fleet.ca)) { fprintf(stderr, "admd: --nats-creds and --nats-ca need --nats URL\n"); return 2; }
    if (o->fleet.ack_wait_s != 0 && !(o->fleet.ack_wait_s >= 1 && o->fleet.ack_wait_s <= 86400)) {
        fprintf(stderr, "admd: --nats-ack-wait must be 1..86400 seconds\n");
        return 2;
    }
    return 0;
}

/* Requeue (or kill) the jobs of workers that are gone; log what happened. */
static void fleet_log(int priority, const char *line) { adm_log(priority, "%s", line); }

static void reap(adm_spool *s) {
    int q = 0, d = 0, n = 0;
    if (adm_spool_reclaim(s, adm_worker_is_dead, NULL, &n) != 0)
        adm_log(ADM_LOG_WARNING, "reclaim: %s", adm_last_error());
    else if (n > 0)
        adm_log(ADM_LOG_INFO, "reclaimed %d job%s of dead workers on this host", n, n == 1 ? "" : "s");
    if (adm_spool_reap(s, &q, &d) != 0) adm_log(ADM_LOG_WARNING, "reap: %s", adm_last_error());
    else if (q + d > 0) adm_log(ADM_LOG_INFO, "expired leases: %d job%s requeued, %d dead", q, q == 1 ? "" : "s", d);
}

int main(int argc, char **argv) {
    admd_options opt;
    int rc = parse_args(argc, argv, &opt);
    if (rc) return rc;
    adm_log_set_level(opt.verbose ? ADM_LOG_DEBUG : ADM_LOG_INFO);
    if (install_signals() != 0) { adm_log(ADM_LOG_ERR, "%s", adm_last_error()); return 1; }
    adm_read_set_stop(&got_term);      /* a long model read ends on SIGTERM */
    adm_read_set_progress(on_read, NULL);   /* and pings the watchdog while it advances */

    adm_spool *s;
    if (adm_spool_open(opt.db_path, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &s) != 0) {
        adm_log(ADM_LOG_ERR, "%s", adm_last_error());
        return 1;
    }
    if (adm_spool_set_worker(s, adm_worker_id(), opt.lease_s) != 0) {
        adm_log(ADM_LOG_ERR, "%s", adm_last_error());
        adm_spool_close(s);
        return 1;
    }
    char root[PATH_MAX];
    if (opt.output_root) snprintf(root, sizeof root, "%s", opt.output_root);
    else snprintf(root, sizeof root, "%s/outputs", adm_spool_dir(s));
    char real_root[PATH_MAX];
    if (adm_mkdir_p(root, 0775) != 0 || (!realpath(root, real_root) && adm_error("%s", strerror(errno)))) {
        adm_log(ADM_LOG_ERR, "output root %s: %s", root, adm_last_error());
        adm_spool_close(s);
        return 1;
    }
    snprintf(root, sizeof root, "%s", real_root);     /* outputs rows record absolute paths */
    int orphans = adm_job_clean_orphans(root);
    if (orphans > 0) adm_log(ADM_LOG_INFO, "removed %d orphaned temp file%s under %s", orphans, orphans == 1 ? "" : "s", root);
    else if (orphans < 0) adm_log(ADM_LOG_WARNING, "orphan cleanup: %s", adm_last_error());
    reap(s);
    /* After the reap: a crashed worker's job is queued again, and a file it
     * renamed but never recorded is removed (the next attempt redoes it). */
    int unrecorded = adm_job_clean_unrecorded(s, root, time(NULL));
    if (unrecorded > 0)
        adm_log(ADM_LOG_INFO, "removed %d unrecorded image file%s under %s", unrecorded, unrecorded == 1 ? "" : "s", root);
    else if (unrecorded < 0) adm_log(ADM_LOG_WARNING, "unrecorded file cleanup: %s", adm_last_error());

    /* The device: kernel compilation can take minutes on a cold cache. */
    adm_cl cl;
    adm_notify_keepalive_begin("compiling kernels");
    double t0 = adm_now();
    rc = adm_cl_open(&cl, opt.device, 0);
    adm_notify_keepalive_end();
    if (rc != 0) {
        adm_log(ADM_LOG_ERR, "device: %s", adm_last_error());
        adm_spool_close(s);
        return 1;
    }
    adm_log(ADM_LOG_INFO, "device %s (%s, %s, %s) ready in %.2f s", cl.device_name, cl.vendor, cl.driver_version,
            cl.cl_version, adm_now() - t0);
    adm_model_cache *cache = adm_model_cache_new(&cl, opt.cache_bytes);
    if (!cache) { adm_log(ADM_LOG_ERR, "%s", adm_last_error()); adm_cl_close(&cl); adm_spool_close(s); return 1; }

    watcher w = {s, -1, -1};
    w.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.inotify_fd < 0 || inotify_add_watch(w.inotify_fd, adm_spool_dir(s),
                                              IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0) {
        adm_log(ADM_LOG_WARNING, "inotify on %s: %s (polling every %.1f s)", adm_spool_dir(s), strerror(errno), opt.poll_s);
        if (w.inotify_fd >= 0) close(w.inotify_fd);
        w.inotify_fd = -1;
    }
    adm_spool_data_version(s, &w.data_version);

    int counts[6] = {0};
    adm_spool_counts(s, counts);
    adm_log(ADM_LOG_INFO, "admd %s ready: spool %s, output root %s, worker %s, %d queued%s", ADM_VERSION,
            adm_spool_path(s), root, adm_worker_id(), counts[0], opt.drain ? " (drain)" : "");
    adm_fleet_box *fleet = NULL;
    if (opt.fleet.url) {
        opt.fleet.log = fleet_log;
        if (adm_fleet_box_start(&opt.fleet, opt.db_path, adm_worker_id(), opt.lease_s, &fleet) != 0) {
            adm_log(ADM_LOG_ERR, "%s", adm_last_error());
            adm_model_cache_free(cache);
            adm_cl_close(&cl);
            adm_spool_close(s);
            return 1;
        }
    }
    /* --batch N: the pool, whose jobs' leases a thread renews (lib_heartbeat.c). */
    admd_heartbeat *hb = NULL;
    double last_reap = adm_now(), reap_every = opt.lease_s / 2 < 30 ? opt.lease_s / 2 : 30;
    pool_ctx pc = {s, cache, &cl, root, last_reap, reap_every};
    admd_pool_env penv = {.spool = s, .root = root, .batch = opt.batch, .progress_s = opt.progress_s,
                          .stop = &got_term, .user = &pc, .claim = pool_claim, .begin = pool_begin, .end = pool_end,
                          .tick = pool_tick};
    if (opt.batch > 0) {
        double every = opt.heartbeat_s > 0 ? opt.heartbeat_s : opt.lease_s / 3;
        hb = admd_heartbeat_start(adm_spool_path(s), adm_worker_id(), opt.lease_s, every);
        if (!hb) {
            adm_log(ADM_LOG_ERR, "%s", adm_last_error());
            adm_fleet_box_stop(fleet);
            adm_model_cache_free(cache);
            adm_cl_close(&cl);
            adm_spool_close(s);
            return 1;
        }
        penv.hb = hb;
        adm_log(ADM_LOG_INFO, "pool of %d images in flight; leases renewed every %.2f s", opt.batch, every);
    }
    adm_notify_ready("idle");

    int exit_code = 0, claim_errors = 0;
    while (!got_term) {
        if (got_hup) {
            got_hup = 0;
            adm_notify_reloading();
            adm_log(ADM_LOG_INFO, "SIGHUP: dropping %d cached model%s (they reload on next use)",
                    adm_model_cache_count(cache), adm_model_cache_count(cache) == 1 ? "" : "s");
            adm_model_cache_clear(cache);
            adm_notify_status("idle");
        }
        adm_notify_watchdog();
        if (adm_now() - last_reap >= reap_every) { reap(s); last_reap = adm_now(); }

        if (pause_until > 0 && adm_now() < pause_until) {
            double left = pause_until - adm_now();
            wait_for_work(&w, left < opt.poll_s ? left : opt.poll_s);
            continue;
        }
        if (pause_until > 0) resume_claims(s);
        adm_spool_job job;
        adm_spool_model model;
        int claimed = adm_spool_claim(s, random_seed(), &job, &model);
        if (claimed == 1) {
            claim_errors = 0;
            double t_claim = adm_now();
            adm_cached_model *cm;
            adm_spool_provenance p;
            if (begin_job(s, cache, &cl, root, &job, &model, NULL, &cm, &p) == 0) {
                if (hb && poolable(s, &job, cm)) admd_pool_run(&penv, cm, &job, &p, t_claim);
                else run_job(s, cache, &cl, &opt, root, &job, cm, p, t_claim);
            }
            adm_notify_status("idle");
            continue;
        }
        if (claimed < 0) {
            adm_log(ADM_LOG_WARNING, "claim: %s", adm_last_error());
            if (++claim_errors >= 20 && opt.drain) { exit_code = 1; break; }
        } else {
            claim_errors = 0;
            if (opt.drain) { adm_log(ADM_LOG_INFO, "queue empty: drained"); break; }
        }
        double until_reap = reap_every - (adm_now() - last_reap);
        wait_for_work(&w, until_reap < opt.poll_s ? (until_reap > 0.05 ? until_reap : 0.05) : opt.poll_s);
    }
    if (got_term) adm_log(ADM_LOG_INFO, "stopping on signal");
    if (pause_until > 0 && adm_spool_pause(s, NULL, 0) != 0)
        adm_log(ADM_LOG_WARNING, "cannot clear the pause: %s", adm_last_error());
    adm_notify_stopping();
    admd_heartbeat_stop(hb);
    if (hb && adm_spool_worker_rate(s, -1, 0, 0, 0) != 0)
        adm_log(ADM_LOG_WARNING, "cannot remove the rate row: %s", adm_last_error());
    adm_fleet_box_stop(fleet);
    if (w.inotify_fd >= 0) close(w.inotify_fd);
    adm_model_cache_free(cache);
    adm_cl_close(&cl);
    adm_spool_close(s);
    return exit_code;
}
