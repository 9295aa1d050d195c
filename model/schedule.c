/* schedule.c — beta schedules, timestep respacing and the respaced
 * diffusion tables, in float64 as guided-diffusion computes them
 * (gaussian_diffusion.py: get_named_beta_schedule, betas_for_alpha_bar,
 * GaussianDiffusion.__init__; respace.py: space_timesteps, SpacedDiffusion).
 */
#include "schedule.h"
#include "util.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- base schedules ---------------------------------------------------- */

/* alpha_bar(t) of the cosine schedule (Nichol & Dhariwal 2021), evaluated
 * in the reference's operation order: cos((t + 0.008) / 1.008 * pi / 2) ** 2. */
static double cosine_alpha_bar(double t) {
    double c = cos((t + 0.008) / 1.008 * M_PI / 2);
    return c * c;
}

int adm_beta_schedule(const char *name, int n, double *betas) {
    if (n < 1 || n > ADM_MAX_TIMESTEPS)
        return adm_error("beta schedule: %d diffusion steps (want 1..%d)", n, ADM_MAX_TIMESTEPS);
    if (!strcmp(name, "linear")) {
        /* np.linspace(start, end, n): start + i*step, step = (end-start)/(n-1), last = end */
        double scale = 1000.0 / n, start = scale * 0.0001, end = scale * 0.02;
        double step = n > 1 ? (end - start) / (n - 1) : 0;
        for (int i = 0; i < n; i++) betas[i] = i * step + start;
        if (n > 1) betas[n - 1] = end;
        return 0;
    }
    if (!strcmp(name, "cosine")) {
        for (int i = 0; i < n; i++) {
            double t1 = (double)i / n, t2 = (double)(i + 1) / n;
            double b = 1 - cosine_alpha_bar(t2) / cosine_alpha_bar(t1);
            betas[i] = b < 0.999 ? b : 0.999;
        }
        return 0;
    }
    return adm_error("unknown beta schedule '%s' (want linear or cosine)", name);
}

/* ---- respacing ----------------------------------------------------------- */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Parse a non-negative decimal integer with optional surrounding blanks
 * (Python's int()); *end is where parsing stopped. */
static int parse_count(const char *s, const char **end, long *out) {
    while (*s == ' ' || *s == '\t') s++;
    if (!isdigit((unsigned char)*s)) return -1;
    errno = 0;
    char *e;
    long v = strtol(s, &e, 10);
    if (errno || v > ADM_MAX_TIMESTEPS) return -1;
    while (*e == ' ' || *e == '\t') e++;
    *end = e;
    *out = v;
    return 0;
}

int adm_space_timesteps(int num_timesteps, const char *spec, int *keep, int cap) {
    int n = 0;
    if (num_timesteps < 1 || num_timesteps > ADM_MAX_TIMESTEPS)
        return adm_error("respacing: %d base steps", num_timesteps);
    if (!spec) return adm_error("respacing: no spec");

    if (!strncmp(spec, "ddim", 4)) {
        /* the smallest integer stride i giving exactly the desired count */
        const char *end;
        long want;
        if (parse_count(spec + 4, &end, &want) || *end)
            return adm_error("respacing '%s': want ddimN with N a number", spec);
        for (int i = 1; i < num_timesteps; i++) {
            if ((num_timesteps + i - 1) / i != want) continue;
            for (int t = 0; t < num_timesteps; t += i) {
                if (n >= cap) return adm_error("respacing '%s': more than %d steps", spec, cap);
                keep[n++] = t;
            }
            return n;
        }
        return adm_error("respacing '%s': cannot create exactly %ld steps with an integer stride", spec, want);
    }

    /* comma list of section counts over equal sections of the base process */
    long counts[ADM_MAX_TIMESTEPS > 4096 ? 4096 : ADM_MAX_TIMESTEPS];
    int nsec = 0;
    for (const char *p = spec;;) {
        const char *end;
        long c;
        if (nsec >= (int)(sizeof counts / sizeof *counts) || parse_count(p, &end, &c) || (*end && *end != ','))
            return adm_error("respacing '%s': want ddimN or a comma list of step counts", spec);
        counts[nsec++] = c;
        if (!*end) break;
        p = end + 1;
    }
    int size_per = num_timesteps / nsec, extra = num_timesteps % nsec, start = 0;
    for (int s = 0; s < nsec; s++) {
        int size = size_per + (s < extra ? 1 : 0);
        if (size < counts[s])
            return adm_error("respacing '%s': cannot divide section of %d steps into %ld", spec, size, counts[s]);
        double frac_stride = counts[s] <= 1 ? 1.0 : (double)(size - 1) / (double)(counts[s] - 1);
        double cur = 0.0;
        for (long k = 0; k < counts[s]; k++) {
            if (n >= cap) return adm_error("respacing '%s': more than %d steps", spec, cap);
            keep[n++] = start + (int)nearbyint(cur);   /* round half to even, as Python's round() */
            cur += frac_stride;
        }
        start += size;
    }
    /* set(): sort and drop duplicates */
    qsort(keep, n, sizeof *keep, cmp_int);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || keep[i] != keep[m - 1]) keep[m++] = keep[i];
    if (m == 0) return adm_error("respacing '%s' keeps no timestep", spec);
    return m;
}

/* ---- the respaced process -------------------------------------------------- */

void adm_schedule_free(adm_schedule *s) {
    free(s->timestep_map);
    free(s->block_);
    memset(s, 0, sizeof *s);
}

int adm_schedule_build(adm_schedule *s, const char *noise_schedule, int diffusion_steps,
                       const char *respacing) {
    memset(s, 0, sizeof *s);
    if (diffusion_steps < 2 || diffusion_steps > ADM_MAX_TIMESTEPS)
        return adm_error("schedule: %d diffusion steps (want 2..%d)", diffusion_steps, ADM_MAX_TIMESTEPS);
    int T = diffusion_steps;
    double *base = adm_malloc(sizeof(double) * T * 2);
    int *keep = adm_malloc(sizeof(int) * T);
    if (!base || !keep) { free(base); free(keep); return -1; }
    double *base_betas = base, *base_ac = base + T;
    int n;
    if (adm_beta_schedule(noise_schedule, T, base_betas)) goto fail;
    double acc = 1.0;
    for (int i = 0; i < T; i++) { acc *= 1.0 - base_betas[i]; base_ac[i] = acc; }   /* np.cumprod */
    if (respacing && *respacing) {
        n = adm_space_timesteps(T, respacing, keep, T);
        if (n < 0) goto fail;
    } else {
        for (int i = 0; i < T; i++) keep[i] = i;
        n = T;
    }
    if (n < 2) {
        adm_error("respacing '%s' keeps %d step; the reference needs at least 2", respacing, n);
        goto fail;
    }

    enum { NTAB = 16 };
    s->block_ = adm_calloc((size_t)NTAB * n, sizeof(double));
    s->timestep_map = adm_calloc(n, sizeof(int64_t));
    if (!s->block_ || !s->timestep_map) goto fail;
    double **tabs[NTAB] = {
        &s->betas, &s->log_betas, &s->alphas_cumprod, &s->alphas_cumprod_prev, &s->alphas_cumprod_next,
        &s->sqrt_alphas_cumprod, &s->sqrt_one_minus_alphas_cumprod, &s->sqrt_recip_alphas_cumprod,
        &s->sqrt_recipm1_alphas_cumprod, &s->posterior_variance, &s->posterior_log_variance_clipped,
        &s->posterior_mean_coef1, &s->posterior_mean_coef2, &s->fixed_large_variance,
        &s->fixed_large_log_variance, NULL };
    for (int k = 0; tabs[k]; k++) *tabs[k] = s->block_ + (size_t)k * n;
    s->num_steps = n;
    s->original_steps = T;

    /* SpacedDiffusion: new betas from the alphas_cumprod of the kept steps */
    double last = 1.0;
    for (int i = 0; i < n; i++) {
        s->timestep_map[i] = keep[i];
        s->betas[i] = 1 - base_ac[keep[i]] / last;
        last = base_ac[keep[i]];
    }
    /* GaussianDiffusion.__init__ on those betas */
    acc = 1.0;
    for (int i = 0; i < n; i++) {
        double b = s->betas[i];
        if (!(b > 0 && b <= 1)) { adm_error("schedule: beta[%d] = %g outside (0, 1]", i, b); goto fail; }
        acc *= 1.0 - b;
        s->alphas_cumprod[i] = acc;
        s->log_betas[i] = log(b);
    }
    for (int i = 0; i < n; i++) {
        double ac = s->alphas_cumprod[i], b = s->betas[i];
        double ac_prev = i ? s->alphas_cumprod[i - 1] : 1.0;
        s->alphas_cumprod_prev[i] = ac_prev;
        s->alphas_cumprod_next[i] = i + 1 < n ? s->alphas_cumprod[i + 1] : 0.0;
        s->sqrt_alphas_cumprod[i] = sqrt(ac);
        s->sqrt_one_minus_alphas_cumprod[i] = sqrt(1.0 - ac);
        s->sqrt_recip_alphas_cumprod[i] = sqrt(1.0 / ac);
        s->sqrt_recipm1_alphas_cumprod[i] = sqrt(1.0 / ac - 1);
        s->posterior_variance[i] = b * (1.0 - ac_prev) / (1.0 - ac);
        s->posterior_mean_coef1[i] = b * sqrt(ac_prev) / (1.0 - ac);
        s->posterior_mean_coef2[i] = (1.0 - ac_prev) * sqrt(1.0 - b) / (1.0 - ac);
    }
    /* the posterior variance is 0 at step 0: its log is clipped to step 1's */
    for (int i = 0; i < n; i++) {
        double pv = s->posterior_variance[i ? i : 1];
        s->posterior_log_variance_clipped[i] = log(pv);
        s->fixed_large_variance[i] = i ? s->betas[i] : pv;
        s->fixed_large_log_variance[i] = log(s->fixed_large_variance[i]);
    }
    free(base);
    free(keep);
    return 0;
fail:
    free(base);
    free(keep);
    adm_schedule_free(s);
    return -1;
}
