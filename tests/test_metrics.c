/* test_metrics.c — FID, Inception Score, precision and recall against the
 * reference evaluator's numbers (tests/data/reference/metrics_a, computed by
 * guided-diffusion's evaluator math with numpy/scipy), plus closed forms. */
#include "check.h"
#include "metrics.h"
#include "npy.h"
#include "util.h"
#include <json-c/json.h>

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

static int load_f32(const char *rel_path, adm_tensor *t) {
    char p[512];
    if (adm_npy_read(test_path(p, sizeof p, rel_path), t) != 0) { printf("  %s\n", adm_last_error()); return -1; }
    return t->dtype == ADM_F32 && t->ndim == 2 ? 0 : -1;
}

static void test_metrics_a(void) {
    char p[512];
    adm_tensor rf, sf, sp;
    REQUIRE(load_f32("reference/metrics_a/ref_features.npy", &rf) == 0, "ref_features");
    REQUIRE(load_f32("reference/metrics_a/sample_features.npy", &sf) == 0, "sample_features");
    REQUIRE(load_f32("reference/metrics_a/sample_softmax.npy", &sp) == 0, "sample_softmax");
    json_object *exp = json_object_from_file(test_path(p, sizeof p, "reference/metrics_a/expected.json"));
    REQUIRE(exp, "expected.json: %s", json_util_get_last_err());
    json_object *v;
    double e_fid = 0, e_is = 0, e_p = 0, e_r = 0;
    int split = 0;
    REQUIRE(json_object_object_get_ex(exp, "fid", &v), "fid"); e_fid = json_object_get_double(v);
    REQUIRE(json_object_object_get_ex(exp, "inception_score", &v), "is"); e_is = json_object_get_double(v);
    REQUIRE(json_object_object_get_ex(exp, "precision", &v), "precision"); e_p = json_object_get_double(v);
    REQUIRE(json_object_object_get_ex(exp, "recall", &v), "recall"); e_r = json_object_get_double(v);
    REQUIRE(json_object_object_get_ex(exp, "is_split_size", &v), "split"); split = json_object_get_int(v);
    json_object_put(exp);

    const int d = (int)rf.shape[1];
    adm_fid_stats a, b;
    double fid, is, prec, rec;
    REQUIRE(adm_fid_stats_compute(rf.data, rf.shape[0], d, &a) == 0, "%s", adm_last_error());
    REQUIRE(adm_fid_stats_compute(sf.data, sf.shape[0], d, &b) == 0, "%s", adm_last_error());
    REQUIRE(adm_frechet_distance(&b, &a, &fid) == 0, "%s", adm_last_error());
    CHECK(rel(fid, e_fid) < 1e-4, "fid %.10g, expected %.10g", fid, e_fid);
    REQUIRE(adm_inception_score(sp.data, sp.shape[0], (int)sp.shape[1], split, &is) == 0, "%s", adm_last_error());
    CHECK(rel(is, e_is) < 1e-4, "inception score %.10g, expected %.10g", is, e_is);
    REQUIRE(adm_precision_recall(rf.data, rf.shape[0], sf.data, sf.shape[0], d, &prec, &rec) == 0, "%s", adm_last_error());
    CHECK(fabs(prec - e_p) <= 2.0 / sf.shape[0], "precision %.6f, expected %.6f", prec, e_p);
    CHECK(fabs(rec - e_r) <= 2.0 / rf.shape[0], "recall %.6f, expected %.6f", rec, e_r);
    printf("  fid %.10g (expected %.10g, rel %.2g), IS %.10g (%.10g), precision %.4f (%.4f), recall %.4f (%.4f)\n",
           fid, e_fid, rel(fid, e_fid), is, e_is, prec, e_p, rec, e_r);
    /* the distance is symmetric and zero against itself */
    double fid2, fid0;
    REQUIRE(adm_frechet_distance(&a, &b, &fid2) == 0, "%s", adm_last_error());
    CHECK(rel(fid2, fid) < 1e-9, "fid(a,b) %.12g vs fid(b,a) %.12g", fid2, fid);
    REQUIRE(adm_frechet_distance(&a, &a, &fid0) == 0, "%s", adm_last_error());
    CHECK(fabs(fid0) < 1e-8 * fid, "fid(a,a) = %g", fid0);
    adm_fid_stats_free(&a); adm_fid_stats_free(&b);
    adm_tensor_free(&rf); adm_tensor_free(&sf); adm_tensor_free(&sp);
}

/* Diagonal covariances: d^2 = |mu1-mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2;
 * a rotation of both by the same orthogonal Q changes nothing. */
static void test_frechet_closed_form(void) {
    enum { D = 4 };
    double a[D] = {1, 4, 9, 0.25}, b[D] = {4, 1, 1, 0.0}, m1[D] = {1, 2, 3, 4}, m2[D] = {0, 2, 5, 4};
    double want = 1 + 0 + 4 + 0;
    for (int i = 0; i < D; i++) want += (sqrt(a[i]) - sqrt(b[i])) * (sqrt(a[i]) - sqrt(b[i]));
    /* Q = a Householder reflection I - 2 u u^T / |u|^2 */
    double u[D] = {1, -2, 0.5, 3}, uu = 0, Q[D][D];
    for (int i = 0; i < D; i++) uu += u[i] * u[i];
    for (int i = 0; i < D; i++) for (int j = 0; j < D; j++) Q[i][j] = (i == j) - 2 * u[i] * u[j] / uu;
    adm_fid_stats s[2];
    for (int k = 0; k < 2; k++) {
        const double *diag = k ? b : a, *m = k ? m2 : m1;
        double *mu = malloc(D * sizeof *mu), *sg = malloc(D * D * sizeof *sg);
        for (int i = 0; i < D; i++) {
            mu[i] = 0;
            for (int j = 0; j < D; j++) mu[i] += Q[i][j] * m[j];
            for (int j = 0; j < D; j++) {
                double e = 0;
                for (int l = 0; l < D; l++) e += Q[i][l] * diag[l] * Q[j][l];
                sg[i * D + j] = e;
            }
        }
        adm_fid_stats_wrap(&s[k], D, mu, sg);
    }
    double got;
    REQUIRE(adm_frechet_distance(&s[0], &s[1], &got) == 0, "%s", adm_last_error());
    /* b's zero variance makes S1^1/2 S2 S1^1/2 singular: LAPACK returns that eigenvalue
     * as +-eps (about 1e-16 of the trace, which bits depend on the CPU's vector width and
     * OpenBLAS's threads), and sqrt(eps) ~ 1e-8 enters the trace.  The rest is exact to
     * round-off, so 1e-6 still catches any real error (a wrong term is >= 0.25 here). */
    CHECK(fabs(got - want) < 1e-6, "got %.15g, want %.15g", got, want);
    adm_fid_stats_free(&s[0]); adm_fid_stats_free(&s[1]);
}

/* np.cov's 1/(n-1): x = {0, 2} -> variance 2; IS of one-hot rows spread over
 * k classes is k, of identical rows 1. */
static void test_stats_and_is(void) {
    float x[4] = {0, 1, 2, 5};          /* two rows of d = 2 */
    adm_fid_stats s;
    REQUIRE(adm_fid_stats_compute(x, 2, 2, &s) == 0, "%s", adm_last_error());
    CHECK(s.mu[0] == 1 && s.mu[1] == 3, "mu %g %g", s.mu[0], s.mu[1]);
    CHECK(s.sigma[0] == 2 && s.sigma[1] == 4 && s.sigma[2] == 4 && s.sigma[3] == 8, "sigma %g %g %g %g",
          s.sigma[0], s.sigma[1], s.sigma[2], s.sigma[3]);
    adm_fid_stats_free(&s);
    CHECK(adm_fid_stats_compute(x, 1, 2, &s) != 0 && strstr(adm_last_error(), "at least 2"), "one row refused");

    float p[6 * 3] = {0};
    for (int i = 0; i < 6; i++) p[i * 3 + i % 3] = 1;
    double is;
    REQUIRE(adm_inception_score(p, 6, 3, 5000, &is) == 0, "%s", adm_last_error());
    CHECK(fabs(is - 3) < 1e-12, "one-hot IS %g, want 3", is);
    /* splits of 3: each split holds all three classes once */
    REQUIRE(adm_inception_score(p, 6, 3, 3, &is) == 0, "%s", adm_last_error());
    CHECK(fabs(is - 3) < 1e-12, "split IS %g, want 3", is);
    /* splits of 2: {0,1},{2,0},{1,2}: IS 2 each */
    REQUIRE(adm_inception_score(p, 6, 3, 2, &is) == 0, "%s", adm_last_error());
    CHECK(fabs(is - 2) < 1e-12, "split-2 IS %g, want 2", is);
    for (int i = 0; i < 18; i++) p[i] = 1.0f / 3;
    REQUIRE(adm_inception_score(p, 6, 3, 5000, &is) == 0, "%s", adm_last_error());
    CHECK(fabs(is - 1) < 1e-6, "uniform IS %g, want 1", is);
    float l[3] = {0, 0, 100}, q[3];
    adm_softmax_rows(l, 1, 3, q);
    CHECK(q[2] > 0.999999f && q[0] < 1e-40f + 1e-43f, "softmax %g %g %g", q[0], q[1], q[2]);
}

/* Points on a line: refs at 0..9, radius = squared distance to the 3rd
 * neighbour (9 at the ends' neighbours ... ); samples near the middle are
 * inside, far ones outside. */
static void test_precision_recall_line(void) {
    float ref[10], sam[5] = {4.5f, 5.0f, 100.0f, 101.0f, 102.0f};
    for (int i = 0; i < 10; i++) ref[i] = (float)i;
    double p, r;
    REQUIRE(adm_precision_recall(ref, 10, sam, 5, 1, &p, &r) == 0, "%s", adm_last_error());
    /* samples 4.5, 5 are inside reference balls; 100..102 are not */
    CHECK(fabs(p - 2.0 / 5) < 1e-12, "precision %g, want 0.4", p);
    /* sample radii: 4.5 -> 3rd nearest of {5,100,101,102} is 101: (96.5)^2, so every ref is inside */
    CHECK(fabs(r - 1.0) < 1e-12, "recall %g, want 1", r);
    CHECK(adm_precision_recall(ref, 10, sam, 3, 1, &p, &r) != 0 && strstr(adm_last_error(), "at least 4"),
          "3 samples refused: %s", adm_last_error());
}

int main(void) {
    RUN(test_metrics_a);
    RUN(test_frechet_closed_form);
    RUN(test_stats_and_is);
    RUN(test_precision_recall_line);
    CHECK_EXIT();
}
