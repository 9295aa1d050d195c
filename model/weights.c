/* weights.c — upload a tensor set to the device as fp32.  See weights.h. */
#include "weights.h"
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_float(adm_dtype d) { return d == ADM_F32 || d == ADM_F16 || d == ADM_BF16 || d == ADM_F64; }

/* Device bytes of one tensor: fp32, padded to 256 bytes (64 floats). */
static size_t device_bytes(const adm_tensor *t) { return ((size_t)adm_tensor_numel(t) * 4 + 255) & ~(size_t)255; }

int adm_weights_file_bytes(const char *path, size_t *bytes) {
    adm_tensor_set set;
    *bytes = 0;
    if (adm_tensors_index(path, &set) != 0) return -1;
    for (int i = 0; i < set.n; i++)
        if (set.t[i].name && is_float(set.t[i].dtype)) *bytes += device_bytes(&set.t[i]);
    adm_tensors_free(&set);
    return 0;
}

int adm_weights_upload(adm_cl *cl, const adm_tensor_set *set, const char *prefix, adm_weights *w) {
    memset(w, 0, sizeof *w);
    w->cl = cl;
    size_t plen = prefix ? strlen(prefix) : 0;
    w->e = adm_calloc((size_t)set->n + 1, sizeof *w->e);
    w->bufs = adm_calloc((size_t)set->n + 1, sizeof *w->bufs);
    if (!w->e || !w->bufs) goto fail;

    /* Plan: assign tensors to buffers in file order, each buffer at most
     * max_alloc bytes; offsets aligned to 64 floats (256 bytes) so any
     * sub-range is a valid CLBlast offset on every device. */
    size_t limit = cl->max_alloc ? (size_t)cl->max_alloc : ((size_t)1 << 30);
    size_t *buf_bytes = adm_calloc((size_t)set->n + 1, sizeof *buf_bytes);
    if (!buf_bytes) goto fail;
    int nb = 0;
    for (int i = 0; i < set->n; i++) {
        const adm_tensor *t = &set->t[i];
        if (!t->name || !is_float(t->dtype) || (plen && strncmp(t->name, prefix, plen) != 0)) continue;
        if (t->ndim > 4) { free(buf_bytes); adm_error("tensor %s: %d dimensions (at most 4 expected)", t->name, t->ndim); goto fail; }
        size_t bytes = device_bytes(t);
        if (bytes > limit) { free(buf_bytes); adm_error("tensor %s: %zu bytes exceeds the device's max allocation %zu", t->name, bytes, limit); goto fail; }
        if (nb == 0 || buf_bytes[nb - 1] + bytes > limit) nb++;
        struct adm_weight_entry *e = &w->e[w->n++];
        e->name = strdup(t->name);
        if (!e->name) { free(buf_bytes); adm_error("out of memory"); goto fail; }
        e->buf = nb - 1;
        e->off = buf_bytes[nb - 1] / 4;
        e->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) e->shape[d] = t->shape[d];
        buf_bytes[nb - 1] += bytes;
    }
    /* Allocate and fill each buffer from one host staging copy. */
    for (int b = 0; b < nb; b++) {
        float *host = adm_calloc(buf_bytes[b] / 4 + 1, sizeof(float));
        if (!host) { free(buf_bytes); goto fail; }
        for (int i = 0, k = 0; i < set->n; i++) {
            const adm_tensor *t = &set->t[i];
            if (!t->name || !is_float(t->dtype) || (plen && strncmp(t->name, prefix, plen) != 0)) continue;
            struct adm_weight_entry *e = &w->e[k++];
            if (e->buf != b) continue;
            if (adm_tensor_to_f32(t, host + e->off) != 0) { free(host); free(buf_bytes); goto fail; }
        }
        w->bufs[b] = adm_cl_alloc(cl, buf_bytes[b] ? buf_bytes[b] : 256);
        w->n_bufs = b + 1;
        if (!w->bufs[b] || adm_cl_write(cl, w->bufs[b], 0, buf_bytes[b], host) != 0) {
            free(host); free(buf_bytes);
            adm_error_prefix("uploading weights");
            goto fail;
        }
        w->bytes += buf_bytes[b];
        free(host);
    }
    free(buf_bytes);
    return 0;
fail:
    adm_weights_free(w);
    return -1;
}

void adm_weights_free(adm_weights *w) {
    if (!w) return;
    for (int b = 0; b < w->n_bufs; b++) adm_cl_release(w->cl, w->bufs[b]);
    for (int i = 0; i < w->n; i++) free(w->e[i].name);
    free(w->bufs);
    free(w->e);
    memset(w, 0, sizeof *w);
}

int adm_weights_get(const adm_weights *w, const char *name, adm_dt *out) {
    for (int i = 0; i < w->n; i++) {
        const struct adm_weight_entry *e = &w->e[i];
        if (strcmp(e->name, name) != 0) continue;
        int64_t s[4] = {1, 1, 1, 1};
        switch (e->ndim) {
        case 0: break;
        case 1: s[1] = e->shape[0]; break;                        /* c = len */
        case 2: s[1] = e->shape[0]; s[3] = e->shape[1]; break;     /* c = O, w = I */
        case 3: s[0] = e->shape[0]; s[1] = e->shape[1]; s[3] = e->shape[2]; break;  /* conv1d [O,I,k] */
        default: for (int d = 0; d < 4; d++) s[d] = e->shape[d]; break;
        }
        *out = adm_dt_make(w->bufs[e->buf], e->off, (int)s[0], (int)s[1], (int)s[2], (int)s[3]);
        return 0;
    }
    return adm_error("weight %s: not in the checkpoint", name);
}

int adm_weights_getf(const adm_weights *w, adm_dt *out, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof name) return adm_error("weight name too long (%d bytes)", n);
    return adm_weights_get(w, name, out);
}
