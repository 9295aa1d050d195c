/* sampler.c — DDPM and DDIM steps with classifier guidance, and the
 * sampling loop, following gaussian_diffusion.py line by line (float32 in
 * the reference's operation order; tables read as float32(arr[t])).
 *
 * Symbols (the reference's): abar = alphas_cumprod[t], abar_prev =
 * alphas_cumprod_prev[t], eps = the model's noise prediction, v = its
 * variance value, g = the classifier gradient times the scale s.
 *
 * The per-element formulas are kernels/step.cl, compiled here as C: the
 * device-resident loop (sampler_dev.c) runs the same text as kernels, so
 * a host step and a device step give the same bits.
 */
#include "sampler.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Never fuse a*b+c into an FMA here (the Makefile also passes -ffp-contract=off). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

int adm_sampler_kind_parse(const char *name, adm_sampler_kind *kind) {
    if (name && !strcmp(name, "ddpm")) { *kind = ADM_SAMPLER_DDPM; return 0; }
    if (name && !strcmp(name, "ddim")) { *kind = ADM_SAMPLER_DDIM; return 0; }
    return adm_error("unknown sampler '%s' (want ddpm or ddim)", name ? name : "(none)");
}

/* _extract_into_tensor: arr[t] as float32 */
static inline float at(const double *arr, int i) { return (float)arr[i]; }

/* The per-element step math is kernels/step.cl, compiled here as C (the
 * device compiles the same text): what it expects from its host. */
#define ADM_ST_FN static inline
static inline float adm_st_as_float(unsigned u) { float f; memcpy(&f, &u, sizeof f); return f; }
#include "../kernels/step.cl"

_Static_assert(ADM_STEP_COEFS == ADM_ST_NCOEF, "sampler.h and kernels/step.cl disagree on the coefficients");

/* The step's scalars (indices in kernels/step.cl), float32 in the
 * reference's order:
 *   sigma = eta * sqrt((1 - abar_prev) / (1 - abar)) * sqrt(1 - abar / abar_prev)   (DDIM) */
void adm_step_coefs(const adm_schedule *s, const adm_sampler_opts *o, int i, float *cf) {
    memset(cf, 0, sizeof(float) * ADM_STEP_COEFS);
    cf[ADM_ST_MIN_LOG] = at(s->posterior_log_variance_clipped, i);
    cf[ADM_ST_MAX_LOG] = at(s->log_betas, i);
    if (o->var_type == ADM_VAR_FIXED_LARGE) cf[ADM_ST_FIXED_LOG] = at(s->fixed_large_log_variance, i);
    if (o->var_type == ADM_VAR_FIXED_SMALL) cf[ADM_ST_FIXED_LOG] = at(s->posterior_log_variance_clipped, i);
    cf[ADM_ST_LEARNED] = o->learn_sigma && o->var_type == ADM_VAR_LEARNED_RANGE ? 1.0f : 0.0f;
    cf[ADM_ST_RECIP] = at(s->sqrt_recip_alphas_cumprod, i);
    cf[ADM_ST_RECIPM1] = at(s->sqrt_recipm1_alphas_cumprod, i);
    cf[ADM_ST_COEF1] = at(s->posterior_mean_coef1, i);
    cf[ADM_ST_COEF2] = at(s->posterior_mean_coef2, i);
    cf[ADM_ST_SCALE] = (float)o->scale;
    const float mask = i != 0 ? 1.0f : 0.0f;
    cf[ADM_ST_MASK] = mask;
    const float abar = at(s->alphas_cumprod, i), abar_prev = at(s->alphas_cumprod_prev, i), eta = (float)o->eta;
    const float sigma = eta * sqrtf((1.0f - abar_prev) / (1.0f - abar)) * sqrtf(1.0f - abar / abar_prev);
    cf[ADM_ST_SQRT1MA] = sqrtf(1.0f - abar);
    cf[ADM_ST_C_X0] = sqrtf(abar_prev);
    cf[ADM_ST_C_EPS] = sqrtf(1.0f - abar_prev - sigma * sigma);
    cf[ADM_ST_SIGMA] = mask * sigma;
}

/* p_mean_variance (EPSILON mean type, clip_denoised=True), formulas in
 * kernels/step.cl. */
void adm_p_mean_variance(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                         const float *model_out, int B, int C, size_t hw,
                         float *mean, float *log_var, float *pred_x0) {
    float cf[ADM_STEP_COEFS];
    adm_step_coefs(s, o, i, cf);
    const int out_c = o->learn_sigma ? 2 * C : C;
    const size_t n_img = (size_t)C * hw;
    for (int b = 0; b < B; b++) {
        const float *eps = model_out + (size_t)b * out_c * hw;
        const float *v = eps + n_img;               /* only with learned sigma */
        for (size_t e = 0; e < n_img; e++) {
            size_t k = (size_t)b * n_img + e;
            log_var[k] = adm_st_log_var(cf[ADM_ST_LEARNED] != 0.0f ? v[e] : 0.0f, cf);
            pred_x0[k] = adm_st_pred_x0(x[k], eps[e], cf);
            mean[k] = adm_st_mean(x[k], pred_x0[k], cf);
        }
    }
}

/* One step over the batch: x_next[k] = adm_st_ddpm / adm_st_ddim of element k. */
static void host_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                      const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                      float *x_next) {
    float cf[ADM_STEP_COEFS];
    adm_step_coefs(s, o, i, cf);
    const int out_c = o->learn_sigma ? 2 * C : C, learned = cf[ADM_ST_LEARNED] != 0.0f;
    const size_t n_img = (size_t)C * hw;
    for (int b = 0; b < B; b++) {
        const float *eps = model_out + (size_t)b * out_c * hw, *v = eps + n_img;
        for (size_t e = 0; e < n_img; e++) {
            size_t k = (size_t)b * n_img + e;
            float g = grad ? grad[k] : 0.0f;
            x_next[k] = o->kind == ADM_SAMPLER_DDPM
                ? adm_st_ddpm(x[k], eps[e], learned ? v[e] : 0.0f, g, grad != NULL, noise[k], cf)
                : adm_st_ddim(x[k], eps[e], g, grad != NULL, noise[k], cf);
        }
    }
}

void adm_ddpm_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *x_next) {
    adm_sampler_opts d = *o;
    d.kind = ADM_SAMPLER_DDPM;
    host_step(s, &d, i, x, model_out, grad, noise, B, C, hw, x_next);
}

void adm_ddim_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *x_next) {
    adm_sampler_opts d = *o;
    d.kind = ADM_SAMPLER_DDIM;
    host_step(s, &d, i, x, model_out, grad, noise, B, C, hw, x_next);
}

int adm_sample_loop_check(const adm_sampler_opts *o, int has_classifier, const int64_t *y, int B, int C, int H, int W) {
    if (B < 1 || C < 1 || H < 1 || W < 1) return adm_error("sampler: bad shape [%d, %d, %d, %d]", B, C, H, W);
    if (o->kind == ADM_SAMPLER_DDIM && !(o->eta >= 0 && o->eta <= 1))
        return adm_error("sampler: DDIM eta %g outside [0, 1]", o->eta);
    if (!(o->scale >= 0) || !isfinite(o->scale)) return adm_error("sampler: guidance scale %g", o->scale);
    if (o->scale != 0 && !has_classifier) return adm_error("sampler: guidance scale %g needs a classifier", o->scale);
    if (o->scale != 0 && !y) return adm_error("sampler: guidance needs the classes y");
    return 0;
}

int adm_sample_loop(const adm_schedule *s, const adm_sampler_opts *o, const adm_networks *net,
                    const int64_t *y, int B, int C, int H, int W, float *x,
                    adm_noise_fn noise, void *noise_user, adm_step_fn on_step, void *step_user) {
    if (adm_sample_loop_check(o, net->grad != NULL, y, B, C, H, W)) return -1;
    int guided = o->scale != 0;
    size_t hw = (size_t)H * W, n = (size_t)B * C * hw;
    int out_c = o->learn_sigma ? 2 * C : C;
    float *model_out = adm_malloc(sizeof(float) * B * out_c * hw);
    float *grad = guided ? adm_malloc(sizeof(float) * n) : NULL;
    float *eps_noise = adm_malloc(sizeof(float) * n);
    float *x_next = adm_malloc(sizeof(float) * n);
    float *t = adm_malloc(sizeof(float) * B);
    int rc = -1;
    if (!model_out || (guided && !grad) || !eps_noise || !x_next || !t) goto done;

    int total = s->num_steps;
    for (int step = 0; step < total; step++) {
        int i = total - 1 - step;                    /* respaced index, highest first */
        for (int b = 0; b < B; b++) t[b] = (float)s->timestep_map[i];   /* the networks see original t */
        if (net->model(net->user, x, t, y, B, model_out)) { adm_error_prefix("step %d (t=%g)", step, t[0]); goto done; }
        if (guided && net->grad(net->user, x, t, y, B, grad)) { adm_error_prefix("step %d (t=%g) classifier", step, t[0]); goto done; }
        if (noise(noise_user, step, eps_noise, n)) goto done;
        host_step(s, o, i, x, model_out, grad, eps_noise, B, C, hw, x_next);
        memcpy(x, x_next, sizeof(float) * n);
        if (on_step && on_step(step_user, step, total, x)) { rc = 1; goto done; }
    }
    rc = 0;
done:
    free(model_out); free(grad); free(eps_noise); free(x_next); free(t);
    return rc;
}
