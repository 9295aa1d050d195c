/* files.c — whole-file reads, input checks, the atomic write (temp file,
 * fsync, rename, fsync the folder), mkdir -p and the cache folder.  See
 * util.h. */
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* fsync the folder holding path so the rename itself is durable. */
static int fsync_parent(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return adm_error("%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL) return adm_error("fsync %s: %s", dir, strerror(e));
    return 0;
}

int adm_file_write_atomic(const char *path, const char *tmp_path, const void *data, size_t len) {
    char tmp_default[4200];
    if (!tmp_path) {
        snprintf(tmp_default, sizeof tmp_default, "%s.tmp.%ld", path, (long)getpid());
        tmp_path = tmp_default;
    }
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { int e = errno; adm_error("%s: %s", tmp_path, strerror(e)); errno = e; return -1; }
    const uint8_t *p = data;
    size_t left = len;
    const char *step = NULL;
    int e = 0;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { e = n < 0 ? errno : EIO; step = "write"; break; }
        p += n; left -= (size_t)n;
    }
    if (!step && fsync(fd) != 0) { e = errno; step = "fsync"; }
    if (close(fd) != 0 && !step) { e = errno; step = "close"; }
    if (!step && rename(tmp_path, path) != 0) { e = errno; step = "rename"; }
    if (step) {
        unlink(tmp_path);
        if (!strcmp(step, "rename")) adm_error("rename %s -> %s: %s", tmp_path, path, strerror(e));
        else adm_error("%s %s: %s", step, tmp_path, strerror(e));
        errno = e;                   /* callers tell a full disk (ENOSPC) from other failures */
        return -1;
    }
    return fsync_parent(path);
}

int adm_cache_dir(char *buf, size_t n) {
    const char *d = getenv("ADMD_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *cd = getenv("CACHE_DIRECTORY");
    int len;
    buf[0] = 0;
    if (d && *d) len = snprintf(buf, n, "%s", d);
    else if (cd && *cd) len = snprintf(buf, n, "%.*s", (int)strcspn(cd, ":"), cd);   /* systemd: "a:b" */
    else if (x && x[0] == '/') len = snprintf(buf, n, "%s/admd", x);
    else if (home && home[0] == '/') len = snprintf(buf, n, "%s/.cache/admd", home);
    else return adm_error("no cache folder: set ADMD_CACHE_DIR, XDG_CACHE_HOME or HOME (running uncached)");
    if (len < 0 || (size_t)len >= n) { buf[0] = 0; return adm_error("cache folder path too long"); }
    struct stat st;
    if (stat(buf, &st) == 0) {        /* an existing folder must be ours alone to write */
        if (!S_ISDIR(st.st_mode)) { adm_error("cache folder %s: not a directory", buf); buf[0] = 0; return -1; }
        if (st.st_uid != geteuid() || (st.st_mode & S_IWOTH)) {
            adm_error("cache folder %s: %s (running uncached)", buf,
                      st.st_uid != geteuid() ? "owned by another user" : "writable by others");
            buf[0] = 0;
            return -1;
        }
    }
    return 0;
}

int adm_mkdir_p(const char *path, unsigned mode) {
    char buf[PATH_MAX];
    if (!path[0]) return adm_error("mkdir: empty path");
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return adm_error("%s: path too long", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST) return adm_error("mkdir %s: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0) return adm_error("%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return adm_error("%s: not a directory", path);
    return 0;
}
