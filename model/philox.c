/* philox.c — host side of the reproducible noise: compiles the shared
 * algorithm of kernels/noise.cl as C (see the counter layout there). */
#include "philox.h"
#include <string.h>

/* Never fuse a*b+c into an FMA here (the Makefile also passes -ffp-contract=off). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* What kernels/noise.cl expects from its host. */
typedef uint32_t adm_u32;
typedef uint64_t adm_u64;
#define ADM_NZ_FN static inline
static inline float adm_nz_as_float(adm_u32 u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline adm_u32 adm_nz_as_uint(float f) { adm_u32 u; memcpy(&u, &f, sizeof u); return u; }
static inline int adm_nz_clz(adm_u32 x) { return x ? __builtin_clz(x) : 32; }

#include "../kernels/noise.cl"

void adm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    adm_philox4x32_10_words(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out);
}

void adm_noise_box_muller(uint32_t wu, uint32_t wa, float z[2]) {
    adm_nz_box_muller(wu, wa, &z[0], &z[1]);
}

void adm_noise_fill(uint64_t seed, uint32_t index, uint32_t slot, float *out, size_t n) {
    uint32_t lo = (uint32_t)seed, hi = (uint32_t)(seed >> 32);
    for (size_t e = 0; e < n; e += 4) {
        float z[4];
        adm_nz_normal4(lo, hi, index, slot, (uint32_t)(e / 4), z);
        size_t m = n - e < 4 ? n - e : 4;
        memcpy(out + e, z, m * sizeof(float));
    }
}

int adm_noise_class(uint64_t seed, uint32_t index, int num_classes) {
    if (num_classes <= 0) return -1;
    uint32_t w[4];
    adm_philox4x32_10_words(index, 0u, 0u, 1u, (uint32_t)seed, (uint32_t)(seed >> 32), w);
    return (int)(((uint64_t)w[0] * (uint32_t)num_classes) >> 32);
}
