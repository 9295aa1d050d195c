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

int main(void) {
    const char *dev = getenv("ADMD_TEST_DEVICE");
    cl_ok = adm_cl_open(&cl, dev, 0) == 0;
    if (!cl_ok && dev && *dev) {
        printf("  ADMD_TEST_DEVICE=%s: %s\nFAIL test_device\n", dev, adm_last_error());
        return 1;
    }
    if (!cl_ok) printf("  no device: %s\n", adm_last_error());
    RUN(test_load_reference);
    RUN(test_block_outputs);
    RUN(test_reference_features);
    adm_inception_free(net);
    if (weights[0]) { remove(weights); rmdir(tmpdir); }
    if (cl_ok) { adm_ops_release(&cl); adm_cl_close(&cl); }
    CHECK_EXIT();
}
