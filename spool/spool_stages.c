/* spool_stages.c — the spool side of two-stage jobs (base model, then an
 * upsampler) and of super-resolution of given images (schema/008): the
 * stage columns of a job, the stage-1 images (stage_outputs), the given
 * images as read (job_inputs) and the stage columns of a job's provenance. */
#include "spool_internal.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void adm_spool_stages_init(adm_spool_stages *st) {
    memset(st, 0, sizeof *st);
    st->up_eta = NAN;
}

int adm_spool_stages_get(adm_spool *s, int64_t job_id, adm_spool_stages *out) {
    adm_spool_stages_init(out);
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT upsampler, up_sampler, up_respacing, up_steps, up_eta, input_path, stage1_done "
                         "FROM jobs WHERE id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        spool_col_text(st, 0, out->upsampler, sizeof out->upsampler);
        spool_col_text(st, 1, out->up_sampler, sizeof out->up_sampler);
        spool_col_text(st, 2, out->up_respacing, sizeof out->up_respacing);
        out->up_steps = spool_col_int(st, 3, 0);
        out->up_eta = spool_col_double(st, 4, 0);
        spool_col_text(st, 5, out->input_path, sizeof out->input_path);
        out->stage1_done = spool_col_int(st, 6, 0);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return adm_error("no job %lld in %s", (long long)job_id, s->path);
    return spool_fail(s, "read job stages");
}

int adm_spool_record_stage1(adm_spool *s, const adm_spool_output *o) {
    return spool_record_image(s, o,
        "UPDATE jobs SET stage1_done = stage1_done + 1, crashes = 0, updated_at = " SPOOL_NOW ", "
        "lease_until = strftime('%Y-%m-%d %H:%M:%f', 'now', ?4) "
        "WHERE id = ?1 AND state = 'running' AND worker = ?2 AND stage1_done = ?3",
        "INSERT INTO stage_outputs (job_id, stage, idx, seed, class, noise_algorithm, path, bytes, sha256, seconds) "
        "VALUES (?1,1,?2,?3,?4,?5,?6,?7,?8,?9)",
        "stage-1 image");
}

static void row_stage_output(sqlite3_stmt *st, void *item) {
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

int adm_spool_stage1_outputs(adm_spool *s, int64_t job_id, adm_spool_output **outs, int *n) {
    *outs = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT job_id, idx, seed, class, noise_algorithm, path, bytes, sha256, seconds, "
                         "created_at FROM stage_outputs WHERE job_id = ?1 AND stage = 1 ORDER BY idx", &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, job_id);
    void *items;
    int rc = spool_collect(s, st, sizeof **outs, row_stage_output, &items, n, "read stage-1 outputs");
    *outs = items;
    return rc;
}

int adm_spool_record_inputs(adm_spool *s, int64_t job_id, const adm_spool_input *in, int n) {
    sqlite3_stmt *st;
    if (spool_begin(s) != 0) return -1;
    if (spool_prepare(s, "INSERT OR IGNORE INTO job_inputs (job_id, idx, path, bytes, sha256) VALUES (?1,?2,?3,?4,?5)",
                      &st) != 0) { spool_rollback(s); return -1; }
    int rc = SQLITE_DONE;
    for (int i = 0; i < n && rc == SQLITE_DONE; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, job_id);
        sqlite3_bind_int(st, 2, in[i].index);
        sqlite3_bind_text(st, 3, in[i].path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, in[i].bytes);
        sqlite3_bind_text(st, 5, in[i].sha256, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { spool_fail(s, "record job inputs"); spool_rollback(s); return -1; }
    return spool_commit(s);
}

static void row_input(sqlite3_stmt *st, void *item) {
    adm_spool_input *in = item;
    in->index = sqlite3_column_int(st, 0);
    spool_col_text(st, 1, in->path, sizeof in->path);
    in->bytes = sqlite3_column_int64(st, 2);
    spool_col_text(st, 3, in->sha256, sizeof in->sha256);
}

int adm_spool_job_inputs(adm_spool *s, int64_t job_id, adm_spool_input **in, int *n) {
    *in = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT idx, path, bytes, sha256 FROM job_inputs WHERE job_id = ?1 ORDER BY idx", &st) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, job_id);
    void *items;
    int rc = spool_collect(s, st, sizeof **in, row_input, &items, n, "read job inputs");
    *in = items;
    return rc;
}

int spool_write_stage_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p) {
    if (!p->upsampler[0] && !p->input_path[0]) return 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE provenance SET upsampler = ?2, up_unet_path = ?3, up_unet_config = ?4, "
                         "up_unet_sha256 = ?5, up_sampler = ?6, up_respacing = ?7, up_steps = ?8, up_eta = ?9, "
                         "up_image_size = ?10, input_path = ?11, stage1_steps_s = ?12, stage2_steps_s = ?13, "
                         "up_model_load_s = ?14 WHERE job_id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    spool_bind_text(st, 2, p->upsampler);
    spool_bind_text(st, 3, p->up_unet_path);
    spool_bind_text(st, 4, p->up_unet_config);
    spool_bind_text(st, 5, p->up_unet_sha256);
    spool_bind_text(st, 6, p->up_sampler);
    spool_bind_text(st, 7, p->up_respacing);
    if (p->up_steps > 0) sqlite3_bind_int(st, 8, p->up_steps);
    if (p->upsampler[0]) sqlite3_bind_double(st, 9, p->up_eta);
    if (p->up_image_size > 0) sqlite3_bind_int(st, 10, p->up_image_size);
    spool_bind_text(st, 11, p->input_path);
    if (p->upsampler[0]) sqlite3_bind_double(st, 12, p->stage1_steps_s);
    if (p->upsampler[0]) sqlite3_bind_double(st, 13, p->stage2_steps_s);
    if (p->upsampler[0]) sqlite3_bind_double(st, 14, p->up_model_load_s);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "write stage provenance");
}

int spool_read_stage_provenance(adm_spool *s, int64_t job_id, adm_spool_provenance *p) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT upsampler, up_unet_path, up_unet_config, up_unet_sha256, up_sampler, up_respacing, "
                         "up_steps, up_eta, up_image_size, input_path, stage1_steps_s, stage2_steps_s, up_model_load_s "
                         "FROM provenance WHERE job_id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        spool_col_text(st, 0, p->upsampler, sizeof p->upsampler);
        spool_col_text(st, 1, p->up_unet_path, sizeof p->up_unet_path);
        spool_col_text(st, 2, p->up_unet_config, sizeof p->up_unet_config);
        spool_col_text(st, 3, p->up_unet_sha256, sizeof p->up_unet_sha256);
        spool_col_text(st, 4, p->up_sampler, sizeof p->up_sampler);
        spool_col_text(st, 5, p->up_respacing, sizeof p->up_respacing);
        p->up_steps = spool_col_int(st, 6, 0);
        p->up_eta = spool_col_double(st, 7, 0);
        p->up_image_size = spool_col_int(st, 8, 0);
        spool_col_text(st, 9, p->input_path, sizeof p->input_path);
        p->stage1_steps_s = spool_col_double(st, 10, 0);
        p->stage2_steps_s = spool_col_double(st, 11, 0);
        p->up_model_load_s = spool_col_double(st, 12, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : spool_fail(s, "read stage provenance");
}
