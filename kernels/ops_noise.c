/* ops_noise.c — host wrapper of the adm_noise kernel (kernels/noise.cl). */
#include "ops_noise.h"
#include "ops_internal.h"
#include "util.h"

int adm_op_noise(adm_cl *cl, uint64_t seed, uint32_t first_index, int B, uint32_t slot, size_t n,
                 adm_dt *y) {
    if (B < 1 || n == 0) return adm_error("noise: empty request (B=%d, n=%zu)", B, n);
    if (n / 4 >= 0xFFFFFFFFu) return adm_error("noise: %zu elements per image exceed the counter", n);
    if (adm_dt_numel(y) < (size_t)B * n)
        return adm_error("noise: output holds %zu floats, need %zu", adm_dt_numel(y), (size_t)B * n);
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_noise);
    cl_ulong off = y->off, nn = n;
    cl_uint lo = (cl_uint)seed, hi = (cl_uint)(seed >> 32), first = first_index, sl = slot;
    if (adm_set_args(k, ARG(y->mem), ARG(off), ARG(lo), ARG(hi), ARG(first), ARG(sl), ARG(nn), 0)) return -1;
    /* one work-item per block of 4 values; the global size is rounded up (the kernel guards) */
    size_t blocks = (n + 3) / 4, local[2] = {adm_cl_wg(cl, ADM_K_adm_noise, 64), 1};
    size_t global[2] = {blocks, (size_t)B};
    return adm_launch(cl, k, NULL, "noise", 2, global, local);
}
