/* ops.h — the forward operations of the ADM networks, one host wrapper per
 * op, each enqueuing kernels from kernels/NAME.cl (or CLBlast) on cl->queue.
 *
 * A device tensor (adm_dt) is a float32 NCHW view into a cl_mem at an
 * element offset.  Vectors (biases, norms) use n=1,c=len,h=w=1; matrices
 * [rows, cols] use n=1, c=rows, h=1, w=cols unless stated.  Every op
 * returns 0 or -1 with adm_error set.  Ops allocate no device memory per
 * call: one scratch buffer per device (padded inputs, packed panels,
 * attention scores) grows only when a call first needs more than any call
 * before it; adm_ops_reserve_scratch sizes it up front.  All ops run in
 * order on cl->queue, so they can share it.
 * Reductions run in a fixed order that does not depend on the work-group
 * size (taken from the device's and kernel's limits), so the same inputs on
 * the same device give the same bits.
 *
 * On CPUs the convolutions, GEMMs and attention use kernels/conv.cl
 * ("own" backend); on other devices im2col + CLBlast ("clblast").  See
 * adm_ops_set_backend; ADMD_TILES (cl_runtime.c) tunes the register tiles.
 */
#ifndef ADM_OPS_H
#define ADM_OPS_H
#include "cl_runtime.h"
#include <stdint.h>

typedef struct {
    cl_mem mem;
    size_t off;          /* in floats */
    int n, c, h, w;
} adm_dt;

static inline size_t adm_dt_numel(const adm_dt *t) { return (size_t)t->n * t->c * t->h * t->w; }
static inline adm_dt adm_dt_make(cl_mem m, size_t off, int n, int c, int h, int w) {
    adm_dt t = {m, off, n, c, h, w}; return t;
}

/* Scratch for ops that need it (padded conv input, im2col, attention
 * weights): ensure at least `floats` are available; call while planning,
 * before running.  An op that needs more grows it once (an allocation on
 * the first call at a new, larger size only). */
int adm_ops_reserve_scratch(adm_cl *cl, size_t floats);
void adm_ops_release(adm_cl *cl);

/* y = conv2d(x, w, b): w [O, I, k, k] with k = 1 or 3, padding k/2, stride 1
 * or 2 (the stride-2 3x3 Downsample).  b may be NULL. */
int adm_op_conv2d(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, int stride, adm_dt *y);

/* y = GroupNorm(x; groups, eps) * gamma + beta, then optionally
 *   y = y * (1 + scale) + shift   with ss [N, 2C] = (scale | shift) per sample,
 *   y = SiLU(y)                   if silu.
 * Statistics in fp32 with a fixed reduction order. */
int adm_op_group_norm(adm_cl *cl, const adm_dt *x, const adm_dt *gamma, const adm_dt *beta,
                      int groups, float eps, const adm_dt *ss, int silu, adm_dt *y);

int adm_op_silu(adm_cl *cl, const adm_dt *x, adm_dt *y);              /* y may equal x */
int adm_op_add(adm_cl *cl, const adm_dt *a, const adm_dt *b, adm_dt *y);  /* y = a + b (y may alias) */
/* y[n, c, :, :] += v[n, c] (broadcast a per-(sample,channel) vector: emb added to h). */
int adm_op_add_channel(adm_cl *cl, adm_dt *y, const adm_dt *v);

/* y [N, O] = x [N, I] w^T + b, w [O, I] (torch Linear).  Tensors as n=N, c=features, h=w=1. */
int adm_op_linear(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y);

/* y [N, dim] = [cos(t*f) | sin(t*f)], f_i = exp(-ln(10000) * i / (dim/2)); t on the host. */
/* t: float32 model times (fractional allowed) */
int adm_op_timestep_embedding(adm_cl *cl, const float *t, int n, int dim, adm_dt *y);
/* y [N, D] += table[label[n], :]  (label_emb added to the time embedding). */
int adm_op_embedding_add(adm_cl *cl, const adm_dt *table, const int64_t *labels, int n, adm_dt *y);

int adm_op_upsample_nearest2x(adm_cl *cl, const adm_dt *x, adm_dt *y);
int adm_op_avgpool2x2(adm_cl *cl, const adm_dt *x, adm_dt *y);
/* Bilinear resize to y's H, W (align_corners=False, torch's F.interpolate). */
int adm_op_upsample_bilinear(adm_cl *cl, const adm_dt *x, adm_dt *y);
/* y = cat([a, b], channel dim). */
int adm_op_concat(adm_cl *cl, const adm_dt *a, const adm_dt *b, adm_dt *y);
int adm_op_copy(adm_cl *cl, const adm_dt *x, adm_dt *y);

/* Multi-head self-attention core.  qkv: [N, 3C, T] (as n=N, c=3C, h=1, w=T),
 * y: [N, C, T].  legacy=1: QKVAttentionLegacy (heads split before q/k/v:
 * [N*H, 3*ch, T]); legacy=0: QKVAttention (q, k, v split first, then heads).
 * q and k are each scaled by 1/sqrt(sqrt(ch)); softmax in fp32. */
int adm_op_attention(adm_cl *cl, const adm_dt *qkv, int heads, int legacy, adm_dt *y);

/* Per-op-kind timing from profiling events (admctl bench). */
typedef struct { const char *kind; double ms; long calls; } adm_op_time;
int adm_ops_times(adm_cl *cl, adm_op_time *out, int max);   /* returns the number filled */
void adm_ops_times_reset(adm_cl *cl);
/* on = 1: adm_ops_times reports per kernel name instead of per op kind. */
void adm_ops_times_by_kernel(adm_cl *cl, int on);

/* Matrix backend of conv/attention: "own" (kernels/conv.cl; default on
 * CPUs), "clblast" (im2col + CLBlast SGEMM, batched SGEMM for attention),
 * "convgemm" (CLBlast's convgemm for convolutions, else as clblast), or
 * "auto" (default elsewhere): per op shape the fastest of own, clblast
 * and CLBlast's convgemm, measured once per device and driver and kept on
 * disk (kernels/ops_engine.c).  Env ADMD_BACKEND overrides the default
 * (ADMD_BACKEND=auto also on a CPU, e.g. to test the choice on PoCL). */
int adm_ops_set_backend(adm_cl *cl, const char *name);
const char *adm_ops_backend(adm_cl *cl);

/* The engines an op shape can run on. */
typedef enum { ADM_ENGINE_OWN, ADM_ENGINE_CLBLAST, ADM_ENGINE_CONVGEMM, ADM_N_ENGINES } adm_engine;
const char *adm_engine_name(adm_engine e);
/* What the matrix ops used: the backend name, or for auto "auto: N shapes:
 * own a, clblast b, convgemm c (choices sha256 ...)" over the shapes used
 * since adm_ops_engine_clear_used (recorded in a job's provenance). */
const char *adm_ops_engine_summary(const adm_cl *cl, char *buf, size_t n);
void adm_ops_engine_clear_used(adm_cl *cl);
/* The auto choices known on this device (measured or loaded): shape,
 * engine, ms per engine (-1: not a candidate), used since the last clear. */
typedef struct { char shape[96]; const char *engine; float ms[ADM_N_ENGINES]; int used; } adm_engine_choice;
int adm_ops_engine_table(adm_cl *cl, adm_engine_choice *out, int max);
/* Attention computes the [T, T] scores for as many heads at a time as fit
 * in `floats` (default 64 Mi floats, capped by the max allocation); 0
 * restores the default.  Smaller values save memory (and test chunking). */
int adm_ops_set_attention_chunk(adm_cl *cl, size_t floats);
/* Floats of scratch now held (for memory reports). */
size_t adm_ops_scratch_floats(adm_cl *cl);
/* Run the GEMM shapes once so CLBlast compiles its kernels now (it caches
 * them in memory only): call once after adm_cl_open in a long-lived
 * process.  *seconds (may be NULL) gets the time it took. */
int adm_ops_warmup(adm_cl *cl, double *seconds);

#endif
