/* cmd_generate.c — `admctl generate`: one-shot sampling straight to PNG
 * files, without a spool job or a daemon, for people used to
 * stable-diffusion.cpp's CLI:
 *
 *   admctl generate -m MODEL [-c CLASS] [-n N] [-s SEED] [--steps N] -o DIR
 *                   [--scale S] [--sampler S] [--batch B] [--device D] [--db PATH] [--force]
 *
 * MODEL is a model registered in the spool (opened read-only), or "mnist",
 * the embedded default model, when no spool has one by that name.  Image k
 * goes to DIR/<k, 6 digits>.png, encoded as admd encodes a job's image
 * (output/job_files.h: the same provenance text chunks, with adm:job 0), so
 * its pixels and chunks are those of a daemon job with the same request,
 * seed and index.  An existing non-empty file is refused unless --force.
 * --steps N: the respacing "N" for ddpm/ddim, N network passes for dpm*.
 */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_spool.h"
#include "cl_runtime.h"
#include "dpm_solver.h"
#include "generate.h"
#include "job_files.h"
#include "png_file.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(FILE *f) {
    fprintf(f,
        "usage: admctl generate -m MODEL [-c CLASS] [-n N] [-s SEED] [--steps N] -o DIR\n"
        "                       [--scale S] [--sampler S] [--batch B] [--device D] [--db PATH] [--force]\n"
        "  one-shot sampling to DIR/000000.png, DIR/000001.png, ... (no spool job, no daemon)\n"
        "  -m, --model M    a model registered in the spool, or mnist (the embedded default model)\n"
        "  -c, --class C    the class of every image, a number or one of the model's class names\n"
        "                   (\"seven\", \"Pembroke Welsh Corgi\"; default: drawn per image from\n"
        "                   seed and index)\n"
        "  -n, --count N    images (default 1)\n"
        "  -s, --seed N     Philox seed (default 42); image k depends only on (seed, k)\n"
        "      --steps N    ddpm/ddim: respacing to N steps; dpm*: N network passes\n"
        "                   (default: the model's respacing / steps)\n"
        "      --scale S    classifier guidance scale (default: the model's)\n"
        "      --sampler S  ddpm, ddim, dpm++2m, dpm++3m or dpm3s (default: the model's)\n"
        "  -o, --out DIR    the folder of the PNGs (created if missing)\n"
        "      --batch B    images per device pass (default: by image size)\n"
        "      --device D   OpenCL device: P:D, a number or a name substring\n"
        "      --force      overwrite existing PNGs\n"
        ADMCTL_DB_HELP
        "  the PNGs carry admd's provenance chunks (adm:job 0): `admctl audit`'s replay rules hold\n");
    return f == stdout ? ADMCTL_OK : ADMCTL_USAGE;
}

/* The integer in s, lo..hi, else a message naming the option. */
static int int_arg(const char *s, const char *what, long long lo, long long hi, long long *v) {
    char *e;
    errno = 0;
    long long x = strtoll(s, &e, 10);
    if (errno || e == s || *e || x < lo || x > hi) return admctl_fail("generate: %s '%s': want an integer in %lld..%lld", what, s, lo, hi);
    *v = x;
    return 0;
}

/* The model: registered in the spool (if there is one), else the embedded
 * "mnist".  Paths and config file names resolved as admd opens them; its
 * class names into *labels (NULL: none; the embedded model's digits). */
static int find_model(const char *db, const char *name, adm_spool_model *m, char **labels) {
    if (!db || !*db) db = getenv(ADMCTL_DB_ENV);
    if ((!db || !*db) && access(ADMCTL_DB_SYSTEM, F_OK) == 0) db = ADMCTL_DB_SYSTEM;
    if (db && *db) {
        adm_spool *s = admctl_spool_open(db, ADM_SPOOL_READONLY);
        if (!s) return -1;
        int found = adm_spool_model_get(s, name, m) == 0;
        if (found && adm_spool_model_labels(s, name, labels) != 0) {
            adm_spool_close(s);
            return admctl_fail("generate: %s", adm_last_error());
        }
        if (found) {
            char p[ADM_SPOOL_PATH];
            adm_spool_resolve(s, m->unet_path, p, sizeof p);
            snprintf(m->unet_path, sizeof m->unet_path, "%s", p);
            if (m->classifier_path[0]) {
                adm_spool_resolve(s, m->classifier_path, p, sizeof p);
                snprintf(m->classifier_path, sizeof m->classifier_path, "%s", p);
            }
            char *specs[2] = {m->unet_config, m->classifier_config};
            for (int k = 0; k < 2; k++)
                if (specs[k][0] && specs[k][0] != '-' && strchr(specs[k], '/')) {
                    adm_spool_resolve(s, specs[k], p, sizeof p);
                    snprintf(specs[k], ADM_SPOOL_SPEC, "%.*s", ADM_SPOOL_SPEC - 1, p);
                }
        }
        adm_spool_close(s);
        if (found) return 0;
        if (strcmp(name, "mnist")) return admctl_fail("generate: unknown model '%s' in %s (see admctl model list)", name, db);
    } else if (strcmp(name, "mnist")) {
        return admctl_fail("generate: no spool to find model '%s' in (give --db or set $%s); without one only "
                           "the embedded model mnist is known", name, ADMCTL_DB_ENV);
    }
    char dir[4096];
    if (!admctl_default_model_dir(dir, sizeof dir) || admctl_default_model(dir, m) != 0 ||
        !(*labels = adm_labels_builtin("mnist")))
        return admctl_fail("generate: %s", adm_last_error());
    return 0;
}

/* The files' sha256 (the provenance chunks), checked against the registered ones. */
static int hash_file(const char *path, const char *registered, char *out) {
    if (adm_sha256_file(path, out) != 0) return admctl_fail("generate: %s", adm_last_error());
    if (registered[0] && strcmp(registered, out))
        return admctl_fail("generate: %s: sha256 %.16s... does not match the registered %.16s... (the file changed "
                           "after it was added)", path, out, registered);
    return 0;
}

typedef struct {
    const char *dir;
    const adm_spool_provenance *prov;
    admctl_counter bar;
    int batch, written;
} gen_ctx;

/* Progress in image-steps: the images finished plus the running pass's share. */
static int on_step(void *user, int step, int total, int images_done, int images_total) {
    gen_ctx *g = user;
    int left = images_total - images_done, pass = g->batch < left ? g->batch : left;
    admctl_counter_update(&g->bar, (int64_t)images_done * total + (int64_t)pass * step, (int64_t)images_total * total);
    return 0;
}

static void png_path(const char *dir, int index, char *out, size_t n) { snprintf(out, n, "%s/%06d.png", dir, index); }

/* One image, written as admd writes a job's (temp file, fsync, rename). */
static int on_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    gen_ctx *g = user;
    char path[4200], tmp[4500];
    png_path(g->dir, index, path, sizeof path);
    if (adm_job_tmp_path(path, tmp, sizeof tmp) != 0) return -1;
    adm_job_texts tx;
    adm_job_png_texts(&tx, g->prov, 0, index, klass);
    if (adm_png_save(path, tmp, px, w, h, c, tx.t, tx.n, NULL, NULL) != 0) return -1;
    g->written++;
    return 0;
}

/* The command; *labels (the model's class names) is freed by cmd_generate. */
static int generate(int argc, char **argv, char **labels) {
    const char *model = NULL, *class_s = NULL, *count_s = NULL, *seed_s = NULL, *steps_s = NULL, *out = NULL,
               *scale_s = NULL, *sampler = NULL, *batch_s = NULL, *device = NULL, *db = NULL;
    int force = 0;
    if (admctl_wants_help(argc, argv)) return usage(stdout);
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "-m", &model) || admctl_opt(argc, argv, &i, "--model", &model) ||
            admctl_opt(argc, argv, &i, "-c", &class_s) || admctl_opt(argc, argv, &i, "--class", &class_s) ||
            admctl_opt(argc, argv, &i, "-n", &count_s) || admctl_opt(argc, argv, &i, "--count", &count_s) ||
            admctl_opt(argc, argv, &i, "-s", &seed_s) || admctl_opt(argc, argv, &i, "--seed", &seed_s) ||
            admctl_opt(argc, argv, &i, "-o", &out) || admctl_opt(argc, argv, &i, "--out", &out) ||
            admctl_opt(argc, argv, &i, "--steps", &steps_s) || admctl_opt(argc, argv, &i, "--scale", &scale_s) ||
            admctl_opt(argc, argv, &i, "--sampler", &sampler) || admctl_opt(argc, argv, &i, "--batch", &batch_s) ||
            admctl_opt(argc, argv, &i, "--device", &device) || admctl_opt(argc, argv, &i, "--db", &db) ||
            admctl_flag(argv, i, "--force", &force))
            continue;
        admctl_fail("generate: unknown argument '%s' (see admctl generate --help)", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!model || !out) { admctl_fail("generate: %s is required (see --help)", !model ? "-m MODEL" : "-o DIR"); return ADMCTL_USAGE; }
    long long klass = -1, count = 1, seed = 42, steps = 0, batch = 0;
    int by_name = class_s && !admctl_classes_numeric(class_s);
    if ((class_s && !by_name && int_arg(class_s, "--class", 0, 1000000, &klass)) || (count_s && int_arg(count_s, "--count", 1, 1000000, &count)) ||
        (seed_s && int_arg(seed_s, "--seed", 0, INT64_MAX, &seed)) || (steps_s && int_arg(steps_s, "--steps", 1, 100000, &steps)) ||
        (batch_s && int_arg(batch_s, "--batch", 1, 4096, &batch)))
        return ADMCTL_USAGE;
    double scale = NAN;
    if (scale_s) {
        char *e;
        scale = strtod(scale_s, &e);
        if (e == scale_s || *e || !isfinite(scale) || scale < 0) {
            admctl_fail("generate: --scale '%s': want a number >= 0", scale_s);
            return ADMCTL_USAGE;
        }
    }

    adm_spool_model m;
    if (find_model(db, model, &m, labels) != 0) return ADMCTL_FAIL;
    if (by_name) {                     /* --class "Pembroke Welsh Corgi": the model's names */
        adm_labels l;
        int c = -1;
        if (adm_labels_parse(*labels, &l) != 0) return admctl_fail("generate: %s", adm_last_error());
        int found = adm_labels_find(&l, class_s, m.name, &c);
        adm_labels_free(&l);
        if (found != 0) return admctl_fail("generate: --class: %s", adm_last_error());
        klass = c;
    }
    /* the request as a job's row would hold it (schema defaults included) */
    if (!sampler) sampler = m.default_sampler[0] ? m.default_sampler : "ddpm";
    adm_dpm_kind dk;
    int dpm = adm_dpm_kind_parse(sampler, &dk);
    if (!dpm && strcmp(sampler, "ddpm") && strcmp(sampler, "ddim")) {
        admctl_fail("generate: unknown sampler '%s' (want ddpm, ddim, dpm++2m, dpm++3m or dpm3s)", sampler);
        return ADMCTL_USAGE;
    }
    char respacing[64] = "";
    if (!dpm) snprintf(respacing, sizeof respacing, "%.60s", steps ? "" : m.default_respacing);
    if (!dpm && steps) snprintf(respacing, sizeof respacing, "%lld", steps);
    if (dpm && !steps) steps = m.default_steps > 0 ? m.default_steps : 20;
    if (isnan(scale)) scale = m.default_scale;

    /* the files: every one we would write must be new (or empty) unless --force */
    if (mkdir(out, 0777) != 0 && errno != EEXIST) return admctl_fail("generate: %s: %s", out, strerror(errno));
    struct stat st;
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) return admctl_fail("generate: %s: not a folder", out);
    if (access(out, W_OK) != 0) return admctl_fail("generate: %s: %s", out, strerror(errno));
    for (int k = 0; k < count && !force; k++) {
        char path[4200];
        png_path(out, k, path, sizeof path);
        if (stat(path, &st) == 0 && st.st_size > 0)
            return admctl_fail("generate: %s exists (give --force to overwrite it)", path);
    }

    adm_spool_provenance p;
    memset(&p, 0, sizeof p);
    if (hash_file(m.unet_path, m.unet_sha256, p.unet_sha256) != 0 ||
        (m.classifier_path[0] && hash_file(m.classifier_path, m.classifier_sha256, p.classifier_sha256) != 0))
        return ADMCTL_FAIL;
    adm_cl cl;
    memset(&cl, 0, sizeof cl);
    if (adm_cl_open(&cl, device, 0) != 0) return admctl_fail("generate: device: %s", adm_last_error());
    adm_model_spec spec = {m.unet_path, m.unet_config, m.classifier_path[0] ? m.classifier_path : NULL,
                           m.classifier_path[0] ? m.classifier_config : NULL};
    adm_model *am = adm_model_load(&cl, &spec);
    int rc = ADMCTL_FAIL, *classes = NULL;
    if (!am) { admctl_fail("generate: model %s: %s", m.name, adm_last_error()); goto done; }
    adm_model_info info;
    adm_model_get_info(am, &info);
    if (info.superres) { admctl_fail("generate: %s is a super-resolution model (use admctl submit --upsampler)", m.name); goto done; }
    if (klass >= 0 && klass >= info.num_classes) {
        admctl_fail("generate: class %lld is outside the model's classes (%s has %d)", klass, m.name, info.num_classes);
        goto done;
    }
    if (scale > 0 && !info.has_classifier) { admctl_fail("generate: --scale %g needs a model with a classifier", scale); goto done; }

    adm_job_device_provenance(&cl, &p);
    snprintf(p.model, sizeof p.model, "%s", m.name);
    snprintf(p.sampler, sizeof p.sampler, "%s", sampler);
    snprintf(p.respacing, sizeof p.respacing, "%s", respacing);
    if (dpm) {
        p.steps = (int)steps;
        snprintf(p.skip, sizeof p.skip, "time_uniform");
        snprintf(p.thresholding, sizeof p.thresholding, "%s", dk == ADM_DPM_3S ? "none" : "dynamic");
    }
    p.scale = scale;
    p.seed = seed;
    p.klass = (int)klass;
    p.count = (int)count;
    p.labels = *labels;
    snprintf(p.noise_algorithm, sizeof p.noise_algorithm, "%s", ADM_NOISE_ALGORITHM);
    if (klass >= 0) {
        if (!(classes = malloc(sizeof *classes * (size_t)count))) { admctl_fail("out of memory"); goto done; }
        for (int k = 0; k < count; k++) classes[k] = (int)klass;
    }
    adm_gen_request req = {
        .sampler = p.sampler, .respacing = dpm ? NULL : p.respacing, .steps = p.steps,
        .skip = dpm ? p.skip : NULL, .thresholding = dpm ? p.thresholding : NULL, .scale = scale,
        .seed = (uint64_t)seed, .first_index = 0, .count = (int)count, .classes = classes, .batch = (int)batch,
    };
    gen_ctx g = {.dir = out, .prov = &p, .batch = adm_generate_pass_size((int)batch, info.image_size, (int)count)};
    char how[ADM_SPOOL_SPEC + 128];
    adm_spool_sampling_text(p.sampler, p.respacing, p.eta, p.steps, p.skip, p.thresholding, how, sizeof how);
    fprintf(stderr, "generate: model %s, %lld image%s, class %s, %s, scale %g, seed %lld, on %s\n", m.name, count,
            count == 1 ? "" : "s", class_s ? class_s : "random", how, scale, seed, cl.device_name);
    admctl_counter_init(&g.bar, stderr, "generating", "steps");
    if (adm_generate(am, &req, on_step, on_image, &g) != 0) {
        if (g.bar.tty) fputc('\n', stderr);
        admctl_fail("generate: %s", adm_last_error());
        goto done;
    }
    if (g.bar.tty) fputc('\n', stderr);
    printf("wrote %d PNG%s to %s\n", g.written, g.written == 1 ? "" : "s", out);
    rc = ADMCTL_OK;
done:
    free(classes);
    if (am) adm_model_free(am);
    adm_cl_close(&cl);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    char *labels = NULL;
    int rc = generate(argc, argv, &labels);
    free(labels);
    return rc;
}
