/* test_engine.c — the matrix engines and their choice (kernels/ops_engine.c):
 *   every engine (own kernels, im2col + CLBlast SGEMM, CLBlast convgemm)
 *   computes 3x3 / 3x3 stride 2 / 1x1 convolutions within 1e-4 of a
 *   double-precision reference, and image 2 of a batch of 3 bit for bit
 *   as that image alone;
 *   the backend "auto" (the default on GPUs; forced here on PoCL) measures
 *   a new shape once, writes its choice to engine-<key>.tsv in
 *   $ADMD_CACHE_DIR, gives the chosen engine's bits, and later reads the
 *   file instead of measuring (a planted choice is obeyed, a bad line
 *   ignored, another batch size reuses the shape's choice);
 *   unet_a's forward under "auto" matches the PyTorch reference.
 * Device: test_device() (check.h). */
#include "check.h"
#include "cl_runtime.h"
#include "ops.h"
#include "config.h"
#include "npy.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <stdint.h>
#include <unistd.h>

static adm_cl cl;
static int cl_ok;

static uint64_t rng = 0x2545f4914f6cdd1dull;
static void fill(float *v, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(rng >> 40) / (double)(1ull << 23) - 1.0) * scale;
    }
}

typedef struct { int N, Ci, H, W, Co, k, stride; } conv_shape;

static void ref_conv(const float *x, const float *w, const float *b, const conv_shape *s, int OH, int OW, double *y) {
    int pad = s->k / 2;
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Co; co++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double acc = b[co];
                    for (int ci = 0; ci < s->Ci; ci++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                int iy = oy * s->stride + ky - pad, ix = ox * s->stride + kx - pad;
                                if (iy < 0 || iy >= s->H || ix < 0 || ix >= s->W) continue;
                                acc += (double)w[((co * s->Ci + ci) * s->k + ky) * s->k + kx] *
                                       x[((n * s->Ci + ci) * s->H + iy) * s->W + ix];
                            }
                    y[((n * s->Co + co) * OH + oy) * OW + ox] = acc;
                }
}

/* y = conv(x) on the device for images [first, first+N) of x (host data of
 * the whole batch); returns malloc'd output or NULL + adm_error. */
static float *run_conv(const conv_shape *s, const float *x, const float *w, const float *b, int first, int N) {
    int pad = s->k / 2, OH = (s->H + 2 * pad - s->k) / s->stride + 1, OW = (s->W + 2 * pad - s->k) / s->stride + 1;
    size_t nx = (size_t)N * s->Ci * s->H * s->W, nw = (size_t)s->Co * s->Ci * s->k * s->k, ny = (size_t)N * s->Co * OH * OW;
    cl_mem m = adm_cl_alloc(&cl, (nx + nw + s->Co + ny + 3) * sizeof(float));
    float *y = malloc(ny * sizeof(float));
    if (!m || !y) { free(y); if (m) clReleaseMemObject(m); return NULL; }
    /* odd offsets: the engines must honour them */
    adm_dt dx = adm_dt_make(m, 1, N, s->Ci, s->H, s->W), dw = adm_dt_make(m, 2 + nx, s->Co, s->Ci, s->k, s->k);
    adm_dt db = adm_dt_make(m, 2 + nx + nw, 1, s->Co, 1, 1), dy = adm_dt_make(m, 3 + nx + nw + s->Co, N, s->Co, OH, OW);
    int rc = adm_cl_write(&cl, m, sizeof(float), nx * sizeof(float), x + (size_t)first * s->Ci * s->H * s->W) ||
             adm_cl_write(&cl, m, (2 + nx) * sizeof(float), nw * sizeof(float), w) ||
             adm_cl_write(&cl, m, (2 + nx + nw) * sizeof(float), s->Co * sizeof(float), b) ||
             adm_op_conv2d(&cl, &dx, &dw, &db, s->stride, &dy) ||
             adm_cl_read(&cl, m, (3 + nx + nw + s->Co) * sizeof(float), ny * sizeof(float), y);
    clReleaseMemObject(m);
    if (rc) { free(y); return NULL; }
    return y;
}

static const conv_shape shapes[] = {
    {3, 5, 9, 11, 7, 3, 1},     /* 3x3, odd sizes */
    {3, 6, 4, 4, 9, 3, 1},      /* 3x3 narrower than a vector */
    {3, 6, 9, 8, 10, 3, 2},     /* 3x3 stride 2 (Downsample) */
    {3, 13, 5, 7, 21, 1, 1},    /* 1x1 */
};

static void test_engines_agree(void) {
    REQUIRE(cl_ok, "no device");
    const char *backends[] = {"own", "clblast", "convgemm"};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const conv_shape *s = &shapes[si];
        int pad = s->k / 2, OH = (s->H + 2 * pad - s->k) / s->stride + 1, OW = (s->W + 2 * pad - s->k) / s->stride + 1;
        size_t nx = (size_t)s->N * s->Ci * s->H * s->W, nw = (size_t)s->Co * s->Ci * s->k * s->k;
        size_t per = (size_t)s->Co * OH * OW, ny = per * s->N;
        float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float)), *b = malloc(s->Co * sizeof(float));
        double *ref = malloc(ny * sizeof(double));
        REQUIRE(x && w && b && ref, "oom");
        fill(x, nx, 1.0f); fill(w, nw, 1.0f / sqrtf((float)(s->Ci * s->k * s->k))); fill(b, s->Co, 0.5f);
        ref_conv(x, w, b, s, OH, OW, ref);
        for (int e = 0; e < 3; e++) {
            REQUIRE(adm_ops_set_backend(&cl, backends[e]) == 0, "%s", adm_last_error());
            float *all = run_conv(s, x, w, b, 0, s->N), *one = run_conv(s, x, w, b, 2, 1);
            CHECK(all && one, "%s: %s", backends[e], adm_last_error());
            if (!all || !one) { free(all); free(one); continue; }
            double worst = 0;
            for (size_t i = 0; i < ny; i++) {
                double d = fabs(all[i] - ref[i]) / (1 + fabs(ref[i]));
                if (!(d <= worst)) worst = d;
            }
            int same = !memcmp(all + 2 * per, one, per * sizeof(float));
            printf("  %-8s conv%dx%d/s%d N%d %d->%d %dx%d: max error %.2g, image 2 alone %s\n", backends[e], s->k, s->k,
                   s->stride, s->N, s->Ci, s->Co, s->H, s->W, worst, same ? "identical" : "DIFFERS");
            CHECK(worst <= 1e-4, "%s: error %g", backends[e], worst);
            CHECK(same, "%s: image 2 depends on its batch", backends[e]);
            free(all); free(one);
        }
        free(x); free(w); free(b); free(ref);
    }
}

static int read_text(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t len = fread(buf, 1, n - 1, f);
    buf[len] = 0;
    fclose(f);
    return 0;
}

/* the one engine-*.tsv file in dir */
static int table_file(const char *dir, char *path, size_t n) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/engine-*.tsv 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int ok = fgets(path, (int)n, p) != NULL;
    pclose(p);
    if (ok) path[strcspn(path, "\n")] = 0;
    return ok ? 0 : -1;
}

static void test_auto_choice_cached(void) {
    REQUIRE(cl_ok, "no device");
    char dir[] = "/tmp/adm-engine-XXXXXX", path[1300], text[4096], sum[256];
    REQUIRE(mkdtemp(dir), "mkdtemp");
    const char *was = getenv("ADMD_CACHE_DIR");
    char saved[1024] = "";
    if (was) snprintf(saved, sizeof saved, "%s", was);
    setenv("ADMD_CACHE_DIR", dir, 1);
    const conv_shape *s = &shapes[0];
    size_t nx = (size_t)s->N * s->Ci * s->H * s->W, nw = (size_t)s->Co * s->Ci * 9, per = (size_t)s->Co * s->H * s->W;
    float x[3 * 5 * 9 * 11], w[7 * 5 * 9], b[7];
    fill(x, nx, 1.0f); fill(w, nw, 0.15f); fill(b, s->Co, 0.5f);
    float *forced[3];
    const char *names[3] = {"own", "clblast", "convgemm"};
    for (int e = 0; e < 3; e++) {
        adm_ops_set_backend(&cl, names[e]);
        forced[e] = run_conv(s, x, w, b, 0, s->N);
        REQUIRE(forced[e], "%s", adm_last_error());
    }
    /* 1. a new shape is measured and the choice written */
    adm_ops_release(&cl);
    REQUIRE(adm_ops_set_backend(&cl, "auto") == 0, "%s", adm_last_error());
    float *got = run_conv(s, x, w, b, 0, s->N);
    REQUIRE(got, "%s", adm_last_error());
    REQUIRE(table_file(dir, path, sizeof path) == 0, "no engine table written in %s", dir);
    REQUIRE(read_text(path, text, sizeof text) == 0, "cannot read %s", path);
    char shape[96], engine[16];
    float ms[3];
    int fields = sscanf(text, "%95[^\t]\t%15s\t%f\t%f\t%f", shape, engine, &ms[0], &ms[1], &ms[2]);
    printf("  measured: %s", text);
    CHECK(fields == 5 && !strcmp(shape, "conv3x3 5x9x11->7"), "table line '%s'", text);
    CHECK(ms[0] >= 0 && ms[1] >= 0 && ms[2] >= 0, "a candidate was not timed: %s", text);
    int chosen = -1;
    for (int e = 0; e < 3; e++) if (!strcmp(engine, names[e])) chosen = e;
    REQUIRE(chosen >= 0, "engine '%s'", engine);
    CHECK(ms[chosen] <= ms[0] && ms[chosen] <= ms[1] && ms[chosen] <= ms[2], "%s is not the fastest: %s", engine, text);
    CHECK(!memcmp(got, forced[chosen], per * s->N * sizeof(float)), "auto output differs from %s's", engine);
    adm_ops_engine_summary(&cl, sum, sizeof sum);
    printf("  summary: %s\n", sum);
    CHECK(strstr(sum, "auto: 1 shapes"), "summary '%s'", sum);
    free(got);

    /* 2. a planted choice (and a broken line) is read, not measured again */
    FILE *f = fopen(path, "w");
    REQUIRE(f, "cannot write %s", path);
    fprintf(f, "garbage without tabs\nconv3x3 5x9x11->7\tconvgemm\t9.0000\t8.0000\t7.0000\n");
    fclose(f);
    adm_ops_release(&cl);
    adm_ops_set_backend(&cl, "auto");
    got = run_conv(s, x, w, b, 0, s->N);
    float *one = run_conv(s, x, w, b, 2, 1);     /* another batch size: the same shape's choice */
    REQUIRE(got && one, "%s", adm_last_error());
    CHECK(!memcmp(got, forced[2], per * s->N * sizeof(float)), "the planted convgemm choice was not used");
    CHECK(!memcmp(one, forced[2] + 2 * per, per * sizeof(float)), "batch 1 did not reuse the choice");
    adm_ops_engine_summary(&cl, sum, sizeof sum);
    CHECK(strstr(sum, "convgemm 1"), "summary '%s'", sum);
    REQUIRE(read_text(path, text, sizeof text) == 0, "cannot read %s", path);
    CHECK(strstr(text, "\tconvgemm\t9.0000\t8.0000\t7.0000"), "the table was rewritten: %s", text);
    free(got); free(one);
    for (int e = 0; e < 3; e++) free(forced[e]);
    adm_ops_release(&cl);
    unlink(path);
    rmdir(dir);
    if (was) setenv("ADMD_CACHE_DIR", saved, 1); else unsetenv("ADMD_CACHE_DIR");
}

/* unet_a under auto: parity with the reference */
static void test_unet_auto_parity(void) {
    REQUIRE(cl_ok, "no device");
    if (getenv("ADMD_QUICK")) SKIP("ADMD_QUICK set (measuring every shape of a UNet takes minutes on PoCL)");
    char p[512];
    adm_config cfg;
    adm_tensor_set w;
    adm_tensor x, t, y, ref;
    adm_config_defaults(&cfg, ADM_KIND_UNET);
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_a/config.txt"), ADM_KIND_UNET, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(adm_tensors_load(test_path(p, sizeof p, "reference/unet_a/model.pt"), &w) == 0, "%s", adm_last_error());
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/unet_a/x.npy"), &x) == 0 &&
            adm_npy_read(test_path(p, sizeof p, "reference/unet_a/t.npy"), &t) == 0 &&
            adm_npy_read(test_path(p, sizeof p, "reference/unet_a/y.npy"), &y) == 0 &&
            adm_npy_read(test_path(p, sizeof p, "reference/unet_a/out.npy"), &ref) == 0, "%s", adm_last_error());
    adm_ops_set_backend(&cl, "auto");
    adm_unet *u = adm_unet_load(&cl, &cfg, &w);
    adm_tensors_free(&w);
    REQUIRE(u, "%s", adm_last_error());
    int B = (int)x.shape[0];
    size_t n = (size_t)adm_tensor_numel(&ref);
    float *out = malloc(n * sizeof(float));
    float tt[16];
    int64_t yy[16];
    for (int b = 0; b < B && b < 16; b++) { tt[b] = (float)((int64_t *)t.data)[b]; yy[b] = ((int64_t *)y.data)[b]; }
    CHECK(t.dtype == ADM_I64 && y.dtype == ADM_I64 && B <= 16, "reference dtypes");
    CHECK(adm_unet_forward(u, x.data, tt, yy, NULL, B, out) == 0, "%s", adm_last_error());
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(out[i] - ((float *)ref.data)[i]);
        if (!(d <= e)) e = d;
        if (fabs(((float *)ref.data)[i]) > m) m = fabs(((float *)ref.data)[i]);
    }
    char sum[256];
    printf("  unet_a under %s: max |err| %.3g (max |ref| %.3g)\n", adm_ops_engine_summary(&cl, sum, sizeof sum), e, m);
    CHECK(e <= 1e-4, "unet_a under auto off by %g", e);
    free(out);
    adm_unet_free(u);
    adm_tensor_free(&x); adm_tensor_free(&t); adm_tensor_free(&y); adm_tensor_free(&ref);
}

int main(void) {
    cl_ok = adm_cl_open(&cl, test_device(), 0) == 0;
    if (!cl_ok) printf("  device: %s\n", adm_last_error());
    RUN(test_engines_agree);
    RUN(test_auto_choice_cached);
    RUN(test_unet_auto_parity);
    if (cl_ok) adm_cl_close(&cl);
    CHECK_EXIT();
}
