/* cmd_submit.c — `admctl submit`: queue a job (one per class when given a
 * class list) and print its id.  The same INSERT as the sqlite3 CLI's; the
 * schema's checks and triggers judge it. */
#include "admctl.h"
#include "admctl_json.h"
#include "admctl_spool.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl submit --model M [--class C] [--count N] [--scale S]\n"
        "                     [--sampler ddpm|ddim|dpm++2m|dpm++3m|dpm3s] [--respacing R] [--eta E]\n"
        "                     [--steps N] [--skip K] [--thresholding none|dynamic]\n"
        "                     [--seed N] [--priority P] [--outdir DIR]\n"
        "                     [--max-attempts N] [--json] [--db PATH]\n"
        "                     [--upsampler U [--up-sampler S] [--up-respacing R] [--up-steps N] [--up-eta E]]\n"
        "                     [--input PNG|DIR]\n"
        "\n"
        "Queue images; prints the new job id (one line per job).\n"
        "  --class C       a class label, a list (\"0-9\", \"1,4,7\": one job per class, same\n"
        "                  seed), or \"random\" (drawn per image; the default)\n"
        "  --count N       images per job (default 1)\n"
        "  --scale S       classifier guidance scale (default: the model's)\n"
        "  --sampler S     ddpm, ddim, or the DPM-Solver samplers dpm++2m, dpm++3m (multistep\n"
        "                  DPM-Solver++) and dpm3s (singlestep DPM-Solver, order 3)\n"
        "                  (default: the model's)\n"
        "  --respacing R   ddpm/ddim timestep respacing: \"50\", \"ddim25\", \"10,20,30\" (default: the model's)\n"
        "  --eta E         DDIM eta, 0..1 (default 0)\n"
        "  --steps N       dpm*: network passes, 1..1000 (default: the model's, 20 unless set)\n"
        "  --skip K        dpm*: time steps uniform in time_uniform (default), logsnr or time_quadratic\n"
        "  --thresholding T  dpm++*: dynamic (default: x0 clamped per image at its 99.5%% |x0|\n"
        "                  quantile, Imagen's dynamic thresholding) or none; dpm3s: none\n"
        "  --seed N        seed (default: chosen and recorded by the daemon)\n"
        "  --priority P    higher runs first, -1000..1000 (default 0)\n"
        "  --outdir DIR    output folder under the spool's output root (default job-<id>)\n"
        "  --max-attempts N  tries before the job is marked dead, 1..100 (default 3)\n"
        "  --upsampler U   two stages: sample --model, then enlarge each image with the\n"
        "                  super-resolution model U (same class; U's own sampler, steps and\n"
        "                  Philox stream); --up-sampler/--up-respacing/--up-steps/--up-eta\n"
        "                  as --sampler etc. for stage 2 (default: U's)\n"
        "  --input P       enlarge given images: one PNG or a folder of PNGs (inside the\n"
        "                  daemon's --input-root folders) with --model a super-resolution\n"
        "                  model; --count defaults to the number of PNGs\n"
        "  --json          print {\"ids\": [...], \"seed\": N or null} instead of the ids\n"
        ADMCTL_DB_HELP);
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *v) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x) || x < lo || x > hi)
        return admctl_fail("%s '%s': expected a number in [%g, %g]", opt, s, lo, hi);
    *v = x;
    return 0;
}

/* count, seed, priority, attempts: whole numbers (2.5 is refused, not truncated) */
static int parse_int(const char *opt, const char *s, double lo, double hi, double *v) {
    if (parse_num(opt, s, lo, hi, v)) return -1;
    if (*v != floor(*v)) return admctl_fail("%s '%s': expected a whole number", opt, s);
    return 0;
}

int cmd_submit(int argc, char **argv) {
    const char *db = NULL, *model = NULL, *klass = "random", *count = NULL, *scale = NULL, *sampler = NULL;
    const char *respacing = NULL, *eta = NULL, *seed = NULL, *priority = NULL, *outdir = NULL, *attempts = NULL;
    int json = 0;
    const char *steps = NULL, *skip = NULL, *thresholding = NULL;
    const char *upsampler = NULL, *up_sampler = NULL, *up_respacing = NULL, *up_steps = NULL, *up_eta = NULL, *input = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--model", &model) ||
            admctl_opt(argc, argv, &i, "--class", &klass) || admctl_opt(argc, argv, &i, "--count", &count) ||
            admctl_opt(argc, argv, &i, "--scale", &scale) || admctl_opt(argc, argv, &i, "--sampler", &sampler) ||
            admctl_opt(argc, argv, &i, "--respacing", &respacing) || admctl_opt(argc, argv, &i, "--eta", &eta) ||
            admctl_opt(argc, argv, &i, "--seed", &seed) || admctl_opt(argc, argv, &i, "--priority", &priority) ||
            admctl_opt(argc, argv, &i, "--outdir", &outdir) || admctl_opt(argc, argv, &i, "--max-attempts", &attempts) ||
            admctl_flag(argv, i, "--json", &json) ||
            admctl_opt(argc, argv, &i, "--steps", &steps) || admctl_opt(argc, argv, &i, "--skip", &skip) ||
            admctl_opt(argc, argv, &i, "--thresholding", &thresholding) ||
            admctl_opt(argc, argv, &i, "--upsampler", &upsampler) || admctl_opt(argc, argv, &i, "--up-sampler", &up_sampler) ||
            admctl_opt(argc, argv, &i, "--up-respacing", &up_respacing) ||
            admctl_opt(argc, argv, &i, "--up-steps", &up_steps) || admctl_opt(argc, argv, &i, "--up-eta", &up_eta) ||
            admctl_opt(argc, argv, &i, "--input", &input))
            continue;
        usage(stderr);
        admctl_fail("submit: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!model) { usage(stderr); admctl_fail("submit: --model is required (see admctl model list)"); return ADMCTL_USAGE; }

    adm_spool_request r;
    adm_spool_request_init(&r);
    double v;
    int classes[1000];
    int n_classes = admctl_parse_classes(klass, classes, 1000);
    if (n_classes < 0) { admctl_fail("--class: %s", adm_last_error()); return ADMCTL_USAGE; }
    if (strlen(model) >= sizeof r.model) { admctl_fail("--model '%s': name too long", model); return ADMCTL_USAGE; }
    snprintf(r.model, sizeof r.model, "%s", model);
    /* wide ranges here: the schema's CHECKs are the judges, with their messages */
    if (count) { if (parse_int("--count", count, -1e9, 1e9, &v)) return ADMCTL_USAGE; r.count = (int)v; }
    if (scale) { if (parse_num("--scale", scale, -1e30, 1e30, &v)) return ADMCTL_USAGE; r.scale = v; }
    if (eta) { if (parse_num("--eta", eta, -1e30, 1e30, &v)) return ADMCTL_USAGE; r.eta = v; }
    if (seed) {
        /* exact 64-bit integers: daemon-chosen seeds (up to 2^63-1) can be given back */
        char *end;
        errno = 0;
        long long sv = strtoll(seed, &end, 10);
        if (end == seed || *end || errno || sv < 0) {
            admctl_fail("--seed '%s': expected a whole number from 0 to %lld", seed, (long long)INT64_MAX);
            return ADMCTL_USAGE;
        }
        r.seed = (int64_t)sv;
    }
    if (priority) { if (parse_int("--priority", priority, -1e9, 1e9, &v)) return ADMCTL_USAGE; r.priority = (int)v; }
    /* 0 would mean "the default" to the spool API: refuse it here */
    if (attempts) { if (parse_int("--max-attempts", attempts, 1, 100, &v)) return ADMCTL_USAGE; r.max_attempts = (int)v; }
    if (steps) { if (parse_int("--steps", steps, -1e9, 1e9, &v)) return ADMCTL_USAGE; r.steps = v == 0 ? -1 : (int)v; }
    if (skip) snprintf(r.skip, sizeof r.skip, "%s", skip);
    if (thresholding) snprintf(r.thresholding, sizeof r.thresholding, "%s", thresholding);
    if (sampler) snprintf(r.sampler, sizeof r.sampler, "%s", sampler);
    if (respacing) snprintf(r.respacing, sizeof r.respacing, "%s", respacing);
    if (outdir && n_classes > 1) { admctl_fail("--outdir names one folder: submit one class at a time with it"); return ADMCTL_USAGE; }
    if (outdir) snprintf(r.outdir, sizeof r.outdir, "%s", outdir);
    /* one seed for the whole class list, so that the jobs differ only by class */
    if (!seed && n_classes > 1) {
        char hex[65];
        char src[64];
        snprintf(src, sizeof src, "%f-%d", adm_now(), (int)getpid());
        adm_sha256_hex(src, strlen(src), hex);
        r.seed = (int64_t)(strtoull(hex + 48, NULL, 16) & 0x7fffffff);
        fprintf(stderr, "admctl: %d jobs share seed %lld\n", n_classes, (long long)r.seed);
    }

    /* the second stage, or given images */
    adm_spool_stages st;
    adm_spool_stages_init(&st);
    if (upsampler) {
        if (strlen(upsampler) >= sizeof st.upsampler) { admctl_fail("--upsampler '%s': name too long", upsampler); return ADMCTL_USAGE; }
        snprintf(st.upsampler, sizeof st.upsampler, "%s", upsampler);
    }
    if (up_sampler) snprintf(st.up_sampler, sizeof st.up_sampler, "%s", up_sampler);
    if (up_respacing) snprintf(st.up_respacing, sizeof st.up_respacing, "%s", up_respacing);
    if (up_steps) { if (parse_int("--up-steps", up_steps, -1e9, 1e9, &v)) return ADMCTL_USAGE; st.up_steps = v == 0 ? -1 : (int)v; }
    if (up_eta) { if (parse_num("--up-eta", up_eta, -1e30, 1e30, &v)) return ADMCTL_USAGE; st.up_eta = v; }
    if (input) {
        char real[PATH_MAX];
        if (!realpath(input, real)) return admctl_fail("--input %s: %s", input, strerror(errno));
        snprintf(st.input_path, sizeof st.input_path, "%s", real);
        DIR *d = count ? NULL : opendir(real);
        if (d) {                       /* a folder: one image per PNG unless --count says otherwise */
            int n = 0;
            for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                n += l > 4 && (!strcmp(e->d_name + l - 4, ".png") || !strcmp(e->d_name + l - 4, ".PNG"));
            }
            closedir(d);
            if (n == 0) return admctl_fail("--input %s holds no PNG files", input);
            r.count = n;
        }
    }

    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    int rc = ADMCTL_OK;
    json_object *ids = json ? json_object_new_array() : NULL;
    for (int k = 0; k < n_classes; k++) {
        int64_t id;
        r.klass = classes[k];
        if (adm_spool_submit_stages(s, &r, &st, &id) != 0) { rc = admctl_fail("%s", adm_last_error()); break; }
        if (ids) json_object_array_add(ids, json_object_new_int64(id));
        else printf("%lld\n", (long long)id);
    }
    if (ids) {   /* the ids that were queued, even when a later class failed */
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "ids", ids);
        json_object_object_add(doc, "seed", r.seed >= 0 ? json_object_new_int64(r.seed) : NULL);
        int prc = admctl_json_print(doc);
        if (rc == ADMCTL_OK) rc = prc;
    }
    adm_spool_close(s);
    return rc;
}
