/* util.h — the plumbing every part of admd shares (the base/ layer:
 * includes nothing of the project's): the error convention, checked
 * allocation, files (whole-file reads, input checks, atomic writes,
 * mkdir -p), sha256, clocks, the host name and the files embedded at build
 * time.  util.c and files.c implement it.
 *
 * Error convention: a function that can fail returns 0 (or a non-NULL
 * pointer) on success and -1 (or NULL) on failure, after calling
 * adm_error("...") with one line that names the problem (and the file, if
 * any).  The caller that reports to a person prints adm_last_error().
 * The message is per thread.
 */
#ifndef ADM_UTIL_H
#define ADM_UTIL_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Set the current thread's error message (printf-style); returns -1. */
int adm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the current message: "ctx: <old message>"; returns -1. */
int adm_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *adm_last_error(void);

/* malloc/calloc that set adm_error on failure (and on size overflow). */
void *adm_malloc(size_t n);
void *adm_calloc(size_t count, size_t size);

/* Read a whole regular file into memory (NUL-terminated for convenience).
 * Refuses directories and non-regular files with a clear error. */
int adm_read_file(const char *path, uint8_t **data, size_t *len);

/* A file whose path came from someone else (a spool row): regular files
 * only (opened O_NONBLOCK so a FIFO or device cannot block the open, then
 * fstat; the flag is cleared before reading), at most max_bytes (0: no
 * limit), read in 1 MiB chunks that stop when the flag given to
 * adm_read_set_stop becomes non-zero, sha256 computed while reading when
 * sha256 != NULL.  Errors name the path and the reason, never the
 * content.  0 ok (data NUL-terminated, free()), 1 stopped, -1 error. */
int adm_read_untrusted(const char *path, size_t max_bytes, uint8_t **data, size_t *len, char sha256[65]);
/* The flag (e.g. the daemon's SIGTERM flag) that ends adm_read_untrusted early. */
void adm_read_set_stop(const volatile sig_atomic_t *flag);
/* Called after every chunk adm_read_untrusted reads (bytes so far, file
 * size), and after each MiB adm_sha256_file hashes: the daemon's watchdog
 * pings come from here, so a read that stops making progress stops them;
 * admctl draws its progress bars.  NULL: none. */
typedef void (*adm_read_progress_fn)(void *ctx, const char *path, size_t got, size_t size);
void adm_read_set_progress(adm_read_progress_fn fn, void *ctx);
/* "a directory", "a FIFO", "a character device", ... for a stat mode. */
const char *adm_file_kind(mode_t mode);

/* path is a non-empty regular file (its size in *size unless NULL); else
 * -1 + "PATH: <why>" (missing, "is a directory, not <what>", not a regular
 * file, empty file). */
int adm_check_input_file(const char *path, const char *what, size_t *size);

/* Write data to path atomically: write tmp_path (NULL: "<path>.tmp.<pid>"),
 * fsync it, rename it to path, fsync the folder.  On any error (e.g. "No
 * space left on device") the temp file is removed and path is untouched;
 * errno says why (ENOSPC, EDQUOT, ...) when a system call failed. */
int adm_file_write_atomic(const char *path, const char *tmp_path, const void *data, size_t len);

/* mkdir -p: create path and its missing parents with mode (an existing
 * folder is fine; an existing non-folder is an error). */
int adm_mkdir_p(const char *path, unsigned mode);

/* admd's cache folder (compiled kernels, engine choices, features), not
 * created: $ADMD_CACHE_DIR, else systemd's $CACHE_DIRECTORY (its first
 * entry), else $XDG_CACHE_HOME/admd (absolute only), else $HOME/.cache/admd.
 * Never a shared folder such as /tmp: with none of these set, or when the
 * folder exists but belongs to another user or others may write to it, it
 * returns -1 (the reason in adm_last_error) and callers run uncached. */
int adm_cache_dir(char *buf, size_t n);

/* sha256 of a buffer / a file, as 64 lowercase hex digits + NUL. */
void adm_sha256_hex(const void *data, size_t len, char out[65]);
int adm_sha256_file(const char *path, char out[65]);

/* Monotonic clock in seconds. */
double adm_now(void);

/* This machine's host name (':' replaced by '_'; "localhost" if unknown). */
const char *adm_host_name(void);

/* Files embedded at build time by tools/embed.sh: NULL-terminated tables
 * of {basename, text}, sorted by name. */
typedef struct { const char *name; const char *text; } adm_embedded_file;
extern const adm_embedded_file adm_cl_sources[];   /* kernels/NAME.cl */
extern const adm_embedded_file adm_schema_sql[];   /* schema/NNN_name.sql */

#endif
