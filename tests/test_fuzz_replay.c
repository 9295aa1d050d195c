/* test_fuzz_replay.c — every fuzz corpus input and every crash the fuzzers
 * ever found (tests/fuzz/crashes/) through the readers, in the normal test
 * run (and under ASan in `make asan`): each must load or fail with an
 * error, never crash.  Files in corpus/pickle and crashes named pickle-*
 * are pickles, wrapped in an archive as the fuzz_pickle target does; files
 * in corpus/legacy and crashes named legacy-* are legacy-file tails,
 * wrapped as fuzz_legacy does. */
#include "check.h"
#include "npy.h"
#include "tensor.h"
#include "util.h"
#include "fuzz/fuzz_wrap.h"
#include <dirent.h>

enum { AS_FILE, AS_PICKLE, AS_LEGACY };

static int replay_file(const char *path, int as, int *loaded) {
    uint8_t *buf; size_t len;
    if (adm_read_file(path, &buf, &len) != 0) { printf("  %s\n", adm_last_error()); return -1; }
    adm_tensor_set s; adm_tensor t;
    if (as != AS_FILE) {
        size_t zl; uint8_t *zip = as == AS_PICKLE ? fuzz_wrap_pickle(buf, len, &zl) : fuzz_wrap_legacy(buf, len, &zl);
        if (zip && adm_pt_load_mem(path, zip, zl, &s) == 0) { (*loaded)++; adm_tensors_free(&s); }
        free(zip);
    } else {
        if (adm_pt_load_mem(path, buf, len, &s) == 0) { (*loaded)++; adm_tensors_free(&s); }
        if (adm_safetensors_load_mem(path, buf, len, &s) == 0) { (*loaded)++; adm_tensors_free(&s); }
        if (adm_npy_read_mem(path, buf, len, &t) == 0) { (*loaded)++; adm_tensor_free(&t); }
    }
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
    int n = replay_dir("tests/fuzz/corpus/pt", AS_FILE, &loaded) + replay_dir("tests/fuzz/corpus/pickle", AS_PICKLE, &loaded);
    CHECK(n >= 10, "only %d corpus files", n);
    CHECK(loaded >= 5, "only %d corpus files load", loaded);   /* the good seeds do load */
    printf("  %d corpus inputs replayed, %d loaded\n", n, loaded);
    loaded = 0;
    n = replay_dir("tests/fuzz/corpus/legacy", AS_LEGACY, &loaded);
    CHECK(n >= 4 && loaded >= 4, "legacy corpus: %d files, %d load (the seeds must load)", n, loaded);
    printf("  %d legacy corpus inputs replayed, %d loaded\n", n, loaded);
}

static void test_replay_crashes(void) {
    int loaded = 0;
    int n = replay_dir("tests/fuzz/crashes", 0, &loaded);
    printf("  %d former crashes replayed without a crash\n", n);
}

int main(void) {
    RUN(test_replay_corpus);
    RUN(test_replay_crashes);
    CHECK_EXIT();
}
