/* zip_entry.c — whole zip members with checked sizes (see zip_entry.h). */
#include "zip_entry.h"
#include "util.h"
#include <stdint.h>

static zip_t *zip_fail(const char *label, int code) {
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    adm_error("%s: not a readable zip archive (corrupt or truncated): %s", label, zip_error_strerror(&e));
    zip_error_fini(&e);
    return NULL;
}

zip_t *adm_zip_open_mem(const char *label, const void *buf, size_t len) {
    if (len == 0) { adm_error("%s: empty file", label); return NULL; }
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &err);
    if (!src) { zip_error_fini(&err); adm_error("%s: cannot open buffer", label); return NULL; }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
        int code = zip_error_code_zip(&err);
        zip_source_free(src);
        zip_error_fini(&err);
        return zip_fail(label, code);
    }
    zip_error_fini(&err);
    return z;
}

zip_t *adm_zip_open_path(const char *path, const char *what, size_t *file_len) {
    if (adm_check_input_file(path, what, file_len) != 0) return NULL;
    int code = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    return z ? z : zip_fail(path, code);
}

int adm_zip_entry_size(const char *label, zip_t *z, zip_int64_t idx, size_t file_len, size_t *size) {
    zip_stat_t zs;
    if (zip_stat_index(z, (zip_uint64_t)idx, 0, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE))
        return adm_error("%s: cannot stat archive entry: %s", label, zip_strerror(z));
    uint64_t limit = zs.comp_method == ZIP_CM_STORE ? zs.comp_size : zs.comp_size * 1100 + 1024;
    if (zs.comp_size > file_len || zs.size > limit)
        return adm_error("%s: archive entry %s claims an impossible size", label, zs.name ? zs.name : "?");
    *size = (size_t)zs.size;
    return 0;
}

int adm_zip_read_entry(const char *label, zip_t *z, zip_int64_t idx, void *dst, size_t n) {
    zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f) return adm_error("%s: cannot open archive entry: %s", label, zip_strerror(z));
    size_t got = 0;
    while (got < n) {
        zip_int64_t k = zip_fread(f, (uint8_t *)dst + got, n - got);
        if (k < 0) { adm_error("%s: corrupt archive entry: %s", label, zip_file_strerror(f)); zip_fclose(f); return -1; }
        if (k == 0) break;
        got += (size_t)k;
    }
    zip_fclose(f);
    if (got != n) return adm_error("%s: archive entry shorter than its directory says", label);
    return 0;
}
