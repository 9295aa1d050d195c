/* ops_internal.h — what kernels/ops*.c share and nobody else needs: the
 * per-device op state (scratch buffer, chosen matrix backend), kernel
 * launching with profiling, and argument checks.
 */
#ifndef ADM_OPS_INTERNAL_H
#define ADM_OPS_INTERNAL_H
#include "ops.h"
#include "util.h"

/* Which code does the matrix work (convs, attention products): one
 * engine everywhere, or the fastest per op shape (ops_engine.c). */
typedef enum { ADM_BACKEND_OWN, ADM_BACKEND_CLBLAST, ADM_BACKEND_AUTO, ADM_BACKEND_CONVGEMM } adm_backend;

/* Timing table of admctl bench: per op kind (or kernel), per context. */
#define ADM_PROF_KINDS 48
#define ADM_PROF_PENDING 4096
typedef struct {
    adm_op_time kinds[ADM_PROF_KINDS];
    int n_kinds;
    struct { const char *kind; cl_event ev; } pending[ADM_PROF_PENDING];
    int n_pending;
    int by_kernel;           /* 1: account time per kernel name instead of per op kind */
} adm_profile;

struct adm_ops_state {
    cl_mem scratch;          /* grows on demand; adm_ops_reserve_scratch sizes it up front */
    size_t scratch_floats;
    adm_backend backend;
    size_t attn_cap;         /* floats of attention scores per chunk (0: default) */
    adm_profile prof;
    struct adm_engine_table *engines;   /* auto: the measured choices (ops_engine.c) */
};

const char *adm_backend_name(adm_backend b);

/* Run one op with engine e (arg: the op's arguments); 0 or -1. */
typedef int (*adm_engine_run)(adm_cl *cl, adm_engine e, void *arg);
/* The engine for op shape `shape` (no batch size in it) among the
 * candidates (bit e set: engine e can run it): forced by the backend, the
 * recorded choice, or measured now by run() and recorded.  -1 on error. */
int adm_engine_pick(adm_cl *cl, const char *shape, unsigned candidates, adm_engine_run run, void *arg);
void adm_engine_free(struct adm_engine_table *t);

/* The state of cl (created on first use); NULL + adm_error on failure. */
struct adm_ops_state *adm_ops_state_get(adm_cl *cl);
/* The scratch buffer with room for `floats` (grown if needed). */
cl_mem adm_ops_scratch(adm_cl *cl, size_t floats);

/* Set kernel k's arguments: a list of (size, pointer) pairs ending with 0. */
int adm_set_args(const adm_kernel *k, ...);
#define ARG(x) sizeof(x), (const void *)&(x)

/* Enqueue kernel k over gws (rounded up to lws; kernels bound-check).
 * lws must fit k->max_wg (take it from adm_cl_wg).  kind names the op for
 * adm_ops_times; label (NULL: the kernel's name) names the launch in
 * per-kernel profiles. */
int adm_launch(adm_cl *cl, const adm_kernel *k, const char *label, const char *kind,
               int dims, const size_t *gws, const size_t *lws);
/* One-dimensional launch of n items, work-groups of up to 64 (within the
 * kernel's and device's limits); for kernels without local memory, whose
 * results do not depend on the group size. */
int adm_launch1(adm_cl *cl, const adm_kernel *k, const char *kind, size_t n);

/* Record an event (from CLBlast) for the timing table; takes ownership. */
void adm_ops_record(adm_cl *cl, const char *kind, cl_event ev);

/* "op: x is [1,2,3,4], expected ..." style shape errors. */
int adm_shape_error(const char *op, const char *what, const adm_dt *t, const char *expected);

/* Internal invariants that the wrappers' own arithmetic guarantees (views
 * inside their buffers, work sizes within the kernel's limit) are checked
 * with assert: on in the default build (make, make check), compiled out
 * with -DNDEBUG.  Shape errors a caller can cause stay adm_error returns. */
#include <assert.h>
void adm_assert_view(const adm_dt *t);
#ifdef NDEBUG
#define ADM_ASSERT_VIEW(t) ((void)0)
#else
#define ADM_ASSERT_VIEW(t) adm_assert_view(t)
#endif

#endif
