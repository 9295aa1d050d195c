/* weights.h — a checkpoint's tensors resident on an OpenCL device as fp32.
 *
 * Every floating-point tensor of a set is converted to fp32 on the host
 * (fp16/bf16/f64 storage expanded exactly) and uploaded once, packed into
 * as few buffers as the device's max allocation size allows (a tensor never
 * straddles two buffers).  Lookups by state-dict name return an adm_dt
 * view shaped like the tensor (1-d: c=len; 2-d [O,I]: c=O, w=I;
 * 3-d conv1d [O,I,k]: n=O, c=I, w=k; 4-d [O,I,kh,kw]: n=O, c=I, h=kh, w=kw).
 */
#ifndef ADM_WEIGHTS_H
#define ADM_WEIGHTS_H
#include "ops.h"
#include "tensor.h"

typedef struct {
    adm_cl *cl;              /* the device of bufs */
    cl_mem *bufs;
    int n_bufs;
    struct adm_weight_entry { char *name; int buf; size_t off; int ndim; int64_t shape[4]; } *e;
    int n;
    size_t bytes;            /* device bytes held */
} adm_weights;

/* prefix: only tensors whose names start with it (NULL or "": all). */
int adm_weights_upload(adm_cl *cl, const adm_tensor_set *set, const char *prefix, adm_weights *w);
void adm_weights_free(adm_weights *w);
/* The device bytes adm_weights_upload would take for all of a weights
 * file's tensors (fp32: twice an fp16 file), from its index alone. */
int adm_weights_file_bytes(const char *path, size_t *bytes);

/* View of tensor `name`; returns 0, or -1 with adm_error naming it when absent. */
int adm_weights_get(const adm_weights *w, const char *name, adm_dt *out);
/* printf-style name: adm_weights_getf(w, &dt, "%s.w", prefix) */
int adm_weights_getf(const adm_weights *w, adm_dt *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
