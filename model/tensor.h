/* tensor.h — a named, typed, shaped block of host memory, and a set of them.
 *
 * This is what every reader yields (.pt checkpoints, .safetensors, .npy)
 * and what the model code consumes.  Data is little-endian, C order,
 * contiguous.
 */
#ifndef ADM_TENSOR_H
#define ADM_TENSOR_H
#include <stddef.h>
#include <stdint.h>

#define ADM_MAX_DIMS 8

typedef enum {
    ADM_F32, ADM_F16, ADM_BF16, ADM_F64, ADM_I64, ADM_I32, ADM_U8, ADM_DTYPE_COUNT
} adm_dtype;

typedef struct {
    char *name;                 /* owned; NULL for an anonymous tensor */
    adm_dtype dtype;
    int ndim;
    int64_t shape[ADM_MAX_DIMS];
    void *data;                 /* nbytes of element data */
    size_t nbytes;
    int owns_data;              /* 1: free(data) in adm_tensor_free */
} adm_tensor;

typedef struct {
    adm_tensor *t;              /* n tensors, in file order */
    int n;
    void *blob;                 /* backing storage the tensors point into (owned) */
    size_t blob_len;
} adm_tensor_set;

size_t adm_dtype_size(adm_dtype d);
const char *adm_dtype_name(adm_dtype d);          /* "f32", "f16", ... */
int64_t adm_tensor_numel(const adm_tensor *t);

/* Convert any float/int dtype to float32 (numel elements into dst). */
int adm_tensor_to_f32(const adm_tensor *t, float *dst);
/* Newly allocated float32 copy (free() it); NULL + adm_error on failure. */
float *adm_tensor_f32_copy(const adm_tensor *t);

void adm_tensor_free(adm_tensor *t);                 /* frees name and owned data */

/* Open any supported weights file: a torch .pt zip archive or .safetensors
 * (detected from the content, not the name). */
int adm_tensors_load(const char *path, adm_tensor_set *out);
/* The same from a file's bytes already in memory (label names it in errors). */
int adm_tensors_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out);
/* The same file's index: names, dtypes, shapes and nbytes, data NULL; reads
 * only the header (safetensors) or the pickle (.pt), not the tensor data. */
int adm_tensors_index(const char *path, adm_tensor_set *out);
const adm_tensor *adm_tensors_find(const adm_tensor_set *s, const char *name);
void adm_tensors_free(adm_tensor_set *s);

/* Readers behind adm_tensors_load (also callable directly). */
int adm_pt_load(const char *path, adm_tensor_set *out);          /* pt_reader.c */
int adm_pt_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out);
int adm_pt_index(const char *path, adm_tensor_set *out);
/* Slots the pickle reader's key indexes (dictionary keys, storage keys)
 * have probed since the process started: about one or two per key with a
 * working hash, so a test can check that loading is linear in the keys. */
unsigned long long adm_pt_hash_probes(void);
int adm_safetensors_load(const char *path, adm_tensor_set *out);  /* safetensors.c */
int adm_safetensors_index(const char *path, adm_tensor_set *out);
int adm_safetensors_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out);
/* Write n tensors as .safetensors, atomically (temporary file + rename). */
int adm_safetensors_write(const char *path, const adm_tensor *t, int n);

/* half <-> float, exactly (round to nearest even on the way down). */
float adm_half_to_float(uint16_t h);
uint16_t adm_float_to_half(float f);
float adm_bf16_to_float(uint16_t h);

#endif
