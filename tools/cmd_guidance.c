/* cmd_guidance.c — `admctl guidance`: the paper's result in miniature.
 * Samples every class at several classifier-guidance scales with the same
 * Philox noise (image k: class k mod classes, noise (seed, k)), asks the
 * classifier (at t = 0) whether the requested class is recognised, and
 * measures diversity within a class; writes a grid PNG (one row per
 * scale) and prints one line per scale.  Defaults: the embedded MNIST
 * model, DDPM with 50 respaced steps, scales 0, 1, 4, 10, 2 images per class.
 *
 *   accuracy  = fraction of images whose classifier argmax is the requested class
 *   p(y|x)    = mean classifier probability of the requested class
 *   diversity = mean over classes and pairs of images of that class of the
 *               mean absolute pixel difference (pixels in [0, 1])
 */
#include "admctl.h"
#include "classifier.h"
#include "cl_runtime.h"
#include "config.h"
#include "generate.h"
#include "png_file.h"
#include "sampler.h"
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCALES 16

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl guidance [--unet M.pt --unet-config C --classifier K.pt --classifier-config C2]\n"
        "                       [--scales 0,1,4,10] [--per-class N] [--seed N] [--respacing 50]\n"
        "                       [--sampler ddpm|ddim] [--eta E] [--out grid.png] [--zoom 2] [--device D]\n"
        "\n"
        "Classifier guidance against scale: sample every class at each scale with the same\n"
        "noise, report accuracy (classifier at t=0), mean p(y|x) and diversity per scale,\n"
        "and write a grid PNG (rows: scales; columns: classes, repeated per seed).\n"
        "Defaults: models/mnist, 2 images per class, seed 0, DDPM 50 steps, docs/mnist_guidance_grid.png\n");
}

static int parse_scales(const char *s, double *v, int *n) {
    *n = 0;
    for (const char *p = s; *p;) {
        char *e;
        errno = 0;
        double x = strtod(p, &e);
        if (e == p || errno || !(x >= 0) || !isfinite(x) || *n >= MAX_SCALES || (*e && *e != ','))
            return admctl_fail("--scales '%s': want up to %d comma-separated numbers >= 0", s, MAX_SCALES);
        v[(*n)++] = x;
        p = *e ? e + 1 : e;
    }
    return *n ? 0 : admctl_fail("--scales is empty");
}

static adm_classifier *load_classifier(adm_cl *cl, const char *path, const char *config) {
    adm_config cfg;
    adm_tensor_set w;
    adm_config_defaults(&cfg, ADM_KIND_CLASSIFIER);
    if (adm_config_parse(config, ADM_KIND_CLASSIFIER, &cfg) || adm_tensors_load(path, &w)) return NULL;
    adm_classifier *c = adm_classifier_load(cl, &cfg, &w);
    adm_tensors_free(&w);
    return c;
}

/* Per-scale measurements from the final samples x [B, C, H, W]. */
static int measure(adm_classifier *clf, const float *x, const int64_t *y, int B, int nc, int per_class, size_t per,
                   double *acc, double *p_mean, double *div, char *missed, size_t missed_len) {
    float *logits = malloc(sizeof(float) * B * nc);
    float *t0 = calloc(B, sizeof(float));
    if (!logits || !t0) { free(logits); free(t0); return adm_error("out of memory"); }
    if (adm_classifier_forward(clf, x, t0, B, logits)) { free(logits); free(t0); return -1; }
    int right = 0;
    double psum = 0;
    for (int b = 0; b < B; b++) {
        const float *l = logits + (size_t)b * nc;
        int arg = 0;
        double mx = l[0], z = 0;
        for (int k = 1; k < nc; k++) if (l[k] > l[arg]) arg = k;
        mx = l[arg];
        for (int k = 0; k < nc; k++) z += exp((double)l[k] - mx);
        psum += exp((double)l[y[b]] - mx) / z;
        right += arg == y[b];
        if (arg != y[b] && strlen(missed) + 32 < missed_len)     /* "image 7: 7 read as 1" */
            snprintf(missed + strlen(missed), missed_len - strlen(missed), "%simage %d: %lld read as %d",
                     missed[0] ? ", " : "", b, (long long)y[b], arg);
    }
    *acc = (double)right / B;
    *p_mean = psum / B;
    /* images of class c are b = s*nc + c for s = 0..per_class-1 */
    double dsum = 0;
    long pairs = 0;
    for (int c = 0; c < nc; c++)
        for (int s1 = 0; s1 < per_class; s1++)
            for (int s2 = s1 + 1; s2 < per_class; s2++) {
                const float *a = x + (size_t)(s1 * nc + c) * per, *b = x + (size_t)(s2 * nc + c) * per;
                double d = 0;
                for (size_t i = 0; i < per; i++) d += abs((int)adm_to_uint8(a[i]) - (int)adm_to_uint8(b[i])) / 255.0;
                dsum += d / per;
                pairs++;
            }
    *div = pairs ? dsum / pairs : NAN;          /* one image per class: no pair to compare */
    free(logits);
    free(t0);
    return 0;
}

int cmd_guidance(int argc, char **argv) {
    const char *unet = "models/mnist/unet.safetensors", *ucfg = "models/mnist/unet.config.txt",
               *clfp = "models/mnist/classifier.safetensors", *ccfg = "models/mnist/classifier.config.txt",
               *scales_s = "0,1,4,10", *per_s = "2", *seed_s = "0", *resp = "50", *sampler = "ddpm", *eta_s = "0",
               *out = "docs/mnist_guidance_grid.png", *device = NULL, *zoom_s = "2";
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--unet", &unet) || admctl_opt(argc, argv, &i, "--unet-config", &ucfg) ||
            admctl_opt(argc, argv, &i, "--classifier", &clfp) || admctl_opt(argc, argv, &i, "--classifier-config", &ccfg) ||
            admctl_opt(argc, argv, &i, "--scales", &scales_s) || admctl_opt(argc, argv, &i, "--per-class", &per_s) ||
            admctl_opt(argc, argv, &i, "--seed", &seed_s) || admctl_opt(argc, argv, &i, "--respacing", &resp) ||
            admctl_opt(argc, argv, &i, "--sampler", &sampler) || admctl_opt(argc, argv, &i, "--eta", &eta_s) ||
            admctl_opt(argc, argv, &i, "--out", &out) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--zoom", &zoom_s))
            continue;
        admctl_fail("guidance: unknown argument '%s' (see admctl guidance --help)", argv[i]);
        return ADMCTL_USAGE;
    }
    double scales[MAX_SCALES];
    int n_scales;
    if (parse_scales(scales_s, scales, &n_scales)) return ADMCTL_USAGE;
    char *e;
    long per_class = strtol(per_s, &e, 10);
    if (*e || per_class < 1 || per_class > 64) { admctl_fail("--per-class '%s': want 1..64", per_s); return ADMCTL_USAGE; }
    unsigned long long seed = strtoull(seed_s, &e, 10);
    if (*e || !*seed_s) { admctl_fail("--seed '%s': want a number", seed_s); return ADMCTL_USAGE; }
    long zoom = strtol(zoom_s, &e, 10);
    if (*e || zoom < 1 || zoom > 8) { admctl_fail("--zoom '%s': want 1..8", zoom_s); return ADMCTL_USAGE; }
    double eta = strtod(eta_s, &e);
    if (*e) { admctl_fail("--eta '%s': want a number", eta_s); return ADMCTL_USAGE; }

    adm_cl cl;
    memset(&cl, 0, sizeof cl);
    if (adm_cl_open(&cl, device, 0)) return admctl_fail("%s", adm_last_error());
    adm_model_spec spec = {unet, ucfg, clfp, ccfg};
    adm_model *m = adm_model_load(&cl, &spec);
    adm_classifier *judge = m ? load_classifier(&cl, clfp, ccfg) : NULL;
    int rc = ADMCTL_FAIL;
    float *x = NULL, *all = NULL;
    int64_t *y = NULL;
    uint8_t *grid = NULL;
    if (!m || !judge) { admctl_fail("%s", adm_last_error()); goto done; }
    adm_model_info info;
    adm_model_get_info(m, &info);
    int nc = info.num_classes, C = info.channels, H = info.image_size;
    if (nc < 1) { admctl_fail("guidance: the model has no classes"); goto done; }
    int B = nc * (int)per_class;
    size_t per = (size_t)C * H * H;
    x = malloc(sizeof(float) * per * B);
    all = malloc(sizeof(float) * per * B * n_scales);
    y = malloc(sizeof(int64_t) * B);
    if (!x || !all || !y) { admctl_fail("out of memory"); goto done; }
    for (int b = 0; b < B; b++) y[b] = b % nc;

    printf("guidance: %s, %d classes x %ld images, seed %llu, %s %s%s, classifier at t=0\n", unet, nc, per_class,
           seed, sampler, resp, strcmp(sampler, "ddim") ? "" : " (ddim)");
    printf("%8s %9s %8s %11s %8s\n", "scale", "accuracy", "p(y|x)", "diversity", "seconds");
    for (int si = 0; si < n_scales; si++) {
        adm_gen_request req = {.sampler = sampler, .respacing = resp, .eta = eta, .scale = scales[si],
                               .seed = seed, .first_index = 0, .count = B};
        for (int b = 0; b < B; b++) adm_generate_x_T(seed, b, x + per * b, per);
        double t0 = adm_now();
        if (adm_generate_batch(m, &req, y, B, x, NULL, 0, NULL, NULL)) { admctl_fail("%s", adm_last_error()); goto done; }
        double secs = adm_now() - t0, acc = 0, pm = 0, dv = 0;
        char missed[1024] = "";
        if (measure(judge, x, y, B, nc, (int)per_class, per, &acc, &pm, &dv, missed, sizeof missed)) {
            admctl_fail("%s", adm_last_error());
            goto done;
        }
        char dvs[32];
        snprintf(dvs, sizeof dvs, isnan(dv) ? "- (no pair)" : "%.4f", dv);
        printf("%8g %8.1f%% %8.3f %11s %8.1f%s%s\n", scales[si], 100 * acc, pm, dvs, secs, missed[0] ? "   missed: " : "", missed);
        fflush(stdout);
        memcpy(all + per * B * si, x, sizeof(float) * per * B);
    }

    /* grid: one row per scale, B tiles per row (each pixel zoom x zoom), 2-pixel gaps */
    int gap = 2, Z = (int)zoom, T = H * Z, gw = B * (T + gap) + gap, gh = n_scales * (T + gap) + gap;
    grid = malloc((size_t)gw * gh * C);
    if (!grid) { admctl_fail("out of memory"); goto done; }
    memset(grid, 128, (size_t)gw * gh * C);
    for (int si = 0; si < n_scales; si++)
        for (int b = 0; b < B; b++) {
            const float *img = all + per * ((size_t)B * si + b);
            for (int r = 0; r < T; r++)
                for (int q = 0; q < T; q++)
                    for (int c = 0; c < C; c++) {
                        size_t gy = (size_t)gap + si * (T + gap) + r, gx = (size_t)gap + b * (T + gap) + q;
                        grid[(gy * gw + gx) * C + c] = adm_to_uint8(img[(size_t)c * H * H + (r / Z) * H + q / Z]);
                    }
        }
    adm_png_text texts[2] = {{"admd:rows", scales_s}, {"admd:noise", ADM_NOISE_ALGORITHM}};
    if (adm_png_save(out, NULL, grid, gw, gh, C, texts, 2, NULL, NULL)) { admctl_fail("%s", adm_last_error()); goto done; }
    printf("grid: %s (rows: scales %s; columns: classes 0..%d, repeated for %ld noise seeds)\n", out, scales_s, nc - 1, per_class);
    rc = ADMCTL_OK;
done:
    free(x); free(all); free(y); free(grid);
    if (judge) adm_classifier_free(judge);
    adm_model_free(m);
    adm_cl_close(&cl);
    return rc;
}
