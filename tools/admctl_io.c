/* admctl_io.c — what several admctl subcommands share beyond option
 * parsing: reading an integer vector (.npy timesteps or labels), the
 * `--batch B[,B...]` and `--iters N` values of the benchmarks, their device
 * set-up (open with profiling, matrix backend, warm-up, one line saying
 * so) and their deterministic uniform inputs.  See admctl.h. */
#include "admctl.h"
#include "npy.h"
#include "ops.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>

int admctl_read_index_vector(const char *path, const char *what, int B, int64_t **out) {
    adm_tensor t;
    *out = NULL;
    if (adm_npy_read(path, &t) != 0) return -1;
    int rc = 0;
    if ((t.dtype != ADM_I64 && t.dtype != ADM_I32) || t.ndim != 1 || t.shape[0] != B) {
        rc = adm_error("%s: %s must be an int64/int32 vector of length %d (the batch of x), got %s with %d "
                       "dimension(s)%s", path, what, B, adm_dtype_name(t.dtype), t.ndim,
                       t.ndim == 1 ? " of another length" : "");
    } else if ((*out = adm_malloc((size_t)B * sizeof(int64_t))) == NULL) {
        rc = -1;
    } else {
        for (int i = 0; i < B; i++)
            (*out)[i] = t.dtype == ADM_I64 ? ((const int64_t *)t.data)[i] : ((const int32_t *)t.data)[i];
    }
    adm_tensor_free(&t);
    return rc;
}

int admctl_read_time_vector(const char *path, int B, float **out) {
    adm_tensor t;
    *out = NULL;
    char *end;
    double v = strtod(path, &end);
    if (end != path && !*end) {                     /* one number for every image */
        if (!isfinite(v) || v < -1e6 || v > 1e6) return adm_error("--t %s: not a usable model time", path);
        if ((*out = adm_malloc((size_t)B * sizeof(float))) == NULL) return -1;
        for (int i = 0; i < B; i++) (*out)[i] = (float)v;
        return 0;
    }
    if (adm_npy_read(path, &t) != 0) return -1;
    int rc = 0;
    if (t.ndim != 1 || t.shape[0] != B || t.dtype == ADM_U8) {
        rc = adm_error("%s: t must be a float or int vector of length %d (the batch of x), got %s with %d "
                       "dimension(s)%s", path, B, adm_dtype_name(t.dtype), t.ndim,
                       t.ndim == 1 ? " of another length" : "");
    } else if ((*out = adm_tensor_f32_copy(&t)) == NULL) {
        rc = -1;
    }
    adm_tensor_free(&t);
    return rc;
}

int admctl_parse_batches(const char *list, int *bs, int max) {
    int nb = 0;
    for (const char *p = list; *p && nb < max;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || (*end && *end != ',')) {
            admctl_fail("--batch: bad value '%s'", list);
            return -1;
        }
        bs[nb++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    return nb;
}

int admctl_parse_iters(const char *s) {
    int iters = atoi(s);
    if (iters < 1 || iters > 10000) { admctl_fail("--iters must be 1..10000, not '%s'", s); return -1; }
    return iters;
}

FILE *admctl_bench_prose;

int admctl_bench_device(adm_cl *cl, const char *device, const char *backend) {
    if (adm_cl_open(cl, device, ADM_CL_PROFILE)) return admctl_fail("%s", adm_last_error());
    double warm = 0;
    if (backend && adm_ops_set_backend(cl, backend)) { admctl_fail("%s", adm_last_error()); goto fail; }
    if (adm_ops_warmup(cl, &warm)) { admctl_fail("warm-up: %s", adm_last_error()); goto fail; }
    fprintf(admctl_bench_prose ? admctl_bench_prose : stdout,
            "device %s, program %s in %.2f s, matrix backend %s (warm-up %.2f s)\n", cl->device_name,
           cl->program_from_cache ? "from cache" : "built", cl->build_seconds, adm_ops_backend(cl), warm);
    return ADMCTL_OK;
fail:
    adm_cl_close(cl);
    return ADMCTL_FAIL;
}

void admctl_fill_uniform(float *x, size_t n, uint64_t *state) {
    for (size_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(*state >> 40) / (double)(1ull << 23) - 1.0);
    }
}
