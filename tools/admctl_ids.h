/* admctl_ids.h — the one way admctl's commands take a set of jobs:
 * arguments "3", "3,5", "5-9" (mixed freely: "1,4-6,9") and `--state S`
 * (every job in state S), in the order given, duplicates dropped (unless
 * keep_repeats: a contact sheet may show a job twice).
 * Used by cancel, retry, show, audit, sheet, sweep --jobs and prune. */
#ifndef ADM_ADMCTL_IDS_H
#define ADM_ADMCTL_IDS_H
#include "spool.h"
#include <stdint.h>

typedef struct {
    int64_t *v;       /* the ids, in the order first named */
    int n, cap;
    int keep_repeats;  /* set before parsing: keep an id named twice */
} admctl_ids;

/* Append the ids of one argument ("3", "3,5", "5-9"; a range spans at most
 * 1,000,000 ids).  -1 + adm_error naming the argument when it is not a list. */
int admctl_ids_parse(admctl_ids *l, const char *spec);
/* Append every job of the spool in state (one of queued running done
 * failed cancelled dead), ascending.  -1 + error on an unknown state. */
int admctl_ids_add_state(admctl_ids *l, adm_spool *s, const char *state);
/* 1 when the argument looks like an id list (starts with a digit). */
int admctl_ids_is_spec(const char *arg);
void admctl_ids_free(admctl_ids *l);

#endif
