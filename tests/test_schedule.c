/* test_schedule.c — beta schedules, respacing and the respaced tables
 * against the reference's own numbers (tests/data/reference/schedules):
 * kept timesteps exactly, float64 tables within 1e-12. */
#include "check.h"
#include "npy.h"
#include "schedule.h"
#include "util.h"

/* max |a - b| over n doubles of reference file rel (which must have n elements). */
static double max_err_vs(const char *rel, const double *a, int n, int *ok) {
    char p[512]; adm_tensor t;
    *ok = 0;
    if (adm_npy_read(test_path(p, sizeof p, rel), &t)) { printf("  %s\n", adm_last_error()); return INFINITY; }
    if (adm_tensor_numel(&t) != n || (t.dtype != ADM_F64 && t.dtype != ADM_I64)) {
        printf("  %s: %lld elements of %s, want %d\n", rel, (long long)adm_tensor_numel(&t), adm_dtype_name(t.dtype), n);
        adm_tensor_free(&t); return INFINITY;
    }
    double m = 0;
    for (int i = 0; i < n; i++) {
        double r = t.dtype == ADM_F64 ? ((double *)t.data)[i] : (double)((int64_t *)t.data)[i];
        double e = fabs(r - a[i]);
        if (!(e <= m)) m = e;
    }
    adm_tensor_free(&t);
    *ok = 1;
    return m;
}

static void test_base_betas(void) {
    const char *names[2] = {"linear", "cosine"};
    for (int k = 0; k < 2; k++) {
        double b[1000]; char rel[128]; int ok;
        REQUIRE(adm_beta_schedule(names[k], 1000, b) == 0, "%s", adm_last_error());
        snprintf(rel, sizeof rel, "reference/schedules/sched_betas_%s_1000.npy", names[k]);
        double e = max_err_vs(rel, b, 1000, &ok);
        printf("  %s betas: max error %.3g\n", names[k], e);
        CHECK(ok && e <= 1e-12, "%s betas off by %g", names[k], e);
    }
    double b[10];
    CHECK(adm_beta_schedule("quadratic", 10, b) != 0, "unknown schedule accepted");
    CHECK(strstr(adm_last_error(), "quadratic") != NULL, "error names it: %s", adm_last_error());
}

/* Every line of respacing.txt: "spec: t0,t1,..." (the spec may hold commas). */
static void test_respacing_reference(void) {
    char p[512]; uint8_t *text; size_t len;
    REQUIRE(adm_read_file(test_path(p, sizeof p, "reference/schedules/respacing.txt"), &text, &len) == 0, "%s", adm_last_error());
    int cases = 0;
    for (char *line = strtok((char *)text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0]) continue;
        char *sep = strstr(line, ": ");
        if (!sep) { CHECK(0, "bad line %.40s", line); continue; }
        *sep = 0;
        const char *spec = line;
        int want[1000], nwant = 0;
        for (char *q = sep + 2; *q && nwant < 1000;) { want[nwant++] = (int)strtol(q, &q, 10); if (*q == ',') q++; }
        int got[1000];
        int n = adm_space_timesteps(1000, spec, got, 1000);
        int same = n == nwant;
        for (int i = 0; same && i < n; i++) same = got[i] == want[i];
        CHECK(same, "spec '%s': got %d steps (%s), want %d", spec, n, n < 0 ? adm_last_error() : "", nwant);
        cases++;
    }
    printf("  %d respacing specs match\n", cases);
    CHECK(cases >= 10, "only %d specs read", cases);
    free(text);
}

static void test_respaced_tables(void) {
    const char *names[2] = {"linear", "cosine"};
    for (int k = 0; k < 2; k++) {
        adm_schedule s;
        REQUIRE(adm_schedule_build(&s, names[k], 1000, "25") == 0, "%s", adm_last_error());
        REQUIRE(s.num_steps == 25, "%d steps", s.num_steps);
        double tm[25];
        for (int i = 0; i < 25; i++) tm[i] = (double)s.timestep_map[i];
        struct { const char *name; const double *v; } tabs[] = {
            {"betas", s.betas}, {"alphas_cumprod", s.alphas_cumprod}, {"alphas_cumprod_prev", s.alphas_cumprod_prev},
            {"posterior_variance", s.posterior_variance},
            {"posterior_log_variance_clipped", s.posterior_log_variance_clipped},
            {"posterior_mean_coef1", s.posterior_mean_coef1}, {"posterior_mean_coef2", s.posterior_mean_coef2},
            {"timestep_map", tm},
        };
        double worst = 0;
        for (size_t j = 0; j < sizeof tabs / sizeof *tabs; j++) {
            char rel[160]; int ok;
            snprintf(rel, sizeof rel, "reference/schedules/sched_%s_25_%s.npy", names[k], tabs[j].name);
            double e = max_err_vs(rel, tabs[j].v, 25, &ok);
            CHECK(ok && e <= 1e-12, "%s %s off by %g", names[k], tabs[j].name, e);
            if (e > worst) worst = e;
        }
        printf("  %s/25 tables: max error %.3g\n", names[k], worst);
        adm_schedule_free(&s);
    }
}

static void test_bad_specs(void) {
    int keep[1000];
    const char *bad[] = {"", "abc", "ddim", "ddim7x", "ddim999", "10,,20", "2000", "10,-3", "0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int n = adm_space_timesteps(1000, bad[i], keep, 1000);
        CHECK(n < 0, "spec '%s' accepted (%d steps)", bad[i], n);
        CHECK(n >= 0 || strlen(adm_last_error()) > 0, "no message");
    }
    adm_schedule s;
    CHECK(adm_schedule_build(&s, "cosine", 1000, "1") != 0, "a 1-step process accepted");
    CHECK(adm_schedule_build(&s, "cosine", 1000, "ddim1000") != 0 || s.num_steps == 1000, "ddim1000");
    if (s.num_steps == 1000) adm_schedule_free(&s);
    /* no respacing: the base process itself */
    REQUIRE(adm_schedule_build(&s, "linear", 1000, NULL) == 0, "%s", adm_last_error());
    CHECK(s.num_steps == 1000 && s.timestep_map[999] == 999, "identity map");
    CHECK(fabs(s.betas[0] - 1e-4) < 1e-15, "beta0 %g", s.betas[0]);
    adm_schedule_free(&s);
}

int main(void) {
    RUN(test_base_betas);
    RUN(test_respacing_reference);
    RUN(test_respaced_tables);
    RUN(test_bad_specs);
    CHECK_EXIT();
}
