/* unet_arena.c — first-fit activation arena, planned by a dry run.
 * See unet_arena.h. */
#include "unet_arena.h"
#include "util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 64

void adm_arena_init(adm_arena *a, size_t chunk_bytes) {
    memset(a, 0, sizeof *a);
    size_t chunk = chunk_bytes ? chunk_bytes / sizeof(float) : SIZE_MAX / 2;
    chunk -= chunk % ALIGN_FLOATS;
    a->chunk = chunk ? chunk : ALIGN_FLOATS;
}

void adm_arena_begin(adm_arena *a, int dry) {
    a->dry = dry;
    a->peak = 0;
    a->n_live = 0;
}

/* Move p to the next chunk start when [p, p+len) would cross a boundary. */
static size_t fit_chunk(const adm_arena *a, size_t p, size_t len) {
    if (p / a->chunk != (p + len - 1) / a->chunk) p = (p / a->chunk + 1) * a->chunk;
    return p;
}

int adm_arena_alloc(adm_arena *a, int n, int c, int h, int w, adm_dt *out) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return adm_error("activation arena: bad tensor shape [%d, %d, %d, %d]", n, c, h, w);
    size_t numel = (size_t)n * c * h * w;
    size_t len = (numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    if (len > a->chunk)
        return adm_error("not enough device memory: activation [%d, %d, %d, %d] needs %.1f MiB in one buffer, "
                         "the device's max allocation is %.1f MiB (use a smaller batch)", n, c, h, w,
                         numel * 4.0 / 1048576.0, a->chunk * 4.0 / 1048576.0);
    if (a->n_live == ADM_ARENA_MAX_LIVE)
        return adm_error("activation arena: more than %d live tensors", ADM_ARENA_MAX_LIVE);
    /* first fit: the lowest gap between live spans (kept sorted by offset) */
    size_t p = 0;
    int i = 0;
    for (; i < a->n_live; i++) {
        p = fit_chunk(a, p, len);
        if (p + len <= a->live[i].at) break;
        size_t end = a->live[i].at + a->live[i].len;
        if (end > p) p = end;
    }
    p = fit_chunk(a, p, len);
    if (!a->dry && p + len > a->size)
        return adm_error("activation arena: run does not follow its plan (%zu > %zu floats)", p + len, a->size);
    memmove(&a->live[i + 1], &a->live[i], (size_t)(a->n_live - i) * sizeof a->live[0]);
    a->live[i].at = p;
    a->live[i].len = len;
    a->n_live++;
    if (p + len > a->peak) a->peak = p + len;
    if (a->dry) *out = adm_dt_make(NULL, p, n, c, h, w);
    else *out = adm_dt_make(a->mem[p / a->chunk], p % a->chunk, n, c, h, w);
    return 0;
}

void adm_arena_free(adm_arena *a, const adm_dt *t) {
    size_t at = t->off;
    if (!a->dry) {
        int k = 0;
        while (k < a->n_mem && a->mem[k] != t->mem) k++;
        if (k == a->n_mem) return;                 /* not an arena tensor */
        at += (size_t)k * a->chunk;
    }
    for (int i = 0; i < a->n_live; i++) {
        if (a->live[i].at != at) continue;
        memmove(&a->live[i], &a->live[i + 1], (size_t)(a->n_live - i - 1) * sizeof a->live[0]);
        a->n_live--;
        return;
    }
}

int adm_arena_realize(adm_arena *a, adm_cl *cl, size_t floats) {
    if (floats <= a->size && a->n_mem) return 0;
    adm_arena_release(a);
    a->cl = cl;
    int n = (int)((floats + a->chunk - 1) / a->chunk);
    a->mem = adm_calloc((size_t)n, sizeof *a->mem);
    if (!a->mem) return -1;
    for (int k = 0; k < n; k++) {
        size_t f = floats - (size_t)k * a->chunk;
        if (f > a->chunk) f = a->chunk;
        a->mem[k] = adm_cl_alloc(cl, f * sizeof(float));
        if (!a->mem[k]) {
            adm_error_prefix("activation arena (%zu MiB)", floats * sizeof(float) >> 20);
            adm_arena_release(a);
            return -1;
        }
        a->n_mem = k + 1;
    }
    a->size = floats;
    return 0;
}

size_t adm_arena_bytes(const adm_arena *a) { return a->size * sizeof(float); }

void adm_arena_release(adm_arena *a) {
    for (int k = 0; k < a->n_mem; k++) adm_cl_release(a->cl, a->mem[k]);
    free(a->mem);
    a->mem = NULL;
    a->n_mem = 0;
    a->size = 0;
}
