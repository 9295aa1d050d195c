/* spool_internal.h — what the spool's .c files share (not for callers):
 * the handle, statement helpers that turn SQLite errors into adm_error
 * messages, and column copies into the fixed-size fields of spool.h. */
#ifndef ADM_SPOOL_INTERNAL_H
#define ADM_SPOOL_INTERNAL_H
#include "spool.h"
#include <sqlite3.h>
#include <stddef.h>

struct adm_spool {
    sqlite3 *db;
    char path[ADM_SPOOL_PATH];
    char dir[ADM_SPOOL_PATH];
    char worker[ADM_SPOOL_TEXT];     /* "" until adm_spool_set_worker */
    double lease_seconds;
};

/* SQL text for "now" in the schema's timestamp format. */
#define SPOOL_NOW "strftime('%Y-%m-%d %H:%M:%f', 'now')"

/* Prepare sql; on failure adm_error("spool PATH: <sqlite message>"). */
int spool_prepare(adm_spool *s, const char *sql, sqlite3_stmt **st);
/* Set adm_error from the connection's last error, prefixed by what; -1. */
int spool_fail(adm_spool *s, const char *what);
/* Run sql (no results); -1 + adm_error on failure. */
int spool_exec(adm_spool *s, const char *sql);
/* Transactions: BEGIN IMMEDIATE (waits out the busy timeout), COMMIT,
 * ROLLBACK (ignores errors; used on failure paths). */
int spool_begin(adm_spool *s);
int spool_commit(adm_spool *s);
void spool_rollback(adm_spool *s);

/* Bind text, or NULL when s is NULL or empty. */
int spool_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Copy column i as text into dst[n] ("" for NULL; truncated safely). */
void spool_col_text(sqlite3_stmt *st, int i, char *dst, size_t n);
/* Column i as int/int64/double with a value for NULL. */
int spool_col_int(sqlite3_stmt *st, int i, int if_null);
int64_t spool_col_int64(sqlite3_stmt *st, int i, int64_t if_null);
double spool_col_double(sqlite3_stmt *st, int i, double if_null);

/* Step st to its end, one elem-sized item per row (row() fills it from
 * the statement; the item starts zeroed) into a malloc'd *out of *n items;
 * finalizes st.  -1 + adm_error ("out of memory", or `what` and SQLite's
 * message) with *out NULL and *n 0. */
typedef void (*spool_row_fn)(sqlite3_stmt *st, void *item);
int spool_collect(adm_spool *s, sqlite3_stmt *st, size_t elem, spool_row_fn row, void **out, int *n,
                  const char *what);

/* Fill a job from a row of SPOOL_JOB_COLUMNS starting at column 0. */
#define SPOOL_JOB_COLUMNS "id, model, class, count, scale, sampler, respacing, eta, seed, priority, " \
    "outdir, max_attempts, state, attempts, worker, lease_until, step, total_steps, images_done, " \
    "created_at, started_at, finished_at, updated_at, error, steps, skip, thresholding, pass_images"
#define SPOOL_JOB_NCOLS 28           /* the position (SPOOL_POSITION) follows them */
void spool_row_job(sqlite3_stmt *st, adm_spool_job *job);
/* Same for models (SPOOL_MODEL_COLUMNS). */
#define SPOOL_MODEL_COLUMNS "name, unet_path, unet_config, classifier_path, classifier_config, " \
    "unet_sha256, classifier_sha256, image_size, channels, num_classes, default_sampler, " \
    "default_respacing, default_scale, created_at, default_steps"
void spool_row_model(sqlite3_stmt *st, adm_spool_model *m);

/* Insert or replace a job's provenance row (inside the caller's transaction). */
int spool_write_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p);
/* Its stage columns (schema 008), in the same transaction / after the read. */
int spool_write_stage_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p);
int spool_read_stage_provenance(adm_spool *s, int64_t job_id, adm_spool_provenance *p);

/* Its batch columns (schema 010, spool_batch.c): written when p->passes > 0. */
int spool_write_batch_provenance(adm_spool *s, int64_t job_id, const adm_spool_provenance *p);
int spool_read_batch_provenance(adm_spool *s, int64_t job_id, adm_spool_provenance *p);

/* Record one image (outputs or stage_outputs) with its job's counter, in
 * one transaction (spool_worker.c).  0, 1 when the job is no longer ours,
 * -1 + error. */
int spool_record_image(adm_spool *s, const adm_spool_output *o, const char *advance_sql, const char *insert_sql,
                       const char *what);

#endif
