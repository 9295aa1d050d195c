/* sampler.c — DDPM and DDIM steps with classifier guidance, and the
 * sampling loop, following gaussian_diffusion.py line by line (float32 in
 * the reference's operation order; tables read as float32(arr[t])).
 *
 * Symbols (the reference's): abar = alphas_cumprod[t], abar_prev =
 * alphas_cumprod_prev[t], eps = the model's noise prediction, v = its
 * variance value, g = the classifier gradient times the scale s.
 */
#include "sampler.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int adm_sampler_kind_parse(const char *name, adm_sampler_kind *kind) {
    if (name && !strcmp(name, "ddpm")) { *kind = ADM_SAMPLER_DDPM; return 0; }
    if (name && !strcmp(name, "ddim")) { *kind = ADM_SAMPLER_DDIM; return 0; }
    return adm_error("unknown sampler '%s' (want ddpm or ddim)", name ? name : "(none)");
}

/* _extract_into_tensor: arr[t] as float32 */
static inline float at(const double *arr, int i) { return (float)arr[i]; }

/* p_mean_variance (EPSILON mean type, clip_denoised=True):
 *   learned range: frac = (v + 1) / 2,
 *                  log_var = frac * log(beta_t) + (1 - frac) * posterior_log_variance_clipped_t
 *   fixed:         log_var = the table's log (FIXED_LARGE: log(append(pv[1], betas[1:])))
 *   x0   = clip(sqrt(1/abar) * x - sqrt(1/abar - 1) * eps, -1, 1)
 *   mean = posterior_mean_coef1 * x0 + posterior_mean_coef2 * x          */
void adm_p_mean_variance(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                         const float *model_out, int B, int C, size_t hw,
                         float *mean, float *log_var, float *pred_x0) {
    const float min_log = at(s->posterior_log_variance_clipped, i), max_log = at(s->log_betas, i);
    float fixed_log = 0;
    if (o->var_type == ADM_VAR_FIXED_LARGE) fixed_log = at(s->fixed_large_log_variance, i);
    if (o->var_type == ADM_VAR_FIXED_SMALL) fixed_log = at(s->posterior_log_variance_clipped, i);
    const float recip = at(s->sqrt_recip_alphas_cumprod, i), recipm1 = at(s->sqrt_recipm1_alphas_cumprod, i);
    const float coef1 = at(s->posterior_mean_coef1, i), coef2 = at(s->posterior_mean_coef2, i);
    const int out_c = o->learn_sigma ? 2 * C : C;
    const size_t n_img = (size_t)C * hw;
    for (int b = 0; b < B; b++) {
        const float *eps = model_out + (size_t)b * out_c * hw;
        const float *v = eps + n_img;               /* only with learned sigma */
        for (size_t e = 0; e < n_img; e++) {
            size_t k = (size_t)b * n_img + e;
            if (o->learn_sigma && o->var_type == ADM_VAR_LEARNED_RANGE) {
                float frac = (v[e] + 1.0f) / 2.0f;
                float a = frac * max_log, c = (1.0f - frac) * min_log;
                log_var[k] = a + c;
            } else {
                log_var[k] = fixed_log;
            }
            float p = recip * x[k], q = recipm1 * eps[e];
            float x0 = p - q;
            x0 = x0 < -1.0f ? -1.0f : x0 > 1.0f ? 1.0f : x0;
            pred_x0[k] = x0;
            float m1 = coef1 * x0, m2 = coef2 * x[k];
            mean[k] = m1 + m2;
        }
    }
}

/* p_sample:
 *   mean' = mean + exp(log_var) * (s * grad)                (condition_mean)
 *   x_next = mean' + [t != 0] * exp(0.5 * log_var) * noise               */
void adm_ddpm_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *work, float *x_next) {
    size_t n = (size_t)B * C * hw;
    float *mean = work, *log_var = work + n, *x0 = work + 2 * n;
    adm_p_mean_variance(s, o, i, x, model_out, B, C, hw, mean, log_var, x0);
    const float scale = (float)o->scale, mask = i != 0 ? 1.0f : 0.0f;
    for (size_t k = 0; k < n; k++) {
        float m = mean[k];
        if (grad) {
            float g = grad[k] * scale;
            float var = expf(log_var[k]);
            m = m + var * g;
        }
        float sd = mask * expf(0.5f * log_var[k]);
        x_next[k] = m + sd * noise[k];
    }
}

/* ddim_sample:
 *   with guidance (condition_score):
 *     eps  = (sqrt(1/abar) * x - x0) / sqrt(1/abar - 1)
 *     eps' = eps - sqrt(1 - abar) * (s * grad)
 *     x0   = sqrt(1/abar) * x - sqrt(1/abar - 1) * eps'     (not clipped again)
 *   eps   = (sqrt(1/abar) * x - x0) / sqrt(1/abar - 1)
 *   sigma = eta * sqrt((1 - abar_prev) / (1 - abar)) * sqrt(1 - abar / abar_prev)
 *   x_next = x0 sqrt(abar_prev) + sqrt(1 - abar_prev - sigma^2) eps + [t != 0] sigma noise */
void adm_ddim_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *work, float *x_next) {
    size_t n = (size_t)B * C * hw;
    float *mean = work, *log_var = work + n, *x0 = work + 2 * n;
    adm_p_mean_variance(s, o, i, x, model_out, B, C, hw, mean, log_var, x0);
    const float recip = at(s->sqrt_recip_alphas_cumprod, i), recipm1 = at(s->sqrt_recipm1_alphas_cumprod, i);
    const float abar = at(s->alphas_cumprod, i), abar_prev = at(s->alphas_cumprod_prev, i);
    const float scale = (float)o->scale, eta = (float)o->eta, mask = i != 0 ? 1.0f : 0.0f;
    const float sqrt_1m_abar = sqrtf(1.0f - abar);
    const float sigma = eta * sqrtf((1.0f - abar_prev) / (1.0f - abar)) * sqrtf(1.0f - abar / abar_prev);
    const float c_x0 = sqrtf(abar_prev), c_eps = sqrtf(1.0f - abar_prev - sigma * sigma);
    for (size_t k = 0; k < n; k++) {
        float p0 = x0[k];
        if (grad) {
            float e = (recip * x[k] - p0) / recipm1;
            float g = grad[k] * scale;
            e = e - sqrt_1m_abar * g;
            float a = recip * x[k], c = recipm1 * e;
            p0 = a - c;
        }
        float eps = (recip * x[k] - p0) / recipm1;
        float m1 = p0 * c_x0, m2 = c_eps * eps;
        float mean_pred = m1 + m2;
        x_next[k] = mean_pred + (mask * sigma) * noise[k];
    }
}

int adm_sample_loop(const adm_schedule *s, const adm_sampler_opts *o, const adm_networks *net,
                    const int64_t *y, int B, int C, int H, int W, float *x,
                    adm_noise_fn noise, void *noise_user, adm_step_fn on_step, void *step_user) {
    if (B < 1 || C < 1 || H < 1 || W < 1) return adm_error("sampler: bad shape [%d, %d, %d, %d]", B, C, H, W);
    if (o->kind == ADM_SAMPLER_DDIM && !(o->eta >= 0 && o->eta <= 1))
        return adm_error("sampler: DDIM eta %g outside [0, 1]", o->eta);
    if (!(o->scale >= 0) || !isfinite(o->scale)) return adm_error("sampler: guidance scale %g", o->scale);
    int guided = o->scale != 0;
    if (guided && !net->grad) return adm_error("sampler: guidance scale %g needs a classifier", o->scale);
    if (guided && !y) return adm_error("sampler: guidance needs the classes y");
    size_t hw = (size_t)H * W, n = (size_t)B * C * hw;
    int out_c = o->learn_sigma ? 2 * C : C;
    float *model_out = adm_malloc(sizeof(float) * B * out_c * hw);
    float *grad = guided ? adm_malloc(sizeof(float) * n) : NULL;
    float *eps_noise = adm_malloc(sizeof(float) * n);
    float *work = adm_malloc(sizeof(float) * ADM_SAMPLER_WORK_FLOATS(B, C, hw));
    float *x_next = adm_malloc(sizeof(float) * n);
    int64_t *t = adm_malloc(sizeof(int64_t) * B);
    int rc = -1;
    if (!model_out || (guided && !grad) || !eps_noise || !work || !x_next || !t) goto done;

    int total = s->num_steps;
    for (int step = 0; step < total; step++) {
        int i = total - 1 - step;                    /* respaced index, highest first */
        for (int b = 0; b < B; b++) t[b] = s->timestep_map[i];   /* the networks see original t */
        if (net->model(net->user, x, t, y, B, model_out)) { adm_error_prefix("step %d (t=%lld)", step, (long long)t[0]); goto done; }
        if (guided && net->grad(net->user, x, t, y, B, grad)) { adm_error_prefix("step %d (t=%lld) classifier", step, (long long)t[0]); goto done; }
        if (noise(noise_user, step, eps_noise, n)) goto done;
        if (o->kind == ADM_SAMPLER_DDPM)
            adm_ddpm_step(s, o, i, x, model_out, grad, eps_noise, B, C, hw, work, x_next);
        else
            adm_ddim_step(s, o, i, x, model_out, grad, eps_noise, B, C, hw, work, x_next);
        memcpy(x, x_next, sizeof(float) * n);
        if (on_step && on_step(step_user, step, total, x)) { rc = 1; goto done; }
    }
    rc = 0;
done:
    free(model_out); free(grad); free(eps_noise); free(work); free(x_next); free(t);
    return rc;
}
