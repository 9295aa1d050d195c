/* spool_db.c — opening a spool: the SQLite connection (WAL, busy timeout,
 * foreign keys), schema migrations from the embedded schema/NNN_*.sql files
 * (one transaction, PRAGMA user_version), and the statement helpers the
 * other spool files use.  See spool.h. */
#include "spool_internal.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_BUSY_MS 5000

/* ---- helpers ---- */

int spool_fail(adm_spool *s, const char *what) {
    return adm_error("spool %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int spool_prepare(adm_spool *s, const char *sql, sqlite3_stmt **st) {
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return spool_fail(s, "prepare");
    }
    return 0;
}

int spool_exec(adm_spool *s, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        adm_error("spool %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int spool_begin(adm_spool *s) { return spool_exec(s, "BEGIN IMMEDIATE"); }
int spool_commit(adm_spool *s) { return spool_exec(s, "COMMIT"); }
void spool_rollback(adm_spool *s) {
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int spool_bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (!v || !*v) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

void spool_col_text(sqlite3_stmt *st, int i, char *dst, size_t n) {
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t) { dst[0] = 0; return; }
    snprintf(dst, n, "%s", (const char *)t);
}

int spool_col_int(sqlite3_stmt *st, int i, int if_null) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_int(st, i);
}
int64_t spool_col_int64(sqlite3_stmt *st, int i, int64_t if_null) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_int64(st, i);
}
double spool_col_double(sqlite3_stmt *st, int i, double if_null) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_double(st, i);
}

int spool_collect(adm_spool *s, sqlite3_stmt *st, size_t elem, spool_row_fn row, void **out, int *n,
                  const char *what) {
    char *items = NULL;
    int cap = 0, rc;
    *out = NULL; *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char *p = realloc(items, elem * (size_t)cap);
            if (!p) { sqlite3_finalize(st); free(items); *n = 0; return adm_error("out of memory"); }
            items = p;
        }
        void *item = items + elem * (size_t)(*n)++;
        memset(item, 0, elem);
        row(st, item);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { free(items); *n = 0; return spool_fail(s, what); }
    *out = items;
    return 0;
}

/* ---- schema versions ---- */

/* The version of a migration file: its leading digits ("001_init.sql" -> 1). */
static int migration_version(const char *name) { return atoi(name); }

int adm_spool_latest_version(void) {
    int v = 0;
    for (int i = 0; adm_schema_sql[i].name; i++)
        if (migration_version(adm_schema_sql[i].name) > v) v = migration_version(adm_schema_sql[i].name);
    return v;
}

static int read_int_pragma(adm_spool *s, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    if (spool_prepare(s, sql, &st) != 0) return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) { sqlite3_finalize(st); return spool_fail(s, sql); }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int adm_spool_schema_version(adm_spool *s) {
    int64_t v;
    return read_int_pragma(s, "PRAGMA user_version", &v) != 0 ? -1 : (int)v;
}

int adm_spool_data_version(adm_spool *s, int64_t *version) {
    return read_int_pragma(s, "PRAGMA data_version", version);
}

/* Bring the schema up to date inside one BEGIN IMMEDIATE transaction (so
 * two daemons starting at once cannot both migrate).  A version newer than
 * this build is refused; a version-0 file that already has tables is not
 * ours and is refused too. */
static int migrate(adm_spool *s, int allowed) {
    int latest = adm_spool_latest_version();
    int64_t v, ntables;
    /* Up to date already: no write transaction needed (the common case). */
    if (read_int_pragma(s, "PRAGMA user_version", &v) != 0) return -1;
    if (v == latest && latest > 0) return 0;
    if (spool_begin(s) != 0) return -1;
    if (read_int_pragma(s, "PRAGMA user_version", &v) != 0) goto fail;
    if (v > latest) {
        adm_error("spool %s: schema version %lld is newer than this build knows (%d): upgrade admd",
                  s->path, (long long)v, latest);
        goto fail;
    }
    if (v == 0) {
        if (read_int_pragma(s, "SELECT count(*) FROM sqlite_master", &ntables) != 0) goto fail;
        if (ntables > 0) {
            adm_error("spool %s: not an admd spool (tables but no schema version)", s->path);
            goto fail;
        }
    }
    if (v < latest && !allowed) {
        adm_error("spool %s: schema version %lld is older than %d: let admd (or admctl init) migrate it",
                  s->path, (long long)v, latest);
        goto fail;
    }
    for (int i = 0; adm_schema_sql[i].name; i++) {
        int mv = migration_version(adm_schema_sql[i].name);
        if (mv <= v) continue;
        if (spool_exec(s, adm_schema_sql[i].text) != 0) {
            adm_error_prefix("migration %s", adm_schema_sql[i].name);
            goto fail;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", mv);
        if (spool_exec(s, sql) != 0) goto fail;
    }
    if (spool_commit(s) != 0) goto fail;
    return 0;
fail:
    spool_rollback(s);
    return -1;
}

/* ---- open / close ---- */

/* Run a statement that SQLite may refuse with "database is locked" without
 * waiting through the busy handler (switching a new file to WAL while other
 * processes open it too): retry every 10 ms for up to SPOOL_BUSY_MS. */
static int exec_retry_busy(adm_spool *s, const char *sql) {
    double until = adm_now() + SPOOL_BUSY_MS / 1000.0;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK) return 0;
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (!busy || adm_now() >= until) return spool_fail(s, sql);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int adm_spool_open(const char *path, int flags, adm_spool **out) {
    *out = NULL;
    if (!path || !*path) return adm_error("spool: no database path given");
    if (strlen(path) >= ADM_SPOOL_PATH - 1) return adm_error("spool: path too long");
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) return adm_error("spool %s: not a regular file", path);
    if (!exists && !(flags & ADM_SPOOL_CREATE))
        return adm_error("spool %s: no such file (create it with admctl init)", path);
    if (!exists && (flags & ADM_SPOOL_READONLY))
        return adm_error("spool %s: no such file", path);

    if (!exists) {
        /* Create the file ourselves with mode 0666 less the umask (SQLite
         * would use 0644): under `umask 007` the spool is group-writable,
         * and SQLite gives its -wal and -shm files the same mode.  An empty
         * file is an empty database; EEXIST means another process won. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) close(fd);
        else if (errno != EEXIST) return adm_error("spool %s: cannot create: %s", path, strerror(errno));
    }

    adm_spool *s = adm_calloc(1, sizeof *s);
    if (!s) return -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->lease_seconds = 60;
    int oflags = (flags & ADM_SPOOL_READONLY) ? SQLITE_OPEN_READONLY
                                              : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        adm_error("spool %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        adm_spool_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, SPOOL_BUSY_MS);
    sqlite3_extended_result_codes(s->db, 1);

    /* The folder, for relative model paths and the default output root. */
    char real[PATH_MAX];
    if (realpath(path, real)) {
        char *slash = strrchr(real, '/');
        if (slash == real) snprintf(s->dir, sizeof s->dir, "/");
        else { *slash = 0; snprintf(s->dir, sizeof s->dir, "%s", real); }
    } else {
        snprintf(s->dir, sizeof s->dir, ".");
    }

    if (!(flags & ADM_SPOOL_READONLY)) {
        /* WAL: readers (admctl, sqlite3) never block the daemon's writes. */
        if (exec_retry_busy(s, "PRAGMA journal_mode = WAL") != 0 ||
            spool_exec(s, "PRAGMA synchronous = NORMAL") != 0) goto fail;
    }
    if (spool_exec(s, "PRAGMA foreign_keys = ON") != 0) goto fail;
    if (flags & ADM_SPOOL_READONLY) {
        int v = adm_spool_schema_version(s), latest = adm_spool_latest_version();
        if (v < 0) goto fail;
        if (v != latest) {
            adm_error("spool %s: schema version %d, this build knows %d", path, v, latest);
            goto fail;
        }
    } else if (migrate(s, flags & ADM_SPOOL_MIGRATE) != 0) {
        goto fail;
    }
    *out = s;
    return 0;
fail:
    adm_spool_close(s);
    return -1;
}

void adm_spool_close(adm_spool *s) {
    if (!s) return;
    if (s->db) sqlite3_close_v2(s->db);
    free(s);
}

const char *adm_spool_path(const adm_spool *s) { return s->path; }
const char *adm_spool_dir(const adm_spool *s) { return s->dir; }

char *adm_spool_resolve(const adm_spool *s, const char *path, char *out, int out_len) {
    if (!path || !*path) { if (out_len > 0) out[0] = 0; return out; }
    if (path[0] == '/') snprintf(out, (size_t)out_len, "%s", path);
    else snprintf(out, (size_t)out_len, "%s/%s", s->dir, path);
    return out;
}
