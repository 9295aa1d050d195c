/* ops_step.c — host wrapper of the sampling-step kernels (kernels/step.cl). */
#include "ops_step.h"
#include "ops_internal.h"
#include <string.h>

/* the coefficient indices (ADM_ST_*) of kernels/step.cl, read as C */
#define ADM_ST_FN static inline
static inline float adm_st_as_float(unsigned u) { float f; memcpy(&f, &u, sizeof f); return f; }
#include "step.cl"

int adm_op_step(adm_cl *cl, int ddim, const float cf[ADM_ST_NCOEF], adm_dt *x, const adm_dt *out, const adm_dt *grad,
                const adm_dt *noise) {
    const size_t n = adm_dt_numel(x), img = (size_t)x->c * x->h * x->w;
    if (out->n != x->n || out->h != x->h || out->w != x->w || (out->c != x->c && out->c != 2 * x->c))
        return adm_shape_error("step", "model output", out, "[B, C or 2C, H, W] of x");
    if (adm_dt_numel(noise) != n) return adm_shape_error("step", "noise", noise, "the shape of x");
    if (grad && adm_dt_numel(grad) != n) return adm_shape_error("step", "grad", grad, "the shape of x");
    if (cf[ADM_ST_LEARNED] != 0.0f && out->c != 2 * x->c)
        return adm_shape_error("step", "model output", out, "2C channels (learned variance)");
    const adm_kernel *k = adm_cl_k(cl, ddim ? ADM_K_adm_step_ddim : ADM_K_adm_step_ddpm);
    cl_float16 coefs;
    memcpy(coefs.s, cf, sizeof coefs.s);
    cl_ulong xo = x->off, oo = out->off, go = grad ? grad->off : 0, no = noise->off;
    cl_ulong im = img, oim = (cl_ulong)out->c * out->h * out->w, nn = n;
    cl_int hg = grad != NULL;
    cl_mem gm = grad ? grad->mem : noise->mem;
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(out->mem), ARG(oo), ARG(gm), ARG(go), ARG(hg),
                     ARG(noise->mem), ARG(no), ARG(coefs), ARG(im), ARG(oim), ARG(nn), 0))
        return -1;
    return adm_launch1(cl, k, "step", n);
}
