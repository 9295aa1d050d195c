/* npz.c — NumPy .npz reader and writer (see npz.h).  Members are read
 * whole through zip_entry.c (sizes checked against what the archive can
 * hold, CRCs checked by libzip) and parsed by the .npy reader. */
#include "npz.h"
#include "npy.h"
#include "util.h"
#include "zip_entry.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPZ_MAX_MEMBERS 4096

static int npz_from_zip(const char *label, zip_t *z, size_t file_len, adm_tensor_set *out) {
    zip_int64_t nent = zip_get_num_entries(z, 0);
    if (nent <= 0) return adm_error("%s: an empty archive, not an .npz", label);
    if (nent > NPZ_MAX_MEMBERS) return adm_error("%s: %lld members, more than an .npz reader takes (%d)", label, (long long)nent, NPZ_MAX_MEMBERS);
    out->t = adm_calloc((size_t)nent, sizeof *out->t);
    if (!out->t) return -1;
    for (zip_int64_t k = 0; k < nent; k++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)k, 0);
        size_t nl = nm ? strlen(nm) : 0;
        if (!nm || nl <= 4 || strcmp(nm + nl - 4, ".npy") != 0) continue;
        char mlabel[512];
        snprintf(mlabel, sizeof mlabel, "%s: member %s", label, nm);
        for (int i = 0; i < out->n; i++)
            if (strlen(out->t[i].name) == nl - 4 && !strncmp(out->t[i].name, nm, nl - 4))
                return adm_error("%s appears twice", mlabel);
        size_t size;
        if (adm_zip_entry_size(mlabel, z, k, file_len, &size) != 0) return -1;
        uint8_t *buf = adm_malloc(size ? size : 1);
        if (!buf) return -1;
        adm_tensor *t = &out->t[out->n];
        int rc = adm_zip_read_entry(mlabel, z, k, buf, size);
        if (rc == 0) rc = adm_npy_read_mem(mlabel, buf, size, t);
        free(buf);
        if (rc != 0) return -1;
        out->n++;
        if (!(t->name = adm_malloc(nl - 3))) return -1;
        memcpy(t->name, nm, nl - 4);
        t->name[nl - 4] = 0;
    }
    if (out->n == 0) return adm_error("%s: no .npy member: not an .npz file", label);
    return 0;
}

int adm_npz_read_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    zip_t *z = adm_zip_open_mem(label, buf, len);
    if (!z) return -1;
    int rc = npz_from_zip(label, z, len, out);
    zip_discard(z);
    if (rc != 0) adm_tensors_free(out);
    return rc;
}

int adm_npz_read(const char *path, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    zip_t *z = adm_zip_open_path(path, "an .npz file", &size);
    if (!z) return -1;
    int rc = npz_from_zip(path, z, size, out);
    zip_discard(z);
    if (rc != 0) adm_tensors_free(out);
    return rc;
}

int adm_npz_write(const char *path, const adm_tensor *t, int n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    unlink(tmp);
    int code = 0;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &code);
    if (!z) return adm_error("%s: cannot create", path);
    uint8_t **bufs = adm_calloc((size_t)(n ? n : 1), sizeof *bufs);
    int rc = bufs ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        size_t len;
        char name[300];
        snprintf(name, sizeof name, "%s.npy", t[i].name ? t[i].name : "arr");
        if (adm_npy_encode(t[i].dtype, t[i].ndim, t[i].shape, t[i].data, &bufs[i], &len) != 0) { rc = -1; break; }
        zip_source_t *src = zip_source_buffer(z, bufs[i], len, 0);
        zip_int64_t idx = src ? zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) { if (src) zip_source_free(src); rc = adm_error("%s: %s", path, zip_strerror(z)); break; }
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    if (rc == 0 && zip_close(z) != 0) { rc = adm_error("%s: %s", path, zip_strerror(z)); zip_discard(z); }
    else if (rc != 0) zip_discard(z);
    for (int i = 0; bufs && i < n; i++) free(bufs[i]);
    free(bufs);
    if (rc == 0 && rename(tmp, path) != 0) rc = adm_error("%s: %s", path, strerror(errno));
    if (rc != 0) unlink(tmp);
    return rc;
}
