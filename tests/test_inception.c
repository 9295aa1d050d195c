/* test_inception.c — the FID Inception-v3 on the device against the
 * reference inception_a (pytorch-fid's network with random weights, legacy
 * torch format, xz-compressed: unpacked to a temporary folder), plus what
 * the reference does not cover, checked against independent host
 * computations: the preprocessing (one channel, images larger than 299),
 * the general convolution and pools, batch invariance, the zip format
 * without num_batches_tracked, and bad weight files.
 *
 * Tolerance (issue 14): pool3 / spatial / logits within 1e-3 relative to
 * the largest reference value.  The act/ block outputs are compared first,
 * so a failure says where a difference starts.
 */
#include "check.h"
#include "inception.h"
#include "npy.h"
#include "ops_eval.h"
#include "tensor.h"
#include "util.h"
#include <unistd.h>
#include <zip.h>

static adm_cl cl;
static int cl_ok;
static adm_inception *net;           /* inception_a, loaded once */
static char tmpdir[] = "/tmp/admd_test_inception_XXXXXX", weights[600];

/* Max |a - b| / max |ref| over n values. */
static double rel_err(const float *a, const float *ref, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > m) m = fabs(ref[i]);
        double e = fabs((double)a[i] - ref[i]);
        if (!(e <= d)) d = e;            /* NaN counts as an error */
    }
    return m > 0 ? d / m : d;
}

static int load_npy(const char *rel, adm_tensor *t) {
    char p[512];
    if (adm_npy_read(test_path(p, sizeof p, rel), t) != 0) { printf("  %s\n", adm_last_error()); return -1; }
    return 0;
}

/* ---- the ops against host computations ---------------------------------------- */

static uint32_t lcg = 12345;
static float frand(void) { lcg = lcg * 1664525u + 1013904223u; return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f; }

static cl_mem upload(const float *h, size_t n) {
    cl_mem m = adm_cl_alloc(&cl, n * sizeof(float));
    if (m && adm_cl_write(&cl, m, 0, n * sizeof(float), h) != 0) { clReleaseMemObject(m); return NULL; }
    return m;
}

/* Host bilinear (align_corners=False) of channel cs of img [h, w, c] / 255 at (oy, ox) of [oh, ow]:
 * source coordinates in float as torch computes them (scale = (float)in / out), the rest in double. */
static double host_bilinear(const uint8_t *img, int h, int w, int c, int cs, int oh, int ow, int oy, int ox) {
    float fy = (float)h / (float)oh, fx = (float)w / (float)ow;
    volatile float ty = fy * ((float)oy + 0.5f), tx = fx * ((float)ox + 0.5f);   /* no contraction */
    double sy = (float)(ty - 0.5f), sx = (float)(tx - 0.5f);
    if (sy < 0) sy = 0;
    if (sx < 0) sx = 0;
    int y0 = (int)sy, x0 = (int)sx;
    if (y0 > h - 1) y0 = h - 1;
    if (x0 > w - 1) x0 = w - 1;
    int y1 = y0 + (y0 < h - 1), x1 = x0 + (x0 < w - 1);
    double ly = sy - y0, lx = sx - x0;
#define V(y, x) (img[((size_t)(y) * w + (x)) * c + cs] / 255.0)
    return (1 - ly) * ((1 - lx) * V(y0, x0) + lx * V(y0, x1)) + ly * ((1 - lx) * V(y1, x0) + lx * V(y1, x1));
#undef V
}

/* Preprocessing: one channel, 3 channels larger than 299 (shrinking, no
 * antialias), exactly 299 (identity: 2 v / 255 - 1). */
static void test_preprocess_host(void) {
    if (!cl_ok) SKIP("no OpenCL device");
    static const int cases[][3] = {{37, 50, 1}, {400, 320, 3}, {299, 299, 3}, {1, 1, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int h = cases[k][0], w = cases[k][1], c = cases[k][2], N = 2, O = 299;
        size_t nb = (size_t)N * h * w * c, no = (size_t)N * 3 * O * O;
        uint8_t *img = malloc(nb);
        float *out = malloc(no * sizeof *out);
        REQUIRE(img && out, "malloc");
        for (size_t i = 0; i < nb; i++) img[i] = (uint8_t)((i * 7919 + (i >> 5) * 31) & 255);
        cl_mem mi = adm_cl_alloc(&cl, nb), mo = adm_cl_alloc(&cl, no * sizeof(float));
        REQUIRE(mi && mo && adm_cl_write(&cl, mi, 0, nb, img) == 0, "%s", adm_last_error());
        adm_dt y = adm_dt_make(mo, 0, N, 3, O, O);
        REQUIRE(adm_op_eval_preprocess(&cl, mi, 0, h, w, c, &y) == 0, "%s", adm_last_error());
        REQUIRE(adm_cl_read(&cl, mo, 0, no * sizeof(float), out) == 0, "%s", adm_last_error());
        double err = 0;
        for (int n = 0; n < N; n++)
            for (int ch = 0; ch < 3; ch++)
                for (int oy = 0; oy < O; oy++)
                    for (int ox = 0; ox < O; ox++) {
                        double ref = 2 * host_bilinear(img + (size_t)n * h * w * c, h, w, c, c == 1 ? 0 : ch, O, O, oy, ox) - 1;
                        double e = fabs(out[(((size_t)n * 3 + ch) * O + oy) * O + ox] - ref);
                        if (!(e <= err)) err = e;
                    }
        printf("  %dx%dx%d -> 3x299x299: max error %.2e\n", h, w, c, err);
        CHECK(err < 1e-6, "%dx%dx%d: preprocessing differs from the host by %.3e", h, w, c, err);
        if (h == 299 && w == 299)
            CHECK(out[5] == 2.0f * ((float)img[5 * 3] / 255.0f) - 1.0f, "299x299 is the identity resize");
        clReleaseMemObject(mi); clReleaseMemObject(mo);
        free(img); free(out);
    }
}

/* General convolutions (every kernel shape the network has, strides,
 * asymmetric padding) into a channel slice, pools, global mean: against
 * a direct host loop in double. */
static void test_conv_pool_host(void) {
    if (!cl_ok) SKIP("no OpenCL device");
    static const int cs[][6] = {  /* kh, kw, sh, sw, ph, pw */
        {1, 1, 1, 1, 0, 0}, {3, 3, 2, 2, 0, 0}, {3, 3, 1, 1, 1, 1}, {5, 5, 1, 1, 2, 2},
        {1, 7, 1, 1, 0, 3}, {7, 1, 1, 1, 3, 0}, {1, 3, 1, 1, 0, 1}, {3, 1, 1, 1, 1, 0}, {3, 3, 2, 2, 1, 1}};
    int N = 3, Ci = 5, H = 13, W = 11, Co = 6, Ctot = 10, c0 = 3;
    size_t nx = (size_t)N * Ci * H * W;
    float *x = malloc(nx * sizeof *x);
    REQUIRE(x, "malloc");
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    cl_mem mx = upload(x, nx);
    REQUIRE(mx, "%s", adm_last_error());
    adm_dt xd = adm_dt_make(mx, 0, N, Ci, H, W);
    for (size_t t = 0; t < sizeof cs / sizeof *cs; t++) {
        int kh = cs[t][0], kw = cs[t][1], sh = cs[t][2], sw = cs[t][3], ph = cs[t][4], pw = cs[t][5];
        int OH = (H + 2 * ph - kh) / sh + 1, OW = (W + 2 * pw - kw) / sw + 1;
        size_t nw = (size_t)Co * Ci * kh * kw, ny = (size_t)N * Ctot * OH * OW;
        float *w = malloc(nw * 4), b[6], *y = malloc(ny * 4);
        REQUIRE(w && y, "malloc");
        for (size_t i = 0; i < nw; i++) w[i] = frand() * 0.5f;
        for (int i = 0; i < Co; i++) b[i] = frand();
        for (size_t i = 0; i < ny; i++) y[i] = 99.0f;              /* the other channels must stay */
        cl_mem mw = upload(w, nw), mb = upload(b, 6), my = upload(y, ny);
        REQUIRE(mw && mb && my, "%s", adm_last_error());
        adm_dt wd = adm_dt_make(mw, 0, Co, Ci, kh, kw), bd = adm_dt_make(mb, 0, 1, Co, 1, 1), yd = adm_dt_make(my, 0, N, Ctot, OH, OW);
        REQUIRE(adm_op_eval_conv(&cl, &xd, &wd, &bd, sh, sw, ph, pw, 1, &yd, c0) == 0, "%s", adm_last_error());
        REQUIRE(adm_cl_read(&cl, my, 0, ny * 4, y) == 0, "%s", adm_last_error());
        double err = 0; int kept = 1;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < Ctot; c++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        float got = y[(((size_t)n * Ctot + c) * OH + oy) * OW + ox];
                        if (c < c0 || c >= c0 + Co) { kept &= got == 99.0f; continue; }
                        double s = b[c - c0];
                        for (int ci = 0; ci < Ci; ci++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * sh + ky - ph, ix = ox * sw + kx - pw;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    s += (double)w[(((size_t)(c - c0) * Ci + ci) * kh + ky) * kw + kx] * x[(((size_t)n * Ci + ci) * H + iy) * W + ix];
                                }
                        if (s < 0) s = 0;
                        double e = fabs(got - s);
                        if (!(e <= err)) err = e;
                    }
        CHECK(err < 1e-5 && kept, "conv %dx%d stride %dx%d pad %dx%d: error %.3e, other channels kept %d", kh, kw, sh, sw, ph, pw, err, kept);
        clReleaseMemObject(mw); clReleaseMemObject(mb); clReleaseMemObject(my);
        free(w); free(y);
    }
    /* Pools: 3x3 stride 1 pad 1 (average without the padding, max) and 3x3 stride 2. */
    static const int ps[][4] = {{3, 1, 1, 0}, {3, 1, 1, 1}, {3, 2, 0, 1}, {3, 2, 0, 0}};
    for (size_t t = 0; t < sizeof ps / sizeof *ps; t++) {
        int k = ps[t][0], s = ps[t][1], pad = ps[t][2], mx_ = ps[t][3];
        int OH = (H + 2 * pad - k) / s + 1, OW = (W + 2 * pad - k) / s + 1, Ct = Ci + 2, at = 2;
        size_t ny = (size_t)N * Ct * OH * OW;
        float *y = calloc(ny, 4);
        REQUIRE(y, "calloc");
        cl_mem my = upload(y, ny);
        adm_dt yd = adm_dt_make(my, 0, N, Ct, OH, OW);
        REQUIRE(my && adm_op_eval_pool(&cl, &xd, k, s, pad, mx_, &yd, at) == 0, "%s", adm_last_error());
        REQUIRE(adm_cl_read(&cl, my, 0, ny * 4, y) == 0, "%s", adm_last_error());
        double err = 0;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < Ci; c++)
                for (int oy = 0; oy < OH; oy++)
                    for (int ox = 0; ox < OW; ox++) {
                        double acc = mx_ ? -INFINITY : 0; int cnt = 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s + ky - pad, ix = ox * s + kx - pad;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                double v = x[(((size_t)n * Ci + c) * H + iy) * W + ix];
                                acc = mx_ ? (v > acc ? v : acc) : acc + v;
                                cnt++;
                            }
                        if (!mx_) acc /= cnt;
                        double e = fabs(y[(((size_t)n * Ct + c + at) * OH + oy) * OW + ox] - acc);
                        if (!(e <= err)) err = e;
                    }
        CHECK(err < 1e-6, "%s pool k%d s%d p%d: error %.3e", mx_ ? "max" : "avg", k, s, pad, err);
        clReleaseMemObject(my);
        free(y);
    }
    /* Global mean. */
    float m[15];
    cl_mem mm = adm_cl_alloc(&cl, sizeof m);
    adm_dt md = adm_dt_make(mm, 0, N, Ci, 1, 1);
    REQUIRE(mm && adm_op_eval_mean_hw(&cl, &xd, &md) == 0 && adm_cl_read(&cl, mm, 0, sizeof m, m) == 0, "%s", adm_last_error());
    double err = 0;
    for (int p = 0; p < N * Ci; p++) {
        double s = 0;
        for (int i = 0; i < H * W; i++) s += x[(size_t)p * H * W + i];
        if (fabs(m[p] - s / (H * W)) > err) err = fabs(m[p] - s / (H * W));
    }
    CHECK(err < 1e-6, "global mean error %.3e", err);
    clReleaseMemObject(mm); clReleaseMemObject(mx);
    free(x);
}

static void test_load_reference(void) {
    if (!cl_ok) SKIP("no OpenCL device");
    char p[512], cmd[1400];
    test_path(p, sizeof p, "reference/inception_a/inception.pth.xz");
    REQUIRE(access(p, R_OK) == 0, "%s missing", p);
    REQUIRE(mkdtemp(tmpdir), "mkdtemp");
    snprintf(weights, sizeof weights, "%s/inception.pth", tmpdir);
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", p, weights);
    REQUIRE(system(cmd) == 0, "%s failed", cmd);
    double t0 = adm_now();
    REQUIRE(adm_inception_load(&net, &cl, weights) == 0, "%s", adm_last_error());
    printf("  loaded in %.2f s, device batch %d, sha256 %.16s...\n", adm_now() - t0, adm_inception_batch(net),
           adm_inception_sha256(net));
    CHECK(strlen(adm_inception_sha256(net)) == 64, "sha256");
}

/* Block outputs of image 0 against act/ (those present in the test data). */
static void test_block_outputs(void) {
    if (!net) SKIP("network not loaded");
    static const char *blocks[] = {"Conv2d_1a_3x3", "Conv2d_4a_3x3", "Mixed_5b", "Mixed_6a", "Mixed_6e", "Mixed_7a", "Mixed_7c"};
    adm_tensor img;
    REQUIRE(load_npy("reference/inception_a/images.npy", &img) == 0, "images");
    int h = (int)img.shape[1], w = (int)img.shape[2], c = (int)img.shape[3];
    size_t cap = 32 * 149 * 149;
    float *out = malloc(cap * sizeof *out);
    REQUIRE(out, "malloc");
    int compared = 0;
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        char rel[128], p[512];
        snprintf(rel, sizeof rel, "reference/inception_a/act/%s.npy", blocks[b]);
        if (access(test_path(p, sizeof p, rel), R_OK) != 0) continue;
        adm_tensor ref;
        if (load_npy(rel, &ref) != 0) { CHECK(0, "%s", rel); continue; }
        size_t count = cap;
        int chw[3];
        int rc = adm_inception_block_output(net, img.data, h, w, c, blocks[b], out, &count, chw);
        CHECK(rc == 0, "%s: %s", blocks[b], adm_last_error());
        if (rc == 0) {
            size_t n = (size_t)adm_tensor_numel(&ref);
            CHECK(count == n, "%s: %zu values, reference %zu", blocks[b], count, n);
            if (count == n) {
                double e = rel_err(out, ref.data, n);
                printf("  %-14s [%d, %d, %d] max error %.2e of the largest value\n", blocks[b], chw[0], chw[1], chw[2], e);
                CHECK(e < 1e-3, "%s differs: %.3e", blocks[b], e);
            }
            compared++;
        }
        adm_tensor_free(&ref);
    }
    CHECK(compared >= 3, "only %d blocks compared", compared);
    free(out);
    adm_tensor_free(&img);
}

static void test_reference_features(void) {
    if (!net) SKIP("network not loaded");
    adm_tensor img, rp, rs, rl;
    REQUIRE(load_npy("reference/inception_a/images.npy", &img) == 0, "images");
    REQUIRE(load_npy("reference/inception_a/pool3.npy", &rp) == 0 && load_npy("reference/inception_a/spatial.npy", &rs) == 0 &&
            load_npy("reference/inception_a/logits.npy", &rl) == 0, "reference outputs");
    int n = (int)img.shape[0], h = (int)img.shape[1], w = (int)img.shape[2], c = (int)img.shape[3];
    float *p3 = malloc((size_t)n * 2048 * 4), *sp = malloc((size_t)n * 2023 * 4), *lg = malloc((size_t)n * 1008 * 4);
    REQUIRE(p3 && sp && lg, "malloc");
    double t0 = adm_now();
    REQUIRE(adm_inception_features(net, img.data, n, h, w, c, p3, sp, lg) == 0, "%s", adm_last_error());
    double dt = adm_now() - t0;
    double e1 = rel_err(p3, rp.data, (size_t)n * 2048), e2 = rel_err(sp, rs.data, (size_t)n * 2023),
           e3 = rel_err(lg, rl.data, (size_t)n * 1008);
    printf("  %d images in %.2f s; max error / largest value: pool3 %.2e, spatial %.2e, logits %.2e\n", n, dt, e1, e2, e3);
    CHECK(e1 < 1e-3, "pool3 %.3e", e1);
    CHECK(e2 < 1e-3, "spatial %.3e", e2);
    CHECK(e3 < 1e-3, "logits %.3e", e3);
    free(p3); free(sp); free(lg);
    adm_tensor_free(&img); adm_tensor_free(&rp); adm_tensor_free(&rs); adm_tensor_free(&rl);
}

/* One channel = the same gray value in all three channels, bit for bit;
 * an image larger than 299 runs (and is finite). */
static void test_gray_and_large(void) {
    if (!net) SKIP("network not loaded");
    int h = 45, w = 61;
    uint8_t g[45 * 61], rgb[45 * 61 * 3];
    for (int i = 0; i < h * w; i++) { g[i] = (uint8_t)(i * 37 + i / 7); for (int c = 0; c < 3; c++) rgb[i * 3 + c] = g[i]; }
    float a[2048 + 2023 + 1008], b[2048 + 2023 + 1008];
    REQUIRE(adm_inception_features(net, g, 1, h, w, 1, a, a + 2048, a + 4071) == 0, "%s", adm_last_error());
    REQUIRE(adm_inception_features(net, rgb, 1, h, w, 3, b, b + 2048, b + 4071) == 0, "%s", adm_last_error());
    CHECK(memcmp(a, b, sizeof a) == 0, "one channel differs from the channel replicated three times");
    int H = 331, W = 347;
    uint8_t *big = malloc((size_t)H * W * 3);
    REQUIRE(big, "malloc");
    for (size_t i = 0; i < (size_t)H * W * 3; i++) big[i] = (uint8_t)((i * 2654435761u) >> 24);
    REQUIRE(adm_inception_features(net, big, 1, H, W, 3, a, NULL, NULL) == 0, "%s", adm_last_error());
    int finite = 1;
    double s = 0;
    for (int i = 0; i < 2048; i++) { finite &= isfinite(a[i]) != 0; s += a[i]; }
    CHECK(finite && s != 0, "features of a %dx%d image: finite %d, sum %g", H, W, finite, s);
    free(big);
}

/* The same image gives the same bits in any batch size and position. */
static void test_batch_invariance(void) {
    if (!net) SKIP("network not loaded");
    adm_tensor img;
    REQUIRE(load_npy("reference/inception_a/images.npy", &img) == 0, "images");
    int n = (int)img.shape[0], h = (int)img.shape[1], w = (int)img.shape[2], c = (int)img.shape[3];
    size_t per = (size_t)h * w * c;
    float *all = malloc((size_t)n * 2048 * 4), *one = malloc(2048 * 4), *sp = malloc((size_t)n * 2023 * 4), *sp1 = malloc(2023 * 4);
    REQUIRE(all && one && sp && sp1, "malloc");
    adm_inception_set_batch(net, 3);             /* batches of 3 and 1 */
    REQUIRE(adm_inception_features(net, img.data, n, h, w, c, all, sp, NULL) == 0, "%s", adm_last_error());
    adm_inception_set_batch(net, 0);
    for (int i = 0; i < n; i++) {
        REQUIRE(adm_inception_features(net, (uint8_t *)img.data + i * per, 1, h, w, c, one, sp1, NULL) == 0, "%s", adm_last_error());
        CHECK(memcmp(one, all + (size_t)i * 2048, 2048 * 4) == 0 && memcmp(sp1, sp + (size_t)i * 2023, 2023 * 4) == 0,
              "image %d alone differs from image %d in a batch of 3", i, i);
    }
    free(all); free(one); free(sp); free(sp1);
    adm_tensor_free(&img);
}

/* ---- the zip format, without num_batches_tracked; bad weight files --------------- */

/* Write tensors as a torch zip checkpoint (archive/data.pkl, archive/data/K),
 * skipping names containing `skip` and giving tensor `reshape` the shape
 * [1000, 2048] (a torchvision-like head).  Returns 0 or -1. */
static int write_zip(const char *path, const adm_tensor_set *s, const char *skip, const char *reshape) {
    size_t cap = 1 << 20, n = 0;
    uint8_t *p = malloc(cap);
    if (!p) return -1;
#define PUT(str) do { memcpy(p + n, str, sizeof(str) - 1); n += sizeof(str) - 1; } while (0)
#define I32(v) do { int32_t v_ = (int32_t)(v); p[n++] = 'J'; memcpy(p + n, &v_, 4); n += 4; } while (0)
#define STR(s_) do { uint32_t l_ = (uint32_t)strlen(s_); p[n++] = 'X'; memcpy(p + n, &l_, 4); n += 4; memcpy(p + n, s_, l_); n += l_; } while (0)
    PUT("\x80\x02" "ccollections\nOrderedDict\n)R(");
    int keys = 0;
    for (int i = 0; i < s->n; i++) {
        const adm_tensor *t = &s->t[i];
        if (skip && strstr(t->name, skip)) continue;
        if (t->dtype != ADM_F32 && t->dtype != ADM_I64) continue;
        int64_t shape[4]; int nd = t->ndim;
        memcpy(shape, t->shape, sizeof shape);
        if (reshape && strcmp(t->name, reshape) == 0) shape[0] = 1000;
        int64_t numel = 1;
        for (int d = 0; d < nd; d++) numel *= shape[d];
        char key[16];
        snprintf(key, sizeof key, "%d", keys++);
        STR(t->name);
        PUT("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storage");
        if (t->dtype == ADM_F32) PUT("ctorch\nFloatStorage\n"); else PUT("ctorch\nLongStorage\n");
        STR(key); PUT("X\x03\x00\x00\x00" "cpu"); I32(numel); PUT("tQK\x00(");
        for (int d = 0; d < nd; d++) I32(shape[d]);
        PUT("t(");
        int64_t st = 1, stride[4];
        for (int d = nd - 1; d >= 0; d--) { stride[d] = st; st *= shape[d]; }
        for (int d = 0; d < nd; d++) I32(stride[d]);
        PUT("t\x89" "ccollections\nOrderedDict\n)RtR");
    }
    PUT("u.");
#undef PUT
#undef I32
#undef STR
    int err = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) { free(p); return -1; }
    zip_source_t *src = zip_source_buffer(z, p, n, 0);
    zip_int64_t idx = src ? zip_file_add(z, "archive/data.pkl", src, 0) : -1;
    int rc = idx < 0 ? -1 : 0;
    keys = 0;
    for (int i = 0; i < s->n && rc == 0; i++) {
        const adm_tensor *t = &s->t[i];
        if ((skip && strstr(t->name, skip)) || (t->dtype != ADM_F32 && t->dtype != ADM_I64)) continue;
        char name[64];
        snprintf(name, sizeof name, "archive/data/%d", keys++);
        size_t bytes = t->nbytes;
        if (reshape && strcmp(t->name, reshape) == 0) bytes = bytes / (size_t)t->shape[0] * 1000;
        src = zip_source_buffer(z, t->data, bytes, 0);
        if (!src || (idx = zip_file_add(z, name, src, 0)) < 0) rc = -1;
        else zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    if (rc == 0 && zip_close(z) != 0) rc = -1;
    if (rc != 0) zip_discard(z);
    free(p);
    return rc;
}

static void test_zip_without_num_batches_tracked(void) {
    if (!net) SKIP("network not loaded");
    adm_tensor_set s;
    REQUIRE(adm_tensors_load(weights, &s) == 0, "%s", adm_last_error());
    char zp[700];
    snprintf(zp, sizeof zp, "%s/inception_zip.pt", tmpdir);
    REQUIRE(write_zip(zp, &s, "num_batches_tracked", NULL) == 0, "cannot write %s", zp);
    adm_tensors_free(&s);
    adm_inception *z;
    REQUIRE(adm_inception_load(&z, &cl, zp) == 0, "%s", adm_last_error());
    CHECK(strcmp(adm_inception_sha256(z), adm_inception_sha256(net)) != 0, "sha256 of another file");
    adm_tensor img;
    REQUIRE(load_npy("reference/inception_a/images.npy", &img) == 0, "images");
    float a[2048 + 1008], b[2048 + 1008];
    int h = (int)img.shape[1], w = (int)img.shape[2];
    REQUIRE(adm_inception_features(z, img.data, 1, h, w, 3, a, NULL, a + 2048) == 0, "%s", adm_last_error());
    REQUIRE(adm_inception_features(net, img.data, 1, h, w, 3, b, NULL, b + 2048) == 0, "%s", adm_last_error());
    CHECK(memcmp(a, b, sizeof a) == 0, "zip and legacy files of the same weights give different features");
    adm_inception_free(z);
    adm_tensor_free(&img);
    remove(zp);
}

static void test_bad_weights(void) {
    if (!net) SKIP("network not loaded");
    adm_tensor_set s;
    REQUIRE(adm_tensors_load(weights, &s) == 0, "%s", adm_last_error());
    char zp[700];
    snprintf(zp, sizeof zp, "%s/bad.pt", tmpdir);
    adm_inception *z = NULL;
    static const struct { const char *skip, *reshape, *err; } bad[] = {
        {"Mixed_6b.branch7x7_2.bn.running_var", NULL, "tensor Mixed_6b.branch7x7_2.bn.running_var is missing"},
        {"fc.weight", NULL, "tensor fc.weight is missing"},
        {NULL, "fc.weight", "1008 classes"},
        {NULL, "Mixed_5b.branch5x5_2.conv.weight", "tensor Mixed_5b.branch5x5_2.conv.weight: expected [64, 48, 5, 5]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        REQUIRE(write_zip(zp, &s, bad[i].skip, bad[i].reshape) == 0, "cannot write %s", zp);
        CHECK(adm_inception_load(&z, &cl, zp) != 0 && z == NULL && strstr(adm_last_error(), bad[i].err) &&
              strstr(adm_last_error(), zp), "case %zu: wanted '%s', got %s", i, bad[i].err, adm_last_error());
    }
    adm_tensors_free(&s);
    remove(zp);
    char p[512];
    CHECK(adm_inception_load(&z, &cl, test_path(p, sizeof p, "reference/classifier_a/model.pt")) != 0 &&
          strstr(adm_last_error(), "not pytorch-fid's FID Inception weights"), "a classifier: %s", adm_last_error());
    CHECK(adm_inception_load(&z, &cl, "/nonexistent/inception.pth") != 0 && strstr(adm_last_error(), "/nonexistent"),
          "%s", adm_last_error());
    uint8_t img[12] = {0};
    CHECK(adm_inception_features(net, img, 1, 2, 2, 2, NULL, NULL, NULL) != 0 && strstr(adm_last_error(), "C = 1 or 3"),
          "two channels: %s", adm_last_error());
}

int main(void) {
    const char *dev = test_device();
    cl_ok = adm_cl_open(&cl, dev, 0) == 0;
    if (!cl_ok && dev && *dev) {
        printf("  ADMD_TEST_DEVICE=%s: %s\nFAIL test_device\n", dev, adm_last_error());
        return 1;
    }
    if (!cl_ok) printf("  no device: %s\n", adm_last_error());
    RUN(test_preprocess_host);
    RUN(test_conv_pool_host);
    RUN(test_load_reference);
    RUN(test_block_outputs);
    RUN(test_reference_features);
    RUN(test_gray_and_large);
    RUN(test_batch_invariance);
    RUN(test_zip_without_num_batches_tracked);
    RUN(test_bad_weights);
    adm_inception_free(net);
    if (weights[0]) { remove(weights); rmdir(tmpdir); }
    if (cl_ok) { adm_ops_release(&cl); adm_cl_close(&cl); }
    CHECK_EXIT();
}
