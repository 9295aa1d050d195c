/* spool_admin.c — what an operator does to a spool besides submitting:
 * list job ids by state (admctl's id lists), choose and delete old jobs
 * (admctl prune) with their files queued in prune_pending, and VACUUM.
 *
 * Prune's order of operations (schema/006_ops.sql): one transaction deletes
 * the job rows (outputs and provenance go with them, by trigger) and
 * records every output path in prune_pending; only after it commits are the
 * files unlinked, and each unlinked path is then forgotten.  A crash before
 * the commit changes nothing; after it, no row points at a missing file and
 * every file left over is named in prune_pending for the next prune. */
#include "spool_internal.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void row_id(sqlite3_stmt *st, void *item) { *(int64_t *)item = sqlite3_column_int64(st, 0); }

int adm_spool_job_ids(adm_spool *s, const char *state, int64_t **ids, int *n) {
    *ids = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT id FROM jobs WHERE ?1 IS NULL OR state = ?1 ORDER BY id", &st) != 0) return -1;
    spool_bind_text(st, 1, state);
    void *items;
    int rc = spool_collect(s, st, sizeof **ids, row_id, &items, n, "list job ids");
    *ids = items;
    return rc;
}

/* ",done,failed," from "done,failed" after checking every name is an ended state. */
static int ended_states(const char *list, char *out, size_t len) {
    static const char *ended[] = {"done", "failed", "cancelled", "dead"};
    if (!list || !*list) list = "done,failed,cancelled,dead";
    if (strlen(list) + 3 > len) return adm_error("state list '%s' is too long", list);
    snprintf(out, len, ",%s,", list);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        int ok = 0;
        for (int i = 0; i < 4; i++) ok |= strlen(ended[i]) == k && !strncmp(p, ended[i], k);
        if (!ok)
            return adm_error("state '%.*s': prune removes ended jobs only (done, failed, cancelled, dead)", (int)k, p);
        p += k;
        if (*p == ',') p++;
    }
    return 0;
}

int adm_spool_prune_select(adm_spool *s, const adm_spool_prune_filter *f, int64_t **ids, int *n) {
    *ids = NULL; *n = 0;
    char states[128], age[48];
    if (ended_states(f->states, states, sizeof states) != 0) return -1;
    snprintf(age, sizeof age, "-%.3f seconds", f->older_than_s);
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT id FROM jobs WHERE instr(?1, ',' || state || ',') > 0 "
                         "AND (?2 IS NULL OR coalesce(finished_at, updated_at, created_at) < "
                         "     strftime('%Y-%m-%d %H:%M:%f', 'now', ?2)) "
                         "AND id NOT IN (SELECT id FROM jobs WHERE instr(?1, ',' || state || ',') > 0 "
                         "               ORDER BY id DESC LIMIT ?3) "
                         "AND id < (SELECT max(id) FROM jobs) "      /* see adm_spool_prune_jobs */
                         "ORDER BY id", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, states, -1, SQLITE_TRANSIENT);
    if (f->older_than_s >= 0) sqlite3_bind_text(st, 2, age, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, f->keep_last > 0 ? f->keep_last : 0);
    void *items;
    int rc = spool_collect(s, st, sizeof **ids, row_id, &items, n, "select jobs to prune");
    *ids = items;
    return rc;
}

int adm_spool_prune_jobs(adm_spool *s, const int64_t *ids, int n, int with_files, int *jobs, int *files) {
    sqlite3_stmt *state = NULL, *keep = NULL, *del = NULL;
    int njobs = 0, nfiles = 0;
    if (jobs) *jobs = 0;
    if (files) *files = 0;
    if (spool_begin(s) != 0) return -1;
    if (spool_prepare(s, "SELECT state, id = (SELECT max(id) FROM jobs) FROM jobs WHERE id = ?1", &state) != 0 ||
        spool_prepare(s, "INSERT OR IGNORE INTO prune_pending (path, job_id) "
                         "SELECT path, job_id FROM outputs WHERE job_id = ?1 AND path GLOB '/*' UNION ALL "
                         "SELECT path, job_id FROM stage_outputs WHERE job_id = ?1 AND path GLOB '/*'", &keep) != 0 ||
        spool_prepare(s, "DELETE FROM jobs WHERE id = ?1", &del) != 0) goto fail;
    for (int k = 0; k < n; k++) {
        sqlite3_reset(state);
        sqlite3_bind_int64(state, 1, ids[k]);
        int rc = sqlite3_step(state);
        if (rc == SQLITE_DONE) continue;    /* gone already (another prune): nothing to do */
        if (rc != SQLITE_ROW) { spool_fail(s, "prune: read job"); goto fail; }
        /* The newest job stays: SQLite gives a new row max(id) + 1, so were it
         * deleted its id would come back, and the new job's images would land
         * beside (and replace) files a --keep-files prune left, while admd's
         * start-up clean-up took the old ones for its own unrecorded files. */
        if (sqlite3_column_int(state, 1)) continue;
        const char *st = (const char *)sqlite3_column_text(state, 0);
        if (st && (!strcmp(st, "queued") || !strcmp(st, "running"))) {
            adm_error("job %lld is %s: cancel it before pruning it", (long long)ids[k], st);
            goto fail;
        }
        if (with_files) {
            sqlite3_reset(keep);
            sqlite3_bind_int64(keep, 1, ids[k]);
            if (sqlite3_step(keep) != SQLITE_DONE) { spool_fail(s, "prune: queue files"); goto fail; }
            nfiles += sqlite3_changes(s->db);
        }
        sqlite3_reset(del);
        sqlite3_bind_int64(del, 1, ids[k]);
        if (sqlite3_step(del) != SQLITE_DONE) { spool_fail(s, "prune: delete job"); goto fail; }
        njobs++;
    }
    sqlite3_finalize(state);
    sqlite3_finalize(keep);
    sqlite3_finalize(del);
    state = keep = del = NULL;
    if (spool_commit(s) != 0) goto fail;
    if (jobs) *jobs = njobs;
    if (files) *files = nfiles;
    return 0;
fail:
    sqlite3_finalize(state);
    sqlite3_finalize(keep);
    sqlite3_finalize(del);
    spool_rollback(s);
    return -1;
}

static void row_path(sqlite3_stmt *st, void *item) { spool_col_text(st, 0, item, ADM_SPOOL_PATH); }

int adm_spool_pending_list(adm_spool *s, int max, char (**paths)[ADM_SPOOL_PATH], int *n) {
    *paths = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT path FROM prune_pending ORDER BY job_id, path LIMIT ?1", &st) != 0) return -1;
    sqlite3_bind_int(st, 1, max > 0 ? max : -1);
    void *items;
    int rc = spool_collect(s, st, ADM_SPOOL_PATH, row_path, &items, n, "list prune_pending");
    *paths = items;
    return rc;
}

int adm_spool_pending_forget(adm_spool *s, char (*paths)[ADM_SPOOL_PATH], int n) {
    sqlite3_stmt *st = NULL;
    if (spool_begin(s) != 0) return -1;
    if (spool_prepare(s, "DELETE FROM prune_pending WHERE path = ?1", &st) != 0) goto fail;
    for (int k = 0; k < n; k++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, paths[k], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) { spool_fail(s, "forget pruned path"); goto fail; }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (spool_commit(s) != 0) goto fail;
    return 0;
fail:
    sqlite3_finalize(st);
    spool_rollback(s);
    return -1;
}

int adm_spool_pending_count(adm_spool *s, int64_t *n) {
    sqlite3_stmt *st;
    *n = 0;
    if (spool_prepare(s, "SELECT count(*) FROM prune_pending", &st) != 0) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : spool_fail(s, "count prune_pending");
}

int adm_spool_vacuum(adm_spool *s) { return spool_exec(s, "VACUUM"); }

/* One number from a query with the window modifier bound as ?1. */
static int metric(adm_spool *s, const char *sql, const char *window, double *out) {
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    sqlite3_bind_text(st, 1, window, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? spool_col_double(st, 0, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : spool_fail(s, "metrics");
}

/* Seconds between two timestamps of the schema's format. */
#define SPOOL_SECONDS(a, b) "((julianday(" a ") - julianday(" b ")) * 86400.0)"
#define SPOOL_JNOW "strftime('%Y-%m-%d %H:%M:%f', 'now')"

int adm_spool_metrics_get(adm_spool *s, double window_s, adm_spool_metrics *m) {
    memset(m, 0, sizeof *m);
    char window[48];
    double v;
    snprintf(window, sizeof window, "-%.3f seconds", window_s);
    if (adm_spool_counts(s, m->jobs) != 0) return -1;
    if (metric(s, "SELECT count(*) + 0 * length(?1) FROM outputs", window, &v) != 0) return -1;
    m->images = (int64_t)v;
    if (metric(s, "SELECT count(*) FROM outputs WHERE created_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', ?1)",
               window, &v) != 0) return -1;
    m->images_window = (int64_t)v;
    if (metric(s, "SELECT coalesce(max(" SPOOL_SECONDS(SPOOL_JNOW, "created_at") "), 0) + 0 * length(?1) "
                  "FROM jobs WHERE state = 'queued'", window, &m->queue_age_s) != 0) return -1;
    /* Overlap of each attempt [start, end] with [now - window, now]. */
    if (metric(s, "WITH w(lo) AS (SELECT julianday('now', ?1)), "
                  "iv(a, b) AS ("
                  "  SELECT julianday(recorded_at) - total_s / 86400.0, julianday(recorded_at) FROM provenance "
                  "  WHERE total_s > 0 AND recorded_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', ?1) "
                  "  UNION ALL SELECT julianday(started_at), julianday('now') FROM jobs "
                  "  WHERE state = 'running' AND started_at IS NOT NULL) "
                  "SELECT coalesce(sum(max(0, min(b, julianday('now')) - max(a, (SELECT lo FROM w)))), 0) * 86400.0 "
                  "FROM iv", window, &m->busy_s) != 0) return -1;
    return adm_spool_pending_count(s, &m->prune_pending);
}
