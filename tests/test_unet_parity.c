/* test_unet_parity.c — the UNet and SuperResModel forward passes against the
 * reference data (tests/data/reference/<case>): max |out - ref| <= 1e-4, and
 * every block activation the reference recorded (act/<module>.npy) within
 * 1e-4.  Prints the measured max errors and forward times per case.
 * Runs on the device named by ADMD_TEST_DEVICE (default: the first GPU,
 * else the CPU).  Also: bad inputs give errors, a second forward at the
 * same shape gives the same bytes, and a batch of one matches the batch. */
#include "check.h"
#include "cl_runtime.h"
#include "config.h"
#include "npy.h"
#include "unet.h"
#include "unet_arena.h"
#include "util.h"
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#define TOL 1e-4

static adm_cl cl;
static int cl_ok;

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;                  /* NaN propagates as a failure */
    }
    return m;
}

typedef struct {
    adm_config cfg;
    adm_tensor_set weights;
    adm_tensor x, t, y, low_res, out;
    int has_y, has_lr;
} ref_case;

static int read_opt(const char *dir, const char *name, adm_tensor *t) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (access(p, F_OK) != 0) return 0;
    return adm_npy_read(p, t) == 0 ? 1 : -1;
}

static int load_case(const char *name, ref_case *rc) {
    char dir[512], p[600];
    memset(rc, 0, sizeof *rc);
    snprintf(dir, sizeof dir, "%s/reference/%s", test_data_dir(), name);
    snprintf(p, sizeof p, "%s/config.txt", dir);
    if (adm_config_parse(p, ADM_KIND_UNET, &rc->cfg) != 0) return -1;
    snprintf(p, sizeof p, "%s/model.pt", dir);
    if (adm_tensors_load(p, &rc->weights) != 0) return -1;
    snprintf(p, sizeof p, "%s/x.npy", dir);
    if (adm_npy_read(p, &rc->x) != 0) return -1;
    snprintf(p, sizeof p, "%s/t.npy", dir);
    if (adm_npy_read(p, &rc->t) != 0) return -1;
    float *tf = adm_tensor_f32_copy(&rc->t);     /* the UNet takes float32 model times */
    if (!tf) return -1;
    if (rc->t.owns_data) free(rc->t.data);
    rc->t.data = tf;
    rc->t.owns_data = 1;
    rc->t.dtype = ADM_F32;
    rc->t.nbytes = (size_t)adm_tensor_numel(&rc->t) * sizeof(float);
    snprintf(p, sizeof p, "%s/out.npy", dir);
    if (adm_npy_read(p, &rc->out) != 0) return -1;
    if (rc->cfg.num_classes > 0 && (rc->has_y = read_opt(dir, "y.npy", &rc->y)) < 0) return -1;
    if (rc->cfg.kind == ADM_KIND_SUPERRES && (rc->has_lr = read_opt(dir, "low_res.npy", &rc->low_res)) < 0) return -1;
    return 0;
}

static void free_case(ref_case *rc) {
    adm_tensors_free(&rc->weights);
    adm_tensor_free(&rc->x); adm_tensor_free(&rc->t); adm_tensor_free(&rc->y);
    adm_tensor_free(&rc->low_res); adm_tensor_free(&rc->out);
}

static int forward_case(adm_unet *u, const ref_case *rc, int B, size_t first, float *out) {
    const adm_tensor *x = &rc->x;
    int C = (int)x->shape[1], H = (int)x->shape[2], W = (int)x->shape[3];
    size_t xs = (size_t)C * H * W;
    const float *lr = NULL;
    int lh = 0, lw = 0;
    if (rc->has_lr) {
        lh = (int)rc->low_res.shape[2]; lw = (int)rc->low_res.shape[3];
        lr = (const float *)rc->low_res.data + first * C * lh * lw;
    }
    return adm_unet_forward_sized(u, B, H, W, (const float *)x->data + first * xs, (const float *)rc->t.data + first,
                                  rc->has_y ? (const int64_t *)rc->y.data + first : NULL, lr, lh, lw, out);
}

/* Compare every act/<module>.npy of the reference with our dump. */
static void compare_acts(const char *name, const char *dump_dir, double *worst, int *count) {
    char ref_dir[512];
    snprintf(ref_dir, sizeof ref_dir, "%s/reference/%s/act", test_data_dir(), name);
    *worst = 0; *count = 0;
    DIR *d = opendir(ref_dir);
    if (!d) return;                              /* this case has no recorded activations */
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".npy") != 0) continue;
        char rp[1024], dp[1024];
        adm_tensor ref, got;
        snprintf(rp, sizeof rp, "%s/%s", ref_dir, e->d_name);
        snprintf(dp, sizeof dp, "%s/act/%s", dump_dir, e->d_name);
        if (adm_npy_read(rp, &ref) != 0) { CHECK(0, "%s", adm_last_error()); continue; }
        if (adm_npy_read(dp, &got) != 0) { CHECK(0, "%s: not dumped: %s", e->d_name, adm_last_error()); adm_tensor_free(&ref); continue; }
        int same_shape = ref.ndim == got.ndim && ref.nbytes == got.nbytes;
        for (int k = 0; same_shape && k < ref.ndim; k++) same_shape = ref.shape[k] == got.shape[k];
        CHECK(same_shape, "%s: dumped shape differs from the reference", e->d_name);
        if (same_shape) {
            double m = max_abs_diff(ref.data, got.data, (size_t)adm_tensor_numel(&ref));
            CHECK(m <= TOL, "%s %s: max |act - ref| = %.3g", name, e->d_name, m);
            if (!(m <= *worst)) *worst = m;
            (*count)++;
        }
        adm_tensor_free(&ref);
        adm_tensor_free(&got);
        remove(dp);
    }
    closedir(d);
}

static void run_case(const char *name) {
    REQUIRE(cl_ok, "no OpenCL device (ADMD_TEST_DEVICE=%s)", test_device() ? test_device() : "(default)");
    ref_case rc;
    int loaded = load_case(name, &rc);
    if (loaded != 0) { CHECK(0, "%s: %s", name, adm_last_error()); free_case(&rc); return; }
    adm_unet *u = adm_unet_load(&cl, &rc.cfg, &rc.weights);
    if (!u) { CHECK(0, "%s: load: %s", name, adm_last_error()); free_case(&rc); return; }
    int B = (int)rc.x.shape[0];
    size_t n = (size_t)adm_tensor_numel(&rc.out);
    float *out = malloc(n * sizeof(float)), *again = malloc(n * sizeof(float));
    char dump_dir[256];
    snprintf(dump_dir, sizeof dump_dir, "/tmp/admd_unet_parity_%s_%d", name, (int)getpid());
    REQUIRE(out && again, "out of memory");

    /* first forward plans the arena and dumps the activations */
    CHECK(adm_unet_set_dump_dir(u, dump_dir) == 0, "%s", adm_last_error());
    double t0 = adm_now();
    int ok = forward_case(u, &rc, B, 0, out) == 0;
    double first_ms = (adm_now() - t0) * 1e3;
    CHECK(ok, "%s: forward: %s", name, adm_last_error());
    double err = ok ? max_abs_diff(out, rc.out.data, n) : INFINITY;
    CHECK(err <= TOL, "%s: max |out - ref| = %.3g", name, err);
    double act_err = 0;
    int n_act = 0;
    if (ok) compare_acts(name, dump_dir, &act_err, &n_act);
    adm_unet_set_dump_dir(u, NULL);
    char act_path[512];
    snprintf(act_path, sizeof act_path, "%s/act", dump_dir);
    /* the dump dir holds only what we wrote: remove the rest and the folders */
    DIR *d = opendir(act_path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", act_path, e->d_name);
            remove(p);
        }
        closedir(d);
    }
    rmdir(act_path);
    rmdir(dump_dir);

    /* second forward at the planned shape: timed, and bit-identical */
    t0 = adm_now();
    CHECK(forward_case(u, &rc, B, 0, again) == 0, "%s: second forward: %s", name, adm_last_error());
    double ms = (adm_now() - t0) * 1e3;
    CHECK(memcmp(out, again, n * sizeof(float)) == 0, "%s: two forwards differ", name);

    /* the last sample alone gives the same numbers as inside the batch (within tolerance) */
    size_t per = n / (size_t)B;
    if (B > 1) {
        CHECK(forward_case(u, &rc, 1, (size_t)B - 1, again) == 0, "%s: batch-1 forward: %s", name, adm_last_error());
        double e1 = max_abs_diff(again, out + (size_t)(B - 1) * per, per);
        CHECK(e1 <= TOL, "%s: sample %d alone differs by %.3g", name, B - 1, e1);
    }

    printf("  %-11s batch %d %dx%d: max |out - ref| = %.3g, max |act - ref| = %.3g over %d activations; "
           "forward %.1f ms (first, with planning: %.1f ms) on %s, %.1f MiB on the device\n",
           name, B, (int)rc.x.shape[2], (int)rc.x.shape[3], err, act_err, n_act, ms, first_ms,
           cl.device_name, adm_unet_device_bytes(u) / 1048576.0);
    free(out);
    free(again);
    adm_unet_free(u);
    free_case(&rc);
}

static void test_unet_a(void) { run_case("unet_a"); }
static void test_unet_a_f16(void) { run_case("unet_a_f16"); }
static void test_unet_b(void) { run_case("unet_b"); }
static void test_unet_c(void) { run_case("unet_c"); }
static void test_superres_a(void) { run_case("superres_a"); }

/* Mismatched config, bad shapes, missing labels: clear errors, no crash. */
static void test_bad_inputs(void) {
    REQUIRE(cl_ok, "no OpenCL device");
    ref_case a, c;
    REQUIRE(load_case("unet_c", &c) == 0, "%s", adm_last_error());
    if (load_case("unet_a", &a) != 0) { CHECK(0, "%s", adm_last_error()); free_case(&c); return; }
    /* unet_a's config with unet_c's weights */
    adm_unet *u = adm_unet_load(&cl, &a.cfg, &c.weights);
    CHECK(u == NULL, "mismatched config accepted");
    CHECK(strstr(adm_last_error(), "match") != NULL || strstr(adm_last_error(), "weight") != NULL,
          "unclear error: %s", adm_last_error());
    adm_unet_free(u);

    u = adm_unet_load(&cl, &c.cfg, &c.weights);
    REQUIRE(u != NULL, "%s", adm_last_error());
    float *out = malloc(2 * 3 * 16 * 16 * sizeof(float));
    const int64_t y[2] = {1, 2};
    CHECK(adm_unet_forward_sized(u, 2, 16, 16, c.x.data, c.t.data, y, NULL, 0, 0, out) != 0,
          "labels accepted by an unconditional model");
    CHECK(strstr(adm_last_error(), "unconditional") != NULL, "unclear error: %s", adm_last_error());
    CHECK(adm_unet_forward_sized(u, 2, 15, 16, c.x.data, c.t.data, NULL, NULL, 0, 0, out) != 0,
          "odd size accepted");
    CHECK(strstr(adm_last_error(), "multiples") != NULL, "unclear error: %s", adm_last_error());
    CHECK(adm_unet_forward_sized(u, 0, 16, 16, c.x.data, c.t.data, NULL, NULL, 0, 0, out) != 0, "batch 0 accepted");
    CHECK(adm_unet_forward_sized(u, 2, 16, 16, c.x.data, c.t.data, NULL, c.x.data, 8, 8, out) != 0,
          "low_res accepted by a UNetModel");
    /* far more than any device holds (~0.5 TB of skips): refused while planning, before x is read */
    CHECK(adm_unet_forward_sized(u, 4096, 1024, 1024, c.x.data, c.t.data, NULL, NULL, 0, 0, out) != 0,
          "a 0.5 TB forward was accepted");
    CHECK(strstr(adm_last_error(), "not enough device memory") && strstr(adm_last_error(), "MiB"),
          "unclear error: %s", adm_last_error());
    printf("  %s\n", adm_last_error());
    /* and the model still works at its planned shape afterwards */
    CHECK(adm_unet_forward_sized(u, 2, 16, 16, c.x.data, c.t.data, NULL, NULL, 0, 0, out) == 0, "%s", adm_last_error());
    CHECK(max_abs_diff(out, c.out.data, 2 * 3 * 16 * 16) <= TOL, "wrong after a refused plan");
    adm_unet_free(u);
    free(out);

    u = adm_unet_load(&cl, &a.cfg, &a.weights);
    REQUIRE(u != NULL, "%s", adm_last_error());
    out = malloc(2 * 6 * 32 * 32 * sizeof(float));
    CHECK(adm_unet_forward(u, a.x.data, a.t.data, NULL, NULL, 2, out) != 0, "missing labels accepted");
    CHECK(strstr(adm_last_error(), "class-conditional") != NULL, "unclear error: %s", adm_last_error());
    const int64_t bad[2] = {3, 10};
    CHECK(adm_unet_forward(u, a.x.data, a.t.data, bad, NULL, 2, out) != 0, "label 10 of 10 classes accepted");
    CHECK(strstr(adm_last_error(), "y[1]") != NULL, "unclear error: %s", adm_last_error());
    adm_unet_free(u);
    free(out);
    free_case(&a);
    free_case(&c);
}

/* The arena: first-fit reuse, no span across a chunk (max allocation), and
 * a real run after the dry run gets the same places. */
static void test_arena(void) {
    adm_arena a;
    adm_arena_init(&a, 1000 * sizeof(float));           /* chunks of 960 floats (64-aligned) */
    CHECK(a.chunk == 960, "chunk %zu", a.chunk);
    adm_dt t[6];
    adm_arena_begin(&a, 1);
    CHECK(adm_arena_alloc(&a, 1, 1, 1, 500, &t[0]) == 0, "%s", adm_last_error());   /* [0, 512) */
    CHECK(adm_arena_alloc(&a, 1, 1, 1, 500, &t[1]) == 0, "%s", adm_last_error());   /* would cross 960: [960, 1472) */
    CHECK(t[0].off == 0 && t[1].off == 960, "offsets %zu %zu", t[0].off, t[1].off);
    CHECK(adm_arena_alloc(&a, 1, 1, 1, 100, &t[2]) == 0 && t[2].off == 512, "gap not used: %zu", t[2].off);
    adm_arena_free(&a, &t[0]);
    CHECK(adm_arena_alloc(&a, 2, 1, 1, 200, &t[3]) == 0 && t[3].off == 0, "freed span not reused: %zu", t[3].off);
    CHECK(adm_arena_alloc(&a, 1, 1, 1, 961, &t[4]) != 0, "a tensor larger than a chunk accepted");
    /* 448 floats: no gap holds it ([448, 512) and [640, 960) are too small) */
    CHECK(adm_arena_alloc(&a, 1, 1, 1, 400, &t[5]) == 0 && t[5].off == 1472, "end: %zu", t[5].off);
    size_t peak = a.peak;
    CHECK(peak == 1920, "peak %zu", peak);
    if (cl_ok) {
        REQUIRE(adm_arena_realize(&a, &cl, peak) == 0, "%s", adm_last_error());
        CHECK(a.n_mem == 2, "%d buffers", a.n_mem);
        adm_dt r[4];
        adm_arena_begin(&a, 0);
        CHECK(adm_arena_alloc(&a, 1, 1, 1, 500, &r[0]) == 0 && r[0].mem == a.mem[0] && r[0].off == 0, "real 0");
        CHECK(adm_arena_alloc(&a, 1, 1, 1, 500, &r[1]) == 0 && r[1].mem == a.mem[1] && r[1].off == 0, "real 1");
        adm_arena_free(&a, &r[0]);
        CHECK(adm_arena_alloc(&a, 1, 1, 1, 900, &r[2]) == 0 && r[2].mem == a.mem[0], "real 2");
        CHECK(adm_arena_alloc(&a, 1, 1, 1, 600, &r[3]) != 0, "a run beyond its plan was accepted");
        adm_arena_release(&a);
    }
}

/* FLOPs: the count follows the architecture (checked by hand for unet_c). */
static void test_flops(void) {
    char p[512];
    adm_config cfg;
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_c/config.txt"), ADM_KIND_UNET, &cfg) == 0,
            "%s", adm_last_error());
    /* unet_c: 16x16, mc 32, mult (1,2), 1 res block, attention at ds 2, 2 heads, no scale-shift.
     * MACs per sample (convs: out elems * in_ch * k*k; linears; attention 2*T*T*C + qkv + proj): */
    double m = 0, hw = 256, hw2 = 64;
    m += 32 * 128 + 128 * 128;                                   /* time_embed */
    m += hw * 32 * 3 * 9;                                        /* input_blocks.0 */
    m += 128 * 32 + 2 * hw * 32 * 32 * 9;                        /* input_blocks.1: ResBlock 32->32 */
    m += hw2 * 32 * 32 * 9;                                      /* input_blocks.2: Downsample conv */
    m += 128 * 64 + hw2 * 64 * 32 * 9 + hw2 * 64 * 64 * 9 + hw2 * 64 * 32;   /* input_blocks.3 ResBlock 32->64 */
    double attn64 = hw2 * 64 * 192 + 2 * hw2 * hw2 * 64 + hw2 * 64 * 64;
    m += attn64;                                                 /* input_blocks.3 attention */
    m += 2 * (128 * 64 + 2 * hw2 * 64 * 64 * 9) + attn64;        /* middle_block */
    m += 128 * 64 + hw2 * 64 * 128 * 9 + hw2 * 64 * 64 * 9 + hw2 * 64 * 128 + attn64;   /* out 0: 128->64 */
    m += 128 * 64 + hw2 * 64 * 96 * 9 + hw2 * 64 * 64 * 9 + hw2 * 64 * 96 + attn64;     /* out 1: 96->64 */
    m += hw * 64 * 64 * 9;                                       /* out 1: Upsample conv */
    m += 128 * 32 + hw * 32 * 96 * 9 + hw * 32 * 32 * 9 + hw * 32 * 96;                 /* out 2: 96->32 */
    m += 128 * 32 + hw * 32 * 64 * 9 + hw * 32 * 32 * 9 + hw * 32 * 64;                 /* out 3: 64->32 */
    m += hw * 3 * 32 * 9;                                        /* out */
    double f = adm_unet_flops(&cfg, 3);
    CHECK(fabs(f - 2 * 3 * m) < 1, "flops %.0f, expected %.0f", f, 2 * 3 * m);
    printf("  unet_c: %.3f MFLOP per sample\n", 2 * m / 1e6);

    /* every released UNet / upsampler preset builds; the count scales with the batch */
    int n = 0;
    for (const adm_preset *pr = adm_presets; pr->name; pr++) {
        if (pr->kind == ADM_KIND_CLASSIFIER) continue;
        CHECK(adm_config_preset(pr->name, &cfg) == 0, "%s: %s", pr->name, adm_last_error());
        double f1 = adm_unet_flops(&cfg, 1), f8 = adm_unet_flops(&cfg, 8);
        CHECK(f1 > 1e10 && fabs(f8 - 8 * f1) <= 1e-9 * f8, "%s: %.4g / %.4g FLOP (%s)", pr->name, f1, f8,
              adm_last_error());
        printf("  preset %-22s %8.1f GFLOP per image\n", pr->name, f1 / 1e9);
        n++;
    }
    CHECK(n >= 7, "only %d UNet presets", n);
}

int main(void) {
    cl_ok = adm_cl_open(&cl, test_device(), 0) == 0;
    if (!cl_ok) printf("  no device: %s\n", adm_last_error());
    else printf("  device: %s (%s)\n", cl.device_name, cl.platform_name);
    RUN(test_arena);
    RUN(test_flops);
    RUN(test_unet_a);
    RUN(test_unet_a_f16);
    RUN(test_unet_b);
    RUN(test_unet_c);
    RUN(test_superres_a);
    RUN(test_bad_inputs);
    if (cl_ok) adm_cl_close(&cl);
    CHECK_EXIT();
}
