/* test_step.c — the device-resident sampler (model/sampler_dev.c) against
 * the host loop (model/sampler.c) through adm_generate_batch, switched by
 * ADMD_STEP: the same seed gives the same float bits, for DDPM and DDIM,
 * guided (unet_a + classifier_a, learned variance) and unguided (unet_c,
 * fixed variance), with Philox noise and with recorded noise (replay);
 * image k still depends only on (seed, k); and per step nothing of image
 * size crosses between host and device (counted by adm_cl_read/write).
 * The per-step kernel equality over every reference trajectory is in
 * test_sampler.c. */
#include "check.h"
#include "cl_runtime.h"
#include "generate.h"
#include "npy.h"
#include "tensor.h"
#include "util.h"
#include <stdlib.h>

static adm_cl g_cl;
static int g_cl_ok;

static int open_device(void) {
    if (g_cl_ok) return 0;
    if (adm_cl_open(&g_cl, test_device(), 0)) return -1;
    g_cl_ok = 1;
    return 0;
}

static adm_model *load(const char *unet, const char *clf) {
    char p1[512], p2[512], p3[512], p4[512], r[128];
    snprintf(r, sizeof r, "reference/%s/model.pt", unet);
    test_path(p1, sizeof p1, r);
    snprintf(r, sizeof r, "reference/%s/config.txt", unet);
    test_path(p2, sizeof p2, r);
    if (clf) {
        snprintf(r, sizeof r, "reference/%s/model.pt", clf);
        test_path(p3, sizeof p3, r);
        snprintf(r, sizeof r, "reference/%s/config.txt", clf);
        test_path(p4, sizeof p4, r);
    }
    adm_model_spec spec = {p1, p2, clf ? p3 : NULL, clf ? p4 : NULL};
    return open_device() ? NULL : adm_model_load(&g_cl, &spec);
}

typedef struct { unsigned long long to_host, to_device; } traffic;

/* One pass of images first..first+B-1 (x_T and classes from the seed) with
 * ADMD_STEP=mode; x gets the final floats; *tr the bytes moved. */
static int run(adm_model *m, const char *mode, const char *sampler, const char *respacing, double eta, double scale,
               int first, int B, const float *noise, int noise_steps, float *x, traffic *tr) {
    adm_model_info info;
    adm_model_get_info(m, &info);
    size_t per = (size_t)info.channels * info.image_size * info.image_size;
    int64_t y[8];
    for (int b = 0; b < B; b++) {
        adm_generate_x_T(7, first + b, x + b * per, per);
        y[b] = (first + b) % (info.num_classes > 0 ? info.num_classes : 1);
    }
    setenv("ADMD_STEP", mode, 1);
    adm_gen_request req = {.sampler = sampler, .respacing = respacing, .eta = eta, .scale = scale, .seed = 7,
                           .first_index = first, .count = B};
    unsigned long long h0 = g_cl.bytes_to_host, d0 = g_cl.bytes_to_device;
    int rc = adm_generate_batch(m, &req, info.num_classes > 0 || scale > 0 ? y : NULL, B, x, noise, noise_steps,
                                NULL, NULL);
    if (tr) { tr->to_host = g_cl.bytes_to_host - h0; tr->to_device = g_cl.bytes_to_device - d0; }
    unsetenv("ADMD_STEP");
    return rc;
}

static size_t count_differ(const float *a, const float *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

/* host loop vs device loop: same bits; the device loop's traffic per step */
static void compare_loops(adm_model *m, const char *what, const char *sampler, const char *respacing, double eta,
                          double scale, int steps) {
    enum { B = 2 };
    adm_model_info info;
    adm_model_get_info(m, &info);
    size_t n = (size_t)B * info.channels * info.image_size * info.image_size;
    float *xh = malloc(n * sizeof(float)), *xd = malloc(n * sizeof(float));
    REQUIRE(xh && xd, "oom");
    traffic th, td;
    CHECK(run(m, "host", sampler, respacing, eta, scale, 0, B, NULL, 0, xh, &th) == 0, "%s", adm_last_error());
    CHECK(run(m, "device", sampler, respacing, eta, scale, 0, B, NULL, 0, xd, &td) == 0, "%s", adm_last_error());
    size_t d = count_differ(xh, xd, n);
    /* x_T goes up once and the sample comes down once; per step only t, y, logits */
    double img = n * sizeof(float) / B;
    double per_step_up = ((double)td.to_device - n * 4.0) / steps, per_step_down = ((double)td.to_host - n * 4.0) / steps;
    printf("  %s: %zu of %zu floats differ (device loop vs host loop); bytes per step to the device %.0f, "
           "to the host %.0f (host loop: %.0f and %.0f; one image is %.0f)\n",
           what, d, n, per_step_up, per_step_down, (double)th.to_device / steps, (double)th.to_host / steps, img);
    CHECK(d == 0, "%s: %zu floats differ", what, d);
    CHECK(per_step_up < img && per_step_down < img, "%s: %.0f / %.0f bytes per step cross (an image is %.0f)", what,
          per_step_up, per_step_down, img);
    free(xh); free(xd);
}

static adm_model *g_guided, *g_plain;

static void test_guided_loops_equal(void) {
    if (!g_guided) g_guided = load("unet_a", "classifier_a");
    REQUIRE(g_guided, "%s", adm_last_error());
    compare_loops(g_guided, "ddpm 10 guided", "ddpm", "10", 0, 3.0, 10);
    compare_loops(g_guided, "ddim10 eta 0.5 guided", "ddim", "ddim10", 0.5, 3.0, 10);
}

static void test_unguided_fixed_variance_loops_equal(void) {
    if (!g_plain) g_plain = load("unet_c", NULL);
    REQUIRE(g_plain, "%s", adm_last_error());
    compare_loops(g_plain, "unet_c ddpm 8", "ddpm", "8", 0, 0, 8);
    compare_loops(g_plain, "unet_c ddim8 eta 1", "ddim", "ddim8", 1.0, 0, 8);
}

/* recorded noise (a reference trajectory's) is uploaded step by step: same bits */
static void test_replay_loops_equal(void) {
    if (!g_guided) g_guided = load("unet_a", "classifier_a");
    REQUIRE(g_guided, "%s", adm_last_error());
    char p[512];
    adm_tensor noise;
    REQUIRE(adm_npy_read(test_path(p, sizeof p, "reference/traj_ddim10_eta05_guided/noise.npy"), &noise) == 0, "%s",
            adm_last_error());
    REQUIRE(adm_model_set_diffusion(g_guided, "cosine", 1000) == 0, "%s", adm_last_error());
    int steps = (int)noise.shape[0], B = (int)noise.shape[1];
    size_t n = (size_t)adm_tensor_numel(&noise) / steps;
    float *xh = malloc(n * sizeof(float)), *xd = malloc(n * sizeof(float));
    REQUIRE(xh && xd && B <= 8, "oom");
    CHECK(run(g_guided, "host", "ddim", "ddim10", 0.5, 3.0, 0, B, noise.data, steps, xh, NULL) == 0, "%s", adm_last_error());
    CHECK(run(g_guided, "device", "ddim", "ddim10", 0.5, 3.0, 0, B, noise.data, steps, xd, NULL) == 0, "%s", adm_last_error());
    size_t d = count_differ(xh, xd, n);
    printf("  replayed noise: %zu of %zu floats differ\n", d, n);
    CHECK(d == 0, "replay: %zu floats differ", d);
    free(xh); free(xd);
    adm_tensor_free(&noise);
    adm_model_free(g_guided);
    g_guided = NULL;                  /* the schedule override stays with that model */
}

/* the device loop keeps image k a function of (seed, k) alone */
static void test_device_loop_batch_independent(void) {
    if (!g_guided) g_guided = load("unet_a", "classifier_a");
    REQUIRE(g_guided, "%s", adm_last_error());
    size_t per = 3 * 32 * 32;
    float x3[3 * 3 * 32 * 32], x1[3 * 32 * 32];
    CHECK(run(g_guided, "device", "ddim", "ddim10", 0.5, 3.0, 0, 3, NULL, 0, x3, NULL) == 0, "%s", adm_last_error());
    CHECK(run(g_guided, "device", "ddim", "ddim10", 0.5, 3.0, 2, 1, NULL, 0, x1, NULL) == 0, "%s", adm_last_error());
    size_t d = count_differ(x3 + 2 * per, x1, per);
    printf("  image 2 alone vs in a batch of 3 (device loop): %zu of %zu floats differ\n", d, per);
    CHECK(d == 0, "image 2 depends on its batch");
}

int main(void) {
    RUN(test_guided_loops_equal);
    RUN(test_unguided_fixed_variance_loops_equal);
    RUN(test_replay_loops_equal);
    RUN(test_device_loop_batch_independent);
    adm_model_free(g_guided);
    adm_model_free(g_plain);
    if (g_cl_ok) adm_cl_close(&g_cl);
    CHECK_EXIT();
}
