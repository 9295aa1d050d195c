/* cmd_audit_stages.c — `admctl audit` of two-stage jobs and of
 * super-resolution jobs on given images (schema 008): regenerate
 *   stage 1   the base model's images from (seed, index, class), compared
 *             with the stage-1 PNGs (stage_outputs);
 *   stage 2   the upsampler's images from the recorded stage-1 PNGs (their
 *             sha256 checked first), compared with the job's outputs;
 *   chain     stage 1 regenerated in memory, its uint8 pixels straight into
 *             stage 2, compared with the outputs (the whole job from its seed);
 *   input     (given images) the upsampler on the input PNGs as they are now.
 * Every image is re-encoded with the recorded text chunks and its sha256
 * compared with the record; a difference reports the largest pixel
 * difference against the file. */
#include "admctl.h"
#include "admctl_audit.h"
#include "generate.h"
#include "job_files.h"
#include "labels.h"
#include "png_file.h"
#include "util.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const adm_spool_output *outs;       /* the records compared against (NULL: keep pixels only) */
    int n_outs, lo, count;
    const adm_spool_provenance *texts;  /* text chunks of the records */
    int stage1_text;                    /* add adm:stage 1 */
    int64_t job_id;
    uint8_t *keep;                      /* [count][h*w*c] the regenerated pixels (chain) */
    size_t per;
    int identical, checked;
    const char *what;
} regen_ctx;

static int regen_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int c) {
    regen_ctx *r = user;
    if (r->keep && index >= r->lo && index < r->lo + r->count && (size_t)h * w * c == r->per)
        memcpy(r->keep + r->per * (size_t)(index - r->lo), px, r->per);
    if (!r->outs) return 0;
    const adm_spool_output *o = NULL;
    for (int i = 0; i < r->n_outs; i++) if (r->outs[i].index == index) o = &r->outs[i];
    if (!o) return 0;
    adm_job_texts tx;
    char name[ADM_LABEL_MAX + 1];
    int named = admctl_recorded_class_name(o->path, name, sizeof name);
    if (named >= 0) adm_job_png_texts_named(&tx, r->texts, r->job_id, index, klass, named ? name : NULL);
    else adm_job_png_texts(&tx, r->texts, r->job_id, index, klass);   /* no file: the model's names now */
    if (r->stage1_text && tx.n < ADM_JOB_TEXTS) {
        snprintf(tx.buf[tx.n], sizeof tx.buf[0], "1");
        tx.t[tx.n].key = "adm:stage";
        tx.t[tx.n].value = tx.buf[tx.n];
        tx.n++;
    }
    uint8_t *data;
    size_t len;
    if (adm_png_encode(px, w, h, c, tx.t, tx.n, &data, &len) != 0) return -1;
    char sha[65];
    adm_sha256_hex(data, len, sha);
    free(data);
    r->checked++;
    if (!strcmp(sha, o->sha256)) {
        r->identical++;
        printf("  %s image %d: identical bytes (sha256 %.16s...)\n", r->what, index, o->sha256);
        return 0;
    }
    adm_png_image file;
    int max_diff = 255;
    long n_diff = (long)h * w * c;
    if (adm_png_read(o->path, &file) == 0) {
        if (file.w == w && file.h == h && file.c == c) {
            max_diff = 0; n_diff = 0;
            for (size_t k = 0; k < (size_t)h * w * c; k++) {
                int d = abs((int)file.pixels[k] - (int)px[k]);
                if (d > max_diff) max_diff = d;
                n_diff += d != 0;
            }
        }
        adm_png_free(&file);
    }
    printf("  %s image %d: DIFFERS from the record: max pixel difference %d (%ld values)\n", r->what, index, max_diff, n_diff);
    return 0;
}

/* low_res [count, C, size, size] from PNG files (sha256 checked when given). */
static int read_lows(const adm_spool_output *src, int n_src, const char *const *files, int lo, int count, int size, int C,
                     float *out) {
    for (int k = 0; k < count; k++) {
        const char *path = NULL, *want = NULL;
        if (files) path = files[lo + k];
        else for (int i = 0; i < n_src; i++) if (src[i].index == lo + k) { path = src[i].path; want = src[i].sha256; }
        if (!path) return adm_error("stage-1 image %d is not recorded", lo + k);
        char sha[65];
        if (want && (adm_sha256_file(path, sha) != 0 || strcmp(sha, want)))
            return adm_error("%s: missing or changed since it was recorded", path);
        adm_png_image img;
        if (adm_png_read(path, &img) != 0) return -1;
        int ok = img.w == size && img.h == size && img.c == C;
        if (ok) adm_low_res_from_u8(img.pixels, size, size, C, out + (size_t)k * C * size * size);
        adm_png_free(&img);
        if (!ok) return adm_error("%s is not a %dx%d image with %d channel(s)", path, size, size, C);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The PNGs of a given-images job, sorted as the daemon took them. */
/* The input PNGs now against their sizes and sha256s as admd read them
 * (job_inputs; jobs made before schema 011 have none): one line per
 * input that changed.  The number changed, or -1 on a spool error. */
static int check_inputs(adm_spool *s, int64_t job_id, char **files, int nfiles) {
    adm_spool_input *was;
    int n, changed = 0;
    if (adm_spool_job_inputs(s, job_id, &was, &n) != 0) { admctl_fail("%s", adm_last_error()); return -1; }
    if (n == 0) printf("  inputs: no sha256s recorded (a job from before schema 011): checked by regenerating only\n");
    for (int k = 0; k < n; k++) {
        char sha[65] = "(unreadable)";
        int i = was[k].index;
        if (i >= nfiles || adm_sha256_file(files[i], sha) != 0 || strcmp(sha, was[k].sha256) != 0) {
            printf("  input %d: CHANGED since the job ran: %s, sha256 %.16s... then; %s, %.16s... now\n", i, was[k].path,
                   was[k].sha256, i < nfiles ? files[i] : "(missing)", sha);
            changed++;
        }
    }
    if (n > 0 && changed == 0) printf("  inputs: %d PNG%s as the job read them (sha256)\n", n, n == 1 ? "" : "s");
    free(was);
    return changed;
}

static char **input_files(const char *in, int *n) {
    *n = 0;
    char **v = calloc(10001, sizeof *v);
    if (!v) return NULL;
    adm_png_image probe;
    if (adm_png_read(in, &probe) == 0) { adm_png_free(&probe); v[0] = strdup(in); *n = 1; return v; }
    DIR *d = opendir(in);
    if (!d) { free(v); adm_error("%s: neither a readable PNG nor a folder", in); return NULL; }
    for (struct dirent *e; (e = readdir(d)) && *n < 10000;) {
        size_t l = strlen(e->d_name);
        if (l <= 4 || (strcmp(e->d_name + l - 4, ".png") && strcmp(e->d_name + l - 4, ".PNG"))) continue;
        char p[8192];
        if (snprintf(p, sizeof p, "%s/%s", in, e->d_name) >= (int)sizeof p) continue;
        v[(*n)++] = strdup(p);
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

int admctl_audit_stages(adm_spool *s, const adm_spool_job *job, const adm_spool_provenance *prov,
                        const adm_spool_stages *st, const adm_spool_output *outs, int n_outs, int only, adm_cl *cl,
                        const char *which) {
    int want1 = !which || !strcmp(which, "1"), want2 = !which || !strcmp(which, "2"),
        chain = !which || !strcmp(which, "chain");
    int rc = ADMCTL_FAIL, identical = 0, checked = 0, n1 = 0, nfiles = 0;
    adm_spool_output *s1 = NULL;
    adm_model *base = NULL, *up = NULL;
    float *low = NULL;
    int *classes = NULL;
    uint8_t *keep = NULL;
    char **files = NULL;
    int lo = only >= 0 ? only : 0, count = only >= 0 ? 1 : job->req.count;
    if (lo >= job->req.count) { admctl_fail("job %lld has no image %d", (long long)job->id, only); goto done; }
    adm_spool_provenance p1 = *prov;        /* stage 1's text chunks: the base model's alone */
    p1.upsampler[0] = 0;
    p1.input_path[0] = 0;

    const char *up_path = st->upsampler[0] ? prov->up_unet_path : prov->unet_path;
    const char *up_cfg = st->upsampler[0] ? prov->up_unet_config : prov->unet_config;
    char sha[65];
    if (adm_sha256_file(up_path, sha) != 0) { admctl_fail("upsampler: %s", adm_last_error()); goto done; }
    const char *up_sha = st->upsampler[0] ? prov->up_unet_sha256 : prov->unet_sha256;
    printf("  %-16s %s (%s)\n", "upsampler file", strcmp(sha, up_sha) ? "DIFFERS from the recording" : "same", sha);
    adm_model_spec us = {up_path, up_cfg, NULL, NULL};
    if (!(up = adm_model_load(cl, &us))) { admctl_fail("upsampler: %s", adm_last_error()); goto done; }
    adm_model_info ui;
    adm_model_get_info(up, &ui);
    classes = malloc(sizeof *classes * (size_t)count);
    if (!classes) { admctl_fail("out of memory"); goto done; }
    for (int k = 0; k < count; k++) {
        classes[k] = job->req.klass;
        for (int i = 0; i < n_outs; i++) if (outs[i].index == lo + k) classes[k] = outs[i].klass;
    }
    adm_gen_request r2 = {
        .sampler = st->upsampler[0] ? st->up_sampler : prov->sampler,
        .respacing = st->upsampler[0] ? st->up_respacing : prov->respacing,
        .steps = st->upsampler[0] ? st->up_steps : prov->steps,
        .eta = st->upsampler[0] ? st->up_eta : prov->eta,
        .seed = (uint64_t)prov->seed, .first_index = lo, .count = count, .classes = classes, .batch = 1, .stage = 1,
    };

    if (!st->upsampler[0]) {                   /* given images: the input files as they are now */
        files = input_files(st->input_path, &nfiles);
        if (!files) { admctl_fail("input: %s", adm_last_error()); goto done; }
        if (nfiles != job->req.count) { admctl_fail("input %s holds %d PNGs now, the job had %d", st->input_path, nfiles, job->req.count); goto done; }
        if (check_inputs(s, job->id, files, nfiles) < 0) goto done;
        adm_png_image probe;
        if (adm_png_read(files[0], &probe) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
        int size = probe.w;
        adm_png_free(&probe);
        low = malloc(sizeof(float) * (size_t)count * ui.channels * size * size);
        if (!low || read_lows(NULL, 0, (const char *const *)files, lo, count, size, ui.channels, low) != 0) {
            admctl_fail("input: %s", adm_last_error()); goto done;
        }
        r2.low_res = low; r2.low_size = size;
        regen_ctx c = {outs, n_outs, lo, count, prov, 0, job->id, NULL, 0, 0, 0, "input->upsampler"};
        if (adm_generate(up, &r2, NULL, regen_image, &c) != 0) { admctl_fail("regenerate: %s", adm_last_error()); goto done; }
        identical += c.identical; checked += c.checked;
        goto summary;
    }

    /* two stages: the base model and its recorded stage-1 images */
    if (adm_spool_stage1_outputs(s, job->id, &s1, &n1) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    adm_model_spec bs = {prov->unet_path, prov->unet_config, prov->classifier_path[0] ? prov->classifier_path : NULL,
                         prov->classifier_path[0] ? prov->classifier_config : NULL};
    if (!(base = adm_model_load(cl, &bs))) { admctl_fail("model: %s", adm_last_error()); goto done; }
    adm_model_info bi;
    adm_model_get_info(base, &bi);
    int size = bi.image_size, C = bi.channels;
    size_t per = (size_t)C * size * size;
    int *c1 = malloc(sizeof *c1 * (size_t)count);
    if (!c1) { admctl_fail("out of memory"); goto done; }
    for (int k = 0; k < count; k++) {
        c1[k] = job->req.klass;
        for (int i = 0; i < n1; i++) if (s1[i].index == lo + k) c1[k] = s1[i].klass;
    }
    if (want1 || chain) {
        keep = chain ? malloc(per * (size_t)count) : NULL;
        adm_gen_request r1 = {
            .sampler = prov->sampler, .respacing = prov->respacing, .eta = prov->eta, .scale = prov->scale,
            .steps = prov->steps, .skip = prov->skip[0] ? prov->skip : NULL,
            .thresholding = prov->thresholding[0] ? prov->thresholding : NULL, .seed = (uint64_t)prov->seed,
            .first_index = lo, .count = count, .classes = c1, .batch = 1,
        };
        regen_ctx c = {want1 ? s1 : NULL, n1, lo, count, &p1, 1, job->id, keep, per, 0, 0, "stage 1"};
        if (adm_generate(base, &r1, NULL, regen_image, &c) != 0) { free(c1); admctl_fail("stage 1: %s", adm_last_error()); goto done; }
        identical += c.identical; checked += c.checked;
    }
    free(c1);
    low = malloc(sizeof(float) * per * (size_t)count);
    if (!low) { admctl_fail("out of memory"); goto done; }
    r2.low_size = size;
    r2.low_res = low;
    if (want2) {
        if (read_lows(s1, n1, NULL, lo, count, size, C, low) != 0) {
            printf("  stage 2: cannot read the stage-1 images: %s\n", adm_last_error());
            checked += count;
        } else {
            regen_ctx c = {outs, n_outs, lo, count, prov, 0, job->id, NULL, 0, 0, 0, "stage 2"};
            if (adm_generate(up, &r2, NULL, regen_image, &c) != 0) { admctl_fail("stage 2: %s", adm_last_error()); goto done; }
            identical += c.identical; checked += c.checked;
        }
    }
    if (chain && keep) {
        for (int k = 0; k < count; k++) adm_low_res_from_u8(keep + per * k, size, size, C, low + per * k);
        regen_ctx c = {outs, n_outs, lo, count, prov, 0, job->id, NULL, 0, 0, 0, "chain (seed -> stage 1 -> stage 2)"};
        if (adm_generate(up, &r2, NULL, regen_image, &c) != 0) { admctl_fail("chain: %s", adm_last_error()); goto done; }
        identical += c.identical; checked += c.checked;
    }
summary:
    printf("audit: %d of %d image%s regenerated identically (%s)\n", identical, checked, checked == 1 ? "" : "s",
           st->upsampler[0] ? (which ? which : "stage 1, stage 2 and the chain") : "given images");
    rc = identical == checked && checked > 0 ? ADMCTL_OK : ADMCTL_FAIL;
done:
    for (int i = 0; files && i < nfiles; i++) free(files[i]);
    free(files);
    free(s1);
    free(low);
    free(keep);
    free(classes);
    if (base) adm_model_free(base);
    if (up) adm_model_free(up);
    return rc;
}
