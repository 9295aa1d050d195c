/* check.h — the tiny test harness every tests/test_*.c uses.
 *
 * A test program is a main() that calls RUN(fn) for each case.  A case
 * fails when any CHECK inside it fails; RUN prints "PASS name" or
 * "FAIL name" on its own line, which tests/run.sh counts.  Programs exit
 * non-zero when a case failed.  SKIP(reason) ends a case as skipped (only
 * for cases that need something absent, e.g. an environment variable).
 */
#ifndef ADM_CHECK_H
#define ADM_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static int check_case_failed_, check_case_skipped_, check_total_failed_;

#define CHECK(cond, ...) do { if (!(cond)) { \
    printf("  check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    printf(__VA_ARGS__); printf("\n"); fflush(stdout); check_case_failed_ = 1; } } while (0)

/* CHECK and leave the case at once (for checks later code relies on). */
#define REQUIRE(cond, ...) do { CHECK(cond, __VA_ARGS__); if (check_case_failed_) return; } while (0)

#define SKIP(...) do { printf("  skipped: "); printf(__VA_ARGS__); printf("\n"); \
    check_case_skipped_ = 1; return; } while (0)

#define RUN(fn) do { check_case_failed_ = 0; check_case_skipped_ = 0; fn(); \
    if (check_case_skipped_ && !check_case_failed_) printf("SKIP %s\n", #fn); \
    else { printf("%s %s\n", check_case_failed_ ? "FAIL" : "PASS", #fn); \
      check_total_failed_ += check_case_failed_; } fflush(stdout); } while (0)

#define CHECK_EXIT() return check_total_failed_ ? 1 : 0

/* The OpenCL device the tests run on: $ADMD_TEST_DEVICE (a device number or
 * part of a name, as --device takes; the shell tests pass it as --device),
 * else NULL: the default device.  The one test-device variable. */
static inline const char *test_device(void) {
    const char *d = getenv("ADMD_TEST_DEVICE");
    return d && *d ? d : NULL;
}

/* Where the copied reference data lives (tests/data unless ADM_TEST_DATA). */
static inline const char *test_data_dir(void) {
    const char *d = getenv("ADM_TEST_DATA");
    return d && *d ? d : "tests/data";
}
static inline const char *test_path(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", test_data_dir(), rel);
    return buf;
}
/* The value of "key=value" line `key` of a config.txt text into val (n
 * bytes); NULL (val empty) when the key is missing. */
static inline const char *test_kv(const char *text, const char *key, char *val, size_t n) {
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            const char *v = l + kl + 1, *e = strchr(v, '\n');
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= n) len = n - 1;
            memcpy(val, v, len); val[len] = 0;
            return val;
        }
    }
    val[0] = 0;
    return NULL;
}

#endif
