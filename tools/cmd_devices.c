/* cmd_devices.c — `admctl devices`: every OpenCL platform and device
 * (memory, OpenCL version, driver), then a self-test on each device: a
 * GEMM (1x1 convolution) and a UNet block (3x3 conv -> GroupNorm + SiLU ->
 * 3x3 conv + residual) checked against the same computation on the host,
 * reported as PASS/FAIL with the largest error.
 */
#include "admctl.h"
#include "cl_runtime.h"
#include "ops.h"
#include "util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;
static float frand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 40) / (double)(1ull << 23) - 1.0);
}

/* host references in double */
static void host_conv(const float *x, const float *w, const float *b, int C, int O, int H, int W, int k, double *y) {
    int p = k / 2;
    for (int o = 0; o < O; o++)
        for (int yy = 0; yy < H; yy++)
            for (int xx = 0; xx < W; xx++) {
                double s = b ? b[o] : 0;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = yy + ky - p, ix = xx + kx - p;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                s += (double)w[((o * C + c) * k + ky) * k + kx] * x[(c * H + iy) * W + ix];
                        }
                y[(o * H + yy) * W + xx] = s;
            }
}

static void host_gn_silu(const double *x, const float *g, const float *b, int C, int HW, int G, double *y) {
    int cpg = C / G;
    for (int gi = 0; gi < G; gi++) {
        const double *xs = x + (size_t)gi * cpg * HW;
        double m = 0, v = 0;
        for (int i = 0; i < cpg * HW; i++) m += xs[i];
        m /= cpg * HW;
        for (int i = 0; i < cpg * HW; i++) v += (xs[i] - m) * (xs[i] - m);
        v /= cpg * HW;
        for (int i = 0; i < cpg * HW; i++) {
            int c = gi * cpg + i / HW;
            double o = (xs[i] - m) / sqrt(v + 1e-5) * g[c] + b[c];
            y[(size_t)gi * cpg * HW + i] = o / (1 + exp(-o));
        }
    }
}

static double max_err(const float *got, const double *ref, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - ref[i]) / (1 + fabs(ref[i]));
        if (!(e <= w)) w = e;
    }
    return w;
}

/* One device: returns 0 if both checks pass. */
static int self_test(const char *spec) {
    adm_cl cl;
    double t0 = adm_now();
    if (adm_cl_open(&cl, spec, 0)) {
        printf("  device %s: FAIL (cannot open: %s)\n", spec, adm_last_error());
        return -1;
    }
    printf("  device %s: %s — program %s in %.2f s, matrix backend %s\n", spec, cl.device_name,
           cl.program_from_cache ? "loaded from cache" : "compiled", cl.build_seconds, adm_ops_backend(&cl));
    const int C = 64, H = 16, W = 16, HW = H * W, K = 256;
    size_t nx = (size_t)C * HW, nw1 = (size_t)K * C, nw3 = (size_t)C * C * 9;
    size_t total = nx + nw1 + nw3 * 2 + C * 3 + K + (size_t)K * HW;
    float *h = malloc(total * sizeof(float));
    double *r1 = malloc((size_t)K * HW * sizeof(double)), *r2 = malloc(nx * 3 * sizeof(double));
    int rc = -1;
    if (!h || !r1 || !r2) { printf("  out of host memory\n"); goto done; }
    rng_state = 12345;
    for (size_t i = 0; i < total; i++) h[i] = frand();
    float *x = h, *w1 = x + nx, *wa = w1 + nw1, *wb = wa + nw3, *g = wb + nw3, *be = g + C, *b1 = be + C;
    float *ba = b1 + K, *out = ba + C;
    for (size_t i = 0; i < nw1; i++) w1[i] *= 0.125f;          /* ~ 1/sqrt(C) */
    for (size_t i = 0; i < nw3 * 2; i++) wa[i] *= 0.04f;       /* ~ 1/sqrt(9C) */
    cl_mem m = adm_cl_alloc(&cl, total * sizeof(float) * 2);
    if (!m) { printf("  FAIL: %s\n", adm_last_error()); goto done; }
    if (adm_cl_write(&cl, m, 0, total * sizeof(float), h)) { printf("  FAIL: %s\n", adm_last_error()); adm_cl_release(&cl, m); goto done; }
    size_t o_x = 0, o_w1 = nx, o_wa = o_w1 + nw1, o_wb = o_wa + nw3, o_g = o_wb + nw3, o_be = o_g + C;
    size_t o_b1 = o_be + C, o_ba = o_b1 + K, t1 = total, t2 = t1 + nx, t3 = t2 + nx, o_y = t3 + nx;

    /* GEMM: y [K, HW] = w1 [K, C] x [C, HW] + b1 (a 1x1 conv) */
    adm_dt dx = adm_dt_make(m, o_x, 1, C, H, W), dw1 = adm_dt_make(m, o_w1, K, C, 1, 1);
    adm_dt db = adm_dt_make(m, o_b1, 1, K, 1, 1), dy = adm_dt_make(m, o_y, 1, K, H, W);
    double tg = adm_now();
    int ok = adm_op_conv2d(&cl, &dx, &dw1, &db, 1, &dy) == 0 && adm_cl_finish(&cl) == 0;
    tg = adm_now() - tg;
    double e1 = 1e9;
    if (ok && adm_cl_read(&cl, m, o_y * sizeof(float), (size_t)K * HW * sizeof(float), out) == 0) {
        host_conv(x, w1, b1, C, K, H, W, 1, r1);
        e1 = max_err(out, r1, (size_t)K * HW);
    }
    printf("    GEMM %dx%dx%d:                       %s (max error %.1e, %.1f ms)\n", K, HW, C,
           ok && e1 < 1e-5 ? "PASS" : "FAIL", e1, tg * 1e3);
    if (!ok) printf("    %s\n", adm_last_error());

    /* block: h = conv3(x); h = SiLU(GN(h)); y = x + conv3(h) */
    adm_dt dwa = adm_dt_make(m, o_wa, C, C, 3, 3), dwb = adm_dt_make(m, o_wb, C, C, 3, 3);
    adm_dt dba = adm_dt_make(m, o_ba, 1, C, 1, 1), dg = adm_dt_make(m, o_g, 1, C, 1, 1), dbe = adm_dt_make(m, o_be, 1, C, 1, 1);
    adm_dt h1 = adm_dt_make(m, t1, 1, C, H, W), h2 = adm_dt_make(m, t2, 1, C, H, W), h3 = adm_dt_make(m, t3, 1, C, H, W);
    double tb = adm_now();
    int ok2 = adm_op_conv2d(&cl, &dx, &dwa, &dba, 1, &h1) == 0 &&
              adm_op_group_norm(&cl, &h1, &dg, &dbe, 32, 1e-5f, NULL, 1, &h2) == 0 &&
              adm_op_conv2d(&cl, &h2, &dwb, NULL, 1, &h3) == 0 && adm_op_add(&cl, &dx, &h3, &h3) == 0 &&
              adm_cl_finish(&cl) == 0;
    tb = adm_now() - tb;
    double e2 = 1e9;
    if (ok2 && adm_cl_read(&cl, m, t3 * sizeof(float), nx * sizeof(float), out) == 0) {
        double *a = r2, *b = r2 + nx, *c = r2 + 2 * nx;
        host_conv(x, wa, ba, C, C, H, W, 3, a);
        host_gn_silu(a, g, be, C, HW, 32, b);
        /* second conv takes the double GN output rounded to float, as the device sees floats */
        float *bf = malloc(nx * sizeof(float));
        if (bf) {
            for (size_t i = 0; i < nx; i++) bf[i] = (float)b[i];
            host_conv(bf, wb, NULL, C, C, H, W, 3, c);
            for (size_t i = 0; i < nx; i++) c[i] += x[i];
            e2 = max_err(out, c, nx);
            free(bf);
        }
    }
    printf("    block conv3x3-GroupNorm-SiLU-conv3x3+x: %s (max error %.1e, %.1f ms)\n",
           ok2 && e2 < 1e-4 ? "PASS" : "FAIL", e2, tb * 1e3);
    if (!ok2) printf("    %s\n", adm_last_error());
    adm_cl_release(&cl, m);
    rc = ok && ok2 && e1 < 1e-5 && e2 < 1e-4 ? 0 : -1;
    printf("    self-test %s (%.1f s)\n", rc ? "FAIL" : "PASS", adm_now() - t0);
done:
    free(h); free(r1); free(r2);
    adm_cl_close(&cl);
    return rc;
}

int cmd_devices(int argc, char **argv) {
    int no_test = 0;
    for (int i = 1; i < argc; i++) {
        if (admctl_flag(argv, i, "--no-test", &no_test)) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: admctl devices [--no-test]\n"
                   "  list OpenCL platforms and devices, then self-test each (GEMM and a UNet block vs the host)\n");
            return 0;
        }
        return admctl_fail("devices: unknown argument '%s'", argv[i]), ADMCTL_USAGE;
    }
    if (adm_cl_list()) return admctl_fail("%s", adm_last_error());
    if (no_test) return 0;
    printf("self-test:\n");
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS) return ADMCTL_FAIL;
    int failed = 0;
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS) continue;
        for (cl_uint d = 0; d < nd; d++) {
            char spec[32];
            snprintf(spec, sizeof spec, "%u:%u", p, d);
            if (self_test(spec)) failed++;
        }
    }
    return failed ? ADMCTL_FAIL : ADMCTL_OK;
}
