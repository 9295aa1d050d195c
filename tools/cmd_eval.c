/* cmd_eval.c — `admctl eval REF SAMPLES`: the paper's five numbers (FID,
 * sFID, Inception Score, precision, recall) of a sample set against a
 * reference batch, as guided-diffusion's evaluations/evaluator.py computes
 * them, stored in the spool's evaluations table.
 *
 * SAMPLES is an .npz (arr_0 uint8 NHWC), a folder of PNG files, or
 * --jobs LIST (the PNGs of finished spool jobs).  The features come from
 * the FID Inception when its weights are given, else from a model's noisy
 * classifier at t = 0 (featnet.h); every output names which.
 *
 * `admctl eval --ref-features R.npy --sample-features S.npy` runs the
 * metrics alone on given features (for testing against the evaluator). */
#include "admctl.h"
#include "admctl_eval.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "admctl_table.h"
#include "cl_runtime.h"
#include "evaluate.h"
#include "picture.h"
#include "npy.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl eval REF SAMPLES [--inception FILE | --classifier MODEL] [--json] [--is-split N]\n"
        "                   [--device D] [--db PATH] [--no-record]\n"
        "       admctl eval REF --jobs LIST [same options]\n"
        "       admctl eval --list [--json | --raw | --noheadings] [--db PATH]\n"
        "       admctl eval --ref-features R.npy --sample-features S.npy [--sample-softmax P.npy]\n"
        "                   [--is-split N] [--json]\n"
        "\n"
        "FID, sFID, Inception Score, precision and recall (k=3) of SAMPLES against the\n"
        "reference batch REF, computed as guided-diffusion's evaluations/evaluator.py\n"
        "does.  REF is an .npz in the evaluator's format (arr_0 uint8 N x H x W x C;\n"
        "mu, sigma, mu_s, sigma_s used for FID/sFID when present and the features come\n"
        "from the Inception).  SAMPLES is an .npz, a folder of PNGs, or --jobs LIST\n"
        "(\"3,5-9\": the images of finished jobs).\n"
        "  --inception FILE  the FID Inception weights (pytorch-fid's\n"
        "                    pt_inception-2015-12-05-6726825d.pth; default $ADMD_INCEPTION)\n"
        "  --classifier MODEL  without Inception weights: the noisy classifier of MODEL\n"
        "                    (a spool model, or the embedded 'mnist') at t=0 as the\n"
        "                    feature network; numbers comparable only with each other\n"
        "                    (default: the jobs' model, else mnist)\n"
        "  --is-split N      Inception Score split size (default 5000)\n"
        "  --json            one JSON object: fid, sfid, inception_score, precision,\n"
        "                    recall and what they were computed from (null: not available)\n"
        "  --device D        the OpenCL device for the features\n"
        "  --no-record       do not store the result in the spool's evaluations table\n"
        "                    (stored when a spool is given by --db or $ADMD_DB, or with --jobs)\n"
        "  --list            the stored evaluations, a table (ID TIME FID SFID IS PREC\n"
        "                    RECALL SAMPLES FEATURE-NET REFERENCE STATS SAMPLE-SET; STATS:\n"
        "                    npz when REF's own mu/sigma gave FID, else computed)\n"
        ADMCTL_TABLE_HELP
        ADMCTL_DB_HELP);
}

/* ---- the images ------------------------------------------------------- */

typedef struct {
    uint8_t *px;               /* n x h x w x c, owned (or pointing into batch) */
    int64_t n;
    int h, w, c;
    adm_batch batch;           /* when read from an .npz */
    int from_npz;
} image_set;

static void image_set_free(image_set *s) {
    if (s->from_npz) adm_batch_free(&s->batch);
    else free(s->px);
    memset(s, 0, sizeof *s);
}

/* Append one PNG to the set (all must share one size). */
static int add_png(image_set *s, const char *path, int64_t cap) {
    adm_image im;
    if (adm_image_load_png(path, &im) != 0) return -1;
    if (s->n == 0) { s->h = im.h; s->w = im.w; s->c = im.c; }
    else if (im.h != s->h || im.w != s->w || im.c != s->c) {
        adm_error("%s: %dx%dx%d, but the first image was %dx%dx%d (HxWxC): one size per sample set", path, im.h, im.w,
                  im.c, s->h, s->w, s->c);
        adm_image_free(&im);
        return -1;
    }
    size_t per = (size_t)s->h * s->w * s->c;
    if (!s->px && !(s->px = adm_malloc((size_t)cap * per))) { adm_image_free(&im); return -1; }
    memcpy(s->px + (size_t)s->n * per, im.px, per);
    s->n++;
    adm_image_free(&im);
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every *.png of a folder, in name order. */
static int load_png_dir(const char *dir, image_set *s) {
    DIR *d = opendir(dir);
    if (!d) return adm_error("%s: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcasecmp(e->d_name + l - 4, ".png") != 0) continue;
        if (n == cap) {
            char **t = realloc(names, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *t);
            if (!t) { rc = adm_error("out of memory"); break; }
            names = t;
        }
        if (!(names[n] = strdup(e->d_name))) { rc = adm_error("out of memory"); break; }
        n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) rc = adm_error("%s: no .png files in the folder", dir);
    if (rc == 0) qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; rc == 0 && i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        rc = add_png(s, p, n);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* The PNGs of finished jobs; *model gets their model (one model only). */
static int load_jobs(adm_spool *sp, const int64_t *ids, int n_ids, image_set *s, char *model, size_t mlen) {
    adm_spool_output *all = NULL;
    int n = 0, rc = 0;
    for (int q = 0; q < n_ids && rc == 0; q++) {
        adm_spool_job j;
        adm_spool_output *o = NULL;
        int m = 0;
        if (adm_spool_job_get(sp, ids[q], &j) != 0) { rc = -1; break; }
        if (strcmp(j.state, "done") != 0) { rc = adm_error("job %lld is %s, not done", (long long)ids[q], j.state); break; }
        if (q == 0) snprintf(model, mlen, "%s", j.req.model);
        else if (strcmp(model, j.req.model) != 0) {
            rc = adm_error("job %lld uses model %s, job %lld %s: evaluate one model's images at a time", (long long)ids[q],
                           j.req.model, (long long)ids[0], model);
            break;
        }
        if (adm_spool_outputs(sp, ids[q], &o, &m) != 0) { rc = -1; break; }
        adm_spool_output *t = realloc(all, (size_t)(n + m + 1) * sizeof *t);
        if (!t) { free(o); rc = adm_error("out of memory"); break; }
        all = t;
        memcpy(all + n, o, (size_t)m * sizeof *o);
        n += m;
        free(o);
    }
    if (rc == 0 && n == 0) rc = adm_error("the jobs have no images");
    for (int k = 0; rc == 0 && k < n; k++) rc = add_png(s, all[k].path, n);
    free(all);
    return rc;
}

/* SAMPLES: an .npz file or a folder of PNGs. */
static int load_samples(const char *path, image_set *s) {
    struct stat st;
    if (stat(path, &st) != 0) return adm_error("%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return load_png_dir(path, s);
    if (adm_batch_load(path, &s->batch) != 0) return -1;
    s->from_npz = 1;
    s->px = (uint8_t *)s->batch.images;
    s->n = s->batch.n; s->h = s->batch.h; s->w = s->batch.w; s->c = s->batch.c;
    return 0;
}

/* ---- progress ---------------------------------------------------------- */

static void progress(int64_t done, int64_t n, void *ctx) { admctl_counter_update(ctx, done, n); }

/* ---- output ------------------------------------------------------------ */

static json_object *jnum(double v) { return isfinite(v) ? json_object_new_double(v) : NULL; }

static void print_text(const adm_spool_evaluation *e, const char *note) {
    char v[5][32];
    const double x[5] = {e->fid, e->sfid, e->inception_score, e->precision, e->recall};
    for (int i = 0; i < 5; i++) {
        if (isfinite(x[i])) snprintf(v[i], sizeof v[i], i < 3 ? "%.4f" : "%.4f", x[i]);
        else snprintf(v[i], sizeof v[i], "n/a");
    }
    printf("reference  %s (%lld images, sha256 %.16s...)\n", e->reference, (long long)e->reference_count, e->reference_sha256);
    printf("samples    %s (%lld images)\n", e->samples, (long long)e->sample_count);
    printf("features   %s (sha256 %.16s...) on %s\n", e->feature_net, e->feature_sha256, e->device);
    if (note && *note) printf("note       %s\n", note);
    printf("FID              %s\nsFID             %s\nInception Score  %s  (splits of %lld)\nPrecision        %s\nRecall           %s\n",
           v[0], v[1], v[2], (long long)e->is_split, v[3], v[4]);
}

static json_object *eval_json(const adm_spool_evaluation *e, const char *note) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "fid", jnum(e->fid));
    json_object_object_add(o, "sfid", jnum(e->sfid));
    json_object_object_add(o, "inception_score", jnum(e->inception_score));
    json_object_object_add(o, "precision", jnum(e->precision));
    json_object_object_add(o, "recall", jnum(e->recall));
    json_object_object_add(o, "is_split", json_object_new_int64(e->is_split));
    if (e->id) json_object_object_add(o, "id", json_object_new_int64(e->id));
    if (e->reference[0]) {
        json_object_object_add(o, "reference", json_object_new_string(e->reference));
        json_object_object_add(o, "reference_sha256", json_object_new_string(e->reference_sha256));
        json_object_object_add(o, "reference_count", json_object_new_int64(e->reference_count));
        json_object_object_add(o, "reference_stats", json_object_new_string(e->reference_stats));
    }
    if (e->samples[0]) {
        json_object_object_add(o, "samples", json_object_new_string(e->samples));
        json_object_object_add(o, "sample_count", json_object_new_int64(e->sample_count));
    }
    if (e->feature_net[0]) {
        json_object_object_add(o, "feature_net", json_object_new_string(e->feature_net));
        json_object_object_add(o, "feature_sha256", json_object_new_string(e->feature_sha256));
        json_object_object_add(o, "device", json_object_new_string(e->device));
    }
    if (e->created_at[0]) json_object_object_add(o, "created_at", json_object_new_string(e->created_at));
    if (note && *note) json_object_object_add(o, "note", json_object_new_string(note));
    return o;
}

static void print_json(json_object *o) {
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

/* ---- the low-level form: metrics of given features ---------------------- */

static int read_features(const char *path, const char *what, adm_tensor *t) {
    if (adm_npy_read(path, t) != 0) return -1;
    if (t->ndim != 2 || t->shape[0] < 1 || t->shape[1] < 1 || t->shape[1] > 1 << 20) {
        adm_tensor_free(t);
        return adm_error("%s: %s must be a 2-D array [N, D]", path, what);
    }
    if (t->dtype != ADM_F32) {
        float *f = adm_tensor_f32_copy(t);
        if (!f) { adm_tensor_free(t); return -1; }
        if (t->owns_data) free(t->data);
        t->data = f; t->dtype = ADM_F32; t->owns_data = 1;
        t->nbytes = (size_t)adm_tensor_numel(t) * sizeof(float);
    }
    return 0;
}

static int eval_features(const char *rpath, const char *spath, const char *ppath, int64_t split, int json) {
    adm_tensor r = {0}, s = {0}, p = {0};
    int rc = ADMCTL_FAIL;
    if (read_features(rpath, "--ref-features", &r) != 0 || read_features(spath, "--sample-features", &s) != 0 ||
        (ppath && read_features(ppath, "--sample-softmax", &p) != 0))
        goto done;
    if (ppath && p.shape[0] != s.shape[0]) {
        adm_error("%s: %lld softmax rows for %lld sample feature rows", ppath, (long long)p.shape[0], (long long)s.shape[0]);
        goto done;
    }
    adm_features ref = {r.shape[0], (int)r.shape[1], 0, 0, r.data, NULL, NULL};
    adm_features sam = {s.shape[0], (int)s.shape[1], 0, ppath ? (int)p.shape[1] : 0, s.data, NULL, ppath ? p.data : NULL};
    adm_eval_numbers num;
    if (adm_eval_compute(&ref, NULL, &sam, NULL, split, &num) != 0) goto done;
    adm_spool_evaluation e = {0};
    e.fid = num.fid; e.sfid = num.sfid; e.inception_score = num.inception_score;
    e.precision = num.precision; e.recall = num.recall; e.is_split = split;
    if (json) print_json(eval_json(&e, NULL));
    else {
        printf("features   %s (%lld x %lld) against %s (%lld x %lld)\n", spath, (long long)s.shape[0],
               (long long)s.shape[1], rpath, (long long)r.shape[0], (long long)r.shape[1]);
        printf("FID              %.6f\n", e.fid);
        if (isfinite(e.inception_score)) printf("Inception Score  %.6f  (splits of %lld)\n", e.inception_score, (long long)split);
        printf("Precision        %.4f\nRecall           %.4f\n", e.precision, e.recall);
    }
    rc = ADMCTL_OK;
done:
    if (rc != ADMCTL_OK) admctl_fail("%s", adm_last_error());
    adm_tensor_free(&r); adm_tensor_free(&s); adm_tensor_free(&p);
    return rc;
}

/* ---- --list ------------------------------------------------------------- */

static int eval_table(const adm_spool_evaluation *e, int n, const admctl_table_opts *topt) {
    static const char *cols[] = {"ID", "TIME", "FID", "SFID", "IS", "PREC", "RECALL", "SAMPLES", "FEATURE-NET",
                                 "REFERENCE", "STATS", "SAMPLE-SET"};
    admctl_table *t = admctl_table_new(stdout, topt);
    if (!t) return ADMCTL_FAIL;
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        admctl_table_column(t, cols[k], k != 1 && k < 8 ? ADMCTL_COL_RIGHT : 0);
    for (int i = 0; i < n; i++) {
        admctl_table_row(t);
        admctl_table_cell(t, 0, "%lld", (long long)e[i].id);
        admctl_table_cell(t, 1, "%s", e[i].created_at);
        admctl_table_cell(t, 2, "%.3f", e[i].fid);
        if (isfinite(e[i].sfid)) admctl_table_cell(t, 3, "%.3f", e[i].sfid);
        else admctl_table_cell(t, 3, "n/a");
        admctl_table_cell(t, 4, "%.3f", e[i].inception_score);
        admctl_table_cell(t, 5, "%.3f", e[i].precision);
        admctl_table_cell(t, 6, "%.3f", e[i].recall);
        admctl_table_cell(t, 7, "%lld", (long long)e[i].sample_count);
        admctl_table_cell(t, 8, "%s", e[i].feature_net);
        admctl_table_cell(t, 9, "%s", e[i].reference);
        admctl_table_cell(t, 10, "%s", e[i].reference_stats);
        admctl_table_cell(t, 11, "%s", e[i].samples);
    }
    return admctl_table_print(t, 0);
}

static int list_evals(const char *db, int json, const admctl_table_opts *topt) {
    adm_spool *s = admctl_spool_open(db, ADM_SPOOL_MIGRATE);
    if (!s) return ADMCTL_FAIL;
    adm_spool_evaluation *e = NULL;
    int n = 0;
    if (adm_spool_evaluation_list(s, &e, &n) != 0) {
        adm_spool_close(s);
        return admctl_fail("%s", adm_last_error());
    }
    if (json) {
        json_object *a = json_object_new_array();
        for (int i = 0; i < n; i++) json_object_array_add(a, eval_json(&e[i], NULL));
        print_json(a);
        free(e);
        adm_spool_close(s);
        return ADMCTL_OK;
    }
    int rc = n > 0 ? eval_table(e, n, topt) : ADMCTL_OK;
    if (n == 0) fprintf(admctl_table_plain(topt) ? stderr : stdout, "(no evaluations yet: admctl eval REF SAMPLES)\n");
    free(e);
    adm_spool_close(s);
    return rc;
}

/* ---- the feature network ----------------------------------------------- */

/* The classifier of model `name`: from the spool when it has the model,
 * else the embedded default model when name is "mnist". */
static int open_classifier(adm_spool *sp, const char *name, adm_cl *cl, adm_featnet **net) {
    adm_spool_model m;
    char cpath[ADM_SPOOL_PATH], cconf[ADM_SPOOL_PATH], dir[PATH_MAX];
    const char *spec;
    if (sp && adm_spool_model_get(sp, name, &m) == 0) {
        if (!m.classifier_path[0]) return adm_error("model %s has no classifier to take features from", name);
        adm_spool_resolve(sp, m.classifier_path, cpath, sizeof cpath);
        spec = m.classifier_config;
        if (spec[0] != '-' && strchr(spec, '/')) spec = adm_spool_resolve(sp, spec, cconf, sizeof cconf);
    } else if (!strcmp(name, "mnist")) {
        if (!admctl_default_model_dir(dir, sizeof dir) || admctl_default_model(dir, &m) != 0) return -1;
        snprintf(cpath, sizeof cpath, "%s", m.classifier_path);
        snprintf(cconf, sizeof cconf, "%s", m.classifier_config);
        spec = cconf;
    } else {
        return adm_error("--classifier %s: no such model%s", name, sp ? " in the spool" : " (without a spool only the embedded 'mnist')");
    }
    return adm_featnet_classifier(net, cl, name, spec, cpath);
}

/* ---- admctl eval -------------------------------------------------------- */

void admctl_eval_fill(adm_spool_evaluation *e, const char *ref_path, const adm_batch *ref, int64_t n_samples,
                      const adm_featnet_info *fi, const char *device, int64_t is_split, const adm_eval_numbers *num,
                      double seconds) {
    snprintf(e->reference, sizeof e->reference, "%s", ref_path);
    snprintf(e->reference_sha256, sizeof e->reference_sha256, "%s", ref->sha256);
    e->reference_count = ref->n;
    snprintf(e->reference_stats, sizeof e->reference_stats, "%s", num->stats_given ? "npz" : "computed");
    e->sample_count = n_samples;
    snprintf(e->feature_net, sizeof e->feature_net, "%s", fi->name);
    snprintf(e->feature_sha256, sizeof e->feature_sha256, "%s", fi->sha256);
    snprintf(e->device, sizeof e->device, "%s", device);
    e->is_split = is_split;
    e->fid = num->fid; e->sfid = num->sfid; e->inception_score = num->inception_score;
    e->precision = num->precision; e->recall = num->recall;
    e->seconds = seconds;
}

int cmd_eval(int argc, char **argv) {
    const char *db = NULL, *inception = NULL, *classifier = NULL, *split_s = "5000", *device = NULL, *jobs_s = NULL;
    const char *rfeat = NULL, *sfeat = NULL, *sprob = NULL, *pos[2] = {NULL, NULL};
    int json = 0, list = 0, no_record = 0, npos = 0;
    admctl_table_opts topt = {0};
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--inception", &inception) ||
            admctl_opt(argc, argv, &i, "--classifier", &classifier) || admctl_opt(argc, argv, &i, "--is-split", &split_s) ||
            admctl_opt(argc, argv, &i, "--device", &device) || admctl_opt(argc, argv, &i, "--jobs", &jobs_s) ||
            admctl_opt(argc, argv, &i, "--ref-features", &rfeat) ||
            admctl_opt(argc, argv, &i, "--sample-features", &sfeat) ||
            admctl_opt(argc, argv, &i, "--sample-softmax", &sprob) || admctl_flag(argv, i, "--json", &json) ||
            admctl_flag(argv, i, "--list", &list) || admctl_flag(argv, i, "--no-record", &no_record) ||
            admctl_table_flag(argv, i, &topt))
            continue;
        if (argv[i][0] != '-' && npos < 2) { pos[npos++] = argv[i]; continue; }
        usage(stderr);
        admctl_fail("eval: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    char *end;
    long long split = strtoll(split_s, &end, 10);
    if (*end || end == split_s || split < 1) { admctl_fail("--is-split '%s': expected a split size >= 1", split_s); return ADMCTL_USAGE; }
    if (list) {
        if (npos || rfeat || sfeat || jobs_s) { admctl_fail("eval --list takes no inputs"); return ADMCTL_USAGE; }
        if (json && admctl_table_plain(&topt)) { admctl_fail("eval --list: --json or a table option, not both"); return ADMCTL_USAGE; }
        return list_evals(db, json, &topt);
    }
    if (admctl_table_plain(&topt)) {
        admctl_fail("eval: --raw and --noheadings go with --list");
        return ADMCTL_USAGE;
    }
    if (rfeat || sfeat || sprob) {
        if (!rfeat || !sfeat || npos || jobs_s || inception || classifier) {
            admctl_fail("eval: --ref-features and --sample-features go together, without REF/SAMPLES, --jobs or a feature network");
            return ADMCTL_USAGE;
        }
        return eval_features(rfeat, sfeat, sprob, split, json);
    }
    if (npos != (jobs_s ? 1 : 2)) {
        usage(stderr);
        admctl_fail(jobs_s ? "eval: REF and --jobs LIST" : "eval: REF and SAMPLES are required");
        return ADMCTL_USAGE;
    }
    if (inception && classifier) { admctl_fail("eval: --inception or --classifier, not both"); return ADMCTL_USAGE; }
    if (!inception && !classifier) {
        const char *env = getenv("ADMD_INCEPTION");
        if (env && *env) inception = env;
    }
    admctl_ids jobs = {0};
    if (jobs_s && admctl_ids_parse(&jobs, jobs_s) != 0) {
        admctl_ids_free(&jobs);
        admctl_fail("--jobs: %s", adm_last_error());
        return ADMCTL_USAGE;
    }
    const int64_t *ids = jobs.v;
    const int n_ids = jobs.n;

    const char *env_db = getenv(ADMCTL_DB_ENV);
    int want_spool = jobs_s || (db && *db) || (env_db && *env_db) || (classifier && strcmp(classifier, "mnist") != 0);
    adm_spool *sp = NULL;
    adm_batch ref = {0};
    image_set sam = {0};
    adm_cl cl;
    int cl_open = 0, rc = ADMCTL_FAIL;
    adm_featnet *net = NULL;
    adm_features rf = {0}, sf = {0};
    adm_given_stats rg = {0}, sg = {0};
    char model[ADM_SPOOL_NAME] = "mnist", note[512] = "";
    adm_spool_evaluation e = {0};
    double t0 = adm_now();

    if (want_spool && !(sp = admctl_spool_open(db, ADM_SPOOL_MIGRATE))) goto out;
    if (adm_batch_load(pos[0], &ref) != 0) goto fail;
    if (jobs_s ? load_jobs(sp, ids, n_ids, &sam, model, sizeof model) != 0 : load_samples(pos[1], &sam) != 0) goto fail;
    if (adm_cl_open(&cl, device, 0) != 0) goto fail;
    cl_open = 1;
    if (inception) {
        if (adm_featnet_inception(&net, &cl, inception) != 0) goto fail;
    } else if (open_classifier(sp, classifier ? classifier : model, &cl, &net) != 0) goto fail;
    const adm_featnet_info *fi = adm_featnet_get_info(net);
    int given = ref.mu || ref.mu_s || (sam.from_npz && (sam.batch.mu || sam.batch.mu_s));
    if (inception) {
        /* the evaluator uses a batch's own mu/sigma (mu_s/sigma_s) when it has them */
        if (adm_batch_given_stats(&ref, fi->pool_dim, fi->spatial_dim, &rg) != 0) { adm_error_prefix("%s", pos[0]); goto fail; }
        if (sam.from_npz && adm_batch_given_stats(&sam.batch, fi->pool_dim, fi->spatial_dim, &sg) != 0) {
            adm_error_prefix("%s", pos[1]);
            goto fail;
        }
        if (given)
            snprintf(note, sizeof note, "FID/sFID use the mu/sigma stored in the .npz, computed by the TensorFlow "
                     "Inception graph: they differ slightly from statistics of pytorch-fid's weights");
    } else {
        snprintf(note, sizeof note, "features of a classifier, not the FID Inception: numbers comparable only with "
                 "other evaluations by the same network");
        if (given)
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "; the .npz's own mu/sigma (Inception statistics) were not used");
    }

    admctl_counter ps;
    admctl_counter_init(&ps, stderr, "reference features", "images");
    int cached;
    if (adm_features_of_batch(net, &ref, &rf, &cached, progress, &ps) != 0) {
        adm_error_prefix("%s", pos[0]);
        goto fail;
    }
    if (cached) fprintf(stderr, "admctl: reference features of %s from the cache ($ADMD_CACHE_DIR/features)\n", pos[0]);
    admctl_counter_init(&ps, stderr, "samples features", "images");
    if ((sam.from_npz ? adm_features_of_batch(net, &sam.batch, &sf, &cached, progress, &ps)
                      : adm_features_compute(net, sam.px, sam.n, sam.h, sam.w, sam.c, &sf, progress, &ps)) != 0) {
        adm_error_prefix("samples");
        goto fail;
    }
    adm_eval_numbers num;
    if (adm_eval_compute(&rf, &rg, &sf, &sg, split, &num) != 0) goto fail;

    admctl_eval_fill(&e, pos[0], &ref, sam.n, fi, cl.device_name, split, &num, adm_now() - t0);
    if (jobs_s) snprintf(e.samples, sizeof e.samples, "jobs %s", jobs_s);
    else snprintf(e.samples, sizeof e.samples, "%s", pos[1]);
    if (sp && !no_record && adm_spool_evaluation_add(sp, &e, &e.id) != 0) goto fail;
    if (json) print_json(eval_json(&e, note));
    else {
        print_text(&e, note);
        if (e.id) printf("recorded as evaluation %lld in %s (admctl eval --list)\n", (long long)e.id, adm_spool_path(sp));
    }
    rc = ADMCTL_OK;
    goto out;
fail:
    admctl_fail("%s", adm_last_error());
out:
    adm_features_free(&rf); adm_features_free(&sf);
    adm_given_stats_free(&rg); adm_given_stats_free(&sg);
    adm_featnet_free(net);
    if (cl_open) adm_cl_close(&cl);
    image_set_free(&sam);
    adm_batch_free(&ref);
    if (sp) adm_spool_close(sp);
    admctl_ids_free(&jobs);
    return rc;
}
