/* test_uncond_guidance.c — classifier guidance of an UNCONDITIONAL UNet, the
 * released 256x256_uncond + 256x256_classifier arrangement, at small size:
 * reference/unet_c (unconditional, 16x16 RGB, out_channels = C, so the
 * fixed-large variance path) guided by a random 16x16 classifier written to
 * a temporary .safetensors and loaded through adm_model_load.  The classes
 * y reach only the classifier.
 *
 * Checks (real device computations, nothing recorded):
 *   end to end    adm_generate runs, images come back per index and class,
 *                 an image reproduced alone has the same bytes;
 *   scale 0       equals the run of a model loaded without a classifier;
 *   DDPM step     each step of adm_generate_batch (recorded noise, stopped
 *                 after k steps) equals the host's float64 evaluation of
 *                 gaussian_diffusion.py's p_sample + condition_mean:
 *                   x0   = clip(sqrt(1/abar) x - sqrt(1/abar - 1) eps)
 *                   mean = coef1 x0 + coef2 x + var * s * grad
 *                   var  = FIXED_LARGE: append(pv[1], betas[1:])[i]
 *                   x'   = mean + [i != 0] sqrt(var) noise
 *                 with eps = adm_unet_forward and grad = adm_classifier_grad
 *                 both at the ORIGINAL t = timestep_map[i];
 *   DDIM step     the same for ddim_sample + condition_score:
 *                   eps' = eps - sqrt(1 - abar) * s * grad;
 *   classes       changing y changes the guided image, not the unguided one.
 * Each step check also evaluates plausible wrong formulas (var -> log var,
 * var -> sqrt var, sqrt(1-abar) -> 1-abar, t -> respaced index) and
 * requires them to miss by far more than the tolerance, so the tolerance is
 * known to discriminate.
 */
#include "check.h"
#include "classifier.h"
#include "cl_runtime.h"
#include "config.h"
#include "generate.h"
#include "schedule.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <stdint.h>
#include <unistd.h>

#define C_ 3
#define H_ 16
#define N_IMG ((size_t)C_ * H_ * H_)
#define NUM_CLASSES 10
#define SCALE 10.0

/* Host evaluation vs the sampler: float32 steps against float64 math. */
#define STEP_TOL 1e-5
/* A wrong formula must miss by at least this factor times the tolerance. */
#define WRONG_FACTOR 50.0

static const char *CLF_CONFIG =
    "kind=classifier\n"
    "image_size=16\n"
    "in_channels=3\n"
    "model_channels=32\n"
    "out_channels=10\n"
    "num_res_blocks=1\n"
    "attention_resolutions=2\n"
    "channel_mult=1,2\n"
    "num_heads=1\n"
    "num_head_channels=16\n"
    "use_scale_shift_norm=1\n"
    "resblock_updown=1\n"
    "use_new_attention_order=0\n"
    "pool=attention\n";

static adm_cl g_cl;
static int g_cl_ok;
static char g_dir[64], g_clf_path[128], g_clf_cfg[128], g_unet_path[512], g_unet_cfg[512];
static adm_model *g_guided;         /* unet_c + random classifier, via adm_model_load */
static adm_model *g_plain;          /* unet_c alone */
static adm_unet *g_unet;            /* unet_c again, for the host's own evaluations */
static adm_classifier *g_clf;       /* the same classifier weights, loaded directly */

/* ---- setup ---- */

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return adm_error("cannot create %s", path);
    int bad = fputs(text, f) < 0;
    if (fclose(f) || bad) return adm_error("cannot write %s", path);
    return 0;
}

/* Write the random classifier + config, load both models and the bare
 * networks.  Returns 0 or -1 + adm_error. */
static int setup(void) {
    if (g_guided) return 0;
    if (!g_cl_ok) {
        if (adm_cl_open(&g_cl, test_device(), 0)) return -1;
        g_cl_ok = 1;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/admd-test-uncond-XXXXXX");
    if (!mkdtemp(g_dir)) return adm_error("mkdtemp %s failed", g_dir);
    snprintf(g_clf_path, sizeof g_clf_path, "%s/classifier.safetensors", g_dir);
    snprintf(g_clf_cfg, sizeof g_clf_cfg, "%s/classifier.txt", g_dir);
    test_path(g_unet_path, sizeof g_unet_path, "reference/unet_c/model.pt");
    test_path(g_unet_cfg, sizeof g_unet_cfg, "reference/unet_c/config.txt");
    if (write_text(g_clf_cfg, CLF_CONFIG)) return -1;

    adm_config ccfg, ucfg;
    adm_tensor_set w;
    adm_config_defaults(&ccfg, ADM_KIND_CLASSIFIER);
    if (adm_config_parse(g_clf_cfg, ADM_KIND_CLASSIFIER, &ccfg)) return -1;
    if (adm_classifier_random_weights(&ccfg, 20261128, &w)) return -1;
    int rc = adm_safetensors_write(g_clf_path, w.t, w.n);
    if (rc == 0) g_clf = adm_classifier_load(&g_cl, &ccfg, &w);
    adm_tensors_free(&w);
    if (rc || !g_clf) return -1;

    adm_config_defaults(&ucfg, ADM_KIND_UNET);
    if (adm_config_parse(g_unet_cfg, ADM_KIND_UNET, &ucfg)) return -1;
    if (ucfg.num_classes != 0 || ucfg.out_channels != C_ || ucfg.image_size != H_)
        return adm_error("unet_c: expected an unconditional 16x16 UNet without learned sigma");
    if (adm_tensors_load(g_unet_path, &w)) return -1;
    g_unet = adm_unet_load(&g_cl, &ucfg, &w);
    adm_tensors_free(&w);
    if (!g_unet) return -1;

    adm_model_spec guided = {g_unet_path, g_unet_cfg, g_clf_path, g_clf_cfg};
    adm_model_spec plain = {g_unet_path, g_unet_cfg, NULL, NULL};
    if (!(g_guided = adm_model_load(&g_cl, &guided))) return -1;
    if (!(g_plain = adm_model_load(&g_cl, &plain))) return -1;
    return 0;
}

static void teardown(void) {
    adm_model_free(g_guided);
    adm_model_free(g_plain);
    if (g_unet) adm_unet_free(g_unet);
    if (g_clf) adm_classifier_free(g_clf);
    if (g_cl_ok) adm_cl_close(&g_cl);
    if (g_dir[0] && strchr(g_dir, 'X') == NULL) {
        unlink(g_clf_path);
        unlink(g_clf_cfg);
        rmdir(g_dir);
    }
}

/* ---- helpers ---- */

/* Standard normal numbers from a fixed 64-bit LCG + Box-Muller (the test's
 * own source, independent of philox.c). */
static void gauss_fill(uint64_t seed, float *out, size_t n) {
    uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (size_t i = 0; i < n; i += 2) {
        double u[2];
        for (int k = 0; k < 2; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u[k] = ((double)(s >> 11) + 0.5) / 9007199254740992.0;   /* (0, 1) */
        }
        double r = sqrt(-2.0 * log(u[0])), a = 2.0 * 3.14159265358979323846 * u[1];
        out[i] = (float)(r * cos(a));
        if (i + 1 < n) out[i + 1] = (float)(r * sin(a));
    }
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= e)) e = d;                 /* NaN counts as the worst */
    }
    return e;
}

static double max_abs_diff_d(const float *a, const double *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= e)) e = d;
    }
    return e;
}

typedef struct { int stop_after; } stopper;

static int stop_at(void *user, int step, int total, int done, int images_total) {
    const stopper *st = user;
    return st->stop_after > 0 && step >= st->stop_after;
}

/* x [B, C, H, W]: x_T on entry, x after `k` steps on return (k = 0: x_T
 * untouched; k = total: the finished sample). */
static int run_k_steps(adm_model *m, const adm_gen_request *req, const int64_t *y, int B, float *x,
                       const float *noise, int total, int k) {
    if (k == 0) return 0;
    stopper st = {k < total ? k : 0};
    int rc = adm_generate_batch(m, req, y, B, x, noise, total, stop_at, &st);
    if (rc < 0) return -1;
    if (rc != (k < total)) return adm_error("adm_generate_batch returned %d after %d of %d steps", rc, k, total);
    return 0;
}

/* ---- the host's reference evaluation of one step (float64) ---- */

enum { V_RIGHT, V_LOGVAR, V_SQRTVAR, V_NO_SQRT, V_COUNT };
static const char *VARIANT_NAMES[V_COUNT] = {"right", "var->log var", "var->sqrt var", "sqrt(1-abar)->1-abar"};

/* Tables derived here from betas + alphas_cumprod alone (not from the
 * schedule's derived tables the sampler reads). */
typedef struct { double abar, abar_prev, beta, var_large, coef1, coef2; } step_consts;

static step_consts consts_at(const adm_schedule *s, int i) {
    step_consts c;
    c.abar = s->alphas_cumprod[i];
    c.abar_prev = i > 0 ? s->alphas_cumprod[i - 1] : 1.0;
    c.beta = s->betas[i];
    /* posterior variance pv[j] = beta_j (1 - abar_{j-1}) / (1 - abar_j);
     * FIXED_LARGE = append(pv[1], betas[1:]) */
    double pv1 = s->betas[1] * (1.0 - s->alphas_cumprod[0]) / (1.0 - s->alphas_cumprod[1]);
    c.var_large = i == 0 ? pv1 : s->betas[i];
    c.coef1 = c.beta * sqrt(c.abar_prev) / (1.0 - c.abar);
    c.coef2 = (1.0 - c.abar_prev) * sqrt(1.0 - c.beta) / (1.0 - c.abar);
    return c;
}

static double clip1(double v) { return v < -1 ? -1 : v > 1 ? 1 : v; }

/* p_sample with condition_mean, FIXED_LARGE. */
static void host_ddpm(const adm_schedule *s, int i, int variant, double scale, const float *x, const float *eps,
                      const float *grad, const float *noise, size_t n, double *out) {
    step_consts c = consts_at(s, i);
    double var = c.var_large;
    double gvar = variant == V_LOGVAR ? log(var) : variant == V_SQRTVAR ? sqrt(var) : var;
    for (size_t k = 0; k < n; k++) {
        double x0 = clip1(sqrt(1.0 / c.abar) * x[k] - sqrt(1.0 / c.abar - 1.0) * eps[k]);
        double mean = c.coef1 * x0 + c.coef2 * x[k];
        mean += gvar * scale * grad[k];
        out[k] = mean + (i != 0 ? sqrt(var) * noise[k] : 0.0);
    }
}

/* ddim_sample with condition_score. */
static void host_ddim(const adm_schedule *s, int i, int variant, double scale, double eta, const float *x,
                      const float *eps, const float *grad, const float *noise, size_t n, double *out) {
    step_consts c = consts_at(s, i);
    double r = sqrt(1.0 / c.abar), rm1 = sqrt(1.0 / c.abar - 1.0);
    double gk = variant == V_NO_SQRT ? 1.0 - c.abar : sqrt(1.0 - c.abar);
    double sigma = eta * sqrt((1.0 - c.abar_prev) / (1.0 - c.abar)) * sqrt(1.0 - c.abar / c.abar_prev);
    for (size_t k = 0; k < n; k++) {
        double x0 = clip1(r * x[k] - rm1 * eps[k]);
        double e = (r * x[k] - x0) / rm1;             /* eps of the clipped x0 */
        e = e - gk * scale * grad[k];                 /* condition_score */
        double x0g = r * x[k] - rm1 * e;              /* not clipped again */
        out[k] = x0g * sqrt(c.abar_prev) + sqrt(1.0 - c.abar_prev - sigma * sigma) * e
               + (i != 0 ? sigma * noise[k] : 0.0);
    }
}

/* ---- step-by-step comparison ---- */

typedef struct {
    const char *sampler, *respacing;
    double eta;
    int wrong_variant;              /* the formula slip this sampler is checked against */
} step_case;

/* For every respaced step k (highest t first): x_k from the sampler stopped
 * after k steps, x_{k+1} likewise; the host recomputes step k from x_k with
 * its own network evaluations at t = timestep_map[i].  Also the guided
 * result must differ from the unguided one, and evaluating the networks at
 * the respaced index i instead of t must miss. */
static void check_steps(const step_case *sc) {
    REQUIRE(setup() == 0, "%s", adm_last_error());
    const int B = 2;
    const size_t n = B * N_IMG;
    const int64_t y[2] = {3, 8};
    adm_schedule s;
    REQUIRE(adm_schedule_build(&s, "linear", 1000, sc->respacing) == 0, "%s", adm_last_error());
    int total = s.num_steps;
    float *x_T = malloc(n * sizeof(float)), *noise = malloc((size_t)total * n * sizeof(float));
    float *xk = malloc(n * sizeof(float)), *xk1 = malloc(n * sizeof(float)), *eps = malloc(n * sizeof(float));
    float *grad = malloc(n * sizeof(float)), *zero = calloc(n, sizeof(float));
    double *host = malloc(n * sizeof(double));
    adm_gen_request req = {.sampler = sc->sampler, .respacing = sc->respacing, .eta = sc->eta, .scale = SCALE,
                           .seed = 1, .first_index = 0, .count = B};
    if (!x_T || !noise || !xk || !xk1 || !eps || !grad || !zero || !host) { CHECK(0, "oom"); goto out; }
    gauss_fill(11, x_T, n);
    gauss_fill(12, noise, (size_t)total * n);

    /* The FIXED_LARGE variance the sampler reads (as a log) is the host's
     * append(pv[1], betas[1:]).  Checked on the table: at i = 0 its only
     * use is var * s * grad, about 1e-5 here, below what a step can show. */
    for (int i = 0; i < total; i++) {
        double want = consts_at(&s, i).var_large;
        double got = exp(s.fixed_large_log_variance[i]), rel = fabs(got - want) / want;
        CHECK(rel <= 1e-12, "FIXED_LARGE variance[%d] = %.17g, want %.17g", i, got, want);
        CHECK(fabs(s.fixed_large_variance[i] - want) <= 1e-15 * want, "fixed_large_variance[%d]", i);
    }
    double worst = 0, wrong_miss = 0, unguided_miss = 0, tmap_miss = 0;
    for (int k = 0; k < total; k++) {
        int i = total - 1 - k;
        float t[2] = {(float)s.timestep_map[i], (float)s.timestep_map[i]};
        memcpy(xk, x_T, n * sizeof(float));
        memcpy(xk1, x_T, n * sizeof(float));
        if (run_k_steps(g_guided, &req, y, B, xk, noise, total, k) ||
            run_k_steps(g_guided, &req, y, B, xk1, noise, total, k + 1)) {
            CHECK(0, "step %d: %s", k, adm_last_error());
            goto out;
        }
        if (adm_unet_forward(g_unet, xk, t, NULL, NULL, B, eps) ||
            adm_classifier_grad(g_clf, xk, t, y, B, NULL, grad)) {
            CHECK(0, "step %d: %s", k, adm_last_error());
            goto out;
        }
        const float *step_noise = noise + (size_t)k * n;
        int ddim = !strcmp(sc->sampler, "ddim");
#define HOST(var, sc_, g_) (ddim ? host_ddim(&s, i, var, sc_, sc->eta, xk, eps, g_, step_noise, n, host) \
                                 : host_ddpm(&s, i, var, sc_, xk, eps, g_, step_noise, n, host))
        HOST(V_RIGHT, SCALE, grad);
        double e = max_abs_diff_d(xk1, host, n);
        if (!(e <= worst)) worst = e;
        HOST(sc->wrong_variant, SCALE, grad);
        double ew = max_abs_diff_d(xk1, host, n);
        HOST(V_RIGHT, 0.0, zero);
        double eu = max_abs_diff_d(xk1, host, n);
        printf("  %s %s step %d (i=%d, t=%lld): max |err| %.3g; %s %.3g; unguided %.3g\n", sc->sampler,
               sc->respacing, k, i, (long long)t[0], e, VARIANT_NAMES[sc->wrong_variant], ew, eu);
        CHECK(e <= STEP_TOL, "%s step %d: sampler vs host %g > %g", sc->sampler, k, e, STEP_TOL);
        /* a slip is caught when it misses the sampler at any step (every
         * step must pass); keep the largest miss of each */
        if (ew > wrong_miss) wrong_miss = ew;
        if (eu > unguided_miss) unguided_miss = eu;

        /* wrong timestep mapping: the networks at the respaced index i */
        if (k == total / 2 && s.timestep_map[i] != i) {
            float ti[2] = {(float)i, (float)i};
            float *eps_i = malloc(n * sizeof(float)), *grad_i = malloc(n * sizeof(float));
            int bad = !eps_i || !grad_i || adm_unet_forward(g_unet, xk, ti, NULL, NULL, B, eps_i) ||
                      adm_classifier_grad(g_clf, xk, ti, y, B, NULL, grad_i);
            if (!bad) {
                if (ddim) host_ddim(&s, i, V_RIGHT, SCALE, sc->eta, xk, eps_i, grad_i, step_noise, n, host);
                else host_ddpm(&s, i, V_RIGHT, SCALE, xk, eps_i, grad_i, step_noise, n, host);
                tmap_miss = max_abs_diff_d(xk1, host, n);
                printf("  %s step %d: networks at t=%d instead of %lld miss by %.3g\n", sc->sampler, k, i,
                       (long long)t[0], tmap_miss);
            }
            free(eps_i); free(grad_i);
            CHECK(!bad, "%s", adm_last_error());
        }
#undef HOST
    }
    printf("  %s %s eta %g scale %g: worst step error %.3g (tol %.1g); largest miss of '%s' %.3g, "
           "of the unguided step %.3g; t-map miss %.3g\n", sc->sampler, sc->respacing, sc->eta, SCALE, worst,
           STEP_TOL, VARIANT_NAMES[sc->wrong_variant], wrong_miss, unguided_miss, tmap_miss);
    CHECK(unguided_miss >= WRONG_FACTOR * STEP_TOL, "guidance moves a step by only %g", unguided_miss);
    CHECK(tmap_miss >= WRONG_FACTOR * STEP_TOL, "wrong timestep mapping misses by only %g", tmap_miss);
    CHECK(wrong_miss >= WRONG_FACTOR * STEP_TOL, "'%s' misses by only %g: the tolerance cannot see it",
          VARIANT_NAMES[sc->wrong_variant], wrong_miss);
out:
    free(x_T); free(noise); free(xk); free(xk1); free(eps); free(grad); free(zero); free(host);
    adm_schedule_free(&s);
}

static void test_ddpm_step_matches_host(void) {
    step_case a = {"ddpm", "4", 0.0, V_LOGVAR};
    check_steps(&a);
}

static void test_ddpm_step_sqrt_variance_slip(void) {
    step_case a = {"ddpm", "4", 0.0, V_SQRTVAR};
    check_steps(&a);
}

static void test_ddim_step_matches_host(void) {
    step_case a = {"ddim", "ddim4", 0.5, V_NO_SQRT};
    check_steps(&a);
}

/* ---- end to end through adm_generate ---- */

typedef struct {
    int n, index[8], klass[8], bad_shape;
    uint8_t px[8][N_IMG];
} image_sink;

static int on_image(void *user, int index, int klass, const uint8_t *pixels, int h, int w, int c) {
    image_sink *s = user;
    if (h != H_ || w != H_ || c != C_) { s->bad_shape = 1; return 0; }
    if (s->n >= 8) return adm_error("too many images");
    s->index[s->n] = index;
    s->klass[s->n] = klass;
    memcpy(s->px[s->n], pixels, N_IMG);
    s->n++;
    return 0;
}

static int generate(adm_model *m, const char *sampler, const char *respacing, double scale, int first, int count,
                    const int *classes, int batch, image_sink *out) {
    memset(out, 0, sizeof *out);
    adm_gen_request req = {.sampler = sampler, .respacing = respacing, .eta = 0.0, .scale = scale, .seed = 77,
                           .first_index = first, .count = count, .classes = classes, .batch = batch};
    return adm_generate(m, &req, NULL, on_image, out);
}

static int distinct_values(const uint8_t *p, size_t n) {
    int seen[256] = {0}, d = 0;
    for (size_t i = 0; i < n; i++) d += !seen[p[i]]++;
    return d;
}

static void test_generate_end_to_end(void) {
    REQUIRE(setup() == 0, "%s", adm_last_error());
    adm_model_info info;
    adm_model_get_info(g_guided, &info);
    CHECK(info.num_classes == NUM_CLASSES && info.has_classifier && info.channels == C_ && info.image_size == H_,
          "info: %d classes, classifier %d, %d channels, %d px", info.num_classes, info.has_classifier,
          info.channels, info.image_size);
    static image_sink all, one, unguided;
    const int classes[3] = {0, 4, 9};
    double t0 = adm_now();
    int rc = generate(g_guided, "ddpm", "10", SCALE, 0, 3, classes, 2, &all);   /* passes of 2 + 1 */
    printf("  3 images, DDPM 10 steps, scale %g: %.1f s\n", SCALE, adm_now() - t0);
    REQUIRE(rc == 0, "%s", adm_last_error());
    REQUIRE(all.n == 3 && !all.bad_shape, "%d images, bad shape %d", all.n, all.bad_shape);
    for (int k = 0; k < 3; k++) {
        CHECK(all.index[k] == k && all.klass[k] == classes[k], "image %d: index %d class %d", k, all.index[k],
              all.klass[k]);
        CHECK(distinct_values(all.px[k], N_IMG) > 16, "image %d is nearly flat (%d values)", k,
              distinct_values(all.px[k], N_IMG));
    }
    /* image 2 alone (its own pass, batch 1) has the same bytes */
    REQUIRE(generate(g_guided, "ddpm", "10", SCALE, 2, 1, classes + 2, 1, &one) == 0, "%s", adm_last_error());
    CHECK(one.n == 1 && one.index[0] == 2 && !memcmp(one.px[0], all.px[2], N_IMG), "image 2 alone differs");
    /* guidance changed the images */
    REQUIRE(generate(g_guided, "ddpm", "10", 0.0, 0, 3, classes, 2, &unguided) == 0, "%s", adm_last_error());
    int changed = 0;
    for (int k = 0; k < 3; k++) changed += memcmp(unguided.px[k], all.px[k], N_IMG) != 0;
    CHECK(changed == 3, "scale %g changed %d of 3 images", SCALE, changed);
    /* DDIM runs too */
    static image_sink ddim;
    REQUIRE(generate(g_guided, "ddim", "ddim10", SCALE, 0, 2, classes, 0, &ddim) == 0, "%s", adm_last_error());
    CHECK(ddim.n == 2 && distinct_values(ddim.px[0], N_IMG) > 16, "ddim: %d images", ddim.n);

    /* errors: guidance without a classifier, a class outside the classifier's */
    CHECK(generate(g_plain, "ddpm", "10", SCALE, 0, 1, classes, 1, &one) == -1, "scale without a classifier ran");
    printf("  expected error: %s\n", adm_last_error());
    const int bad_class[1] = {NUM_CLASSES};
    CHECK(generate(g_guided, "ddpm", "10", SCALE, 0, 1, bad_class, 1, &one) == -1, "class %d ran", NUM_CLASSES);
    printf("  expected error: %s\n", adm_last_error());
}

/* Scale 0 with a classifier loaded = the model without one: same floats,
 * same bytes; y is then irrelevant. */
static void test_scale0_is_unguided(void) {
    REQUIRE(setup() == 0, "%s", adm_last_error());
    const int B = 2;
    const size_t n = B * N_IMG;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
    if (!a || !b || !c) { free(a); free(b); free(c); REQUIRE(0, "oom"); }
    const int64_t y1[2] = {1, 2}, y2[2] = {6, 0};
    adm_gen_request req = {.sampler = "ddpm", .respacing = "10", .scale = 0.0, .seed = 5, .first_index = 0, .count = B};
    gauss_fill(21, a, n);
    memcpy(b, a, n * sizeof(float));
    memcpy(c, a, n * sizeof(float));
    int ra = adm_generate_batch(g_guided, &req, y1, B, a, NULL, 0, NULL, NULL);
    int rb = adm_generate_batch(g_plain, &req, NULL, B, b, NULL, 0, NULL, NULL);
    int rc = adm_generate_batch(g_guided, &req, y2, B, c, NULL, 0, NULL, NULL);
    CHECK(ra == 0 && rb == 0 && rc == 0, "%s", adm_last_error());
    double e_plain = max_abs_diff(a, b, n), e_y = max_abs_diff(a, c, n);
    printf("  scale 0: with classifier vs without max |diff| %.3g; y changed: %.3g\n", e_plain, e_y);
    CHECK(e_plain == 0, "scale 0 with a classifier differs from the plain UNet by %g", e_plain);
    CHECK(e_y == 0, "scale 0 depends on y (%g)", e_y);

    static image_sink g0, p0;
    const int classes[2] = {3, 5};
    CHECK(generate(g_guided, "ddim", "ddim10", 0.0, 0, 2, classes, 2, &g0) == 0, "%s", adm_last_error());
    CHECK(generate(g_plain, "ddim", "ddim10", 0.0, 0, 2, NULL, 2, &p0) == 0, "%s", adm_last_error());
    CHECK(g0.n == 2 && p0.n == 2 && !memcmp(g0.px, p0.px, 2 * N_IMG), "scale 0 images differ from the plain UNet's");
    CHECK(p0.klass[0] == -1 && g0.klass[0] == 3, "classes reported %d (plain) %d (guided)", p0.klass[0], g0.klass[0]);
    free(a); free(b); free(c);
}

/* y changes the guided sample of its image (only), never the unguided one. */
static void test_classes_steer_only_guidance(void) {
    REQUIRE(setup() == 0, "%s", adm_last_error());
    const int B = 2;
    const size_t n = B * N_IMG;
    float *x_T = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    if (!x_T || !a || !b) { free(x_T); free(a); free(b); REQUIRE(0, "oom"); }
    gauss_fill(31, x_T, n);
    const int64_t y1[2] = {2, 7}, y2[2] = {5, 7};       /* image 0's class changes */
    const char *samplers[2] = {"ddpm", "ddim"}, *resp[2] = {"8", "ddim8"};
    for (int si = 0; si < 2; si++) {
        for (int guided = 0; guided < 2; guided++) {
            adm_gen_request req = {.sampler = samplers[si], .respacing = resp[si], .scale = guided ? SCALE : 0.0,
                                   .seed = 9, .first_index = 0, .count = B};
            memcpy(a, x_T, n * sizeof(float));
            memcpy(b, x_T, n * sizeof(float));
            int ra = adm_generate_batch(g_guided, &req, y1, B, a, NULL, 0, NULL, NULL);
            int rb = adm_generate_batch(g_guided, &req, y2, B, b, NULL, 0, NULL, NULL);
            CHECK(ra == 0 && rb == 0, "%s", adm_last_error());
            double d0 = max_abs_diff(a, b, N_IMG), d1 = max_abs_diff(a + N_IMG, b + N_IMG, N_IMG);
            printf("  %s scale %g: y[0] 2->5 moves image 0 by %.3g, image 1 (same y) by %.3g\n", samplers[si],
                   req.scale, d0, d1);
            if (guided) CHECK(d0 > 1e-2, "%s: guided image 0 moved only %g with its class", samplers[si], d0);
            else CHECK(d0 == 0, "%s: unguided image 0 moved %g with y", samplers[si], d0);
            CHECK(d1 <= 1e-6, "%s scale %g: image 1 moved %g though its class did not change", samplers[si],
                  req.scale, d1);
        }
    }
    free(x_T); free(a); free(b);
}

int main(void) {
    RUN(test_generate_end_to_end);
    RUN(test_scale0_is_unguided);
    RUN(test_classes_steer_only_guidance);
    RUN(test_ddpm_step_matches_host);
    RUN(test_ddpm_step_sqrt_variance_slip);
    RUN(test_ddim_step_matches_host);
    teardown();
    CHECK_EXIT();
}
