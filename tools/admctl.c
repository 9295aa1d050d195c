/* admctl.c — the command-line face of admd: dispatch to subcommands.
 * Each subcommand lives in tools/cmd_<name>.c; add it to the table below. */
#include "admctl.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef int (*admctl_cmd_fn)(int argc, char **argv);

/* Subcommands (one line each, in the order `admctl --help` lists them). */
#define ADMCTL_COMMANDS(X) \
    X(inspect,  "list a checkpoint's tensors and the config they imply") \
    X(devices,  "list OpenCL devices and self-test each (GEMM, UNet block vs host)") \
    X(bench,    "time the UNet forward (random weights): ms, GFLOP/s, memory, per-op times") \
    X(unet,     "run one UNet forward pass on .npy inputs (parity, debugging)") \
    X(classifier, "classifier logits and input gradient on .npy inputs (guidance)") \
    X(features, "FID Inception features (pool3, spatial, logits) of uint8 .npy images; speed bench") \
    X(compare,  "max difference of two .npy arrays (parity against reference outputs)") \
    X(sample,   "sample images with classifier guidance (DDPM/DDIM/DPM-Solver; Philox or replayed noise)") \
    X(generate, "one-shot: -m MODEL -c CLASS -n N -s SEED --steps N -o DIR, PNGs as admd writes them") \
    X(guidance, "guidance scale experiment: accuracy and diversity per scale, grid PNG") \
    X(init,     "create a spool (database) and register the default model") \
    X(model,    "add, list, show or remove models, their class names, presets") \
    X(submit,   "queue a job: class, count, guidance scale, sampler, seed") \
    X(fleet,    "many boxes over NATS JetStream: submit, status, collect") \
    X(list,     "jobs, newest first, with progress") \
    X(status,   "counts per state, the running jobs and the queue") \
    X(watch,    "follow a job with a live progress bar until it ends") \
    X(cancel,   "cancel queued or running jobs") \
    X(retry,    "put failed or dead jobs back in the queue") \
    X(show,     "a job's parameters, provenance and outputs") \
    X(audit,    "regenerate a job's images from the record: identical bytes or max pixel difference") \
    X(sheet,    "contact sheet PNG of jobs' images, labelled") \
    X(sweep,    "guidance sweep: accuracy and diversity against scale, chart + sheets") \
    X(chart,    "line chart PNG of a tab-separated table (one line per series)") \
    X(prune,    "delete old ended jobs with their files (--older-than, --keep-last, --dry-run)") \
    X(metrics,  "spool metrics in Prometheus text format (node_exporter textfile collector)") \
    X(eval,     "FID, sFID, Inception Score, precision, recall against a reference batch") \
    X(export,   "finished jobs' images as one .npz in the evaluator's sample format (--npz)") \
    X(convert,  "rewrite a checkpoint as .safetensors (optionally fp16)")

#define DECLARE(name, help) int cmd_##name(int argc, char **argv);
ADMCTL_COMMANDS(DECLARE)
#define ENTRY(name, help) {#name, cmd_##name, help},
static const struct { const char *name; admctl_cmd_fn fn; const char *help; } commands[] = {
    ADMCTL_COMMANDS(ENTRY)
};

int admctl_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("admctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return ADMCTL_FAIL;
}

int admctl_opt(int argc, char **argv, int *i, const char *name, const char **val) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') { *val = argv[*i] + n + 1; return 1; }
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) { admctl_fail("%s needs a value", name); exit(ADMCTL_USAGE); }
    *val = argv[++*i];
    return 1;
}

int admctl_flag(char **argv, int i, const char *name, int *flag) {
    if (strcmp(argv[i], name) != 0) return 0;
    *flag = 1;
    return 1;
}

int admctl_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: admctl COMMAND [ARGS]   (admctl COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nadmctl %s\n", ADM_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return ADMCTL_USAGE; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) { printf("admctl %s\n", ADM_VERSION); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    admctl_fail("unknown command '%s' (see admctl --help)", argv[1]);
    return ADMCTL_USAGE;
}
