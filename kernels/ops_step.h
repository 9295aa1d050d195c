/* ops_step.h — one DDPM or DDIM sampling step on the device: the
 * adm_step_ddpm / adm_step_ddim kernels of kernels/step.cl, whose
 * per-element formulas the host step (model/sampler.c) compiles too, so
 * both give the same bits. */
#ifndef ADM_OPS_STEP_H
#define ADM_OPS_STEP_H
#include "ops.h"

/* x [B, C, H, W] (in place) = one step from x, the model output out
 * [B, out_c, H, W] (out_c = C, or 2C with the learned variance v after
 * eps), grad [B, C, H, W] (NULL: unguided) and noise [B, C, H, W].
 * ddim: 0 DDPM, 1 DDIM.  cf: the step's 16 scalars (adm_step_coefs,
 * indexed as kernels/step.cl says). */
int adm_op_step(adm_cl *cl, int ddim, const float cf[16], adm_dt *x, const adm_dt *out, const adm_dt *grad,
                const adm_dt *noise);

#endif
