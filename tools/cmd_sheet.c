/* cmd_sheet.c — `admctl sheet JOB... [--out F.png]`: a contact sheet of a
 * job's images (or several jobs'), each labelled with its class (and the
 * class's short name when the model has names) and guidance scale, decoded
 * from the PNG files the daemon recorded.  A
 * two-stage job's images come in pairs, stage 1 (enlarged to stage 2's
 * size, nearest neighbour) beside stage 2. */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "picture.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl sheet JOB... [--out F.png] [--cols N] [--title TEXT] [--db PATH]\n"
        "\n"
        "Write a contact sheet: every image of the jobs, in order, with its class (and\n"
        "its name, when the model has class names) and guidance scale under it;\n"
        "two-stage jobs: stage 1 beside stage 2 for every image.\n"
        "  --out F.png   where (default: sheet-job<FIRST>.png in the current folder)\n"
        "  --cols N      images per row (default: up to 10)\n"
        "  --title TEXT  the line above the grid (default: the jobs, model and sampler)\n"
        ADMCTL_DB_HELP);
}

/* img enlarged in place to w x h by nearest neighbour (stage-1 cells beside stage 2). */
static int enlarge(adm_image *img, int w, int h) {
    if (img->w == w && img->h == h) return 0;
    uint8_t *px = malloc((size_t)w * h * img->c);
    if (!px) return adm_error("out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * img->c,
                   img->px + ((size_t)(y * img->h / h) * img->w + (size_t)(x * img->w / w)) * img->c, (size_t)img->c);
    free(img->px);
    img->px = px;
    img->w = w;
    img->h = h;
    return 0;
}

int admctl_sheet_jobs(adm_spool *s, const int64_t *ids, int n, const char *out, int cols, const char *title,
                      int *images) {
    int cap = 0, total = 0, missing = 0, rc = 0;
    adm_image *imgs = NULL;
    adm_sheet_cell *cells = NULL;
    char (*labels)[32 + ADMCTL_CELL_NAME] = NULL;
    char auto_title[256 + ADM_LABEL_MAX];
    adm_spool_job first;
    adm_labels names = {0}, first_names = {0};
    if (images) *images = 0;
    for (int k = 0; k < n; k++) {
        adm_spool_job j;
        adm_spool_output *outs = NULL, *s1 = NULL;
        adm_spool_stages st;
        int m = 0, n1 = 0;
        if (adm_spool_job_get(s, ids[k], &j) != 0 || adm_spool_outputs(s, ids[k], &outs, &m) != 0) { rc = -1; goto done; }
        if (adm_spool_stages_get(s, ids[k], &st) != 0 ||
            (st.upsampler[0] && adm_spool_stage1_outputs(s, ids[k], &s1, &n1) != 0)) { free(outs); rc = -1; goto done; }
        int pairs = st.upsampler[0] != 0;
        adm_labels_free(&names);
        if (admctl_load_labels(s, j.req.model, &names) != 0) memset(&names, 0, sizeof names);   /* a model since removed */
        if (k == 0) { first = j; admctl_load_labels(s, j.req.model, &first_names); }
        if (m == 0) fprintf(stderr, "admctl: job %lld has no images yet (%s)\n", (long long)ids[k], j.state);
        if (total + 2 * m > cap) {
            cap = (total + 2 * m) * 2;
            void *a = realloc(imgs, (size_t)cap * sizeof *imgs), *b = realloc(cells, (size_t)cap * sizeof *cells);
            void *c = realloc(labels, (size_t)cap * sizeof *labels);
            if (a) imgs = a;
            if (b) cells = b;
            if (c) labels = c;
            if (!a || !b || !c) { free(outs); free(s1); rc = adm_error("out of memory for %d images", cap); goto done; }
        }
        for (int i = 0; i < m; i++) {
            const adm_spool_output *a = NULL;
            for (int q = 0; pairs && q < n1; q++) if (s1[q].index == outs[i].index) a = &s1[q];
            if (pairs) {                      /* stage 1 first, at stage 2's size once that is known */
                snprintf(labels[total], sizeof labels[total], "%d: stage 1", outs[i].index);
                cells[total].label = NULL;
                cells[total].img = NULL;
                memset(&imgs[total], 0, sizeof imgs[total]);
                if (!a || adm_image_load_png(a->path, &imgs[total]) != 0) {
                    fprintf(stderr, "admctl: job %lld stage-1 image %d: %s\n", (long long)ids[k], outs[i].index,
                            a ? adm_last_error() : "not recorded");
                    missing++;
                }
                total++;
            }
            adm_sheet_cell *cell = &cells[total];
            char sh[ADM_LABEL_MAX + 1];
            adm_labels_short(&names, outs[i].klass, sh, sizeof sh);
            admctl_cell_label(outs[i].klass, sh[0] ? sh : NULL, j.req.scale, labels[total], sizeof labels[total]);
            if (pairs && outs[i].klass >= 0)
                snprintf(labels[total], sizeof labels[total], "stage 2\nclass %d%s%.14s", outs[i].klass, sh[0] ? " " : "", sh);
            else if (pairs) snprintf(labels[total], sizeof labels[total], "stage 2");
            cell->label = NULL;   /* label and img point into labels[] and imgs[] once they stop moving */
            cell->img = NULL;
            if (adm_image_load_png(outs[i].path, &imgs[total]) != 0) {
                fprintf(stderr, "admctl: job %lld image %d: %s\n", (long long)ids[k], outs[i].index, adm_last_error());
                missing++;
            }
            if (pairs && imgs[total].px && imgs[total - 1].px && enlarge(&imgs[total - 1], imgs[total].w, imgs[total].h) != 0) {
                free(outs); free(s1); rc = -1; goto done;
            }
            total++;
        }
        free(outs);
        free(s1);
    }
    if (total == 0) { rc = adm_error("no images to put on a sheet"); goto done; }
    for (int i = 0; i < total; i++) {
        cells[i].img = imgs[i].px ? &imgs[i] : NULL;
        cells[i].label = labels[i];
    }
    if (!title) {
        if (n == 1) snprintf(auto_title, sizeof auto_title, "job %lld: %s, %s %.40s, seed %lld", (long long)ids[0],
                             first.req.model, first.req.sampler, first.req.respacing, (long long)first.req.seed);
        else snprintf(auto_title, sizeof auto_title, "%d jobs: %s, %s %.40s", n, first.req.model, first.req.sampler,
                      first.req.respacing);
        const char *cname = n == 1 ? adm_labels_name(&first_names, first.req.klass) : NULL;
        if (cname) {                  /* one class: its whole name above the grid */
            size_t tl = strlen(auto_title);
            snprintf(auto_title + tl, sizeof auto_title - tl, ", class %d %s", first.req.klass, cname);
        }
        title = auto_title;
    }
    adm_image sheet;
    if (adm_sheet_render(cells, total, cols > 0 ? cols : (total < 10 ? total : 10), 0, title, &sheet) != 0) { rc = -1; goto done; }
    rc = adm_image_save_png(&sheet, out);
    adm_image_free(&sheet);
    if (rc == 0 && images) *images = total;
    if (rc == 0 && missing) rc = 1;
done:
    for (int i = 0; i < total; i++) adm_image_free(&imgs[i]);
    free(imgs);
    free(cells);
    free(labels);
    adm_labels_free(&names);
    adm_labels_free(&first_names);
    return rc;
}

int cmd_sheet(int argc, char **argv) {
    const char *db = NULL, *out = NULL, *cols_s = NULL, *title = NULL;
    admctl_ids ids = {.keep_repeats = 1};
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--out", &out) ||
            admctl_opt(argc, argv, &i, "--cols", &cols_s) || admctl_opt(argc, argv, &i, "--title", &title))
            continue;
        if (argv[i][0] == '-' || admctl_ids_parse(&ids, argv[i]) != 0) {
            usage(stderr);
            admctl_fail("sheet: %s '%s'", argv[i][0] == '-' ? "unknown option" : adm_last_error(), argv[i]);
            admctl_ids_free(&ids);
            return ADMCTL_USAGE;
        }
    }
    if (ids.n == 0) { usage(stderr); admctl_fail("sheet: which job?"); return ADMCTL_USAGE; }
    int cols = 0;
    if (cols_s) {
        char *end;
        long c = strtol(cols_s, &end, 10);
        if (*end || end == cols_s || c < 1 || c > 1000) {
            admctl_ids_free(&ids);
            admctl_fail("--cols '%s': expected 1..1000", cols_s);
            return ADMCTL_USAGE;
        }
        cols = (int)c;
    }
    char def[64];
    if (!out) { snprintf(def, sizeof def, "sheet-job%lld.png", (long long)ids.v[0]); out = def; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&ids); return ADMCTL_FAIL; }
    int images = 0, rc = admctl_sheet_jobs(s, ids.v, ids.n, out, cols, title, &images);
    adm_spool_close(s);
    admctl_ids_free(&ids);
    if (rc < 0) return admctl_fail("%s", adm_last_error());
    printf("%s: %d image(s)%s\n", out, images, rc ? ", some missing (see above)" : "");
    return rc ? ADMCTL_FAIL : ADMCTL_OK;
}
