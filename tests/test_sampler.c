/* test_sampler.c — replay every reference sampling trajectory
 * (tests/data/reference/traj_*: unet_a guided by classifier_a, recorded
 * x_T and per-step noise) through our sampler and networks:
 *   every step's sample within 2e-3 of samples.npy,
 *   final uint8 images identical except at most 0.1% of pixels off by one.
 * Every host step is also run again by the device step kernels
 * (kernels/step.cl) on the same inputs: the bytes must be identical.
 * Also the same through adm_generate_batch (model loading, replay noise),
 * and the step math alone on hand-made inputs. */
#include "check.h"
#include "classifier.h"
#include "cl_runtime.h"
#include "config.h"
#include "generate.h"
#include "npy.h"
#include "ops_step.h"
#include "sampler.h"
#include "schedule.h"
#include "unet.h"
#include "util.h"
#include <dirent.h>

static adm_cl g_cl;
static int g_cl_ok;
static adm_unet *g_unet;
static adm_classifier *g_clf;

static int open_device(void) {
    if (g_cl_ok) return 0;
    if (adm_cl_open(&g_cl, test_device(), 0)) return -1;
    g_cl_ok = 1;
    return 0;
}

static int load_nets(void) {
    if (g_unet && g_clf) return 0;
    if (open_device()) return -1;
    const char *dirs[2] = {"reference/unet_a", "reference/classifier_a"};
    for (int k = 0; k < 2; k++) {
        char p[512], rel[256]; adm_config cfg; adm_tensor_set w;
        adm_kind kind = k ? ADM_KIND_CLASSIFIER : ADM_KIND_UNET;
        adm_config_defaults(&cfg, kind);
        snprintf(rel, sizeof rel, "%s/config.txt", dirs[k]);
        if (adm_config_parse(test_path(p, sizeof p, rel), kind, &cfg)) return -1;
        snprintf(rel, sizeof rel, "%s/model.pt", dirs[k]);
        if (adm_tensors_load(test_path(p, sizeof p, rel), &w)) return -1;
        if (k) g_clf = adm_classifier_load(&g_cl, &cfg, &w);
        else g_unet = adm_unet_load(&g_cl, &cfg, &w);
        adm_tensors_free(&w);
        if (k ? !g_clf : !g_unet) return -1;
    }
    return 0;
}

/* The inputs of the host step being taken (replay_case): x before the
 * step, and the loop's own model output, gradient and noise buffers. */
static struct { float *x; size_t n; const float *out, *grad, *noise; } g_cap;

static int cb_model(void *u, const float *x, const float *t, const int64_t *y, int B, float *out) {
    if (g_cap.x) memcpy(g_cap.x, x, g_cap.n * sizeof(float));
    g_cap.out = out;
    return adm_unet_forward(g_unet, x, t, y, NULL, B, out);
}
static int cb_grad(void *u, const float *x, const float *t, const int64_t *y, int B, float *grad) {
    g_cap.grad = grad;
    return adm_classifier_grad(g_clf, x, t, y, B, NULL, grad);
}

/* A trajectory case: its config and arrays. */
typedef struct {
    char sampler[16], respacing[64], schedule[16], tmap[4096], unet[64], classifier[64];
    double eta, scale;
    int steps;
    adm_tensor x_T, y, noise, samples, final, final_u8;
} traj;

static int traj_load(const char *name, traj *tr) {
    char p[512], rel[256], v[64]; uint8_t *text; size_t len;
    memset(tr, 0, sizeof *tr);
    snprintf(rel, sizeof rel, "reference/%s/config.txt", name);
    if (adm_read_file(test_path(p, sizeof p, rel), &text, &len)) return -1;
    const char *t = (const char *)text;
    int ok = test_kv(t, "sampler", tr->sampler, sizeof tr->sampler) && test_kv(t, "respacing", tr->respacing, sizeof tr->respacing)
          && test_kv(t, "noise_schedule", tr->schedule, sizeof tr->schedule) && test_kv(t, "timestep_map", tr->tmap, sizeof tr->tmap)
          && test_kv(t, "unet", tr->unet, sizeof tr->unet) && test_kv(t, "classifier", tr->classifier, sizeof tr->classifier);
    tr->eta = atof(test_kv(t, "eta", v, sizeof v) ? v : "0");
    tr->scale = atof(test_kv(t, "classifier_scale", v, sizeof v) ? v : "0");
    free(text);
    if (!ok) return adm_error("%s: config.txt lacks a key", name);
    const char *files[6] = {"x_T", "y", "noise", "samples", "final", "final_uint8"};
    adm_tensor *dst[6] = {&tr->x_T, &tr->y, &tr->noise, &tr->samples, &tr->final, &tr->final_u8};
    for (int k = 0; k < 6; k++) {
        snprintf(rel, sizeof rel, "reference/%s/%s.npy", name, files[k]);
        if (adm_npy_read(test_path(p, sizeof p, rel), dst[k])) return -1;
    }
    tr->steps = (int)tr->noise.shape[0];
    return 0;
}

static void traj_free(traj *tr) {
    adm_tensor *t[6] = {&tr->x_T, &tr->y, &tr->noise, &tr->samples, &tr->final, &tr->final_u8};
    for (int k = 0; k < 6; k++) adm_tensor_free(t[k]);
}

typedef struct {
    const traj *tr; size_t n; double worst; int worst_step;
    /* the device step on the captured inputs */
    const adm_schedule *s; const adm_sampler_opts *o; int B, C, H, W;
    cl_mem dev; float *got; size_t dev_differ; int dev_fail;
} step_check;

static int replay_noise(void *user, int step, float *out, size_t n) {
    const traj *tr = user;
    if (step >= tr->steps || n * tr->steps != (size_t)adm_tensor_numel(&tr->noise)) return adm_error("noise shape");
    memcpy(out, (const float *)tr->noise.data + (size_t)step * n, n * sizeof(float));
    g_cap.noise = out;
    return 0;
}

/* The step just taken on the host, again by adm_op_step: x_next's floats
 * that differ in any bit are counted. */
static int device_step_again(step_check *sc, int step, int total, const float *x_next) {
    const size_t n = sc->n, no = n * (sc->o->learn_sigma ? 2 : 1);
    const int guided = sc->o->scale != 0;
    adm_dt xd = adm_dt_make(sc->dev, 0, sc->B, sc->C, sc->H, sc->W), nd = adm_dt_make(sc->dev, n, sc->B, sc->C, sc->H, sc->W);
    adm_dt gd = adm_dt_make(sc->dev, 2 * n, sc->B, sc->C, sc->H, sc->W);
    adm_dt od = adm_dt_make(sc->dev, 3 * n, sc->B, (int)(no / n) * sc->C, sc->H, sc->W);
    float cf[ADM_STEP_COEFS];
    adm_step_coefs(sc->s, sc->o, total - 1 - step, cf);
    if (adm_cl_write(&g_cl, sc->dev, 0, n * sizeof(float), g_cap.x) ||
        adm_cl_write(&g_cl, sc->dev, n * sizeof(float), n * sizeof(float), g_cap.noise) ||
        (guided && adm_cl_write(&g_cl, sc->dev, 2 * n * sizeof(float), n * sizeof(float), g_cap.grad)) ||
        adm_cl_write(&g_cl, sc->dev, 3 * n * sizeof(float), no * sizeof(float), g_cap.out) ||
        adm_op_step(&g_cl, sc->o->kind == ADM_SAMPLER_DDIM, cf, &xd, &od, guided ? &gd : NULL, &nd) ||
        adm_cl_read(&g_cl, sc->dev, 0, n * sizeof(float), sc->got))
        return -1;
    for (size_t i = 0; i < n; i++) sc->dev_differ += memcmp(&sc->got[i], &x_next[i], sizeof(float)) != 0;
    return 0;
}

static int on_step(void *user, int step, int total, const float *x) {
    step_check *sc = user;
    if (sc->dev && !sc->dev_fail && device_step_again(sc, step, total, x)) {
        printf("  device step %d: %s\n", step, adm_last_error());
        sc->dev_fail = 1;
    }
    const float *ref = (const float *)sc->tr->samples.data + (size_t)step * sc->n;
    double e = 0;
    for (size_t i = 0; i < sc->n; i++) { double d = fabs((double)x[i] - ref[i]); if (!(d <= e)) e = d; }
    if (!(e <= sc->worst)) { sc->worst = e; sc->worst_step = step; }
    return 0;
}

/* Compare final float samples and their uint8 images; returns failures. */
static int compare_final(const char *name, const traj *tr, const float *x, double *max_err) {
    size_t n = (size_t)adm_tensor_numel(&tr->final);
    const float *ref = tr->final.data;
    const uint8_t *ref8 = tr->final_u8.data;
    size_t off1 = 0, worse = 0;
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        if (!(d <= e)) e = d;
        int du = abs((int)adm_to_uint8(x[i]) - (int)ref8[i]);
        off1 += du == 1;
        worse += du > 1;
    }
    *max_err = e;
    printf("  %s: final max |err| %.3g, uint8: %zu of %zu pixels off by one, %zu by more\n", name, e, off1, n, worse);
    int ok_u8 = worse == 0 && off1 * 1000 <= n;
    CHECK(e <= 2e-3, "%s final off by %g", name, e);
    CHECK(ok_u8, "%s: uint8 %zu off by one, %zu worse", name, off1, worse);
    return (e > 2e-3) + !ok_u8;
}

static void replay_case(const char *name) {
    traj tr;
    REQUIRE(load_nets() == 0, "%s", adm_last_error());
    REQUIRE(traj_load(name, &tr) == 0, "%s", adm_last_error());
    REQUIRE(!strcmp(tr.unet, "unet_a") && !strcmp(tr.classifier, "classifier_a"),
            "%s: networks %s + %s (this test loads unet_a + classifier_a)", name, tr.unet, tr.classifier);
    adm_schedule s;
    REQUIRE(adm_schedule_build(&s, tr.schedule, 1000, tr.respacing) == 0, "%s", adm_last_error());
    /* the kept timesteps are the recorded ones */
    char got[4096] = "";
    for (int i = 0; i < s.num_steps; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)s.timestep_map[i]);
    CHECK(!strcmp(got, tr.tmap), "%s: timestep_map %s, want %s", name, got, tr.tmap);
    CHECK(s.num_steps == tr.steps, "%d steps, %d recorded", s.num_steps, tr.steps);

    adm_sampler_opts o = {0};
    REQUIRE(adm_sampler_kind_parse(tr.sampler, &o.kind) == 0, "%s", adm_last_error());
    o.learn_sigma = 1; o.var_type = ADM_VAR_LEARNED_RANGE; o.eta = tr.eta; o.scale = tr.scale;
    adm_networks net = {cb_model, cb_grad, NULL};
    int B = (int)tr.x_T.shape[0], C = (int)tr.x_T.shape[1], H = (int)tr.x_T.shape[2], W = (int)tr.x_T.shape[3];
    size_t n = (size_t)adm_tensor_numel(&tr.x_T);
    float *x = malloc(n * sizeof(float));
    REQUIRE(x, "oom");
    memcpy(x, tr.x_T.data, n * sizeof(float));
    step_check sc = {&tr, n, 0, -1, &s, &o, B, C, H, W, adm_cl_alloc(&g_cl, 5 * n * sizeof(float)),
                      malloc(n * sizeof(float)), 0, 0};
    g_cap.x = malloc(n * sizeof(float));
    g_cap.n = n;
    REQUIRE(sc.dev && sc.got && g_cap.x, "%s", adm_last_error());
    double t0 = adm_now();
    int rc = adm_sample_loop(&s, &o, &net, tr.y.data, B, C, H, W, x, replay_noise, &tr, on_step, &sc);
    double secs = adm_now() - t0;
    CHECK(rc == 0, "%s", adm_last_error());
    printf("  %s (%s, %s, eta %g, scale %g, B=%d): %d steps in %.1f s, worst step max |err| %.3g (step %d); "
           "device step kernels: %zu of %zu floats differ from the host step\n",
           name, tr.sampler, tr.respacing, tr.eta, tr.scale, B, tr.steps, secs, sc.worst, sc.worst_step,
           sc.dev_differ, n * tr.steps);
    CHECK(sc.worst <= 2e-3, "%s: a step is off by %g", name, sc.worst);
    CHECK(!sc.dev_fail && sc.dev_differ == 0, "%s: the device step differs from the host step in %zu floats",
          name, sc.dev_differ);
    clReleaseMemObject(sc.dev);
    free(sc.got);
    free(g_cap.x);
    g_cap.x = NULL;
    double e;
    if (rc == 0) compare_final(name, &tr, x, &e);
    free(x);
    adm_schedule_free(&s);
    traj_free(&tr);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every reference/traj_* folder of DDPM/DDIM (recorded noise), in name
 * order; the DPM-Solver ones (traj_dpm*, traj_mnist_dpm*) are test_dpm_solver's,
 * the super-resolution ones (traj_superres*) test_superres's. */
static void test_replay_all_trajectories(void) {
    char p[512];
    DIR *d = opendir(test_path(p, sizeof p, "reference"));
    REQUIRE(d, "cannot list %s", p);
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 64;)
        if (!strncmp(e->d_name, "traj_", 5) && strncmp(e->d_name, "traj_dpm", 8) && strncmp(e->d_name, "traj_mnist_dpm", 14) &&
            strncmp(e->d_name, "traj_superres", 13))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    CHECK(n >= 4, "only %d trajectories found", n);
    for (int i = 0; i < n; i++) { replay_case(names[i]); free(names[i]); }
}

/* unet_a guided by classifier_a (the models of every traj_* case), loaded through generate.h. */
static adm_model *load_reference_model(void) {
    char p1[512], p2[512], p3[512], p4[512];
    adm_model_spec spec = {test_path(p1, sizeof p1, "reference/unet_a/model.pt"),
                           test_path(p2, sizeof p2, "reference/unet_a/config.txt"),
                           test_path(p3, sizeof p3, "reference/classifier_a/model.pt"),
                           test_path(p4, sizeof p4, "reference/classifier_a/config.txt")};
    return adm_model_load(&g_cl, &spec);
}

/* The same through generate.h: model loading, schedule override, replay. */
static void test_generate_batch_replay(void) {
    traj tr;
    REQUIRE(open_device() == 0, "%s", adm_last_error());
    REQUIRE(traj_load("traj_ddim10_eta05_guided", &tr) == 0, "%s", adm_last_error());
    adm_model *m = load_reference_model();
    REQUIRE(m, "%s", adm_last_error());
    REQUIRE(adm_model_set_diffusion(m, tr.schedule, 1000) == 0, "%s", adm_last_error());
    adm_model_info info;
    adm_model_get_info(m, &info);
    CHECK(info.channels == 3 && info.image_size == 32 && info.num_classes == 10 && info.has_classifier, "info");
    adm_gen_request req = {.sampler = tr.sampler, .respacing = tr.respacing, .eta = tr.eta, .scale = tr.scale};
    int B = (int)tr.x_T.shape[0];
    size_t n = (size_t)adm_tensor_numel(&tr.x_T);
    float *x = malloc(n * sizeof(float));
    REQUIRE(x, "oom");
    memcpy(x, tr.x_T.data, n * sizeof(float));
    int rc = adm_generate_batch(m, &req, tr.y.data, B, x, tr.noise.data, tr.steps, NULL, NULL);
    CHECK(rc == 0, "%s", adm_last_error());
    double e;
    if (rc == 0) compare_final("generate_batch", &tr, x, &e);
    /* a wrong step count of recorded noise is refused */
    CHECK(adm_generate_batch(m, &req, tr.y.data, B, x, tr.noise.data, tr.steps - 1, NULL, NULL) == -1, "short noise accepted");
    free(x);
    adm_model_free(m);
    traj_free(&tr);
}

/* adm_generate: image k depends only on (seed, k): images 0..2 in one pass
 * vs image 2 alone; classes drawn from (seed, k); callbacks; stopping. */
typedef struct { int steps, images, stop_at, classes[8]; uint8_t px[8][32 * 32 * 3]; } gen_log;

static int gen_step(void *user, int step, int total, int done, int all) {
    gen_log *g = user;
    g->steps++;
    return g->stop_at && g->steps >= g->stop_at;
}
static int gen_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    gen_log *g = user;
    if (index < 0 || index >= 8 || h * w * c != 32 * 32 * 3) return adm_error("unexpected image %d (%dx%dx%d)", index, h, w, c);
    memcpy(g->px[index], px, (size_t)h * w * c);
    g->classes[index] = klass;
    g->images++;
    return 0;
}
static int gen_image_fail(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    return adm_error("disk full (test)");
}

static void test_generate_batch_independence(void) {
    REQUIRE(open_device() == 0, "%s", adm_last_error());
    adm_model *m = load_reference_model();
    REQUIRE(m, "%s", adm_last_error());
    static gen_log a, b;
    memset(&a, 0, sizeof a); memset(&b, 0, sizeof b);
    int classes[3] = {4, -1, 7};
    adm_gen_request req = {.sampler = "ddim", .respacing = "ddim10", .eta = 0.5, .scale = 2.0, .seed = 42,
                           .first_index = 0, .count = 3, .classes = classes, .batch = 3};
    REQUIRE(adm_generate(m, &req, gen_step, gen_image, &a) == 0, "%s", adm_last_error());
    CHECK(a.images == 3 && a.steps == 10, "%d images, %d step callbacks", a.images, a.steps);
    CHECK(a.classes[0] == 4 && a.classes[2] == 7, "classes %d %d", a.classes[0], a.classes[2]);
    CHECK(a.classes[1] >= 0 && a.classes[1] < 10, "drawn class %d", a.classes[1]);
    /* image 2 alone, then image 1 alone (its class drawn again from (seed, 1)) */
    req.first_index = 2; req.count = 1; req.batch = 1; req.classes = classes + 2;
    REQUIRE(adm_generate(m, &req, gen_step, gen_image, &b) == 0, "%s", adm_last_error());
    req.first_index = 1; req.classes = NULL;
    REQUIRE(adm_generate(m, &req, gen_step, gen_image, &b) == 0, "%s", adm_last_error());
    CHECK(b.classes[1] == a.classes[1], "drawn class %d alone, %d in the batch", b.classes[1], a.classes[1]);
    for (int k = 1; k <= 2; k++) {
        int diff = 0, worst = 0;
        for (int i = 0; i < 32 * 32 * 3; i++) {
            int d = abs((int)a.px[k][i] - (int)b.px[k][i]);
            diff += d != 0;
            if (d > worst) worst = d;
        }
        printf("  image %d alone vs in a batch of 3: %d of %d pixels differ (max %d)\n", k, diff, 32 * 32 * 3, worst);
        CHECK(diff == 0, "image %d depends on its batch: %d pixels differ", k, diff);
    }
    /* the step callback stops the job; an image callback's error fails it */
    memset(&b, 0, sizeof b);
    b.stop_at = 3;
    req.first_index = 0; req.count = 2; req.batch = 1;
    CHECK(adm_generate(m, &req, gen_step, gen_image, &b) == 1 && b.steps == 3 && b.images == 0, "stop: %d steps %d images", b.steps, b.images);
    CHECK(adm_generate(m, &req, NULL, gen_image_fail, NULL) == -1 && strstr(adm_last_error(), "disk full"), "%s", adm_last_error());
    /* bad requests */
    req.scale = -1;
    CHECK(adm_generate(m, &req, NULL, NULL, NULL) == -1, "negative scale accepted");
    req.scale = 0; req.respacing = "ddim7x";
    CHECK(adm_generate(m, &req, NULL, NULL, NULL) == -1 && strstr(adm_last_error(), "ddim7x"), "%s", adm_last_error());
    req.respacing = "ddim10"; req.sampler = "euler";
    CHECK(adm_generate(m, &req, NULL, NULL, NULL) == -1, "unknown sampler accepted");
    int bad_class = 10;
    req.sampler = "ddim"; req.classes = &bad_class; req.count = 1;
    CHECK(adm_generate(m, &req, NULL, NULL, NULL) == -1, "class 10 of 10 accepted");
    adm_model_free(m);
}

/* An unconditional model without learned sigma (unet_c: FIXED_LARGE
 * variance), no classifier: images come out with class -1; guidance is
 * refused without a classifier. */
static int uncond_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    int *seen = user;
    if (klass != -1) return adm_error("unconditional image %d has class %d", index, klass);
    long sum = 0;
    for (int i = 0; i < h * w * c; i++) sum += px[i];
    if (sum == 0 || sum == 255L * h * w * c) return adm_error("image %d is flat", index);
    (*seen)++;
    return 0;
}

static void test_generate_unconditional_fixed_variance(void) {
    REQUIRE(open_device() == 0, "%s", adm_last_error());
    char p1[512], p2[512];
    adm_model_spec spec = {test_path(p1, sizeof p1, "reference/unet_c/model.pt"),
                           test_path(p2, sizeof p2, "reference/unet_c/config.txt"), NULL, NULL};
    adm_model *m = adm_model_load(&g_cl, &spec);
    REQUIRE(m, "%s", adm_last_error());
    adm_model_info info;
    adm_model_get_info(m, &info);
    CHECK(info.num_classes == 0 && !info.has_classifier, "classes %d", info.num_classes);
    int seen = 0;
    adm_gen_request req = {.sampler = "ddpm", .respacing = "10", .seed = 3, .count = 2};
    CHECK(adm_generate(m, &req, NULL, uncond_image, &seen) == 0 && seen == 2, "%s (%d images)", adm_last_error(), seen);
    req.sampler = "ddim";
    seen = 0;
    CHECK(adm_generate(m, &req, NULL, uncond_image, &seen) == 0 && seen == 2, "%s (%d images)", adm_last_error(), seen);
    req.scale = 1;
    CHECK(adm_generate(m, &req, NULL, NULL, NULL) == -1 && strstr(adm_last_error(), "classifier"), "%s", adm_last_error());
    adm_model_free(m);
}

/* Step math on hand-made numbers (no device): DDIM eta 0 unguided with a
 * model predicting the true eps recovers x0 exactly in one step to t=0. */
static void test_step_math(void) {
    adm_schedule s;
    REQUIRE(adm_schedule_build(&s, "cosine", 1000, "ddim10") == 0, "%s", adm_last_error());
    adm_sampler_opts o = {ADM_SAMPLER_DDIM, ADM_VAR_LEARNED_RANGE, 1, 0.0, 0.0};
    float x0[4] = {0.5f, -0.25f, 0.9f, 0.0f}, eps[4] = {1.0f, -0.5f, 0.3f, 2.0f}, x[4], out[8], xn[4], noise[4] = {0};
    int i = 3;
    float sa = (float)sqrt(s.alphas_cumprod[i]), sb = (float)sqrt(1 - s.alphas_cumprod[i]);
    for (int k = 0; k < 4; k++) { x[k] = sa * x0[k] + sb * eps[k]; out[k] = eps[k]; out[4 + k] = 0; }
    adm_ddim_step(&s, &o, i, x, out, NULL, noise, 1, 1, 4, xn);
    float sp = (float)sqrt(s.alphas_cumprod_prev[i]), sq = (float)sqrt(1 - s.alphas_cumprod_prev[i]);
    for (int k = 0; k < 4; k++)
        CHECK(fabsf(xn[k] - (sp * x0[k] + sq * eps[k])) < 1e-5f, "ddim x[%d] = %g", k, xn[k]);
    /* DDPM at t = 0: no noise, x0 prediction clipped to [-1, 1] */
    o.kind = ADM_SAMPLER_DDPM;
    float big[4] = {5, 5, 5, 5}, noise1[4] = {1, 1, 1, 1};
    adm_ddpm_step(&s, &o, 0, big, out, NULL, noise1, 1, 1, 4, xn);
    for (int k = 0; k < 4; k++) CHECK(xn[k] <= 1.0f + 1e-6f, "t=0 step gave %g", xn[k]);
    /* the uint8 rule */
    CHECK(adm_to_uint8(-1.0f) == 0 && adm_to_uint8(1.0f) == 255 && adm_to_uint8(0.0f) == 127 && adm_to_uint8(2.0f) == 255
          && adm_to_uint8(-3.0f) == 0, "uint8 rule");
    adm_sampler_kind k;
    CHECK(adm_sampler_kind_parse("plms", &k) == -1 && strstr(adm_last_error(), "plms"), "unknown sampler");
    adm_schedule_free(&s);
}

int main(void) {
    RUN(test_step_math);
    RUN(test_replay_all_trajectories);
    RUN(test_generate_batch_replay);
    RUN(test_generate_batch_independence);
    RUN(test_generate_unconditional_fixed_variance);
    if (g_unet) adm_unet_free(g_unet);
    if (g_clf) adm_classifier_free(g_clf);
    if (g_cl_ok) adm_cl_close(&g_cl);
    CHECK_EXIT();
}
