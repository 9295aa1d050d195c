/* npz.h — read NumPy .npz archives (numpy.savez / savez_compressed: a zip
 * of .npy members, stored or deflated), the format of guided-diffusion's
 * reference and sample batches (arr_0 uint8 NHWC, optionally mu, sigma,
 * mu_s, sigma_s, labels). */
#ifndef ADM_NPZ_H
#define ADM_NPZ_H
#include "tensor.h"

/* Every *.npy member, named without ".npy", in archive order (other
 * members are skipped).  Free with adm_tensors_free. */
int adm_npz_read(const char *path, adm_tensor_set *out);
int adm_npz_read_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out);

/* Write tensors as an uncompressed .npz (numpy.savez), atomically. */
int adm_npz_write(const char *path, const adm_tensor *t, int n);

#endif
