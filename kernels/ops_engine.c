/* ops_engine.c — which code does the matrix work of each op shape: the
 * project's own kernels (kernels/conv.cl), im2col + CLBlast SGEMM (batched
 * SGEMM for attention) or CLBlast's convgemm.
 *
 * Backends (adm_ops_set_backend, env ADMD_BACKEND): "own", "clblast" and
 * "convgemm" force one engine everywhere (convgemm: convolutions only); "auto" (the default on GPUs and
 * accelerators) measures every candidate engine the first time an op
 * shape is seen and keeps the fastest.  A shape is the op with everything
 * but the batch size (conv3x3/s1 128x32x32->256), so the engine of an
 * image never depends on how many images share its pass, and every engine
 * computes each image of a batch alone in a fixed order: outputs stay
 * independent of batching under any choice.
 *
 * The choices are kept per device and driver on disk beside the program
 * cache, keyed like it (adm_cl.cache_key: kernel sources, build options,
 * device, driver, platform), plus the CLBlast version:
 * $ADMD_CACHE_DIR/engine-<key>.tsv, one line per shape:
 *     shape <TAB> engine <TAB> ms own <TAB> ms clblast <TAB> ms convgemm
 * (-1: not a candidate or failed).  A line that does not parse is ignored
 * (measured again).  adm_ops_engine_summary says what a job used.
 */
#include "ops_internal.h"
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const engine_names[ADM_N_ENGINES] = {"own", "clblast", "convgemm"};

const char *adm_engine_name(adm_engine e) { return e >= 0 && e < ADM_N_ENGINES ? engine_names[e] : "?"; }

#define MAX_SHAPES 512
struct adm_engine_table {
    int loaded;
    char path[1300];
    int n;
    struct { char shape[96]; adm_engine e; float ms[ADM_N_ENGINES]; int used; } s[MAX_SHAPES];
};

/* "" when there is no cache folder: the choices are then kept in memory only. */
static void table_path(adm_cl *cl, char *buf, size_t n) {
    char dir[1024], key[256], hash[65];
    buf[0] = 0;
    if (adm_cache_dir(dir, sizeof dir) != 0) return;
    int kn = snprintf(key, sizeof key, "%s\nCLBlast %d.%d.%d\n", cl->cache_key, CLBLAST_VERSION_MAJOR,
                      CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
    adm_sha256_hex(key, (size_t)kn, hash);
    snprintf(buf, n, "%s/engine-%.32s.tsv", dir, hash);
}

/* Append a row (the caller checks there is room). */
static void table_add(struct adm_engine_table *t, const char *shape, adm_engine e, const float *ms, int used) {
    snprintf(t->s[t->n].shape, sizeof t->s[t->n].shape, "%s", shape);
    t->s[t->n].e = e;
    memcpy(t->s[t->n].ms, ms, sizeof t->s[t->n].ms);
    t->s[t->n].used = used;
    t->n++;
}

static void table_load(adm_cl *cl, struct adm_engine_table *t) {
    t->loaded = 1;
    table_path(cl, t->path, sizeof t->path);
    FILE *f = t->path[0] ? fopen(t->path, "r") : NULL;
    if (!f) return;
    char line[512];
    while (t->n < MAX_SHAPES && fgets(line, sizeof line, f)) {
        char shape[96], name[16];
        float ms[ADM_N_ENGINES];
        if (sscanf(line, "%95[^\t]\t%15s\t%f\t%f\t%f", shape, name, &ms[0], &ms[1], &ms[2]) != 5) continue;
        int e = -1;
        for (int k = 0; k < ADM_N_ENGINES; k++) if (!strcmp(name, engine_names[k])) e = k;
        if (e < 0) continue;
        int dup = 0;
        for (int i = 0; i < t->n; i++) dup |= !strcmp(t->s[i].shape, shape);
        if (!dup) table_add(t, shape, (adm_engine)e, ms, 0);
    }
    fclose(f);
}

/* Rewrite the table file (atomically); a failure only costs a later re-measure. */
static void table_save(const struct adm_engine_table *t) {
    if (!t->path[0]) return;
    size_t cap = (size_t)t->n * 160 + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) return;
    for (int i = 0; i < t->n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%s\t%.4f\t%.4f\t%.4f\n", t->s[i].shape, engine_names[t->s[i].e],
                                t->s[i].ms[0], t->s[i].ms[1], t->s[i].ms[2]);
    char dir[sizeof t->path];
    snprintf(dir, sizeof dir, "%s", t->path);
    char *slash = strrchr(dir, '/');
    if (slash) { *slash = 0; adm_mkdir_p(dir, 0755); }
    if (adm_file_write_atomic(t->path, NULL, buf, len)) fprintf(stderr, "admd: engine choices not saved: %s\n", adm_last_error());
    free(buf);
}

static struct adm_engine_table *table_get(adm_cl *cl, struct adm_ops_state *st) {
    if (!st->engines && !(st->engines = adm_calloc(1, sizeof *st->engines))) return NULL;
    if (!st->engines->loaded) table_load(cl, st->engines);
    return st->engines;
}

/* Milliseconds of one run of engine e (after one untimed run), or -1 if it fails. */
static float time_engine(adm_cl *cl, adm_engine e, adm_engine_run run, void *arg) {
    if (run(cl, e, arg) || clFinish(cl->queue) != CL_SUCCESS) return -1.0f;
    enum { REPS = 3 };
    double t0 = adm_now();
    for (int r = 0; r < REPS; r++)
        if (run(cl, e, arg)) return -1.0f;
    if (clFinish(cl->queue) != CL_SUCCESS) return -1.0f;
    return (float)((adm_now() - t0) * 1e3 / REPS);
}

int adm_engine_pick(adm_cl *cl, const char *shape, unsigned candidates, adm_engine_run run, void *arg) {
    struct adm_ops_state *st = adm_ops_state_get(cl);
    if (!st) return -1;
    if (st->backend == ADM_BACKEND_OWN) return ADM_ENGINE_OWN;
    if (st->backend == ADM_BACKEND_CLBLAST) return ADM_ENGINE_CLBLAST;
    if (st->backend == ADM_BACKEND_CONVGEMM)
        return candidates >> ADM_ENGINE_CONVGEMM & 1 ? ADM_ENGINE_CONVGEMM : ADM_ENGINE_CLBLAST;
    struct adm_engine_table *t = table_get(cl, st);
    if (!t) return -1;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->s[i].shape, shape) && (candidates >> t->s[i].e & 1)) { t->s[i].used = 1; return t->s[i].e; }
    /* measure every candidate on the call's own buffers (the caller runs the winner after) */
    float ms[ADM_N_ENGINES];
    int best = -1;
    for (int e = 0; e < ADM_N_ENGINES; e++) {
        ms[e] = candidates >> e & 1 ? time_engine(cl, (adm_engine)e, run, arg) : -1.0f;
        if (ms[e] >= 0 && (best < 0 || ms[e] < ms[best])) best = e;
    }
    if (best < 0) return adm_error("%s: no engine ran (own, clblast, convgemm all failed)", shape);
    if (t->n < MAX_SHAPES) {
        table_add(t, shape, (adm_engine)best, ms, 1);
        table_save(t);
    }
    return best;
}

const char *adm_ops_engine_summary(const adm_cl *cl, char *buf, size_t n) {
    const struct adm_ops_state *st = cl->ops;
    if (!st) {                       /* nothing ran yet: the default */
        snprintf(buf, n, "%s", cl->type & CL_DEVICE_TYPE_CPU ? "own" : "auto");
        return buf;
    }
    if (st->backend != ADM_BACKEND_AUTO || !st->engines) {
        snprintf(buf, n, "%s", adm_backend_name(st->backend));
        return buf;
    }
    const struct adm_engine_table *t = st->engines;
    int count[ADM_N_ENGINES] = {0}, used = 0;
    size_t cap = (size_t)t->n * 128 + 1, len = 0;
    char *all = malloc(cap);
    for (int i = 0; i < t->n; i++) {
        if (!t->s[i].used) continue;
        count[t->s[i].e]++;
        used++;
        if (all) len += (size_t)snprintf(all + len, cap - len, "%s=%s;", t->s[i].shape, engine_names[t->s[i].e]);
    }
    char hash[65] = "";
    if (all) adm_sha256_hex(all, len, hash);
    free(all);
    snprintf(buf, n, "auto: %d shapes: own %d, clblast %d, convgemm %d (choices sha256 %.16s)", used,
             count[ADM_ENGINE_OWN], count[ADM_ENGINE_CLBLAST], count[ADM_ENGINE_CONVGEMM], hash);
    return buf;
}

int adm_ops_engine_table(adm_cl *cl, adm_engine_choice *out, int max) {
    struct adm_ops_state *st = adm_ops_state_get(cl);
    if (!st || !st->engines) return 0;
    int k = 0;
    for (int i = 0; i < st->engines->n && k < max; i++) {
        snprintf(out[k].shape, sizeof out[k].shape, "%s", st->engines->s[i].shape);
        out[k].engine = engine_names[st->engines->s[i].e];
        memcpy(out[k].ms, st->engines->s[i].ms, sizeof out[k].ms);
        out[k].used = st->engines->s[i].used;
        k++;
    }
    return k;
}

void adm_ops_engine_clear_used(adm_cl *cl) {
    struct adm_ops_state *st = cl->ops;
    if (!st || !st->engines) return;
    for (int i = 0; i < st->engines->n; i++) st->engines->s[i].used = 0;
}

void adm_engine_free(struct adm_engine_table *t) { free(t); }
