/* util.c — error messages, checked allocation, sha256 (OpenSSL libcrypto),
 * clocks and the host name.  Files are in files.c.  See util.h. */
#include "util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

const char *adm_host_name(void) {
    static char host[256];
    if (!host[0] && (gethostname(host, sizeof host - 1) != 0 || !host[0])) snprintf(host, sizeof host, "localhost");
    /* ':' separates the fields of a worker id. */
    for (char *c = host; *c; c++) if (*c == ':') *c = '_';
    return host;
}
