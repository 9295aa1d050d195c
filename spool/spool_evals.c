/* spool_evals.c — the evaluations table: FID, sFID, Inception Score,
 * precision and recall of a sample set against a reference batch. */
#include "spool_internal.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_COLUMNS "id, reference, reference_sha256, reference_count, reference_stats, samples, " \
    "sample_count, feature_net, feature_sha256, device, is_split, fid, sfid, inception_score, " \
    "precision, recall, seconds, created_at"

int adm_spool_evaluation_add(adm_spool *s, const adm_spool_evaluation *e, int64_t *id) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "INSERT INTO evaluations (reference, reference_sha256, reference_count, reference_stats, "
                         "samples, sample_count, feature_net, feature_sha256, device, is_split, fid, sfid, "
                         "inception_score, precision, recall, seconds) "
                         "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)", &st) != 0)
        return -1;
    spool_bind_text(st, 1, e->reference);
    spool_bind_text(st, 2, e->reference_sha256);
    sqlite3_bind_int64(st, 3, e->reference_count);
    spool_bind_text(st, 4, e->reference_stats[0] ? e->reference_stats : "computed");
    spool_bind_text(st, 5, e->samples);
    sqlite3_bind_int64(st, 6, e->sample_count);
    spool_bind_text(st, 7, e->feature_net);
    spool_bind_text(st, 8, e->feature_sha256);
    spool_bind_text(st, 9, e->device);
    sqlite3_bind_int64(st, 10, e->is_split);
    sqlite3_bind_double(st, 11, e->fid);
    if (isnan(e->sfid)) sqlite3_bind_null(st, 12);
    else sqlite3_bind_double(st, 12, e->sfid);
    sqlite3_bind_double(st, 13, e->inception_score);
    sqlite3_bind_double(st, 14, e->precision);
    sqlite3_bind_double(st, 15, e->recall);
    sqlite3_bind_double(st, 16, e->seconds);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return spool_fail(s, "record evaluation");
    if (id) *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static void row_eval(sqlite3_stmt *st, void *item) {
    adm_spool_evaluation *e = item;
    e->id = spool_col_int64(st, 0, 0);
    spool_col_text(st, 1, e->reference, sizeof e->reference);
    spool_col_text(st, 2, e->reference_sha256, sizeof e->reference_sha256);
    e->reference_count = spool_col_int64(st, 3, 0);
    spool_col_text(st, 4, e->reference_stats, sizeof e->reference_stats);
    spool_col_text(st, 5, e->samples, sizeof e->samples);
    e->sample_count = spool_col_int64(st, 6, 0);
    spool_col_text(st, 7, e->feature_net, sizeof e->feature_net);
    spool_col_text(st, 8, e->feature_sha256, sizeof e->feature_sha256);
    spool_col_text(st, 9, e->device, sizeof e->device);
    e->is_split = spool_col_int64(st, 10, 0);
    e->fid = spool_col_double(st, 11, NAN);
    e->sfid = spool_col_double(st, 12, NAN);
    e->inception_score = spool_col_double(st, 13, NAN);
    e->precision = spool_col_double(st, 14, NAN);
    e->recall = spool_col_double(st, 15, NAN);
    e->seconds = spool_col_double(st, 16, 0);
    spool_col_text(st, 17, e->created_at, sizeof e->created_at);
}

int adm_spool_evaluation_list(adm_spool *s, adm_spool_evaluation **out, int *n) {
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (spool_prepare(s, "SELECT " EVAL_COLUMNS " FROM evaluations ORDER BY id", &st) != 0) return -1;
    void *items = NULL;
    int rc = spool_collect(s, st, sizeof **out, row_eval, &items, n, "list evaluations");
    *out = items;
    return rc;
}
