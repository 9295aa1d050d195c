/* spool_batch.c — what admd's pool (continuous batching, --batch N)
 * records beyond the one-job path (schema/010_batch.sql): each pooled
 * job's batch provenance (the passes its images ran in) and the daemon's
 * throughput row, worker_rates, that `admctl status` shows as images/s. */
#include "spool_internal.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int spool_write_batch_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p) {
    if (p->passes <= 0) return 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE provenance SET batch_min = ?2, batch_max = ?3, passes = ?4, passes_shared = ?5 "
                         "WHERE job_id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_int(st, 2, p->batch_min);
    sqlite3_bind_int(st, 3, p->batch_max);
    sqlite3_bind_int(st, 4, p->passes);
    sqlite3_bind_int(st, 5, p->passes_shared);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "write batch provenance");
}

int spool_read_batch_provenance(adm_spool *s, int64_t job_id, adm_spool_provenance *p) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT batch_min, batch_max, passes, passes_shared FROM provenance WHERE job_id = ?1",
                      &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->batch_min = spool_col_int(st, 0, 0);
        p->batch_max = spool_col_int(st, 1, 0);
        p->passes = spool_col_int(st, 2, 0);
        p->passes_shared = spool_col_int(st, 3, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : spool_fail(s, "read batch provenance");
}

int adm_spool_worker_rate(adm_spool *s, int64_t images, double seconds, int64_t passes, int pool) {
    if (!s->worker[0]) return adm_error("spool: no worker id set (adm_spool_set_worker)");
    sqlite3_stmt *st;
    const char *sql = images < 0
        ? "DELETE FROM worker_rates WHERE worker = ?1"
        : "INSERT INTO worker_rates (worker, images, seconds, passes, pool) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (worker) DO UPDATE SET images = excluded.images, seconds = excluded.seconds, "
          "passes = excluded.passes, pool = excluded.pool, updated_at = " SPOOL_NOW;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    sqlite3_bind_text(st, 1, s->worker, -1, SQLITE_TRANSIENT);
    if (images >= 0) {
        sqlite3_bind_int64(st, 2, images);
        sqlite3_bind_double(st, 3, seconds);
        sqlite3_bind_int64(st, 4, passes);
        sqlite3_bind_int(st, 5, pool);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "worker rate");
}

static void row_rate(sqlite3_stmt *st, void *item) {
    adm_spool_rate_row *r = item;
    spool_col_text(st, 0, r->worker, sizeof r->worker);
    r->images = spool_col_int64(st, 1, 0);
    r->seconds = spool_col_double(st, 2, 0);
    r->passes = spool_col_int64(st, 3, 0);
    r->pool = spool_col_int(st, 4, 0);
    spool_col_text(st, 5, r->updated_at, sizeof r->updated_at);
}

int adm_spool_worker_rates(adm_spool *s, adm_spool_rate_row **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT worker, images, seconds, passes, pool, updated_at FROM worker_rates ORDER BY worker",
                      &st) != 0) return -1;
    void *items;
    int rc = spool_collect(s, st, sizeof **rows, row_rate, &items, n, "read worker rates");
    *rows = items;
    return rc;
}
