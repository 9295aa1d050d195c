/* fuzz_pt.c — libFuzzer target: whole files through every reader
 * (torch .pt archives, .safetensors, .npy).  Each reader must refuse bad
 * input with an error, never crash or read out of bounds.  Built and run
 * by tests/fuzz/run.sh; corpus in tests/fuzz/corpus/pt. */
#include "npy.h"
#include "tensor.h"
#include <stdint.h>
#include <stdlib.h>

/* Touch every byte a reader claims to hand out, so ASan sees bad pointers. */
static unsigned touch(const adm_tensor *t) {
    unsigned x = 0;
    const uint8_t *p = t->data;
    for (size_t i = 0; i < t->nbytes; i++) x += p[i];
    return x + (unsigned)adm_tensor_numel(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static volatile unsigned sink;
    adm_tensor_set s;
    if (adm_pt_load_mem("fuzz.pt", data, size, &s) == 0) {
        for (int i = 0; i < s.n; i++) sink += touch(&s.t[i]);
        adm_tensors_free(&s);
    }
    if (adm_safetensors_load_mem("fuzz.safetensors", data, size, &s) == 0) {
        for (int i = 0; i < s.n; i++) sink += touch(&s.t[i]);
        adm_tensors_free(&s);
    }
    adm_tensor t;
    if (adm_npy_read_mem("fuzz.npy", data, size, &t) == 0) {
        sink += touch(&t);
        adm_tensor_free(&t);
    }
    return 0;
}
