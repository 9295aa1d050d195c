/* cmd_sample.c — `admctl sample`: guided DDPM/DDIM/DPM-Solver sampling in
 * one process, from Philox noise (--seed/--count) or recorded noise
 * (--x-T/--noise, the reference's trajectory format; the DPM-Solver
 * samplers are deterministic and replay from --x-T alone), to a float .npy
 * and optionally PNGs.  A super-resolution model (the upsamplers) takes
 * --low-res: one low-resolution image per sample.
 *
 *   admctl sample --unet M.pt --unet-config C [--classifier K.pt --classifier-config C2]
 *                 (--respacing SPEC --sampler ddpm|ddim [--eta E] |
 *                  --sampler dpm++2m|dpm++3m|dpm3s --steps N [--skip K] [--thresholding T]) [--scale S]
 *                 (--y y.npy | --class N) (--seed N --count N | --x-T x_T.npy --noise noise.npy)
 *                 [--low-res low.npy [--stage 2]] --out final.npy [--png-dir DIR] [--device D]
 */
#include "admctl.h"
#include "admctl_classes.h"
#include "cl_runtime.h"
#include "dpm_solver.h"
#include "generate.h"
#include "png_file.h"
#include "npy.h"
#include "philox.h"
#include "sampler.h"
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl sample --unet M.pt --unet-config C [--classifier K.pt --classifier-config C2]\n"
        "                     (--respacing SPEC --sampler ddpm|ddim [--eta E] |\n"
        "                      --sampler dpm++2m|dpm++3m|dpm3s --steps N [--skip K] [--thresholding T])\n"
        "                     [--scale S] (--y y.npy | --class C) [--labels FILE]\n"
        "                     (--seed N --count N | --x-T x_T.npy [--noise noise.npy])\n"
        "                     [--low-res low.npy [--stage 1|2]] --out final.npy [--png-dir DIR] [--device D]\n"
        "\n"
        "Sample images with classifier guidance (guided-diffusion's DDPM/DDIM).\n"
        "  --respacing     \"250\", \"ddim25\", \"10,20,30\", ... (the reference's timestep_respacing)\n"
        "  --sampler       ddpm (p_sample) or ddim; --eta E for DDIM (0..1, default 0);\n"
        "                  dpm++2m / dpm++3m (multistep DPM-Solver++, order 2 / 3) or dpm3s\n"
        "                  (singlestep DPM-Solver, order 3), as dpm_solver_pytorch.py\n"
        "  --steps N       dpm*: network passes (NFE)\n"
        "  --skip K        dpm*: time_uniform (default), logsnr or time_quadratic\n"
        "  --thresholding T  dpm++*: none (default here) or dynamic (x0 clamped per image at\n"
        "                  its 99.5%% |x0| quantile, then divided by it)\n"
        "  --scale S       classifier guidance scale (default 0: unguided; > 0 needs --classifier)\n"
        "  --y / --class   one class per image (int64/int32 .npy) or the same class for all;\n"
        "                  without either, each image's class is drawn from (seed, index)\n"
        "                  --class takes a number or a class name (\"Pembroke Welsh Corgi\")\n"
        "  --labels FILE   the class names, one per line (default: ImageNet's for a model\n"
        "                  of 1000 classes); the PNGs carry them (admd:class-name)\n"
        "  --seed/--count  Philox noise (%s): image k depends only on (seed, k)\n"
        "  --first-index K the job's images K .. K+count-1 (default 0)\n"
        "  --x-T/--noise   replay recorded noise: x_T [B,C,H,W], noise [steps,B,C,H,W]\n"
        "  --low-res F     super-resolution models (upsamplers): the low-resolution images,\n"
        "                  [B,C,h,h] float32 in [-1,1] or uint8 (then /127.5 - 1, as\n"
        "                  super_res_sample.py); B = --count or the replay's batch\n"
        "  --stage 1|2     the Philox stream of --seed (default 1; 2: a two-stage job's\n"
        "                  upsampler stage, as admd draws it)\n"
        "  --out           final samples, float32 [B,C,H,W] in [-1, 1]\n"
        "  --png-dir DIR   also write DIR/sample_NNNNN.png (uint8: ((x+1)*127.5) clamped, truncated)\n"
        "  --batch B       images per device pass (default: by image size)\n"
        "  --noise-schedule linear|cosine, --diffusion-steps N: override the UNet config's\n"
        "  --device D      P:D, a device number or a name substring\n", ADM_NOISE_ALGORITHM);
}

/* strtoll/strtod with the whole string consumed. */
static int parse_ll(const char *s, const char *what, long long lo, long long hi, long long *v) {
    char *e;
    errno = 0;
    long long x = strtoll(s, &e, 10);
    if (errno || e == s || *e || x < lo || x > hi) return admctl_fail("%s '%s': want an integer in %lld..%lld", what, s, lo, hi);
    *v = x;
    return 0;
}
static int parse_d(const char *s, const char *what, double *v) {
    char *e;
    errno = 0;
    double x = strtod(s, &e);
    if (errno || e == s || *e || !isfinite(x)) return admctl_fail("%s '%s': want a number", what, s);
    *v = x;
    return 0;
}

static int read_classes(const char *path, int B, int64_t *y) {
    adm_tensor t;
    if (adm_npy_read(path, &t)) return admctl_fail("%s", adm_last_error());
    int rc = 0;
    if ((t.dtype != ADM_I64 && t.dtype != ADM_I32) || t.ndim != 1 || t.shape[0] != B)
        rc = admctl_fail("%s: want an int64/int32 vector of %d classes", path, B);
    else
        for (int i = 0; i < B; i++) y[i] = t.dtype == ADM_I64 ? ((int64_t *)t.data)[i] : ((int32_t *)t.data)[i];
    adm_tensor_free(&t);
    return rc;
}

/* --low-res: [B, C, h, h] float32 in [-1, 1], or uint8 (the reference's
 * low_res_uint8.npy) mapped as u8/127.5 - 1; h at most the output size H
 * and equal to the model's small size when its config says one. */
static int read_low_res(const char *path, int B, int C, int H, int small, adm_tensor *t, float **out, int *size) {
    if (adm_npy_read(path, t)) return admctl_fail("%s", adm_last_error());
    if ((t->dtype != ADM_F32 && t->dtype != ADM_U8) || t->ndim != 4 || t->shape[0] != B || t->shape[1] != C ||
        t->shape[2] != t->shape[3] || t->shape[2] < 1 || t->shape[2] > H)
        return admctl_fail("%s: want float32 or uint8 [%d, %d, h, h] with h <= %d", path, B, C, H);
    int h = (int)t->shape[2];
    if (small > 0 && h != small)
        return admctl_fail("%s: images are %dx%d, the upsampler takes %dx%d", path, h, h, small, small);
    size_t n = (size_t)B * C * h * h;
    float *f = malloc(sizeof(float) * n);
    if (!f) return admctl_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        f[i] = t->dtype == ADM_F32 ? ((float *)t->data)[i] : (float)((uint8_t *)t->data)[i] / 127.5f - 1.0f;
    *out = f;
    *size = h;
    return 0;
}

/* On a terminal one line redrawn at every step; on a pipe or in a log one
 * line per finished device pass. */
static int progress(void *user, int step, int total, int done, int all) {
    int last = all < done + 1 ? done + 1 : all;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\rsampling: images %d..%d of %d, step %d/%d   ", done + 1, last, all, step, total);
    else if (step == total)
        fprintf(stderr, "sampling: images %d..%d of %d: %d steps done\n", done + 1, last, all, total);
    return 0;
}

static int write_pngs(const char *dir, const float *x, const int64_t *y, int first, int B, int C, int H, int W,
                      const char *params, const adm_labels *names) {
    if (mkdir(dir, 0777) && errno != EEXIST) return admctl_fail("%s: %s", dir, strerror(errno));
    uint8_t *px = malloc((size_t)C * H * W);
    if (!px) return admctl_fail("out of memory");
    for (int b = 0; b < B; b++) {
        const float *img = x + (size_t)b * C * H * W;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H * W; i++) px[(size_t)i * C + c] = adm_to_uint8(img[(size_t)c * H * W + i]);
        char path[4096], cls[32];
        snprintf(path, sizeof path, "%s/sample_%05d.png", dir, first + b);
        snprintf(cls, sizeof cls, "%lld", y ? (long long)y[b] : -1LL);
        const char *name = y ? adm_labels_name(names, (int)y[b]) : NULL;
        adm_png_text texts[4] = {{"admd:class", cls}, {"admd:noise", ADM_NOISE_ALGORITHM}, {"admd:params", params},
                                 {"admd:class-name", name}};
        if (adm_png_save(path, NULL, px, W, H, C, texts, name ? 4 : 3, NULL, NULL)) {
            free(px);
            return admctl_fail("%s", adm_last_error());
        }
    }
    free(px);
    return 0;
}

/* The class names: --labels FILE, else the built-in list for the number of
 * classes (ImageNet's for 1000), else none. */
static int load_names(const char *file, int num_classes, adm_labels *l) {
    char *text = NULL;
    int n = 0;
    if (file && adm_labels_read_file(file, &text, &n) != 0) return -1;
    if (file && n != num_classes) {
        free(text);
        return adm_error("%s has %d class names, the model has %d classes", file, n, num_classes);
    }
    if (!file && adm_labels_default(num_classes) && !(text = adm_labels_builtin(adm_labels_default(num_classes))))
        return -1;
    int rc = adm_labels_parse(text, l);
    free(text);
    return rc;
}

int cmd_sample(int argc, char **argv) {
    const char *unet = NULL, *ucfg = NULL, *clf = NULL, *ccfg = NULL, *resp = NULL, *sampler = NULL,
               *eta_s = NULL, *scale_s = NULL, *y_path = NULL, *class_s = NULL, *seed_s = NULL, *count_s = NULL,
               *xt_path = NULL, *noise_path = NULL, *out = NULL, *png_dir = NULL, *device = NULL, *batch_s = NULL,
               *sched_s = NULL, *steps_s = NULL, *first_s = NULL, *nfe_s = NULL, *skip_s = NULL, *thr_s = NULL,
               *lr_path = NULL, *stage_s = NULL, *labels_s = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--unet", &unet) || admctl_opt(argc, argv, &i, "--unet-config", &ucfg) ||
            admctl_opt(argc, argv, &i, "--classifier", &clf) || admctl_opt(argc, argv, &i, "--classifier-config", &ccfg) ||
            admctl_opt(argc, argv, &i, "--respacing", &resp) || admctl_opt(argc, argv, &i, "--sampler", &sampler) ||
            admctl_opt(argc, argv, &i, "--eta", &eta_s) || admctl_opt(argc, argv, &i, "--scale", &scale_s) ||
            admctl_opt(argc, argv, &i, "--y", &y_path) || admctl_opt(argc, argv, &i, "--class", &class_s) ||
            admctl_opt(argc, argv, &i, "--seed", &seed_s) || admctl_opt(argc, argv, &i, "--count", &count_s) ||
            admctl_opt(argc, argv, &i, "--x-T", &xt_path) || admctl_opt(argc, argv, &i, "--noise", &noise_path) ||
            admctl_opt(argc, argv, &i, "--out", &out) || admctl_opt(argc, argv, &i, "--png-dir", &png_dir) ||
            admctl_opt(argc, argv, &i, "--device", &device) || admctl_opt(argc, argv, &i, "--batch", &batch_s) ||
            admctl_opt(argc, argv, &i, "--noise-schedule", &sched_s) ||
            admctl_opt(argc, argv, &i, "--diffusion-steps", &steps_s) ||
            admctl_opt(argc, argv, &i, "--first-index", &first_s) || admctl_opt(argc, argv, &i, "--steps", &nfe_s) ||
            admctl_opt(argc, argv, &i, "--skip", &skip_s) || admctl_opt(argc, argv, &i, "--thresholding", &thr_s) ||
            admctl_opt(argc, argv, &i, "--low-res", &lr_path) || admctl_opt(argc, argv, &i, "--stage", &stage_s) ||
            admctl_opt(argc, argv, &i, "--labels", &labels_s))
            continue;
        admctl_fail("sample: unknown argument '%s' (see admctl sample --help)", argv[i]);
        return ADMCTL_USAGE;
    }
    /* ---- check the arguments before touching a device ---- */
    adm_dpm_kind dpm_kind;
    const int dpm = adm_dpm_kind_parse(sampler, &dpm_kind);
    const char *missing = !unet ? "--unet" : !ucfg ? "--unet-config" : !sampler ? "--sampler"
                        : !dpm && !resp ? "--respacing" : dpm && !nfe_s ? "--steps" : !out ? "--out" : NULL;
    if (missing) { admctl_fail("sample: %s is required (see --help)", missing); return ADMCTL_USAGE; }
    if (!clf != !ccfg) { admctl_fail("sample: --classifier and --classifier-config go together"); return ADMCTL_USAGE; }
    if (y_path && class_s) { admctl_fail("sample: give --y or --class, not both"); return ADMCTL_USAGE; }
    if (dpm && (resp || eta_s || noise_path)) {
        admctl_fail("sample: %s is deterministic and takes --steps/--skip/--thresholding, not %s", sampler,
                    resp ? "--respacing" : eta_s ? "--eta" : "--noise");
        return ADMCTL_USAGE;
    }
    if (!dpm && (nfe_s || skip_s || thr_s)) {
        admctl_fail("sample: --steps, --skip and --thresholding are for the dpm samplers (%s takes --respacing)", sampler);
        return ADMCTL_USAGE;
    }
    int replay = xt_path || noise_path;
    if (!dpm && replay && (!xt_path || !noise_path)) { admctl_fail("sample: --x-T and --noise go together"); return ADMCTL_USAGE; }
    if (replay && (seed_s || count_s)) { admctl_fail("sample: give --seed/--count or --x-T/--noise, not both"); return ADMCTL_USAGE; }
    if (!replay && (!seed_s || !count_s)) { admctl_fail("sample: --seed and --count (or --x-T and --noise) are required"); return ADMCTL_USAGE; }
    adm_gen_request req = {.sampler = sampler, .respacing = resp, .skip = skip_s, .thresholding = thr_s};
    long long v;
    adm_sampler_kind kind;
    if (!dpm && adm_sampler_kind_parse(sampler, &kind)) {
        admctl_fail("unknown sampler '%s' (want ddpm, ddim, dpm++2m, dpm++3m or dpm3s)", sampler);
        return ADMCTL_USAGE;
    }
    if (nfe_s) { if (parse_ll(nfe_s, "--steps", 1, 1000, &v)) return ADMCTL_USAGE; req.steps = (int)v; }
    adm_skip_type skip;
    if (skip_s && adm_skip_type_parse(skip_s, &skip)) { admctl_fail("--skip: %s", adm_last_error()); return ADMCTL_USAGE; }
    if (thr_s && strcmp(thr_s, "none") && strcmp(thr_s, "dynamic")) {
        admctl_fail("--thresholding '%s': want none or dynamic", thr_s);
        return ADMCTL_USAGE;
    }
    if (eta_s && parse_d(eta_s, "--eta", &req.eta)) return ADMCTL_USAGE;
    if (scale_s && parse_d(scale_s, "--scale", &req.scale)) return ADMCTL_USAGE;
    if (req.scale < 0) { admctl_fail("--scale %g: want >= 0", req.scale); return ADMCTL_USAGE; }
    if (req.scale > 0 && !clf) { admctl_fail("sample: --scale %g needs --classifier", req.scale); return ADMCTL_USAGE; }
    int count = 0, first = 0, batch = 0, klass = -1, dsteps = 0;
    if (seed_s) {
        if (parse_ll(seed_s, "--seed", 0, INT64_MAX, &v)) return ADMCTL_USAGE;
        req.seed = (uint64_t)v;
    }
    if (count_s) { if (parse_ll(count_s, "--count", 1, 1000000, &v)) return ADMCTL_USAGE; count = (int)v; }
    if (first_s) { if (parse_ll(first_s, "--first-index", 0, 2000000000, &v)) return ADMCTL_USAGE; first = (int)v; }
    if (batch_s) { if (parse_ll(batch_s, "--batch", 1, 4096, &v)) return ADMCTL_USAGE; batch = (int)v; }
    int by_name = class_s && !admctl_classes_numeric(class_s);     /* a name: looked up once the model is known */
    if (class_s && !by_name) { if (parse_ll(class_s, "--class", 0, 1000000, &v)) return ADMCTL_USAGE; klass = (int)v; }
    if (steps_s) { if (parse_ll(steps_s, "--diffusion-steps", 2, 100000, &v)) return ADMCTL_USAGE; dsteps = (int)v; }
    if (stage_s) { if (parse_ll(stage_s, "--stage", 1, 2, &v)) return ADMCTL_USAGE; req.stage = (int)v - 1; }

    /* ---- device and model ---- */
    adm_cl cl;
    memset(&cl, 0, sizeof cl);
    if (adm_cl_open(&cl, device, 0)) return admctl_fail("%s", adm_last_error());
    adm_model_spec spec = {unet, ucfg, clf, ccfg};
    adm_model *m = adm_model_load(&cl, &spec);
    int rc = ADMCTL_FAIL;
    float *x = NULL, *noise = NULL;
    int64_t *y = NULL;
    adm_tensor xt = {0}, nz = {0}, lr = {0};
    adm_labels names = {0};
    float *low = NULL;
    if (!m) { admctl_fail("%s", adm_last_error()); goto done; }
    if ((sched_s || dsteps) && adm_model_set_diffusion(m, sched_s, dsteps)) { admctl_fail("%s", adm_last_error()); goto done; }
    adm_model_info info;
    adm_model_get_info(m, &info);
    if (load_names(labels_s, info.num_classes, &names) != 0) { admctl_fail("sample: %s", adm_last_error()); goto done; }
    if (by_name && adm_labels_find(&names, class_s, ucfg, &klass) != 0) {
        admctl_fail("sample: --class: %s%s", adm_last_error(), names.n ? "" : " (or give --labels FILE)");
        goto done;
    }
    int C = info.channels, H = info.image_size, W = H;
    size_t per = (size_t)C * H * W;
    int noise_steps = 0;

    if (replay) {
        if (adm_npy_read(xt_path, &xt) || (noise_path && adm_npy_read(noise_path, &nz))) {
            admctl_fail("%s", adm_last_error());
            goto done;
        }
        if (xt.dtype != ADM_F32 || xt.ndim != 4 || xt.shape[1] != C || xt.shape[2] != H || xt.shape[3] != W || xt.shape[0] < 1 || xt.shape[0] > 4096) {
            admctl_fail("%s: want float32 [B, %d, %d, %d]", xt_path, C, H, W); goto done;
        }
        count = (int)xt.shape[0];
        if (dpm) goto have_x_T;
        if (nz.dtype != ADM_F32 || nz.ndim != 5 || nz.shape[1] != count || nz.shape[2] != C || nz.shape[3] != H || nz.shape[4] != W) {
            admctl_fail("%s: want float32 [steps, %d, %d, %d, %d]", noise_path, count, C, H, W); goto done;
        }
        noise_steps = (int)nz.shape[0];
        noise = nz.data;
    }
have_x_T:
    x = malloc(sizeof(float) * per * count);
    y = malloc(sizeof(int64_t) * count);
    if (!x || !y) { admctl_fail("out of memory for %d images", count); goto done; }
    if (replay) memcpy(x, xt.data, sizeof(float) * per * count);
    else for (int k = 0; k < count; k++) adm_generate_x_T(req.seed, first + k, x + per * k, per);

    /* classes: --y, --class, or drawn from (seed, index) */
    int need_y = info.num_classes > 0;
    if (y_path) { if (read_classes(y_path, count, y)) goto done; }
    else if (klass >= 0) for (int k = 0; k < count; k++) y[k] = klass;
    else if (need_y && replay) { admctl_fail("sample: this model needs classes: give --y or --class"); goto done; }
    else if (need_y) for (int k = 0; k < count; k++) y[k] = adm_noise_class(req.seed, (uint32_t)(first + k), info.num_classes);
    int have_y = y_path || klass >= 0 || need_y;

    /* low-resolution inputs of a super-resolution model */
    if (info.superres != !!lr_path) {
        admctl_fail(info.superres ? "sample: %s is a super-resolution model: give --low-res" :
                                    "sample: --low-res is only for super-resolution models (%s is not one)", ucfg);
        goto done;
    }
    if (lr_path && read_low_res(lr_path, count, C, H, info.small_size, &lr, &low, &req.low_size)) goto done;
    req.low_res = low;

    /* ---- sample, one device pass per batch ---- */
    if (replay) batch = count;
    if (batch <= 0) batch = count < 16 ? count : 16;
    double t0 = adm_now();
    for (int done = 0; done < count; done += batch) {
        int B = count - done < batch ? count - done : batch;
        req.first_index = first + done;
        if (low) req.low_res = low + (size_t)done * C * req.low_size * req.low_size;
        int r = adm_generate_batch(m, &req, have_y ? y + done : NULL, B, x + per * done, noise, noise_steps, progress, NULL);
        if (r) { if (isatty(STDERR_FILENO)) fputc('\n', stderr); admctl_fail("%s", adm_last_error()); goto done; }
    }
    fprintf(stderr, "%ssampled %d image(s) in %.1f s\n", isatty(STDERR_FILENO) ? "\n" : "", count, adm_now() - t0);

    int64_t shape[4] = {count, C, H, W};
    if (adm_npy_write(out, ADM_F32, 4, shape, x)) { admctl_fail("%s", adm_last_error()); goto done; }
    if (png_dir) {
        char params[512];
        if (dpm)
            snprintf(params, sizeof params, "sampler=%s steps=%d skip=%s thresholding=%s scale=%g seed=%s", sampler,
                     req.steps, skip_s ? skip_s : "time_uniform", thr_s ? thr_s : "none", req.scale,
                     replay ? "replay" : seed_s);
        else
            snprintf(params, sizeof params, "sampler=%s respacing=%s eta=%g scale=%g seed=%s", sampler, resp, req.eta,
                     req.scale, replay ? "replay" : seed_s);
        if (write_pngs(png_dir, x, have_y ? y : NULL, first, count, C, H, W, params, &names)) goto done;
    }
    printf("wrote %s [%d, %d, %d, %d]%s%s\n", out, count, C, H, W, png_dir ? " and PNGs in " : "", png_dir ? png_dir : "");
    rc = ADMCTL_OK;
done:
    adm_labels_free(&names);
    free(x);
    free(y);
    adm_tensor_free(&xt);
    adm_tensor_free(&nz);
    adm_tensor_free(&lr);
    free(low);
    adm_model_free(m);
    adm_cl_close(&cl);
    return rc;
}
