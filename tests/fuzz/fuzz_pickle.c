/* fuzz_pickle.c — libFuzzer target for the pickle interpreter of the .pt
 * reader: the input is data.pkl of a well-formed archive (fuzz_wrap.h), so
 * mutations reach the opcodes rather than the zip CRCs.  Corpus in
 * tests/fuzz/corpus/pickle (data.pkl of real checkpoints). */
#include "fuzz_wrap.h"
#include "tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static volatile unsigned sink;
    size_t len;
    uint8_t *zip = fuzz_wrap_pickle(data, size, &len);
    if (!zip) return 0;
    adm_tensor_set s;
    if (adm_pt_load_mem("fuzz.pkl", zip, len, &s) == 0) {
        for (int i = 0; i < s.n; i++) {
            const uint8_t *p = s.t[i].data;
            for (size_t k = 0; k < s.t[i].nbytes; k++) sink += p[k];
        }
        adm_tensors_free(&s);
    }
    free(zip);
    return 0;
}
