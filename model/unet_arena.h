/* unet_arena.h — the activation arena of a network forward (private to model/).
 *
 * A forward is first run "dry" (planning): every temporary is allocated and
 * freed in the same order as in a real run, against an unbounded address
 * space, which gives the peak.  adm_arena_realize then allocates the device
 * buffers once, and real runs replay the identical sequence, so they get the
 * same offsets and allocate nothing.
 *
 * Placement is first-fit in the sorted list of live spans (offsets in
 * floats, aligned to 64 floats = 256 bytes, valid CLBlast offsets).  A span
 * never crosses a chunk boundary, chunk = the device's max allocation size,
 * so each chunk is one cl_mem the device accepts.
 */
#ifndef ADM_UNET_ARENA_H
#define ADM_UNET_ARENA_H
#include "ops.h"

#define ADM_ARENA_MAX_LIVE 256

typedef struct {
    int dry;                 /* 1: planning (views have mem = NULL, off = arena offset) */
    size_t chunk;            /* floats per cl_mem */
    size_t peak;             /* high-water mark of this run, floats */
    size_t size;             /* floats the device buffers hold */
    adm_cl *cl;              /* the device of mem (adm_arena_realize's) */
    cl_mem *mem;
    int n_mem;
    struct { size_t at, len; } live[ADM_ARENA_MAX_LIVE];
    int n_live;
} adm_arena;

/* chunk_bytes: the device's max allocation (0: unlimited). */
void adm_arena_init(adm_arena *a, size_t chunk_bytes);
/* Start a run (dry or real): no live spans, peak 0.  Keeps the buffers. */
void adm_arena_begin(adm_arena *a, int dry);
/* A tensor view [n, c, h, w]; -1 + adm_error when a real run overflows the plan. */
int adm_arena_alloc(adm_arena *a, int n, int c, int h, int w, adm_dt *out);
void adm_arena_free(adm_arena *a, const adm_dt *t);
/* Make the device buffers hold `floats` (reallocating only when they are smaller). */
int adm_arena_realize(adm_arena *a, adm_cl *cl, size_t floats);
size_t adm_arena_bytes(const adm_arena *a);
void adm_arena_release(adm_arena *a);

#endif
