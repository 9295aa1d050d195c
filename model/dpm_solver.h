/* dpm_solver.h — fast ODE samplers for the discrete-time guided-diffusion
 * models: DPM-Solver (Lu et al., NeurIPS 2022) and DPM-Solver++ (Lu et al.,
 * 2022), exactly as the reference dpm_solver_pytorch.py of
 * LuChengTHU/dpm-solver computes them (float32, its operation order):
 *
 *   adm_vp_schedule     NoiseScheduleVP("discrete", betas): log(alpha_t) as
 *                       the piecewise linear interpolation through
 *                       (t_n = n / N', log_alpha[n]), log-SNR truncated at -5.1
 *   adm_dpm_time_steps  get_time_steps: time_uniform, logSNR, time_quadratic
 *   adm_dpm_sample      the sampling loop: multistep DPM-Solver++ of order 2
 *                       or 3 (data prediction, dynamic thresholding
 *                       optional), or singlestep DPM-Solver of order 3
 *                       (noise prediction), with classifier guidance as the
 *                       reference's model_wrapper applies it:
 *                         eps~ = eps(x, t_in) - s * sigma_t * grad log p(y | x, t_in),
 *                         t_in = (t - 1/N') * 1000   (fractional model time)
 *
 * Deterministic: x_T is the only randomness.  The networks are reached
 * through the sampler's callbacks (sampler.h), which take float model times.
 */
#ifndef ADM_DPM_SOLVER_H
#define ADM_DPM_SOLVER_H
#include "sampler.h"
#include <stddef.h>
#include <stdint.h>

/* The reference's truncation: trailing entries with lambda < this go. */
#define ADM_DPM_CLIPPED_LAMBDA (-5.1)

typedef struct {
    int total_N;                /* N': entries kept after the log-SNR truncation */
    float *t_array;             /* [N'] t_n = n / N' (torch.linspace(0, 1, N'+1)[1:]) */
    float *log_alpha_array;     /* [N'] log(alpha_tn) = 0.5 * cumsum(log(1 - beta)) */
    float *flip_log_alpha, *flip_t; /* both reversed (ascending log_alpha): inverse_lambda */
} adm_vp_schedule;

/* From the model's n betas (float64: log_alpha and the truncation are
 * computed in float64, then the table is float32, as the reference runs
 * did with guided-diffusion's float64 betas).  Free with adm_vp_schedule_free. */
int adm_vp_schedule_init(adm_vp_schedule *ns, const double *betas, int n);
void adm_vp_schedule_free(adm_vp_schedule *ns);

float adm_vp_log_alpha(const adm_vp_schedule *ns, float t);    /* marginal_log_mean_coeff */
float adm_vp_alpha(const adm_vp_schedule *ns, float t);        /* exp(log_alpha) */
float adm_vp_sigma(const adm_vp_schedule *ns, float t);        /* sqrt(1 - alpha^2) */
float adm_vp_lambda(const adm_vp_schedule *ns, float t);       /* log(alpha) - log(sigma) */
float adm_vp_inverse_lambda(const adm_vp_schedule *ns, float lambda);
float adm_vp_model_time(const adm_vp_schedule *ns, float t);   /* (t - 1/N') * 1000 */

typedef enum { ADM_SKIP_TIME_UNIFORM, ADM_SKIP_LOGSNR, ADM_SKIP_TIME_QUADRATIC } adm_skip_type;
int adm_skip_type_parse(const char *name, adm_skip_type *skip);   /* -1 + adm_error if unknown */
const char *adm_skip_type_name(adm_skip_type skip);

/* The N+1 times t_T .. t_0 of get_time_steps (float32, as torch.linspace). */
int adm_dpm_time_steps(const adm_vp_schedule *ns, adm_skip_type skip, double t_T, double t_0, int N, float *t);

/* The singlestep solver's split of `steps` network passes into orders
 * (get_orders_and_timesteps_for_singlestep_solver): orders[0..K-1], returns
 * K (orders needs room for `steps` entries), -1 + adm_error. */
int adm_dpm_singlestep_orders(int steps, int order, int *orders);

typedef enum { ADM_DPM_PP_2M, ADM_DPM_PP_3M, ADM_DPM_3S } adm_dpm_kind;

/* Is `name` one of ours ("dpm++2m", "dpm++3m", "dpm3s")?  1 and *kind, else 0. */
int adm_dpm_kind_parse(const char *name, adm_dpm_kind *kind);

typedef struct {
    adm_dpm_kind kind;
    int steps;                  /* network passes (NFE) */
    adm_skip_type skip;
    int thresholding;           /* 1: dynamic thresholding of every x0 (dpm++ only) */
    int lower_order_final;      /* multistep: lower orders for the last steps when steps < 10 (default 1) */
    int learn_sigma;            /* the UNet gives 2C channels; the first C are eps */
    double scale;               /* classifier guidance scale s (0: none) */
} adm_dpm_opts;

/* Imagen's dynamic thresholding as the reference applies it, per image:
 * s = max(1, quantile(|x0|, 0.995)) (torch.quantile: linear interpolation
 * between order statistics), x0 <- clamp(x0, -s, s) / s.  sort: n floats. */
void adm_dpm_dynamic_threshold(float *x0, int B, size_t n, float *sort);

/* Check the options (steps, order, thresholding) with a clear error. */
int adm_dpm_check(const adm_dpm_opts *o);

/* Sample: x [B, C, H, W] holds x_T on entry and the result on return.
 * on_step(user, k, steps, x) after every update, k + 1 = network passes
 * made so far.  0 done, 1 stopped by on_step, -1 error. */
int adm_dpm_sample(const adm_vp_schedule *ns, const adm_dpm_opts *o, const adm_networks *net,
                   const int64_t *y, int B, int C, int H, int W, float *x,
                   adm_step_fn on_step, void *step_user);

/* ---- the solvers one network evaluation at a time (model/generate_pool.c
 * advances each image of a shared pass by these; the loops above use them
 * too, so both give the same bits) ---- */

/* The model value at t from the networks' outputs: out [B, C or 2C, hw]
 * (the UNet at model time adm_vp_model_time(t)), grad [B, C, hw] the
 * classifier gradient (NULL when unguided): the guided noise prediction,
 * or for DPM-Solver++ the (thresholded) data prediction, into res [B, C, hw].
 * sort: C*hw floats of scratch (thresholding). */
void adm_dpm_model_value(const adm_vp_schedule *ns, const adm_dpm_opts *o, int B, int C, size_t hw, const float *x,
                         float t, const float *out, const float *grad, float *res, float *sort);

/* Multistep: the solver's order, and the order used at step (1..steps). */
int adm_dpm_order(const adm_dpm_opts *o);
int adm_dpm_multistep_order(const adm_dpm_opts *o, int step);
/* x (n floats) from t_prev[count-1] to t with the model values m[0..count)
 * at t_prev[] (oldest first), by the multistep DPM-Solver++ of `order`. */
void adm_dpm_multistep_update(const adm_vp_schedule *ns, float *x, float *const *m, const float *t_prev, int count,
                              float t, int order, size_t n);

/* Singlestep DPM-Solver 3: its outer steps (s -> t of `order` evaluations,
 * intermediate points at ratios r1, r2 of the lambda step). */
typedef struct { float s, t, r1, r2; int order; } adm_dpm_single_step;
/* Fill plan (room for o->steps entries); returns the number of outer steps, -1 on error. */
int adm_dpm_single_plan(const adm_vp_schedule *ns, const adm_dpm_opts *o, adm_dpm_single_step *plan);
/* After evaluation `stage` (1: e_s at s, 2: e_s1, 3: e_s2) of an outer
 * step from s to t: 1 and xi (n floats) + *t_next = the next evaluation's
 * input and time, or 0 when x holds the step's result. */
int adm_dpm_single_stage(const adm_vp_schedule *ns, float *x, float s, float t, int order, float r1, float r2,
                         int stage, const float *e_s, const float *e_s1, const float *e_s2, float *xi, size_t n,
                         float *t_next);

#endif
