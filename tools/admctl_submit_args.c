/* admctl_submit_args.c — one parser for a job request's options, shared by
 * `admctl submit` (cmd_submit.c) and `admctl fleet submit` (cmd_fleet.c).
 * Ranges here are wide on purpose: the schema's CHECKs judge the values
 * (locally at the INSERT, on a box for a fleet message), with their own
 * messages.  Only what the spool API cannot express is refused here. */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_spool.h"
#include "admctl_submit_args.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void admctl_submit_usage(FILE *f, int fleet) {
    fprintf(f,
        "usage: admctl %s --model M [--class C] [--count N] [--scale S]\n"
        "                     [--sampler ddpm|ddim|dpm++2m|dpm++3m|dpm3s] [--respacing R] [--eta E]\n"
        "                     [--steps N] [--skip K] [--thresholding none|dynamic]\n"
        "                     [--seed N] [--priority P] [--outdir DIR]\n"
        "                     [--max-attempts N] [--json] %s\n"
        "%s"
        "\n"
        "%s"
        "  --class C       a class number, a list (\"0-9\", \"1,4,7\": one job per class, same\n"
        "                  seed), \"random\" (drawn per image; the default), or a class name\n"
        "                  of the model (\"Pembroke Welsh Corgi\", \"seven\": the exact name,\n"
        "                  else a synonym, else a unique part of one, case ignored)\n"
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
        "%s"
        "  --json          print {\"ids\": [...], \"seed\": N or null} instead of the ids\n"
        "%s",
        fleet ? "fleet submit" : "submit",
        fleet ? "--nats URL [--nats-creds FILE]" : "[--db PATH]",
        fleet ? "" : "                     [--upsampler U [--up-sampler S] [--up-respacing R] [--up-steps N] [--up-eta E]]\n"
                     "                     [--input PNG|DIR]\n",
        fleet ? "Queue images on the fleet's NATS JetStream queue (any box may run them); prints the\n"
                "job's fleet id (one line per job).  The seed is chosen here when not given, so every\n"
                "box would draw the same images.  Fleet jobs have one stage (no --upsampler, --input).\n"
              : "Queue images; prints the new job id (one line per job).\n",
        fleet ? ""
              : "  --upsampler U   two stages: sample --model, then enlarge each image with the\n"
                "                  super-resolution model U (same class; U's own sampler, steps and\n"
                "                  Philox stream); --up-sampler/--up-respacing/--up-steps/--up-eta\n"
                "                  as --sampler etc. for stage 2 (default: U's)\n"
                "  --input P       enlarge given images: one PNG or a folder of PNGs (inside the\n"
                "                  daemon's --input-root folders) with --model a super-resolution\n"
                "                  model; --count defaults to the number of PNGs\n",
        fleet ? "  --nats URL      the NATS server (nats://host:4222; tls://host:4222 for TLS)\n"
                "  --nats-creds FILE  NATS credentials file (user JWT + nkey seed)\n"
                "  --nats-ca FILE  CA certificates for a tls:// server\n"
                "  --nats-ack-wait S  ack deadline of the queue's consumer if this creates it (default 60)\n"
              : ADMCTL_DB_HELP);
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

/* count, priority, attempts, steps: whole numbers (2.5 is refused, not truncated) */
static int parse_int(const char *opt, const char *s, double lo, double hi, double *v) {
    if (parse_num(opt, s, lo, hi, v)) return -1;
    if (*v != floor(*v)) return admctl_fail("%s '%s': expected a whole number", opt, s);
    return 0;
}

/* The second stage (--upsampler, --up-*) and given images (--input). */
static int parse_stages(const char *upsampler, const char *up_sampler, const char *up_respacing,
                        const char *up_steps, const char *up_eta, const char *input, const char *count,
                        admctl_submit_args *a) {
    adm_spool_stages *st = &a->st;
    double v;
    if (upsampler) {
        if (strlen(upsampler) >= sizeof st->upsampler) return admctl_fail("--upsampler '%s': name too long", upsampler), ADMCTL_USAGE;
        snprintf(st->upsampler, sizeof st->upsampler, "%s", upsampler);
    }
    if (up_sampler) snprintf(st->up_sampler, sizeof st->up_sampler, "%s", up_sampler);
    if (up_respacing) snprintf(st->up_respacing, sizeof st->up_respacing, "%s", up_respacing);
    if (up_steps) { if (parse_int("--up-steps", up_steps, -1e9, 1e9, &v)) return ADMCTL_USAGE; st->up_steps = v == 0 ? -1 : (int)v; }
    if (up_eta) { if (parse_num("--up-eta", up_eta, -1e30, 1e30, &v)) return ADMCTL_USAGE; st->up_eta = v; }
    if (input) {
        char real[PATH_MAX];
        if (!realpath(input, real)) return admctl_fail("--input %s: %s", input, strerror(errno));
        snprintf(st->input_path, sizeof st->input_path, "%s", real);
        DIR *d = count ? NULL : opendir(real);
        if (d) {                       /* a folder: one image per PNG unless --count says otherwise */
            int n = 0;
            for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                n += l > 4 && (!strcmp(e->d_name + l - 4, ".png") || !strcmp(e->d_name + l - 4, ".PNG"));
            }
            closedir(d);
            if (n == 0) return admctl_fail("--input %s holds no PNG files", input);
            a->r.count = n;
        }
    }
    return ADMCTL_OK;
}

/* One seed for the whole class list, so that the jobs differ only by class. */
static void share_seed(admctl_submit_args *a) {
    if (a->seed_given || a->n_classes < 2) return;
    char hex[65];
    char src[64];
    snprintf(src, sizeof src, "%f-%d", adm_now(), (int)getpid());
    adm_sha256_hex(src, strlen(src), hex);
    a->r.seed = (int64_t)(strtoull(hex + 48, NULL, 16) & 0x7fffffff);
    fprintf(stderr, "admctl: %d jobs share seed %lld\n", a->n_classes, (long long)a->r.seed);
}

int admctl_submit_classes(admctl_submit_args *a, adm_spool *s) {
    if (!a->class_names) return ADMCTL_OK;
    adm_labels l;
    if (admctl_load_labels(s, a->r.model, &l) != 0) return admctl_fail("%s", adm_last_error());
    a->n_classes = admctl_resolve_classes(a->class_names, &l, a->r.model, a->classes, 1000);
    adm_labels_free(&l);
    if (a->n_classes < 0) return admctl_fail("--class: %s", adm_last_error());
    if (a->r.outdir[0] && a->n_classes > 1) return admctl_fail("--outdir names one folder: submit one class at a time with it");
    share_seed(a);
    return ADMCTL_OK;
}

int admctl_submit_parse(int argc, char **argv, int fleet, admctl_submit_args *a) {
    memset(a, 0, sizeof *a);
    const char *model = NULL, *klass = "random", *count = NULL, *scale = NULL, *sampler = NULL;
    const char *respacing = NULL, *eta = NULL, *seed = NULL, *priority = NULL, *outdir = NULL, *attempts = NULL;
    const char *steps = NULL, *skip = NULL, *thresholding = NULL;
    const char *upsampler = NULL, *up_sampler = NULL, *up_respacing = NULL, *up_steps = NULL, *up_eta = NULL, *input = NULL;
    const char *cmd = fleet ? "fleet submit" : "submit";
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--model", &model) ||
            admctl_opt(argc, argv, &i, "--class", &klass) || admctl_opt(argc, argv, &i, "--count", &count) ||
            admctl_opt(argc, argv, &i, "--scale", &scale) || admctl_opt(argc, argv, &i, "--sampler", &sampler) ||
            admctl_opt(argc, argv, &i, "--respacing", &respacing) || admctl_opt(argc, argv, &i, "--eta", &eta) ||
            admctl_opt(argc, argv, &i, "--seed", &seed) || admctl_opt(argc, argv, &i, "--priority", &priority) ||
            admctl_opt(argc, argv, &i, "--outdir", &outdir) || admctl_opt(argc, argv, &i, "--max-attempts", &attempts) ||
            admctl_flag(argv, i, "--json", &a->json) ||
            admctl_opt(argc, argv, &i, "--steps", &steps) || admctl_opt(argc, argv, &i, "--skip", &skip) ||
            admctl_opt(argc, argv, &i, "--thresholding", &thresholding))
            continue;
        if (!fleet && (admctl_opt(argc, argv, &i, "--db", &a->db) ||
                       admctl_opt(argc, argv, &i, "--upsampler", &upsampler) ||
                       admctl_opt(argc, argv, &i, "--up-sampler", &up_sampler) ||
                       admctl_opt(argc, argv, &i, "--up-respacing", &up_respacing) ||
                       admctl_opt(argc, argv, &i, "--up-steps", &up_steps) ||
                       admctl_opt(argc, argv, &i, "--up-eta", &up_eta) ||
                       admctl_opt(argc, argv, &i, "--input", &input)))
            continue;
        if (fleet && (admctl_opt(argc, argv, &i, "--nats", &a->nats) || admctl_opt(argc, argv, &i, "--nats-creds", &a->creds) ||
                      admctl_opt(argc, argv, &i, "--nats-ca", &a->ca) ||
                      admctl_opt(argc, argv, &i, "--nats-ack-wait", &a->ack_wait)))
            continue;
        admctl_submit_usage(stderr, fleet);
        if (fleet && (!strncmp(argv[i], "--up", 4) || !strncmp(argv[i], "--input", 7)))
            admctl_fail("%s: '%s': fleet job messages carry one-stage jobs (no --upsampler, --input)", cmd, argv[i]);
        else
            admctl_fail("%s: unexpected argument '%s'", cmd, argv[i]);
        return ADMCTL_USAGE;
    }
    if (!model) { admctl_submit_usage(stderr, fleet); admctl_fail("%s: --model is required (see admctl model list)", cmd); return ADMCTL_USAGE; }
    if (fleet && !a->nats) { admctl_submit_usage(stderr, fleet); admctl_fail("%s: --nats URL is required", cmd); return ADMCTL_USAGE; }

    adm_spool_request *rq = &a->r;
    adm_spool_request_init(rq);
    adm_spool_stages_init(&a->st);
    double v;
    if (admctl_classes_numeric(klass)) {
        a->n_classes = admctl_parse_classes(klass, a->classes, 1000);
        if (a->n_classes < 0) { admctl_fail("--class: %s", adm_last_error()); return ADMCTL_USAGE; }
    } else if (fleet) {
        admctl_fail("%s: --class '%s': give class numbers (names are looked up in a spool's models)", cmd, klass);
        return ADMCTL_USAGE;
    } else {
        a->class_names = klass;      /* looked up in the model's names once the spool is open */
    }
    if (strlen(model) >= sizeof rq->model) { admctl_fail("--model '%s': name too long", model); return ADMCTL_USAGE; }
    snprintf(rq->model, sizeof rq->model, "%s", model);
    if (count) { if (parse_int("--count", count, -1e9, 1e9, &v)) return ADMCTL_USAGE; rq->count = (int)v; }
    if (scale) { if (parse_num("--scale", scale, -1e30, 1e30, &v)) return ADMCTL_USAGE; rq->scale = v; }
    if (eta) { if (parse_num("--eta", eta, -1e30, 1e30, &v)) return ADMCTL_USAGE; rq->eta = v; }
    if (seed) {
        /* exact 64-bit integers: daemon-chosen seeds (up to 2^63-1) can be given back */
        char *end;
        errno = 0;
        long long sv = strtoll(seed, &end, 10);
        if (end == seed || *end || errno || sv < 0) {
            admctl_fail("--seed '%s': expected a whole number from 0 to %lld", seed, (long long)INT64_MAX);
            return ADMCTL_USAGE;
        }
        rq->seed = (int64_t)sv;
        a->seed_given = 1;
    }
    if (priority) { if (parse_int("--priority", priority, -1e9, 1e9, &v)) return ADMCTL_USAGE; rq->priority = (int)v; }
    /* 0 would mean "the default" to the spool API: refuse it here */
    if (attempts) { if (parse_int("--max-attempts", attempts, 1, 100, &v)) return ADMCTL_USAGE; rq->max_attempts = (int)v; }
    if (steps) { if (parse_int("--steps", steps, -1e9, 1e9, &v)) return ADMCTL_USAGE; rq->steps = v == 0 ? -1 : (int)v; }
    if (skip) snprintf(rq->skip, sizeof rq->skip, "%s", skip);
    if (thresholding) snprintf(rq->thresholding, sizeof rq->thresholding, "%s", thresholding);
    if (sampler) snprintf(rq->sampler, sizeof rq->sampler, "%s", sampler);
    if (respacing) snprintf(rq->respacing, sizeof rq->respacing, "%s", respacing);
    if (outdir && a->n_classes > 1) { admctl_fail("--outdir names one folder: submit one class at a time with it"); return ADMCTL_USAGE; }
    if (outdir) snprintf(rq->outdir, sizeof rq->outdir, "%s", outdir);
    share_seed(a);
    return parse_stages(upsampler, up_sampler, up_respacing, up_steps, up_eta, input, count, a);
}
