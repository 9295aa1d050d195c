/* util.c — error messages, checked allocation, file reads, sha256 (OpenSSL
 * libcrypto), clock.  See util.h. */
#include "util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <openssl/evp.h>

static _Thread_local char adm_errbuf[1024];

int adm_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(adm_errbuf, sizeof adm_errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

int adm_error_prefix(const char *fmt, ...) {
    char prefix[512], old[sizeof adm_errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, adm_errbuf, sizeof old);
    size_t n = strnlen(prefix, sizeof prefix - 1);
    memcpy(adm_errbuf, prefix, n);
    snprintf(adm_errbuf + n, sizeof adm_errbuf - n, ": %.*s", (int)(sizeof adm_errbuf - n - 3), old);
    return -1;
}

const char *adm_last_error(void) { return adm_errbuf[0] ? adm_errbuf : "unknown error"; }

void *adm_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) adm_error("out of memory (%zu bytes)", n);
    return p;
}

void *adm_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) { adm_error("allocation size overflow"); return NULL; }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) adm_error("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

int adm_read_file(const char *path, uint8_t **data, size_t *len) {
    struct stat st;
    *data = NULL; *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return adm_error("%s: not a regular file", path);
    }
    uint8_t *buf = adm_malloc((size_t)st.st_size + 1);
    if (!buf) { fclose(f); return adm_error_prefix("%s", path); }
    size_t got = fread(buf, 1, (size_t)st.st_size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != (size_t)st.st_size) { free(buf); return adm_error("%s: read error", path); }
    buf[got] = 0;
    *data = buf; *len = got;
    return 0;
}

int adm_check_input_file(const char *path, const char *what, size_t *size) {
    struct stat st;
    if (stat(path, &st) != 0) return adm_error("%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return adm_error("%s: is a directory, not %s", path, what);
    if (!S_ISREG(st.st_mode)) return adm_error("%s: not a regular file", path);
    if (st.st_size == 0) return adm_error("%s: empty file", path);
    if (size) *size = (size_t)st.st_size;
    return 0;
}

static void hex(const unsigned char *md, unsigned n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) { out[2*i] = digits[md[i] >> 4]; out[2*i+1] = digits[md[i] & 15]; }
    out[2*n] = 0;
}

void adm_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE]; unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    hex(md, n, out);
}

int adm_sha256_file(const char *path, char out[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[1 << 16]; size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(ctx, buf, got);
    int bad = ferror(f);
    fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE]; unsigned n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    if (bad) return adm_error("%s: read error", path);
    hex(md, n, out);
    return 0;
}

double adm_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
