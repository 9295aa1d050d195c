/* ops_internal.h — what kernels/ops*.c share and nobody else needs: the
 * per-device op state (scratch buffer, chosen matrix backend), kernel
 * launching with profiling, and argument checks.
 */
#ifndef ADM_OPS_INTERNAL_H
#define ADM_OPS_INTERNAL_H
#include "ops.h"
#include "util.h"

/* Which code does the matrix work (convs, attention products). */
typedef enum { ADM_BACKEND_OWN, ADM_BACKEND_CLBLAST } adm_backend;

struct adm_ops_state {
    cl_mem scratch;          /* grows on demand; adm_ops_reserve_scratch sizes it up front */
    size_t scratch_floats;
    adm_backend backend;
    size_t attn_cap;         /* floats of attention scores per chunk (0: default) */
};

/* The state of cl (created on first use); NULL + adm_error on failure. */
struct adm_ops_state *adm_ops_state_get(adm_cl *cl);
/* The scratch buffer with room for `floats` (grown if needed). */
cl_mem adm_ops_scratch(adm_cl *cl, size_t floats);

/* Set kernel arguments: a list of (size, pointer) pairs ending with 0. */
int adm_set_args(cl_kernel k, const char *name, ...);
#define ARG(x) sizeof(x), (const void *)&(x)

/* Enqueue kernel `name` over gws (rounded up to lws, which is fixed per
 * kernel); kind names the op for adm_ops_times. */
int adm_launch(adm_cl *cl, cl_kernel k, const char *name, const char *kind,
               int dims, const size_t *gws, const size_t *lws);
/* One-dimensional elementwise launch with the fixed group size 64. */
int adm_launch1(adm_cl *cl, cl_kernel k, const char *name, const char *kind, size_t n);

/* Record an event (from CLBlast) for the timing table; takes ownership. */
void adm_ops_record(adm_cl *cl, const char *kind, cl_event ev);

/* "op: x is [1,2,3,4], expected ..." style shape errors. */
int adm_shape_error(const char *op, const char *what, const adm_dt *t, const char *expected);

#endif
