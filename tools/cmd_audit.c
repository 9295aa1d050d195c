/* cmd_audit.c — `admctl audit --db PATH JOBS [--output N]`: check a job's
 * recorded images against their files and against a fresh regeneration.
 *
 * For every recorded image (or only image N):
 *   0. a done job: exactly `count` images recorded (indices 0..count-1)
 *   1. the file: present, its sha256 equal to the recorded one, decodes as PNG
 *   2. (unless --files-only) regenerate it on the current device from the
 *      recorded seed, index, class and sampling parameters (the job's
 *      provenance row), encode it with the same text chunks, and report
 *      "identical bytes" or the largest pixel difference against the file
 * and once per job: whether device, driver, OpenCL version, admd version,
 * kernel source hash, CLBlast version or model files differ from the
 * recording.  Two-stage and given-images jobs: cmd_audit_stages.c
 * (--stage 1, 2 or chain; default all three).  Exit 0 when every image checked is identical (or, with
 * --files-only, every file is intact), 1 otherwise, 2 on usage errors.
 */
#include "admctl.h"
#include "admctl_audit.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "generate.h"
#include "job_files.h"
#include "png_file.h"
#include "spool.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f) {
    fprintf(f, "usage: admctl audit [--db PATH] JOBS... [--state S] [--output N] [--device D] [--files-only]\n"
               "                    [--stage 1|2|chain]\n"
               "  regenerate a job's images from the recorded seed and parameters and compare\n"
               ADMCTL_DB_HELP
               "  JOBS          job ids: 3, 3,5 or 5-9; --state S adds every job in state S\n"
               "  --output N    only image N of the job\n"
               "  --device D    OpenCL device (default: first GPU, else first device)\n"
               "  --files-only  only check the files (present, sha256, decodes); no regeneration\n"
               "  --stage S     two-stage jobs: regenerate stage 1 (base model), stage 2 (the upsampler\n"
               "                on the recorded stage-1 PNGs) or the chain (seed -> stage 1 -> stage 2);\n"
               "                default all three\n");
    return f == stdout ? ADMCTL_OK : ADMCTL_USAGE;
}

/* One line "what: same (x)" or "what: DIFFERS: recorded "a", now "b"". */
static int compare_line(const char *what, const char *recorded, const char *now) {
    int same = !strcmp(recorded, now);
    if (same) printf("  %-16s same (%s)\n", what, now[0] ? now : "-");
    else printf("  %-16s DIFFERS: recorded \"%s\", now \"%s\"\n", what, recorded, now);
    return same ? 0 : 1;
}

/* What each recorded image is checked against. */
typedef struct {
    const adm_spool_output *out;
    adm_png_image file;          /* decoded file (pixels NULL if unreadable) */
    int file_ok;                 /* present, sha256 matches, decodes */
    int regenerated;             /* set by the image callback */
    int identical;               /* same bytes as recorded */
    int max_diff;
    long n_diff;
} audit_image;

typedef struct {
    audit_image *imgs;
    int n;
    const adm_spool_provenance *prov;
    int64_t job_id;
    admctl_counter bar;          /* progress in image-steps, on stderr */
} audit_ctx;

/* Progress: the images finished plus the running pass's share, in steps. */
static int on_step(void *user, int step, int total, int images_done, int images_total) {
    audit_ctx *a = user;
    int left = images_total - images_done, batch = a->prov->batch > 0 ? a->prov->batch : left;
    int pass = batch < left ? batch : left;
    admctl_counter_update(&a->bar, (int64_t)images_done * total + (int64_t)pass * step, (int64_t)images_total * total);
    return 0;
}

static int on_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    audit_ctx *a = user;
    for (int i = 0; i < a->n; i++) {
        audit_image *im = &a->imgs[i];
        if (im->out->index != index) continue;
        im->regenerated = 1;
        adm_job_texts tx;
        if (im->file.pixels)        /* the class name as the file has it (or none, as in files made before names) */
            adm_job_png_texts_named(&tx, a->prov, a->job_id, index, klass, adm_png_text_get(&im->file, "adm:class-name"));
        else
            adm_job_png_texts(&tx, a->prov, a->job_id, index, klass);
        uint8_t *data;
        size_t len;
        if (adm_png_encode(px, w, h, c, tx.t, tx.n, &data, &len) != 0) return -1;
        char sha[65];
        adm_sha256_hex(data, len, sha);
        free(data);
        im->identical = !strcmp(sha, im->out->sha256);
        if (im->file.pixels && im->file.w == w && im->file.h == h && im->file.c == c) {
            size_t n = (size_t)w * h * c;
            for (size_t k = 0; k < n; k++) {
                int d = abs((int)im->file.pixels[k] - (int)px[k]);
                if (d > im->max_diff) im->max_diff = d;
                if (d) im->n_diff++;
            }
        } else {
            im->max_diff = 255;   /* nothing comparable on disk */
            im->n_diff = (long)w * h * c;
        }
    }
    return 0;
}

/* Audit one job (see the header); ADMCTL_OK when every image checked is identical. */
static int audit_job(adm_spool *s, int64_t job_id, int only, const char *device, int files_only, const char *stage) {
    int rc = ADMCTL_FAIL;
    adm_spool_job job;
    adm_spool_provenance prov;
    adm_spool_output *outs = NULL;
    audit_image *imgs = NULL;
    int n_outs = 0, n = 0;
    adm_cl cl;
    int cl_open = 0;
    adm_model *model = NULL;
    char *labels = NULL;
    if (adm_spool_job_get(s, job_id, &job) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    int prc = adm_spool_provenance_get(s, job_id, &prov);
    if (prc < 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (prc == 1) { admctl_fail("job %lld has no provenance record (it is %s)", (long long)job_id, job.state); goto done; }
    if (adm_spool_model_labels(s, prov.model, &labels) != 0) labels = NULL;   /* a model since removed: no names */
    prov.labels = labels;
    if (adm_spool_outputs(s, job_id, &outs, &n_outs) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    imgs = calloc((size_t)(n_outs ? n_outs : 1), sizeof *imgs);
    if (!imgs) { admctl_fail("out of memory"); goto done; }
    for (int i = 0; i < n_outs; i++)
        if (only < 0 || outs[i].index == only) imgs[n++].out = &outs[i];
    if (n == 0) {
        admctl_fail(only < 0 ? "job %lld has no recorded images" : "job %lld has no image %d", (long long)job_id, only);
        goto done;
    }
    char how[ADM_SPOOL_SPEC + 128];
    adm_spool_sampling_text(prov.sampler, prov.respacing, prov.eta, prov.steps, prov.skip, prov.thresholding, how,
                            sizeof how);
    printf("job %lld: %s, model %s, %s, scale %g, seed %lld, %d image%s recorded\n", (long long)job_id,
           job.state, prov.model, how, prov.scale, (long long)prov.seed, n_outs, n_outs == 1 ? "" : "s");

    /* 0. A done job has exactly `count` recorded images, indices 0..count-1
     * (images_done agrees): fewer or more means the record was altered. */
    int record_bad = 0;
    if (!strcmp(job.state, "done")) {
        int whole = n_outs == job.req.count && job.images_done == job.req.count;
        for (int i = 0; i < n_outs && whole; i++) if (outs[i].index != i) whole = 0;
        if (!whole) {
            printf("  job: done, but %d image%s recorded (indices %d..%d) for count %d, images_done %d: "
                   "the record is INCOMPLETE or was altered\n", n_outs, n_outs == 1 ? "" : "s",
                   n_outs ? outs[0].index : 0, n_outs ? outs[n_outs - 1].index : 0, job.req.count, job.images_done);
            record_bad = 1;
        }
    }

    /* 1. The files. */
    int files_bad = 0;
    for (int i = 0; i < n; i++) {
        audit_image *im = &imgs[i];
        char sha[65];
        if (adm_sha256_file(im->out->path, sha) != 0) {
            printf("  image %d: file MISSING or unreadable: %s\n", im->out->index, adm_last_error());
            files_bad++;
            continue;
        }
        int sha_ok = !strcmp(sha, im->out->sha256);
        int decodes = adm_png_read(im->out->path, &im->file) == 0;
        im->file_ok = sha_ok && decodes;
        if (!im->file_ok) files_bad++;
        if (files_only || !im->file_ok)
            printf("  image %d: file %s: %s%s%s\n", im->out->index, im->out->path,
                   sha_ok ? "sha256 matches" : "sha256 DIFFERS from the record",
                   decodes ? ", decodes" : ", does NOT decode: ", decodes ? "" : adm_last_error());
    }
    if (files_only) {
        printf("audit: %d of %d file%s intact\n", n - files_bad, n, n == 1 ? "" : "s");
        rc = files_bad || record_bad ? ADMCTL_FAIL : ADMCTL_OK;
        goto done;
    }

    /* 2. The environment against the recording. */
    if (adm_cl_open(&cl, device, 0) != 0) { admctl_fail("device: %s", adm_last_error()); goto done; }
    cl_open = 1;
    int env_diff = 0;
    printf("environment:\n");
    env_diff += compare_line("device", prov.device_name, cl.device_name);
    env_diff += compare_line("vendor", prov.device_vendor, cl.vendor);
    env_diff += compare_line("driver", prov.driver_version, cl.driver_version);
    env_diff += compare_line("OpenCL", prov.opencl_version, cl.cl_version);
    env_diff += compare_line("admd version", prov.admd_version, ADM_VERSION);
    env_diff += compare_line("kernel hash", prov.kernel_hash, cl.source_hash);
    env_diff += compare_line("CLBlast", prov.clblast_version, adm_clblast_version());
    char sha[65];
    if (adm_sha256_file(prov.unet_path, sha) != 0) { admctl_fail("UNet: %s", adm_last_error()); goto done; }
    env_diff += compare_line("UNet file", prov.unet_sha256, sha);
    if (prov.classifier_path[0]) {
        if (adm_sha256_file(prov.classifier_path, sha) != 0) { admctl_fail("classifier: %s", adm_last_error()); goto done; }
        env_diff += compare_line("classifier file", prov.classifier_sha256, sha);
    }

    adm_spool_stages st;
    if (adm_spool_stages_get(s, job_id, &st) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (st.upsampler[0] || st.input_path[0]) {
        rc = admctl_audit_stages(s, &job, &prov, &st, outs, n_outs, only, &cl, stage);
        if (files_bad || record_bad) rc = ADMCTL_FAIL;
        goto done;
    }

    /* 3. Regenerate the recorded indices (one contiguous range, each image
     * with its recorded class; an image depends only on seed and index). */
    adm_model_spec spec = {prov.unet_path, prov.unet_config, prov.classifier_path[0] ? prov.classifier_path : NULL,
                           prov.classifier_path[0] ? prov.classifier_config : NULL};
    model = adm_model_load(&cl, &spec);
    if (!model) { admctl_fail("model: %s", adm_last_error()); goto done; }
    int lo = imgs[0].out->index, hi = lo;
    for (int i = 0; i < n; i++) {
        if (imgs[i].out->index < lo) lo = imgs[i].out->index;
        if (imgs[i].out->index > hi) hi = imgs[i].out->index;
    }
    int *classes = malloc(sizeof *classes * (size_t)(hi - lo + 1));
    if (!classes) { admctl_fail("out of memory"); goto done; }
    for (int k = 0; k <= hi - lo; k++) classes[k] = job.req.klass;   /* indices not recorded: the job's class */
    for (int i = 0; i < n_outs; i++)
        if (outs[i].index >= lo && outs[i].index <= hi) classes[outs[i].index - lo] = outs[i].klass;
    adm_gen_request req = {
        .sampler = prov.sampler, .respacing = prov.respacing, .eta = prov.eta, .scale = prov.scale,
        .steps = prov.steps, .skip = prov.skip[0] ? prov.skip : NULL,
        .thresholding = prov.thresholding[0] ? prov.thresholding : NULL, .seed = (uint64_t)prov.seed, .first_index = lo, .count = hi - lo + 1, .classes = classes,
        .batch = prov.batch,
    };
    audit_ctx a = {imgs, n, &prov, job_id, {0}};
    admctl_counter_init(&a.bar, stderr, "regenerating", "steps");
    double t0 = adm_now();
    int grc = adm_generate(model, &req, on_step, on_image, &a);
    free(classes);
    if (grc != 0) { admctl_fail("regenerate: %s", adm_last_error()); goto done; }

    int identical = 0;
    for (int i = 0; i < n; i++) {
        audit_image *im = &imgs[i];
        int total = im->file.w * im->file.h * im->file.c;
        if (!im->regenerated) {
            printf("  image %d: not regenerated\n", im->out->index);
        } else if (im->identical && im->file_ok) {
            printf("  image %d: identical bytes (sha256 %.16s...)\n", im->out->index, im->out->sha256);
            identical++;
        } else if (im->identical) {
            identical++;
            if (im->file.pixels)
                printf("  image %d: regenerated identical to the record, but the file differs from it: "
                       "max pixel difference %d (%ld of %d values)\n", im->out->index, im->max_diff, im->n_diff, total);
            else
                printf("  image %d: regenerated identical to the record, but the file is missing or unreadable\n",
                       im->out->index);
        } else if (im->max_diff == 0 && im->file_ok) {
            printf("  image %d: same pixels, different PNG bytes (the encoder differs from the recording)\n",
                   im->out->index);
        } else {
            printf("  image %d: DIFFERS from the record: max pixel difference %d (%ld of %d values, against the file%s)\n",
                   im->out->index, im->max_diff, im->n_diff, total, im->file_ok ? "" : ", which itself differs from the record");
        }
    }
    printf("audit: %d of %d image%s regenerated identically, %d file%s differ from the record (regenerated in %.2f s)%s\n",
           identical, n, n == 1 ? "" : "s", files_bad, files_bad == 1 ? "" : "s", adm_now() - t0,
           env_diff ? "; the environment differs from the recording (see above)" : "");
    rc = identical == n && !files_bad && !record_bad ? ADMCTL_OK : ADMCTL_FAIL;
done:
    free(labels);
    for (int i = 0; i < n; i++) adm_png_free(&imgs[i].file);
    free(imgs);
    free(outs);
    if (model) adm_model_free(model);
    if (cl_open) adm_cl_close(&cl);
    return rc;
}

int cmd_audit(int argc, char **argv) {
    const char *db = NULL, *device = NULL, *output = NULL, *state = NULL, *stage = NULL;
    admctl_ids ids = {0};
    int files_only = 0;
    if (admctl_wants_help(argc, argv)) return usage(stdout);
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--device", &device) ||
            admctl_opt(argc, argv, &i, "--output", &output) || admctl_opt(argc, argv, &i, "--state", &state) ||
            admctl_opt(argc, argv, &i, "--stage", &stage) || admctl_flag(argv, i, "--files-only", &files_only))
            continue;
        if (argv[i][0] == '-') { admctl_fail("audit: unknown option '%s'", argv[i]); admctl_ids_free(&ids); return usage(stderr); }
        if (admctl_ids_parse(&ids, argv[i]) != 0) {
            admctl_fail("audit: %s", adm_last_error());
            admctl_ids_free(&ids);
            return usage(stderr);
        }
    }
    if (ids.n == 0 && !state) return usage(stderr);
    if (stage && strcmp(stage, "1") && strcmp(stage, "2") && strcmp(stage, "chain")) {
        admctl_fail("audit: --stage '%s': want 1, 2 or chain", stage);
        admctl_ids_free(&ids);
        return ADMCTL_USAGE;
    }
    int only = -1;
    if (output) {
        char *end;
        long v = strtol(output, &end, 10);
        if (*end || v < 0 || v > 1000000) {
            admctl_fail("audit: --output must be an image index");
            admctl_ids_free(&ids);
            return ADMCTL_USAGE;
        }
        only = (int)v;
    }

    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&ids); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK, bad = 0;
    if (state && admctl_ids_add_state(&ids, s, state) != 0) rc = admctl_fail("audit: %s", adm_last_error());
    if (rc == ADMCTL_OK && ids.n == 0) rc = admctl_fail("audit: no jobs in state %s", state);
    for (int k = 0; rc == ADMCTL_OK && k < ids.n; k++)
        if (audit_job(s, ids.v[k], only, device, files_only, stage) != ADMCTL_OK) bad++;
    if (rc == ADMCTL_OK && ids.n > 1) printf("audit: %d of %d jobs check out\n", ids.n - bad, ids.n);
    admctl_ids_free(&ids);
    adm_spool_close(s);
    return rc == ADMCTL_OK && bad ? ADMCTL_FAIL : rc;
}

int admctl_recorded_class_name(const char *path, char *out, size_t n) {
    adm_png_image img;
    if (adm_png_read(path, &img) != 0) return -1;
    const char *v = adm_png_text_get(&img, "adm:class-name");
    if (v) snprintf(out, n, "%s", v);
    adm_png_free(&img);
    return v != NULL;
}
