/* test_pool.c — images in flight (generate.h, model/generate_pool.c): images
 * of jobs with different samplers (DDPM, DDIM with eta, DPM-Solver++ 2M/3M
 * with and without dynamic thresholding, DPM-Solver 3S), respacings,
 * classes and guidance scales, started at different passes and sharing
 * passes of up to 4 images, give exactly the pixels adm_generate makes for
 * each image alone; a pass of 3 images at different model times gives each
 * image's bits alone under every matrix engine (own kernels, CLBlast SGEMM,
 * CLBlast convgemm); misuse is refused with a message.
 * The MNIST pair of models/mnist.  Device: test_device() (check.h). */
#include "check.h"
#include "cl_runtime.h"
#include "generate.h"
#include "ops.h"
#include "util.h"
#include <stdint.h>

static adm_cl cl;
static adm_model *model;

typedef struct { adm_gen_request req; int klass; } job_spec;

static const job_spec jobs[] = {
    {{.sampler = "ddpm", .respacing = "6", .scale = 2.0, .seed = 11}, 3},
    {{.sampler = "ddim", .respacing = "ddim5", .eta = 0.5, .scale = 0, .seed = 12}, -1},
    {{.sampler = "dpm++2m", .steps = 5, .scale = 4.0, .seed = 13, .thresholding = "dynamic"}, 7},
    {{.sampler = "dpm++3m", .steps = 6, .skip = "logsnr", .scale = 1.0, .seed = 14}, -1},
    {{.sampler = "dpm3s", .steps = 7, .scale = 2.0, .seed = 15}, 1},
    {{.sampler = "ddpm", .respacing = "2,1,3", .scale = 0, .seed = 16}, 0},
};
#define NJOBS ((int)(sizeof jobs / sizeof *jobs))
#define PER_JOB 2
#define PX (32 * 32 * 3)

static uint8_t alone[NJOBS][PER_JOB][PX];
static int px_len;

static int grab(void *user, int index, int klass, const uint8_t *pixels, int h, int w, int c) {
    uint8_t *dst = user;
    px_len = h * w * c;
    if (px_len > PX) return adm_error("image too large for the test");
    memcpy(dst, pixels, (size_t)px_len);
    return 0;
}

static int open_model(void) {
    if (model) return 0;
    if (adm_cl_open(&cl, test_device(), 0)) return -1;
    adm_model_spec spec = {"models/mnist/unet.safetensors", "models/mnist/unet.config.txt",
                           "models/mnist/classifier.safetensors", "models/mnist/classifier.config.txt"};
    model = adm_model_load(&cl, &spec);
    return model ? 0 : -1;
}

/* Each image alone through adm_generate (B = 1). */
static void test_alone(void) {
    REQUIRE(open_model() == 0, "%s", adm_last_error());
    for (int j = 0; j < NJOBS; j++)
        for (int k = 0; k < PER_JOB; k++) {
            adm_gen_request r = jobs[j].req;
            int cls = jobs[j].klass;
            r.first_index = 5 + k;                       /* not image 0: the index keys the noise */
            r.count = 1;
            r.classes = cls >= 0 ? &cls : NULL;
            r.batch = 1;
            CHECK(adm_generate(model, &r, NULL, grab, alone[j][k]) == 0, "job %d image %d: %s", j, k, adm_last_error());
        }
}

/* The same images through the pool: at most B in flight, one new image
 * started per pass (so they sit at different steps), in job order. */
static void pool_run(int B, uint8_t out[NJOBS][PER_JOB][PX], int *passes, int *max_mixed) {
    adm_gen_job *gj[NJOBS] = {0};
    adm_gen_image *live[64];
    int owner[64], nlive = 0, next = 0, total = NJOBS * PER_JOB;
    *passes = 0; *max_mixed = 0;
    for (int j = 0; j < NJOBS; j++) {
        gj[j] = adm_gen_job_new(model, &jobs[j].req);
        CHECK(gj[j], "job %d: %s", j, adm_last_error());
        if (!gj[j]) goto done;
    }
    while (next < total || nlive > 0) {
        if (next < total && nlive < B) {             /* one new image per pass */
            int j = next / PER_JOB, k = next % PER_JOB;
            live[nlive] = adm_gen_image_new(gj[j], 5 + k, jobs[j].klass);
            CHECK(live[nlive], "%s", adm_last_error());
            if (!live[nlive]) goto done;
            owner[nlive++] = next++;
        }
        int mixed = 0;
        for (int a = 0; a < nlive; a++) {
            int distinct = 1;
            for (int b = 0; b < a; b++) distinct &= owner[a] / PER_JOB != owner[b] / PER_JOB;
            mixed += distinct;
        }
        if (mixed > *max_mixed) *max_mixed = mixed;
        if (adm_gen_pass(model, live, nlive)) { CHECK(0, "pass: %s", adm_last_error()); goto done; }
        (*passes)++;
        for (int a = 0; a < nlive; ) {
            if (!adm_gen_image_finished(live[a])) { a++; continue; }
            int o = owner[a];
            adm_gen_image_pixels(live[a], out[o / PER_JOB][o % PER_JOB]);
            adm_gen_image_free(live[a]);
            live[a] = live[nlive - 1];
            owner[a] = owner[nlive - 1];
            nlive--;
        }
    }
done:
    for (int a = 0; a < nlive; a++) adm_gen_image_free(live[a]);
    for (int j = 0; j < NJOBS; j++) adm_gen_job_free(gj[j]);
}

static uint8_t pooled[NJOBS][PER_JOB][PX];

static void compare(const char *what) {
    for (int j = 0; j < NJOBS; j++)
        for (int k = 0; k < PER_JOB; k++) {
            int diff = 0;
            for (int i = 0; i < px_len; i++) diff += alone[j][k][i] != pooled[j][k][i];
            CHECK(diff == 0, "%s: job %d (%s) image %d: %d pixels differ from the image alone", what, j,
                  jobs[j].req.sampler, k, diff);
        }
}

static void test_pool_b4_mixed(void) {
    REQUIRE(model && px_len > 0, "no reference images");
    int passes, mixed;
    pool_run(4, pooled, &passes, &mixed);
    printf("  B=4: %d passes for %d images, up to %d jobs in one pass\n", passes, NJOBS * PER_JOB, mixed);
    CHECK(mixed >= 3, "passes held at most %d jobs", mixed);
    compare("B=4");
}

static void test_pool_b1(void) {
    REQUIRE(model && px_len > 0, "no reference images");
    int passes, mixed;
    memset(pooled, 0, sizeof pooled);
    pool_run(1, pooled, &passes, &mixed);
    compare("B=1");
}

/* Under each engine: 3 images of different jobs, one pass together vs
 * each alone (x after the pass, as pixels after finishing the images the
 * same way). */
static void engines_case(const char *backend) {
    REQUIRE(model, "no model");
    REQUIRE(adm_ops_set_backend(&cl, backend) == 0, "%s", adm_last_error());
    int sel[3] = {0, 2, 4};
    uint8_t a[3][PX], b[3][PX];
    for (int pass_all = 0; pass_all < 2; pass_all++) {
        adm_gen_job *gj[3];
        adm_gen_image *im[3];
        for (int i = 0; i < 3; i++) {
            gj[i] = adm_gen_job_new(model, &jobs[sel[i]].req);
            REQUIRE(gj[i], "%s", adm_last_error());
            im[i] = adm_gen_image_new(gj[i], 9, jobs[sel[i]].klass);
            REQUIRE(im[i], "%s", adm_last_error());
        }
        /* two passes: the images are at different model times in both */
        for (int p = 0; p < 2; p++) {
            if (pass_all) REQUIRE(adm_gen_pass(model, im, 3) == 0, "%s: %s", backend, adm_last_error());
            else for (int i = 0; i < 3; i++) REQUIRE(adm_gen_pass(model, &im[i], 1) == 0, "%s: %s", backend, adm_last_error());
        }
        for (int i = 0; i < 3; i++) {
            while (!adm_gen_image_finished(im[i])) REQUIRE(adm_gen_pass(model, &im[i], 1) == 0, "%s", adm_last_error());
            adm_gen_image_pixels(im[i], pass_all ? b[i] : a[i]);
            adm_gen_image_free(im[i]);
            adm_gen_job_free(gj[i]);
        }
    }
    for (int i = 0; i < 3; i++)
        CHECK(!memcmp(a[i], b[i], (size_t)px_len), "%s: image of job %d depends on its pass", backend, sel[i]);
    printf("  %s: 3 images in shared passes identical to alone\n", backend);
    adm_ops_set_backend(&cl, "own");
}

static void test_pool_engine_own(void) { engines_case("own"); }

static void test_pool_engine_clblast(void) {
    const char *q = getenv("ADMD_QUICK");
    if (q && *q && strcmp(q, "0")) SKIP("ADMD_QUICK: CLBlast's first compile on PoCL takes minutes");
    engines_case("clblast");
    engines_case("convgemm");
}

static void test_pool_misuse(void) {
    REQUIRE(model, "no model");
    adm_gen_request r = {.sampler = "ddpm", .respacing = "4", .scale = 1, .seed = 1};
    adm_gen_job *j = adm_gen_job_new(model, &r);
    REQUIRE(j, "%s", adm_last_error());
    CHECK(!adm_gen_image_new(j, 0, 10) && strstr(adm_last_error(), "class 10"), "class 10 accepted: %s", adm_last_error());
    CHECK(!adm_gen_image_new(j, -1, 1), "index -1 accepted");
    adm_gen_image *im = adm_gen_image_new(j, 0, 2);
    REQUIRE(im, "%s", adm_last_error());
    CHECK(adm_gen_job_passes(j) == 4, "passes %d", adm_gen_job_passes(j));
    for (int p = 0; p < 4; p++) CHECK(adm_gen_pass(model, &im, 1) == 0, "%s", adm_last_error());
    CHECK(adm_gen_image_finished(im) && adm_gen_image_passes_done(im) == 4, "not finished after 4 passes");
    CHECK(adm_gen_pass(model, &im, 1) == -1 && strstr(adm_last_error(), "finished"), "a finished image passed again");
    adm_gen_image_free(im);
    r.sampler = "nope";
    CHECK(!adm_gen_job_new(model, &r) && strstr(adm_last_error(), "nope"), "bad sampler accepted");
    adm_gen_job_free(j);
}

int main(void) {
    RUN(test_alone);
    RUN(test_pool_b4_mixed);
    RUN(test_pool_b1);
    RUN(test_pool_engine_own);
    RUN(test_pool_engine_clblast);
    RUN(test_pool_misuse);
    if (model) adm_model_free(model);
    CHECK_EXIT();
}
