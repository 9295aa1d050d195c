/* test_eval.c — the evaluation pipeline on real data: the .npz reader on
 * the shipped MNIST reference batch (and on bad files), and the MNIST
 * classifier at t=0 as the feature network: FID / precision / recall of
 * one half of real digits against another half are small / high, against
 * noised, scrambled or one-class images large / low. */
#include "check.h"
#include "evaluate.h"
#include "npy.h"
#include "npz.h"
#include "util.h"
#include <unistd.h>

#define REF "models/mnist/ref_batch_mnist32.npz"

static adm_cl cl;
static int cl_ok;

static void test_npz_reference_batch(void) {
    adm_batch b;
    REQUIRE(adm_batch_load(REF, &b) == 0, "%s", adm_last_error());
    CHECK(b.n == 10000 && b.h == 32 && b.w == 32 && b.c == 1, "%lld x %d x %d x %d", (long long)b.n, b.h, b.w, b.c);
    REQUIRE(b.labels && b.labels->dtype == ADM_I64, "labels");
    const int64_t *y = b.labels->data;
    int count[10] = {0}, bad = 0;
    for (int64_t i = 0; i < b.n; i++) { if (y[i] < 0 || y[i] > 9) bad++; else count[y[i]]++; }
    CHECK(bad == 0, "%d labels outside 0..9", bad);
    for (int k = 0; k < 10; k++) CHECK(count[k] > 800 && count[k] < 1300, "class %d: %d digits", k, count[k]);
    /* zero-padded from 28x28: the 2-pixel border is background everywhere */
    long border = 0, ink = 0;
    for (int64_t i = 0; i < b.n; i++)
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) {
                int v = b.images[i * 1024 + r * 32 + c];
                if (r < 2 || r >= 30 || c < 2 || c >= 30) border += v;
                else ink += v > 128;
            }
    CHECK(border == 0, "border pixels sum to %ld", border);
    CHECK(ink > 10000 * 50 && ink < 10000 * 300, "%ld ink pixels", ink);
    CHECK(!b.mu && !b.sigma, "no statistics in this batch");
    CHECK(strlen(b.sha256) == 64, "sha256");
    adm_batch_free(&b);
}

static void test_npz_roundtrip_and_bad_files(void) {
    char dir[] = "/tmp/admd-test-eval-XXXXXX", p[256], q[256];
    REQUIRE(mkdtemp(dir), "mkdtemp");
    /* write (stored) and read back */
    uint8_t img[3 * 2 * 2 * 1] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double mu[2] = {0.5, -2};
    adm_tensor t[2] = {{.name = "arr_0", .dtype = ADM_U8, .ndim = 4, .shape = {3, 2, 2, 1}, .data = img},
                       {.name = "mu", .dtype = ADM_F64, .ndim = 1, .shape = {2}, .data = mu}};
    snprintf(p, sizeof p, "%s/a.npz", dir);
    REQUIRE(adm_npz_write(p, t, 2) == 0, "%s", adm_last_error());
    adm_tensor_set s;
    REQUIRE(adm_npz_read(p, &s) == 0, "%s", adm_last_error());
    CHECK(s.n == 2 && !strcmp(s.t[0].name, "arr_0") && !strcmp(s.t[1].name, "mu"), "members");
    CHECK(s.t[0].nbytes == 12 && !memcmp(s.t[0].data, img, 12), "arr_0 bytes");
    CHECK(s.t[1].dtype == ADM_F64 && !memcmp(s.t[1].data, mu, 16), "mu bytes");
    adm_tensors_free(&s);
    /* mu without sigma, and mu of the wrong width, are named */
    adm_batch b;
    REQUIRE(adm_batch_load(p, &b) == 0, "%s", adm_last_error());
    adm_given_stats g;
    CHECK(adm_batch_given_stats(&b, 2, 0, &g) != 0 && strstr(adm_last_error(), "mu without sigma"), "%s", adm_last_error());
    adm_batch_free(&b);
    double sg[4] = {1, 0, 0, 1};
    adm_tensor t3[3] = {t[0], t[1], {.name = "sigma", .dtype = ADM_F64, .ndim = 2, .shape = {2, 2}, .data = sg}};
    REQUIRE(adm_npz_write(p, t3, 3) == 0, "%s", adm_last_error());
    REQUIRE(adm_batch_load(p, &b) == 0, "%s", adm_last_error());
    CHECK(adm_batch_given_stats(&b, 2048, 0, &g) != 0 && strstr(adm_last_error(), "2-wide features"), "%s", adm_last_error());
    REQUIRE(adm_batch_given_stats(&b, 2, 0, &g) == 0 && g.have_pool && g.pool.mu[1] == -2 && g.pool.sigma[3] == 1, "given stats");
    adm_given_stats_free(&g);
    adm_batch_free(&b);

    /* images of the wrong type or shape */
    float fimg[12] = {0};
    adm_tensor tf = {.name = "arr_0", .dtype = ADM_F32, .ndim = 4, .shape = {3, 2, 2, 1}, .data = fimg};
    REQUIRE(adm_npz_write(p, &tf, 1) == 0, "%s", adm_last_error());
    CHECK(adm_batch_load(p, &b) != 0 && strstr(adm_last_error(), "expected uint8 images"), "%s", adm_last_error());
    adm_tensor t5 = {.name = "arr_0", .dtype = ADM_U8, .ndim = 4, .shape = {3, 2, 1, 2}, .data = img};
    REQUIRE(adm_npz_write(p, &t5, 1) == 0, "%s", adm_last_error());
    CHECK(adm_batch_load(p, &b) != 0 && strstr(adm_last_error(), "C 1 or 3"), "%s", adm_last_error());
    adm_tensor tn = {.name = "images", .dtype = ADM_U8, .ndim = 4, .shape = {3, 2, 2, 1}, .data = img};
    REQUIRE(adm_npz_write(p, &tn, 1) == 0, "%s", adm_last_error());
    CHECK(adm_batch_load(p, &b) != 0 && strstr(adm_last_error(), "no arr_0"), "%s", adm_last_error());

    /* not a zip, truncated, missing */
    uint8_t *buf; size_t len;
    CHECK(adm_batch_load("tests/data/reference/metrics_a/ref_features.npy", &b) != 0 &&
          strstr(adm_last_error(), "not a readable zip archive"), "%s", adm_last_error());
    REQUIRE(adm_read_file(REF, &buf, &len) == 0, "%s", adm_last_error());
    CHECK(adm_npz_read_mem("half.npz", buf, len / 2, &s) != 0 && strstr(adm_last_error(), "half.npz"), "%s", adm_last_error());
    /* a flipped byte inside the deflated pixels: CRC or inflate error, never a silent success */
    buf[len / 3] ^= 0x55;
    CHECK(adm_npz_read_mem("flipped.npz", buf, len, &s) != 0, "a corrupted member must not load");
    free(buf);
    snprintf(q, sizeof q, "%s/none.npz", dir);
    CHECK(adm_batch_load(q, &b) != 0 && strstr(adm_last_error(), "none.npz"), "%s", adm_last_error());
    unlink(p);
    rmdir(dir);
}

/* n images from + k * step (the batch is sorted by class), optionally
 * disturbed: 1 = + uniform noise of +-96 grey levels, 2 = pixels scrambled
 * within each image, 3 = only digits of class 1 (consecutive from `from`). */
static uint8_t *take(const adm_batch *b, int from, int n, int how) {
    uint8_t *x = malloc((size_t)n * 1024);
    const int64_t *y = b->labels->data;
    const int step = how == 3 ? 1 : (int)(b->n / n);
    uint64_t st = 12345;
    int k = 0;
    for (int i = from; k < n && i < b->n; i += step) {
        if (how == 3 && y[i] != 1) continue;
        memcpy(x + (size_t)k * 1024, b->images + (size_t)i * 1024, 1024);
        for (int j = 0; j < 1024; j++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            if (how == 1) {
                int v = x[k * 1024 + j] + (int)((st >> 33) % 193) - 96;
                x[k * 1024 + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            } else if (how == 2) {
                int o = (int)((st >> 33) % 1024);
                uint8_t tmp = x[k * 1024 + j]; x[k * 1024 + j] = x[k * 1024 + o]; x[k * 1024 + o] = tmp;
            }
        }
        k++;
    }
    return x;
}

static void test_classifier_features_separate_real_from_bad(void) {
    if (!cl_ok) SKIP("no OpenCL device");
    adm_batch b;
    REQUIRE(adm_batch_load(REF, &b) == 0, "%s", adm_last_error());
    adm_featnet *net;
    REQUIRE(adm_featnet_classifier(&net, &cl, "mnist", "models/mnist/classifier.config.txt",
                                   "models/mnist/classifier.safetensors") == 0, "%s", adm_last_error());
    const adm_featnet_info *fi = adm_featnet_get_info(net);
    CHECK(!strcmp(fi->name, "classifier mnist at t=0"), "name %s", fi->name);
    CHECK(fi->pool_dim > 0 && fi->spatial_dim > 0 && fi->classes == 10, "dims %d %d %d", fi->pool_dim, fi->spatial_dim, fi->classes);
    const int N = 200;
    adm_features ref, same, noised, scrambled, ones;
    uint8_t *x0 = take(&b, 0, N, 0), *x1 = take(&b, 19, N, 0), *x2 = take(&b, 19, N, 1), *x3 = take(&b, 19, N, 2),
            *x4 = take(&b, 1001, N, 3);
    REQUIRE(adm_features_compute(net, x0, N, 32, 32, 1, &ref, NULL, NULL) == 0, "%s", adm_last_error());
    REQUIRE(adm_features_compute(net, x1, N, 32, 32, 1, &same, NULL, NULL) == 0, "%s", adm_last_error());
    REQUIRE(adm_features_compute(net, x2, N, 32, 32, 1, &noised, NULL, NULL) == 0, "%s", adm_last_error());
    REQUIRE(adm_features_compute(net, x3, N, 32, 32, 1, &scrambled, NULL, NULL) == 0, "%s", adm_last_error());
    REQUIRE(adm_features_compute(net, x4, N, 32, 32, 1, &ones, NULL, NULL) == 0, "%s", adm_last_error());
    adm_eval_numbers a, n, s, o;
    REQUIRE(adm_eval_compute(&ref, NULL, &same, NULL, 5000, &a) == 0, "%s", adm_last_error());
    REQUIRE(adm_eval_compute(&ref, NULL, &noised, NULL, 5000, &n) == 0, "%s", adm_last_error());
    REQUIRE(adm_eval_compute(&ref, NULL, &scrambled, NULL, 5000, &s) == 0, "%s", adm_last_error());
    REQUIRE(adm_eval_compute(&ref, NULL, &ones, NULL, 5000, &o) == 0, "%s", adm_last_error());
    printf("  %d vs %d digits:  FID %.3f sFID %.3f IS %.3f P %.3f R %.3f\n", N, N, a.fid, a.sfid, a.inception_score, a.precision, a.recall);
    printf("  noised:          FID %.3f sFID %.3f IS %.3f P %.3f R %.3f\n", n.fid, n.sfid, n.inception_score, n.precision, n.recall);
    printf("  scrambled:       FID %.3f sFID %.3f IS %.3f P %.3f R %.3f\n", s.fid, s.sfid, s.inception_score, s.precision, s.recall);
    printf("  only 1s:         FID %.3f sFID %.3f IS %.3f P %.3f R %.3f\n", o.fid, o.sfid, o.inception_score, o.precision, o.recall);
    CHECK(a.fid >= 0 && a.fid * 20 < s.fid && a.fid * 20 < o.fid, "FID must separate real digits from bad ones");
    CHECK(a.sfid * 5 < s.sfid && a.sfid * 5 < o.sfid, "sFID too");
    /* the noisy classifier was trained on noised digits: pixel noise hardly moves
     * its pooled features (FID 3.41 -> 3.44 here; the Inception would see it),
     * the spatial ones more */
    CHECK(a.sfid * 1.1 < n.sfid, "sFID must see the noise");
    CHECK(a.precision > 0.6 && a.recall > 0.6, "real against real: precision %.3f recall %.3f", a.precision, a.recall);
    CHECK(s.precision < 0.5 && s.recall < 0.2, "scrambled pixels lie off the digit manifold: precision %.3f recall %.3f",
          s.precision, s.recall);
    CHECK(o.recall < 0.4 && o.precision > 0.6, "one class: real (precision %.3f) but not diverse (recall %.3f)", o.precision, o.recall);
    CHECK(a.inception_score > 7 && o.inception_score < 1.5, "IS: 10 classes %.3f, one class %.3f", a.inception_score, o.inception_score);
    /* features do not depend on the batch a picture is in: 1 image alone == image 0 of 200 */
    adm_features one;
    REQUIRE(adm_features_compute(net, x0, 1, 32, 32, 1, &one, NULL, NULL) == 0, "%s", adm_last_error());
    CHECK(!memcmp(one.pool, ref.pool, (size_t)ref.pool_dim * sizeof(float)), "features of image 0 alone differ");
    adm_features_free(&one);

    /* bad inputs: wrong image size, too few samples */
    CHECK(adm_features_compute(net, x0, 4, 28, 28, 1, &one, NULL, NULL) != 0 && strstr(adm_last_error(), "28x28x1"),
          "%s", adm_last_error());
    adm_features few = same;
    few.n = 3;
    CHECK(adm_eval_compute(&ref, NULL, &few, NULL, 5000, &a) != 0 && strstr(adm_last_error(), "at least 4"), "%s", adm_last_error());
    adm_features narrow = same;
    narrow.pool_dim = 3;
    CHECK(adm_eval_compute(&ref, NULL, &narrow, NULL, 5000, &a) != 0 && strstr(adm_last_error(), "wide"), "%s", adm_last_error());
    adm_features_free(&ref); adm_features_free(&same); adm_features_free(&noised);
    adm_features_free(&scrambled); adm_features_free(&ones);
    free(x0); free(x1); free(x2); free(x3); free(x4);
    adm_featnet_free(net);
    adm_batch_free(&b);
}

int main(void) {
    cl_ok = adm_cl_open(&cl, test_device(), 0) == 0;
    if (!cl_ok) printf("  no OpenCL device: %s\n", adm_last_error());
    RUN(test_npz_reference_batch);
    RUN(test_npz_roundtrip_and_bad_files);
    RUN(test_classifier_features_separate_real_from_bad);
    if (cl_ok) adm_cl_close(&cl);
    CHECK_EXIT();
}
