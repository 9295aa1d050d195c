/* dpm_solver.c — DPM-Solver and DPM-Solver++ for discrete-time guided
 * diffusion, following dpm_solver_pytorch.py (LuChengTHU/dpm-solver)
 * line by line: every scalar of the reference is a float32 tensor, so every
 * scalar here is a float computed in the reference's operation order (the
 * library calls are the correctly rounded or 1-ulp float functions torch
 * uses for one-element tensors: expf, logf, expm1f, log1pf, sqrtf).
 *
 * Symbols (the papers'): alpha_t, sigma_t with alpha_t^2 + sigma_t^2 = 1,
 * lambda_t = log(alpha_t / sigma_t) (half the log-SNR), h = lambda_t -
 * lambda_s the step in lambda, eps_theta the (guided) noise prediction,
 * x0_theta = (x - sigma_t eps_theta) / alpha_t the data prediction,
 * phi_1 = expm1(-h) (DPM-Solver++) or expm1(h) (DPM-Solver).
 */
#include "dpm_solver.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- schedule */

/* torch.linspace(start, end, steps) in float32, as its CPU kernel computes
 * it (the reference's time grids and t_array are linspaces, and a grid
 * point one ulp off moves every model time): from the start below the
 * halfway index, from the end above it, start + step * i contracted to an
 * fma (the kernel is built with FMA for AVX2 and GCC contracts); in blocks
 * of 2 x 8 lanes while 16 or more elements remain, where each 8-lane
 * vector is arange(base, step): base (fma) + k * step (not contracted). */
static void linspace_f32(float start, float end, int steps, float *out) {
    if (steps == 1) { out[0] = start; return; }
    const float step = (end - start) / (float)(steps - 1);
    const int halfway = steps / 2, lanes = 8;
    int i = 0;
    for (; i + 2 * lanes <= steps; i += 2 * lanes)
        for (int v = 0; v < 2; v++) {
            int idx = i + v * lanes;
            float base = idx < halfway ? fmaf(step, (float)idx, start) : fmaf(-step, (float)(steps - idx - 1), end);
            out[idx] = base;
            for (int k = 1; k < lanes; k++) {
                float ks = (float)k * step;
                out[idx + k] = base + ks;
            }
        }
    for (; i < steps; i++)
        out[i] = i < halfway ? fmaf(step, (float)i, start) : fmaf(-step, (float)(steps - i - 1), end);
}

/* interpolate_fn: the piecewise linear f through (xp[k], yp[k]), xp
 * ascending, extended linearly past both ends by the outermost segments.
 * k = the number of keypoints below x (x sorts before equal keypoints). */
static float interpolate(float x, const float *xp, const float *yp, int K) {
    int lo = 0, hi = K;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (xp[mid] < x) lo = mid + 1; else hi = mid;
    }
    int a = lo == 0 ? 0 : lo == K ? K - 2 : lo - 1;   /* segment [a, a+1] */
    float start_x = xp[a], end_x = xp[a + 1], start_y = yp[a], end_y = yp[a + 1];
    float num = (x - start_x) * (end_y - start_y);
    return start_y + num / (end_x - start_x);
}

int adm_vp_schedule_init(adm_vp_schedule *ns, const double *betas, int n) {
    memset(ns, 0, sizeof *ns);
    if (n < 2 || n > ADM_MAX_TIMESTEPS) return adm_error("dpm-solver: %d betas (want 2..%d)", n, ADM_MAX_TIMESTEPS);
    float *la = adm_malloc(sizeof(float) * n), *ta = adm_malloc(sizeof(float) * (n + 1));
    float *fl = adm_malloc(sizeof(float) * n), *ft = adm_malloc(sizeof(float) * n);
    ns->log_alpha_array = la; ns->t_array = ta; ns->flip_log_alpha = fl; ns->flip_t = ft;
    if (!la || !ta || !fl || !ft) { adm_vp_schedule_free(ns); return -1; }
    /* log_alphas = 0.5 * cumsum(log(1 - betas)) in float64 (the reference
     * runs took guided-diffusion's float64 betas), kept as float32 */
    double acc = 0, *lad = adm_malloc(sizeof(double) * n);
    if (!lad) { adm_vp_schedule_free(ns); return -1; }
    for (int i = 0; i < n; i++) {
        if (!(betas[i] > 0.0 && betas[i] < 1.0)) {
            free(lad);
            adm_vp_schedule_free(ns);
            return adm_error("dpm-solver: beta[%d] = %g outside (0, 1)", i, betas[i]);
        }
        acc += log(1.0 - betas[i]);
        lad[i] = 0.5 * acc;
        la[i] = (float)lad[i];
    }
    /* numerical_clip_alpha (float64 too): lambda = log_alpha - 0.5 log(1 - exp(2 log_alpha));
     * drop the trailing entries with lambda < -5.1 */
    int drop = 0;
    for (int i = n - 1; i >= 0; i--) {
        double log_sigma = 0.5 * log(1.0 - exp(2.0 * lad[i]));
        if (!(lad[i] - log_sigma < ADM_DPM_CLIPPED_LAMBDA)) break;
        drop++;
    }
    free(lad);
    int N = n - drop;
    if (N < 2) {
        adm_vp_schedule_free(ns);
        return adm_error("dpm-solver: only %d schedule entries have log-SNR >= -5.1", N);
    }
    /* t_array = torch.linspace(0, 1, N + 1)[1:] */
    linspace_f32(0.0f, 1.0f, N + 1, ta);
    memmove(ta, ta + 1, sizeof(float) * N);
    for (int k = 0; k < N; k++) { fl[k] = la[N - 1 - k]; ft[k] = ta[N - 1 - k]; }
    ns->total_N = N;
    return 0;
}

void adm_vp_schedule_free(adm_vp_schedule *ns) {
    free(ns->t_array);
    free(ns->log_alpha_array);
    free(ns->flip_log_alpha);
    free(ns->flip_t);
    memset(ns, 0, sizeof *ns);
}

float adm_vp_log_alpha(const adm_vp_schedule *ns, float t) {
    return interpolate(t, ns->t_array, ns->log_alpha_array, ns->total_N);
}

float adm_vp_alpha(const adm_vp_schedule *ns, float t) { return expf(adm_vp_log_alpha(ns, t)); }

float adm_vp_sigma(const adm_vp_schedule *ns, float t) {
    return sqrtf(1.0f - expf(2.0f * adm_vp_log_alpha(ns, t)));
}

float adm_vp_lambda(const adm_vp_schedule *ns, float t) {
    float log_mean = adm_vp_log_alpha(ns, t);
    float log_std = 0.5f * logf(1.0f - expf(2.0f * log_mean));
    return log_mean - log_std;
}

/* torch.logaddexp(a, b) for float */
static float logaddexp(float a, float b) {
    if (isinf(a) && a == b) return a;
    float m = a > b ? a : b;
    return m + log1pf(expf(-fabsf(a - b)));
}

float adm_vp_inverse_lambda(const adm_vp_schedule *ns, float lambda) {
    /* log_alpha = -0.5 * logaddexp(0, -2 lambda); t = interp(log_alpha) over the
     * flipped (ascending) log_alpha_array */
    float log_alpha = -0.5f * logaddexp(0.0f, -2.0f * lambda);
    return interpolate(log_alpha, ns->flip_log_alpha, ns->flip_t, ns->total_N);
}

float adm_vp_model_time(const adm_vp_schedule *ns, float t) {
    /* get_model_input_time: (t_continuous - 1 / N) * 1000 */
    return (t - (float)(1.0 / ns->total_N)) * 1000.0f;
}

/* ---------------------------------------------------------------- time steps */

int adm_skip_type_parse(const char *name, adm_skip_type *skip) {
    if (name && !strcmp(name, "time_uniform")) { *skip = ADM_SKIP_TIME_UNIFORM; return 0; }
    if (name && (!strcmp(name, "logsnr") || !strcmp(name, "logSNR"))) { *skip = ADM_SKIP_LOGSNR; return 0; }
    if (name && !strcmp(name, "time_quadratic")) { *skip = ADM_SKIP_TIME_QUADRATIC; return 0; }
    return adm_error("unknown skip type '%s' (want time_uniform, logsnr or time_quadratic)", name ? name : "(none)");
}

const char *adm_skip_type_name(adm_skip_type skip) {
    return skip == ADM_SKIP_LOGSNR ? "logsnr" : skip == ADM_SKIP_TIME_QUADRATIC ? "time_quadratic" : "time_uniform";
}

int adm_dpm_time_steps(const adm_vp_schedule *ns, adm_skip_type skip, double t_T, double t_0, int N, float *t) {
    if (N < 1) return adm_error("dpm-solver: %d time steps", N);
    switch (skip) {
    case ADM_SKIP_LOGSNR: {
        /* uniform in lambda, mapped back with inverse_lambda */
        float lambda_T = adm_vp_lambda(ns, (float)t_T), lambda_0 = adm_vp_lambda(ns, (float)t_0);
        linspace_f32(lambda_T, lambda_0, N + 1, t);
        for (int i = 0; i <= N; i++) t[i] = adm_vp_inverse_lambda(ns, t[i]);
        return 0;
    }
    case ADM_SKIP_TIME_UNIFORM:
        linspace_f32((float)t_T, (float)t_0, N + 1, t);
        return 0;
    case ADM_SKIP_TIME_QUADRATIC:
        /* uniform in sqrt(t), squared */
        linspace_f32((float)sqrt(t_T), (float)sqrt(t_0), N + 1, t);
        for (int i = 0; i <= N; i++) t[i] = t[i] * t[i];
        return 0;
    }
    return adm_error("dpm-solver: bad skip type %d", (int)skip);
}

int adm_dpm_singlestep_orders(int steps, int order, int *orders) {
    if (steps < 1) return adm_error("dpm-solver: %d steps", steps);
    int K = 0;
    if (order == 3) {
        /* K = steps // 3 + 1 outer steps: 3, ..., 3 then (2, 1), (1) or (2) */
        int k = steps / 3 + 1;
        int threes = steps % 3 == 0 ? k - 2 : k - 1;
        for (int i = 0; i < threes; i++) orders[K++] = 3;
        if (steps % 3 == 0) { orders[K++] = 2; orders[K++] = 1; }
        else orders[K++] = steps % 3 == 1 ? 1 : 2;
    } else if (order == 2) {
        for (int i = 0; i < steps / 2; i++) orders[K++] = 2;
        if (steps % 2) orders[K++] = 1;
    } else if (order == 1) {
        for (int i = 0; i < steps; i++) orders[K++] = 1;
    } else {
        return adm_error("dpm-solver: order %d (want 1, 2 or 3)", order);
    }
    return K;
}

/* ---------------------------------------------------------------- options */

int adm_dpm_kind_parse(const char *name, adm_dpm_kind *kind) {
    if (!name) return 0;
    if (!strcmp(name, "dpm++2m")) { *kind = ADM_DPM_PP_2M; return 1; }
    if (!strcmp(name, "dpm++3m")) { *kind = ADM_DPM_PP_3M; return 1; }
    if (!strcmp(name, "dpm3s")) { *kind = ADM_DPM_3S; return 1; }
    return 0;
}

static int order_of(adm_dpm_kind k) { return k == ADM_DPM_PP_2M ? 2 : 3; }
static int data_prediction(adm_dpm_kind k) { return k != ADM_DPM_3S; }
static const char *kind_name(adm_dpm_kind k) {
    return k == ADM_DPM_PP_2M ? "dpm++2m" : k == ADM_DPM_PP_3M ? "dpm++3m" : "dpm3s";
}

int adm_dpm_check(const adm_dpm_opts *o) {
    int min_steps = o->kind == ADM_DPM_3S ? 1 : order_of(o->kind);
    if (o->steps < min_steps || o->steps > 1000)
        return adm_error("%s: %d steps (want %d..1000)", kind_name(o->kind), o->steps, min_steps);
    if (o->thresholding && !data_prediction(o->kind))
        return adm_error("%s predicts noise: dynamic thresholding needs a data-prediction solver (dpm++2m or dpm++3m)",
                         kind_name(o->kind));
    if (!(o->scale >= 0) || !isfinite(o->scale)) return adm_error("%s: guidance scale %g", kind_name(o->kind), o->scale);
    return 0;
}

/* ---------------------------------------------------------------- thresholding */

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void adm_dpm_dynamic_threshold(float *x0, int B, size_t n, float *sort) {
    const float p = 0.995f, max_val = 1.0f;
    for (int b = 0; b < B; b++) {
        float *v = x0 + (size_t)b * n;
        for (size_t e = 0; e < n; e++) sort[e] = fabsf(v[e]);
        qsort(sort, n, sizeof(float), cmp_float);
        /* torch.quantile, linear: rank = q (n - 1) in float32, lerp between
         * the order statistics below and above with weight rank - floor(rank)
         * (torch's scalar lerp kernel, contracted to fma like linspace) */
        float rank = p * (float)(n - 1);
        size_t below = (size_t)rank, above = (size_t)ceilf(rank);
        float w = rank - (float)below, lo = sort[below], hi = sort[above];
        float s = fabsf(w) < 0.5f ? fmaf(w, hi - lo, lo) : fmaf(-(hi - lo), 1.0f - w, hi);   /* torch's lerp (fma) */
        s = s > max_val ? s : max_val;
        for (size_t e = 0; e < n; e++) {
            float c = v[e] < -s ? -s : v[e] > s ? s : v[e];
            v[e] = c / s;
        }
    }
}

/* ---------------------------------------------------------------- the model */

typedef struct {
    const adm_vp_schedule *ns;
    const adm_dpm_opts *o;
    const adm_networks *net;
    const int64_t *y;
    int B, C;
    size_t hw, n;               /* n = B * C * hw */
    float *out, *grad, *tin, *sort;
} dpm_ctx;

void adm_dpm_model_value(const adm_vp_schedule *ns, const adm_dpm_opts *o, int B, int C, size_t hw, const float *x,
                         float t, const float *out, const float *grad, float *res, float *sort) {
    const int guided = o->scale != 0;
    const float sigma_t = adm_vp_sigma(ns, t), alpha_t = adm_vp_alpha(ns, t);
    const float g = (float)o->scale * sigma_t;
    const int data = data_prediction(o->kind), out_c = o->learn_sigma ? 2 * C : C;
    const size_t per = (size_t)C * hw;
    for (int b = 0; b < B; b++) {
        const float *eps_b = out + (size_t)b * out_c * hw;      /* the first C channels */
        for (size_t e = 0; e < per; e++) {
            size_t k = (size_t)b * per + e;
            float eps = eps_b[e];
            if (guided) eps = eps - g * grad[k];
            if (data) {
                float s_eps = sigma_t * eps;
                res[k] = (x[k] - s_eps) / alpha_t;
            } else {
                res[k] = eps;
            }
        }
    }
    if (data && o->thresholding) adm_dpm_dynamic_threshold(res, B, per, sort);
}

/* model_fn(x, t): the guided noise prediction
 *   eps~ = eps_theta(x, t_in) - s * sigma_t * grad_x log p(y | x, t_in)
 * and for DPM-Solver++ the data prediction x0 = (x - sigma_t eps~) / alpha_t
 * (dynamically thresholded when asked): the networks, then adm_dpm_model_value. */
static int model_fn(dpm_ctx *c, const float *x, float t, float *res) {
    const float t_in = adm_vp_model_time(c->ns, t);
    for (int b = 0; b < c->B; b++) c->tin[b] = t_in;
    if (c->net->model(c->net->user, x, c->tin, c->y, c->B, c->out))
        return adm_error_prefix("model at t=%g (model time %g)", t, t_in);
    const int guided = c->o->scale != 0;
    if (guided && c->net->grad(c->net->user, x, c->tin, c->y, c->B, c->grad))
        return adm_error_prefix("classifier at t=%g (model time %g)", t, t_in);
    adm_dpm_model_value(c->ns, c->o, c->B, c->C, c->hw, x, t, c->out, guided ? c->grad : NULL, res, c->sort);
    return 0;
}

/* ---------------------------------------------------------------- multistep DPM-Solver++ */

/* x_t from x at t_prev[last] with the model values m[] at t_prev[] (oldest
 * first, `order` of them used from the end): multistep DPM-Solver++ of
 * order 1 (= DDIM), 2 or 3 (multistep_dpm_solver_*_update, 'dpmsolver' type). */
void adm_dpm_multistep_update(const adm_vp_schedule *ns, float *x, float *const *m, const float *t_prev, int count,
                              float t, int order, size_t n) {
    const float t0 = t_prev[count - 1];
    const float sigma_prev_0 = adm_vp_sigma(ns, t0), sigma_t = adm_vp_sigma(ns, t);
    const float alpha_t = expf(adm_vp_log_alpha(ns, t));
    const float lambda_prev_0 = adm_vp_lambda(ns, t0), lambda_t = adm_vp_lambda(ns, t);
    const float h = lambda_t - lambda_prev_0;
    const float phi_1 = expm1f(-h);
    const float c_x = sigma_t / sigma_prev_0, c_m = alpha_t * phi_1;
    const float *m0 = m[count - 1];
    if (order == 1) {
        /* x_t = sigma_t / sigma_s x - alpha_t phi_1 m_s */
        for (size_t k = 0; k < n; k++) {
            float a = c_x * x[k], b = c_m * m0[k];
            x[k] = a - b;
        }
        return;
    }
    const float *m1 = m[count - 2];
    const float lambda_prev_1 = adm_vp_lambda(ns, t_prev[count - 2]);
    const float h_0 = lambda_prev_0 - lambda_prev_1, r0 = h_0 / h;
    const float inv_r0 = 1.0f / r0;
    if (order == 2) {
        /* D1_0 = (m0 - m1) / r0;  x_t = sigma_t/sigma_0 x - alpha_t phi_1 m0 - 0.5 alpha_t phi_1 D1_0 */
        const float c_d = 0.5f * c_m;
        for (size_t k = 0; k < n; k++) {
            float d1_0 = inv_r0 * (m0[k] - m1[k]);
            float a = c_x * x[k], b = c_m * m0[k], c = c_d * d1_0;
            x[k] = (a - b) - c;
        }
        return;
    }
    /* order 3: D1 = D1_0 + r0/(r0+r1) (D1_0 - D1_1), D2 = (D1_0 - D1_1)/(r0+r1),
     * phi_2 = phi_1/h + 1, phi_3 = phi_2/h - 0.5,
     * x_t = sigma_t/sigma_0 x - alpha_t phi_1 m0 + alpha_t phi_2 D1 - alpha_t phi_3 D2 */
    const float *m2 = m[count - 3];
    const float lambda_prev_2 = adm_vp_lambda(ns, t_prev[count - 3]);
    const float h_1 = lambda_prev_1 - lambda_prev_2, r1 = h_1 / h;
    const float inv_r1 = 1.0f / r1, c_d1 = r0 / (r0 + r1), c_d2 = 1.0f / (r0 + r1);
    const float phi_2 = phi_1 / h + 1.0f, phi_3 = phi_2 / h - 0.5f;
    const float c_2 = alpha_t * phi_2, c_3 = alpha_t * phi_3;
    for (size_t k = 0; k < n; k++) {
        float d1_0 = inv_r0 * (m0[k] - m1[k]), d1_1 = inv_r1 * (m1[k] - m2[k]);
        float diff = d1_0 - d1_1;
        float d1 = d1_0 + c_d1 * diff, d2 = c_d2 * diff;
        float a = c_x * x[k], b = c_m * m0[k], c = c_2 * d1, d = c_3 * d2;
        x[k] = ((a - b) + c) - d;
    }
}

int adm_dpm_multistep_order(const adm_dpm_opts *o, int step) {
    const int order = order_of(o->kind), steps = o->steps;
    int step_order = step < order ? step : order;       /* the first values by lower orders */
    if (step >= order && o->lower_order_final && steps < 10 && steps + 1 - step < order)
        step_order = steps + 1 - step;                   /* and the last ones when steps < 10 */
    return step_order;
}

int adm_dpm_order(const adm_dpm_opts *o) { return order_of(o->kind); }

static int multistep(dpm_ctx *c, float *x, const float *ts, float **m, adm_step_fn on_step, void *step_user) {
    const adm_dpm_opts *o = c->o;
    const int order = order_of(o->kind), steps = o->steps;
    float t_prev[3];
    int count = 1;
    t_prev[0] = ts[0];
    if (model_fn(c, x, ts[0], m[0])) return -1;
    for (int step = 1; step <= steps; step++) {
        const float t = ts[step];
        adm_dpm_multistep_update(c->ns, x, m, t_prev, count, t, adm_dpm_multistep_order(o, step), c->n);
        if (on_step && on_step(step_user, step - 1, steps, x)) return 1;
        if (count == order) {                                /* drop the oldest */
            float *old = m[0];
            for (int i = 0; i < order - 1; i++) { m[i] = m[i + 1]; t_prev[i] = t_prev[i + 1]; }
            m[order - 1] = old;
            count--;
        }
        t_prev[count] = t;
        if (step < steps && model_fn(c, x, t, m[count])) return -1;
        count++;
    }
    return 0;
}

/* ---------------------------------------------------------------- singlestep DPM-Solver */

/* One singlestep DPM-Solver update (noise prediction, 'dpmsolver' type) of
 * order 1, 2 or 3 from s to t with the intermediate points at lambda_s +
 * r1 h and lambda_s + r2 h:
 *   x_s1 = e^(la_s1 - la_s) x - sigma_s1 phi_11 eps_s
 *   x_s2 = e^(la_s2 - la_s) x - sigma_s2 phi_12 eps_s - r2/r1 sigma_s2 phi_22 (eps_s1 - eps_s)
 *   x_t  = e^(la_t - la_s) x - sigma_t phi_1 eps_s - 1/r2 sigma_t phi_2 (eps_s2 - eps_s)   (order 3)
 *   x_t  = e^(la_t - la_s) x - sigma_t phi_1 eps_s - 0.5/r1 sigma_t phi_1 (eps_s1 - eps_s) (order 2)
 * with phi_1 = expm1(h), phi_11 = expm1(r1 h), phi_12 = expm1(r2 h),
 * phi_22 = expm1(r2 h)/(r2 h) - 1, phi_2 = phi_1/h - 1. */
int adm_dpm_single_stage(const adm_vp_schedule *ns, float *x, float s, float t, int order, float r1, float r2,
                         int stage, const float *e_s, const float *e_s1, const float *e_s2, float *xi, size_t n,
                         float *t_next) {
    const float lambda_s = adm_vp_lambda(ns, s), lambda_t = adm_vp_lambda(ns, t);
    const float h = lambda_t - lambda_s;
    const float la_s = adm_vp_log_alpha(ns, s), la_t = adm_vp_log_alpha(ns, t);
    const float sigma_t = adm_vp_sigma(ns, t);
    const float phi_1 = expm1f(h);
    const float c_xt = expf(la_t - la_s), c_t = sigma_t * phi_1;
    if (order == 1) {
        for (size_t k = 0; k < n; k++) {
            float a = c_xt * x[k], b = c_t * e_s[k];
            x[k] = a - b;
        }
        return 0;
    }
    if (stage == 1) {
        /* the first intermediate point s1 */
        const float lambda_s1 = lambda_s + r1 * h;
        const float s1 = adm_vp_inverse_lambda(ns, lambda_s1);
        const float la_s1 = adm_vp_log_alpha(ns, s1), sigma_s1 = adm_vp_sigma(ns, s1);
        const float phi_11 = expm1f(r1 * h);
        const float c_x1 = expf(la_s1 - la_s), c_1 = sigma_s1 * phi_11;
        for (size_t k = 0; k < n; k++) {
            float a = c_x1 * x[k], b = c_1 * e_s[k];
            xi[k] = a - b;
        }
        *t_next = s1;
        return 1;
    }
    if (order == 2) {
        const float c_d = (0.5f / r1) * c_t;
        for (size_t k = 0; k < n; k++) {
            float a = c_xt * x[k], b = c_t * e_s[k], d = c_d * (e_s1[k] - e_s[k]);
            x[k] = (a - b) - d;
        }
        return 0;
    }
    const float phi_2 = phi_1 / h - 1.0f;
    if (stage == 2) {
        /* order 3: the second intermediate point s2 */
        const float lambda_s2 = lambda_s + r2 * h;
        const float s2 = adm_vp_inverse_lambda(ns, lambda_s2);
        const float la_s2 = adm_vp_log_alpha(ns, s2), sigma_s2 = adm_vp_sigma(ns, s2);
        const float phi_12 = expm1f(r2 * h);
        const float phi_22 = expm1f(r2 * h) / (r2 * h) - 1.0f;
        const float c_x2 = expf(la_s2 - la_s), c_2 = sigma_s2 * phi_12, c_22 = (r2 / r1) * (sigma_s2 * phi_22);
        for (size_t k = 0; k < n; k++) {
            float a = c_x2 * x[k], b = c_2 * e_s[k], d = c_22 * (e_s1[k] - e_s[k]);
            xi[k] = (a - b) - d;
        }
        *t_next = s2;
        return 1;
    }
    const float c_d = (1.0f / r2) * (sigma_t * phi_2);
    for (size_t k = 0; k < n; k++) {
        float a = c_xt * x[k], b = c_t * e_s[k], d = c_d * (e_s2[k] - e_s[k]);
        x[k] = (a - b) - d;
    }
    return 0;
}

/* One singlestep update: the networks at s (and s1, s2), then
 * adm_dpm_single_stage after each. */
static int singlestep_update(dpm_ctx *c, float *x, float s, float t, int order, float r1, float r2,
                             float *e_s, float *e_s1, float *e_s2, float *xi) {
    float tn = 0;
    if (model_fn(c, x, s, e_s)) return -1;
    if (!adm_dpm_single_stage(c->ns, x, s, t, order, r1, r2, 1, e_s, NULL, NULL, xi, c->n, &tn)) return 0;
    if (model_fn(c, xi, tn, e_s1)) return -1;
    if (!adm_dpm_single_stage(c->ns, x, s, t, order, r1, r2, 2, e_s, e_s1, NULL, xi, c->n, &tn)) return 0;
    if (model_fn(c, xi, tn, e_s2)) return -1;
    adm_dpm_single_stage(c->ns, x, s, t, order, r1, r2, 3, e_s, e_s1, e_s2, xi, c->n, &tn);
    return 0;
}

int adm_dpm_single_plan(const adm_vp_schedule *ns, const adm_dpm_opts *o, adm_dpm_single_step *plan) {
    const double t_T = 1.0, t_0 = 1.0 / ns->total_N;
    int *orders = adm_malloc(sizeof(int) * o->steps);
    float *outer = adm_malloc(sizeof(float) * (o->steps + 1)), *all = adm_malloc(sizeof(float) * (o->steps + 1));
    int rc = -1, K;
    if (!orders || !outer || !all) goto done;
    if ((K = adm_dpm_singlestep_orders(o->steps, 3, orders)) < 0) goto done;
    if (o->skip == ADM_SKIP_LOGSNR) {
        /* as the reference (to reproduce the paper): K uniform steps in lambda */
        if (adm_dpm_time_steps(ns, o->skip, t_T, t_0, K, outer)) goto done;
    } else {
        /* the steps-point grid at the cumulative sums of the orders */
        if (adm_dpm_time_steps(ns, o->skip, t_T, t_0, o->steps, all)) goto done;
        for (int j = 0, at = 0; j <= K; at += j < K ? orders[j] : 0, j++) outer[j] = all[at];
    }
    for (int j = 0; j < K; j++) {
        const float s = outer[j], t = outer[j + 1];
        const int order = orders[j];
        float inner[4], lam[4], r1 = 0, r2 = 0;
        if (adm_dpm_time_steps(ns, o->skip, s, t, order, inner)) goto done;
        for (int i = 0; i <= order; i++) lam[i] = adm_vp_lambda(ns, inner[i]);
        const float h = lam[order] - lam[0];
        if (order >= 2) r1 = (lam[1] - lam[0]) / h;
        if (order >= 3) r2 = (lam[2] - lam[0]) / h;
        plan[j] = (adm_dpm_single_step){s, t, r1, r2, order};
    }
    rc = K;
done:
    free(orders); free(outer); free(all);
    return rc;
}

static int singlestep(dpm_ctx *c, float *x, float **buf, adm_step_fn on_step, void *step_user) {
    const adm_dpm_opts *o = c->o;
    adm_dpm_single_step *plan = adm_malloc(sizeof *plan * o->steps);
    int rc = -1, K;
    if (!plan) return -1;
    if ((K = adm_dpm_single_plan(c->ns, o, plan)) < 0) goto done;
    for (int j = 0, nfe = 0; j < K; j++) {
        const adm_dpm_single_step *p = &plan[j];
        if (singlestep_update(c, x, p->s, p->t, p->order, p->r1, p->r2, buf[0], buf[1], buf[2], buf[3])) goto done;
        nfe += p->order;
        if (on_step && on_step(step_user, nfe - 1, o->steps, x)) { rc = 1; goto done; }
    }
    rc = 0;
done:
    free(plan);
    return rc;
}

/* ---------------------------------------------------------------- the loop */

int adm_dpm_sample(const adm_vp_schedule *ns, const adm_dpm_opts *o, const adm_networks *net,
                   const int64_t *y, int B, int C, int H, int W, float *x,
                   adm_step_fn on_step, void *step_user) {
    if (B < 1 || C < 1 || H < 1 || W < 1) return adm_error("dpm-solver: bad shape [%d, %d, %d, %d]", B, C, H, W);
    if (adm_dpm_check(o)) return -1;
    const int guided = o->scale != 0;
    if (guided && !net->grad) return adm_error("dpm-solver: guidance scale %g needs a classifier", o->scale);
    if (guided && !y) return adm_error("dpm-solver: guidance needs the classes y");
    dpm_ctx c = {ns, o, net, y, B, C, (size_t)H * W, (size_t)B * C * H * W, NULL, NULL, NULL, NULL};
    const int out_c = o->learn_sigma ? 2 * C : C;
    c.out = adm_malloc(sizeof(float) * B * out_c * c.hw);
    c.grad = guided ? adm_malloc(sizeof(float) * c.n) : NULL;
    c.tin = adm_malloc(sizeof(float) * B);
    c.sort = adm_malloc(sizeof(float) * C * c.hw);
    float *buf[4] = {NULL, NULL, NULL, NULL}, *ts = adm_malloc(sizeof(float) * (o->steps + 1));
    int rc = -1;
    if (!c.out || (guided && !c.grad) || !c.tin || !c.sort || !ts) goto done;
    for (int i = 0; i < 4; i++)
        if (!(buf[i] = adm_malloc(sizeof(float) * c.n))) goto done;
    if (o->kind == ADM_DPM_3S) {
        rc = singlestep(&c, x, buf, on_step, step_user);
    } else {
        if (adm_dpm_time_steps(ns, o->skip, 1.0, 1.0 / ns->total_N, o->steps, ts)) goto done;
        rc = multistep(&c, x, ts, buf, on_step, step_user);
    }
done:
    for (int i = 0; i < 4; i++) free(buf[i]);
    free(ts); free(c.out); free(c.grad); free(c.tin); free(c.sort);
    return rc;
}
