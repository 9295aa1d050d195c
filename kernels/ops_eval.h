/* ops_eval.h — the ops of the evaluation network (kernels/eval.cl plus the
 * panel GEMM of conv.cl): preprocessing, general convolution with folded
 * BatchNorm and ReLU, pooling, global average pool.
 *
 * Outputs may be a channel slice of a larger tensor, so that a block's
 * branches write straight into their place in its concatenation: y is the
 * whole tensor [N, Ctot, OH, OW] and c0 the first channel written.
 * Conventions as ops.h (adm_dt, 0 / -1 + adm_error, in order on cl->queue).
 */
#ifndef ADM_OPS_EVAL_H
#define ADM_OPS_EVAL_H
#include "ops.h"

/* y [N, 3, OH, OW] = 2 * bilinear(img / 255) - 1 from uint8 img [N, H, W, C]
 * at byte offset ioff of `img` (C = 1: replicated; C = 3). */
int adm_op_eval_preprocess(adm_cl *cl, cl_mem img, size_t ioff, int H, int W, int C, adm_dt *y);

/* y[:, c0 : c0 + Co] = act(conv(x, w) + b): w [Co, Ci, KH, KW] (as n=Co,
 * c=Ci, h=KH, w=KW), b [Co], strides sh, sw, paddings ph, pw; act = ReLU
 * when relu.  Column matrix + panel GEMM, in sample chunks that fit the
 * scratch cap (adm_op_eval_conv_scratch floats per sample). */
int adm_op_eval_conv(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, int sh, int sw, int ph, int pw,
                     int relu, adm_dt *y, int c0);
/* Scratch floats one sample of that convolution needs. */
size_t adm_op_eval_conv_scratch(adm_cl *cl, int Ci, int KH, int KW, int OH, int OW);

/* y[:, c0 : c0 + C] = k x k pooling of x (stride s, padding pad): max, or
 * average over the window's pixels inside the image (count_include_pad=False). */
int adm_op_eval_pool(adm_cl *cl, const adm_dt *x, int k, int s, int pad, int is_max, adm_dt *y, int c0);

/* y [N, C] (n=N, c=C, h=w=1) = mean of x [N, C, H, W] over H, W. */
int adm_op_eval_mean_hw(adm_cl *cl, const adm_dt *x, adm_dt *y);

#endif
