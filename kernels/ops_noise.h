/* ops_noise.h — the reproducible noise on the device: the adm_noise kernel
 * of kernels/noise.cl, bit-identical to adm_noise_fill on the host
 * (model/philox.h; counter layout in kernels/noise.cl). */
#ifndef ADM_OPS_NOISE_H
#define ADM_OPS_NOISE_H
#include "ops.h"
#include <stdint.h>

/* y (B*n floats from y->off) = the first n normals of images
 * first_index .. first_index+B-1 at `slot`, image b at y->off + b*n. */
int adm_op_noise(adm_cl *cl, uint64_t seed, uint32_t first_index, int B, uint32_t slot, size_t n,
                 adm_dt *y);

#endif
