/* admctl_submit_args.h — the options of a job request, parsed once for
 * `admctl submit` (into the local spool) and `admctl fleet submit` (onto the
 * fleet's NATS queue): model, classes, count, scale, sampler and its
 * settings, seed, priority, outdir, attempts; the second stage and given
 * images (local submit only); --db or the --nats options. */
#ifndef ADM_ADMCTL_SUBMIT_ARGS_H
#define ADM_ADMCTL_SUBMIT_ARGS_H
#include "spool.h"
#include <stdio.h>

typedef struct {
    adm_spool_request r;                /* the job; r.klass set per class by the caller */
    adm_spool_stages st;                /* local submit: --upsampler/--up-*, --input */
    int classes[1000], n_classes;       /* one job per class (-1: random) */
    int json, seed_given;
    const char *class_names;            /* --class gave names: admctl_submit_classes resolves them */
    const char *db;                     /* local submit */
    const char *nats, *creds, *ca, *ack_wait;   /* fleet submit */
} admctl_submit_args;

/* fleet 0: `admctl submit`; 1: `admctl fleet submit`. */
void admctl_submit_usage(FILE *f, int fleet);
/* Fills *a from argv (argv[0] is the command); prints the usage and the
 * error on a bad argument.  Returns ADMCTL_OK, ADMCTL_USAGE or ADMCTL_FAIL. */
int admctl_submit_parse(int argc, char **argv, int fleet, admctl_submit_args *a);
/* Local submit: --class names looked up in the model's names in s (into
 * classes[], n_classes).  ADMCTL_OK, or ADMCTL_FAIL after the error. */
int admctl_submit_classes(admctl_submit_args *a, adm_spool *s);
#endif
