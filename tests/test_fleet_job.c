/* test_fleet_job.c — the fleet's job messages (fleet/fleet_job.c): a
 * request survives JSON and back; seeds up to 2^63-1 exactly; every kind
 * of malformed message refused with a reason naming the problem. */
#include "check.h"
#include "fleet.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, adm_spool_request *r) { return adm_fleet_job_parse(text, strlen(text), r); }

static void test_roundtrip(void) {
    adm_spool_request a, b;
    adm_spool_request_init(&a);
    snprintf(a.model, sizeof a.model, "mnist");
    a.klass = 7; a.count = 3; a.scale = 2.5; a.eta = 0.25; a.steps = 15; a.priority = -4; a.max_attempts = 5;
    a.seed = 9223372036854775807LL;
    snprintf(a.sampler, sizeof a.sampler, "dpm++2m");
    snprintf(a.skip, sizeof a.skip, "logsnr");
    snprintf(a.thresholding, sizeof a.thresholding, "none");
    snprintf(a.outdir, sizeof a.outdir, "x/y");
    char *text = adm_fleet_job_json(&a);
    REQUIRE(text, "json: %s", adm_last_error());
    REQUIRE(parse(text, &b) == 0, "parse %s: %s", text, adm_last_error());
    CHECK(!strcmp(b.model, "mnist") && b.klass == 7 && b.count == 3 && b.scale == 2.5 && b.eta == 0.25, "%s", text);
    CHECK(b.steps == 15 && b.priority == -4 && b.max_attempts == 5 && b.seed == a.seed, "%s", text);
    CHECK(!strcmp(b.sampler, "dpm++2m") && !strcmp(b.skip, "logsnr") && !strcmp(b.thresholding, "none") &&
          !strcmp(b.outdir, "x/y"), "%s", text);
    free(text);
    /* defaults: class random, scale and eta the model's, seed the box's */
    REQUIRE(parse("{\"model\": \"m\"}", &b) == 0, "%s", adm_last_error());
    CHECK(b.klass == -1 && isnan(b.scale) && isnan(b.eta) && b.seed == -1 && b.count == 1, "defaults");
}

static void test_seeds(void) {
    adm_spool_request r;
    CHECK(parse("{\"model\":\"m\",\"seed\":9223372036854775807}", &r) == 0 && r.seed == 9223372036854775807LL,
          "2^63-1: %s", adm_last_error());
    CHECK(parse("{\"model\":\"m\",\"seed\":0}", &r) == 0 && r.seed == 0, "0");
    CHECK(parse("{\"model\":\"m\",\"seed\":9223372036854775808}", &r) != 0, "2^63 accepted");
    CHECK(parse("{\"model\":\"m\",\"seed\":-1}", &r) != 0 && strstr(adm_last_error(), "'seed'"), "-1 accepted");
    CHECK(parse("{\"model\":\"m\",\"seed\":1.5}", &r) != 0, "1.5 accepted");
}

static void test_refused(void) {
    static const struct { const char *text, *reason; } bad[] = {
        {"", "bad JSON"},
        {"{\"model\": \"m\", \"count\": ", "bad JSON: the text ends early"},
        {"{\"model\": \"m\"} trailing", "text after the object"},
        {"[1, 2]", "not an object"},
        {"{\"count\": 2}", "'model' is missing"},
        {"{\"model\": \"m\", \"colour\": 3}", "unknown key 'colour'"},
        {"{\"model\": \"m\", \"eta\": \"high\"}", "'eta' must be a number"},
        {"{\"model\": \"m\", \"count\": 2.5}", "'count' must be a whole number"},
        {"{\"model\": 5}", "'model' must be a string"},
        {"{\"model\": \"m\", \"v\": 2}", "'v' must be 1"},
        {"{\"model\": \"m\", \"max_attempts\": 1000}", "'max_attempts' must be from 1 to 100"},
        {"{\"model\": \"0123456789012345678901234567890123456789012345678901234567890123456789\"}", "too long"},
        {"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}", "bad JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        adm_spool_request r;
        int rc = parse(bad[i].text, &r);
        CHECK(rc != 0 && strstr(adm_last_error(), bad[i].reason), "'%s': rc %d, '%s' (wanted '%s')", bad[i].text, rc,
              adm_last_error(), bad[i].reason);
    }
    char *big = malloc(ADM_FLEET_MAX_JOB_BYTES + 2);
    REQUIRE(big, "malloc");
    memset(big, ' ', ADM_FLEET_MAX_JOB_BYTES + 1);
    big[ADM_FLEET_MAX_JOB_BYTES + 1] = 0;
    adm_spool_request r;
    CHECK(parse(big, &r) != 0 && strstr(adm_last_error(), "at most"), "oversized: %s", adm_last_error());
    free(big);
}

static void test_ids(void) {
    char id[33];
    adm_fleet_new_id(id);
    CHECK(strlen(id) == 32 && adm_fleet_id_ok(id), "%s", id);
    CHECK(!adm_fleet_id_ok("") && !adm_fleet_id_ok("a.b") && !adm_fleet_id_ok("a b") && !adm_fleet_id_ok("a*") &&
          !adm_fleet_id_ok("a>"), "bad ids accepted");
    char tok[16];
    adm_fleet_token("host.x:12:ab", tok, sizeof tok);
    CHECK(!strcmp(tok, "host_x_12_ab"), "%s", tok);
}

int main(void) {
    RUN(test_roundtrip);
    RUN(test_seeds);
    RUN(test_refused);
    RUN(test_ids);
    CHECK_EXIT();
}
