/* ops_noise.c — host wrapper of the adm_noise kernel (kernels/noise.cl). */
#include "ops_noise.h"
#include "util.h"

int adm_op_noise(adm_cl *cl, uint64_t seed, uint32_t first_index, int B, uint32_t slot, size_t n,
                 adm_dt *y) {
    if (B < 1 || n == 0) return adm_error("noise: empty request (B=%d, n=%zu)", B, n);
    if (n / 4 >= 0xFFFFFFFFu) return adm_error("noise: %zu elements per image exceed the counter", n);
    if (adm_dt_numel(y) < (size_t)B * n)
        return adm_error("noise: output holds %zu floats, need %zu", adm_dt_numel(y), (size_t)B * n);
    cl_kernel k = adm_cl_kernel(cl, "adm_noise");
    if (!k) return -1;
    cl_ulong off = y->off, nn = n;
    cl_uint lo = (cl_uint)seed, hi = (cl_uint)(seed >> 32), first = first_index, sl = slot;
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &y->mem);
    err |= clSetKernelArg(k, 1, sizeof off, &off);
    err |= clSetKernelArg(k, 2, sizeof lo, &lo);
    err |= clSetKernelArg(k, 3, sizeof hi, &hi);
    err |= clSetKernelArg(k, 4, sizeof first, &first);
    err |= clSetKernelArg(k, 5, sizeof sl, &sl);
    err |= clSetKernelArg(k, 6, sizeof nn, &nn);
    if (err != CL_SUCCESS) return adm_cl_fail("noise: clSetKernelArg", err);
    /* fixed work-group size; the global size is rounded up (the kernel guards) */
    size_t blocks = (n + 3) / 4, local[2] = {64, 1};
    size_t global[2] = {(blocks + 63) / 64 * 64, (size_t)B};
    err = clEnqueueNDRangeKernel(cl->queue, k, 2, NULL, global, local, 0, NULL, NULL);
    if (err != CL_SUCCESS) return adm_cl_fail("noise: enqueue adm_noise", err);
    return 0;
}
