/* tiny_nets.c — every kernel path of the networks on tiny configs, on the
 * device under test (ADMD_TEST_DEVICE: Oclgrind in make check-oclgrind)
 * against the reference device (ADMD_REF_DEVICE: PoCL, whose outputs the
 * parity tests check against the original PyTorch code), on the same
 * random weights and inputs:
 *   unet_a-like   class-conditional, learned sigma, scale-shift norm,
 *                 ResBlock up/down, new attention order (QKVAttention)
 *   unet_c-like   unconditional, emb added, conv Downsample/Upsample,
 *                 legacy attention order (QKVAttentionLegacy)
 *   superres      SuperResModel (bilinear upsample + concat)
 *   classifier    attention-pool head: logits and the input gradient
 *   noise         Philox noise (same bits required)
 *   step          DDPM (learned and fixed variance, guided) and DDIM steps
 * The configs are the reference cases' (tests/data/reference) shrunk to
 * 4x4 images (B = 1 for the UNets, 2 elsewhere) so that the whole run fits Oclgrind's speed.  Prints
 * PASS/FAIL lines; Oclgrind's own reports are scanned by the caller
 * (tests/oclgrind/run.sh).  Not part of make check (it needs two devices).
 */
#include "check.h"
#include "classifier.h"
#include "cl_runtime.h"
#include "config.h"
#include "ops_noise.h"
#include "ops_step.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the coefficient indices (ADM_ST_*) of kernels/step.cl, as kernels/ops_step.c reads them */
#define ADM_ST_FN static inline
static inline float adm_st_as_float(unsigned u) { float f; memcpy(&f, &u, sizeof f); return f; }
#include "step.cl"

static adm_cl dut, ref;   /* device under test, reference device */

static uint64_t rng = 0x243f6a8885a308d3ull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 23) - 1.0);
}
static float *rand_vec(size_t n) {
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = frand();
    return v;
}

/* max |a - b| / (1 + max |b|) <= tol */
static int close_to(const char *what, const float *a, const float *b, size_t n, double tol) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) if (fabs(b[i]) > scale) scale = fabs(b[i]);
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1.0 + scale);
        if (!(e <= worst)) worst = e;      /* NaN counts as worst */
    }
    printf("  %-28s max error %.2e of 1 + the largest value (n=%zu)\n", what, worst, n);
    return worst <= tol;
}

#define TOL 1e-5

static int unet_case(const char *name, const char *config, int superres) {
    adm_config cfg;
    adm_tensor_set w;
    if (adm_config_parse_text(config, strlen(config), ADM_KIND_UNET, &cfg) || adm_classifier_random_weights(&cfg, 7, &w)) {
        printf("  %s: %s\n", name, adm_last_error());
        return 0;
    }
    adm_unet *ud = adm_unet_load(&dut, &cfg, &w), *ur = ud ? adm_unet_load(&ref, &cfg, &w) : NULL;
    adm_tensors_free(&w);
    if (!ud || !ur) {
        printf("  %s: %s\n", name, adm_last_error());
        adm_unet_free(ud);
        return 0;
    }
    const int B = 1, S = cfg.image_size, L = S / 2;
    float *x = rand_vec((size_t)B * cfg.in_channels * S * S), *lr = rand_vec((size_t)B * cfg.in_channels * L * L);
    size_t no = (size_t)B * cfg.out_channels * S * S;
    float *od = malloc(no * sizeof(float)), *orf = malloc(no * sizeof(float));
    float t[1] = {999.0f}; int64_t y[1] = {2};
    const int64_t *yp = cfg.num_classes > 0 ? y : NULL;
    int ok = adm_unet_forward_sized(ud, B, S, S, x, t, yp, superres ? lr : NULL, L, L, od) == 0 &&
             adm_unet_forward_sized(ur, B, S, S, x, t, yp, superres ? lr : NULL, L, L, orf) == 0;
    if (!ok) printf("  %s: %s\n", name, adm_last_error());
    ok = ok && close_to(name, od, orf, no, TOL);
    free(x); free(lr); free(od); free(orf);
    adm_unet_free(ud); adm_unet_free(ur);
    return ok;
}

static void unet_a_like(void) {
    CHECK(unet_case("unet_a-like", "kind=unet\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=6\n"
                    "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_classes=3\nnum_heads=1\n"
                    "num_head_channels=16\nuse_scale_shift_norm=1\nresblock_updown=1\nuse_new_attention_order=1\n", 0),
          "unet_a-like differs");
}

static void unet_c_like(void) {
    CHECK(unet_case("unet_c-like", "kind=unet\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=3\n"
                    "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_classes=none\nnum_heads=2\n"
                    "num_head_channels=-1\nuse_scale_shift_norm=0\nresblock_updown=0\nuse_new_attention_order=0\n", 0),
          "unet_c-like differs");
}

static void superres(void) {
    CHECK(unet_case("superres", "kind=superres\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=6\n"
                    "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_classes=3\nnum_heads=2\n"
                    "num_head_channels=-1\nuse_scale_shift_norm=1\nresblock_updown=1\nuse_new_attention_order=0\n", 1),
          "superres differs");
}

static void classifier(void) {
    adm_config cfg;
    adm_tensor_set w;
    const char *cc = "kind=classifier\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=3\n"
                             "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_heads=1\n"
                             "num_head_channels=16\nuse_scale_shift_norm=1\nresblock_updown=1\n"
                             "use_new_attention_order=0\npool=attention\n";
    REQUIRE(adm_config_parse_text(cc, strlen(cc), ADM_KIND_CLASSIFIER, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(adm_classifier_random_weights(&cfg, 11, &w) == 0, "%s", adm_last_error());
    adm_classifier *cd = adm_classifier_load(&dut, &cfg, &w), *cr = adm_classifier_load(&ref, &cfg, &w);
    adm_tensors_free(&w);
    REQUIRE(cd && cr, "%s", adm_last_error());
    const int B = 2, S = cfg.image_size, K = cfg.out_channels;
    size_t nx = (size_t)B * cfg.in_channels * S * S;
    float *x = rand_vec(nx), *gd = malloc(nx * sizeof(float)), *gr = malloc(nx * sizeof(float));
    float ld[16], lr[16];
    float t[2] = {500.0f, 3.0f}; int64_t y[2] = {0, 2};
    int ok = adm_classifier_grad(cd, x, t, y, B, ld, gd) == 0 && adm_classifier_grad(cr, x, t, y, B, lr, gr) == 0;
    if (!ok) printf("  classifier: %s\n", adm_last_error());
    CHECK(ok && close_to("classifier logits", ld, lr, (size_t)B * K, TOL), "logits differ");
    CHECK(ok && close_to("classifier input gradient", gd, gr, nx, TOL), "gradient differs");
    free(x); free(gd); free(gr);
    adm_classifier_free(cd); adm_classifier_free(cr);
}

static float *run_noise(adm_cl *cl, size_t n, int B) {
    cl_mem m = adm_cl_alloc(cl, ((size_t)B * n + 3) * sizeof(float));
    float *h = calloc((size_t)B * n, sizeof(float));
    adm_dt y = adm_dt_make(m, 3, B, (int)n, 1, 1);
    if (!m || adm_op_noise(cl, 42, 5, B, 1, n, &y) || adm_cl_read(cl, m, 3 * sizeof(float), (size_t)B * n * sizeof(float), h)) {
        printf("  noise: %s\n", adm_last_error());
        memset(h, 0xff, (size_t)B * n * sizeof(float));
    }
    adm_cl_release(cl, m);
    return h;
}

static void noise(void) {
    const size_t n = 3 * 7 * 5;   /* not a multiple of 4: the tail block */
    float *a = run_noise(&dut, n, 2), *b = run_noise(&ref, n, 2);
    CHECK(memcmp(a, b, 2 * n * sizeof(float)) == 0, "noise differs from the reference device's bits");
    free(a); free(b);
}

/* one step on cl: x [B,C,H,W] from out [B,oc,...], grad, noise; returns the new x */
static float *run_step(adm_cl *cl, int ddim, const float *cf, const float *x, const float *out, int oc,
                       const float *grad, const float *noise, int B, int C, int HW) {
    size_t n = (size_t)B * C * HW, no = (size_t)B * oc * HW;
    cl_mem m = adm_cl_alloc(cl, (3 * n + no) * sizeof(float));
    float *h = malloc(n * sizeof(float));
    adm_dt tx = adm_dt_make(m, 0, B, C, HW, 1), tout = adm_dt_make(m, n, B, oc, HW, 1);
    adm_dt tg = adm_dt_make(m, n + no, B, C, HW, 1), tn = adm_dt_make(m, 2 * n + no, B, C, HW, 1);
    if (!m || adm_cl_write(cl, m, 0, n * sizeof(float), x) ||
        adm_cl_write(cl, m, n * sizeof(float), no * sizeof(float), out) ||
        adm_cl_write(cl, m, (n + no) * sizeof(float), n * sizeof(float), grad ? grad : x) ||
        adm_cl_write(cl, m, (2 * n + no) * sizeof(float), n * sizeof(float), noise) ||
        adm_op_step(cl, ddim, cf, &tx, &tout, grad ? &tg : NULL, &tn) ||
        adm_cl_read(cl, m, 0, n * sizeof(float), h)) {
        printf("  step: %s\n", adm_last_error());
        for (size_t i = 0; i < n; i++) h[i] = NAN;
    }
    adm_cl_release(cl, m);
    return h;
}

static void step(void) {
    const int B = 2, C = 3, HW = 5 * 7;
    size_t n = (size_t)B * C * HW;
    float *x = rand_vec(n), *out = rand_vec(2 * n), *grad = rand_vec(n), *noise = rand_vec(n);
    float cf[16] = {0};
    cf[ADM_ST_MIN_LOG] = -6.0f; cf[ADM_ST_MAX_LOG] = -3.5f; cf[ADM_ST_FIXED_LOG] = -4.0f;
    cf[ADM_ST_RECIP] = 1.3f; cf[ADM_ST_RECIPM1] = 0.8f; cf[ADM_ST_COEF1] = 0.4f; cf[ADM_ST_COEF2] = 0.55f;
    cf[ADM_ST_SCALE] = 2.0f; cf[ADM_ST_MASK] = 1.0f; cf[ADM_ST_SQRT1MA] = 0.6f; cf[ADM_ST_C_X0] = 0.9f;
    cf[ADM_ST_C_EPS] = 0.3f; cf[ADM_ST_SIGMA] = 0.2f;
    struct { const char *what; int ddim, learned, guided; } v[] = {
        {"step ddpm learned guided", 0, 1, 1}, {"step ddpm fixed unguided", 0, 0, 0}, {"step ddim guided", 1, 0, 1}};
    for (int i = 0; i < 3; i++) {
        cf[ADM_ST_LEARNED] = (float)v[i].learned;
        int oc = v[i].learned ? 2 * C : C;
        float *a = run_step(&dut, v[i].ddim, cf, x, out, oc, v[i].guided ? grad : NULL, noise, B, C, HW);
        float *b = run_step(&ref, v[i].ddim, cf, x, out, oc, v[i].guided ? grad : NULL, noise, B, C, HW);
        CHECK(close_to(v[i].what, a, b, n, 1e-6), "%s differs", v[i].what);
        free(a); free(b);
    }
    free(x); free(out); free(grad); free(noise);
}

/* argv: the cases to run (all when none), so that each can run in its own
 * Oclgrind process with its own log (Oclgrind stops logging after 1000
 * reports, which could hide a later case's). */
static int wanted(int argc, char **argv, const char *name) {
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++) if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}
#define RUN_IF(fn) do { if (wanted(argc, argv, #fn)) RUN(fn); } while (0)

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines as they come (the run is slow) */
    const char *d = getenv("ADMD_TEST_DEVICE"), *r = getenv("ADMD_REF_DEVICE");
    if (adm_cl_open(&dut, d, 0)) { printf("FAIL open device under test '%s': %s\n", d ? d : "", adm_last_error()); return 1; }
    if (adm_cl_open(&ref, r, 0)) { printf("FAIL open reference device '%s': %s\n", r ? r : "", adm_last_error()); return 1; }
    printf("device under test: %s (%s); reference: %s\n", dut.device_name, adm_ops_backend(&dut), ref.device_name);
    RUN_IF(unet_a_like);
    RUN_IF(unet_c_like);
    RUN_IF(superres);
    RUN_IF(classifier);
    RUN_IF(noise);
    RUN_IF(step);
    adm_cl_close(&dut);
    adm_cl_close(&ref);
    CHECK_EXIT();
}
