/* cmd_export.c — `admctl export --npz JOBS... OUT.npz`: the images of
 * finished jobs as one .npz in guided-diffusion's sample format (what its
 * evaluator and `admctl eval` read): arr_0 uint8 [N, H, W, C] and arr_1
 * int64 [N] labels (the class each image was made for; -1 for an
 * unconditional image), in job order, then image index.  Written
 * atomically; a progress bar while the PNGs are read. */
#include "admctl.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "npz.h"
#include "png_file.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl export --npz JOBS... OUT.npz [--state S] [--db PATH]\n"
        "\n"
        "Write the images of finished jobs as one .npz in the evaluator's sample format:\n"
        "arr_0 uint8 N x H x W x C, arr_1 int64 labels (the class of each image, -1 when\n"
        "unconditional), jobs in the order given, images by index.  All images must\n"
        "share one size.\n"
        "  JOBS       3, 3,5 or 5-9 (several allowed)\n"
        "  --state S  every job in state S (done)\n"
        ADMCTL_DB_HELP);
}

/* The outputs rows of the jobs, in order; every job must be done. */
static int collect(adm_spool *s, const admctl_ids *ids, adm_spool_output **all, int *n) {
    *all = NULL; *n = 0;
    for (int q = 0; q < ids->n; q++) {
        adm_spool_job j;
        adm_spool_output *o = NULL;
        int m = 0;
        if (adm_spool_job_get(s, ids->v[q], &j) != 0) return -1;
        if (strcmp(j.state, "done") != 0)
            return adm_error("job %lld is %s, not done: export takes finished jobs", (long long)ids->v[q], j.state);
        if (adm_spool_outputs(s, ids->v[q], &o, &m) != 0) return -1;
        adm_spool_output *t = realloc(*all, (size_t)(*n + m + 1) * sizeof *t);
        if (!t) { free(o); return adm_error("out of memory"); }
        *all = t;
        memcpy(*all + *n, o, (size_t)m * sizeof *o);
        *n += m;
        free(o);
    }
    return *n ? 0 : adm_error("the jobs have no images");
}

int cmd_export(int argc, char **argv) {
    const char *db = NULL, *out = NULL;
    int npz = 0;
    admctl_ids ids = {0};
    const char *states[8];
    int n_states = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        const char *st;
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--npz", &npz)) continue;
        if (admctl_opt(argc, argv, &i, "--state", &st)) {
            if (n_states < 8) states[n_states++] = st;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            usage(stderr);
            admctl_ids_free(&ids);
            admctl_fail("export: unknown option '%s'", argv[i]);
            return ADMCTL_USAGE;
        }
        if (admctl_ids_is_spec(argv[i]) && !strchr(argv[i], '.') && !strchr(argv[i], '/')) {
            if (admctl_ids_parse(&ids, argv[i]) != 0) {
                admctl_ids_free(&ids);
                admctl_fail("export: %s", adm_last_error());
                return ADMCTL_USAGE;
            }
            continue;
        }
        if (out) {
            usage(stderr);
            admctl_ids_free(&ids);
            admctl_fail("export: one output file, not '%s' and '%s'", out, argv[i]);
            return ADMCTL_USAGE;
        }
        out = argv[i];
    }
    if (!npz || !out || (ids.n == 0 && n_states == 0)) {
        usage(stderr);
        admctl_ids_free(&ids);
        admctl_fail("export: %s", !npz ? "say the format: --npz" : !out ? "where to? (OUT.npz)" : "which jobs?");
        return ADMCTL_USAGE;
    }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&ids); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    for (int k = 0; k < n_states; k++)
        if (admctl_ids_add_state(&ids, s, states[k]) != 0) { rc = admctl_fail("--state: %s", adm_last_error()); break; }
    adm_spool_output *o = NULL;
    int n = 0;
    uint8_t *px = NULL;
    int64_t *labels = NULL;
    int h = 0, w = 0, c = 0;
    if (rc == ADMCTL_OK && collect(s, &ids, &o, &n) != 0) rc = admctl_fail("export: %s", adm_last_error());
    admctl_counter bar;
    admctl_counter_init(&bar, stderr, "export", "images");
    for (int k = 0; rc == ADMCTL_OK && k < n; k++) {
        adm_png_image im;
        if (adm_png_read(o[k].path, &im) != 0) {
            rc = admctl_fail("job %lld image %d: %s", (long long)o[k].job_id, o[k].index, adm_last_error());
            break;
        }
        if (k == 0) {
            h = im.h; w = im.w; c = im.c;
            px = adm_malloc((size_t)n * h * w * c);
            labels = adm_malloc((size_t)n * sizeof *labels);
            if (!px || !labels) { adm_png_free(&im); rc = admctl_fail("%s", adm_last_error()); break; }
        } else if (im.h != h || im.w != w || im.c != c) {
            rc = admctl_fail("job %lld image %d is %dx%dx%d, the first %dx%dx%d (HxWxC): one size per file",
                             (long long)o[k].job_id, o[k].index, im.h, im.w, im.c, h, w, c);
            adm_png_free(&im);
            break;
        }
        memcpy(px + (size_t)k * h * w * c, im.pixels, (size_t)h * w * c);
        labels[k] = o[k].klass;
        adm_png_free(&im);
        admctl_counter_update(&bar, k + 1, n);
    }
    if (rc == ADMCTL_OK) {
        adm_tensor t[2] = {{.name = "arr_0", .dtype = ADM_U8, .ndim = 4, .shape = {n, h, w, c}, .data = px},
                           {.name = "arr_1", .dtype = ADM_I64, .ndim = 1, .shape = {n}, .data = labels}};
        if (adm_npz_write(out, t, 2) != 0) rc = admctl_fail("%s", adm_last_error());
        else printf("wrote %s: %d images of %dx%dx%d from %d job%s\n", out, n, h, w, c, ids.n, ids.n == 1 ? "" : "s");
    }
    free(px);
    free(labels);
    free(o);
    admctl_ids_free(&ids);
    adm_spool_close(s);
    return rc;
}
