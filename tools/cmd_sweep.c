/* cmd_sweep.c — `admctl sweep --model M --scales 0,1,2,4,10`: the paper's
 * fidelity/diversity trade-off measured on the user's own model.
 *
 * One job per guidance scale, all with the same seed (so image k has the
 * same starting noise and class at every scale), then for each scale:
 *
 *   accuracy  = fraction of images the model's own classifier, at t = 0,
 *               labels as the class they were generated for
 *               (argmax_c logits(x, t=0)_c == y)
 *   diversity = mean over pairs of images of the same class of the mean
 *               absolute pixel difference, / 255 (0: identical images)
 *
 * written as a table, a chart PNG (both against scale) and one contact
 * sheet per scale.  The jobs are run by a daemon already watching the
 * spool, or with --drain by an `admd --drain` started here.
 *
 * With --jobs LIST no job is submitted: finished jobs are judged as they
 * are, grouped by their scale (the fresh-clone test judges the demo so).
 *
 * With --ref FILE (or --ref auto: the ref_batch*.npz next to the model's
 * files, as models/mnist ships one) each scale also gets the paper's
 * numbers (FID, precision, recall; admctl eval's math; features of the FID
 * Inception when $ADMD_INCEPTION names its weights, else of the model's
 * classifier at t = 0), stored in the evaluations table. */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_ids.h"
#include "admctl_eval.h"
#include "admctl_spool.h"
#include "cl_runtime.h"
#include "classifier.h"
#include "config.h"
#include "evaluate.h"
#include "picture.h"
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SWEEP_MAX 32

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl sweep --model M --scales 0,1,2,4,10 [--count N] [--class C] [--seed N]\n"
        "                    [--sampler S] [--respacing R] [--out-dir DIR] [--drain] [--device D]\n"
        "                    [--timeout SECONDS] [--db PATH]\n"
        "       admctl sweep --jobs LIST [--out-dir DIR] [--device D] [--db PATH]\n"
        "\n"
        "Submit one job per guidance scale with the same seed, wait for them, then\n"
        "measure each scale with the model's own classifier at t=0 (accuracy: the\n"
        "requested class recognised) and the mean pixel distance between images of the\n"
        "same class (diversity).  Writes DIR/sweep.png (the chart), DIR/sheet-scale-S.png\n"
        "per scale and DIR/sweep.tsv.\n"
        "  --count N       images per scale (default 20)\n"
        "  --class C       one class for every image, a number or a class name (default:\n"
        "                  random per image, the same classes at every scale)\n"
        "  --seed N        the shared seed (default 1)\n"
        "  --out-dir DIR   where the pictures go (default sweep-<model>)\n"
        "  --drain         run `admd --db PATH --drain` here instead of waiting for a\n"
        "                  running daemon (admd is looked for next to admctl, then on PATH)\n"
        "  --device D      the OpenCL device for the classifier (and admd with --drain)\n"
        "  --timeout S     give up waiting after S seconds (default: no limit)\n"
        "  --jobs LIST     judge these finished jobs (\"11-20\", \"3,5\") instead of\n"
        "                  submitting: rows are their scales (--model, --scales not needed)\n"
        "  --ref FILE      also FID, precision and recall per scale against this reference\n"
        "                  batch (.npz; \"auto\": ref_batch*.npz next to the model's UNet), with\n"
        "                  the Inception ($ADMD_INCEPTION) or else the model's classifier at t=0\n"
        ADMCTL_DB_HELP);
}

/* admd next to this admctl, else "admd" from PATH. */
static void find_admd(char *out, size_t len) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            snprintf(slash + 1, sizeof exe - (size_t)(slash + 1 - exe), "admd");
            if (access(exe, X_OK) == 0 && strlen(exe) < len) { strcpy(out, exe); return; }
        }
    }
    snprintf(out, len, "admd");
}

/* Run admd --db DB --drain [--device D]; 0 when it exited 0. */
static int run_drain(const char *db, const char *device) {
    char admd[PATH_MAX];
    find_admd(admd, sizeof admd);
    char *args[8];
    int k = 0;
    args[k++] = admd;
    args[k++] = "--db";
    args[k++] = (char *)db;
    args[k++] = "--drain";
    if (device) { args[k++] = "--device"; args[k++] = (char *)device; }
    args[k] = NULL;
    fprintf(stderr, "admctl: running %s --db %s --drain%s%s\n", admd, db, device ? " --device " : "", device ? device : "");
    pid_t pid = fork();
    if (pid < 0) return adm_error("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp(admd, args);
        fprintf(stderr, "admctl: cannot run %s: %s\n", admd, strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return adm_error("waitpid: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    if (WIFEXITED(st)) return adm_error("%s exited with status %d", admd, WEXITSTATUS(st));
    return adm_error("%s was killed by signal %d", admd, WTERMSIG(st));
}

/* Wait until every job has ended; progress on stderr. */
static int wait_jobs(adm_spool *s, const int64_t *ids, int n, double timeout) {
    double t0 = adm_now(), last = 0;
    for (;;) {
        int ended = 0, images = 0, total = 0;
        for (int k = 0; k < n; k++) {
            adm_spool_job j;
            if (adm_spool_job_get(s, ids[k], &j) != 0) return -1;
            ended += admctl_job_ended(&j);
            images += j.images_done;
            total += j.req.count;
        }
        double now = adm_now();
        if (ended == n) return 0;
        if (now - last >= 10) {
            fprintf(stderr, "admctl: sweep: %d/%d jobs ended, %d/%d images (waiting for a daemon: admd --db ...)\n",
                    ended, n, images, total);
            last = now;
        }
        if (timeout > 0 && now - t0 > timeout) return adm_error("gave up after %.0f s: %d of %d jobs still running or queued", timeout, n - ended, n);
        admctl_sleep(1.0);
    }
}

typedef struct {
    double scale;
    int64_t *jobs;             /* the jobs made at this scale */
    int n_jobs;
    int images, correct;
    double accuracy, diversity;
    int pairs;
    adm_eval_numbers num;      /* against the reference batch (have_num) */
    int have_num;
} sweep_row;

/* The reference batch and its features, when the sweep has one. */
typedef struct {
    const char *path;
    adm_batch batch;
    adm_featnet *net;
    adm_featnet_info info;     /* kept after net is freed */
    adm_features feat;
    char device[256];
} sweep_ref;

/* Classify every image of a row's jobs at t = 0 and measure diversity. */
static int measure(adm_spool *s, adm_classifier *clf, const adm_config *ccfg, sweep_row *row, sweep_ref *ref) {
    row->have_num = 0;
    row->num.fid = row->num.sfid = row->num.inception_score = row->num.precision = row->num.recall = NAN;
    adm_spool_output *outs = NULL;
    int n = 0;
    for (int q = 0; q < row->n_jobs; q++) {
        adm_spool_output *o = NULL;
        int m = 0;
        if (adm_spool_outputs(s, row->jobs[q], &o, &m) != 0) { free(outs); return -1; }
        adm_spool_output *all = realloc(outs, (size_t)(n + m + 1) * sizeof *all);
        if (!all) { free(o); free(outs); return adm_error("out of memory"); }
        outs = all;
        memcpy(outs + n, o, (size_t)m * sizeof *o);
        n += m;
        free(o);
    }
    if (n == 0) { free(outs); return adm_error("scale %g: the jobs have no images", row->scale); }
    int S = ccfg->image_size, C = ccfg->in_channels, P = S * S * C, rc = -1;
    uint8_t *px = adm_calloc((size_t)n, (size_t)P);
    float *x = adm_calloc((size_t)n, (size_t)P * sizeof(float));
    float *logits = adm_calloc((size_t)n, (size_t)ccfg->out_channels * sizeof(float));
    float *t = adm_calloc((size_t)n, sizeof(float));
    if (!px || !x || !logits || !t) goto done;
    for (int k = 0; k < n; k++) {
        adm_image im;
        if (adm_image_load_png(outs[k].path, &im) != 0) goto done;
        if (im.w != S || im.h != S || im.c != C) {
            adm_error("%s: %dx%dx%d, but the classifier takes %dx%dx%d", outs[k].path, im.w, im.h, im.c, S, S, C);
            adm_image_free(&im);
            goto done;
        }
        memcpy(px + (size_t)k * P, im.px, (size_t)P);
        /* HWC uint8 -> CHW in [-1, 1]: the inverse of the sampler's ((x+1)*127.5) */
        for (int c = 0; c < C; c++)
            for (int i = 0; i < S * S; i++)
                x[(size_t)k * P + (size_t)c * S * S + i] = im.px[(size_t)i * C + c] / 127.5f - 1.0f;
        adm_image_free(&im);
    }
    /* in batches of up to 16 */
    for (int b = 0; b < n; b += 16) {
        int B = n - b < 16 ? n - b : 16;
        if (adm_classifier_forward(clf, x + (size_t)b * P, t + b, B, logits + (size_t)b * ccfg->out_channels) != 0) goto done;
    }
    row->images = n;
    row->correct = 0;
    for (int k = 0; k < n; k++) {
        const float *l = logits + (size_t)k * ccfg->out_channels;
        int best = 0;
        for (int c = 1; c < ccfg->out_channels; c++) if (l[c] > l[best]) best = c;
        row->correct += best == outs[k].klass;
    }
    row->accuracy = (double)row->correct / n;
    double sum = 0;
    row->pairs = 0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            if (outs[a].klass != outs[b].klass) continue;
            long d = 0;
            for (int i = 0; i < P; i++) d += labs((long)px[(size_t)a * P + i] - px[(size_t)b * P + i]);
            sum += (double)d / P / 255.0;
            row->pairs++;
        }
    row->diversity = row->pairs ? sum / row->pairs : NAN;
    if (ref->net && n <= ADM_METRICS_K)
        fprintf(stderr, "admctl: sweep: scale %g has %d images; precision/recall need at least %d: no FID row\n",
                row->scale, n, ADM_METRICS_K + 1);
    else if (ref->net) {        /* the paper's numbers against the reference batch */
        adm_features f;
        if (adm_features_compute(ref->net, px, n, S, S, C, &f, NULL, NULL) != 0) goto done;
        int e = adm_eval_compute(&ref->feat, NULL, &f, NULL, ADM_METRICS_IS_SPLIT, &row->num);
        adm_features_free(&f);
        if (e != 0) { adm_error_prefix("scale %g", row->scale); goto done; }
        row->have_num = 1;
    }
    rc = 0;
done:
    free(outs); free(px); free(x); free(logits); free(t);
    return rc;
}

static int make_dir(const char *d) {
    if (mkdir(d, 0775) != 0 && errno != EEXIST) return adm_error("%s: cannot create: %s", d, strerror(errno));
    return 0;
}

static int by_scale(const void *a, const void *b) {
    const sweep_row *x = a, *y = b;
    return (x->scale > y->scale) - (x->scale < y->scale);
}

/* "3", "11-20", "1,4,9" (abbreviated) for the table. */
static void fmt_jobs(const sweep_row *r, char *buf, size_t len) {
    int contiguous = 1;
    for (int q = 1; q < r->n_jobs; q++) contiguous &= r->jobs[q] == r->jobs[q - 1] + 1;
    if (r->n_jobs == 1) snprintf(buf, len, "%lld", (long long)r->jobs[0]);
    else if (contiguous) snprintf(buf, len, "%lld-%lld", (long long)r->jobs[0], (long long)r->jobs[r->n_jobs - 1]);
    else snprintf(buf, len, "%lld,...(%d)", (long long)r->jobs[0], r->n_jobs);
}

/* --jobs: finished jobs of one model, grouped into rows by scale (ascending).
 * *ids is replaced by a copy ordered row by row (rows point into it). */
static int group_jobs(adm_spool *s, int64_t **ids, int n_ids, sweep_row *rows, int *n_rows, char *model,
                      size_t model_len, char *sampler_used, size_t su_len) {
    int n = 0;
    double *scale_of = malloc((size_t)n_ids * sizeof *scale_of);
    int64_t *sorted = malloc((size_t)n_ids * sizeof *sorted);
    if (!scale_of || !sorted) { free(scale_of); free(sorted); return adm_error("out of memory"); }
    for (int q = 0; q < n_ids; q++) {
        adm_spool_job j;
        if (adm_spool_job_get(s, (*ids)[q], &j) != 0) goto fail;
        if (strcmp(j.state, "done") != 0) { adm_error("job %lld is %s, not done", (long long)(*ids)[q], j.state); goto fail; }
        if (q == 0) {
            snprintf(model, model_len, "%s", j.req.model);
            adm_spool_sampling_text(j.req.sampler, j.req.respacing, j.req.eta, j.req.steps, j.req.skip,
                                    j.req.thresholding, sampler_used, su_len);
        } else if (strcmp(model, j.req.model) != 0) {
            adm_error("job %lld uses model %s, job %lld %s: judge one model at a time", (long long)(*ids)[q],
                      j.req.model, (long long)(*ids)[0], model);
            goto fail;
        }
        scale_of[q] = j.req.scale;
        int k = 0;
        while (k < n && rows[k].scale != j.req.scale) k++;
        if (k == n) {
            if (n == SWEEP_MAX) { adm_error("more than %d different scales", SWEEP_MAX); goto fail; }
            rows[n++].scale = j.req.scale;
        }
    }
    qsort(rows, (size_t)n, sizeof *rows, by_scale);
    int at = 0;
    for (int k = 0; k < n; k++) {
        rows[k].jobs = sorted + at;
        for (int q = 0; q < n_ids; q++)
            if (scale_of[q] == rows[k].scale) sorted[at++] = (*ids)[q];
        rows[k].n_jobs = (int)(sorted + at - rows[k].jobs);
    }
    free(scale_of);
    free(*ids);
    *ids = sorted;
    *n_rows = n;
    return 0;
fail:
    free(scale_of);
    free(sorted);
    return -1;
}

/* ref_batch*.npz in the folder of the model's UNet file (NULL: none). */
static const char *find_ref_batch(adm_spool *s, const adm_spool_model *m, char *out, size_t len) {
    char unet[ADM_SPOOL_PATH], pat[ADM_SPOOL_PATH + 32];
    adm_spool_resolve(s, m->unet_path, unet, sizeof unet);
    char *slash = strrchr(unet, '/');
    if (!slash) return NULL;
    *slash = 0;
    snprintf(pat, sizeof pat, "%s/ref_batch*.npz", unet);
    glob_t g;
    const char *found = NULL;
    if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0 && strlen(g.gl_pathv[0]) < len) {
        snprintf(out, len, "%s", g.gl_pathv[0]);
        found = out;
    }
    globfree(&g);
    return found;
}

/* One job per scale, all with the same request but the scale. */
static int submit_rows(adm_spool *s, const adm_spool_request *base, const double *scales, int n, sweep_row *rows,
                       int64_t *ids) {
    for (int k = 0; k < n; k++) {
        adm_spool_request r = *base;
        r.scale = scales[k];
        rows[k].scale = scales[k];
        rows[k].jobs = &ids[k];
        rows[k].n_jobs = 1;
        if (adm_spool_submit(s, &r, &ids[k]) != 0) return adm_error_prefix("scale %g", scales[k]);
        fprintf(stderr, "admctl: sweep: scale %g is job %lld\n", scales[k], (long long)ids[k]);
    }
    return 0;
}

/* Load the model's classifier on the device and measure every row. */
static int judge_rows(adm_spool *s, const adm_spool_model *m, const char *device, sweep_row *rows, int n, sweep_ref *ref) {
    char cpath[ADM_SPOOL_PATH], cconf[ADM_SPOOL_PATH];
    adm_spool_resolve(s, m->classifier_path, cpath, sizeof cpath);
    const char *spec = m->classifier_config;
    if (spec[0] != '-' && strchr(spec, '/')) spec = adm_spool_resolve(s, spec, cconf, sizeof cconf);
    adm_config ccfg;
    adm_tensor_set cw = {0};
    adm_cl cl;
    if (adm_config_parse(spec, ADM_KIND_CLASSIFIER, &ccfg) != 0 || adm_tensors_load(cpath, &cw) != 0) {
        adm_tensors_free(&cw);
        return -1;
    }
    if (adm_cl_open(&cl, device, 0) != 0) { adm_tensors_free(&cw); return -1; }
    adm_classifier *clf = adm_classifier_load(&cl, &ccfg, &cw);
    int rc = clf ? 0 : -1;
    int cached = 0;
    if (rc == 0 && ref->path) {
        fprintf(stderr, "admctl: sweep: features of the reference batch %s\n", ref->path);
        const char *inc = getenv("ADMD_INCEPTION");
        rc = adm_batch_load(ref->path, &ref->batch) != 0 ||
             (inc && *inc ? adm_featnet_inception(&ref->net, &cl, inc) : adm_featnet_classifier(&ref->net, &cl, m->name, spec, cpath)) != 0 ||
             adm_features_of_batch(ref->net, &ref->batch, &ref->feat, &cached, NULL, NULL) != 0 ? -1 : 0;
        snprintf(ref->device, sizeof ref->device, "%s", cl.device_name);
        if (ref->net) ref->info = *adm_featnet_get_info(ref->net);
    }
    for (int k = 0; k < n && rc == 0; k++) rc = measure(s, clf, &ccfg, &rows[k], ref);
    adm_featnet_free(ref->net);
    ref->net = NULL;
    if (clf) adm_classifier_free(clf);
    adm_cl_close(&cl);
    adm_tensors_free(&cw);
    return rc;
}

/* The table (stdout and DIR/sweep.tsv), the chart and one sheet per row. */
static int write_results(adm_spool *s, const sweep_row *rows, int n, const char *outdir, const char *model,
                         const char *class_txt, const char *sampler_used, const sweep_ref *ref) {
    char path[PATH_MAX], jobs_txt[64], title[160 + ADM_LABEL_MAX];
    if (make_dir(outdir) != 0) return -1;
    snprintf(path, sizeof path, "%s/sweep.tsv", outdir);
    FILE *tsv = fopen(path, "w");
    if (!tsv) return adm_error("%s: %s", path, strerror(errno));
    int ev = 0;
    for (int k = 0; k < n; k++) ev |= rows[k].have_num;
    fprintf(tsv, "scale\tjobs\timages\tcorrect\taccuracy\tdiversity\tpairs%s\n",
            ev ? "\tfid\tsfid\tinception_score\tprecision\trecall" : "");
    printf("%8s %12s %7s %9s %10s%s  (model %s, %s, classifier at t=0)\n", "scale", "jobs", "images", "accuracy",
           "diversity", ev ? "      FID precision  recall" : "", model, sampler_used);
    for (int k = 0; k < n; k++) {
        char dv[32];
        fmt_jobs(&rows[k], jobs_txt, sizeof jobs_txt);
        const adm_eval_numbers *q = &rows[k].num;
        fprintf(tsv, "%g\t%s\t%d\t%d\t%.4f\t%.4f\t%d", rows[k].scale, jobs_txt, rows[k].images, rows[k].correct,
                rows[k].accuracy, rows[k].diversity, rows[k].pairs);
        if (ev) fprintf(tsv, "\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f", q->fid, q->sfid, q->inception_score, q->precision, q->recall);
        fprintf(tsv, "\n");
        if (rows[k].pairs) snprintf(dv, sizeof dv, "%.4f", rows[k].diversity);
        else snprintf(dv, sizeof dv, "- (no pair)");   /* one image per class: nothing to compare */
        printf("%8g %12s %7d %8.1f%% %10s", rows[k].scale, jobs_txt, rows[k].images, 100 * rows[k].accuracy, dv);
        if (ev && rows[k].have_num) printf(" %8.3f %9.3f %7.3f", q->fid, q->precision, q->recall);
        else if (ev) printf(" %8s %9s %7s", "-", "-", "-");
        printf("\n");
        if (rows[k].have_num) {               /* the evaluations table, as admctl eval --jobs would record it */
            adm_spool_evaluation e = {0};
            char list[4096] = "";
            for (int j = 0; j < rows[k].n_jobs; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%lld", j ? "," : "", (long long)rows[k].jobs[j]);
            snprintf(e.samples, sizeof e.samples, "jobs %s", list);
            admctl_eval_fill(&e, ref->path, &ref->batch, rows[k].images, &ref->info, ref->device, ADM_METRICS_IS_SPLIT, q, 0);
            if (adm_spool_evaluation_add(s, &e, &e.id) != 0) { fclose(tsv); return -1; }
        }
    }
    if (fclose(tsv) != 0) return adm_error("%s: %s", path, strerror(errno));

    double acc[SWEEP_MAX], div[SWEEP_MAX], prec[SWEEP_MAX], rec[SWEEP_MAX];
    char tick_s[SWEEP_MAX][16];
    const char *ticks[SWEEP_MAX];
    for (int k = 0; k < n; k++) {
        acc[k] = rows[k].accuracy;
        div[k] = rows[k].diversity;
        prec[k] = rows[k].num.precision;
        rec[k] = rows[k].num.recall;
        snprintf(tick_s[k], sizeof tick_s[k], "%g", rows[k].scale);
        ticks[k] = tick_s[k];
    }
    /* diversity has its own (right) axis: 0 to a round value above its largest */
    double dmax = 0;
    for (int k = 0; k < n; k++) if (isfinite(div[k]) && div[k] > dmax) dmax = div[k];
    dmax = dmax > 0 ? ceil(dmax * 1.25 * 20) / 20 : 1;
    snprintf(title, sizeof title, "%s%s: guidance sweep", model, class_txt);
    adm_chart_series series[4] = {
        {"classifier accuracy at t=0 (left axis: fraction recognised)", acc, 0x1060c0, 0},
        {"diversity (right axis: mean |a-b|/255 within a class)", div, 0xd04010, 1},
        {"precision vs the reference batch (left axis, k=3)", prec, 0x20a040, 0},
        {"recall vs the reference batch (left axis, k=3)", rec, 0x9030b0, 0},
    };
    adm_chart chart = {title, "classifier guidance scale (evenly spaced)", NULL, n, ticks, 0.0, 1.0, series, ev ? 4 : 2,
                       600, ev ? 400 : 360, 0.0, dmax};
    adm_image im;
    snprintf(path, sizeof path, "%s/sweep.png", outdir);
    if (adm_chart_render(&chart, &im) != 0) return -1;
    int rc = adm_image_save_png(&im, path);
    adm_image_free(&im);
    if (rc != 0) return -1;
    printf("chart: %s (%s)\n", path, title);
    for (int k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/sheet-scale-%g.png", outdir, rows[k].scale);
        snprintf(title, sizeof title, "%s%s, scale %g: %d/%d recognised", model, class_txt, rows[k].scale,
                 rows[k].correct, rows[k].images);
        if (admctl_sheet_jobs(s, rows[k].jobs, rows[k].n_jobs, path, 10, title, NULL) != 0) return -1;
        printf("sheet: %s\n", path);
    }
    return 0;
}

int cmd_sweep(int argc, char **argv) {
    const char *db = NULL, *model = NULL, *scales_s = NULL, *count_s = "20", *class_s = NULL, *seed_s = "1";
    const char *sampler = NULL, *respacing = NULL, *outdir = NULL, *device = NULL, *timeout_s = NULL, *jobs_s = NULL;
    const char *ref_s = NULL;
    int drain = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--model", &model) ||
            admctl_opt(argc, argv, &i, "--scales", &scales_s) || admctl_opt(argc, argv, &i, "--count", &count_s) ||
            admctl_opt(argc, argv, &i, "--class", &class_s) || admctl_opt(argc, argv, &i, "--seed", &seed_s) ||
            admctl_opt(argc, argv, &i, "--sampler", &sampler) || admctl_opt(argc, argv, &i, "--respacing", &respacing) ||
            admctl_opt(argc, argv, &i, "--out-dir", &outdir) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--timeout", &timeout_s) || admctl_opt(argc, argv, &i, "--jobs", &jobs_s) ||
            admctl_opt(argc, argv, &i, "--ref", &ref_s) ||
            admctl_flag(argv, i, "--drain", &drain))
            continue;
        usage(stderr);
        admctl_fail("sweep: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!jobs_s && (!model || !scales_s)) { usage(stderr); admctl_fail("sweep: --model and --scales are required (or --jobs)"); return ADMCTL_USAGE; }
    if (jobs_s && (scales_s || drain)) { admctl_fail("sweep: --jobs judges finished jobs: no --scales or --drain with it"); return ADMCTL_USAGE; }
    sweep_row rows[SWEEP_MAX];
    int n = 0;
    double scales[SWEEP_MAX];
    if (scales_s && (n = admctl_parse_doubles(scales_s, scales, SWEEP_MAX)) < 0) { admctl_fail("--scales: %s", adm_last_error()); return ADMCTL_USAGE; }
    char *end;
    long count = strtol(count_s, &end, 10);
    if (*end || end == count_s || count < 1 || count > 10000) { admctl_fail("--count '%s': expected 1..10000", count_s); return ADMCTL_USAGE; }
    long long seed = strtoll(seed_s, &end, 10);
    if (*end || end == seed_s || seed < 0) { admctl_fail("--seed '%s': expected an integer >= 0", seed_s); return ADMCTL_USAGE; }
    int klass = -1;
    if (class_s && admctl_classes_numeric(class_s)) {     /* a name is looked up once the model is known */
        klass = (int)strtol(class_s, &end, 10);
        if (*end || end == class_s || klass < 0) { admctl_fail("--class '%s': expected one class label", class_s); return ADMCTL_USAGE; }
    }
    double timeout = 0;
    if (timeout_s) {
        timeout = strtod(timeout_s, &end);
        if (*end || end == timeout_s || !(timeout > 0)) { admctl_fail("--timeout '%s': expected seconds > 0", timeout_s); return ADMCTL_USAGE; }
    }
    int64_t *ids = NULL;
    int n_ids = 0;
    if (jobs_s) {
        admctl_ids list = {0};
        if (admctl_ids_parse(&list, jobs_s) != 0) { admctl_ids_free(&list); admctl_fail("--jobs: %s", adm_last_error()); return ADMCTL_USAGE; }
        ids = list.v;
        n_ids = list.n;
    }
    const char *env = getenv(ADMCTL_DB_ENV);
    const char *dbpath = db && *db ? db : env && *env ? env : ADMCTL_DB_SYSTEM;

    adm_spool *s = admctl_spool_open(db, ADM_SPOOL_MIGRATE);
    if (!s) { free(ids); return ADMCTL_FAIL; }
    int rc = ADMCTL_FAIL;
    adm_spool_model m;
    sweep_ref ref = {0};
    char ref_buf[ADM_SPOOL_PATH];
    char sampler_used[2 * ADM_SPOOL_SPEC] = "", outbuf[ADM_SPOOL_NAME + 16], model_buf[ADM_SPOOL_NAME];
    char class_txt[ADM_LABEL_MAX + 32] = "";
    adm_labels names = {0};

    /* the jobs: those given, or one per scale (submitted, then run or waited for) */
    if (jobs_s) {
        if (group_jobs(s, &ids, n_ids, rows, &n, model_buf, sizeof model_buf, sampler_used, sizeof sampler_used) != 0)
            goto fail;
        model = model_buf;
    }
    if (adm_spool_model_get(s, model, &m) != 0) goto fail;
    if (!m.classifier_path[0]) { adm_error("model %s has no classifier: a sweep needs one to guide and to judge", model); goto fail; }
    if (admctl_load_labels(s, model, &names) != 0) goto fail;
    if (class_s && !admctl_classes_numeric(class_s) && adm_labels_find(&names, class_s, model, &klass) != 0) {
        adm_error_prefix("--class");
        goto fail;
    }
    /* the chart and sheets name the class when every job asked for the same one */
    int one_class = jobs_s ? -2 : klass;
    for (int k = 0; jobs_s && k < n_ids; k++) {
        adm_spool_job j;
        if (adm_spool_job_get(s, ids[k], &j) != 0) goto fail;
        one_class = one_class == -2 || one_class == j.req.klass ? j.req.klass : -1;
    }
    if (one_class >= 0) {
        const char *nm = adm_labels_name(&names, one_class);
        snprintf(class_txt, sizeof class_txt, ", class %d%s%s%s", one_class, nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
    }
    if (!jobs_s) {
        adm_spool_request r;
        adm_spool_request_init(&r);
        snprintf(r.model, sizeof r.model, "%s", model);
        r.klass = klass;
        r.count = (int)count;
        r.seed = seed;
        if (sampler) snprintf(r.sampler, sizeof r.sampler, "%s", sampler);
        if (respacing) snprintf(r.respacing, sizeof r.respacing, "%s", respacing);
        /* as the spool fills the job's row: a respacing alone asks for ddpm when the
         * model's default is a dpm sampler, and dpm samplers run the model's steps */
        const char *su = sampler ? sampler : respacing && !strncmp(m.default_sampler, "dpm", 3) ? "ddpm"
                                                                                           : m.default_sampler;
        if (!strncmp(su, "dpm", 3)) snprintf(sampler_used, sizeof sampler_used, "%s %d steps", su, m.default_steps);
        else snprintf(sampler_used, sizeof sampler_used, "%s %s", su, respacing ? respacing : m.default_respacing);
        if (!(ids = malloc((size_t)n * sizeof *ids))) { adm_error("out of memory"); goto fail; }
        if (submit_rows(s, &r, scales, n, rows, ids) != 0) goto fail;
        if (drain && run_drain(dbpath, device) != 0) goto fail;
        if (wait_jobs(s, ids, n, timeout) != 0) goto fail;
        for (int k = 0; k < n; k++) {
            adm_spool_job j;
            if (adm_spool_job_get(s, ids[k], &j) != 0) goto fail;
            if (strcmp(j.state, "done") != 0) {
                adm_error("job %lld (scale %g) %s: %s", (long long)ids[k], scales[k], j.state, j.error);
                goto fail;
            }
        }
    }
    if (!outdir) { snprintf(outbuf, sizeof outbuf, "sweep-%s", model); outdir = outbuf; }

    /* judge and report */
    if (ref_s && strcmp(ref_s, "auto") != 0) ref.path = ref_s;
    else if (ref_s && !(ref.path = find_ref_batch(s, &m, ref_buf, sizeof ref_buf))) {
        adm_error("--ref auto: no ref_batch*.npz next to model %s's UNet file", model);
        goto fail;
    }
    if (judge_rows(s, &m, device, rows, n, &ref) != 0 || write_results(s, rows, n, outdir, model, class_txt, sampler_used, &ref) != 0)
        goto fail;
    rc = ADMCTL_OK;
    goto done;
fail:
    admctl_fail("%s", adm_last_error());
done:
    adm_features_free(&ref.feat);
    adm_batch_free(&ref.batch);
    adm_labels_free(&names);
    if (s) adm_spool_close(s);
    free(ids);
    return rc;
}
