/* cmd_convert.c — `admctl convert IN OUT [--fp16]`: any checkpoint admd
 * reads (.pt or .safetensors) rewritten as .safetensors, optionally with
 * fp16 storage for the floating-point tensors (admd computes in fp32 and
 * expands fp16 exactly, so only the rounding of the weights changes).
 *
 * With --fp16 it refuses a tensor whose values do not fit fp16 (|w| >
 * 65504), and reports the largest rounding error so the user sees what
 * the smaller file costs.  Reading and the fp16 rounding draw a progress
 * bar on stderr (admctl_progress.c); a terminal also sees the write. */
#include "admctl.h"
#include "tensor.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl convert IN OUT.safetensors [--fp16]\n"
        "\n"
        "Rewrite a checkpoint (torch .pt or .safetensors) as .safetensors.\n"
        "  --fp16    store floating-point tensors as fp16 (half the size; admd\n"
        "            still computes in fp32).  Prints the largest rounding error.\n");
}

/* Replace t's data by its fp16 rounding; track the largest |w - fp16(w)|
 * (absolute, and relative to the tensor's largest |w|). */
static int to_fp16(adm_tensor *t, double *max_abs, double *max_rel) {
    int64_t n = adm_tensor_numel(t);
    float *f = adm_tensor_f32_copy(t);
    if (!f) return -1;
    uint16_t *h = adm_malloc((size_t)n * 2 + 1);
    if (!h) { free(f); return -1; }
    double peak = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(f[i]) || fabsf(f[i]) > 65504.0f) {
            free(f); free(h);
            return adm_error("tensor %s: value %g at element %lld does not fit fp16 (keep fp32: omit --fp16)",
                             t->name ? t->name : "?", (double)f[i], (long long)i);
        }
        h[i] = adm_float_to_half(f[i]);
        double e = fabs((double)f[i] - (double)adm_half_to_float(h[i]));
        if (e > err) err = e;
        if (fabs(f[i]) > peak) peak = fabs(f[i]);
    }
    free(f);
    if (t->owns_data) free(t->data);
    t->data = h; t->nbytes = (size_t)n * 2; t->dtype = ADM_F16; t->owns_data = 1;
    if (err > *max_abs) *max_abs = err;
    if (peak > 0 && err / peak > *max_rel) *max_rel = err / peak;
    return 0;
}

static int is_float(const adm_tensor *t) { return t->dtype == ADM_F32 || t->dtype == ADM_F64 || t->dtype == ADM_BF16; }

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int fp16 = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_flag(argv, i, "--fp16", &fp16)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            usage(stderr);
            admctl_fail("convert: unknown option '%s'", argv[i]);
            return ADMCTL_USAGE;
        }
        if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else { usage(stderr); admctl_fail("convert: unexpected argument '%s'", argv[i]); return ADMCTL_USAGE; }
    }
    if (!in || !out) { usage(stderr); return ADMCTL_USAGE; }

    adm_tensor_set set;
    if (admctl_tensors_load(in, &set, NULL) != 0) return admctl_fail("%s", adm_last_error());
    double max_abs = 0, max_rel = 0;
    size_t bytes_in = 0, bytes_out = 0, to_convert = 0, converted = 0;
    int n_half = 0;
    for (int k = 0; k < set.n; k++)
        if (fp16 && is_float(&set.t[k])) to_convert += set.t[k].nbytes;
    admctl_counter bar;
    admctl_counter_init(&bar, stderr, "to fp16", "bytes");
    bar.bytes = 1;
    for (int k = 0; k < set.n; k++) {
        adm_tensor *t = &set.t[k];
        bytes_in += t->nbytes;
        if (fp16 && is_float(t)) {
            converted += t->nbytes;
            if (to_fp16(t, &max_abs, &max_rel) != 0) {
                if (bar.tty && bar.last > 0) fputc('\n', stderr);
                adm_tensors_free(&set);
                return admctl_fail("%s: %s", in, adm_last_error());
            }
            admctl_counter_update(&bar, (int64_t)converted, (int64_t)to_convert);
            n_half++;
        }
        bytes_out += t->nbytes;
    }
    /* the write has no steps to count: a terminal sees what it waits for */
    char line[512];
    snprintf(line, sizeof line, "writing %s (%.1f MB)", out, bytes_out / 1e6);
    if (bar.tty) admctl_progress_show(stderr, 1, line);
    int n = set.n, rc = adm_safetensors_write(out, set.t, set.n);
    if (bar.tty) fputs("\r\033[K", stderr);
    adm_tensors_free(&set);
    if (rc != 0) return admctl_fail("%s", adm_last_error());
    printf("%s: %d tensors, %.1f MB of data -> %s: %.1f MB", in, n, bytes_in / 1e6, out, bytes_out / 1e6);
    if (fp16 && max_abs == 0) printf(" (%d tensors as fp16; lossless: every weight was already an fp16 value)", n_half);
    else if (fp16) printf(" (%d tensors as fp16; largest rounding error %.3g, %.3g of the tensor's largest weight)",
                          n_half, max_abs, max_rel);
    printf("\n");
    return ADMCTL_OK;
}
