/* sampler.h — DDPM and DDIM sampling with classifier guidance, exactly as
 * guided-diffusion's gaussian_diffusion.py computes a step (p_mean_variance,
 * condition_mean, condition_score, p_sample, ddim_sample), on host float32
 * arrays.  The schedule tables are float64 (schedule.h) and are read as the
 * reference's _extract_into_tensor does: arr[t] converted to float32, then
 * every operation in float32 in the reference's order.
 *
 * The networks are reached through callbacks (adm_networks), so this file
 * knows nothing of devices; both see ORIGINAL timesteps (timestep_map[i]),
 * as respace.py's _WrappedModel gives them, as float32 model times (DPM-Solver,
 * dpm_solver.h, gives fractional ones through the same callbacks).  The noise comes from a callback
 * too: Philox noise (philox.h) or recorded noise (replay).
 */
#ifndef ADM_SAMPLER_H
#define ADM_SAMPLER_H
#include "schedule.h"
#include <stddef.h>
#include <stdint.h>

typedef enum { ADM_SAMPLER_DDPM, ADM_SAMPLER_DDIM } adm_sampler_kind;

/* What the model's variance output means (ModelVarType).  Learned-sigma
 * models (out_channels = 2C) are LEARNED_RANGE; the others FIXED_LARGE, the
 * reference's choice when sigma_small is false (create_gaussian_diffusion). */
typedef enum { ADM_VAR_LEARNED_RANGE, ADM_VAR_FIXED_LARGE, ADM_VAR_FIXED_SMALL } adm_var_type;

typedef struct {
    /* out [B, C or 2C, H, W] = model(x [B, C, H, W], t [B], y [B]); with 2C
     * channels the first C are eps, the last C the variance value v. */
    int (*model)(void *user, const float *x, const float *t, const int64_t *y, int B, float *out);
    /* grad [B, C, H, W] = d/dx sum_b log_softmax(classifier(x, t))[b, y_b]
     * (before the scale); NULL when there is no classifier. */
    int (*grad)(void *user, const float *x, const float *t, const int64_t *y, int B, float *grad);
    void *user;
} adm_networks;

typedef struct {
    adm_sampler_kind kind;
    adm_var_type var_type;
    int learn_sigma;        /* model outputs 2C channels */
    double eta;             /* DDIM: 0 deterministic .. 1 DDPM-like */
    double scale;           /* classifier guidance scale s (0: unguided) */
} adm_sampler_opts;

/* noise [B, C, H, W] (n = B*C*H*W floats) for step `step` (0 = the first
 * step taken, at the highest t); return 0 or -1 + adm_error. */
typedef int (*adm_noise_fn)(void *user, int step, float *noise, size_t n);
/* Called with x after step `step` of `total`; non-zero stops the loop (it
 * then returns 1). */
typedef int (*adm_step_fn)(void *user, int step, int total, const float *x);

/* ---- one step's math (exposed for tests and other samplers) ---- */

/* p_mean_variance at respaced step i: from x and the model output, the
 * clipped x0 prediction, the posterior mean and the log-variance (per
 * element; variance = exp(log_var)).  n_per = C*H*W. */
void adm_p_mean_variance(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                         const float *model_out, int B, int C, size_t hw,
                         float *mean, float *log_var, float *pred_x0);

/* x_next = one DDPM step (p_sample with condition_mean when grad != NULL). */
void adm_ddpm_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *x_next);
/* x_next = one DDIM step (ddim_sample with condition_score when grad != NULL). */
void adm_ddim_step(const adm_schedule *s, const adm_sampler_opts *o, int i, const float *x,
                   const float *model_out, const float *grad, const float *noise, int B, int C, size_t hw,
                   float *x_next);

/* The scalars of respaced step i (table entries, guidance scale, DDIM
 * sigma and coefficients) as kernels/step.cl indexes them: cf holds
 * ADM_STEP_COEFS floats.  The device step (sampler_dev.h) passes them to
 * the step kernels. */
#define ADM_STEP_COEFS 16
void adm_step_coefs(const adm_schedule *s, const adm_sampler_opts *o, int i, float *cf);

/* ---- the loop ---- */

/* Run every step from the highest t down to 0: x [B, C, H, W] holds x_T on
 * entry and the sample on return.  y [B]: the classes (NULL for an
 * unconditional model without a classifier).  0 done, 1 stopped by on_step,
 * -1 error (adm_last_error). */
int adm_sample_loop(const adm_schedule *s, const adm_sampler_opts *o, const adm_networks *net,
                    const int64_t *y, int B, int C, int H, int W, float *x,
                    adm_noise_fn noise, void *noise_user, adm_step_fn on_step, void *step_user);

/* The loop's argument checks (shared with the device loop); 0 or -1. */
int adm_sample_loop_check(const adm_sampler_opts *o, int has_classifier, const int64_t *y, int B, int C, int H, int W);

/* Parse "ddpm"/"ddim"; -1 + adm_error otherwise. */
int adm_sampler_kind_parse(const char *name, adm_sampler_kind *kind);

/* The reference's uint8 rule: ((x + 1) * 127.5) clamped to [0, 255], truncated. */
static inline uint8_t adm_to_uint8(float x) {
    float v = (x + 1.0f) * 127.5f;
    if (!(v > 0.0f)) return 0;          /* also NaN -> 0 */
    if (v >= 255.0f) return 255;
    return (uint8_t)v;
}

#endif
