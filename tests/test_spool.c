/* test_spool.c — the spool's C API on a real SQLite file: schema version
 * handling, request validation by the schema, claim order, the job life
 * cycle (heartbeat, outputs, finish, provenance), cancel, release, lease
 * expiry (retry then dead), reclaim, two processes claiming at once, and
 * png_file's encode/decode and util's atomic write. */
#include "check.h"
#include "png_file.h"
#include "spool.h"
#include "util.h"
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

/* A fresh spool file path in the test's folder. */
static const char *fresh(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
    return path;
}

static adm_spool *open_new(const char *name) {
    adm_spool *s = NULL;
    if (adm_spool_open(fresh(name), ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &s) != 0) {
        printf("  open: %s\n", adm_last_error());
        return NULL;
    }
    return s;
}

/* Register model "m" (10 classes, with a classifier) and "u" (no classifier). */
static int add_models(adm_spool *s) {
    adm_spool_model m;
    adm_spool_model_init(&m);
    snprintf(m.name, sizeof m.name, "m");
    snprintf(m.unet_path, sizeof m.unet_path, "unet.pt");
    snprintf(m.unet_config, sizeof m.unet_config, "unet.config.txt");
    snprintf(m.classifier_path, sizeof m.classifier_path, "classifier.pt");
    snprintf(m.classifier_config, sizeof m.classifier_config, "classifier.config.txt");
    m.num_classes = 10;
    m.default_scale = 2.5;
    snprintf(m.default_respacing, sizeof m.default_respacing, "ddim8");
    if (adm_spool_model_add(s, &m, 0) != 0) return -1;
    adm_spool_model_init(&m);
    snprintf(m.name, sizeof m.name, "u");
    snprintf(m.unet_path, sizeof m.unet_path, "/abs/u.pt");
    snprintf(m.unet_config, sizeof m.unet_config, "--image_size 32");
    return adm_spool_model_add(s, &m, 0);
}

static int64_t submit(adm_spool *s, const char *model, int klass, int count, int priority) {
    adm_spool_request r;
    adm_spool_request_init(&r);
    snprintf(r.model, sizeof r.model, "%s", model);
    r.klass = klass;
    r.count = count;
    r.priority = priority;
    int64_t id = -1;
    if (adm_spool_submit(s, &r, &id) != 0) printf("  submit: %s\n", adm_last_error());
    return id;
}

static void test_schema_versions(void) {
    adm_spool *s = open_new("v.db");
    REQUIRE(s, "open");
    CHECK(adm_spool_schema_version(s) == adm_spool_latest_version(), "version %d", adm_spool_schema_version(s));
    CHECK(adm_spool_latest_version() >= 1, "latest %d", adm_spool_latest_version());
    adm_spool_close(s);
    /* Reopening an up-to-date file without MIGRATE works. */
    char path[512];
    snprintf(path, sizeof path, "%s/v.db", tmpdir);
    REQUIRE(adm_spool_open(path, 0, &s) == 0, "reopen: %s", adm_last_error());
    adm_spool_close(s);
    /* A newer schema is refused, naming both versions. */
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK, "sqlite3_open");
    sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(adm_spool_open(path, ADM_SPOOL_MIGRATE, &s) != 0, "newer schema accepted");
    CHECK(strstr(adm_last_error(), "newer") && strstr(adm_last_error(), "999"), "message: %s", adm_last_error());
    /* Another program's database is refused. */
    const char *other = fresh("other.db");
    REQUIRE(sqlite3_open(other, &db) == SQLITE_OK, "sqlite3_open");
    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(adm_spool_open(other, ADM_SPOOL_MIGRATE, &s) != 0, "foreign database accepted");
    CHECK(strstr(adm_last_error(), "not an admd spool"), "message: %s", adm_last_error());
    /* A missing file without CREATE, and a folder, are refused. */
    CHECK(adm_spool_open(fresh("missing.db"), 0, &s) != 0 && strstr(adm_last_error(), "no such file"),
          "missing: %s", adm_last_error());
    CHECK(adm_spool_open(tmpdir, 0, &s) != 0, "folder accepted");
}

static void test_validation(void) {
    adm_spool *s = open_new("val.db");
    REQUIRE(s, "open");
    REQUIRE(add_models(s) == 0, "models: %s", adm_last_error());
    adm_spool_request r;
    struct { const char *field; const char *expect; } cases[] = {
        {"count0", "jobs.count"}, {"count_huge", "jobs.count"}, {"scale_inf", "jobs.scale"},
        {"scale_neg", "jobs.scale"}, {"model", "unknown model"}, {"class", "jobs.class"},
        {"sampler", "jobs.sampler"}, {"respacing", "jobs.respacing"}, {"outdir", "jobs.outdir"},
        {"outdir_abs", "jobs.outdir"}, {"eta", "jobs.eta"}, {"noclassifier", "jobs.scale"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        adm_spool_request_init(&r);
        snprintf(r.model, sizeof r.model, "m");
        const char *f = cases[i].field;
        if (!strcmp(f, "count0")) r.count = 0;
        if (!strcmp(f, "count_huge")) r.count = 1000000;
        if (!strcmp(f, "scale_inf")) r.scale = INFINITY;
        if (!strcmp(f, "scale_neg")) r.scale = -1;
        if (!strcmp(f, "model")) snprintf(r.model, sizeof r.model, "nope");
        if (!strcmp(f, "class")) r.klass = 10;
        if (!strcmp(f, "sampler")) snprintf(r.sampler, sizeof r.sampler, "euler");
        if (!strcmp(f, "respacing")) snprintf(r.respacing, sizeof r.respacing, "ddim");
        if (!strcmp(f, "outdir")) snprintf(r.outdir, sizeof r.outdir, "a/../../etc");
        if (!strcmp(f, "outdir_abs")) snprintf(r.outdir, sizeof r.outdir, "/etc");
        if (!strcmp(f, "eta")) r.eta = 1.5;
        if (!strcmp(f, "noclassifier")) { snprintf(r.model, sizeof r.model, "u"); r.scale = 1; }
        int64_t id;
        int rc = adm_spool_submit(s, &r, &id);
        CHECK(rc != 0, "%s accepted", f);
        CHECK(strstr(adm_last_error(), cases[i].expect), "%s: message '%s' lacks '%s'", f, adm_last_error(),
              cases[i].expect);
    }
    /* Defaults come from the model row. */
    adm_spool_request_init(&r);
    snprintf(r.model, sizeof r.model, "m");
    r.klass = 9;
    int64_t id;
    REQUIRE(adm_spool_submit(s, &r, &id) == 0, "submit: %s", adm_last_error());
    adm_spool_job j;
    REQUIRE(adm_spool_job_get(s, id, &j) == 0, "get: %s", adm_last_error());
    CHECK(j.req.scale == 2.5 && !strcmp(j.req.respacing, "ddim8") && !strcmp(j.req.sampler, "ddpm") &&
          j.req.eta == 0 && !strcmp(j.state, "queued") && j.position == 1,
          "defaults: scale %g respacing %s sampler %s state %s pos %d", j.req.scale, j.req.respacing,
          j.req.sampler, j.state, j.position);
    /* A model with queued jobs cannot be removed; an unknown one says so. */
    CHECK(adm_spool_model_remove(s, "m") != 0 && strstr(adm_last_error(), "queued"), "remove: %s", adm_last_error());
    CHECK(adm_spool_model_remove(s, "zz") != 0 && strstr(adm_last_error(), "unknown model"), "remove unknown");
    CHECK(adm_spool_model_remove(s, "u") == 0, "remove u: %s", adm_last_error());
    /* Adding a name twice is refused; replace updates; set_info fills what the daemon learns. */
    adm_spool_model mm;
    REQUIRE(adm_spool_model_get(s, "m", &mm) == 0, "get m");
    CHECK(adm_spool_model_add(s, &mm, 0) != 0 && strstr(adm_last_error(), "already exists"), "duplicate: %s",
          adm_last_error());
    snprintf(mm.default_sampler, sizeof mm.default_sampler, "ddim");
    CHECK(adm_spool_model_add(s, &mm, 1) == 0, "replace: %s", adm_last_error());
    char sha[65];
    memset(sha, 'a', 64); sha[64] = 0;
    CHECK(adm_spool_model_set_info(s, "m", sha, NULL, 32, 3, -1) == 0, "set_info: %s", adm_last_error());
    REQUIRE(adm_spool_model_get(s, "m", &mm) == 0, "get m");
    CHECK(!strcmp(mm.default_sampler, "ddim") && !strcmp(mm.unet_sha256, sha) && !mm.classifier_sha256[0] &&
          mm.image_size == 32 && mm.channels == 3 && mm.num_classes == 10, "after set_info: %s %d %d %d",
          mm.default_sampler, mm.image_size, mm.channels, mm.num_classes);
    CHECK(adm_spool_model_set_info(s, "m", "not-hex", NULL, -1, -1, -1) != 0 &&
          strstr(adm_last_error(), "models.unet_sha256"), "bad sha accepted: %s", adm_last_error());
    adm_spool_model *ms;
    int n;
    REQUIRE(adm_spool_model_list(s, &ms, &n) == 0, "list");
    CHECK(n == 1 && !strcmp(ms[0].name, "m") && ms[0].num_classes == 10, "models %d", n);
    free(ms);
    char buf[512];
    CHECK(!strcmp(adm_spool_resolve(s, "/x/y", buf, sizeof buf), "/x/y"), "absolute");
    adm_spool_resolve(s, "unet.pt", buf, sizeof buf);
    CHECK(strstr(buf, tmpdir) && strstr(buf, "/unet.pt"), "relative resolved to %s", buf);
    adm_spool_close(s);
}

static void test_lifecycle(void) {
    adm_spool *s = open_new("life.db");
    REQUIRE(s, "open");
    REQUIRE(add_models(s) == 0, "models: %s", adm_last_error());
    int64_t low = submit(s, "m", 1, 2, 0), high = submit(s, "m", 2, 2, 5), low2 = submit(s, "m", 3, 1, 0);
    REQUIRE(low > 0 && high > 0 && low2 > 0, "submit");
    adm_spool_job j;
    adm_spool_model m;
    CHECK(adm_spool_claim(s, 42, &j, &m) < 0, "claim without a worker id");
    REQUIRE(adm_spool_set_worker(s, "host:1:a", 30) == 0, "worker");
    REQUIRE(adm_spool_claim(s, 42, &j, &m) == 1, "claim: %s", adm_last_error());
    CHECK(j.id == high, "priority first: got %lld", (long long)j.id);
    CHECK(j.req.seed == 42 && j.attempts == 1 && !strcmp(j.state, "running") && !strcmp(m.name, "m"),
          "seed %lld attempts %d state %s", (long long)j.req.seed, j.attempts, j.state);
    CHECK(adm_spool_heartbeat(s, j.id, 3, 8) == 0, "heartbeat: %s", adm_last_error());
    /* done needs every image recorded */
    CHECK(adm_spool_finish(s, j.id, NULL) < 0, "finished with no images");
    for (int k = 0; k < 2; k++) {
        adm_spool_output o;
        memset(&o, 0, sizeof o);
        o.job_id = j.id; o.index = k; o.seed = 42; o.klass = 2; o.bytes = 100 + k; o.seconds = 0.5;
        snprintf(o.noise_algorithm, sizeof o.noise_algorithm, "test");
        snprintf(o.path, sizeof o.path, "/tmp/x%d.png", k);
        snprintf(o.sha256, sizeof o.sha256, "%064d", k);
        CHECK(adm_spool_record_output(s, &o) == 0, "record %d: %s", k, adm_last_error());
        if (k == 0) CHECK(adm_spool_record_output(s, &o) != 0, "recorded image 0 twice");
    }
    adm_spool_provenance p;
    memset(&p, 0, sizeof p);
    snprintf(p.device_name, sizeof p.device_name, "dev");
    snprintf(p.sampler, sizeof p.sampler, "ddpm");
    p.seed = 42; p.klass = 2; p.count = 2; p.steps_s = 1.25;
    snprintf(p.engine, sizeof p.engine, "auto: 3 shapes: own 1, clblast 0, convgemm 2 (choices sha256 0123456789abcdef)");
    CHECK(adm_spool_finish(s, j.id, &p) == 0, "finish: %s", adm_last_error());
    REQUIRE(adm_spool_job_get(s, j.id, &j) == 0, "get");
    CHECK(!strcmp(j.state, "done") && j.images_done == 2 && j.finished_at[0], "state %s done %d", j.state, j.images_done);
    adm_spool_output *outs;
    int n;
    REQUIRE(adm_spool_outputs(s, j.id, &outs, &n) == 0, "outputs");
    CHECK(n == 2 && outs[1].index == 1 && outs[1].bytes == 101 && outs[0].klass == 2, "outputs %d", n);
    free(outs);
    adm_spool_provenance q;
    CHECK(adm_spool_provenance_get(s, j.id, &q) == 0 && !strcmp(q.device_name, "dev") && q.steps_s == 1.25 &&
          q.seed == 42 && !strcmp(q.engine, p.engine), "provenance");
    CHECK(adm_spool_provenance_get(s, low, &q) == 1, "provenance of an unfinished job");
    CHECK(adm_spool_cancel(s, j.id) == 1, "cancelled a done job");

    /* Next by age; cancel while running: heartbeat and record say "not ours". */
    REQUIRE(adm_spool_claim(s, 7, &j, &m) == 1 && j.id == low, "claim low");
    CHECK(adm_spool_cancel(s, low) == 0, "cancel: %s", adm_last_error());
    CHECK(adm_spool_heartbeat(s, low, 1, 8) == 1, "heartbeat after cancel");
    adm_spool_output o;
    memset(&o, 0, sizeof o);
    o.job_id = low; o.bytes = 1;
    snprintf(o.sha256, sizeof o.sha256, "%064d", 0);
    snprintf(o.noise_algorithm, sizeof o.noise_algorithm, "t");
    snprintf(o.path, sizeof o.path, "/tmp/y");
    CHECK(adm_spool_record_output(s, &o) == 1, "record after cancel");
    CHECK(adm_spool_finish(s, low, NULL) == 1, "finish after cancel");
    REQUIRE(adm_spool_job_get(s, low, &j) == 0, "get");
    CHECK(!strcmp(j.state, "cancelled") && j.finished_at[0], "state %s", j.state);

    /* Release (SIGTERM) puts it back without counting the attempt. */
    REQUIRE(adm_spool_claim(s, 7, &j, &m) == 1 && j.id == low2, "claim low2");
    CHECK(adm_spool_release(s, low2) == 0, "release: %s", adm_last_error());
    REQUIRE(adm_spool_job_get(s, low2, &j) == 0, "get");
    CHECK(!strcmp(j.state, "queued") && j.attempts == 0 && j.req.seed == 7 && !j.worker[0],
          "after release: %s attempts %d seed %lld", j.state, j.attempts, (long long)j.req.seed);
    /* The seed chosen at the first claim stays. */
    REQUIRE(adm_spool_claim(s, 99, &j, &m) == 1 && j.req.seed == 7, "seed kept: %lld", (long long)j.req.seed);
    CHECK(adm_spool_fail(s, low2, "disk full", NULL) == 0, "fail");
    REQUIRE(adm_spool_job_get(s, low2, &j) == 0, "get");
    CHECK(!strcmp(j.state, "failed") && !strcmp(j.error, "disk full"), "state %s error %s", j.state, j.error);
    CHECK(adm_spool_requeue(s, low2) == 0, "requeue: %s", adm_last_error());
    REQUIRE(adm_spool_job_get(s, low2, &j) == 0, "get");
    CHECK(!strcmp(j.state, "queued") && !j.error[0] && j.attempts == 0, "requeued: %s", j.state);
    int counts[6];
    REQUIRE(adm_spool_counts(s, counts) == 0, "counts");
    CHECK(counts[0] == 1 && counts[2] == 1 && counts[4] == 1, "counts %d %d %d", counts[0], counts[2], counts[4]);
    CHECK(adm_spool_claim(s, 1, &j, &m) == 1 && adm_spool_claim(s, 1, &j, &m) == 0, "empty queue");
    adm_spool_close(s);
}

static int all_dead(const char *worker, void *user) { (void)user; return strstr(worker, "gone") != NULL; }

static void test_leases(void) {
    adm_spool *s = open_new("lease.db");
    REQUIRE(s, "open");
    REQUIRE(add_models(s) == 0, "models");
    adm_spool_request r;
    adm_spool_request_init(&r);
    snprintf(r.model, sizeof r.model, "m");
    r.max_attempts = 2;
    int64_t id;
    REQUIRE(adm_spool_submit(s, &r, &id) == 0, "submit: %s", adm_last_error());
    REQUIRE(adm_spool_set_worker(s, "host:1:a", 1) == 0, "worker");
    adm_spool_job j;
    adm_spool_model m;
    int q, d;
    for (int attempt = 1; attempt <= 2; attempt++) {
        REQUIRE(adm_spool_claim(s, 5, &j, &m) == 1 && j.attempts == attempt, "claim %d", attempt);
        REQUIRE(adm_spool_reap(s, &q, &d) == 0 && q == 0 && d == 0, "reaped a live lease");
        usleep(1300 * 1000);
        REQUIRE(adm_spool_reap(s, &q, &d) == 0, "reap: %s", adm_last_error());
        CHECK(q == (attempt < 2) && d == (attempt == 2), "attempt %d: requeued %d dead %d", attempt, q, d);
    }
    REQUIRE(adm_spool_job_get(s, id, &j) == 0, "get");
    CHECK(!strcmp(j.state, "dead") && strstr(j.error, "attempt 2 of 2"), "state %s error %s", j.state, j.error);
    /* Reclaim: jobs of a worker known to be gone go back at once. */
    REQUIRE(adm_spool_submit(s, &r, &id) == 0, "submit");
    REQUIRE(adm_spool_set_worker(s, "host:2:gone", 60) == 0 && adm_spool_claim(s, 5, &j, &m) == 1, "claim");
    REQUIRE(adm_spool_set_worker(s, "host:3:b", 60) == 0, "worker");
    int n;
    CHECK(adm_spool_reclaim(s, all_dead, NULL, &n) == 0 && n == 1, "reclaimed %d", n);
    REQUIRE(adm_spool_job_get(s, id, &j) == 0, "get");
    CHECK(!strcmp(j.state, "queued") && j.attempts == 0 && strstr(j.error, "not counted as an attempt"),
          "a crash is not an attempt: state %s attempts %d error %s", j.state, j.attempts, j.error);
    /* ... but a crash loop ends: ADM_SPOOL_MAX_CRASHES in a row without a new image make it dead. */
    for (int k = 2; k <= ADM_SPOOL_MAX_CRASHES; k++) {
        REQUIRE(adm_spool_set_worker(s, "host:2:gone", 60) == 0 && adm_spool_claim(s, 5, &j, &m) == 1, "claim %d", k);
        REQUIRE(adm_spool_set_worker(s, "host:3:b", 60) == 0, "worker");
        CHECK(adm_spool_reclaim(s, all_dead, NULL, &n) == 0 && n == 1, "crash %d: reclaimed %d", k, n);
    }
    REQUIRE(adm_spool_job_get(s, id, &j) == 0, "get");
    CHECK(!strcmp(j.state, "dead") && strstr(j.error, "10 times in a row") && j.finished_at[0],
          "after %d crashes: state %s error %s", ADM_SPOOL_MAX_CRASHES, j.state, j.error);
    adm_spool_close(s);
}

/* Two processes claim from one spool as fast as they can: every job is
 * claimed exactly once. */
static void test_concurrent_claims(void) {
    enum { JOBS = 40 };
    adm_spool *s = open_new("race.db");
    REQUIRE(s, "open");
    REQUIRE(add_models(s) == 0, "models");
    for (int i = 0; i < JOBS; i++) REQUIRE(submit(s, "m", -1, 1, 0) > 0, "submit");
    char path[512];
    snprintf(path, sizeof path, "%s", adm_spool_path(s));
    adm_spool_close(s);
    int fds[2][2];
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        REQUIRE(pipe(fds[w]) == 0, "pipe");
        pids[w] = fork();
        REQUIRE(pids[w] >= 0, "fork");
        if (pids[w] == 0) {
            adm_spool *c;
            char who[32];
            snprintf(who, sizeof who, "host:%d:w", w);
            if (adm_spool_open(path, 0, &c) != 0 || adm_spool_set_worker(c, who, 60) != 0) _exit(2);
            adm_spool_job j;
            adm_spool_model m;
            int rc;
            while ((rc = adm_spool_claim(c, 1, &j, &m)) == 1) {
                int64_t id = j.id;
                if (write(fds[w][1], &id, sizeof id) != sizeof id) _exit(3);
            }
            adm_spool_close(c);
            _exit(rc == 0 ? 0 : 4);
        }
        close(fds[w][1]);
    }
    int seen[JOBS + 1] = {0}, total = 0, per[2] = {0};
    for (int w = 0; w < 2; w++) {
        int64_t id;
        while (read(fds[w][0], &id, sizeof id) == sizeof id) {
            if (id >= 1 && id <= JOBS) seen[id]++;
            total++; per[w]++;
        }
        close(fds[w][0]);
        int st;
        waitpid(pids[w], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d exit %d", w, WEXITSTATUS(st));
    }
    CHECK(total == JOBS, "claimed %d of %d", total, JOBS);
    for (int i = 1; i <= JOBS; i++) CHECK(seen[i] == 1, "job %d claimed %d times", i, seen[i]);
    printf("  claims per worker: %d, %d\n", per[0], per[1]);
}

/* Four processes create and migrate one new spool at the same moment: the
 * migration runs once (one transaction), every open succeeds. */
static void test_concurrent_migration(void) {
    char path[512];
    snprintf(path, sizeof path, "%s", fresh("mig.db"));
    int gate[2];
    REQUIRE(pipe(gate) == 0, "pipe");
    pid_t pids[4];
    for (int w = 0; w < 4; w++) {
        pids[w] = fork();
        REQUIRE(pids[w] >= 0, "fork");
        if (pids[w] == 0) {
            char c;
            close(gate[1]);
            if (read(gate[0], &c, 1) < 0) _exit(3);   /* wait until the parent opens the gate */
            adm_spool *c2;
            if (adm_spool_open(path, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &c2) != 0) {
                printf("  child %d: %s\n", w, adm_last_error());
                fflush(stdout);
                _exit(2);
            }
            adm_spool_close(c2);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);   /* EOF releases all children at once */
    for (int w = 0; w < 4; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "opener %d exit %d", w, WEXITSTATUS(st));
    }
    adm_spool *s;
    REQUIRE(adm_spool_open(path, 0, &s) == 0, "open: %s", adm_last_error());
    CHECK(adm_spool_schema_version(s) == adm_spool_latest_version(), "version %d", adm_spool_schema_version(s));
    int counts[6];
    CHECK(adm_spool_counts(s, counts) == 0, "jobs table usable: %s", adm_last_error());
    adm_spool_close(s);
}

static void test_png(void) {
    uint8_t rgb[5 * 3 * 3], gray[4 * 2];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 17);
    for (size_t i = 0; i < sizeof gray; i++) gray[i] = (uint8_t)(255 - i * 30);
    adm_png_text t[2] = {{"adm:seed", "123"}, {"Software", "admd test"}};
    char path[512], sha[65], sha2[65];
    size_t bytes;
    snprintf(path, sizeof path, "%s/a.png", tmpdir);
    REQUIRE(adm_png_save(path, NULL, rgb, 5, 3, 3, t, 2, sha, &bytes) == 0, "save: %s", adm_last_error());
    CHECK(adm_sha256_file(path, sha2) == 0 && !strcmp(sha, sha2), "sha of the file");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (size_t)st.st_size == bytes, "size");
    adm_png_image img;
    REQUIRE(adm_png_read(path, &img) == 0, "read: %s", adm_last_error());
    CHECK(img.w == 5 && img.h == 3 && img.c == 3 && !memcmp(img.pixels, rgb, sizeof rgb), "rgb round trip");
    CHECK(adm_png_text_get(&img, "adm:seed") && !strcmp(adm_png_text_get(&img, "adm:seed"), "123"), "text");
    adm_png_free(&img);
    uint8_t *data;
    size_t len, len2;
    uint8_t *data2;
    REQUIRE(adm_png_encode(gray, 4, 2, 1, NULL, 0, &data, &len) == 0, "encode gray");
    REQUIRE(adm_png_encode(gray, 4, 2, 1, NULL, 0, &data2, &len2) == 0, "encode gray");
    CHECK(len == len2 && !memcmp(data, data2, len), "deterministic bytes");
    REQUIRE(adm_png_decode(data, len, &img) == 0, "decode");
    CHECK(img.c == 1 && !memcmp(img.pixels, gray, sizeof gray), "gray round trip");
    adm_png_free(&img);
    CHECK(adm_png_decode(data, len / 2, &img) != 0, "truncated accepted");
    /* Mutated files (bytes flipped, cut short) are refused or decoded, never
     * a crash or an out-of-bounds read (ASan runs this too). */
    srand(1);
    int refused = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(data2, data, len);
        for (int k = 0; k < 1 + it % 4; k++) data2[8 + rand() % (int)(len - 8)] = (uint8_t)rand();
        size_t cut = it % 7 == 0 ? (size_t)(rand() % (int)len) : len;
        if (adm_png_decode(data2, cut, &img) == 0) {
            CHECK(img.w >= 1 && img.h >= 1 && img.w <= ADM_PNG_MAX_SIDE && img.pixels, "bad decode");
            adm_png_free(&img);
        } else {
            refused++;
        }
    }
    printf("  3000 mutated PNGs: %d refused with an error, none crashed\n", refused);
    free(data2);
    data[20] ^= 0xff;   /* header CRC */
    CHECK(adm_png_decode(data, len, &img) != 0, "corrupt accepted");
    free(data);
    CHECK(adm_png_encode(gray, 0, 2, 1, NULL, 0, &data, &len) != 0, "empty image accepted");
    snprintf(path, sizeof path, "%s/no/such/dir/a.png", tmpdir);
    CHECK(adm_png_save(path, NULL, gray, 4, 2, 1, NULL, 0, NULL, NULL) != 0 && strstr(adm_last_error(), "No such"),
          "missing dir: %s", adm_last_error());
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/admd-test-spool-XXXXXX");
    if (!mkdtemp(tmpdir)) { printf("FAIL mkdtemp\n"); return 1; }
    RUN(test_schema_versions);
    RUN(test_validation);
    RUN(test_lifecycle);
    RUN(test_leases);
    RUN(test_concurrent_claims);
    RUN(test_concurrent_migration);
    RUN(test_png);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", tmpdir);
    CHECK_EXIT();
}
