/* test_pt_bigdict.c — the pickle reader's dictionary and storage keys are
 * found through a hash index, so a checkpoint of n tensors loads in O(n).
 *
 * Writes torch-style archives (libzip: archive/data.pkl + archive/data/<k>,
 * one 1-float storage per tensor, as torch.save does) with 10,000 and
 * 80,000 keys, loads each, checks every tensor, and
 *   - asserts the hash indexes probed at most 4 slots per key on average
 *     (a linear scan, as before, compares about n/2 keys per key: 40,000);
 *   - prints the load times and their ratio (linear: about 8; quadratic: 64)
 *     as a measurement, not a timed assertion.
 * Also: a key given twice keeps the later value (Python's dict semantics);
 * the safetensors writer escapes tensor names as JSON requires (json-c
 * parses the header it writes) and the reader gets the same names back. */
#include "check.h"
#include "tensor.h"
#include "util.h"
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <zip.h>

static char tmpdir[] = "/tmp/admd-bigdict.XXXXXX";

typedef struct { uint8_t *p; size_t n, cap; } buf;
static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(1); }
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
#define PUTS(b, lit) put(b, lit, sizeof(lit) - 1)
static void put_str(buf *b, const char *s) {        /* BINUNICODE */
    uint32_t n = (uint32_t)strlen(s);
    uint8_t h[5] = {'X', (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put(b, h, 5);
    put(b, s, n);
}

/* The pickle of {name(i): tensor on storage "i"} for i in order[0..n). */
static void state_dict_pickle(buf *b, int n, const int *order) {
    PUTS(b, "\x80\x02" "ccollections\nOrderedDict\n)R");
    for (int k = 0; k < n; k++) {
        char key[64], skey[32];
        int i = order[k];
        snprintf(key, sizeof key, "blocks.%d.layer.%d.weight", i / 16, i % 16);
        snprintf(skey, sizeof skey, "%d", i);
        put_str(b, key);
        PUTS(b, "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storage" "ctorch\nFloatStorage\n");
        put_str(b, skey);
        PUTS(b, "X\x03\x00\x00\x00" "cpu" "K\x01tQ" "K\x00" "(K\x01t" "(K\x01t" "\x89" "ccollections\nOrderedDict\n)RtRs");
    }
    PUTS(b, ".");
}

/* Archive at path with the pickle and n storages, storage i holding (float)i. */
static int write_archive(const char *path, const buf *pkl, int n, float *values) {
    int err;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return -1;
    zip_source_t *src = zip_source_buffer(z, pkl->p, pkl->n, 0);
    zip_int64_t idx = src ? zip_file_add(z, "archive/data.pkl", src, 0) : -1;
    if (idx < 0) { zip_discard(z); return -1; }
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    for (int i = 0; i < n; i++) {
        char name[64];
        values[i] = (float)i;
        snprintf(name, sizeof name, "archive/data/%d", i);
        src = zip_source_buffer(z, &values[i], sizeof(float), 0);
        if (!src || (idx = zip_file_add(z, name, src, 0)) < 0) { zip_discard(z); return -1; }
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    return zip_close(z) == 0 ? 0 : -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Write an n-key checkpoint (keys in a shuffled order), load it `reps`
 * times: the best time; checks every tensor; *probes per load. */
static double load_n(int n, int reps, unsigned long long *probes) {
    char path[128];
    snprintf(path, sizeof path, "%s/keys%d.pt", tmpdir, n);
    int *order = malloc(sizeof *order * (size_t)n);
    float *values = malloc(sizeof *values * (size_t)n);
    buf pkl = {0};
    if (!order || !values) { CHECK(0, "out of memory"); free(order); free(values); return -1; }
    for (int i = 0; i < n; i++) order[i] = i;
    uint64_t st = 12345;
    for (int i = n - 1; i > 0; i--) {               /* Fisher-Yates with an LCG */
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        int j = (int)((st >> 33) % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j]; order[j] = t;
    }
    state_dict_pickle(&pkl, n, order);
    double best = -1;
    if (write_archive(path, &pkl, n, values) != 0) { CHECK(0, "cannot write %s", path); goto done; }
    for (int r = 0; r < reps; r++) {
        adm_tensor_set set = {0};
        unsigned long long p0 = adm_pt_hash_probes();
        double t0 = now_s();
        int rc = adm_pt_load(path, &set);
        double t = now_s() - t0;
        *probes = adm_pt_hash_probes() - p0;
        if (rc != 0) { CHECK(0, "%s: %s", path, adm_last_error()); goto done; }
        CHECK(set.n == n, "%d tensors, wanted %d", set.n, n);
        int bad = 0;
        for (int i = 0; i < n; i += 997) {
            char key[64];
            snprintf(key, sizeof key, "blocks.%d.layer.%d.weight", i / 16, i % 16);
            const adm_tensor *te = adm_tensors_find(&set, key);
            if (!te || te->dtype != ADM_F32 || te->ndim != 1 || te->shape[0] != 1 || ((const float *)te->data)[0] != (float)i) bad++;
        }
        CHECK(bad == 0, "%d sampled tensors wrong", bad);
        adm_tensors_free(&set);
        if (best < 0 || t < best) best = t;
    }
done:
    if (!getenv("ADM_BIGDICT_KEEP")) unlink(path);   /* kept: to time other builds' admctl inspect */
    else printf("  kept %s\n", path);
    free(pkl.p);
    free(order);
    free(values);
    return best;
}

static void test_linear_load(void) {
    unsigned long long p10 = 0, p80 = 0;
    double t10 = load_n(10000, 3, &p10);
    double t80 = load_n(80000, 2, &p80);
    REQUIRE(t10 > 0 && t80 > 0, "loads failed");
    /* one dict key and one storage key per tensor */
    double per10 = (double)p10 / (2 * 10000.0), per80 = (double)p80 / (2 * 80000.0);
    printf("  probes per key lookup: %.2f (10k keys), %.2f (80k keys)\n", per10, per80);
    CHECK(per10 <= 4 && per80 <= 4, "the key indexes probe too much: %.2f, %.2f per lookup", per10, per80);
    printf("  load: 10,000 keys %.3f s, 80,000 keys %.3f s: ratio %.1f (linear 8, quadratic 64)\n", t10, t80,
           t80 / t10);
}

/* {'a': t0, 'b': t1, 'a': t2}: two tensors, 'a' is t2 (as Python builds it). */
static void test_repeated_key_keeps_later(void) {
    buf pkl = {0};
    PUTS(&pkl, "\x80\x02" "ccollections\nOrderedDict\n)R");
    const char *keys[3] = {"a", "b", "a"};
    for (int k = 0; k < 3; k++) {
        char skey[8];
        snprintf(skey, sizeof skey, "%d", k);
        put_str(&pkl, keys[k]);
        PUTS(&pkl, "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storage" "ctorch\nFloatStorage\n");
        put_str(&pkl, skey);
        PUTS(&pkl, "X\x03\x00\x00\x00" "cpu" "K\x01tQ" "K\x00" "(K\x01t" "(K\x01t" "\x89" "ccollections\nOrderedDict\n)RtRs");
    }
    PUTS(&pkl, ".");
    char path[128];
    float values[3];
    snprintf(path, sizeof path, "%s/repeat.pt", tmpdir);
    REQUIRE(write_archive(path, &pkl, 3, values) == 0, "cannot write %s", path);
    adm_tensor_set set = {0};
    int rc = adm_pt_load(path, &set);
    unlink(path);
    free(pkl.p);
    REQUIRE(rc == 0, "%s", adm_last_error());
    const adm_tensor *a = adm_tensors_find(&set, "a");
    CHECK(set.n == 2 && a && ((const float *)a->data)[0] == 2.0f, "%d tensors, a = %g", set.n,
          a ? ((const float *)a->data)[0] : -1.0);
    adm_tensors_free(&set);
}

/* Names with quotes, backslashes, control characters and UTF-8. */
static void test_safetensors_names_escaped(void) {
    static const char *names[] = {"plain.weight", "quote\"d", "back\\slash", "new\nline\ttab", "ctl\x01\x1f",
                                  "caf\xc3\xa9 \xf0\x9f\x90\x95"};
    enum { N = sizeof names / sizeof *names };
    float v[N];
    adm_tensor t[N];
    memset(t, 0, sizeof t);
    for (int i = 0; i < N; i++) {
        v[i] = (float)i;
        t[i].name = (char *)names[i];
        t[i].dtype = ADM_F32; t[i].ndim = 1; t[i].shape[0] = 1;
        t[i].data = &v[i]; t[i].nbytes = sizeof(float);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/names.safetensors", tmpdir);
    REQUIRE(adm_safetensors_write(path, t, N) == 0, "%s", adm_last_error());
    /* the header is JSON (json-c parses it) with exactly these keys */
    FILE *f = fopen(path, "rb");
    REQUIRE(f, "open %s", path);
    uint8_t len8[8];
    size_t got = fread(len8, 1, 8, f);
    uint64_t hl = 0;
    for (int k = 7; k >= 0; k--) hl = hl << 8 | len8[k];
    char *hdr = got == 8 && hl < 65536 ? calloc(1, hl + 1) : NULL;
    if (hdr && fread(hdr, 1, hl, f) != hl) { free(hdr); hdr = NULL; }
    fclose(f);
    REQUIRE(hdr, "cannot read the header");
    int raw_ctl = 0;
    for (uint64_t k = 0; k < hl; k++) raw_ctl |= (unsigned char)hdr[k] < 0x20;
    CHECK(!raw_ctl, "raw control characters in the header: %s", hdr);
    json_object *o = json_tokener_parse(hdr);
    CHECK(o && json_object_is_type(o, json_type_object), "json-c cannot parse the header: %s", hdr);
    for (int i = 0; o && i < N; i++) {
        json_object *e;
        CHECK(json_object_object_get_ex(o, names[i], &e), "key %d missing in %s", i, hdr);
    }
    json_object_put(o);
    free(hdr);
    adm_tensor_set back = {0};
    REQUIRE(adm_tensors_load(path, &back) == 0, "%s", adm_last_error());
    CHECK(back.n == N, "%d tensors", back.n);
    for (int i = 0; i < N && i < back.n; i++)
        CHECK(!strcmp(back.t[i].name, names[i]) && ((const float *)back.t[i].data)[0] == (float)i, "name %d: '%s'", i,
              back.t[i].name);
    adm_tensors_free(&back);
    unlink(path);
    /* not UTF-8: refused with a message naming it */
    t[0].name = (char *)"bad\xff";
    CHECK(adm_safetensors_write(path, t, 1) != 0 && strstr(adm_last_error(), "UTF-8"), "%s", adm_last_error());
    unlink(path);
}

int main(void) {
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_repeated_key_keeps_later);
    RUN(test_safetensors_names_escaped);
    RUN(test_linear_load);
    if (!getenv("ADM_BIGDICT_KEEP")) rmdir(tmpdir);
    CHECK_EXIT();
}
