/* fuzz_npz.c — libFuzzer target: whole files through the .npz reader (zip
 * archive of .npy members, stored or deflated) and the reference-batch
 * checks on top of it.  Must refuse bad input with an error, never crash
 * or read out of bounds.  Corpus in tests/fuzz/corpus/npz. */
#include "npz.h"
#include "tensor.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static volatile unsigned sink;
    adm_tensor_set s;
    if (adm_npz_read_mem("fuzz.npz", data, size, &s) == 0) {
        for (int i = 0; i < s.n; i++) {
            const uint8_t *p = s.t[i].data;
            for (size_t k = 0; k < s.t[i].nbytes; k++) sink += p[k];
            sink += (unsigned)adm_tensor_numel(&s.t[i]) + (unsigned)s.t[i].name[0];
        }
        adm_tensors_free(&s);
    }
    return 0;
}
