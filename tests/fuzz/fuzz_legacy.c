/* fuzz_legacy.c — libFuzzer target for torch's legacy (non-zip) format:
 * the input is everything after the sys_info pickle (the state-dict pickle,
 * the key list, the storages with their counts), behind a correct header
 * (fuzz_wrap.h), so mutations reach the pickle and the storage walk.
 * Corpus in tests/fuzz/corpus/legacy (tests/fuzz/make_legacy_corpus.py). */
#include "fuzz_wrap.h"
#include "tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static volatile unsigned sink;
    size_t len;
    uint8_t *file = fuzz_wrap_legacy(data, size, &len);
    if (!file) return 0;
    adm_tensor_set s;
    if (adm_pt_load_mem("fuzz.legacy", file, len, &s) == 0) {
        for (int i = 0; i < s.n; i++) {
            const uint8_t *p = s.t[i].data;
            for (size_t k = 0; k < s.t[i].nbytes; k++) sink += p[k];
        }
        adm_tensors_free(&s);
    }
    free(file);
    return 0;
}
