/* test_superres.c — super-resolution sampling (the ADM-U upsamplers) against
 * the reference: tests/data/reference/traj_superres_ddim10 (superres_a,
 * DDIM 10 steps, eta 0, recorded x_T and noise, low_res = u8/127.5 - 1)
 * replayed through adm_sample_loop (every step within 2e-3 of samples.npy)
 * and through generate.h (adm_generate_batch), final within 2e-3 and the
 * uint8 images equal except isolated off-by-one pixels; then the Philox
 * side of a two-stage job: stage 2's noise stream differs from stage 1's,
 * and an image of stage 2 sampled alone equals the same image in a batch. */
#include "check.h"
#include "cl_runtime.h"
#include "config.h"
#include "generate.h"
#include "npy.h"
#include "philox.h"
#include "sampler.h"
#include "schedule.h"
#include "unet.h"
#include "util.h"

static adm_cl g_cl;
static int g_cl_ok;

static int open_device(void) {
    if (g_cl_ok) return 0;
    if (adm_cl_open(&g_cl, test_device(), 0)) return -1;
    g_cl_ok = 1;
    return 0;
}

#define CASE "reference/traj_superres_ddim10/"
typedef struct { adm_tensor x_T, y, noise, samples, final, final_u8, low, low_u8; } traj;

static int traj_load(traj *tr) {
    const char *files[8] = {"x_T", "y", "noise", "samples", "final", "final_uint8", "low_res", "low_res_uint8"};
    adm_tensor *dst[8] = {&tr->x_T, &tr->y, &tr->noise, &tr->samples, &tr->final, &tr->final_u8, &tr->low, &tr->low_u8};
    memset(tr, 0, sizeof *tr);
    for (int k = 0; k < 8; k++) {
        char p[512], rel[256];
        snprintf(rel, sizeof rel, CASE "%s.npy", files[k]);
        if (adm_npy_read(test_path(p, sizeof p, rel), dst[k])) return -1;
    }
    return 0;
}
static void traj_free(traj *tr) {
    adm_tensor *t[8] = {&tr->x_T, &tr->y, &tr->noise, &tr->samples, &tr->final, &tr->final_u8, &tr->low, &tr->low_u8};
    for (int k = 0; k < 8; k++) adm_tensor_free(t[k]);
}

static adm_model *load_superres(void) {
    char p1[512], p2[512];
    adm_model_spec spec = {test_path(p1, sizeof p1, "reference/superres_a/model.pt"),
                           test_path(p2, sizeof p2, "reference/superres_a/config.txt"), NULL, NULL};
    adm_model *m = adm_model_load(&g_cl, &spec);
    if (m && adm_model_set_diffusion(m, "cosine", 1000)) { adm_model_free(m); return NULL; }
    return m;
}

/* low_res [B, C, h, h] from the uint8 NCHW file, by adm_low_res_from_u8 (HWC in) */
static float *low_from_u8(const traj *tr) {
    int B = (int)tr->low_u8.shape[0], C = (int)tr->low_u8.shape[1], h = (int)tr->low_u8.shape[2];
    size_t per = (size_t)C * h * h;
    float *out = malloc(per * B * sizeof(float));
    uint8_t *hwc = malloc(per);
    if (!out || !hwc) { free(out); free(hwc); return NULL; }
    for (int b = 0; b < B; b++) {
        const uint8_t *src = (const uint8_t *)tr->low_u8.data + per * b;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < h * h; i++) hwc[(size_t)i * C + c] = src[(size_t)c * h * h + i];
        adm_low_res_from_u8(hwc, h, h, C, out + per * b);
    }
    free(hwc);
    return out;
}

static int compare_final(const char *name, const traj *tr, const float *x) {
    size_t n = (size_t)adm_tensor_numel(&tr->final), off1 = 0, worse = 0;
    const float *ref = tr->final.data;
    const uint8_t *ref8 = tr->final_u8.data;
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        if (!(d <= e)) e = d;
        int du = abs((int)adm_to_uint8(x[i]) - (int)ref8[i]);
        off1 += du == 1;
        worse += du > 1;
    }
    printf("  %s: final max |err| %.3g, uint8: %zu of %zu pixels off by one, %zu by more\n", name, e, off1, n, worse);
    CHECK(e <= 2e-3, "%s: final off by %g", name, e);
    CHECK(worse == 0 && off1 * 1000 <= n, "%s: uint8 %zu off by one, %zu worse", name, off1, worse);
    return 0;
}

/* The model's input is exactly u8/127.5 - 1 (the reference's low_res.npy). */
static void test_low_res_rule(void) {
    traj tr;
    REQUIRE(traj_load(&tr) == 0, "%s", adm_last_error());
    float *low = low_from_u8(&tr);
    REQUIRE(low, "oom");
    size_t n = (size_t)adm_tensor_numel(&tr.low), differ = 0;
    for (size_t i = 0; i < n; i++) differ += memcmp(&low[i], (const float *)tr.low.data + i, sizeof(float)) != 0;
    CHECK(differ == 0, "%zu of %zu low_res floats differ from low_res.npy", differ, n);
    free(low);
    traj_free(&tr);
}

/* ---- every step, through the host sampling loop ---- */
typedef struct { adm_unet *u; const float *low; int low_size; const traj *tr; size_t n; double worst; int worst_step; } loop_ctx;

static int cb_model(void *user, const float *x, const float *t, const int64_t *y, int B, float *out) {
    loop_ctx *c = user;
    return adm_unet_forward_sized(c->u, B, 32, 32, x, t, y, c->low, c->low_size, c->low_size, out);
}
static int cb_noise(void *user, int step, float *out, size_t n) {
    loop_ctx *c = user;
    memcpy(out, (const float *)c->tr->noise.data + (size_t)step * n, n * sizeof(float));
    return 0;
}
static int cb_step(void *user, int step, int total, const float *x) {
    loop_ctx *c = user;
    const float *ref = (const float *)c->tr->samples.data + (size_t)step * c->n;
    double e = 0;
    for (size_t i = 0; i < c->n; i++) { double d = fabs((double)x[i] - ref[i]); if (!(d <= e)) e = d; }
    if (!(e <= c->worst)) { c->worst = e; c->worst_step = step; }
    return 0;
}

static void test_replay_steps(void) {
    traj tr;
    REQUIRE(open_device() == 0, "%s", adm_last_error());
    REQUIRE(traj_load(&tr) == 0, "%s", adm_last_error());
    char p[512]; adm_config cfg; adm_tensor_set w;
    adm_config_defaults(&cfg, ADM_KIND_SUPERRES);
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/superres_a/config.txt"), ADM_KIND_UNET, &cfg) == 0, "%s", adm_last_error());
    REQUIRE(cfg.kind == ADM_KIND_SUPERRES, "superres_a is not a SuperResModel config");
    REQUIRE(adm_tensors_load(test_path(p, sizeof p, "reference/superres_a/model.pt"), &w) == 0, "%s", adm_last_error());
    adm_unet *u = adm_unet_load(&g_cl, &cfg, &w);
    adm_tensors_free(&w);
    REQUIRE(u, "%s", adm_last_error());
    adm_schedule s;
    REQUIRE(adm_schedule_build(&s, "cosine", 1000, "ddim10") == 0, "%s", adm_last_error());
    adm_sampler_opts o = {0};
    o.kind = ADM_SAMPLER_DDIM; o.learn_sigma = 1; o.var_type = ADM_VAR_LEARNED_RANGE;
    int B = (int)tr.x_T.shape[0], C = (int)tr.x_T.shape[1], H = (int)tr.x_T.shape[2];
    size_t n = (size_t)adm_tensor_numel(&tr.x_T);
    loop_ctx c = {u, tr.low.data, (int)tr.low.shape[2], &tr, n, 0, -1};
    adm_networks net = {cb_model, NULL, &c};
    float *x = malloc(n * sizeof(float));
    REQUIRE(x, "oom");
    memcpy(x, tr.x_T.data, n * sizeof(float));
    int rc = adm_sample_loop(&s, &o, &net, tr.y.data, B, C, H, H, x, cb_noise, &c, cb_step, &c);
    CHECK(rc == 0, "%s", adm_last_error());
    printf("  traj_superres_ddim10 (B=%d, %dx%d from %dx%d): worst step max |err| %.3g (step %d)\n", B, H, H,
           c.low_size, c.low_size, c.worst, c.worst_step);
    CHECK(c.worst <= 2e-3, "a step is off by %g", c.worst);
    if (rc == 0) compare_final("sample_loop", &tr, x);
    free(x);
    adm_schedule_free(&s);
    adm_unet_free(u);
    traj_free(&tr);
}

/* ---- through generate.h, low_res made from the uint8 images ---- */
static void test_generate_batch_replay(void) {
    traj tr;
    REQUIRE(open_device() == 0, "%s", adm_last_error());
    REQUIRE(traj_load(&tr) == 0, "%s", adm_last_error());
    adm_model *m = load_superres();
    REQUIRE(m, "%s", adm_last_error());
    adm_model_info info;
    adm_model_get_info(m, &info);
    CHECK(info.superres && info.image_size == 32 && info.num_classes == 10 && !info.has_classifier, "info");
    float *low = low_from_u8(&tr);
    int B = (int)tr.x_T.shape[0];
    size_t n = (size_t)adm_tensor_numel(&tr.x_T);
    float *x = malloc(n * sizeof(float));
    REQUIRE(x && low, "oom");
    memcpy(x, tr.x_T.data, n * sizeof(float));
    adm_gen_request req = {.sampler = "ddim", .respacing = "ddim10", .low_res = low, .low_size = (int)tr.low_u8.shape[2]};
    int rc = adm_generate_batch(m, &req, tr.y.data, B, x, tr.noise.data, (int)tr.noise.shape[0], NULL, NULL);
    CHECK(rc == 0, "%s", adm_last_error());
    if (rc == 0) compare_final("generate_batch", &tr, x);
    /* refused: no low_res; guidance (no classifier) */
    req.low_res = NULL;
    CHECK(adm_generate_batch(m, &req, tr.y.data, B, x, tr.noise.data, (int)tr.noise.shape[0], NULL, NULL) == -1 &&
          strstr(adm_last_error(), "low-resolution"), "no low_res accepted: %s", adm_last_error());
    req.low_res = low; req.scale = 1;
    CHECK(adm_generate_batch(m, &req, tr.y.data, B, x, tr.noise.data, (int)tr.noise.shape[0], NULL, NULL) == -1,
          "guidance without a classifier accepted");
    free(x);
    free(low);
    adm_model_free(m);
    traj_free(&tr);
}

/* ---- Philox: stage 2's stream, and image independence ---- */
typedef struct { int images; uint8_t px[3][32 * 32 * 3]; int klass[3]; } gen_log;
static int gen_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    gen_log *g = user;
    if (index < 0 || index >= 3 || h * w * c != 32 * 32 * 3) return adm_error("unexpected image %d", index);
    memcpy(g->px[index], px, (size_t)h * w * c);
    g->klass[index] = klass;
    g->images++;
    return 0;
}

static void test_stage_stream(void) {
    float a[64], b[64];
    adm_generate_x_T(9, 1, a, 64);
    adm_generate_x_T_stage(9, 0, 1, b, 64);
    CHECK(!memcmp(a, b, sizeof a), "stage 0 is not the one-stage stream");
    adm_generate_x_T_stage(9, 1, 1, b, 64);
    int same = 0;
    for (int i = 0; i < 64; i++) same += a[i] == b[i];
    CHECK(same < 4, "stage 2's x_T shares %d of 64 values with stage 1's", same);
    float c[64];
    adm_noise_fill(9, 1, ADM_NOISE_SLOT_STAGE(1, ADM_NOISE_SLOT_XT), c, 64);
    CHECK(!memcmp(b, c, sizeof b), "x_T of stage 2 is not slot (1 << 24)");

    REQUIRE(open_device() == 0, "%s", adm_last_error());
    traj tr;
    REQUIRE(traj_load(&tr) == 0, "%s", adm_last_error());
    adm_model *m = load_superres();
    REQUIRE(m, "%s", adm_last_error());
    float *low = low_from_u8(&tr);                     /* 2 images of 16x16 */
    REQUIRE(low, "oom");
    size_t lper = 3 * 16 * 16;
    float low3[3 * 3 * 16 * 16];
    memcpy(low3, low, 2 * lper * sizeof(float));
    memcpy(low3 + 2 * lper, low, lper * sizeof(float));
    int classes[3] = {3, 5, 3};
    static gen_log all, one, st0;
    memset(&all, 0, sizeof all); memset(&one, 0, sizeof one); memset(&st0, 0, sizeof st0);
    adm_gen_request req = {.sampler = "ddpm", .respacing = "5", .seed = 11, .count = 3, .classes = classes, .batch = 3,
                           .low_res = low3, .low_size = 16, .stage = 1};
    REQUIRE(adm_generate(m, &req, NULL, gen_image, &all) == 0, "%s", adm_last_error());
    req.first_index = 2; req.count = 1; req.batch = 1; req.classes = classes + 2; req.low_res = low3 + 2 * lper;
    REQUIRE(adm_generate(m, &req, NULL, gen_image, &one) == 0, "%s", adm_last_error());
    CHECK(all.images == 3 && one.images == 1, "%d, %d images", all.images, one.images);
    CHECK(!memcmp(all.px[2], one.px[2], sizeof all.px[2]), "stage-2 image 2 alone differs from image 2 in a batch of 3");
    CHECK(all.klass[1] == 5, "class %d", all.klass[1]);
    req.stage = 0;
    REQUIRE(adm_generate(m, &req, NULL, gen_image, &st0) == 0, "%s", adm_last_error());
    CHECK(memcmp(st0.px[2], one.px[2], sizeof one.px[2]), "stages 1 and 2 drew the same noise");
    free(low);
    adm_model_free(m);
    traj_free(&tr);
}

int main(void) {
    RUN(test_low_res_rule);
    RUN(test_replay_steps);
    RUN(test_generate_batch_replay);
    RUN(test_stage_stream);
    if (g_cl_ok) adm_cl_close(&g_cl);
    CHECK_EXIT();
}
