/* spool_worker.c — the daemon's side of the spool: claim a job with a
 * lease, heartbeat between steps, record each image in the transaction
 * that advances the job, finish / fail / release it, and reap the jobs of
 * workers that went away (at-least-once: retry up to max_attempts, then
 * `dead`).  Every call is one short write transaction. */
#include "spool_internal.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* adm_is_daemon(): 1.  Its presence on a connection (pragma_function_list)
 * is what schema/002_ownership.sql's triggers let through; the sqlite3
 * shell and admctl never register it.  SQLITE_DIRECTONLY: a trigger or
 * view someone else wrote cannot call it. */
static void sql_is_daemon(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc; (void)argv;
    sqlite3_result_int(ctx, 1);
}

int adm_spool_set_worker(adm_spool *s, const char *worker, double lease_seconds) {
    if (!worker || !*worker || strlen(worker) >= sizeof s->worker) return adm_error("spool: bad worker id");
    if (!(lease_seconds >= 1 && lease_seconds <= 86400)) return adm_error("spool: lease must be 1..86400 s");
    if (sqlite3_create_function_v2(s->db, "adm_is_daemon", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                   NULL, sql_is_daemon, NULL, NULL, NULL) != SQLITE_OK)
        return spool_fail(s, "register adm_is_daemon");
    snprintf(s->worker, sizeof s->worker, "%s", worker);
    s->lease_seconds = lease_seconds;
    return 0;
}

const char *adm_spool_worker(const adm_spool *s) { return s->worker; }

/* The lease modifier for strftime(..., 'now', ?): "+60.000 seconds". */
static void lease_modifier(const adm_spool *s, char out[48]) {
    snprintf(out, 48, "+%.3f seconds", s->lease_seconds);
}

static int need_worker(adm_spool *s) {
    return s->worker[0] ? 0 : adm_error("spool: no worker id set (adm_spool_set_worker)");
}

/* Claim the queue's next job; model non-NULL: only when it is a one-stage
 * job of that model. */
static int claim_next(adm_spool *s, uint64_t random_seed, const char *model_name, adm_spool_job *job,
                      adm_spool_model *model) {
    if (need_worker(s) != 0) return -1;
    char lease[48];
    lease_modifier(s, lease);
    if (spool_begin(s) != 0) return -1;
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE jobs SET state = 'running', worker = ?1, attempts = attempts + 1, "
                         "lease_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?2), "
                         "started_at = coalesce(started_at, " SPOOL_NOW "), updated_at = " SPOOL_NOW ", "
                         "seed = coalesce(seed, ?3), step = 0, total_steps = 0, pass_images = 0 "
                         "WHERE id = (SELECT id FROM jobs WHERE state = 'queued' "
                         "ORDER BY priority DESC, id LIMIT 1) "
                         "AND (?4 IS NULL OR (model = ?4 AND upsampler IS NULL AND input_path IS NULL)) "
                         "RETURNING id", &st) != 0) goto fail;
    sqlite3_bind_text(st, 1, s->worker, -1, SQLITE_TRANSIENT);
    if (model_name) sqlite3_bind_text(st, 4, model_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, lease, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)(random_seed & 0x7fffffffffffffffULL));
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc == SQLITE_ROW) rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { spool_fail(s, "claim"); goto fail; }
    if (id == 0) { spool_rollback(s); return 0; }
    if (adm_spool_job_get(s, id, job) != 0) goto fail;
    if (adm_spool_model_get(s, job->req.model, model) != 0) goto fail;
    if (spool_commit(s) != 0) goto fail;
    return 1;
fail:
    spool_rollback(s);
    return -1;
}

int adm_spool_claim(adm_spool *s, uint64_t random_seed, adm_spool_job *job, adm_spool_model *model) {
    return claim_next(s, random_seed, NULL, job, model);
}

int adm_spool_claim_model(adm_spool *s, uint64_t random_seed, const char *model, adm_spool_job *job,
                          adm_spool_model *row) {
    if (!model || !*model) return adm_error("spool: claim_model needs a model name");
    return claim_next(s, random_seed, model, job, row);
}

/* UPDATE ... WHERE the job is running and ours; 1 when it no longer is. */
static int update_ours(adm_spool *s, const char *set_sql, int64_t id, const char *what,
                       int (*bind)(sqlite3_stmt *, const void *), const void *arg) {
    char sql[1024];
    snprintf(sql, sizeof sql, "UPDATE jobs SET %s WHERE id = ?1 AND state = 'running' AND worker = ?2", set_sql);
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, s->worker, -1, SQLITE_TRANSIENT);
    if (bind && bind(st, arg) != SQLITE_OK) { sqlite3_finalize(st); return spool_fail(s, what); }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("spool %s: %s job %lld: %s", s->path, what, (long long)id,
                                            sqlite3_errmsg(s->db));
    return sqlite3_changes(s->db) > 0 ? 0 : 1;
}

typedef struct { const char *lease; int step, total, pass; } heartbeat_args;
static int bind_heartbeat(sqlite3_stmt *st, const void *p) {
    const heartbeat_args *a = p;
    sqlite3_bind_text(st, 3, a->lease, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, a->step);
    if (a->pass < 0) sqlite3_bind_null(st, 6); else sqlite3_bind_int(st, 6, a->pass);
    return sqlite3_bind_int(st, 5, a->total);
}

int adm_spool_heartbeat_pass(adm_spool *s, int64_t job_id, int step, int total_steps, int pass_images) {
    if (need_worker(s) != 0) return -1;
    char lease[48];
    lease_modifier(s, lease);
    heartbeat_args a = {lease, step, total_steps, pass_images};
    return update_ours(s, "lease_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?3), step = ?4, "
                          "total_steps = ?5, pass_images = coalesce(?6, pass_images), updated_at = " SPOOL_NOW,
                       job_id, "heartbeat", bind_heartbeat, &a);
}

typedef struct { const char *lease; } renew_args;
static int bind_renew(sqlite3_stmt *st, const void *p) {
    return sqlite3_bind_text(st, 3, ((const renew_args *)p)->lease, -1, SQLITE_TRANSIENT);
}

int adm_spool_renew(adm_spool *s, const int64_t *ids, int n, int *lost) {
    if (need_worker(s) != 0) return -1;
    if (n <= 0) return 0;
    char lease[48];
    lease_modifier(s, lease);
    renew_args a = {lease};
    if (spool_begin(s) != 0) return -1;
    for (int i = 0; i < n; i++) {
        int rc = update_ours(s, "lease_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?3)", ids[i], "renew lease",
                             bind_renew, &a);
        if (rc < 0) { spool_rollback(s); return -1; }
        lost[i] = rc == 1;
    }
    if (spool_commit(s) != 0) { spool_rollback(s); return -1; }
    return 0;
}

int adm_spool_heartbeat(adm_spool *s, int64_t job_id, int step, int total_steps) {
    return adm_spool_heartbeat_pass(s, job_id, step, total_steps, -1);
}

/* One recorded image, in one transaction: advance the job's counter (only
 * the worker that owns it, in index order: advance_sql binds ?1 job, ?2
 * worker, ?3 the index expected, ?4 the lease modifier), then insert the
 * image's row (insert_sql binds ?1 job, ?2 index, ?3 seed, ?4 class, ?5
 * noise algorithm, ?6 path, ?7 bytes, ?8 sha256, ?9 seconds).  Returns 0,
 * 1 when the job is no longer ours (nothing written), -1 + error. */
int spool_record_image(adm_spool *s, const adm_spool_output *o, const char *advance_sql, const char *insert_sql,
                       const char *what) {
    if (need_worker(s) != 0) return -1;
    char lease[48];
    lease_modifier(s, lease);
    char label[64];
    snprintf(label, sizeof label, "record %s", what);
    if (spool_begin(s) != 0) return -1;
    sqlite3_stmt *st;
    if (spool_prepare(s, advance_sql, &st) != 0) goto fail;
    sqlite3_bind_int64(st, 1, o->job_id);
    sqlite3_bind_text(st, 2, s->worker, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, o->index);
    sqlite3_bind_text(st, 4, lease, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { spool_fail(s, label); goto fail; }
    if (sqlite3_changes(s->db) == 0) {
        spool_rollback(s);
        adm_error("job %lld %s %d: the job is no longer ours (cancelled or taken over)",
                  (long long)o->job_id, what, o->index);
        return 1;
    }
    if (spool_prepare(s, insert_sql, &st) != 0) goto fail;
    sqlite3_bind_int64(st, 1, o->job_id);
    sqlite3_bind_int(st, 2, o->index);
    sqlite3_bind_int64(st, 3, o->seed);
    if (o->klass < 0) sqlite3_bind_null(st, 4); else sqlite3_bind_int(st, 4, o->klass);
    spool_bind_text(st, 5, o->noise_algorithm);
    spool_bind_text(st, 6, o->path);
    sqlite3_bind_int64(st, 7, o->bytes);
    spool_bind_text(st, 8, o->sha256);
    sqlite3_bind_double(st, 9, o->seconds);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { spool_fail(s, label); goto fail; }
    if (spool_commit(s) != 0) goto fail;
    return 0;
fail:
    spool_rollback(s);
    return -1;
}

/* The image leaves the running pass's count, so images_done + pass_images
 * (what `admctl watch` adds up) never counts it twice. */
int adm_spool_record_output(adm_spool *s, const adm_spool_output *o) {
    return spool_record_image(s, o,
        "UPDATE jobs SET images_done = images_done + 1, pass_images = max(pass_images - 1, 0), crashes = 0, "
        "updated_at = " SPOOL_NOW ", lease_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?4) "
        "WHERE id = ?1 AND state = 'running' AND worker = ?2 AND images_done = ?3",
        "INSERT INTO outputs (job_id, idx, seed, class, noise_algorithm, path, bytes, sha256, seconds) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
        "image");
}

static int bind_error_text(sqlite3_stmt *st, const void *p) {
    return sqlite3_bind_text(st, 3, (const char *)p, -1, SQLITE_TRANSIENT);
}

/* running -> done|failed in one transaction with the provenance row. */
static int end_job(adm_spool *s, int64_t job_id, const char *error, const adm_spool_provenance *p) {
    if (need_worker(s) != 0) return -1;
    if (spool_begin(s) != 0) return -1;
    int rc = error
        ? update_ours(s, "state = 'failed', error = ?3, finished_at = " SPOOL_NOW ", updated_at = " SPOOL_NOW
                         ", lease_until = NULL", job_id, "fail", bind_error_text, error)
        : update_ours(s, "state = 'done', error = NULL, finished_at = " SPOOL_NOW ", updated_at = " SPOOL_NOW
                         ", lease_until = NULL", job_id, "finish", NULL, NULL);
    if (rc == 0 && p && (spool_write_provenance(s, job_id, p) != 0 || spool_write_stage_provenance(s, job_id, p) != 0 ||
                         spool_write_batch_provenance(s, job_id, p) != 0))
        rc = -1;
    if (rc == 0 && spool_commit(s) != 0) rc = -1;
    if (rc != 0) spool_rollback(s);
    if (rc == 1) adm_error("job %lld is no longer ours (cancelled or taken over)", (long long)job_id);
    return rc;
}

int adm_spool_finish(adm_spool *s, int64_t job_id, const adm_spool_provenance *p) {
    return end_job(s, job_id, NULL, p);
}

int adm_spool_fail(adm_spool *s, int64_t job_id, const char *error, const adm_spool_provenance *p) {
    return end_job(s, job_id, error && *error ? error : "failed (no message)", p);
}

int adm_spool_release(adm_spool *s, int64_t job_id) {
    if (need_worker(s) != 0) return -1;
    int rc = update_ours(s, "state = 'queued', attempts = max(attempts - 1, 0), worker = NULL, "
                            "lease_until = NULL, step = 0, total_steps = 0, pass_images = 0, updated_at = " SPOOL_NOW,
                         job_id, "release", NULL, NULL);
    if (rc == 1) adm_error("job %lld is no longer ours", (long long)job_id);
    return rc;
}

static int worker_exec(adm_spool *s, const char *sql, const char *worker, const char *text, double seconds);

/* An expired lease: the attempt is lost (requeue, or dead after max_attempts). */
static const char reap_head[] =
    "UPDATE jobs SET "
    "state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, "
    "error = printf('attempt %d of %d lost: worker %s stopped (lease expired at %s)', "
    "               attempts, max_attempts, worker, lease_until), "
    "finished_at = CASE WHEN attempts >= max_attempts THEN " SPOOL_NOW " END, "
    "worker = CASE WHEN attempts >= max_attempts THEN worker END, "
    "lease_until = NULL, step = 0, total_steps = 0, pass_images = 0, updated_at = " SPOOL_NOW " "
    "WHERE state = 'running' AND ";

/* A worker of this host whose process is gone (killed, crashed): at most
 * one device pass was lost (images are recorded as each pass ends), so the
 * attempt is given back; crashes counts such ends in a row without a new
 * image (adm_spool_record_output resets it) and at ADM_SPOOL_MAX_CRASHES
 * the job is dead.  (SET expressions all see the row before the update.) */
#define SPOOL_STR(x) #x
#define SPOOL_XSTR(x) SPOOL_STR(x)
#define CRASHED "crashes + 1 >= " SPOOL_XSTR(ADM_SPOOL_MAX_CRASHES)
static const char crash_head[] =
    "UPDATE jobs SET "
    "state = CASE WHEN " CRASHED " THEN 'dead' ELSE 'queued' END, "
    "attempts = CASE WHEN " CRASHED " THEN attempts ELSE max(attempts - 1, 0) END, "
    "crashes = crashes + 1, "
    "error = printf('worker %s is gone (its process ended without finishing): %d time%s in a row without a "
    "new image%s', worker, crashes + 1, CASE WHEN crashes = 0 THEN '' ELSE 's' END, "
    "CASE WHEN " CRASHED " THEN ', the bound: dead' ELSE '; requeued, not counted as an attempt' END), "
    "finished_at = CASE WHEN " CRASHED " THEN " SPOOL_NOW " END, "
    "worker = CASE WHEN " CRASHED " THEN worker END, "
    "lease_until = NULL, step = 0, total_steps = 0, pass_images = 0, updated_at = " SPOOL_NOW " "
    "WHERE state = 'running' AND ";

/* Requeue or kill the running jobs matched by where_sql (?1 bound to
 * worker when non-NULL), updated by head (reap_head or crash_head). */
static int reap_where(adm_spool *s, const char *head, const char *where_sql, const char *worker, int *requeued,
                      int *dead) {
    char sql[2048];
    snprintf(sql, sizeof sql, "%s%s RETURNING state", head, where_sql);
    if (spool_begin(s) != 0) return -1;
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) { spool_rollback(s); return -1; }
    if (worker) sqlite3_bind_text(st, 1, worker, -1, SQLITE_TRANSIENT);
    int rc, nq = 0, nd = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(st, 0);
        if (state && !strcmp(state, "dead")) nd++; else nq++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { spool_fail(s, "reap"); spool_rollback(s); return -1; }
    if (spool_commit(s) != 0) { spool_rollback(s); return -1; }
    if (requeued) *requeued += nq;
    if (dead) *dead += nd;
    return 0;
}

int adm_spool_reap(adm_spool *s, int *requeued, int *dead) {
    if (requeued) *requeued = 0;
    if (dead) *dead = 0;
    return reap_where(s, reap_head, "lease_until < " SPOOL_NOW, NULL, requeued, dead);
}

int adm_spool_reclaim(adm_spool *s, int (*is_dead)(const char *worker, void *user), void *user, int *n) {
    if (n) *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT worker FROM jobs WHERE state = 'running' AND worker IS NOT NULL "
                         "UNION SELECT worker FROM pauses UNION SELECT worker FROM worker_rates", &st) != 0) return -1;
    char (*workers)[ADM_SPOOL_TEXT] = NULL;
    int nw = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nw == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(workers, sizeof *workers * (size_t)cap);
            if (!p) { sqlite3_finalize(st); free(workers); return adm_error("out of memory"); }
            workers = p;
        }
        spool_col_text(st, 0, workers[nw++], ADM_SPOOL_TEXT);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { free(workers); return spool_fail(s, "list workers"); }
    int total = 0;
    for (int i = 0; i < nw; i++) {
        if (!strcmp(workers[i], s->worker) || !is_dead(workers[i], user)) continue;
        int q = 0, d = 0;
        if (reap_where(s, crash_head, "worker = ?1", workers[i], &q, &d) != 0 ||
            worker_exec(s, "DELETE FROM pauses WHERE worker = ?1", workers[i], NULL, 0) != 0 ||
            worker_exec(s, "DELETE FROM worker_rates WHERE worker = ?1", workers[i], NULL, 0) != 0) {
            free(workers);
            return -1;
        }
        total += q + d;
    }
    free(workers);
    if (n) *n = total;
    return 0;
}

/* Run sql with ?1 = worker, ?2 = text (when non-NULL), ?3 = seconds. */
static int worker_exec(adm_spool *s, const char *sql, const char *worker, const char *text, double seconds) {
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    sqlite3_bind_text(st, 1, worker, -1, SQLITE_TRANSIENT);
    if (text) sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    char mod[48];
    snprintf(mod, sizeof mod, "+%.3f seconds", seconds);
    if (sqlite3_bind_parameter_count(st) >= 3) sqlite3_bind_text(st, 3, mod, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "pauses");
}

int adm_spool_pause(adm_spool *s, const char *reason, double retry_s) {
    if (need_worker(s) != 0) return -1;
    if (!reason) return worker_exec(s, "DELETE FROM pauses WHERE worker = ?1", s->worker, NULL, 0);
    return worker_exec(s, "INSERT INTO pauses (worker, reason, retry_at) VALUES "
                          "(?1, ?2, strftime('%Y-%m-%d %H:%M:%f', 'now', ?3)) ON CONFLICT (worker) DO UPDATE "
                          "SET reason = excluded.reason, retry_at = excluded.retry_at", s->worker, reason, retry_s);
}

static void row_pause(sqlite3_stmt *st, void *item) {
    adm_spool_pause_row *p = item;
    spool_col_text(st, 0, p->worker, sizeof p->worker);
    spool_col_text(st, 1, p->reason, sizeof p->reason);
    spool_col_text(st, 2, p->since, sizeof p->since);
    spool_col_text(st, 3, p->retry_at, sizeof p->retry_at);
}

int adm_spool_pauses(adm_spool *s, adm_spool_pause_row **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT worker, reason, since, retry_at FROM pauses ORDER BY since", &st) != 0) return -1;
    void *items;
    int rc = spool_collect(s, st, sizeof **rows, row_pause, &items, n, "read pauses");
    *rows = items;
    return rc;
}
