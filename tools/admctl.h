/* admctl.h — shared by admctl's subcommands (tools/cmd_*.c).
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand name) returning an exit status: 0 ok, 1 failure, 2 usage. */
#ifndef ADM_ADMCTL_H
#define ADM_ADMCTL_H
#include <stdio.h>

#define ADMCTL_OK 0
#define ADMCTL_FAIL 1
#define ADMCTL_USAGE 2

/* Print "admctl: <msg>" to stderr (printf-style); returns ADMCTL_FAIL. */
int admctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option helper: if argv[*i] is `name` (takes a value) store the next
 * argument in *val and advance *i.  Also accepts --name=value. */
int admctl_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* If argv[*i] is the flag `name`, set *flag = 1. */
int admctl_flag(char **argv, int i, const char *name, int *flag);

/* Is "-h"/"--help" among the arguments? */
int admctl_wants_help(int argc, char **argv);

/* ---- tools/admctl_io.c ---- */
#include "cl_runtime.h"
#include <stddef.h>
#include <stdint.h>

/* An int64/int32 .npy vector of length B (`what`: "t", "y" for messages)
 * as malloc'd int64 in *out; -1 + adm_last_error on a bad file or shape. */
int admctl_read_index_vector(const char *path, const char *what, int B, int64_t **out);
/* Model times t [B] as float32: from a .npy vector (float32, float64 or
 * int), or one number ("412.5") for every image. */
int admctl_read_time_vector(const char *path, int B, float **out);
/* "B[,B...]" (each 1..4096) into bs[0..max-1]: the count, or -1 after
 * printing the error (a usage error). */
int admctl_parse_batches(const char *list, int *bs, int max);
/* "N" (1..10000): N, or -1 after printing the error (a usage error). */
int admctl_parse_iters(const char *s);
/* The benchmarks' device: open with profiling, choose the matrix backend
 * (NULL: default), warm up, print one line.  ADMCTL_OK with cl open, or
 * ADMCTL_FAIL (message printed, nothing left open). */
int admctl_bench_device(adm_cl *cl, const char *device, const char *backend);
/* Where the benchmarks' prose goes: stdout, or stderr under --json. */
extern FILE *admctl_bench_prose;
/* n deterministic floats in [-1, 1) from a 64-bit LCG state. */
void admctl_fill_uniform(float *x, size_t n, uint64_t *state);

/* ---- tools/admctl_progress.c ---- */
#include "tensor.h"
/* Columns of the terminal on fd (TIOCGWINSZ, else $COLUMNS, else 80). */
int admctl_term_columns(int fd);
/* "prefix [####....] NN% suffix" in at most columns - 1 characters (the bar
 * shrinks, then goes, then the text is cut): a redraw never wraps. */
void admctl_progress_format(char *out, size_t n, int columns, const char *prefix, double frac, const char *suffix);
/* A terminal redraws the line in place ("
", erase); else one line. */
void admctl_progress_show(FILE *f, int tty, const char *line);
/* Progress through N items (to stderr, usually): a bar with rate and ETA,
 * on a terminal at most 10 redraws a second, in a log a line every 10 s
 * and one at the end. */
typedef struct {
    FILE *f;
    const char *what, *unit;
    int tty;
    int bytes;                 /* done and total are bytes: shown as MB and MB/s */
    int ended;                 /* the last line (done == total) was drawn */
    double t0, last;
} admctl_counter;
void admctl_counter_init(admctl_counter *c, FILE *f, const char *what, const char *unit);
void admctl_counter_update(admctl_counter *c, int64_t done, int64_t total);
/* Files read or hashed between begin and end (adm_read_untrusted,
 * adm_sha256_file) draw a counter in MB on stderr: "VERB <file name>". */
void admctl_read_bar_begin(const char *verb, const char *path);
void admctl_read_bar_end(void);
/* adm_tensors_load with that bar ("reading NAME"), the sha256 of the bytes
 * read computed on the way when sha256 is not NULL.  0, or -1 + error. */
int admctl_tensors_load(const char *path, adm_tensor_set *out, char sha256[65]);
/* adm_sha256_file with that bar ("hashing NAME"). */
int admctl_sha256_file(const char *path, char out[65]);

/* `admctl bench --classifier X` is handled by tools/cmd_classifier.c. */
int admctl_bench_classifier(int argc, char **argv);
#endif
