/* cmd_features.c — `admctl features`: the FID Inception's features of
 * uint8 NHWC images (.npy) into .npy files, and its speed benchmark.
 *
 *   admctl features [--inception F] --images X.npy [--pool P.npy] [--spatial S.npy]
 *                   [--logits L.npy] [--device D]
 *   admctl features [--inception F] --bench N [--size S] [--by-kernel] [--device D]
 *
 * F defaults to $ADMD_INCEPTION (pytorch-fid's pt_inception-2015-12-05-
 * 6726825d.pth).  Outputs: pool3 float32 [N, 2048], spatial [N, 2023],
 * logits [N, 1008] (no fc bias), as model/inception.h describes them.
 * On a terminal a progress line shows images/s; --bench runs N random
 * images of S x S x 3 (default 64) and prints images/s, ms per image and
 * the projected time for 50,000 images (the evaluator's sample count).
 */
#include "admctl.h"
#include "cl_runtime.h"
#include "inception.h"
#include "npy.h"
#include "ops.h"
#include "tensor.h"
#include "util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl features [--inception F] --images X.npy [--pool P.npy] [--spatial S.npy]\n"
        "                       [--logits L.npy] [--device D]\n"
        "       admctl features [--inception F] --bench N [--size S] [--by-kernel] [--device D]\n"
        "\n"
        "FID Inception-v3 features of uint8 images (pytorch-fid's network, run on the device).\n"
        "  --inception  pytorch-fid's weights (pt_inception-2015-12-05-6726825d.pth; legacy or zip torch\n"
        "               format); default $ADMD_INCEPTION\n"
        "  --images     uint8 [N, H, W, C] .npy, C = 1 or 3, any H x W (resized to 299x299)\n"
        "  --pool       write float32 [N, 2048]: the final average pool (FID features)\n"
        "  --spatial    write float32 [N, 2023]: Mixed_6d.branch1x1 channels 0..6, H,W,C order (sFID)\n"
        "  --logits     write float32 [N, 1008]: pool3 @ fc.weight^T without the bias (Inception Score)\n"
        "  --bench N    time N random S x S x 3 images (--size S, default 64): images/s, 50,000-image time,\n"
        "               device time per op kind (--by-kernel: per kernel)\n"
        "  --device     P:D, a device number or a name substring (default: first GPU, else CPU)\n");
}

/* Progress over the device batches (a redrawn line on a terminal). */
static int run(adm_inception *net, const uint8_t *img, int n, int h, int w, int c, float *p3, float *sp, float *lg,
               int show, double *seconds) {
    int B = adm_inception_batch(net);
    size_t per = (size_t)h * w * c;
    double t0 = adm_now();
    for (int i = 0; i < n; i += B) {
        int k = n - i < B ? n - i : B;
        if (adm_inception_features(net, img + (size_t)i * per, k, h, w, c, p3 ? p3 + (size_t)i * ADM_INCEPTION_POOL3 : NULL,
                                   sp ? sp + (size_t)i * ADM_INCEPTION_SPATIAL : NULL,
                                   lg ? lg + (size_t)i * ADM_INCEPTION_LOGITS : NULL)) {
            if (show) fputc('\n', stderr);
            return -1;
        }
        if (show) {
            double dt = adm_now() - t0;
            fprintf(stderr, "\rfeatures: %d/%d images, %.2f images/s   ", i + k, n, (i + k) / (dt > 0 ? dt : 1e-9));
        }
    }
    if (show) fputc('\n', stderr);
    *seconds = adm_now() - t0;
    return 0;
}

static int write_out(const char *path, int n, int dim, const float *data) {
    int64_t shape[2] = {n, dim};
    if (adm_npy_write(path, ADM_F32, 2, shape, data) != 0) return admctl_fail("%s", adm_last_error());
    return 0;
}

int cmd_features(int argc, char **argv) {
    const char *weights = getenv("ADMD_INCEPTION"), *device = NULL, *xp = NULL, *pp = NULL, *sp = NULL, *lp = NULL,
               *bench = NULL, *size = NULL;
    int by_kernel = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_flag(argv, i, "--by-kernel", &by_kernel)) continue;
        if (admctl_opt(argc, argv, &i, "--inception", &weights) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--images", &xp) || admctl_opt(argc, argv, &i, "--pool", &pp) ||
            admctl_opt(argc, argv, &i, "--spatial", &sp) || admctl_opt(argc, argv, &i, "--logits", &lp) ||
            admctl_opt(argc, argv, &i, "--bench", &bench) || admctl_opt(argc, argv, &i, "--size", &size))
            continue;
        admctl_fail("features: unknown argument '%s'", argv[i]);
        usage(stderr);
        return ADMCTL_USAGE;
    }
    if (!weights || !*weights) {
        admctl_fail("features: no Inception weights: give --inception F or set ADMD_INCEPTION (pytorch-fid's "
                    "pt_inception-2015-12-05-6726825d.pth)");
        return ADMCTL_USAGE;
    }
    if (!bench && (!xp || (!pp && !sp && !lp))) {
        admctl_fail("features: --images and at least one of --pool / --spatial / --logits are required (or --bench N)");
        usage(stderr);
        return ADMCTL_USAGE;
    }
    int nb = 0, S = 64;
    if (bench) {
        char *end;
        long v = strtol(bench, &end, 10);
        if (*end || v < 1 || v > 100000) { admctl_fail("features: --bench takes 1..100000 images, not '%s'", bench); return ADMCTL_USAGE; }
        nb = (int)v;
        if (size) {
            v = strtol(size, &end, 10);
            if (*end || v < 1 || v > 4096) { admctl_fail("features: --size takes 1..4096, not '%s'", size); return ADMCTL_USAGE; }
            S = (int)v;
        }
    }

    int rc = ADMCTL_FAIL, cl_open = 0;
    adm_tensor x = {0};
    float *p3 = NULL, *spa = NULL, *lg = NULL;
    uint8_t *rnd = NULL;
    adm_cl cl;
    adm_inception *net = NULL;
    int n, h, w, c;
    const uint8_t *img;
    /* The images first: a wrong file should not wait for the device. */
    if (bench) {
        n = nb; h = w = S; c = 3;
        if (!(rnd = adm_malloc((size_t)n * h * w * c))) { admctl_fail("%s", adm_last_error()); goto done; }
        uint64_t st = 0x9e3779b97f4a7c15ull;
        for (size_t i = 0; i < (size_t)n * h * w * c; i++) { st = st * 6364136223846793005ull + 1442695040888963407ull; rnd[i] = (uint8_t)(st >> 56); }
        img = rnd;
    } else {
        if (adm_npy_read(xp, &x) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
        if (x.dtype != ADM_U8 || x.ndim != 4 || x.shape[0] < 1 || x.shape[0] > 10000000 || x.shape[1] < 1 ||
            x.shape[2] < 1 || x.shape[1] * x.shape[2] > ((int64_t)1 << 26) || (x.shape[3] != 1 && x.shape[3] != 3)) {
            admctl_fail("%s: images must be uint8 [N, H, W, C] with C = 1 or 3, got %s with %d dimension(s)", xp,
                        adm_dtype_name(x.dtype), x.ndim);
            goto done;
        }
        n = (int)x.shape[0]; h = (int)x.shape[1]; w = (int)x.shape[2]; c = (int)x.shape[3];
        img = x.data;
    }
    if ((pp || bench) && !(p3 = adm_malloc((size_t)n * ADM_INCEPTION_POOL3 * sizeof *p3))) { admctl_fail("%s", adm_last_error()); goto done; }
    if ((sp || bench) && !(spa = adm_malloc((size_t)n * ADM_INCEPTION_SPATIAL * sizeof *spa))) { admctl_fail("%s", adm_last_error()); goto done; }
    if ((lp || bench) && !(lg = adm_malloc((size_t)n * ADM_INCEPTION_LOGITS * sizeof *lg))) { admctl_fail("%s", adm_last_error()); goto done; }

    if (adm_cl_open(&cl, device, bench ? ADM_CL_PROFILE : 0) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    cl_open = 1;
    adm_ops_times_by_kernel(&cl, by_kernel);
    double t0 = adm_now();
    if (adm_inception_load(&net, &cl, weights) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    double load_s = adm_now() - t0, secs;
    int tty = isatty(STDERR_FILENO);
    if (bench) {
        /* One image first: the kernels' first launches and allocations are not the steady state. */
        if (run(net, img, 1, h, w, c, p3, spa, lg, 0, &secs) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
        if (run(net, img, n, h, w, c, p3, spa, lg, tty, &secs) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
        double ips = n / secs;
        printf("device: %s (%s)\n", cl.device_name, cl.platform_name);
        printf("inception: %s (sha256 %.16s...), loaded in %.2f s, device batch %d\n", weights,
               adm_inception_sha256(net), load_s, adm_inception_batch(net));
        printf("%d images of %dx%dx3 in %.2f s: %.2f images/s, %.1f ms/image; 50,000 images: %.1f min\n", n, S, S, secs,
               ips, 1000.0 / ips, 50000.0 / ips / 60.0);
        adm_op_time t[64];
        int nt = adm_ops_times(&cl, t, 64);
        double total = 0;
        for (int k = 0; k < nt; k++) total += t[k].ms;
        printf("device time per op kind (all runs):\n");
        for (int k = 0; k < nt; k++)
            printf("  %-16s %9.1f ms %5.1f%% %6ld calls\n", t[k].kind, t[k].ms, total > 0 ? 100 * t[k].ms / total : 0, t[k].calls);
        rc = ADMCTL_OK;
        goto done;
    }
    if (run(net, img, n, h, w, c, p3, spa, lg, tty, &secs) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if ((pp && write_out(pp, n, ADM_INCEPTION_POOL3, p3)) || (sp && write_out(sp, n, ADM_INCEPTION_SPATIAL, spa)) ||
        (lp && write_out(lp, n, ADM_INCEPTION_LOGITS, lg)))
        goto done;
    fprintf(stderr, "features of %d image(s) (%dx%dx%d) in %.1f s (%.2f images/s) on %s\n", n, h, w, c, secs, n / secs,
            cl.device_name);
    rc = ADMCTL_OK;
done:
    adm_inception_free(net);
    if (cl_open) { adm_ops_release(&cl); adm_cl_close(&cl); }
    adm_tensor_free(&x);
    free(p3); free(spa); free(lg); free(rnd);
    return rc;
}
