/* cmd_bench.c — `admctl bench`: time the UNet forward pass with random
 * weights for a preset or a config, at one or more batch sizes, on one
 * device.  Prints ms per forward, achieved GFLOP/s (2 x the config's
 * multiply-adds), the device memory held (weights + activation arena +
 * op scratch) and the time per op kind from profiling events, then one
 * JSON line per result.  `--classifier X` benchmarks a classifier instead
 * (tools/cmd_classifier.c).
 */
#include "admctl.h"
#include "cl_runtime.h"
#include "config.h"
#include "ops.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x853c49e6748fea9bull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 40) / (double)(1ull << 23) - 1.0);
}

/* A tensor set with every parameter cfg needs, uniform in +-1/sqrt(fan_in)
 * (1-d tensors: GroupNorm weights near 1, biases small). */
static int random_weights(const adm_config *cfg, adm_tensor_set *set) {
    adm_param_spec *ps = NULL;
    int n = 0;
    memset(set, 0, sizeof *set);
    if (adm_config_params(cfg, &ps, &n)) return -1;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t e = 1;
        for (int d = 0; d < ps[i].ndim; d++) e *= (size_t)ps[i].shape[d];
        total += e;
    }
    set->t = adm_calloc((size_t)n, sizeof *set->t);
    set->blob = adm_malloc(total * sizeof(float));
    if (!set->t || !set->blob) { free(ps); adm_tensors_free(set); return -1; }
    set->blob_len = total * sizeof(float);
    float *p = set->blob;
    for (int i = 0; i < n; i++) {
        adm_tensor *t = &set->t[set->n++];
        t->name = strdup(ps[i].name);
        t->dtype = ADM_F32;
        t->ndim = ps[i].ndim;
        size_t e = 1;
        for (int d = 0; d < ps[i].ndim; d++) { t->shape[d] = ps[i].shape[d]; e *= (size_t)ps[i].shape[d]; }
        t->data = p;
        t->nbytes = e * sizeof(float);
        size_t fan_in = e / (size_t)(t->ndim ? t->shape[0] : 1);
        float scale = t->ndim >= 2 ? 1.0f / sqrtf((float)fan_in) : 0.1f;
        int is_norm_weight = t->ndim == 1 && strstr(t->name, "norm") && strstr(t->name, ".weight");
        for (size_t k = 0; k < e; k++) p[k] = (is_norm_weight ? 1.0f : 0.0f) + frand() * scale;
        p += e;
        if (!t->name) { free(ps); adm_tensors_free(set); return adm_error("out of memory"); }
    }
    free(ps);
    return 0;
}

static int usage(FILE *f) {
    fprintf(f, "usage: admctl bench [PRESET | --config C] [--batch B[,B...]] [--device D] [--iters N]\n"
               "                    [--backend own|clblast] [--by-kernel] [--classifier PRESET ...]\n"
               "  UNet forward with random weights: ms per forward, GFLOP/s, device memory, time per op kind;\n"
               "  one JSON line per batch size.  PRESET: 64x64 (default), 128x128, 256x256, ...; C: a config\n"
               "  file or MODEL_FLAGS string.  --by-kernel: times per OpenCL kernel instead of per op kind.\n"
               "  --classifier X benchmarks classifier X instead.\n");
    return ADMCTL_USAGE;
}

static int bench_one(adm_cl *cl, adm_unet *u, const adm_config *cfg, const char *name, int B, int iters) {
    int S = cfg->image_size, Cin = cfg->in_channels, lo = S / 4 > 0 ? S / 4 : 1;
    int sr = cfg->kind == ADM_KIND_SUPERRES;
    size_t nx = (size_t)B * Cin * S * S, nout = (size_t)B * cfg->out_channels * S * S, nlr = (size_t)B * Cin * lo * lo;
    float *x = malloc(nx * sizeof(float)), *out = malloc(nout * sizeof(float)), *lr = malloc(nlr * sizeof(float));
    int64_t *t = malloc((size_t)B * sizeof(int64_t)), *y = malloc((size_t)B * sizeof(int64_t));
    int rc = ADMCTL_FAIL;
    if (!x || !out || !lr || !t || !y) { admctl_fail("out of host memory"); goto done; }
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    for (size_t i = 0; i < nlr; i++) lr[i] = frand();
    for (int b = 0; b < B; b++) { t[b] = (b * 997 + 123) % 1000; y[b] = cfg->num_classes ? b % cfg->num_classes : 0; }
    const int64_t *yp = cfg->num_classes ? y : NULL;

    /* first forward plans the arena and warms every kernel */
    double t0 = adm_now();
    if (adm_unet_forward_sized(u, B, S, S, x, t, yp, sr ? lr : NULL, lo, lo, out)) {
        admctl_fail("forward at batch %d: %s", B, adm_last_error());
        goto done;
    }
    double first = adm_now() - t0;
    adm_ops_times_reset();
    clock_t c0 = clock();
    t0 = adm_now();
    for (int i = 0; i < iters; i++)
        if (adm_unet_forward_sized(u, B, S, S, x, t, yp, sr ? lr : NULL, lo, lo, out)) {
            admctl_fail("forward at batch %d: %s", B, adm_last_error());
            goto done;
        }
    double ms = (adm_now() - t0) * 1e3 / iters;
    /* CPU time of the whole process (all device threads on a CPU device):
     * on a shared machine this says more than the wall clock */
    double cpu_ms = (double)(clock() - c0) * 1e3 / CLOCKS_PER_SEC / iters;
    double flops = adm_unet_flops(cfg, B);
    double gflops = flops / (ms * 1e-3) / 1e9;
    size_t mem = adm_unet_device_bytes(u) + adm_ops_scratch_floats(cl) * sizeof(float);
    int finite = 1;
    for (size_t i = 0; i < nout; i++) if (!isfinite(out[i])) { finite = 0; break; }

    printf("%s batch %d on %s (%s): %.1f ms/forward (first %.1f ms), %.1f GFLOP/s (%.2f GFLOP), "
           "process CPU %.1f ms/forward, device memory %.1f MiB%s\n",
           name, B, cl->device_name, adm_ops_backend(cl), ms, first * 1e3, gflops, flops / 1e9, cpu_ms,
           (double)mem / 1048576.0, finite ? "" : " — OUTPUT NOT FINITE");
    adm_op_time tm[32];
    int nk = adm_ops_times(tm, 32);
    double tot = 0;
    for (int k = 0; k < nk; k++) tot += tm[k].ms;
    for (int k = 0; k < nk; k++)
        printf("  %-12s %9.2f ms/forward %5.1f%%  (%ld calls)\n", tm[k].kind, tm[k].ms / iters,
               tot > 0 ? 100.0 * tm[k].ms / tot : 0.0, tm[k].calls / iters);
    printf("{\"bench\":\"unet\",\"model\":\"%s\",\"batch\":%d,\"device\":\"%s\",\"backend\":\"%s\",\"iters\":%d,"
           "\"ms_per_forward\":%.2f,\"cpu_ms_per_forward\":%.1f,\"first_ms\":%.1f,\"gflop\":%.3f,\"gflops\":%.2f,"
           "\"device_bytes\":%zu,\"ops_ms\":{",
           name, B, cl->device_name, adm_ops_backend(cl), iters, ms, cpu_ms, first * 1e3, flops / 1e9, gflops, mem);
    for (int k = 0; k < nk; k++) printf("%s\"%s\":%.3f", k ? "," : "", tm[k].kind, tm[k].ms / iters);
    printf("}}\n");
    fflush(stdout);
    rc = finite ? ADMCTL_OK : ADMCTL_FAIL;
done:
    free(x); free(out); free(lr); free(t); free(y);
    return rc;
}

/* Until tools/cmd_classifier.c provides the real one (a strong symbol wins). */
__attribute__((weak)) int admctl_bench_classifier(int argc, char **argv) {
    (void)argc; (void)argv;
    return admctl_fail("bench --classifier: not available in this build");
}

int cmd_bench(int argc, char **argv) {
    const char *spec = NULL, *device = NULL, *batches = "1", *iters_s = "3", *backend = NULL, *cls = NULL;
    int by_kernel = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        if (admctl_flag(argv, i, "--by-kernel", &by_kernel)) continue;
        if (admctl_opt(argc, argv, &i, "--classifier", &cls)) continue;
        if (admctl_opt(argc, argv, &i, "--config", &spec) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--batch", &batches) || admctl_opt(argc, argv, &i, "--iters", &iters_s) ||
            admctl_opt(argc, argv, &i, "--backend", &backend))
            continue;
        if (argv[i][0] != '-' && !spec) { spec = argv[i]; continue; }
        admctl_fail("bench: unknown argument '%s'", argv[i]);
        return usage(stderr);
    }
    if (cls) return admctl_bench_classifier(argc, argv);
    adm_ops_times_by_kernel(by_kernel);
    if (!spec) spec = "64x64";
    int iters = atoi(iters_s);
    if (iters < 1 || iters > 10000) return admctl_fail("--iters must be 1..10000, not '%s'", iters_s), ADMCTL_USAGE;
    int bs[16], nb = 0;
    for (const char *p = batches; *p && nb < 16;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096) return admctl_fail("--batch: bad value '%s'", batches), ADMCTL_USAGE;
        bs[nb++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return admctl_fail("--batch: bad value '%s'", batches), ADMCTL_USAGE;
    }

    adm_config cfg;
    if (adm_config_parse(spec, ADM_KIND_UNET, &cfg)) return admctl_fail("%s", adm_last_error());
    if (cfg.kind == ADM_KIND_CLASSIFIER) return admctl_fail("'%s' is a classifier: use --classifier %s", spec, spec);
    adm_cl cl;
    if (adm_cl_open(&cl, device, ADM_CL_PROFILE)) return admctl_fail("%s", adm_last_error());
    int rc = ADMCTL_FAIL;
    adm_tensor_set w;
    adm_unet *u = NULL;
    if (backend && adm_ops_set_backend(&cl, backend)) { admctl_fail("%s", adm_last_error()); goto out; }
    double warm = 0;
    if (adm_ops_warmup(&cl, &warm)) { admctl_fail("warm-up: %s", adm_last_error()); goto out; }
    printf("device %s, program %s in %.2f s, matrix backend %s (warm-up %.2f s)\n", cl.device_name,
           cl.program_from_cache ? "from cache" : "built", cl.build_seconds, adm_ops_backend(&cl), warm);
    if (random_weights(&cfg, &w)) { admctl_fail("random weights: %s", adm_last_error()); goto out; }
    u = adm_unet_load(&cl, &cfg, &w);
    adm_tensors_free(&w);
    if (!u) { admctl_fail("%s", adm_last_error()); goto out; }
    rc = ADMCTL_OK;
    for (int i = 0; i < nb && rc == ADMCTL_OK; i++) rc = bench_one(&cl, u, &cfg, spec, bs[i], iters);
out:
    adm_unet_free(u);
    adm_cl_close(&cl);
    return rc;
}
