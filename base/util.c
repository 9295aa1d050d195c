/* util.c — error messages, checked allocation, sha256 (OpenSSL libcrypto;
 * also of a file read for someone else, hashed while read), clocks and the
 * host name.  Other file helpers are in files.c.  See util.h. */
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static adm_read_progress_fn read_progress;
static void *read_progress_ctx;

void adm_read_set_progress(adm_read_progress_fn fn, void *ctx) { read_progress = fn; read_progress_ctx = ctx; }

int adm_sha256_file(const char *path, char out[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    struct stat st;
    size_t size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, done = 0;
    unsigned char buf[1 << 16]; size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, got);
        done += got;
        if (read_progress && done % (1u << 20) < got) read_progress(read_progress_ctx, path, done, size);   /* each MiB */
    }
    if (read_progress && done % (1u << 20) != 0) read_progress(read_progress_ctx, path, done, size);
    int bad = ferror(f);
    fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE]; unsigned n = 0;
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    if (bad) return adm_error("%s: read error", path);
    hex(md, n, out);
    return 0;
}

/* ---- files named by someone else ---- */

static const volatile sig_atomic_t *read_stop;

void adm_read_set_stop(const volatile sig_atomic_t *flag) { read_stop = flag; }

static int stopped(void) { return read_stop && *read_stop; }


const char *adm_file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return S_ISREG(mode) ? "a regular file" : "not a regular file";
}

int adm_read_untrusted(const char *path, size_t max_bytes, uint8_t **data, size_t *len, char sha256[65]) {
    *data = NULL; *len = 0;
    /* O_NONBLOCK: opening a FIFO with no writer (or a device) must not
     * wait; it is cleared once fstat has said "regular file". */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return adm_error("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); return adm_error("%s: %s", path, strerror(e)); }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return adm_error("%s: %s, not a regular file", path, adm_file_kind(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return adm_error("%s: %s", path, strerror(e));
    }
    if (max_bytes && (uint64_t)st.st_size > (uint64_t)max_bytes) {
        close(fd);
        return adm_error("%s: %lld bytes, more than the %zu allowed", path, (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = adm_malloc(size + 1);
    if (!buf) { close(fd); return adm_error_prefix("%s", path); }
    EVP_MD_CTX *ctx = sha256 ? EVP_MD_CTX_new() : NULL;
    if (sha256 && (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)) {
        EVP_MD_CTX_free(ctx);
        free(buf);
        close(fd);
        return adm_error("%s: sha256 unavailable", path);
    }
    /* Chunks small enough that a stop request is seen within milliseconds;
     * each is hashed as it arrives (the bytes parsed are the bytes hashed). */
    size_t got = 0;
    int rc = 0;
    while (got < size) {
        if (stopped()) { rc = 1; adm_error("%s: reading stopped by a signal", path); break; }
        size_t want = size - got < (1u << 20) ? size - got : (1u << 20);
        ssize_t r = read(fd, buf + got, want);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { rc = adm_error("%s: %s", path, strerror(errno)); break; }
        if (r == 0) { rc = adm_error("%s: shorter than its size (%zu of %zu bytes): changed while read", path, got, size); break; }
        if (ctx) EVP_DigestUpdate(ctx, buf + got, (size_t)r);
        got += (size_t)r;
        if (read_progress) read_progress(read_progress_ctx, path, got, size);
    }
    close(fd);
    if (rc == 0 && ctx) {
        unsigned char md[EVP_MAX_MD_SIZE]; unsigned n = 0;
        EVP_DigestFinal_ex(ctx, md, &n);
        hex(md, n, sha256);
    }
    EVP_MD_CTX_free(ctx);
    if (rc != 0) { free(buf); return rc; }
    buf[got] = 0;
    *data = buf; *len = got;
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
