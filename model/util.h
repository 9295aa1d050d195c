/* util.h — small things every part of admd shares: the error convention,
 * checked allocation, whole-file reads and sha256.
 *
 * Error convention: a function that can fail returns 0 (or a non-NULL
 * pointer) on success and -1 (or NULL) on failure, after calling
 * adm_error("...") with one line that names the problem (and the file, if
 * any).  The caller that reports to a person prints adm_last_error().
 * The message is per thread.
 */
#ifndef ADM_UTIL_H
#define ADM_UTIL_H
#include <stddef.h>
#include <stdint.h>

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

/* path is a non-empty regular file (its size in *size unless NULL); else
 * -1 + "PATH: <why>" (missing, "is a directory, not <what>", not a regular
 * file, empty file). */
int adm_check_input_file(const char *path, const char *what, size_t *size);

/* sha256 of a buffer / a file, as 64 lowercase hex digits + NUL. */
void adm_sha256_hex(const void *data, size_t len, char out[65]);
int adm_sha256_file(const char *path, char out[65]);

/* Monotonic clock in seconds. */
double adm_now(void);

#endif
