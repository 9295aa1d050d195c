/* npy.c — NumPy .npy reader and writer.  The header is a Python dict
 * literal; we accept exactly what numpy writes: 'descr', 'fortran_order'
 * (must be False) and 'shape'.  Bounds-checked throughout. */
#include "npy.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { const char *descr; adm_dtype dtype; } npy_types[] = {
    {"<f4", ADM_F32}, {"<f8", ADM_F64}, {"<f2", ADM_F16}, {"<i8", ADM_I64},
    {"<i4", ADM_I32}, {"|u1", ADM_U8}, {"<u1", ADM_U8},
};

/* Find the value text after 'key': in the header (NULL if absent). */
static const char *npy_field(const char *hdr, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(hdr, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    return p;
}

int adm_npy_read_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor *out) {
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return adm_error("%s: not a .npy file", label);
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) { hlen = buf[8] | (size_t)buf[9] << 8; hstart = 10; }
    else if (major == 2 || major == 3) {
        if (len < 12) return adm_error("%s: truncated .npy header", label);
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24; hstart = 12;
    } else return adm_error("%s: unsupported .npy version %d", label, major);
    if (hlen > len - hstart) return adm_error("%s: truncated .npy header", label);
    char *hdr = adm_malloc(hlen + 1);
    if (!hdr) return -1;
    memcpy(hdr, buf + hstart, hlen); hdr[hlen] = 0;

    const char *d = npy_field(hdr, "descr"), *f = npy_field(hdr, "fortran_order"), *s = npy_field(hdr, "shape");
    int rc = -1;
    if (!d || !f || !s) { adm_error("%s: .npy header lacks descr/fortran_order/shape", label); goto done; }
    if (strncmp(f, "False", 5) != 0) { adm_error("%s: Fortran-order .npy is not supported", label); goto done; }
    int found = 0;
    for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
        if (d[0] == '\'' && strncmp(d + 1, npy_types[i].descr, 3) == 0 && d[4] == '\'') {
            out->dtype = npy_types[i].dtype; found = 1;
        }
    if (!found) { adm_error("%s: unsupported .npy dtype %.8s", label, d); goto done; }
    if (*s != '(') { adm_error("%s: bad .npy shape", label); goto done; }
    s++;
    uint64_t numel = 1;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        if (*s < '0' || *s > '9') { adm_error("%s: bad .npy shape", label); goto done; }
        uint64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s++ - '0');
            if (v > ((uint64_t)1 << 40)) { adm_error("%s: absurd .npy dimension", label); goto done; }
        }
        if (out->ndim >= ADM_MAX_DIMS) { adm_error("%s: too many .npy dimensions", label); goto done; }
        out->shape[out->ndim++] = (int64_t)v;
        if (v && numel > ((uint64_t)1 << 40) / v) { adm_error("%s: .npy size overflow", label); goto done; }
        numel *= v;
    }
    size_t need = (size_t)numel * adm_dtype_size(out->dtype), off = hstart + hlen;
    if (need > len - off) { adm_error("%s: .npy data truncated (%zu of %zu bytes)", label, len - off, need); goto done; }
    out->data = adm_malloc(need);
    if (!out->data) goto done;
    memcpy(out->data, buf + off, need);
    out->nbytes = need; out->owns_data = 1;
    rc = 0;
done:
    free(hdr);
    return rc;
}

int adm_npy_read(const char *path, adm_tensor *out) {
    uint8_t *buf; size_t len;
    memset(out, 0, sizeof *out);
    if (adm_read_file(path, &buf, &len) != 0) return -1;
    int rc = adm_npy_read_mem(path, buf, len, out);
    free(buf);
    return rc;
}

int adm_npy_encode(adm_dtype dtype, int ndim, const int64_t *shape, const void *data, uint8_t **out, size_t *out_len) {
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
        if (npy_types[i].dtype == dtype) { descr = npy_types[i].descr; break; }
    if (!descr) return adm_error("dtype %s cannot be written as .npy", adm_dtype_name(dtype));
    char shp[256] = "", hdr[512];
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        size_t l = strlen(shp);
        snprintf(shp + l, sizeof shp - l, "%lld,%s", (long long)shape[i], (ndim > 1 && i < ndim - 1) ? " " : "");
        numel *= (size_t)shape[i];
    }
    if (ndim > 1) shp[strlen(shp) - 1] = 0;          /* (2, 3) but (5,) */
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shp);
    int total = 10 + n + 1, pad = (64 - total % 64) % 64;
    memset(hdr + n, ' ', (size_t)pad); hdr[n + pad] = '\n';
    size_t hlen = (size_t)(n + pad + 1), bytes = numel * adm_dtype_size(dtype);
    uint8_t *buf = adm_malloc(10 + hlen + bytes);
    if (!buf) return -1;
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 255), (uint8_t)(hlen >> 8)};
    memcpy(buf, pre, 10);
    memcpy(buf + 10, hdr, hlen);
    if (bytes) memcpy(buf + 10 + hlen, data, bytes);
    *out = buf;
    *out_len = 10 + hlen + bytes;
    return 0;
}

int adm_npy_write(const char *path, adm_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    uint8_t *buf;
    size_t len;
    if (adm_npy_encode(dtype, ndim, shape, data, &buf, &len) != 0) return adm_error_prefix("%s", path);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) { free(buf); return adm_error("%s: %s", path, strerror(errno)); }
    int ok = fwrite(buf, 1, len, f) == len;
    free(buf);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno; unlink(tmp);
        return adm_error("%s: write failed: %s", path, strerror(e));
    }
    return 0;
}
