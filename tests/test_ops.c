/* test_ops.c — every op of kernels/ops.h against a plain-C reference (in
 * double) on random data: odd sizes, batch > 1, both attention orders,
 * stride 2, 1x1 and 3x3 convs, fused GroupNorm variants; determinism (same
 * inputs twice -> same bytes); both matrix backends; the program cache;
 * and the error paths (bad shapes, bad device, oversized allocation).
 * Device: env ADMD_TEST_DEVICE (default: the default device).
 */
#include "check.h"
#include "cl_runtime.h"
#include "ops.h"
#include "util.h"
#include <stdint.h>

static adm_cl cl;
static int cl_ok;
static double worst_err;     /* largest scaled error seen (printed at the end) */

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 23) - 1.0);
}
static float *rand_vec(size_t n, float scale) {
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = frand() * scale;
    return v;
}

/* A device tensor holding host data, placed at a non-zero offset to test offsets. */
#define PAD_OFF 5
static adm_dt up(const float *h, int n, int c, int hh, int w) {
    size_t numel = (size_t)n * c * hh * w;
    cl_mem m = adm_cl_alloc(&cl, (numel + PAD_OFF) * sizeof(float));
    if (m && h) adm_cl_write(&cl, m, PAD_OFF * sizeof(float), numel * sizeof(float), h);
    return adm_dt_make(m, PAD_OFF, n, c, hh, w);
}
static adm_dt dev(int n, int c, int hh, int w) {
    adm_dt t = up(NULL, n, c, hh, w);
    float *z = calloc(adm_dt_numel(&t), sizeof(float));
    adm_cl_write(&cl, t.mem, t.off * sizeof(float), adm_dt_numel(&t) * sizeof(float), z);
    free(z);
    return t;
}
static float *down(const adm_dt *t) {
    float *h = malloc(adm_dt_numel(t) * sizeof(float));
    if (adm_cl_read(&cl, t->mem, t->off * sizeof(float), adm_dt_numel(t) * sizeof(float), h)) memset(h, 0, adm_dt_numel(t) * sizeof(float));
    return h;
}
static void drop(adm_dt *t) { if (t->mem) clReleaseMemObject(t->mem); t->mem = NULL; }

/* max over i of |got - ref| / (1 + |ref|), compared with tol */
static int close_to(const char *what, const float *got, const double *ref, size_t n, double tol) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (!(e <= worst)) { worst = e; at = i; }   /* NaN counts as worst */
    }
    printf("  %-34s max scaled error %.2e (n=%zu)\n", what, worst, n);
    if (worst > worst_err) worst_err = worst;
    if (!(worst <= tol)) {
        printf("  %s: element %zu: got %.9g want %.9g\n", what, at, got[at], ref[at]);
        return 0;
    }
    return 1;
}

#define TOL 1e-5

/* ---- host references (double) -------------------------------------------- */

static void ref_conv(const float *x, const float *w, const float *b, int N, int Ci, int H, int W, int Co, int k,
                     int stride, double *y, int OH, int OW) {
    int pad = k / 2;
    for (int n = 0; n < N; n++)
        for (int co = 0; co < Co; co++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double s = b ? b[co] : 0;
                    for (int ci = 0; ci < Ci; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                s += (double)w[((co * Ci + ci) * k + ky) * k + kx] * x[((n * Ci + ci) * H + iy) * W + ix];
                            }
                    y[((n * Co + co) * OH + oy) * OW + ox] = s;
                }
}

static double silu_d(double v) { return v / (1.0 + exp(-v)); }

/* ---- cases ------------------------------------------------------------------- */

static void conv_case(const char *name, int N, int Ci, int H, int W, int Co, int k, int stride, int bias) {
    int pad = k / 2, OH = (H + 2 * pad - k) / stride + 1, OW = (W + 2 * pad - k) / stride + 1;
    float *x = rand_vec((size_t)N * Ci * H * W, 1.0f);
    float *w = rand_vec((size_t)Co * Ci * k * k, 1.0f / sqrtf((float)(Ci * k * k)));
    float *b = rand_vec((size_t)Co, 0.5f);
    adm_dt dx = up(x, N, Ci, H, W), dw = up(w, Co, Ci, k, k), db = up(b, 1, Co, 1, 1), dy = dev(N, Co, OH, OW);
    int rc = adm_op_conv2d(&cl, &dx, &dw, bias ? &db : NULL, stride, &dy);
    CHECK(rc == 0, "%s: %s", name, adm_last_error());
    float *got = down(&dy);
    double *ref = malloc(adm_dt_numel(&dy) * sizeof(double));
    ref_conv(x, w, bias ? b : NULL, N, Ci, H, W, Co, k, stride, ref, OH, OW);
    CHECK(close_to(name, got, ref, adm_dt_numel(&dy), TOL), "%s differs from the reference", name);
    free(x); free(w); free(b); free(got); free(ref);
    drop(&dx); drop(&dw); drop(&db); drop(&dy);
}

static void test_conv3x3(void) {
    if (!cl_ok) SKIP("no device");
    conv_case("conv3x3 N2 5->19 7x9 bias", 2, 5, 7, 9, 19, 3, 1, 1);
    conv_case("conv3x3 N1 64->32 16x16", 1, 64, 16, 16, 32, 3, 1, 0);
    conv_case("conv3x3 N3 3->8 1x1", 3, 3, 1, 1, 8, 3, 1, 1);
    conv_case("conv3x3 N1 33->6 8x8", 1, 33, 8, 8, 6, 3, 1, 1);
    /* wide rows (the row-interleaved kernel on CPUs): full and partial vectors */
    conv_case("conv3x3 N2 7->10 5x37 bias", 2, 7, 5, 37, 10, 3, 1, 1);
    conv_case("conv3x3 N1 16->24 6x64", 1, 16, 6, 64, 24, 3, 1, 0);
    conv_case("conv3x3 N3 3->9 2x32 bias", 3, 3, 2, 32, 9, 3, 1, 1);
    conv_case("conv3x3 N2 5->19 3x20 bias", 2, 5, 3, 20, 19, 3, 1, 1);
}

static void test_conv1x1(void) {
    if (!cl_ok) SKIP("no device");
    conv_case("conv1x1 N2 13->21 5x7 bias", 2, 13, 5, 7, 21, 1, 1, 1);
    conv_case("conv1x1 N1 32->48 8x8", 1, 32, 8, 8, 48, 1, 1, 0);
}

static void test_conv_stride2(void) {
    if (!cl_ok) SKIP("no device");
    conv_case("conv3x3 s2 N2 6->10 9x8 bias", 2, 6, 9, 8, 10, 3, 2, 1);
    conv_case("conv3x3 s2 N1 16->16 8x8", 1, 16, 8, 8, 16, 3, 2, 1);
}

static void gn_case(const char *name, int N, int C, int H, int W, int G, int use_ss, int silu) {
    size_t n = (size_t)N * C * H * W;
    float *x = rand_vec(n, 2.0f), *g = rand_vec(C, 1.0f), *be = rand_vec(C, 1.0f), *ss = rand_vec((size_t)N * 2 * C, 1.0f);
    for (size_t i = 0; i < n; i++) x[i] += 0.7f;      /* non-zero mean */
    adm_dt dx = up(x, N, C, H, W), dg = up(g, 1, C, 1, 1), db = up(be, 1, C, 1, 1), ds = up(ss, N, 2 * C, 1, 1);
    adm_dt dy = dev(N, C, H, W);
    int rc = adm_op_group_norm(&cl, &dx, &dg, &db, G, 1e-5f, use_ss ? &ds : NULL, silu, &dy);
    CHECK(rc == 0, "%s: %s", name, adm_last_error());
    double *ref = malloc(n * sizeof(double));
    int cpg = C / G, HW = H * W;
    for (int b = 0; b < N; b++)
        for (int gi = 0; gi < G; gi++) {
            const float *xs = x + ((size_t)b * C + gi * cpg) * HW;
            double m = 0, v = 0;
            for (int i = 0; i < cpg * HW; i++) m += xs[i];
            m /= cpg * HW;
            for (int i = 0; i < cpg * HW; i++) v += (xs[i] - m) * (xs[i] - m);
            v /= cpg * HW;
            for (int i = 0; i < cpg * HW; i++) {
                int c = gi * cpg + i / HW;
                double o = (xs[i] - m) / sqrt(v + 1e-5) * g[c] + be[c];
                if (use_ss) o = o * (1.0 + ss[(size_t)b * 2 * C + c]) + ss[(size_t)b * 2 * C + C + c];
                if (silu) o = silu_d(o);
                ref[((size_t)b * C + gi * cpg) * HW + i] = o;
            }
        }
    float *got = down(&dy);
    CHECK(close_to(name, got, ref, n, TOL), "%s differs", name);
    free(x); free(g); free(be); free(ss); free(ref); free(got);
    drop(&dx); drop(&dg); drop(&db); drop(&ds); drop(&dy);
}

static void test_group_norm(void) {
    if (!cl_ok) SKIP("no device");
    gn_case("group_norm N2 C64 5x3", 2, 64, 5, 3, 32, 0, 0);
    gn_case("group_norm + silu N3 C96 7x7", 3, 96, 7, 7, 32, 0, 1);
    gn_case("group_norm + scale-shift N2 C64 4x4", 2, 64, 4, 4, 32, 1, 0);
    gn_case("group_norm + scale-shift + silu", 2, 128, 9, 5, 32, 1, 1);
    /* bad groups */
    adm_dt x = dev(1, 30, 2, 2), g = dev(1, 30, 1, 1), y = dev(1, 30, 2, 2);
    CHECK(adm_op_group_norm(&cl, &x, &g, &g, 32, 1e-5f, NULL, 0, &y) == -1, "30 channels in 32 groups accepted");
    printf("  error (expected): %s\n", adm_last_error());
    drop(&x); drop(&g); drop(&y);
}

static void test_elementwise(void) {
    if (!cl_ok) SKIP("no device");
    int N = 2, C = 3, H = 5, W = 7;
    size_t n = (size_t)N * C * H * W;
    float *a = rand_vec(n, 4.0f), *b = rand_vec(n, 1.0f), *v = rand_vec((size_t)N * C, 1.0f);
    adm_dt da = up(a, N, C, H, W), db = up(b, N, C, H, W), dv = up(v, N, C, 1, 1), dy = dev(N, C, H, W);
    double *ref = malloc(n * 2 * sizeof(double));
    float *got;

    CHECK(adm_op_silu(&cl, &da, &dy) == 0, "%s", adm_last_error());
    for (size_t i = 0; i < n; i++) ref[i] = silu_d(a[i]);
    got = down(&dy); CHECK(close_to("silu", got, ref, n, TOL), "silu"); free(got);

    CHECK(adm_op_add(&cl, &da, &db, &dy) == 0, "%s", adm_last_error());
    for (size_t i = 0; i < n; i++) ref[i] = (double)a[i] + b[i];
    got = down(&dy); CHECK(close_to("add", got, ref, n, TOL), "add"); free(got);

    CHECK(adm_op_add_channel(&cl, &dy, &dv) == 0, "%s", adm_last_error());
    for (size_t i = 0; i < n; i++) ref[i] += v[i / (H * W)];
    got = down(&dy); CHECK(close_to("add_channel", got, ref, n, TOL), "add_channel"); free(got);

    CHECK(adm_op_copy(&cl, &db, &dy) == 0, "%s", adm_last_error());
    for (size_t i = 0; i < n; i++) ref[i] = b[i];
    got = down(&dy); CHECK(close_to("copy", got, ref, n, 0), "copy"); free(got);

    /* concat: a [N, 3, H, W] and b viewed as [N, 3, H, W] -> [N, 6, H, W] */
    adm_dt dc = dev(N, 2 * C, H, W);
    CHECK(adm_op_concat(&cl, &da, &db, &dc) == 0, "%s", adm_last_error());
    for (int s = 0; s < N; s++)
        for (int i = 0; i < 2 * C * H * W; i++)
            ref[(size_t)s * 2 * C * H * W + i] = i < C * H * W ? a[(size_t)s * C * H * W + i] : b[(size_t)s * C * H * W + i - C * H * W];
    got = down(&dc); CHECK(close_to("concat", got, ref, 2 * n, 0), "concat"); free(got);
    drop(&dc);

    /* shape errors */
    adm_dt bad = dev(1, 1, 1, 1);
    CHECK(adm_op_add(&cl, &da, &bad, &dy) == -1, "add with mismatched sizes accepted");
    printf("  error (expected): %s\n", adm_last_error());
    drop(&bad);
    free(a); free(b); free(v); free(ref);
    drop(&da); drop(&db); drop(&dv); drop(&dy);
}

static void test_resample(void) {
    if (!cl_ok) SKIP("no device");
    int N = 2, C = 3, H = 7, W = 5;
    size_t n = (size_t)N * C * H * W;
    float *x = rand_vec(n, 1.0f);
    adm_dt dx = up(x, N, C, H, W);
    /* nearest 2x */
    adm_dt du = dev(N, C, 2 * H, 2 * W);
    CHECK(adm_op_upsample_nearest2x(&cl, &dx, &du) == 0, "%s", adm_last_error());
    double *ref = malloc(n * 16 * sizeof(double));
    for (int p = 0; p < N * C; p++)
        for (int y = 0; y < 2 * H; y++)
            for (int xx = 0; xx < 2 * W; xx++) ref[((size_t)p * 2 * H + y) * 2 * W + xx] = x[((size_t)p * H + y / 2) * W + xx / 2];
    float *got = down(&du); CHECK(close_to("upsample_nearest2x", got, ref, adm_dt_numel(&du), 0), "nearest"); free(got);
    /* avg pool 2x2 (odd H drops the last row, as torch) */
    adm_dt dp = dev(N, C, H / 2, W / 2);
    CHECK(adm_op_avgpool2x2(&cl, &dx, &dp) == 0, "%s", adm_last_error());
    for (int p = 0; p < N * C; p++)
        for (int y = 0; y < H / 2; y++)
            for (int xx = 0; xx < W / 2; xx++) {
                const float *s = x + ((size_t)p * H + 2 * y) * W + 2 * xx;
                ref[((size_t)p * (H / 2) + y) * (W / 2) + xx] = ((double)s[0] + s[1] + s[W] + s[W + 1]) / 4;
            }
    got = down(&dp); CHECK(close_to("avgpool2x2", got, ref, adm_dt_numel(&dp), TOL), "avgpool"); free(got);
    /* bilinear, align_corners=False: 7x5 -> 28x20 (x4) and 7x5 -> 11x13 (non-integer) */
    int sizes[2][2] = {{28, 20}, {11, 13}};
    for (int si = 0; si < 2; si++) {
        int OH = sizes[si][0], OW = sizes[si][1];
        adm_dt db = dev(N, C, OH, OW);
        CHECK(adm_op_upsample_bilinear(&cl, &dx, &db) == 0, "%s", adm_last_error());
        for (int p = 0; p < N * C; p++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double sy = (double)H / OH * (oy + 0.5) - 0.5, sx = (double)W / OW * (ox + 0.5) - 0.5;
                    if (sy < 0) sy = 0;
                    if (sx < 0) sx = 0;
                    int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < H - 1), x1 = x0 + (x0 < W - 1);
                    double ly = sy - y0, lx = sx - x0;
                    const float *s = x + (size_t)p * H * W;
                    ref[((size_t)p * OH + oy) * OW + ox] = (1 - ly) * ((1 - lx) * s[y0 * W + x0] + lx * s[y0 * W + x1]) +
                                                           ly * ((1 - lx) * s[y1 * W + x0] + lx * s[y1 * W + x1]);
                }
        got = down(&db);
        CHECK(close_to(si ? "upsample_bilinear 7x5->11x13" : "upsample_bilinear 7x5->28x20", got, ref, adm_dt_numel(&db), TOL),
              "bilinear");
        free(got);
        drop(&db);
    }
    free(x); free(ref);
    drop(&dx); drop(&du); drop(&dp);
}

static void linear_case(const char *name, int N, int I, int O, int bias) {
    float *x = rand_vec((size_t)N * I, 1.0f), *w = rand_vec((size_t)O * I, 0.3f), *b = rand_vec(O, 1.0f);
    adm_dt dx = up(x, N, I, 1, 1), dw = up(w, 1, O, 1, I), db = up(b, 1, O, 1, 1), dy = dev(N, O, 1, 1);
    CHECK(adm_op_linear(&cl, &dx, &dw, bias ? &db : NULL, &dy) == 0, "%s", adm_last_error());
    double *ref = malloc((size_t)N * O * sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double s = bias ? b[o] : 0;
            for (int i = 0; i < I; i++) s += (double)x[n * I + i] * w[o * I + i];
            ref[n * O + o] = s;
        }
    float *got = down(&dy);
    CHECK(close_to(name, got, ref, (size_t)N * O, TOL), "%s", name);
    free(got); free(ref); free(x); free(w); free(b);
    drop(&dx); drop(&dw); drop(&db); drop(&dy);
}

static void test_linear(void) {
    if (!cl_ok) SKIP("no device");
    linear_case("linear N3 37->29 bias", 3, 37, 29, 1);
    linear_case("linear N8 64->40", 8, 64, 40, 0);
    linear_case("linear N11 20->7 bias", 11, 20, 7, 1);     /* 8 + 3 samples */
}

static void test_embeddings(void) {
    if (!cl_ok) SKIP("no device");
    float t[4] = {0, 999, 500, 1};
    int dims[2] = {128, 7};
    for (int di = 0; di < 2; di++) {
        int dim = dims[di], half = dim / 2;
        adm_dt dy = dev(4, dim, 1, 1);
        CHECK(adm_op_timestep_embedding(&cl, t, 4, dim, &dy) == 0, "%s", adm_last_error());
        double ref[4 * 128];
        for (int b = 0; b < 4; b++) {
            for (int i = 0; i < half; i++) {
                /* the reference's args are fp32: t.float() * fp32 freqs */
                float f = expf((float)-log(10000.0) * (float)i / (float)half);
                float a = (float)t[b] * f;
                ref[b * dim + i] = cos((double)a);
                ref[b * dim + half + i] = sin((double)a);
            }
            if (dim % 2) ref[b * dim + dim - 1] = 0;
        }
        float *got = down(&dy);
        CHECK(close_to(di ? "timestep_embedding dim 7" : "timestep_embedding dim 128", got, ref, (size_t)4 * dim, TOL), "temb");
        free(got);
        drop(&dy);
    }
    /* label embedding: y += table[label] */
    int R = 10, D = 16;
    float *tab = rand_vec((size_t)R * D, 1.0f), *y0 = rand_vec((size_t)3 * D, 1.0f);
    adm_dt dt = up(tab, 1, R, 1, D), dy = up(y0, 3, D, 1, 1);
    int64_t lab[3] = {9, 0, 4};
    CHECK(adm_op_embedding_add(&cl, &dt, lab, 3, &dy) == 0, "%s", adm_last_error());
    double ref[3 * 16];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < D; i++) ref[b * D + i] = (double)y0[b * D + i] + tab[lab[b] * D + i];
    float *got = down(&dy);
    CHECK(close_to("embedding_add", got, ref, (size_t)3 * D, TOL), "label emb");
    int64_t bad[3] = {0, 10, 1};
    CHECK(adm_op_embedding_add(&cl, &dt, bad, 3, &dy) == -1, "label 10 of 10 accepted");
    printf("  error (expected): %s\n", adm_last_error());
    free(got); free(tab); free(y0);
    drop(&dt); drop(&dy);
}

static void ref_attention(const float *qkv, int N, int heads, int ch, int T, int legacy, double *out) {
    int C = heads * ch;
    double scale = 1.0 / sqrt(sqrt((double)ch));
    double *w = malloc((size_t)T * T * sizeof(double));
    for (int n = 0; n < N; n++)
        for (int h = 0; h < heads; h++) {
            const float *q, *k, *v;
            if (legacy) { q = qkv + ((size_t)n * heads + h) * 3 * ch * T; k = q + (size_t)ch * T; v = k + (size_t)ch * T; }
            else { q = qkv + (size_t)n * 3 * C * T + (size_t)h * ch * T; k = q + (size_t)C * T; v = k + (size_t)C * T; }
            for (int t = 0; t < T; t++) {
                double mx = -1e300;
                for (int s = 0; s < T; s++) {
                    double d = 0;
                    for (int c = 0; c < ch; c++) d += (q[c * T + t] * scale) * (k[c * T + s] * scale);
                    w[t * T + s] = d;
                    if (d > mx) mx = d;
                }
                double sum = 0;
                for (int s = 0; s < T; s++) { w[t * T + s] = exp(w[t * T + s] - mx); sum += w[t * T + s]; }
                for (int s = 0; s < T; s++) w[t * T + s] /= sum;
            }
            double *o = out + (size_t)n * C * T + (size_t)h * ch * T;
            for (int c = 0; c < ch; c++)
                for (int t = 0; t < T; t++) {
                    double a = 0;
                    for (int s = 0; s < T; s++) a += w[t * T + s] * v[c * T + s];
                    o[c * T + t] = a;
                }
        }
    free(w);
}

static void attn_case(const char *name, int N, int heads, int ch, int H, int W, int legacy) {
    int C = heads * ch, T = H * W;
    float *qkv = rand_vec((size_t)N * 3 * C * T, 2.0f);
    adm_dt dq = up(qkv, N, 3 * C, H, W), dy = dev(N, C, H, W);
    CHECK(adm_op_attention(&cl, &dq, heads, legacy, &dy) == 0, "%s: %s", name, adm_last_error());
    double *ref = malloc(adm_dt_numel(&dy) * sizeof(double));
    ref_attention(qkv, N, heads, ch, T, legacy, ref);
    float *got = down(&dy);
    CHECK(close_to(name, got, ref, adm_dt_numel(&dy), TOL), "%s differs", name);
    free(qkv); free(ref); free(got);
    drop(&dq); drop(&dy);
}

static void test_attention(void) {
    if (!cl_ok) SKIP("no device");
    attn_case("attention legacy N2 H3 ch8 T=35", 2, 3, 8, 5, 7, 1);
    attn_case("attention new N2 H3 ch8 T=35", 2, 3, 8, 5, 7, 0);
    attn_case("attention legacy N1 H2 ch32 T=64", 1, 2, 32, 8, 8, 1);
    attn_case("attention new N3 H4 ch16 T=16", 3, 4, 16, 4, 4, 0);
    /* scores for 2 heads at a time: chunks of 2, 2, 2 of 6 heads (and 5 = 2+2+1 of legacy N1 H5) */
    adm_ops_set_attention_chunk(&cl, 2 * 35 * 35 + 10);
    attn_case("attention new chunked N2 H3 T=35", 2, 3, 8, 5, 7, 0);
    attn_case("attention legacy chunked N1 H5 T=35", 1, 5, 8, 7, 5, 1);
    adm_ops_set_attention_chunk(&cl, 0);
    adm_dt q = dev(1, 10, 2, 2), y = dev(1, 3, 2, 2);
    CHECK(adm_op_attention(&cl, &q, 2, 0, &y) == -1, "10 channels accepted as qkv");
    printf("  error (expected): %s\n", adm_last_error());
    drop(&q); drop(&y);
}

/* Same inputs twice -> identical bytes (conv, GroupNorm, attention). */
static void test_determinism(void) {
    if (!cl_ok) SKIP("no device");
    int N = 2, C = 64, H = 16, W = 16;
    size_t n = (size_t)N * C * H * W;
    float *x = rand_vec(n, 1.0f), *w = rand_vec((size_t)C * C * 9, 0.05f), *g = rand_vec(C, 1.0f);
    float *q = rand_vec((size_t)N * 3 * C * H * W, 1.0f);
    adm_dt dx = up(x, N, C, H, W), dw = up(w, C, C, 3, 3), dg = up(g, 1, C, 1, 1), dq = up(q, N, 3 * C, H, W);
    float *out[2][3];
    for (int r = 0; r < 2; r++) {
        adm_dt y1 = dev(N, C, H, W), y2 = dev(N, C, H, W), y3 = dev(N, C, H, W);
        CHECK(adm_op_conv2d(&cl, &dx, &dw, &dg, 1, &y1) == 0, "%s", adm_last_error());
        CHECK(adm_op_group_norm(&cl, &y1, &dg, &dg, 32, 1e-5f, NULL, 1, &y2) == 0, "%s", adm_last_error());
        CHECK(adm_op_attention(&cl, &dq, 2, 0, &y3) == 0, "%s", adm_last_error());
        out[r][0] = down(&y1); out[r][1] = down(&y2); out[r][2] = down(&y3);
        drop(&y1); drop(&y2); drop(&y3);
    }
    CHECK(!memcmp(out[0][0], out[1][0], n * sizeof(float)), "conv3x3 differs between runs");
    CHECK(!memcmp(out[0][1], out[1][1], n * sizeof(float)), "group_norm differs between runs");
    CHECK(!memcmp(out[0][2], out[1][2], n * sizeof(float)), "attention differs between runs");
    for (int r = 0; r < 2; r++) for (int i = 0; i < 3; i++) free(out[r][i]);
    free(x); free(w); free(g); free(q);
    drop(&dx); drop(&dw); drop(&dg); drop(&dq);
}

/* The other matrix backend (CLBlast on CPUs, own kernels on GPUs) must agree too. */
static void test_other_backend(void) {
    if (!cl_ok) SKIP("no device");
    if (getenv("ADMD_QUICK")) SKIP("ADMD_QUICK set (CLBlast compiles slowly on PoCL)");
    const char *was = adm_ops_backend(&cl), *other = !strcmp(was, "own") ? "clblast" : "own";
    double t0 = adm_now();
    REQUIRE(adm_ops_set_backend(&cl, other) == 0, "%s", adm_last_error());
    printf("  backend %s\n", other);
    conv_case("conv3x3 N2 5->19 7x9 bias", 2, 5, 7, 9, 19, 3, 1, 1);
    conv_case("conv1x1 N2 13->21 5x7 bias", 2, 13, 5, 7, 21, 1, 1, 1);
    conv_case("conv3x3 s2 N2 6->10 9x8 bias", 2, 6, 9, 8, 10, 3, 2, 1);
    attn_case("attention legacy N2 H3 ch8 T=35", 2, 3, 8, 5, 7, 1);
    attn_case("attention new N2 H3 ch8 T=35", 2, 3, 8, 5, 7, 0);
    adm_ops_set_backend(&cl, was);
    printf("  (%.1f s including CLBlast's kernel compilation)\n", adm_now() - t0);
}

static void test_runtime(void) {
    if (!cl_ok) SKIP("no device");
    printf("  device %s (%s), options \"%s\", program %s in %.2f s, sources %.12s...\n", cl.device_name,
           cl.platform_name, cl.build_options, cl.program_from_cache ? "from cache" : "built", cl.build_seconds,
           cl.source_hash);
    CHECK(strlen(cl.source_hash) == 64, "source hash not filled");
    /* a second open must find the cached binary */
    adm_cl c2;
    REQUIRE(adm_cl_open(&c2, test_device(), 0) == 0, "%s", adm_last_error());
    CHECK(c2.program_from_cache, "second open did not use the program cache");
    printf("  reopen: program from cache in %.3f s\n", c2.build_seconds);
    adm_cl_close(&c2);
    /* errors */
    CHECK(adm_cl_open(&c2, "no-such-device-xyz", 0) == -1, "bogus device opened");
    printf("  error (expected): %s\n", adm_last_error());
    CHECK(adm_cl_open(&c2, "7:0", 0) == -1, "platform 7 opened");
    printf("  error (expected): %s\n", adm_last_error());
    cl_mem m = adm_cl_alloc(&cl, (size_t)cl.max_alloc + 4096);
    CHECK(m == NULL && strstr(adm_last_error(), "max allocation"), "oversized allocation: %s", adm_last_error());
    printf("  error (expected): %s\n", adm_last_error());
    CHECK(adm_cl_kernel(&cl, "adm_no_such_kernel") == NULL, "missing kernel found");
    /* a kernel that does not compile: the error names the device and carries the build log */
    CHECK(adm_cl_open_extra(&c2, test_device(), 0, "__kernel void broken(__global float *x) { x[0] = undeclared_thing; }") == -1,
          "a broken kernel built");
    CHECK(strstr(adm_last_error(), "build log") && strstr(adm_last_error(), "undeclared_thing"),
          "build failure without the log: %s", adm_last_error());
    printf("  error (expected, first line): %.*s\n", (int)strcspn(adm_last_error(), "\n"), adm_last_error());
    CHECK(!strcmp(adm_cl_strerror(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES"), "strerror");
}

int main(void) {
    const char *spec = test_device();
    if (adm_cl_open(&cl, spec, 0) == 0) cl_ok = 1;
    else printf("  cannot open device: %s\n", adm_last_error());
    RUN(test_runtime);
    RUN(test_conv3x3);
    RUN(test_conv1x1);
    RUN(test_conv_stride2);
    RUN(test_group_norm);
    RUN(test_elementwise);
    RUN(test_resample);
    RUN(test_linear);
    RUN(test_embeddings);
    RUN(test_attention);
    RUN(test_determinism);
    RUN(test_other_backend);
    printf("  worst scaled error over all ops: %.2e (tolerance %.0e)\n", worst_err, TOL);
    if (cl_ok) adm_cl_close(&cl);
    CHECK_EXIT();
}
