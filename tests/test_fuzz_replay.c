/* test_fuzz_replay.c — every fuzz corpus input and every crash the fuzzers
 * ever found (tests/fuzz/crashes/) through the readers, in the normal test
 * run (and under ASan in `make asan`): each must never crash, and either
 * load a consistent tensor set (every tensor named, its bytes matching its
 * shape and dtype, inside the set's storage) or fail with an error message
 * that names the file.  Files in corpus/pickle and crashes named pickle-*
 * are pickles, wrapped in an archive as the fuzz_pickle target does; files
 * in corpus/legacy and crashes named legacy-* are legacy-file tails,
 * wrapped as fuzz_legacy does. */
#include "check.h"
#include "npy.h"
#include "npz.h"
#include "tensor.h"
#include "util.h"
#include "fuzz/fuzz_wrap.h"
#include <dirent.h>

enum { AS_FILE, AS_PICKLE, AS_LEGACY };

/* A loaded tensor: named (sets), bytes = numel x dtype size, data inside
 * [blob, blob + blob_len) when the set has a blob. */
static int tensor_ok(const adm_tensor *t, const adm_tensor_set *set) {
    if ((set && !t->name) || (unsigned)t->dtype >= ADM_DTYPE_COUNT || t->ndim < 0 || t->ndim > ADM_MAX_DIMS) return 0;
    if (t->nbytes != (size_t)adm_tensor_numel(t) * adm_dtype_size(t->dtype) || (t->nbytes && !t->data)) return 0;
    if (set && set->blob && t->nbytes) {
        const uint8_t *b = set->blob, *d = t->data;
        if (d < b || d + t->nbytes > b + set->blob_len) return 0;
    }
    return 1;
}

/* One reader's outcome on path: rc 0 with set/t consistent, or -1 with an
 * error naming the file.  Counts loads; CHECKs the rest. */
static void outcome(const char *path, const char *reader, int rc, adm_tensor_set *set, adm_tensor *t, int *loaded) {
    if (rc == 0) {
        (*loaded)++;
        int ok = 1;
        if (set) for (int i = 0; i < set->n; i++) ok = ok && tensor_ok(&set->t[i], set);
        if (t) ok = tensor_ok(t, NULL);
        CHECK(ok, "%s: %s loaded an inconsistent tensor", path, reader);
        if (set) adm_tensors_free(set);
        if (t) adm_tensor_free(t);
    } else {
        CHECK(rc == -1 && strstr(adm_last_error(), path), "%s: %s returned %d with the error \"%s\"",
              path, reader, rc, adm_last_error());
    }
}

static int replay_file(const char *path, int as, int *loaded) {
    uint8_t *buf; size_t len;
    if (adm_read_file(path, &buf, &len) != 0) { printf("  %s\n", adm_last_error()); return -1; }
    adm_tensor_set s; adm_tensor t;
#define CLEAR (adm_error("%s", ""))          /* no stale message can pass for the reader's */
    if (as != AS_FILE) {
        size_t zl; uint8_t *zip = as == AS_PICKLE ? fuzz_wrap_pickle(buf, len, &zl) : fuzz_wrap_legacy(buf, len, &zl);
        if (zip) outcome(path, as == AS_PICKLE ? "pt (pickle)" : "pt (legacy)", (CLEAR, adm_pt_load_mem(path, zip, zl, &s)), &s, NULL, loaded);
        free(zip);
    } else {
        outcome(path, "pt", (CLEAR, adm_pt_load_mem(path, buf, len, &s)), &s, NULL, loaded);
        outcome(path, "safetensors", (CLEAR, adm_safetensors_load_mem(path, buf, len, &s)), &s, NULL, loaded);
        outcome(path, "npy", (CLEAR, adm_npy_read_mem(path, buf, len, &t)), NULL, &t, loaded);
        outcome(path, "npz", (CLEAR, adm_npz_read_mem(path, buf, len, &s)), &s, NULL, loaded);
    }
#undef CLEAR
    free(buf);
    return 0;
}

/* Replay every regular file of dir; returns the number replayed. */
static int replay_dir(const char *dir, int dir_as, int *loaded) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        int as = strncmp(e->d_name, "pickle-", 7) == 0 ? AS_PICKLE : strncmp(e->d_name, "legacy-", 7) == 0 ? AS_LEGACY : dir_as;
        if (replay_file(p, as, loaded) == 0) n++;
    }
    closedir(d);
    return n;
}

static void test_replay_corpus(void) {
    int loaded = 0;
    int n = replay_dir("tests/fuzz/corpus/pt", AS_FILE, &loaded) + replay_dir("tests/fuzz/corpus/pickle", AS_PICKLE, &loaded) +
            replay_dir("tests/fuzz/corpus/npz", AS_FILE, &loaded);
    CHECK(n >= 10, "only %d corpus files", n);
    CHECK(loaded >= 5, "only %d corpus files load", loaded);   /* the good seeds do load */
    printf("  %d corpus inputs replayed, %d loaded\n", n, loaded);
    loaded = 0;
    n = replay_dir("tests/fuzz/corpus/legacy", AS_LEGACY, &loaded);
    CHECK(n >= 4 && loaded >= 4, "legacy corpus: %d files, %d load (the seeds must load)", n, loaded);
    printf("  %d legacy corpus inputs replayed, %d loaded\n", n, loaded);
}

/* The kept crashes: each replayed (readable, through every reader) with the
 * outcomes above; the folder must exist (tests/fuzz/run.sh adds to it). */
static void test_replay_crashes(void) {
    int loaded = 0, files = 0;
    DIR *d = opendir("tests/fuzz/crashes");
    REQUIRE(d, "tests/fuzz/crashes: cannot open");
    for (struct dirent *e; (e = readdir(d));) files += e->d_name[0] != '.';
    closedir(d);
    int n = replay_dir("tests/fuzz/crashes", AS_FILE, &loaded);
    CHECK(n == files, "%d of %d former crashes replayed", n, files);
    printf("  %d former crashes replayed: no crash, %d loads consistent, the rest refused with the file named\n", n, loaded);
}

int main(void) {
    RUN(test_replay_corpus);
    RUN(test_replay_crashes);
    CHECK_EXIT();
}
