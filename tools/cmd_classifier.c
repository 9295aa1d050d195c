/* cmd_classifier.c — `admctl classifier`: the noisy classifier's logits
 * and its input gradient d/dx sum_b log_softmax(logits_b)[y_b] (what
 * classifier guidance uses, before the scale), from .npy inputs to .npy
 * outputs; and `admctl bench --classifier X` (admctl_bench_classifier):
 * forward and forward+backward timings with random weights.
 *
 *   admctl classifier --checkpoint M.pt --config C --x x.npy --t t.npy
 *                     [--y y.npy] [--logits logits.npy] [--grad grad.npy] [--device D]
 *   admctl bench --classifier PRESET_OR_CONFIG [--batch B[,B...]] [--iters N] [--device D]
 */
#include "admctl.h"
#include "cl_runtime.h"
#include "classifier.h"
#include "config.h"
#include "npy.h"
#include "ops.h"
#include "tensor.h"
#include "util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl classifier --checkpoint M.pt --config C --x x.npy --t t.npy\n"
        "                         [--y y.npy] [--logits logits.npy] [--grad grad.npy] [--device D]\n"
        "\n"
        "Run the noisy classifier (EncoderUNetModel) on x_t at timesteps t.\n"
        "  --checkpoint  weights (.pt as torch.save writes them, or .safetensors)\n"
        "  --config      key=value file, CLASSIFIER_FLAGS string or preset name (e.g. 64x64_classifier)\n"
        "  --x           float32 [B, C, S, S] (S = the config's image_size); --t [B] model times (.npy float or int,\n"
        "                0..999 scale, fractional allowed), or one number for every image\n"
        "  --y           int [B] class labels (needed for --grad)\n"
        "  --logits      write the float32 [B, classes] logits\n"
        "  --grad        write d/dx sum_b log_softmax(logits_b)[y_b], float32 like x\n"
        "  --device      P:D, a device number or a name substring (default: first GPU, else CPU)\n");
}

int cmd_classifier(int argc, char **argv) {
    const char *ckpt = NULL, *config = NULL, *device = NULL, *xp = NULL, *tp = NULL, *yp = NULL,
               *lp = NULL, *gp = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--checkpoint", &ckpt) || admctl_opt(argc, argv, &i, "--config", &config) ||
            admctl_opt(argc, argv, &i, "--device", &device) || admctl_opt(argc, argv, &i, "--x", &xp) ||
            admctl_opt(argc, argv, &i, "--t", &tp) || admctl_opt(argc, argv, &i, "--y", &yp) ||
            admctl_opt(argc, argv, &i, "--logits", &lp) || admctl_opt(argc, argv, &i, "--grad", &gp))
            continue;
        admctl_fail("classifier: unknown argument '%s'", argv[i]);
        usage(stderr);
        return ADMCTL_USAGE;
    }
    if (!ckpt || !config || !xp || !tp || (!lp && !gp)) {
        admctl_fail("classifier: --checkpoint, --config, --x, --t and one of --logits / --grad are required");
        usage(stderr);
        return ADMCTL_USAGE;
    }
    if (gp && !yp) { admctl_fail("classifier: --grad needs the labels --y"); return ADMCTL_USAGE; }

    int rc = ADMCTL_FAIL, cl_open = 0;
    adm_config cfg;
    adm_tensor_set weights = {0};
    adm_tensor x = {0};
    float *t = NULL;
    int64_t *y = NULL;
    float *logits = NULL, *grad = NULL;
    adm_cl cl;
    adm_classifier *c = NULL;

    if (adm_config_parse(config, ADM_KIND_CLASSIFIER, &cfg) != 0) { admctl_fail("config %s: %s", config, adm_last_error()); goto done; }
    if (cfg.kind != ADM_KIND_CLASSIFIER) { admctl_fail("config %s describes a UNet, not a classifier", config); goto done; }
    /* inputs first: a wrong shape should not wait for the device */
    if (adm_npy_read(xp, &x) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    const int S = cfg.image_size;
    if (x.dtype != ADM_F32 || x.ndim != 4 || x.shape[0] < 1 || x.shape[0] > 65536 || x.shape[1] != cfg.in_channels ||
        x.shape[2] != S || x.shape[3] != S) {
        admctl_fail("%s: x must be float32 [B, %d, %d, %d] for this classifier, got %s with %d dimension(s)%s", xp,
                    cfg.in_channels, S, S, adm_dtype_name(x.dtype), x.ndim, x.ndim == 4 ? " of other sizes" : "");
        goto done;
    }
    const int B = (int)x.shape[0], K = cfg.out_channels;
    if (admctl_read_time_vector(tp, B, &t) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (yp && admctl_read_index_vector(yp, "y", B, &y) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    for (int b = 0; y && b < B; b++)
        if (y[b] < 0 || y[b] >= K) { admctl_fail("%s: label %lld of sample %d is outside 0..%d", yp, (long long)y[b], b, K - 1); goto done; }

    if (adm_tensors_load(ckpt, &weights) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (adm_cl_open(&cl, device, 0) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    cl_open = 1;
    if (!(c = adm_classifier_load(&cl, &cfg, &weights))) { admctl_fail("%s: %s", ckpt, adm_last_error()); goto done; }
    adm_tensors_free(&weights);

    const size_t nx = (size_t)adm_tensor_numel(&x);
    logits = adm_malloc((size_t)B * K * sizeof(float));
    grad = gp ? adm_malloc(nx * sizeof(float)) : NULL;
    if (!logits || (gp && !grad)) { admctl_fail("%s", adm_last_error()); goto done; }
    double t0 = adm_now();
    int r = gp ? adm_classifier_grad(c, x.data, t, y, B, logits, grad) : adm_classifier_forward(c, x.data, t, B, logits);
    if (r != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    double ms = (adm_now() - t0) * 1e3;
    int64_t lshape[2] = {B, K};
    if (lp && adm_npy_write(lp, ADM_F32, 2, lshape, logits) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (gp && adm_npy_write(gp, ADM_F32, 4, x.shape, grad) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    printf("classifier: %s: batch %d, %dx%d, %s in %.1f ms (first call: includes planning), %.1f MiB on device\n",
           cl.device_name, B, S, S, gp ? "logits + gradient" : "logits", ms, adm_classifier_device_bytes(c) / 1048576.0);
    for (int b = 0; b < B && b < 8; b++) {
        int best = 0;
        for (int k = 1; k < K; k++) if (logits[(size_t)b * K + k] > logits[(size_t)b * K + best]) best = k;
        printf("  sample %d: t=%g, argmax %d%s", b, t[b], best, y ? "" : "\n");
        if (y) {
            double m = logits[(size_t)b * K], s = 0;
            for (int k = 1; k < K; k++) m = fmax(m, logits[(size_t)b * K + k]);
            for (int k = 0; k < K; k++) s += exp(logits[(size_t)b * K + k] - m);
            printf(", log p(y=%lld) = %.4f\n", (long long)y[b], logits[(size_t)b * K + y[b]] - m - log(s));
        }
    }
    rc = ADMCTL_OK;
done:
    adm_classifier_free(c);
    if (cl_open) adm_cl_close(&cl);
    adm_tensors_free(&weights);
    adm_tensor_free(&x);
    free(t); free(y); free(logits); free(grad);
    return rc;
}

/* ------------------------------------------------------------------ */
/* admctl bench --classifier                                           */
/* ------------------------------------------------------------------ */

static int bench_one(adm_cl *cl, adm_classifier *c, const adm_config *cfg, const char *name, int B, int iters) {
    const int S = cfg->image_size, K = cfg->out_channels;
    const size_t nx = (size_t)B * cfg->in_channels * S * S;
    float *x = malloc(nx * sizeof(float)), *grad = malloc(nx * sizeof(float)), *logits = malloc((size_t)B * K * sizeof(float));
    float *t = malloc((size_t)B * sizeof(float));
    int64_t *y = malloc((size_t)B * sizeof(int64_t));
    int rc = ADMCTL_FAIL;
    if (!x || !grad || !logits || !t || !y) { admctl_fail("out of host memory"); goto done; }
    uint64_t s = 0x853c49e6748fea9bull;
    admctl_fill_uniform(x, nx, &s);
    for (int b = 0; b < B; b++) { t[b] = (float)((b * 997 + 123) % 1000); y[b] = (b * 7) % K; }

    /* the first call plans the memory and warms every kernel */
    double t0 = adm_now();
    if (adm_classifier_grad(c, x, t, y, B, logits, grad)) { admctl_fail("batch %d: %s", B, adm_last_error()); goto done; }
    double first = adm_now() - t0;
    t0 = adm_now();
    for (int i = 0; i < iters; i++)
        if (adm_classifier_forward(c, x, t, B, logits)) { admctl_fail("forward at batch %d: %s", B, adm_last_error()); goto done; }
    double ms_f = (adm_now() - t0) * 1e3 / iters;
    adm_ops_times_reset(cl);
    t0 = adm_now();
    for (int i = 0; i < iters; i++)
        if (adm_classifier_grad(c, x, t, y, B, logits, grad)) { admctl_fail("grad at batch %d: %s", B, adm_last_error()); goto done; }
    double ms_fb = (adm_now() - t0) * 1e3 / iters;
    const double fl_f = adm_classifier_flops(cfg, B, 0), fl_fb = adm_classifier_flops(cfg, B, 1);
    const size_t mem = adm_classifier_device_bytes(c) + adm_ops_scratch_floats(cl) * sizeof(float);
    int finite = 1;
    for (size_t i = 0; i < nx; i++) if (!isfinite(grad[i])) { finite = 0; break; }

    printf("%s batch %d on %s (%s): forward %.1f ms (%.1f GFLOP/s of %.2f GFLOP), forward+backward %.1f ms "
           "(%.1f GFLOP/s of %.2f GFLOP), first call %.1f ms, device memory %.1f MiB%s\n",
           name, B, cl->device_name, adm_ops_backend(cl), ms_f, fl_f / (ms_f * 1e6), fl_f / 1e9, ms_fb,
           fl_fb / (ms_fb * 1e6), fl_fb / 1e9, first * 1e3, (double)mem / 1048576.0, finite ? "" : " — GRADIENT NOT FINITE");
    adm_op_time tm[32];
    int nk = adm_ops_times(cl, tm, 32);
    if (nk > 0) printf("  time per op kind in forward+backward (bwd_*: backward kernels; the backward convolutions count as conv):\n");
    for (int k = 0; k < nk; k++)
        printf("  %-12s %9.2f ms per forward+backward  (%ld calls)\n", tm[k].kind, tm[k].ms / iters, tm[k].calls / iters);
    printf("{\"bench\":\"classifier\",\"model\":\"%s\",\"batch\":%d,\"device\":\"%s\",\"backend\":\"%s\",\"iters\":%d,"
           "\"ms_forward\":%.2f,\"ms_forward_backward\":%.2f,\"first_ms\":%.1f,\"gflop_forward\":%.3f,\"gflops_forward\":%.2f,"
           "\"gflop_forward_backward\":%.3f,\"gflops_forward_backward\":%.2f,\"device_bytes\":%zu}\n",
           name, B, cl->device_name, adm_ops_backend(cl), iters, ms_f, ms_fb, first * 1e3, fl_f / 1e9,
           fl_f / (ms_f * 1e6), fl_fb / 1e9, fl_fb / (ms_fb * 1e6), mem);
    fflush(stdout);
    rc = finite ? ADMCTL_OK : ADMCTL_FAIL;
done:
    free(x); free(grad); free(logits); free(t); free(y);
    return rc;
}

int admctl_bench_classifier(int argc, char **argv) {
    const char *spec = NULL, *device = NULL, *batches = "1", *iters_s = "3", *backend = NULL, *ignored = NULL;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--classifier", &spec) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--batch", &batches) || admctl_opt(argc, argv, &i, "--iters", &iters_s) ||
            admctl_opt(argc, argv, &i, "--backend", &backend) || admctl_opt(argc, argv, &i, "--config", &ignored))
            continue;
        if (argv[i][0] != '-') continue;   /* a UNet preset given alongside: ignored */
        return admctl_fail("bench --classifier: unknown argument '%s'", argv[i]), ADMCTL_USAGE;
    }
    if (!spec) return admctl_fail("bench --classifier needs a preset or config"), ADMCTL_USAGE;
    int iters = admctl_parse_iters(iters_s), bs[16];
    if (iters < 0) return ADMCTL_USAGE;
    int nb = admctl_parse_batches(batches, bs, 16);
    if (nb < 0) return ADMCTL_USAGE;
    adm_config cfg;
    if (adm_config_parse(spec, ADM_KIND_CLASSIFIER, &cfg)) return admctl_fail("%s", adm_last_error());
    if (cfg.kind != ADM_KIND_CLASSIFIER) return admctl_fail("'%s' is not a classifier config", spec);
    adm_cl cl;
    if (admctl_bench_device(&cl, device, backend) != ADMCTL_OK) return ADMCTL_FAIL;
    int rc = ADMCTL_FAIL;
    adm_tensor_set w = {0};
    adm_classifier *c = NULL;
    if (adm_classifier_random_weights(&cfg, 1, &w)) { admctl_fail("random weights: %s", adm_last_error()); goto out; }
    c = adm_classifier_load(&cl, &cfg, &w);
    adm_tensors_free(&w);
    if (!c) { admctl_fail("%s", adm_last_error()); goto out; }
    rc = ADMCTL_OK;
    for (int i = 0; i < nb && rc == ADMCTL_OK; i++) rc = bench_one(&cl, c, &cfg, spec, bs[i], iters);
out:
    adm_classifier_free(c);
    adm_cl_close(&cl);
    return rc;
}
