/* spool_jobs.c — jobs as people see them: submit, read, list, count,
 * cancel, requeue; and the outputs and provenance a job leaves behind. */
#include "spool_internal.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void adm_spool_request_init(adm_spool_request *r) {
    memset(r, 0, sizeof *r);
    r->klass = -1;
    r->count = 1;
    r->scale = NAN;
    r->eta = NAN;
    r->seed = -1;
}

char *adm_spool_sampling_text(const char *sampler, const char *respacing, double eta, int steps, const char *skip,
                              const char *thresholding, char *buf, size_t n) {
    if (steps > 0) snprintf(buf, n, "%s %d steps %s, thresholding %s", sampler, steps, skip, thresholding);
    else if (!strcmp(sampler, "ddim")) snprintf(buf, n, "%s %s, eta %g", sampler, respacing, eta);
    else snprintf(buf, n, "%s %s", sampler, respacing);
    return buf;
}

int adm_spool_submit(adm_spool *s, const adm_spool_request *r, int64_t *job_id) {
    return adm_spool_submit_stages(s, r, NULL, job_id);
}

int adm_spool_submit_stages(adm_spool *s, const adm_spool_request *r, const adm_spool_stages *stages, int64_t *job_id) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "INSERT INTO jobs (model, class, count, scale, sampler, respacing, eta, seed, "
                         "priority, outdir, max_attempts, steps, skip, thresholding, "
                         "upsampler, up_sampler, up_respacing, up_steps, up_eta, input_path) "
                         /* a respacing without a sampler asks for ddpm when the model's
                          * default is a dpm sampler (which takes steps, not a respacing) */
                         "VALUES (?1,?2,?3,?4,"
                         "CASE WHEN ?5 IS NULL AND ?6 IS NOT NULL AND "
                         "(SELECT default_sampler FROM models WHERE name = ?1) GLOB 'dpm*' THEN 'ddpm' ELSE ?5 END,"
                         "?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
                      &st) != 0) return -1;
    if (stages) {
        spool_bind_text(st, 15, stages->upsampler);
        spool_bind_text(st, 16, stages->up_sampler);
        spool_bind_text(st, 17, stages->up_respacing);
        if (stages->up_steps != 0) sqlite3_bind_int(st, 18, stages->up_steps);
        if (!isnan(stages->up_eta)) sqlite3_bind_double(st, 19, stages->up_eta);
        spool_bind_text(st, 20, stages->input_path);
    }
    spool_bind_text(st, 1, r->model);
    if (r->klass < 0) sqlite3_bind_null(st, 2); else sqlite3_bind_int(st, 2, r->klass);
    sqlite3_bind_int(st, 3, r->count);
    /* Non-finite values are passed on for the schema to reject by name
     * (SQLite stores NaN as NULL, so NaN means "default" here, as documented). */
    if (isnan(r->scale)) sqlite3_bind_null(st, 4); else sqlite3_bind_double(st, 4, r->scale);
    spool_bind_text(st, 5, r->sampler);
    spool_bind_text(st, 6, r->respacing);
    if (isnan(r->eta)) sqlite3_bind_null(st, 7); else sqlite3_bind_double(st, 7, r->eta);
    if (r->seed < 0) sqlite3_bind_null(st, 8); else sqlite3_bind_int64(st, 8, r->seed);
    sqlite3_bind_int(st, 9, r->priority);
    spool_bind_text(st, 10, r->outdir);
    sqlite3_bind_int(st, 11, r->max_attempts > 0 ? r->max_attempts : 3);
    if (r->steps == 0) sqlite3_bind_null(st, 12); else sqlite3_bind_int(st, 12, r->steps);
    spool_bind_text(st, 13, r->skip);
    spool_bind_text(st, 14, r->thresholding);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("submit: %s", sqlite3_errmsg(s->db));
    if (job_id) *job_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

void spool_row_job(sqlite3_stmt *st, adm_spool_job *j) {
    memset(j, 0, sizeof *j);
    adm_spool_request *r = &j->req;
    adm_spool_request_init(r);
    j->id = sqlite3_column_int64(st, 0);
    spool_col_text(st, 1, r->model, sizeof r->model);
    r->klass = spool_col_int(st, 2, -1);
    r->count = spool_col_int(st, 3, 0);
    r->scale = spool_col_double(st, 4, NAN);
    spool_col_text(st, 5, r->sampler, sizeof r->sampler);
    spool_col_text(st, 6, r->respacing, sizeof r->respacing);
    r->eta = spool_col_double(st, 7, 0);
    r->seed = spool_col_int64(st, 8, -1);
    r->priority = spool_col_int(st, 9, 0);
    spool_col_text(st, 10, r->outdir, sizeof r->outdir);
    r->max_attempts = spool_col_int(st, 11, 3);
    spool_col_text(st, 12, j->state, sizeof j->state);
    j->attempts = spool_col_int(st, 13, 0);
    spool_col_text(st, 14, j->worker, sizeof j->worker);
    spool_col_text(st, 15, j->lease_until, sizeof j->lease_until);
    j->step = spool_col_int(st, 16, 0);
    j->total_steps = spool_col_int(st, 17, 0);
    j->images_done = spool_col_int(st, 18, 0);
    spool_col_text(st, 19, j->created_at, sizeof j->created_at);
    spool_col_text(st, 20, j->started_at, sizeof j->started_at);
    spool_col_text(st, 21, j->finished_at, sizeof j->finished_at);
    spool_col_text(st, 22, j->updated_at, sizeof j->updated_at);
    spool_col_text(st, 23, j->error, sizeof j->error);
    r->steps = spool_col_int(st, 24, 0);
    spool_col_text(st, 25, r->skip, sizeof r->skip);
    spool_col_text(st, 26, r->thresholding, sizeof r->thresholding);
    j->pass_images = spool_col_int(st, 27, 0);
}

/* Queue position of a row aliased j (1 = next to run), 0 unless queued. */
#define SPOOL_POSITION "CASE WHEN j.state = 'queued' THEN (SELECT count(*) FROM jobs AS q " \
    "WHERE q.state = 'queued' AND (q.priority > j.priority OR (q.priority = j.priority AND q.id <= j.id))) " \
    "ELSE 0 END"

int adm_spool_job_get(adm_spool *s, int64_t id, adm_spool_job *job) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT " SPOOL_JOB_COLUMNS ", " SPOOL_POSITION " FROM jobs AS j WHERE id = ?1", &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) { spool_row_job(st, job); job->position = sqlite3_column_int(st, SPOOL_JOB_NCOLS); }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return adm_error("no job %lld in %s", (long long)id, s->path);
    return spool_fail(s, "read job");
}

/* A row of SPOOL_JOB_COLUMNS + SPOOL_POSITION. */
static void row_job_position(sqlite3_stmt *st, void *item) {
    adm_spool_job *job = item;
    spool_row_job(st, job);
    job->position = sqlite3_column_int(st, SPOOL_JOB_NCOLS);
}

int adm_spool_job_list(adm_spool *s, const char *state, int limit, adm_spool_job **jobs, int *n) {
    *jobs = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT " SPOOL_JOB_COLUMNS ", " SPOOL_POSITION " FROM jobs AS j "
                         "WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2", &st) != 0) return -1;
    spool_bind_text(st, 1, state);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    void *items;
    int rc = spool_collect(s, st, sizeof **jobs, row_job_position, &items, n, "list jobs");
    *jobs = items;
    return rc;
}

int adm_spool_counts(adm_spool *s, int counts[6]) {
    static const char *states[6] = {"queued", "running", "done", "failed", "cancelled", "dead"};
    memset(counts, 0, 6 * sizeof *counts);
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT state, count(*) FROM jobs GROUP BY state", &st) != 0) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (int i = 0; i < 6; i++)
            if (name && !strcmp(name, states[i])) counts[i] = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "count jobs");
}

/* UPDATE one job's state where it is in one of the given states; 1 when
 * the job exists but was in another state (error names it). */
static int change_state(adm_spool *s, int64_t id, const char *to, const char *from_sql, const char *verb) {
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE jobs SET state = '%s' WHERE id = ?1 AND state IN (%s)", to, from_sql);
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("%s job %lld: %s", verb, (long long)id, sqlite3_errmsg(s->db));
    if (sqlite3_changes(s->db) > 0) return 0;
    adm_spool_job j;
    if (adm_spool_job_get(s, id, &j) != 0) return -1;
    adm_error("cannot %s job %lld: it is %s", verb, (long long)id, j.state);
    return 1;
}

int adm_spool_cancel(adm_spool *s, int64_t id) {
    return change_state(s, id, "cancelled", "'queued', 'running'", "cancel");
}

int adm_spool_requeue(adm_spool *s, int64_t id) {
    return change_state(s, id, "queued", "'failed', 'cancelled', 'dead'", "requeue");
}

/* A row of adm_spool_outputs' query (below). */
static void row_output(sqlite3_stmt *st, void *item) {
    adm_spool_output *o = item;
    o->job_id = sqlite3_column_int64(st, 0);
    o->index = sqlite3_column_int(st, 1);
    o->seed = sqlite3_column_int64(st, 2);
    o->klass = spool_col_int(st, 3, -1);
    spool_col_text(st, 4, o->noise_algorithm, sizeof o->noise_algorithm);
    spool_col_text(st, 5, o->path, sizeof o->path);
    o->bytes = sqlite3_column_int64(st, 6);
    spool_col_text(st, 7, o->sha256, sizeof o->sha256);
    o->seconds = sqlite3_column_double(st, 8);
    spool_col_text(st, 9, o->created_at, sizeof o->created_at);
}

int adm_spool_outputs(adm_spool *s, int64_t job_id, adm_spool_output **outs, int *n) {
    *outs = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT job_id, idx, seed, class, noise_algorithm, path, bytes, sha256, seconds, "
                         "created_at FROM outputs WHERE job_id = ?1 ORDER BY idx", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    void *items;
    int rc = spool_collect(s, st, sizeof **outs, row_output, &items, n, "read outputs");
    *outs = items;
    return rc;
}

#define SPOOL_PROV_COLUMNS "job_id, host, worker, attempt, device_name, device_vendor, driver_version, " \
    "opencl_version, admd_version, kernel_hash, clblast_version, model, unet_path, unet_config, " \
    "unet_sha256, classifier_path, classifier_config, classifier_sha256, sampler, respacing, eta, " \
    "scale, seed, class, count, batch, image_size, channels, noise_algorithm, queue_wait_s, " \
    "model_load_s, steps_s, encode_s, total_s, engine, recorded_at, steps, skip, thresholding"

int adm_spool_provenance_get(adm_spool *s, int64_t job_id, adm_spool_provenance *p) {
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT " SPOOL_PROV_COLUMNS " FROM provenance WHERE job_id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int i = 0;
        p->job_id = sqlite3_column_int64(st, i++);
        spool_col_text(st, i++, p->host, sizeof p->host);
        spool_col_text(st, i++, p->worker, sizeof p->worker);
        p->attempt = spool_col_int(st, i++, 0);
        spool_col_text(st, i++, p->device_name, sizeof p->device_name);
        spool_col_text(st, i++, p->device_vendor, sizeof p->device_vendor);
        spool_col_text(st, i++, p->driver_version, sizeof p->driver_version);
        spool_col_text(st, i++, p->opencl_version, sizeof p->opencl_version);
        spool_col_text(st, i++, p->admd_version, sizeof p->admd_version);
        spool_col_text(st, i++, p->kernel_hash, sizeof p->kernel_hash);
        spool_col_text(st, i++, p->clblast_version, sizeof p->clblast_version);
        spool_col_text(st, i++, p->model, sizeof p->model);
        spool_col_text(st, i++, p->unet_path, sizeof p->unet_path);
        spool_col_text(st, i++, p->unet_config, sizeof p->unet_config);
        spool_col_text(st, i++, p->unet_sha256, sizeof p->unet_sha256);
        spool_col_text(st, i++, p->classifier_path, sizeof p->classifier_path);
        spool_col_text(st, i++, p->classifier_config, sizeof p->classifier_config);
        spool_col_text(st, i++, p->classifier_sha256, sizeof p->classifier_sha256);
        spool_col_text(st, i++, p->sampler, sizeof p->sampler);
        spool_col_text(st, i++, p->respacing, sizeof p->respacing);
        p->eta = spool_col_double(st, i++, 0);
        p->scale = spool_col_double(st, i++, 0);
        p->seed = spool_col_int64(st, i++, -1);
        p->klass = spool_col_int(st, i++, -1);
        p->count = spool_col_int(st, i++, 0);
        p->batch = spool_col_int(st, i++, 0);
        p->image_size = spool_col_int(st, i++, 0);
        p->channels = spool_col_int(st, i++, 0);
        spool_col_text(st, i++, p->noise_algorithm, sizeof p->noise_algorithm);
        p->queue_wait_s = spool_col_double(st, i++, 0);
        p->model_load_s = spool_col_double(st, i++, 0);
        p->steps_s = spool_col_double(st, i++, 0);
        p->encode_s = spool_col_double(st, i++, 0);
        p->total_s = spool_col_double(st, i++, 0);
        spool_col_text(st, i++, p->engine, sizeof p->engine);
        spool_col_text(st, i++, p->recorded_at, sizeof p->recorded_at);
        p->steps = spool_col_int(st, i++, 0);
        spool_col_text(st, i++, p->skip, sizeof p->skip);
        spool_col_text(st, i++, p->thresholding, sizeof p->thresholding);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return spool_read_stage_provenance(s, job_id, p) || spool_read_batch_provenance(s, job_id, p) ? -1 : 0;
    if (rc == SQLITE_DONE) return 1;
    return spool_fail(s, "read provenance");
}

/* Written by spool_worker.c in the transaction that ends the job. */
int spool_write_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "INSERT OR REPLACE INTO provenance (" SPOOL_PROV_COLUMNS ") VALUES "
                         "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
                         "?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35," SPOOL_NOW ",?36,?37,?38)", &st) != 0)
        return -1;
    int i = 1;
    sqlite3_bind_int64(st, i++, job_id);
    spool_bind_text(st, i++, p->host);
    spool_bind_text(st, i++, p->worker);
    sqlite3_bind_int(st, i++, p->attempt);
    spool_bind_text(st, i++, p->device_name);
    spool_bind_text(st, i++, p->device_vendor);
    spool_bind_text(st, i++, p->driver_version);
    spool_bind_text(st, i++, p->opencl_version);
    spool_bind_text(st, i++, p->admd_version);
    spool_bind_text(st, i++, p->kernel_hash);
    spool_bind_text(st, i++, p->clblast_version);
    spool_bind_text(st, i++, p->model);
    spool_bind_text(st, i++, p->unet_path);
    spool_bind_text(st, i++, p->unet_config);
    spool_bind_text(st, i++, p->unet_sha256);
    spool_bind_text(st, i++, p->classifier_path);
    spool_bind_text(st, i++, p->classifier_config);
    spool_bind_text(st, i++, p->classifier_sha256);
    spool_bind_text(st, i++, p->sampler);
    spool_bind_text(st, i++, p->respacing);
    sqlite3_bind_double(st, i++, p->eta);
    sqlite3_bind_double(st, i++, p->scale);
    if (p->seed < 0) sqlite3_bind_null(st, i++); else sqlite3_bind_int64(st, i++, p->seed);
    if (p->klass < 0) sqlite3_bind_null(st, i++); else sqlite3_bind_int(st, i++, p->klass);
    sqlite3_bind_int(st, i++, p->count);
    sqlite3_bind_int(st, i++, p->batch);
    sqlite3_bind_int(st, i++, p->image_size);
    sqlite3_bind_int(st, i++, p->channels);
    spool_bind_text(st, i++, p->noise_algorithm);
    sqlite3_bind_double(st, i++, p->queue_wait_s);
    sqlite3_bind_double(st, i++, p->model_load_s);
    sqlite3_bind_double(st, i++, p->steps_s);
    sqlite3_bind_double(st, i++, p->encode_s);
    sqlite3_bind_double(st, i++, p->total_s);
    spool_bind_text(st, i++, p->engine);
    i = 36;                                           /* after recorded_at */
    if (p->steps > 0) sqlite3_bind_int(st, i++, p->steps); else sqlite3_bind_null(st, i++);
    spool_bind_text(st, i++, p->skip);
    spool_bind_text(st, i++, p->thresholding);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "write provenance");
}
