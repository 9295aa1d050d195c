/* test_noise.c — the reproducible noise: Philox4x32-10 known answers
 * (Random123's kat_vectors), the accuracy of the Box-Muller transform,
 * statistics of a million draws (mean, variance, Kolmogorov-Smirnov,
 * chi-square), the counter layout's independence of batching, random
 * classes, and the device kernel giving the host's exact bytes. */
#include "check.h"
#include "cl_runtime.h"
#include "ops_noise.h"
#include "philox.h"
#include "util.h"
#include <stdint.h>

static void test_philox_kat(void) {
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        adm_philox4x32_10(v[i], v[i] + 4, out);
        CHECK(!memcmp(out, v[i] + 6, sizeof out), "vector %d: got %08x %08x %08x %08x", i,
              out[0], out[1], out[2], out[3]);
    }
}

/* Our float transform vs Box-Muller in double with libm, over a grid of words. */
static void test_transform_accuracy(void) {
    double worst = 0;
    for (uint32_t a = 0; a < 4096; a++) {
        for (uint32_t b = 0; b < 64; b++) {
            uint32_t wu = a * 1048573u + 12345u * b, wa = b * 67108879u + a * 977u;
            if (a == 0) wu = 0xFFFFFFFFu - b;        /* u = 1: r = 0 */
            if (a == 1) wu = b << 8;                 /* the smallest u: the tail */
            float z[2];
            adm_noise_box_muller(wu, wa, z);
            double u = ((wu >> 8) + 1.0) / 16777216.0, r = sqrt(-2 * log(u));
            double th = 2 * M_PI * (wa >> 8) / 16777216.0;
            double e0 = fabs(z[0] - r * cos(th)), e1 = fabs(z[1] - r * sin(th));
            if (e0 > worst) worst = e0;
            if (e1 > worst) worst = e1;
        }
    }
    printf("  max |z - exact Box-Muller| = %.3g\n", worst);
    CHECK(worst < 2e-6, "transform error %g", worst);
}

/* Normal CDF. */
static double phi(double x) { return 0.5 * erfc(-x / sqrt(2)); }
static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_statistics(void) {
    enum { N = 1 << 20 };
    float *z = malloc(sizeof(float) * N);
    REQUIRE(z, "oom");
    /* 16 images x 65536 elements, as a job would draw them */
    for (int k = 0; k < 16; k++) adm_noise_fill(1234, k, ADM_NOISE_SLOT_STEP(7), z + k * 65536, 65536);
    double s = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < N; i++) { s += z[i]; s2 += (double)z[i] * z[i]; s4 += (double)z[i] * z[i] * z[i] * z[i]; }
    double mean = s / N, var = s2 / N - mean * mean, kurt = s4 / N;
    /* chi-square over 40 equiprobable bins of N(0,1) */
    enum { BINS = 40 };
    long cnt[BINS] = {0};
    for (int i = 0; i < N; i++) {
        int b = (int)(phi(z[i]) * BINS);
        cnt[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
    }
    double chi2 = 0, expct = (double)N / BINS;
    for (int b = 0; b < BINS; b++) chi2 += (cnt[b] - expct) * (cnt[b] - expct) / expct;
    /* Kolmogorov-Smirnov */
    qsort(z, N, sizeof *z, cmp_float);
    double d = 0;
    for (int i = 0; i < N; i++) {
        double f = phi(z[i]), lo = f - (double)i / N, hi = (double)(i + 1) / N - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    double ks_crit = 1.949 / sqrt((double)N);     /* alpha = 0.001 */
    printf("  N=%d mean %.5f var %.5f E[z^4] %.4f chi2(39) %.1f KS D %.5f (crit %.5f) min %.3f max %.3f\n",
           N, mean, var, kurt, chi2, d, ks_crit, z[0], z[N - 1]);
    CHECK(fabs(mean) < 5 / sqrt((double)N), "mean %g", mean);
    CHECK(fabs(var - 1) < 5 * sqrt(2.0 / N), "variance %g", var);
    CHECK(fabs(kurt - 3) < 5 * sqrt(96.0 / N), "fourth moment %g", kurt);
    CHECK(chi2 < 72.0, "chi-square %g over 39 degrees of freedom (p < 0.001)", chi2);
    CHECK(d < ks_crit, "KS statistic %g", d);
    CHECK(z[0] > -5.8f && z[N - 1] < 5.8f, "range");
    free(z);
}

static void test_counter_layout(void) {
    float a[1003], b[40], c[1003];
    adm_noise_fill(7, 5, 3, a, 1003);
    adm_noise_fill(7, 5, 3, b, 40);                /* a prefix is the same draws */
    CHECK(!memcmp(a, b, sizeof b), "prefix differs");
    adm_noise_fill(7, 5, 3, c, 1003);
    CHECK(!memcmp(a, c, sizeof a), "not deterministic");
    /* any change of seed, image, or slot gives other numbers */
    uint64_t seeds[4] = {7, 8, 7 + (1ull << 32), 7};
    uint32_t idx[4] = {5, 5, 5, 6}, slot[4] = {3, 3, 3, 3};
    for (int i = 1; i < 4; i++) {
        adm_noise_fill(seeds[i], idx[i], slot[i], c, 1003);
        int same = 0;
        for (int e = 0; e < 1003; e++) same += a[e] == c[e];
        CHECK(same < 5, "case %d: %d equal draws", i, same);
    }
    adm_noise_fill(7, 5, 4, c, 1003);
    int same = 0;
    for (int e = 0; e < 1003; e++) same += a[e] == c[e];
    CHECK(same < 5, "next slot: %d equal draws", same);
}

static void test_classes(void) {
    int cnt[10] = {0};
    for (uint32_t k = 0; k < 10000; k++) {
        int y = adm_noise_class(99, k, 10);
        REQUIRE(y >= 0 && y < 10, "class %d", y);
        cnt[y]++;
    }
    double chi2 = 0;
    for (int i = 0; i < 10; i++) chi2 += (cnt[i] - 1000.0) * (cnt[i] - 1000.0) / 1000.0;
    printf("  10000 classes of 10: chi2(9) %.1f\n", chi2);
    CHECK(chi2 < 27.9, "class chi-square %g (p < 0.001)", chi2);
    CHECK(adm_noise_class(99, 3, 1000) == adm_noise_class(99, 3, 1000), "deterministic");
    CHECK(adm_noise_class(99, 3, 0) == -1, "no classes");
}

/* The device kernel's bytes equal the host's (B images, a length that is
 * not a multiple of 4 or of the work-group size). */
static void test_device_matches_host(void) {
    adm_cl cl;
    memset(&cl, 0, sizeof cl);
    REQUIRE(adm_cl_open(&cl, test_device(), 0) == 0, "%s", adm_last_error());
    enum { B = 3, NE = 3 * 128 * 128 + 3 };
    size_t total = (size_t)B * NE + 5;
    float *host = malloc(total * sizeof(float)), *dev = malloc(total * sizeof(float));
    cl_mem m = adm_cl_alloc(&cl, total * sizeof(float));
    REQUIRE(host && dev && m, "%s", adm_last_error());
    uint64_t seed = 0x0123456789abcdefull;
    for (int b = 0; b < B; b++) adm_noise_fill(seed, 40 + b, 9, host + 5 + (size_t)b * NE, NE);
    adm_dt y = adm_dt_make(m, 5, 1, 1, 1, B * NE);
    REQUIRE(adm_op_noise(&cl, seed, 40, B, 9, NE, &y) == 0, "%s", adm_last_error());
    REQUIRE(adm_cl_read(&cl, m, 5 * sizeof(float), (size_t)B * NE * sizeof(float), dev + 5) == 0, "%s", adm_last_error());
    size_t diff = 0;
    for (size_t i = 5; i < total; i++) diff += memcmp(&host[i], &dev[i], sizeof(float)) != 0;
    printf("  %s: %zu of %zu floats differ from the host\n", cl.device_name, diff, (size_t)B * NE);
    CHECK(diff == 0, "%zu floats differ", diff);
    clReleaseMemObject(m);
    free(host); free(dev);
    adm_cl_close(&cl);
}

int main(void) {
    RUN(test_philox_kat);
    RUN(test_transform_accuracy);
    RUN(test_statistics);
    RUN(test_counter_layout);
    RUN(test_classes);
    RUN(test_device_matches_host);
    CHECK_EXIT();
}
