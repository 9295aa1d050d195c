/* npy.h — read and write NumPy .npy files (version 1.0/2.0, little-endian,
 * C order; dtypes <f4 <f8 <f2 <i8 <i4 |u1), the reference data's format. */
#ifndef ADM_NPY_H
#define ADM_NPY_H
#include "tensor.h"

/* Read path into *out (data owned by out; free with adm_tensor_free). */
int adm_npy_read(const char *path, adm_tensor *out);
int adm_npy_read_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor *out);
/* The bytes of a .npy file (version 1.0) holding the array: *out malloc'ed. */
int adm_npy_encode(adm_dtype dtype, int ndim, const int64_t *shape, const void *data, uint8_t **out, size_t *out_len);
/* Write a tensor; atomically (temporary file + rename). */
int adm_npy_write(const char *path, adm_dtype dtype, int ndim, const int64_t *shape, const void *data);

#endif
