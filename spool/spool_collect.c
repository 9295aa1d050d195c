/* spool_collect.c — the central results file `admctl fleet collect`
 * fills: one SQLite file (not a spool) gathering every box's images
 * (fleet_results, keyed by the job's message id and the image index, so
 * collecting twice adds nothing) and every job's end (fleet_ends).
 * collect_state remembers the last results-stream sequence read. */
#include "spool.h"
#include "util.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct adm_collect_db { sqlite3 *db; char path[ADM_SPOOL_PATH]; };

static const char collect_schema[] =
    "CREATE TABLE IF NOT EXISTS fleet_results (\n"
    "    job          TEXT NOT NULL,          -- the job's message id (admctl fleet submit prints it)\n"
    "    idx          INTEGER NOT NULL,       -- image index within the job\n"
    "    seed         INTEGER NOT NULL,\n"
    "    sha256       TEXT NOT NULL,          -- of the PNG, checked on arrival\n"
    "    bytes        INTEGER NOT NULL,\n"
    "    path         TEXT NOT NULL,          -- where collect wrote it\n"
    "    box          TEXT NOT NULL,          -- the worker that made it\n"
    "    local_job_id INTEGER NOT NULL,       -- its job id in that box's spool\n"
    "    stream_seq   INTEGER NOT NULL,       -- results-stream sequence of its (first) message\n"
    "    collected_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),\n"
    "    PRIMARY KEY (job, idx)\n"
    ") STRICT;\n"
    "CREATE TABLE IF NOT EXISTS fleet_ends (\n"
    "    job          TEXT PRIMARY KEY NOT NULL,\n"
    "    state        TEXT NOT NULL,          -- done | failed | dead\n"
    "    box          TEXT NOT NULL,\n"
    "    text         TEXT NOT NULL,          -- done: the provenance JSON; else the error\n"
    "    stream_seq   INTEGER NOT NULL,\n"
    "    collected_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))\n"
    ") STRICT;\n"
    "CREATE TABLE IF NOT EXISTS collect_state (\n"
    "    key   TEXT PRIMARY KEY NOT NULL,\n"
    "    value INTEGER NOT NULL\n"
    ") STRICT;\n";

static int fail(adm_collect_db *c, const char *what) {
    return adm_error("%s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

int adm_collect_open(const char *path, adm_collect_db **out) {
    *out = NULL;
    adm_collect_db *c = adm_calloc(1, sizeof *c);
    if (!c) return -1;
    snprintf(c->path, sizeof c->path, "%s", path);
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = adm_error("%s: %s", path, c->db ? sqlite3_errmsg(c->db) : "cannot open");
        sqlite3_close(c->db);
        free(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, 5000);
    if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, collect_schema, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = fail(c, "schema");
        adm_collect_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void adm_collect_close(adm_collect_db *c) {
    if (!c) return;
    sqlite3_close(c->db);
    free(c);
}

int adm_collect_begin(adm_collect_db *c) {
    return sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(c, "begin");
}
int adm_collect_commit(adm_collect_db *c) {
    return sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(c, "commit");
}

int adm_collect_last_seq(adm_collect_db *c, uint64_t *seq) {
    *seq = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT value FROM collect_state WHERE key = 'last_seq'", -1, &st, NULL) != SQLITE_OK)
        return fail(c, "prepare");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(c, "last_seq");
}

int adm_collect_set_last_seq(adm_collect_db *c, uint64_t seq) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "INSERT INTO collect_state (key, value) VALUES ('last_seq', ?1) "
                                  "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                           -1, &st, NULL) != SQLITE_OK) return fail(c, "prepare");
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(c, "last_seq");
}

int adm_collect_has_image(adm_collect_db *c, const char *job, int index, char sha256_there[ADM_SPOOL_SHA]) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT sha256 FROM fleet_results WHERE job = ?1 AND idx = ?2", -1, &st, NULL) !=
        SQLITE_OK) return fail(c, "prepare");
    sqlite3_bind_text(st, 1, job, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, index);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        ret = 1;
        if (sha256_there) snprintf(sha256_there, ADM_SPOOL_SHA, "%s", (const char *)sqlite3_column_text(st, 0));
    } else if (rc != SQLITE_DONE) ret = fail(c, "lookup");
    sqlite3_finalize(st);
    return ret;
}

int adm_collect_add_image(adm_collect_db *c, const adm_collect_image *im) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "INSERT INTO fleet_results (job, idx, seed, sha256, bytes, path, box, local_job_id, "
                                  "stream_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st, NULL) != SQLITE_OK)
        return fail(c, "prepare");
    sqlite3_bind_text(st, 1, im->job, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, im->index);
    sqlite3_bind_int64(st, 3, im->seed);
    sqlite3_bind_text(st, 4, im->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, im->bytes);
    sqlite3_bind_text(st, 6, im->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, im->box, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, im->local_job_id);
    sqlite3_bind_int64(st, 9, (int64_t)im->stream_seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(c, "insert image");
}

int adm_collect_add_end(adm_collect_db *c, const char *job, const char *state, const char *box, const char *text,
                        uint64_t stream_seq) {
    sqlite3_stmt *st;
    /* done wins over an earlier failed (a job requeued on its box) */
    if (sqlite3_prepare_v2(c->db, "INSERT INTO fleet_ends (job, state, box, text, stream_seq) VALUES (?1, ?2, ?3, ?4, ?5) "
                                  "ON CONFLICT (job) DO UPDATE SET state = excluded.state, box = excluded.box, "
                                  "text = excluded.text, stream_seq = excluded.stream_seq "
                                  "WHERE fleet_ends.state <> 'done'", -1, &st, NULL) != SQLITE_OK)
        return fail(c, "prepare");
    sqlite3_bind_text(st, 1, job, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, box, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (int64_t)stream_seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(c, "insert end");
}

int adm_collect_counts(adm_collect_db *c, int64_t *images, int64_t *ends) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT (SELECT count(*) FROM fleet_results), (SELECT count(*) FROM fleet_ends)", -1,
                           &st, NULL) != SQLITE_OK) return fail(c, "prepare");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) { *images = sqlite3_column_int64(st, 0); *ends = sqlite3_column_int64(st, 1); }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(c, "counts");
}
