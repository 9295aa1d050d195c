/* cmd_compare.c — `admctl compare A.npy B.npy [--tol X]`: the largest
 * absolute and relative difference of two arrays of the same shape (any
 * float or integer dtype, compared as float32), one line of text and one
 * JSON line; exit 1 when the shapes differ, a value is not finite where
 * the other is, or the largest difference exceeds --tol.  Parity checks
 * (tools/device-check.sh) use it against the reference outputs. */
#include "admctl.h"
#include "npy.h"
#include "tensor.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: admctl compare A.npy B.npy [--tol X]\n"
               "  max |A - B| and max |A - B| / max |B| over all elements; exit 1 above --tol (default: report only)\n");
}

int cmd_compare(int argc, char **argv) {
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    const char *files[2] = {NULL, NULL}, *tol_s = NULL;
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--tol", &tol_s)) continue;
        if (argv[i][0] == '-' || nf == 2) { admctl_fail("compare: unexpected argument '%s'", argv[i]); usage(stderr); return ADMCTL_USAGE; }
        files[nf++] = argv[i];
    }
    if (nf != 2) { usage(stderr); return ADMCTL_USAGE; }
    double tol = -1;
    if (tol_s) {
        char *end;
        tol = strtod(tol_s, &end);
        if (*end || !(tol >= 0)) { admctl_fail("compare: --tol '%s' is not a number >= 0", tol_s); return ADMCTL_USAGE; }
    }
    adm_tensor t[2];
    memset(t, 0, sizeof t);
    float *v[2] = {NULL, NULL};
    int rc = ADMCTL_FAIL;
    for (int k = 0; k < 2; k++) {
        if (adm_npy_read(files[k], &t[k])) { admctl_fail("%s", adm_last_error()); goto done; }
        if (!(v[k] = adm_tensor_f32_copy(&t[k]))) { admctl_fail("%s: %s", files[k], adm_last_error()); goto done; }
    }
    if (t[0].ndim != t[1].ndim || memcmp(t[0].shape, t[1].shape, sizeof(int64_t) * t[0].ndim)) {
        admctl_fail("compare: %s and %s have different shapes", files[0], files[1]);
        goto done;
    }
    size_t n = (size_t)adm_tensor_numel(&t[0]), bad = 0;
    double e = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[0][i]) != isfinite(v[1][i])) { bad++; continue; }
        double d = fabs((double)v[0][i] - v[1][i]);
        if (d > e) e = d;
        if (fabs(v[1][i]) > ref) ref = fabs(v[1][i]);
    }
    int ok = bad == 0 && (tol < 0 || e <= tol);
    printf("%s vs %s: %zu elements, max |diff| %.3g (%.3g of max |B|)%s%s\n", files[0], files[1], n, e,
           ref > 0 ? e / ref : 0.0, bad ? ", NOT FINITE in one only" : "", ok ? "" : " — FAIL");
    printf("{\"compare\":\"%s\",\"reference\":\"%s\",\"elements\":%zu,\"max_abs\":%.6g,\"max_rel\":%.6g,\"nonfinite\":%zu,"
           "\"tol\":%.6g,\"ok\":%s}\n", files[0], files[1], n, e, ref > 0 ? e / ref : 0.0, bad, tol, ok ? "true" : "false");
    rc = ok ? ADMCTL_OK : ADMCTL_FAIL;
done:
    for (int k = 0; k < 2; k++) { adm_tensor_free(&t[k]); free(v[k]); }
    return rc;
}
