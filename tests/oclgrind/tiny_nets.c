/* tiny_nets.c — every kernel of kernels/kernel_list.h on tiny configs, on
 * the device under test (ADMD_TEST_DEVICE: Oclgrind in make
 * check-oclgrind) against the reference device (ADMD_REF_DEVICE: PoCL,
 * whose outputs the parity tests check against the original PyTorch
 * code), on the same random weights and inputs.  Cases (argv names some;
 * none: all):
 *   unet_a_like   class-conditional, learned sigma, scale-shift norm,
 *                 ResBlock up/down, new attention order (QKVAttention)
 *   unet_c_like   unconditional, emb added, conv Downsample/Upsample,
 *                 legacy attention order (QKVAttentionLegacy)
 *   superres      SuperResModel (bilinear upsample + concat)
 *   classifier    attention-pool head: logits and the input gradient
 *   classifier_spatial  spatial head, conv Downsample (its backward)
 *   conv          every 3x3 layout, stride 2, 1x1, the CLBlast engine's
 *                 own kernels (rows1 needs ADMD_TILES with nv > 1)
 *   backward_ops  backward kernels no network path calls
 *   eval_ops      the Inception's kernels (kernels/eval.cl)
 *   noise         Philox noise (same bits required)
 *   step          DDPM (learned and fixed variance, guided) and DDIM steps
 * The network configs are the reference cases' (tests/data/reference)
 * shrunk to 4x4 images so that the run fits Oclgrind's speed.  Prints
 * PASS/FAIL lines and "KERNELS RUN ..." (the kernels launched on the
 * device under test); --kernels lists every kernel.  Oclgrind's own
 * reports and the coverage are checked by the caller
 * (tests/oclgrind/run.sh).  Not part of make check (it needs two devices).
 */
#include "check.h"
#include "classifier.h"
#include "cl_runtime.h"
#include "config.h"
#include "ops_backward.h"
#include "ops_eval.h"
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

/* ---- single ops: the kernels the tiny networks do not reach ---------------- */

/* An op on one device: in[] uploaded (whole-buffer writes), out allocated
 * and, on the reference device only, filled with NaN first, so an element
 * the op fails to write fails the comparison (on the device under test it
 * is left unwritten, for Oclgrind to see any read of it). */
typedef struct { const float *h; int n, c, hh, w; } host_t;
typedef int (*op_fn)(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg);

static float *run_op(adm_cl *cl, int is_ref, op_fn fn, const void *arg, const host_t *in, int nin, adm_dt oshape) {
    cl_mem m[8] = {0};
    adm_dt t[8], out = oshape;
    size_t no = adm_dt_numel(&oshape);
    float *h = malloc(no * sizeof(float));
    int rc = -1;
    for (int i = 0; i < nin; i++) {
        size_t n = (size_t)in[i].n * in[i].c * in[i].hh * in[i].w;
        if (!(m[i] = adm_cl_alloc(cl, n * sizeof(float))) || adm_cl_write(cl, m[i], 0, n * sizeof(float), in[i].h)) goto done;
        t[i] = adm_dt_make(m[i], 0, in[i].n, in[i].c, in[i].hh, in[i].w);
    }
    if (!(m[nin] = adm_cl_alloc(cl, no * sizeof(float)))) goto done;
    out.mem = m[nin]; out.off = 0;
    if (is_ref) {
        for (size_t i = 0; i < no; i++) h[i] = NAN;
        if (adm_cl_write(cl, m[nin], 0, no * sizeof(float), h)) goto done;
    }
    rc = fn(cl, t, &out, arg) || adm_cl_read(cl, m[nin], 0, no * sizeof(float), h) ? -1 : 0;
done:
    if (rc) { printf("  op: %s\n", adm_last_error()); for (size_t i = 0; i < no; i++) h[i] = NAN; }
    for (int i = 0; i <= nin; i++) adm_cl_release(cl, m[i]);
    return h;
}

static int op_case(const char *what, op_fn fn, const void *arg, const host_t *in, int nin, adm_dt oshape) {
    float *a = run_op(&dut, 0, fn, arg, in, nin, oshape), *b = run_op(&ref, 1, fn, arg, in, nin, oshape);
    int ok = close_to(what, a, b, adm_dt_numel(&oshape), TOL);
    free(a); free(b);
    return ok;
}

typedef struct { int stride, bias; const char *backend; } conv_arg;
static int op_conv(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) {
    const conv_arg *a = arg;
    if (adm_ops_set_backend(cl, a->backend)) return -1;
    int rc = adm_op_conv2d(cl, &in[0], &in[1], a->bias ? &in[2] : NULL, a->stride, out);
    return adm_ops_set_backend(cl, "own") || rc ? -1 : 0;
}

/* 3x3 convolutions of every layout the own engine has (rows: W >= ADM_VW x
 * ADM_NV; rows1: ADM_VW <= W < ADM_VW x ADM_NV, reached with ADMD_TILES
 * nv > 1; shift3 and planes: narrower images, by tile count), stride 2
 * (direct), 1x1 (panel GEMM), and the CLBlast engine's own kernels (im2col,
 * bias).  Shapes: [N, Ci, H, W] -> Co. */
static void conv(void) {
    struct { const char *what; int N, Ci, H, W, Co, k, stride; const char *backend; } v[] = {
        {"conv3x3 rows 3x16", 2, 3, 3, 16, 5, 3, 1, "own"},
        {"conv3x3 rows/rows1 3x12", 1, 3, 3, 12, 5, 3, 1, "own"},
        {"conv3x3 shift3 5x5", 2, 3, 5, 5, 17, 3, 1, "own"},
        {"conv3x3 planes 2x2", 1, 4, 2, 2, 3, 3, 1, "own"},
        {"conv3x3/2 direct 5x6", 1, 3, 5, 6, 4, 3, 2, "own"},
        {"conv1x1 panels 3x5", 2, 6, 3, 5, 7, 1, 1, "own"},
        {"conv3x3/2 im2col+clblast 4x4", 2, 3, 4, 4, 4, 3, 2, "clblast"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int OH = (v[i].H + 2 * (v[i].k / 2) - v[i].k) / v[i].stride + 1, OW = (v[i].W + 2 * (v[i].k / 2) - v[i].k) / v[i].stride + 1;
        float *x = rand_vec((size_t)v[i].N * v[i].Ci * v[i].H * v[i].W), *w = rand_vec((size_t)v[i].Co * v[i].Ci * v[i].k * v[i].k),
              *b = rand_vec((size_t)v[i].Co);
        host_t in[3] = {{x, v[i].N, v[i].Ci, v[i].H, v[i].W}, {w, v[i].Co, v[i].Ci, v[i].k, v[i].k}, {b, 1, v[i].Co, 1, 1}};
        conv_arg a = {v[i].stride, 1, v[i].backend};
        CHECK(op_case(v[i].what, op_conv, &a, in, 3, adm_dt_make(NULL, 0, v[i].N, v[i].Co, OH, OW)), "%s differs", v[i].what);
        free(x); free(w); free(b);
    }
}

static int op_bwd_silu(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) { return adm_bwd_silu(cl, &in[0], &in[1], out); }

/* kernels no network path calls today (kept for the ops they implement) */
static void backward_ops(void) {
    float *x = rand_vec(2 * 3 * 5 * 7), *dy = rand_vec(2 * 3 * 5 * 7);
    host_t in[2] = {{x, 2, 3, 5, 7}, {dy, 2, 3, 5, 7}};
    CHECK(op_case("bwd_silu", op_bwd_silu, NULL, in, 2, adm_dt_make(NULL, 0, 2, 3, 5, 7)), "bwd_silu differs");
    free(x); free(dy);
}

/* The Inception's kernels (kernels/eval.cl) on tiny tensors: preprocessing
 * of uint8 images (one channel and three, resized up and down), a k x l
 * convolution with ReLU written at a channel offset, max and average
 * pooling with padding, the spatial mean. */
typedef struct { int H, W, C; } prep_arg;
static int op_preprocess(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) {
    const prep_arg *a = arg;   /* in[0] holds the image bytes (as floats' storage) */
    return adm_op_eval_preprocess(cl, in[0].mem, 3, a->H, a->W, a->C, out);
}
typedef struct { int sh, sw, ph, pw, c0; } econv_arg;
static int op_eval_conv(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) {
    const econv_arg *a = arg;
    adm_dt y = *out;   /* written at channels c0.., the others by a 1x1 pool copy */
    if (adm_op_eval_pool(cl, &in[0], 1, 1, 0, 1, &y, 0)) return -1;
    return adm_op_eval_conv(cl, &in[0], &in[1], &in[2], a->sh, a->sw, a->ph, a->pw, 1, &y, a->c0);
}
typedef struct { int k, s, pad, is_max; } pool_arg;
static int op_eval_pool(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) {
    const pool_arg *a = arg;
    return adm_op_eval_pool(cl, &in[0], a->k, a->s, a->pad, a->is_max, out, 0);
}
static int op_eval_mean(adm_cl *cl, adm_dt *in, adm_dt *out, const void *arg) { return adm_op_eval_mean_hw(cl, &in[0], out); }

static void eval_ops(void) {
    /* images: 2 x 5 x 7 x C uint8 at byte offset 3 of a float buffer */
    for (int C = 1; C <= 3; C += 2) {
        size_t nb = 3 + (size_t)2 * 5 * 7 * C, nf = (nb + 3) / 4;
        float *buf = calloc(nf, sizeof(float));
        unsigned char *bytes = (unsigned char *)buf;
        for (size_t i = 3; i < nb; i++) bytes[i] = (unsigned char)(frand() * 127.5f + 127.5f);
        host_t in[1] = {{buf, 1, 1, 1, (int)nf}};
        prep_arg a = {5, 7, C};
        CHECK(op_case(C == 1 ? "eval preprocess C=1 up" : "eval preprocess C=3 down", op_preprocess, &a, in, 1,
                      adm_dt_make(NULL, 0, 2, 3, C == 1 ? 9 : 4, C == 1 ? 11 : 3)), "preprocess differs");
        free(buf);
    }
    float *x = rand_vec(2 * 3 * 5 * 6), *w = rand_vec(4 * 3 * 1 * 3), *b = rand_vec(4);
    host_t in[3] = {{x, 2, 3, 5, 6}, {w, 4, 3, 1, 3}, {b, 1, 4, 1, 1}};
    econv_arg ca = {1, 1, 0, 1, 3};   /* 1x3 kernel, padding (0, 1): 5x6 out */
    CHECK(op_case("eval conv 1x3 relu at c0=3", op_eval_conv, &ca, in, 3, adm_dt_make(NULL, 0, 2, 7, 5, 6)), "eval conv differs");
    pool_arg pm = {3, 2, 0, 1}, pa = {3, 1, 1, 0};
    CHECK(op_case("eval max pool 3/2", op_eval_pool, &pm, in, 1, adm_dt_make(NULL, 0, 2, 3, 2, 2)), "max pool differs");
    CHECK(op_case("eval avg pool 3/1 pad 1", op_eval_pool, &pa, in, 1, adm_dt_make(NULL, 0, 2, 3, 5, 6)), "avg pool differs");
    CHECK(op_case("eval mean hw", op_eval_mean, NULL, in, 1, adm_dt_make(NULL, 0, 2, 3, 1, 1)), "mean differs");
    free(x); free(w); free(b);
}

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

static void classifier_case(const char *cc, int B) {
    adm_config cfg;
    adm_tensor_set w;
    REQUIRE(adm_config_parse_text(cc, strlen(cc), ADM_KIND_CLASSIFIER, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(adm_classifier_random_weights(&cfg, 11, &w) == 0, "%s", adm_last_error());
    adm_classifier *cd = adm_classifier_load(&dut, &cfg, &w), *cr = adm_classifier_load(&ref, &cfg, &w);
    adm_tensors_free(&w);
    REQUIRE(cd && cr, "%s", adm_last_error());
    const int S = cfg.image_size, K = cfg.out_channels;
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

/* the attention-pool head, ResBlock down */
static void classifier(void) {
    classifier_case("kind=classifier\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=3\n"
                    "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_heads=1\n"
                    "num_head_channels=16\nuse_scale_shift_norm=1\nresblock_updown=1\n"
                    "use_new_attention_order=0\npool=attention\n", 2);
}

/* the spatial head (features of every block, ReLU MLP), conv Downsample
 * (stride 2); batch 1 (the case above checks batch indexing) to save time */
static void classifier_spatial(void) {
    classifier_case("kind=classifier\nimage_size=4\nin_channels=3\nmodel_channels=32\nout_channels=3\n"
                    "num_res_blocks=1\nattention_resolutions=2\nchannel_mult=1,2\nnum_heads=1\n"
                    "num_head_channels=16\nuse_scale_shift_norm=0\nresblock_updown=0\n"
                    "use_new_attention_order=1\npool=spatial\n", 1);
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

/* The kernels of kernel_list.h, by name. */
#define KERNEL_NAME(name) #name,
static const char *const kernel_names[] = {ADM_KERNEL_LIST(KERNEL_NAME)};

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines as they come (the run is slow) */
    if (argc == 2 && strcmp(argv[1], "--kernels") == 0) {   /* every kernel, one a line */
        for (int i = 0; i < ADM_K_COUNT; i++) puts(kernel_names[i]);
        return 0;
    }
    const char *d = getenv("ADMD_TEST_DEVICE"), *r = getenv("ADMD_REF_DEVICE");
    if (adm_cl_open(&dut, d, 0)) { printf("FAIL open device under test '%s': %s\n", d ? d : "", adm_last_error()); return 1; }
    if (adm_cl_open(&ref, r, 0)) { printf("FAIL open reference device '%s': %s\n", r ? r : "", adm_last_error()); return 1; }
    printf("device under test: %s (%s); reference: %s\n", dut.device_name, adm_ops_backend(&dut), ref.device_name);
    RUN_IF(unet_a_like);
    RUN_IF(unet_c_like);
    RUN_IF(superres);
    RUN_IF(classifier);
    RUN_IF(classifier_spatial);
    RUN_IF(conv);
    RUN_IF(backward_ops);
    RUN_IF(eval_ops);
    RUN_IF(noise);
    RUN_IF(step);
    printf("KERNELS RUN");                 /* on the device under test (run.sh's coverage check) */
    for (int i = 0; i < ADM_K_COUNT; i++) if (dut.launches[i]) printf(" %s", kernel_names[i]);
    printf("\n");
    adm_cl_close(&dut);
    adm_cl_close(&ref);
    CHECK_EXIT();
}
