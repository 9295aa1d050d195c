/* spool_fleet.c — a box's side of the fleet in its spool (schema/009):
 * job messages taken once (fleet_inbox, keyed by message id), held,
 * acknowledged or released, and the outbox of results to publish.  The
 * NATS code is in fleet/; this file only talks SQL. */
#include "spool_internal.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One integer from a one-row query with up to two text and one int64
 * parameter; 0 ok, 1 no row, -1 error. */
static int query_int(adm_spool *s, const char *sql, const char *t1, const char *t2, int64_t i3, int64_t *out) {
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    if (t1) sqlite3_bind_text(st, 1, t1, -1, SQLITE_TRANSIENT);
    if (t2) sqlite3_bind_text(st, 2, t2, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, i3);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) { *out = sqlite3_column_int64(st, 0); ret = 0; }
    else if (rc != SQLITE_DONE) ret = spool_fail(s, "fleet");
    sqlite3_finalize(st);
    return ret;
}

/* Run sql with ?1 text and ?2 int64 (either may be unused). */
static int exec_ti(adm_spool *s, const char *sql, const char *t, int64_t i) {
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    if (t) sqlite3_bind_text(st, 1, t, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, i);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "fleet");
}

/* The job's state into state[ADM_SPOOL_SHORT]; 1 when the job is gone. */
static int job_state(adm_spool *s, int64_t job_id, char *state) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT state FROM jobs WHERE id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st), ret = 1;
    if (rc == SQLITE_ROW) { spool_col_text(st, 0, state, ADM_SPOOL_SHORT); ret = 0; }
    else if (rc != SQLITE_DONE) ret = spool_fail(s, "fleet: job state");
    sqlite3_finalize(st);
    return ret;
}

int adm_spool_fleet_take(adm_spool *s, const char *msg_id, uint64_t stream_seq, double published_s,
                         const char *holder, const adm_spool_request *r, int64_t *job_id) {
    *job_id = 0;
    if (spool_begin(s) != 0) return -1;
    int64_t id = 0;
    char inbox_state[ADM_SPOOL_SHORT] = "";
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT job_id, state FROM fleet_inbox WHERE msg_id = ?1", &st) != 0) goto fail;
    sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), found = rc == SQLITE_ROW;
    if (found) { id = sqlite3_column_int64(st, 0); spool_col_text(st, 1, inbox_state, sizeof inbox_state); }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) { spool_fail(s, "fleet: inbox"); goto fail; }

    if (found) {
        *job_id = id;
        char state[ADM_SPOOL_SHORT];
        int g = job_state(s, id, state);
        if (g < 0) goto fail;
        int ended = g == 1 || !strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "dead") ||
                    (!strcmp(state, "cancelled") && strcmp(inbox_state, "released") != 0);
        if (ended) {
            if (exec_ti(s, "UPDATE fleet_inbox SET deliveries = deliveries + 1 WHERE msg_id = ?1", msg_id, 0) != 0)
                goto fail;
            if (spool_commit(s) != 0) goto fail;
            return ADM_FLEET_ENDED;
        }
        if (!strcmp(state, "cancelled") &&
            exec_ti(s, "UPDATE jobs SET state = 'queued', error = NULL WHERE id = ?2", NULL, id) != 0) goto fail;
        if (spool_prepare(s, "UPDATE fleet_inbox SET state = 'held', holder = ?1, deliveries = deliveries + 1, "
                             "settled_at = NULL WHERE msg_id = ?2", &st) != 0) goto fail;
        sqlite3_bind_text(st, 1, holder, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, msg_id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) { spool_fail(s, "fleet: hold"); goto fail; }
        if (spool_commit(s) != 0) goto fail;
        return ADM_FLEET_HELD;
    }

    if (adm_spool_submit(s, r, &id) != 0) {
        /* A CHECK or trigger said no: the request is wrong, not the moment. */
        if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT) {
            char why[1024];
            snprintf(why, sizeof why, "%s", adm_last_error());
            spool_rollback(s);
            adm_error("%s", why);
            return ADM_FLEET_REFUSED;
        }
        goto fail;
    }
    if (spool_prepare(s, "INSERT INTO fleet_inbox (msg_id, job_id, stream_seq, holder, published_at) VALUES (?1, ?2, ?3, ?4, "
                         "CASE WHEN ?5 > 0 THEN strftime('%Y-%m-%d %H:%M:%f', ?5, 'unixepoch') END)",
                      &st) != 0) goto fail;
    sqlite3_bind_text(st, 1, msg_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, (int64_t)stream_seq);
    sqlite3_bind_text(st, 4, holder, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, published_s);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT) {   /* a malformed message id */
            char why[1024];
            snprintf(why, sizeof why, "%s", sqlite3_errmsg(s->db));
            spool_rollback(s);
            adm_error("%s", why);
            return ADM_FLEET_REFUSED;
        }
        spool_fail(s, "fleet: inbox insert");
        goto fail;
    }
    if (spool_commit(s) != 0) goto fail;
    *job_id = id;
    return ADM_FLEET_NEW;
fail:;
    char why[1024];
    snprintf(why, sizeof why, "%s", adm_last_error());
    spool_rollback(s);
    return adm_error("%s", why);
}

int adm_spool_fleet_acked(adm_spool *s, const char *msg_id) {
    return exec_ti(s, "UPDATE fleet_inbox SET state = 'acked', settled_at = " SPOOL_NOW " WHERE msg_id = ?1",
                   msg_id, 0);
}

typedef struct { char msg_id[129]; int64_t job_id; char holder[ADM_SPOOL_TEXT]; } held_row;
static void row_held(sqlite3_stmt *st, void *item) {
    held_row *h = item;
    spool_col_text(st, 0, h->msg_id, sizeof h->msg_id);
    h->job_id = sqlite3_column_int64(st, 1);
    spool_col_text(st, 2, h->holder, sizeof h->holder);
}

int adm_spool_fleet_release(adm_spool *s, const char *holder, int (*is_dead)(const char *worker, void *user),
                            void *user, int *n) {
    if (n) *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT msg_id, job_id, holder FROM fleet_inbox WHERE state = 'held' ORDER BY job_id", &st) != 0)
        return -1;
    void *items;
    int count;
    if (spool_collect(s, st, sizeof(held_row), row_held, &items, &count, "fleet: held") != 0) return -1;
    held_row *rows = items;
    int released = 0, ret = 0;
    for (int i = 0; i < count && ret == 0; i++) {
        held_row *h = &rows[i];
        int mine = holder ? !strcmp(h->holder, holder) : (is_dead && is_dead(h->holder, user));
        if (!mine) continue;
        if (spool_begin(s) != 0) { ret = -1; break; }
        if (exec_ti(s, "UPDATE jobs SET state = 'cancelled', error = 'fleet: released (the box stopped before it ended; "
                       "the job message went back to the queue)' WHERE id = ?2 AND state = 'queued'", NULL,
                    h->job_id) != 0 ||
            exec_ti(s, "UPDATE fleet_inbox SET state = 'released', settled_at = " SPOOL_NOW " WHERE msg_id = ?1",
                    h->msg_id, 0) != 0 ||
            spool_commit(s) != 0) {
            spool_rollback(s);
            ret = -1;
            break;
        }
        released++;
    }
    free(rows);
    if (n) *n = released;
    return ret;
}

int adm_spool_fleet_busy(adm_spool *s, const char *worker, int *n) {
    int64_t v = 0;
    int rc = query_int(s, "SELECT count(*) FROM jobs WHERE state = 'queued' OR (state = 'running' AND worker = ?1)",
                       worker, NULL, 0, &v);
    *n = (int)v;
    return rc < 0 ? -1 : 0;
}

static void row_outbox(sqlite3_stmt *st, void *item) {
    adm_spool_outbox_row *o = item;
    o->id = sqlite3_column_int64(st, 0);
    o->job_id = sqlite3_column_int64(st, 1);
    spool_col_text(st, 2, o->kind, sizeof o->kind);
    o->index = sqlite3_column_int(st, 3);
    spool_col_text(st, 4, o->msg_id, sizeof o->msg_id);
    o->tries = sqlite3_column_int(st, 5);
    o->out.job_id = o->job_id;
    o->out.index = o->index;
    o->out.seed = spool_col_int64(st, 6, -1);
    o->out.klass = spool_col_int(st, 7, -1);
    spool_col_text(st, 8, o->out.path, sizeof o->out.path);
    o->out.bytes = spool_col_int64(st, 9, 0);
    spool_col_text(st, 10, o->out.sha256, sizeof o->out.sha256);
    spool_col_text(st, 11, o->out.noise_algorithm, sizeof o->out.noise_algorithm);
    spool_col_text(st, 12, o->error, sizeof o->error);
    o->seed = spool_col_int64(st, 13, -1);
}

int adm_spool_outbox_pending(adm_spool *s, int max, adm_spool_outbox_row **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT o.id, o.job_id, o.kind, o.image_index, i.msg_id, o.tries, u.seed, u.class, u.path, "
                         "u.bytes, u.sha256, u.noise_algorithm, j.error, j.seed "
                         "FROM fleet_outbox o JOIN fleet_inbox i ON i.job_id = o.job_id "
                         "LEFT JOIN outputs u ON o.kind = 'image' AND u.job_id = o.job_id AND u.idx = o.image_index "
                         "LEFT JOIN jobs j ON j.id = o.job_id "
                         "WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?1", &st) != 0) return -1;
    sqlite3_bind_int(st, 1, max);
    void *items;
    if (spool_collect(s, st, sizeof **rows, row_outbox, &items, n, "fleet: outbox") != 0) return -1;
    *rows = items;
    return 0;
}

int adm_spool_outbox_sent(adm_spool *s, int64_t id, int messages, int64_t bytes, const char *error) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE fleet_outbox SET sent_at = " SPOOL_NOW ", tries = tries + 1, messages = ?2, "
                         "bytes = ?3, last_error = ?4 WHERE id = ?1", &st) != 0) return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, messages);
    sqlite3_bind_int64(st, 3, bytes);
    spool_bind_text(st, 4, error);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : spool_fail(s, "fleet: outbox sent");
}

int adm_spool_outbox_failed(adm_spool *s, int64_t id, const char *error) {
    return exec_ti(s, "UPDATE fleet_outbox SET tries = tries + 1, last_error = ?1 WHERE id = ?2", error, id);
}

int adm_spool_outbox_counts(adm_spool *s, int64_t *pending, int64_t *sent) {
    if (query_int(s, "SELECT count(*) FROM fleet_outbox WHERE sent_at IS NULL AND ?3 = ?3", NULL, NULL, 0, pending) < 0 ||
        query_int(s, "SELECT count(*) FROM fleet_outbox WHERE sent_at IS NOT NULL AND ?3 = ?3", NULL, NULL, 0, sent) < 0)
        return -1;
    return 0;
}

int adm_spool_outbox_unsent(adm_spool *s, int64_t job_id, int *n) {
    int64_t v = 0;
    int rc = query_int(s, "SELECT count(*) FROM fleet_outbox WHERE job_id = ?3 AND sent_at IS NULL", NULL, NULL, job_id, &v);
    *n = (int)v;
    return rc < 0 ? -1 : 0;
}
