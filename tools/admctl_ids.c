/* admctl_ids.c — job id lists for admctl (see admctl_ids.h). */
#include "admctl_ids.h"
#include "util.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ADMCTL_IDS_MAX_RANGE 1000000

static int push(admctl_ids *l, int64_t id) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return adm_error("out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = id;
    return 0;
}

typedef struct { int64_t id; int pos; } id_pos;
static int by_id_pos(const void *a, const void *b) {
    const id_pos *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Drop repeated ids, keeping each at its first place: O(n log n). */
static int dedupe(admctl_ids *l) {
    if (l->n < 2) return 0;
    id_pos *t = malloc((size_t)l->n * sizeof *t);
    if (!t) return adm_error("out of memory");
    for (int k = 0; k < l->n; k++) t[k] = (id_pos){l->v[k], k};
    qsort(t, (size_t)l->n, sizeof *t, by_id_pos);
    char *keep = calloc((size_t)l->n, 1);
    if (!keep) { free(t); return adm_error("out of memory"); }
    for (int k = 0; k < l->n; k++)
        if (k == 0 || t[k].id != t[k - 1].id) keep[t[k].pos] = 1;
    int m = 0;
    for (int k = 0; k < l->n; k++)
        if (keep[k]) l->v[m++] = l->v[k];
    l->n = m;
    free(keep);
    free(t);
    return 0;
}

static int parse_id(const char *p, const char **end, int64_t *id) {
    char *e;
    errno = 0;
    if (!isdigit((unsigned char)*p)) return -1;
    long long v = strtoll(p, &e, 10);
    if (e == p || errno || v <= 0) return -1;
    *id = v;
    *end = e;
    return 0;
}

int admctl_ids_parse(admctl_ids *l, const char *spec) {
    const char *p = spec;
    if (!*p) return adm_error("empty job list");
    while (*p) {
        int64_t a, b;
        if (parse_id(p, &p, &a) != 0)
            return adm_error("job list '%s': '%s' is not a job id (a positive number)", spec, p);
        b = a;
        if (*p == '-') {
            if (parse_id(p + 1, &p, &b) != 0 || b < a)
                return adm_error("job list '%s': bad range (want FIRST-LAST with FIRST <= LAST)", spec);
            if (b - a >= ADMCTL_IDS_MAX_RANGE)
                return adm_error("job list '%s': a range spans at most %d ids", spec, ADMCTL_IDS_MAX_RANGE);
        }
        for (int64_t v = a; v <= b; v++)
            if (push(l, v) != 0) return -1;
        if (*p == ',' && p[1]) p++;
        else if (*p) return adm_error("job list '%s': unexpected '%s'", spec, p);
    }
    return l->keep_repeats ? 0 : dedupe(l);
}

int admctl_ids_add_state(admctl_ids *l, adm_spool *s, const char *state) {
    static const char *states[] = {"queued", "running", "done", "failed", "cancelled", "dead"};
    int known = 0;
    for (int i = 0; i < 6; i++) known |= !strcmp(state, states[i]);
    if (!known) return adm_error("--state '%s': expected queued, running, done, failed, cancelled or dead", state);
    int64_t *ids = NULL;
    int n = 0;
    if (adm_spool_job_ids(s, state, &ids, &n) != 0) return -1;
    for (int k = 0; k < n; k++)
        if (push(l, ids[k]) != 0) { free(ids); return -1; }
    free(ids);
    return l->keep_repeats ? 0 : dedupe(l);
}

int admctl_ids_is_spec(const char *arg) { return isdigit((unsigned char)arg[0]); }

void admctl_ids_free(admctl_ids *l) {
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
