/* admctl_spool.h — what admctl's spool-facing subcommands share: finding
 * and opening the spool (--db or $ADMD_DB), finding the embedded default
 * model, parsing class lists, and printing jobs. */
#ifndef ADM_ADMCTL_SPOOL_H
#define ADM_ADMCTL_SPOOL_H
#include "admctl_table.h"
#include "spool.h"
#include <stdio.h>

/* The database admctl uses when --db is not given. */
#define ADMCTL_DB_ENV "ADMD_DB"
#define ADMCTL_DB_SYSTEM "/var/lib/admd/spool.db"

/* The help line every spool command prints for --db. */
#define ADMCTL_DB_HELP \
    "  --db PATH     the spool database (default: $ADMD_DB, else " ADMCTL_DB_SYSTEM ")\n"

/* db: the --db value or NULL.  Opens the spool (migrating it when the
 * flags ask), printing "admctl: ..." on failure; returns NULL then. */
adm_spool *admctl_spool_open(const char *db, int flags);

/* The folder holding the embedded default model ("<dir>/unet.*"):
 * $ADMD_MODELS/mnist, else next to the admctl binary (../models/mnist in a
 * build tree, ../share/admd/models/mnist when installed).  NULL + error. */
const char *admctl_default_model_dir(char *out, size_t len);
/* The registration of the embedded model found in dir (name "mnist"):
 * prefers unet.safetensors over unet.pt, the same for the classifier.
 * Paths are made absolute. */
int admctl_default_model(const char *dir, adm_spool_model *m);

/* "3", "0-9", "1,4,7", "random" (-1) into classes[] (at most max);
 * returns the count, or -1 + error. */
int admctl_parse_classes(const char *spec, int *classes, int max);
/* "0,1,2,4,10" into values[]; returns the count, or -1 + error. */
int admctl_parse_doubles(const char *spec, double *values, int max);
/* A job id argument ("12"); -1 + error when not a positive integer. */
int admctl_parse_job_id(const char *s, int64_t *id);

/* The jobs table of list and status (tools/admctl_table.h): its columns,
 * then a row per job.  0, or -1 when out of memory. */
int admctl_job_columns(admctl_table *t);
int admctl_job_row(admctl_table *t, const adm_spool_job *j);
/* "step 12/50, image 3/10" style progress text of a job. */
void admctl_job_progress(const adm_spool_job *j, char *buf, size_t len);

/* Label text under an image in contact sheets: "7\ns=4", "7 seven\ns=4"
 * with a name (NULL: none; at most ADMCTL_CELL_NAME characters of it, in
 * ASCII), "rnd" when the class was random, scale with up to 2 decimals. */
#define ADMCTL_CELL_NAME 14
void admctl_cell_label(int klass, const char *name, double scale, char *buf, size_t len);

/* Contact sheet of the outputs of jobs ids[0..n) (in that order, then by
 * image index), labelled with class and scale, written to out (cmd_sheet.c).
 * cols <= 0: up to 10 per row.  Returns 0, 1 when some output was missing
 * (marked in the sheet, named on stderr), -1 + error. */
int admctl_sheet_jobs(adm_spool *s, const int64_t *ids, int n, const char *out, int cols, const char *title,
                      int *images);

/* Sleep for seconds (fractions allowed). */
void admctl_sleep(double seconds);

/* A job has ended (done, failed, cancelled, dead). */
int admctl_job_ended(const adm_spool_job *j);

#endif
