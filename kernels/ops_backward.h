/* ops_backward.h — input-gradient ("backward") operations for the noisy
 * classifier, one host wrapper per op, each enqueuing kernels from
 * kernels/backward.cl (or CLBlast, or a forward op of ops.h) on cl->queue.
 *
 * Only gradients with respect to the data input are computed (no weight
 * gradients): classifier guidance needs d/dx log p(y | x_t, t).  Naming:
 * dy is the gradient arriving at an op's output, dx the one leaving
 * through its input.  Tensors are adm_dt views as in ops.h; every op
 * returns 0 or -1 with adm_error set, allocates nothing, and is
 * deterministic (fixed work-group sizes and reduction order, no atomics).
 * The few forward helpers the classifier heads need beyond ops.h are at
 * the end (adm_cls_*).
 */
#ifndef ADM_OPS_BACKWARD_H
#define ADM_OPS_BACKWARD_H
#include "ops.h"

/* GroupNorm (+ scale-shift, + SiLU) backward: the exact inverse path of
 * adm_op_group_norm with the same arguments; x is the forward's input
 * (statistics are recomputed), ss may be NULL.  dx may alias dy, not x. */
int adm_bwd_group_norm(adm_cl *cl, const adm_dt *x, const adm_dt *gamma, const adm_dt *beta, int groups,
                       float eps, const adm_dt *ss, int silu, const adm_dt *dy, adm_dt *dx);

/* dx = dy * SiLU'(x)  and  dx = dy * (x > 0). */
int adm_bwd_silu(adm_cl *cl, const adm_dt *x, const adm_dt *dy, adm_dt *dx);
int adm_bwd_relu(adm_cl *cl, const adm_dt *x, const adm_dt *dy, adm_dt *dx);

/* Weight of a conv's input gradient: wt [I, O, k, k] from w [O, I, k, k]
 * (transposed and flipped); wt must be a view of O*I*k*k floats.  Run
 * once at load.  A conv1d / linear weight [O, I] (k = 1) is simply
 * transposed. */
int adm_bwd_conv_weight(adm_cl *cl, const adm_dt *w, int O, int I, int k, adm_dt *wt);

/* Input gradient of y = conv2d(x, w, b, stride) with padding k/2:
 *   stride 1:  dx = conv2d(dy, wt)                       (a forward conv)
 *   stride 2:  dx = conv2d(dilate2x(dy), wt)             (transposed conv)
 * dx gives the forward input's shape; tmp (stride 2 only) holds
 * N*O*H*W floats. */
int adm_bwd_conv2d(adm_cl *cl, const adm_dt *dy, const adm_dt *wt, int stride, const adm_dt *tmp, adm_dt *dx);

/* 2x2 average pool backward (dx has the forward input's shape). */
int adm_bwd_avgpool2x2(adm_cl *cl, const adm_dt *dy, adm_dt *dx);

/* Linear input gradient dx[n, i] = sum_o dy[n, o] w[o, i], w [O, I];
 * dy [N, O] contiguous rows; dx element (n, i) at dx_off + n*dx_sn + i*dx_si
 * of dx->mem (so it can fill token 0 of a [N, I, T] tensor). */
int adm_bwd_linear(adm_cl *cl, const adm_dt *dy, const adm_dt *w, int O, int I,
                   cl_mem dx, size_t dx_off, int dx_sn, int dx_si);

/* Attention backward (both head orders, as adm_op_attention):
 * qkv [N, 3C, T] is the forward's input, dy [N, C, T]; writes dqkv
 * [N, 3C, T].  Attention weights are recomputed per sample into scratch
 * (adm_bwd_attention_scratch floats).  The products run on the ops'
 * matrix backend: backward.cl's bwd_gemm ("own", CPUs) or CLBlast. */
int adm_bwd_attention(adm_cl *cl, const adm_dt *qkv, const adm_dt *dy, int heads, int legacy,
                      const adm_dt *scratch, adm_dt *dqkv);
size_t adm_bwd_attention_scratch(int heads, int T);

/* AttentionPool2d token building backward: da [N, C, HW] from dxp
 * [N, C, HW+1] (token 0 was the spatial mean). */
int adm_bwd_pool_tokens(adm_cl *cl, const adm_dt *dxp, adm_dt *da);

/* Backward of a spatial mean stored at column `off` of a [N, F] vector d:
 * dx[n, c, :] (+)= d[n, off + c] / HW. */
int adm_bwd_spatial_mean(adm_cl *cl, const adm_dt *d, int F, int off, adm_dt *dx, int accumulate);

/* Set every element of t to zero. */
int adm_bwd_zero(adm_cl *cl, adm_dt *t);

/* ---- forward helpers of the classifier heads ---- */

/* xp [N, C, HW+1] = cat(mean_hw a, a) + pos, pos [C, HW+1]. */
int adm_cls_pool_tokens(adm_cl *cl, const adm_dt *a, const adm_dt *pos, adm_dt *xp);
/* y[n, off + c] = mean_hw x[n, c, :], y viewed as [N, F]. */
int adm_cls_spatial_mean(adm_cl *cl, const adm_dt *x, int F, int off, adm_dt *y);
/* y [N, O] = b + w [O, I] . x[n*x_sn + i*x_si] (strided input rows). */
int adm_cls_linear_strided(adm_cl *cl, const adm_dt *x, int x_sn, int x_si, const adm_dt *w,
                           const adm_dt *b, int N, int O, int I, adm_dt *y);
int adm_cls_relu(adm_cl *cl, const adm_dt *x, adm_dt *y);

#endif
