/* test_classifier.c — the noisy classifier and its input gradient on the
 * device (ADMD_TEST_DEVICE, else the default device):
 *   - parity with the reference's classifier_a (logits within 1e-4, grad
 *     within 1e-3 x max|grad_ref|), and the same bits on a second run;
 *   - finite differences: small random classifiers covering every head,
 *     both attention orders, ResBlock/conv/avg-pool downsampling and both
 *     norm styles, checked against tests/ref_classifier.h (double
 *     precision, written from the reference) by central differences;
 *   - the embedded MNIST classifier reads the reference sample sheet;
 *   - the SiLU / ReLU backward ops against their formulas;
 *   - bad input (labels, mismatched config) gives clear errors.
 */
#include "check.h"
#include "classifier.h"
#include "png_file.h"
#include "npy.h"
#include "ops.h"
#include "ops_backward.h"
#include "ref_classifier.h"
#include "util.h"
#include <stdint.h>

static adm_cl cl;
static int cl_ok;

static int quick(void) { const char *q = getenv("ADMD_QUICK"); return q && *q && strcmp(q, "0"); }

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* ---- reference parity ---- */

static void reference_case(void) {
    char p[512];
    adm_config cfg;
    adm_tensor_set w;
    adm_tensor x, t, y, lref, gref;
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/classifier_a/config.txt"), ADM_KIND_CLASSIFIER, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(adm_tensors_load(test_path(p, sizeof p, "reference/classifier_a/model.pt"), &w) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/classifier_a/x.npy"), &x) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/classifier_a/t.npy"), &t) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/classifier_a/y.npy"), &y) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/classifier_a/logits.npy"), &lref) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/classifier_a/grad.npy"), &gref) == 0, "%s", adm_last_error());
    REQUIRE(x.dtype == ADM_F32 && t.dtype == ADM_I64 && y.dtype == ADM_I64 && lref.dtype == ADM_F32 && gref.dtype == ADM_F32, "dtypes");
    const int B = (int)x.shape[0], K = cfg.out_channels;
    float *tf = adm_tensor_f32_copy(&t);       /* the networks take float32 model times */
    REQUIRE(tf, "%s", adm_last_error());
    const size_t nx = (size_t)adm_tensor_numel(&x);
    REQUIRE(adm_tensor_numel(&lref) == (int64_t)B * K && adm_tensor_numel(&gref) == (int64_t)nx, "reference shapes");

    adm_classifier *c = adm_classifier_load(&cl, &cfg, &w);
    REQUIRE(c, "load: %s", adm_last_error());
    float *logits = malloc((size_t)B * K * 4), *logits2 = malloc((size_t)B * K * 4);
    float *grad = malloc(nx * 4), *grad2 = malloc(nx * 4);
    CHECK(adm_classifier_grad(c, x.data, tf, y.data, B, logits, grad) == 0, "grad: %s", adm_last_error());
    double el = 0, eg = 0, gm = max_abs(gref.data, nx);
    for (int i = 0; i < B * K; i++) el = fmax(el, fabs(logits[i] - ((float *)lref.data)[i]));
    for (size_t i = 0; i < nx; i++) eg = fmax(eg, fabs(grad[i] - ((float *)gref.data)[i]));
    printf("  classifier_a on %s (%s matrix backend): max|logits - ref| = %.3g, max|grad - ref| = %.3g (%.3g x max|grad_ref| = %.3g)\n",
           cl.device_name, adm_ops_backend(&cl), el, eg, eg / gm, gm);
    CHECK(el <= 1e-4, "logits error %.3g", el);
    CHECK(eg <= 1e-3 * gm, "grad error %.3g > 1e-3 x %.3g", eg, gm);

    /* forward-only logits agree, and a second run gives the same bits */
    CHECK(adm_classifier_forward(c, x.data, tf, B, logits2) == 0, "forward: %s", adm_last_error());
    CHECK(memcmp(logits, logits2, (size_t)B * K * 4) == 0, "forward logits differ from grad's logits");
    CHECK(adm_classifier_grad(c, x.data, tf, y.data, B, logits2, grad2) == 0, "grad: %s", adm_last_error());
    CHECK(memcmp(grad, grad2, nx * 4) == 0, "second run differs");

    /* batch 1 gives the first sample's results (the plan changes size) */
    CHECK(adm_classifier_grad(c, x.data, tf, y.data, 1, logits2, grad2) == 0, "grad B=1: %s", adm_last_error());
    double e1 = 0;
    for (size_t i = 0; i < nx / B; i++) e1 = fmax(e1, fabs(grad2[i] - grad[i]));
    CHECK(e1 <= 1e-6 * gm, "batch 1 grad differs by %.3g", e1);
    printf("  device memory %.1f MiB\n", adm_classifier_device_bytes(c) / 1048576.0);

    adm_classifier_free(c);
    free(logits); free(logits2); free(grad); free(grad2);
    adm_tensor_free(&x); adm_tensor_free(&t); free(tf); adm_tensor_free(&y); adm_tensor_free(&lref); adm_tensor_free(&gref);
    adm_tensors_free(&w);
}

static void test_reference_classifier_a(void) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    reference_case();
}

/* The same with the other matrix backend (own kernels <-> CLBlast), so both
 * attention-backward paths are checked on whatever device runs the tests. */
static void test_reference_classifier_a_other_backend(void) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    if (quick()) SKIP("ADMD_QUICK: CLBlast's first compile is slow");
    const char *def = adm_ops_backend(&cl);
    REQUIRE(adm_ops_set_backend(&cl, strcmp(def, "own") ? "own" : "clblast") == 0, "%s", adm_last_error());
    reference_case();
    adm_ops_set_backend(&cl, def);
}

/* ---- finite differences on small random classifiers ---- */

static void small_config(adm_config *cfg, const char *pool, int updown, int conv_resample, int ss, int new_order) {
    adm_config_defaults(cfg, ADM_KIND_CLASSIFIER);
    cfg->image_size = 8; cfg->in_channels = 2; cfg->model_channels = 32; cfg->out_channels = 5;
    cfg->num_res_blocks = 1;
    cfg->n_levels = 2; cfg->channel_mult[0] = 1; cfg->channel_mult[1] = 2;
    cfg->channel_mult_half[0] = cfg->channel_mult_half[1] = 0;
    cfg->n_attention_ds = 1; cfg->attention_ds[0] = 2;
    cfg->num_heads = 1; cfg->num_head_channels = 16; cfg->num_heads_upsample = -1;
    cfg->use_scale_shift_norm = ss; cfg->resblock_updown = updown; cfg->conv_resample = conv_resample;
    cfg->use_new_attention_order = new_order;
    snprintf(cfg->pool, sizeof cfg->pool, "%s", pool);
}

/* Device gradient vs central differences of the float64 host reference. */
static void fd_case(const adm_config *cfg, uint64_t seed) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    adm_tensor_set w;
    REQUIRE(adm_classifier_random_weights(cfg, seed, &w) == 0, "%s", adm_last_error());
    adm_classifier *c = adm_classifier_load(&cl, cfg, &w);
    if (!c) { adm_tensors_free(&w); REQUIRE(0, "load: %s", adm_last_error()); }
    const int B = 2, K = cfg->out_channels, S = cfg->image_size;
    const size_t nx = (size_t)B * cfg->in_channels * S * S;
    const float t[2] = {37, 811};
    const int64_t y[2] = {1, K - 1};
    float *x = malloc(nx * 4), *grad = malloc(nx * 4), logits[2 * 16];
    double *xd = malloc(nx * 8), lref[2 * 16];
    uint64_t s = seed * 7 + 1;
    for (size_t i = 0; i < nx; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)(((double)(s >> 11) / 9007199254740992.0 - 0.5) * 3.4);
        xd[i] = x[i];
    }
    CHECK(adm_classifier_grad(c, x, t, y, B, logits, grad) == 0, "grad: %s", adm_last_error());
    ref_classifier_logits(cfg, &w, xd, t, B, lref);
    double el = 0, lm = 0;
    for (int i = 0; i < B * K; i++) { el = fmax(el, fabs(logits[i] - lref[i])); lm = fmax(lm, fabs(lref[i])); }

    /* central differences on a spread of coordinates (both samples, all channels) */
    const int ncoord = quick() ? 12 : 40;
    const double h = 1e-5, gm = max_abs(grad, nx);
    double eg = 0, fdm = 0;
    for (int k = 0; k < ncoord; k++) {
        size_t i = ((size_t)k * 7919 + 13) % nx;
        double keep = xd[i];
        xd[i] = keep + h; double fp = ref_classifier_objective(cfg, &w, xd, t, y, B);
        xd[i] = keep - h; double fm = ref_classifier_objective(cfg, &w, xd, t, y, B);
        xd[i] = keep;
        double fd = (fp - fm) / (2 * h);
        eg = fmax(eg, fabs(fd - grad[i]));
        fdm = fmax(fdm, fabs(fd));
    }
    printf("  pool=%s updown=%d conv_resample=%d scale_shift=%d new_order=%d: max|logits - ref64| = %.3g (max|logit| %.3g), "
           "%d coords: max|grad - fd| = %.3g = %.3g x max|grad| (max|grad| %.3g, max|fd| %.3g)\n",
           cfg->pool, cfg->resblock_updown, cfg->conv_resample, cfg->use_scale_shift_norm, cfg->use_new_attention_order,
           el, lm, ncoord, eg, eg / gm, gm, fdm);
    CHECK(el <= 1e-4 * fmax(1.0, lm), "logits error %.3g", el);
    CHECK(gm > 1e-6 && fdm > 1e-6, "gradient vanishes (max|grad| %.3g): the test would prove nothing", gm);
    CHECK(eg <= 1e-3 * gm, "grad vs finite differences %.3g > 1e-3 x %.3g", eg, gm);
    adm_classifier_free(c);
    adm_tensors_free(&w);
    free(x); free(grad); free(xd);
}

static void test_fd_attention_pool_updown(void) {
    adm_config cfg; small_config(&cfg, "attention", 1, 1, 1, 1); fd_case(&cfg, 11);
}
static void test_fd_adaptive_conv_down_legacy(void) {
    adm_config cfg; small_config(&cfg, "adaptive", 0, 1, 0, 0);
    cfg.attention_ds[0] = 1; cfg.num_head_channels = -1; cfg.num_heads = 2;   /* attention at full resolution, fixed heads */
    fd_case(&cfg, 12);
}
static void test_fd_spatial_v2_avgpool(void) {
    adm_config cfg; small_config(&cfg, "spatial_v2", 0, 0, 1, 0); fd_case(&cfg, 13);
}
static void test_fd_spatial(void) {
    adm_config cfg; small_config(&cfg, "spatial", 1, 1, 0, 1); fd_case(&cfg, 14);
}

/* ---- the embedded MNIST classifier ---- */

/* The reference sample sheet: 3 rows (guidance 0, 1, 4) of 20 digits
 * 0..9, 0..9, each a 32x32 sample drawn 2x as 64x64 tiles.  The
 * reference's classifier recognises all 20 of rows 2 and 3. */
static void test_mnist_reads_reference_samples(void) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    adm_config cfg; adm_tensor_set w; adm_png_image img;
    REQUIRE(adm_config_parse("models/mnist/classifier.config.txt", ADM_KIND_CLASSIFIER, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(adm_png_read("models/mnist/reference_samples_ddpm50.png", &img) == 0, "%s", adm_last_error());
    REQUIRE(img.c == 1 && img.w == 20 * 64 && img.h == 3 * 64, "sheet is %dx%dx%d", img.w, img.h, img.c);
    char pt[512];
    REQUIRE(adm_tensors_load(test_path(pt, sizeof pt, "mnist/classifier.pt"), &w) == 0, "%s", adm_last_error());
    adm_classifier *c = adm_classifier_load(&cl, &cfg, &w);
    if (!c) { adm_tensors_free(&w); adm_png_free(&img); REQUIRE(0, "load: %s", adm_last_error()); }
    enum { B = 40 };
    float *x = malloc((size_t)B * 32 * 32 * 4), logits[B * 10];
    float t[B];
    for (int b = 0; b < B; b++) {
        int row = 1 + b / 20, col = b % 20;
        t[b] = 0;
        for (int i = 0; i < 32; i++)
            for (int j = 0; j < 32; j++) {
                const uint8_t *p = img.pixels + (size_t)(row * 64 + 2 * i) * img.w + col * 64 + 2 * j;
                double v = (p[0] + p[1] + p[img.w] + p[img.w + 1]) / 4.0;
                x[(size_t)b * 1024 + i * 32 + j] = (float)(v / 127.5 - 1.0);
            }
    }
    CHECK(adm_classifier_forward(c, x, t, B, logits) == 0, "forward: %s", adm_last_error());
    int right = 0;
    char got[B + 1];
    for (int b = 0; b < B; b++) {
        int best = 0;
        for (int k = 1; k < 10; k++) if (logits[b * 10 + k] > logits[b * 10 + best]) best = k;
        got[b] = (char)('0' + best);
        right += best == b % 10;
    }
    got[B] = 0;
    printf("  mnist classifier on the guided rows of the reference sheet: %d/40 right (%s)\n", right, got);
    CHECK(right >= 38, "only %d/40 digits recognised", right);
    adm_classifier_free(c);
    adm_tensors_free(&w);
    adm_png_free(&img);
    free(x);
}

/* ---- the elementwise backward ops the classifier path does not use fused ---- */

static void test_bwd_silu_relu(void) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    enum { n = 1000 };
    float x[n], dy[n], dx[n];
    for (int i = 0; i < n; i++) { x[i] = (float)((i * 37 % 200) - 100) / 12.5f; dy[i] = (float)((i * 11 % 17) - 8) / 4.0f; }
    cl_mem m = adm_cl_alloc(&cl, 3 * n * sizeof(float));
    REQUIRE(m, "%s", adm_last_error());
    adm_dt X = adm_dt_make(m, 0, 1, n, 1, 1), DY = adm_dt_make(m, n, 1, n, 1, 1), DX = adm_dt_make(m, 2 * n, 1, n, 1, 1);
    CHECK(adm_cl_write(&cl, m, 0, sizeof x, x) == 0 && adm_cl_write(&cl, m, sizeof x, sizeof dy, dy) == 0, "%s", adm_last_error());
    double e = 0;
    CHECK(adm_bwd_silu(&cl, &X, &DY, &DX) == 0 && adm_cl_read(&cl, m, 2 * sizeof x, sizeof dx, dx) == 0, "%s", adm_last_error());
    for (int i = 0; i < n; i++) {
        double s = 1 / (1 + exp(-(double)x[i]));
        e = fmax(e, fabs(dx[i] - dy[i] * s * (1 + x[i] * (1 - s))));
    }
    CHECK(e < 1e-5, "silu backward error %.3g", e);
    CHECK(adm_bwd_relu(&cl, &X, &DY, &DX) == 0 && adm_cl_read(&cl, m, 2 * sizeof x, sizeof dx, dx) == 0, "%s", adm_last_error());
    for (int i = 0; i < n; i++) CHECK(dx[i] == (x[i] > 0 ? dy[i] : 0.0f), "relu backward at %d", i);
    adm_dt bad = adm_dt_make(m, 0, 1, n - 1, 1, 1);
    CHECK(adm_bwd_silu(&cl, &bad, &DY, &DX) != 0, "mismatched shapes accepted");
    clReleaseMemObject(m);
}

/* ---- bad input ---- */

static void test_bad_input(void) {
    if (!cl_ok) SKIP("no OpenCL device: %s", adm_last_error());
    adm_config cfg, other;
    adm_tensor_set w;
    small_config(&cfg, "attention", 1, 1, 1, 1);
    REQUIRE(adm_classifier_random_weights(&cfg, 5, &w) == 0, "%s", adm_last_error());
    other = cfg; other.model_channels = 64;
    adm_classifier *bad = adm_classifier_load(&cl, &other, &w);
    CHECK(!bad, "a mismatched config was accepted");
    CHECK(strstr(adm_last_error(), "time_embed") != NULL, "error does not name a tensor: %s", adm_last_error());
    adm_classifier_free(bad);
    other = cfg; other.kind = ADM_KIND_UNET;
    CHECK(!adm_classifier_load(&cl, &other, &w), "a UNet config was accepted");
    adm_classifier *c = adm_classifier_load(&cl, &cfg, &w);
    REQUIRE(c, "load: %s", adm_last_error());
    float x[2 * 8 * 8] = {0}, g[2 * 8 * 8];
    float t[1] = {3};
    int64_t y[1] = {5};
    CHECK(adm_classifier_grad(c, x, t, y, 1, NULL, g) != 0, "label 5 of 5 classes accepted");
    CHECK(strstr(adm_last_error(), "label") != NULL, "error: %s", adm_last_error());
    y[0] = 4;
    CHECK(adm_classifier_grad(c, x, t, y, 0, NULL, g) != 0, "batch 0 accepted");
    CHECK(adm_classifier_grad(c, x, t, y, 1, NULL, g) == 0, "valid call after errors: %s", adm_last_error());
    adm_classifier_free(c);
    adm_tensors_free(&w);
}

int main(void) {
    const char *dev = test_device();
    cl_ok = adm_cl_open(&cl, dev, 0) == 0;
    if (!cl_ok && dev) {          /* a named device must exist */
        printf("  ADMD_TEST_DEVICE=%s: %s\nFAIL test_device\n", dev, adm_last_error());
        return 1;
    }
    if (!cl_ok) printf("  no device: %s\n", adm_last_error());
    RUN(test_reference_classifier_a);
    RUN(test_reference_classifier_a_other_backend);
    RUN(test_fd_attention_pool_updown);
    RUN(test_fd_adaptive_conv_down_legacy);
    RUN(test_fd_spatial_v2_avgpool);
    RUN(test_fd_spatial);
    RUN(test_mnist_reads_reference_samples);
    RUN(test_bwd_silu_relu);
    RUN(test_bad_input);
    if (cl_ok) { adm_ops_release(&cl); adm_cl_close(&cl); }
    CHECK_EXIT();
}
