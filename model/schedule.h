/* schedule.h — the diffusion noise schedule and its respaced tables, as
 * guided-diffusion's gaussian_diffusion.py (GaussianDiffusion.__init__,
 * get_named_beta_schedule) and respace.py (space_timesteps,
 * SpacedDiffusion) compute them, in float64.
 *
 *   adm_beta_schedule      betas of the base process ("linear" | "cosine")
 *   adm_space_timesteps    which original timesteps a respacing spec keeps
 *   adm_schedule_build     the respaced process: betas from the kept
 *                          alphas_cumprod, and every derived table
 *
 * Index i of every table is a respaced step (0 .. num_steps-1);
 * timestep_map[i] is the original timestep the networks are given.
 */
#ifndef ADM_SCHEDULE_H
#define ADM_SCHEDULE_H
#include <stdint.h>

#define ADM_MAX_TIMESTEPS 100000

/* betas[n] of schedule `name` ("linear" or "cosine"), float64.
 * linear: np.linspace(scale*1e-4, scale*0.02, n), scale = 1000/n.
 * cosine: betas_for_alpha_bar with alpha_bar(t) = cos((t+0.008)/1.008*pi/2)^2,
 *         beta_i = min(1 - alpha_bar((i+1)/n) / alpha_bar(i/n), 0.999). */
int adm_beta_schedule(const char *name, int n, double *betas);

/* Kept timesteps of spec over a base of num_timesteps steps, ascending,
 * into keep[] (capacity cap); returns the count, or -1 + adm_error.
 * spec: "ddimN" (the DDIM paper's integer stride), or a comma list of
 * per-section counts ("250", "10,20,30"), rounded half to even as
 * Python's round() does.  Duplicates collapse (the reference uses a set). */
int adm_space_timesteps(int num_timesteps, const char *spec, int *keep, int cap);

typedef struct {
    int num_steps;                      /* respaced steps T' */
    int original_steps;                 /* base process length T */
    int64_t *timestep_map;              /* [T'] original t of respaced step i */
    /* float64 tables, each [T'] (gaussian_diffusion.py's names) */
    double *betas;
    double *log_betas;                  /* np.log(betas): max_log of learned-range variance */
    double *alphas_cumprod;
    double *alphas_cumprod_prev;        /* append(1, alphas_cumprod[:-1]) */
    double *alphas_cumprod_next;        /* append(alphas_cumprod[1:], 0) */
    double *sqrt_alphas_cumprod;
    double *sqrt_one_minus_alphas_cumprod;
    double *sqrt_recip_alphas_cumprod;  /* sqrt(1/abar) */
    double *sqrt_recipm1_alphas_cumprod;/* sqrt(1/abar - 1) */
    double *posterior_variance;         /* beta (1-abar_prev)/(1-abar) */
    double *posterior_log_variance_clipped; /* log(append(pv[1], pv[1:])) */
    double *posterior_mean_coef1;       /* beta sqrt(abar_prev)/(1-abar) */
    double *posterior_mean_coef2;       /* (1-abar_prev) sqrt(alpha)/(1-abar) */
    double *fixed_large_variance;       /* append(pv[1], betas[1:]) (FIXED_LARGE) */
    double *fixed_large_log_variance;   /* its log */
    double *block_;                     /* one allocation behind all tables */
} adm_schedule;

/* Base schedule `noise_schedule` with `diffusion_steps` steps, respaced by
 * `respacing` (NULL or "" keeps every step).  Free with adm_schedule_free. */
int adm_schedule_build(adm_schedule *s, const char *noise_schedule, int diffusion_steps,
                       const char *respacing);
void adm_schedule_free(adm_schedule *s);

#endif
