/* cmd_bench.c — `admctl bench`: time the UNet forward pass with random
 * weights for a preset or a config, at one or more batch sizes, on one
 * device.  Prints ms per forward, achieved GFLOP/s (2 x the config's
 * multiply-adds), the device memory held (weights + activation arena +
 * op scratch) and the time per op kind from profiling events, then one
 * JSON line per result.  `--classifier X` benchmarks a classifier instead
 * (tools/cmd_classifier.c); `--step X` a whole guided sampling step on the
 * device (UNet forward, classifier X's input gradient, noise, step kernel).
 */
#include "admctl.h"
#include "admctl_json.h"
#include "cl_runtime.h"
#include "classifier.h"
#include "config.h"
#include "ops.h"
#include "ops_noise.h"
#include "ops_step.h"
#include "sampler.h"
#include "schedule.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(FILE *f) {
    fprintf(f, "usage: admctl bench [PRESET | --config C] [--batch B[,B...]] [--device D] [--iters N]\n"
               "                    [--backend own|clblast|convgemm|auto] [--by-kernel] [--json]\n"
               "                    [--classifier X ...] [--step X]\n"
               "  UNet forward with random weights: ms per forward, GFLOP/s, device memory, time per op kind;\n"
               "  one JSON line per batch size.  PRESET: 64x64 (default), 128x128, 256x256, ...; C: a config\n"
               "  file or MODEL_FLAGS string.  --by-kernel: times per OpenCL kernel instead of per op kind.\n"
               "  --classifier X benchmarks classifier X (a preset or a config file) instead.\n"
               "  --json: one JSON document (an array of the results) on stdout, the prose on stderr.\n"
               "  --step X: one whole classifier-guided DDIM step on the device (UNet forward, classifier X's\n"
               "  input gradient, Philox noise, step kernel; nothing of image size crosses to the host).\n");
    return ADMCTL_USAGE;
}

/* One result; printed as a JSON line (no --json) or added to results (--json). */
static int bench_one(adm_cl *cl, adm_unet *u, const adm_config *cfg, const char *name, int B, int iters,
                     json_object *results) {
    FILE *prose = results ? stderr : stdout;
    int S = cfg->image_size, Cin = cfg->in_channels, lo = cfg->small_size > 0 ? cfg->small_size : S / 4 > 0 ? S / 4 : 1;
    int sr = cfg->kind == ADM_KIND_SUPERRES;
    size_t nx = (size_t)B * Cin * S * S, nout = (size_t)B * cfg->out_channels * S * S, nlr = (size_t)B * Cin * lo * lo;
    float *x = malloc(nx * sizeof(float)), *out = malloc(nout * sizeof(float)), *lr = malloc(nlr * sizeof(float));
    float *t = malloc((size_t)B * sizeof(float));
    int64_t *y = malloc((size_t)B * sizeof(int64_t));
    int rc = ADMCTL_FAIL;
    if (!x || !out || !lr || !t || !y) { admctl_fail("out of host memory"); goto done; }
    uint64_t rng = 0x853c49e6748fea9bull;
    admctl_fill_uniform(x, nx, &rng);
    admctl_fill_uniform(lr, nlr, &rng);
    for (int b = 0; b < B; b++) { t[b] = (float)((b * 997 + 123) % 1000); y[b] = cfg->num_classes ? b % cfg->num_classes : 0; }
    const int64_t *yp = cfg->num_classes ? y : NULL;

    /* first forward plans the arena and warms every kernel */
    double t0 = adm_now();
    if (adm_unet_forward_sized(u, B, S, S, x, t, yp, sr ? lr : NULL, lo, lo, out)) {
        admctl_fail("forward at batch %d: %s", B, adm_last_error());
        goto done;
    }
    double first = adm_now() - t0;
    adm_ops_times_reset(cl);
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

    fprintf(prose, "%s batch %d on %s (%s): %.1f ms/forward (first %.1f ms), %.1f GFLOP/s (%.2f GFLOP), "
           "process CPU %.1f ms/forward, device memory %.1f MiB%s\n",
           name, B, cl->device_name, adm_ops_backend(cl), ms, first * 1e3, gflops, flops / 1e9, cpu_ms,
           (double)mem / 1048576.0, finite ? "" : " — OUTPUT NOT FINITE");
    adm_op_time tm[32];
    int nk = adm_ops_times(cl, tm, 32);
    double tot = 0;
    for (int k = 0; k < nk; k++) tot += tm[k].ms;
    for (int k = 0; k < nk; k++)
        fprintf(prose, "  %-12s %9.2f ms/forward %5.1f%%  (%ld calls)\n", tm[k].kind, tm[k].ms / iters,
               tot > 0 ? 100.0 * tm[k].ms / tot : 0.0, tm[k].calls / iters);
    /* json-c escapes the device name and the model spec, whatever they hold */
    json_object *o = json_object_new_object(), *ops = json_object_new_object();
    json_object_object_add(o, "bench", json_object_new_string("unet"));
    json_object_object_add(o, "model", json_object_new_string(name));
    json_object_object_add(o, "batch", json_object_new_int(B));
    json_object_object_add(o, "device", json_object_new_string(cl->device_name));
    json_object_object_add(o, "backend", json_object_new_string(adm_ops_backend(cl)));
    json_object_object_add(o, "iters", json_object_new_int(iters));
    json_object_object_add(o, "ms_per_forward", json_object_new_double(ms));
    json_object_object_add(o, "cpu_ms_per_forward", json_object_new_double(cpu_ms));
    json_object_object_add(o, "first_ms", json_object_new_double(first * 1e3));
    json_object_object_add(o, "gflop", json_object_new_double(flops / 1e9));
    json_object_object_add(o, "gflops", json_object_new_double(gflops));
    json_object_object_add(o, "device_bytes", json_object_new_int64((int64_t)mem));
    json_object_object_add(o, "output_finite", json_object_new_boolean(finite));
    for (int k = 0; k < nk; k++) json_object_object_add(ops, tm[k].kind, json_object_new_double(tm[k].ms / iters));
    json_object_object_add(o, "ops_ms", ops);
    if (results) json_object_array_add(results, o);
    else {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    }
    fflush(stdout);
    rc = finite ? ADMCTL_OK : ADMCTL_FAIL;
done:
    free(x); free(out); free(lr); free(t); free(y);
    return rc;
}

/* One guided DDIM step (scale 1, ddim25 at its middle step), device-resident
 * as adm_generate runs it on GPUs: ms per step and per image-step. */
static int bench_step(adm_cl *cl, adm_unet *u, adm_classifier *c, const adm_config *cfg, const adm_config *ccfg,
                      const char *name, const char *cname, int B, int iters) {
    const int S = cfg->image_size, C = cfg->in_channels, oc = cfg->out_channels;
    const size_t n = (size_t)B * C * S * S, no = (size_t)B * oc * S * S;
    adm_schedule s;
    if (adm_schedule_build(&s, "linear", 1000, "ddim25")) return admctl_fail("%s", adm_last_error());
    adm_sampler_opts o = {ADM_SAMPLER_DDIM, oc == 2 * C ? ADM_VAR_LEARNED_RANGE : ADM_VAR_FIXED_LARGE, oc == 2 * C, 0.0, 1.0};
    float cf[ADM_STEP_COEFS];
    adm_step_coefs(&s, &o, s.num_steps / 2, cf);
    cl_mem mem = adm_cl_alloc(cl, (3 * n + no) * sizeof(float));
    float *x = malloc(n * sizeof(float));
    float *t = malloc((size_t)B * sizeof(float));
    int64_t *y = malloc((size_t)B * sizeof(int64_t));
    int rc = ADMCTL_FAIL;
    if (!mem || !x || !t || !y) { admctl_fail("%s", mem ? "out of host memory" : adm_last_error()); goto done; }
    adm_dt xd = adm_dt_make(mem, 0, B, C, S, S), nd = adm_dt_make(mem, n, B, C, S, S);
    adm_dt gd = adm_dt_make(mem, 2 * n, B, C, S, S), od = adm_dt_make(mem, 3 * n, B, oc, S, S);
    uint64_t rng = 0x853c49e6748fea9bull;
    admctl_fill_uniform(x, n, &rng);
    int K = ccfg->out_channels;
    for (int b = 0; b < B; b++) { t[b] = (float)s.timestep_map[s.num_steps / 2]; y[b] = b % K; }
    const int64_t *yu = cfg->num_classes ? y : NULL;
    double t0 = 0, first = 0;
    for (int it = -1; it < iters; it++) {
        if (it == 0) { adm_cl_finish(cl); first = adm_now() - t0; adm_ops_times_reset(cl); t0 = adm_now(); }
        if (it == -1) {
            t0 = adm_now();
            if (adm_cl_write(cl, mem, 0, n * sizeof(float), x)) { admctl_fail("%s", adm_last_error()); goto done; }
        }
        if (adm_unet_forward_dev(u, B, &xd, t, yu, &od) || adm_classifier_grad_dev(c, &xd, t, y, B, &gd) ||
            adm_op_noise(cl, 1, 0, B, 1 + (uint32_t)(it + 1), (size_t)C * S * S, &nd) ||
            adm_op_step(cl, 1, cf, &xd, &od, &gd, &nd)) {
            admctl_fail("guided step at batch %d: %s", B, adm_last_error());
            goto done;
        }
    }
    adm_cl_finish(cl);
    double ms = (adm_now() - t0) * 1e3 / iters;
    if (adm_cl_read(cl, mem, 0, n * sizeof(float), x)) { admctl_fail("%s", adm_last_error()); goto done; }
    int finite = 1;
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i])) { finite = 0; break; }
    char eng[256];
    printf("%s + %s guided DDIM step, batch %d on %s (%s): %.1f ms/step, %.2f ms per image-step (first %.1f ms)%s\n",
           name, cname, B, cl->device_name, adm_ops_engine_summary(cl, eng, sizeof eng), ms, ms / B, first * 1e3,
           finite ? "" : " — OUTPUT NOT FINITE");
    printf("{\"bench\":\"step\",\"model\":\"%s\",\"classifier\":\"%s\",\"batch\":%d,\"device\":\"%s\",\"backend\":\"%s\","
           "\"iters\":%d,\"ms_per_step\":%.2f,\"ms_per_image_step\":%.3f,\"first_ms\":%.1f}\n",
           name, cname, B, cl->device_name, adm_ops_backend(cl), iters, ms, ms / B, first * 1e3);
    fflush(stdout);
    rc = finite ? ADMCTL_OK : ADMCTL_FAIL;
done:
    adm_cl_release(cl, mem);
    free(x); free(t); free(y);
    adm_schedule_free(&s);
    return rc;
}

/* Until tools/cmd_classifier.c provides the real one (a strong symbol wins). */
__attribute__((weak)) int admctl_bench_classifier(int argc, char **argv) {
    (void)argc; (void)argv;
    return admctl_fail("bench --classifier: not available in this build");
}

int cmd_bench(int argc, char **argv) {
    const char *spec = NULL, *device = NULL, *batches = "1", *iters_s = "3", *backend = NULL, *cls = NULL, *step = NULL;
    int by_kernel = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        if (admctl_flag(argv, i, "--json", &json)) continue;
        if (admctl_flag(argv, i, "--by-kernel", &by_kernel)) continue;
        if (admctl_opt(argc, argv, &i, "--classifier", &cls) || admctl_opt(argc, argv, &i, "--step", &step)) continue;
        if (admctl_opt(argc, argv, &i, "--config", &spec) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--batch", &batches) || admctl_opt(argc, argv, &i, "--iters", &iters_s) ||
            admctl_opt(argc, argv, &i, "--backend", &backend))
            continue;
        if (argv[i][0] != '-' && !spec) { spec = argv[i]; continue; }
        admctl_fail("bench: unknown argument '%s'", argv[i]);
        return usage(stderr);
    }
    if (cls && json) return admctl_fail("bench: --json is not implemented for --classifier yet"), ADMCTL_USAGE;
    if (step && json) return admctl_fail("bench: --json is not implemented for --step yet"), ADMCTL_USAGE;
    if (cls) return admctl_bench_classifier(argc, argv);
    if (json) admctl_bench_prose = stderr;
    if (!spec) spec = "64x64";
    int iters = admctl_parse_iters(iters_s), bs[16];
    if (iters < 0) return ADMCTL_USAGE;
    int nb = admctl_parse_batches(batches, bs, 16);
    if (nb < 0) return ADMCTL_USAGE;

    adm_config cfg;
    if (adm_config_parse(spec, ADM_KIND_UNET, &cfg)) return admctl_fail("%s", adm_last_error());
    if (cfg.kind == ADM_KIND_CLASSIFIER) return admctl_fail("'%s' is a classifier: use --classifier %s", spec, spec);
    adm_cl cl;
    if (admctl_bench_device(&cl, device, backend) != ADMCTL_OK) return ADMCTL_FAIL;
    adm_ops_times_by_kernel(&cl, by_kernel);
    int rc = ADMCTL_FAIL;
    adm_tensor_set w;
    adm_unet *u = NULL;
    adm_classifier *c = NULL;
    adm_config ccfg;
    /* every tensor the config lists, scaled for unit gain (model/classifier.h;
     * it serves any config, UNets included) */
    if (adm_classifier_random_weights(&cfg, 1, &w)) { admctl_fail("random weights: %s", adm_last_error()); goto out; }
    u = adm_unet_load(&cl, &cfg, &w);
    adm_tensors_free(&w);
    if (!u) { admctl_fail("%s", adm_last_error()); goto out; }
    if (step) {
        if (adm_config_parse(step, ADM_KIND_CLASSIFIER, &ccfg)) { admctl_fail("%s", adm_last_error()); goto out; }
        if (ccfg.kind != ADM_KIND_CLASSIFIER || ccfg.image_size != cfg.image_size || ccfg.in_channels != cfg.in_channels ||
            cfg.kind != ADM_KIND_UNET) {
            admctl_fail("--step %s: want a classifier for the UNet's %dx%d images", step, cfg.image_size, cfg.image_size);
            goto out;
        }
        if (adm_classifier_random_weights(&ccfg, 2, &w)) { admctl_fail("random weights: %s", adm_last_error()); goto out; }
        c = adm_classifier_load(&cl, &ccfg, &w);
        adm_tensors_free(&w);
        if (!c) { admctl_fail("%s", adm_last_error()); goto out; }
    }
    rc = ADMCTL_OK;
    json_object *results = json ? json_object_new_array() : NULL;
    for (int i = 0; i < nb && rc == ADMCTL_OK; i++)
        rc = c ? bench_step(&cl, u, c, &cfg, &ccfg, spec, step, bs[i], iters)
               : bench_one(&cl, u, &cfg, spec, bs[i], iters, results);
    if (rc == ADMCTL_OK && !json && !strcmp(adm_ops_backend(&cl), "auto")) {
        adm_engine_choice ch[256];
        int nc = adm_ops_engine_table(&cl, ch, 256);
        for (int k = 0; k < nc; k++)
            printf("{\"engine\":\"%s\",\"shape\":\"%s\",\"ms_own\":%.4f,\"ms_clblast\":%.4f,\"ms_convgemm\":%.4f,\"used\":%d}\n",
                   ch[k].engine, ch[k].shape, ch[k].ms[0], ch[k].ms[1], ch[k].ms[2], ch[k].used);
    }
    if (results) {
        int prc = admctl_json_print(results);
        if (rc == ADMCTL_OK) rc = prc;
    }
out:
    adm_classifier_free(c);
    adm_unet_free(u);
    adm_cl_close(&cl);
    return rc;
}
