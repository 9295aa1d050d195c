/* lib_stages.c — stage 1 of two-stage jobs and the given images of
 * super-resolution jobs: the low-resolution inputs of a job's final images
 * (see lib_stages.h). */
#include "lib_stages.h"
#include "job_files.h"
#include "lib_notify.h"
#include "png_file.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ROOTS 16
#define MAX_INPUT_BYTES (64u << 20)      /* one given PNG; a bigger file is refused unread */
#define MAX_INPUT_FILES 10000            /* jobs.count's bound */

static char g_roots[MAX_ROOTS][PATH_MAX];
static int g_nroots;

int admd_stages_add_input_root(const char *dir) {
    if (g_nroots >= MAX_ROOTS) return adm_error("--input-root: at most %d folders", MAX_ROOTS);
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(dir, real) || stat(real, &st) != 0) return adm_error("--input-root %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return adm_error("--input-root %s: not a folder", dir);
    snprintf(g_roots[g_nroots++], PATH_MAX, "%s", real);
    return 0;
}

/* Is real (a realpath) one of the roots or inside one? */
static int inside_roots(const char *real) {
    for (int i = 0; i < g_nroots; i++) {
        size_t n = strlen(g_roots[i]);
        if (!strncmp(real, g_roots[i], n) && (real[n] == '/' || real[n] == 0 || !strcmp(g_roots[i], "/"))) return 1;
    }
    return 0;
}

static int fail(admd_stage_job *sj, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(admd_stage_job *sj, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sj->error, sizeof sj->error, fmt, ap);
    va_end(ap);
    adm_error("%s", sj->error);
    return -1;
}

/* ---- stage 1 ---- */

typedef struct {
    admd_stage_job *sj;
    adm_spool *s;
    const char *root;
    const adm_spool_job *job;
    const adm_spool_provenance *p;
    adm_gen_step_fn on_step;
    void *step_user;
    double last_image;        /* when the previous pass's last image was recorded */
    int batch, end_index;     /* images per pass, one past the last index */
    int pass_left;            /* images of the current pass not yet delivered */
    double pass_share;        /* the current pass's time / its images */
} stage1_ctx;

static int stage1_step(void *user, int step, int total, int done, int all) {
    stage1_ctx *c = user;
    return c->on_step ? c->on_step(c->step_user, step, total, done, all) : 0;
}

static int stage1_path(const char *root, const adm_spool_job *job, int index, char *out, size_t n) {
    char dir[ADM_SPOOL_PATH];
    if (adm_job_output_dir(root, job, dir, sizeof dir) != 0) return -1;
    int len = snprintf(out, n, "%s/job%lld-s1-%04d.png", dir, (long long)job->id, index);
    return len < 0 || (size_t)len >= n ? adm_error("stage-1 path too long") : 0;
}

/* A stage-1 image: PNG (temp, fsync, rename), then its stage_outputs row
 * and stage1_done in one transaction. */
static int stage1_image(void *user, int index, int klass, const uint8_t *px, int h, int w, int ch) {
    stage1_ctx *c = user;
    char path[ADM_SPOOL_PATH], tmp[ADM_SPOOL_PATH + 300];
    adm_spool_output o;
    memset(&o, 0, sizeof o);
    if (stage1_path(c->root, c->job, index, path, sizeof path) || adm_job_tmp_path(path, tmp, sizeof tmp)) return -1;
    adm_job_texts tx;
    adm_job_png_texts(&tx, c->p, c->job->id, index, klass);
    if (tx.n < ADM_JOB_TEXTS) {
        snprintf(tx.buf[tx.n], sizeof tx.buf[0], "1");
        tx.t[tx.n].key = "adm:stage";
        tx.t[tx.n].value = tx.buf[tx.n];
        tx.n++;
    }
    size_t bytes = 0;
    if (adm_png_save(path, tmp, px, w, h, ch, tx.t, tx.n, o.sha256, &bytes) != 0) {
        c->sj->transient = errno == ENOSPC || errno == EDQUOT || errno == EINTR;
        return -1;
    }
    o.job_id = c->job->id;
    o.index = index;
    o.seed = c->job->req.seed;
    o.klass = klass;
    snprintf(o.noise_algorithm, sizeof o.noise_algorithm, "%s", ADM_NOISE_ALGORITHM);
    snprintf(o.path, sizeof o.path, "%s", path);
    o.bytes = (int64_t)bytes;
    /* as admd's final images: the pass's time split evenly over its images */
    double now = adm_now();
    if (c->pass_left <= 0) {
        int left = c->end_index - index;
        c->pass_left = left < c->batch ? left : c->batch;
        if (c->pass_left < 1) c->pass_left = 1;
        c->pass_share = (now - c->last_image) / c->pass_left;
    }
    c->pass_left--;
    o.seconds = c->pass_share;
    int rc = adm_spool_record_stage1(c->s, &o);
    if (rc != 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", adm_last_error());
        unlink(path);                 /* not recorded: the next attempt makes it again */
        if (strstr(why, "disk is full") || strstr(why, "locked")) c->sj->transient = 1;
        if (rc == 1) c->sj->stopped = 1;
        return adm_error("%s", why);
    }
    if (c->pass_left == 0) c->last_image = adm_now();
    c->sj->stage1_images++;
    return 0;
}

/* Sample the stage-1 images not recorded yet (stage1_done .. count-1). */
static int stage1_run(admd_stage_job *sj, adm_spool *s, const char *root, const adm_spool_job *job,
                      adm_cached_model *base, const adm_spool_provenance *p, adm_gen_step_fn on_step, void *step_user) {
    const adm_spool_request *r = &job->req;
    int first = sj->st.stage1_done, n = r->count - first;
    if (n <= 0) return 0;
    int *classes = NULL;
    if (r->klass >= 0) {
        classes = adm_malloc(sizeof *classes * (size_t)n);
        if (!classes) return fail(sj, "%s", adm_last_error());
        for (int i = 0; i < n; i++) classes[i] = r->klass;
    }
    adm_gen_request req = {
        .sampler = r->sampler, .respacing = r->respacing, .eta = r->eta, .scale = r->scale,
        .steps = r->steps, .skip = r->skip[0] ? r->skip : NULL, .thresholding = r->thresholding[0] ? r->thresholding : NULL,
        .seed = (uint64_t)r->seed, .first_index = first, .count = n, .classes = classes,
        .batch = adm_generate_pass_size(sj->batch, base->info.image_size, n), .stage = 0,
    };
    stage1_ctx c = {sj, s, root, job, p, on_step, step_user, adm_now(), req.batch, first + n, 0, 0};
    double t0 = adm_now();
    adm_log(ADM_LOG_INFO, "job %lld: stage 1: %d image%s from %d with model %s", (long long)job->id, n,
            n == 1 ? "" : "s", first, base->name);
    int rc = adm_generate(base->model, &req, stage1_step, stage1_image, &c);
    sj->stage1_s += adm_now() - t0;
    free(classes);
    if (rc == 1 || sj->stopped) { sj->stopped = 1; return 1; }
    if (rc != 0) return fail(sj, "stage 1: %s", adm_last_error());
    return 0;
}

/* ---- reading low-resolution images ---- */

/* The width and height a PNG's IHDR says, before anything is decoded;
 * "not a PNG file" when the signature or IHDR is missing. */
static int png_header(const uint8_t *d, size_t len, const char *path, int *w, int *h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 || memcmp(d, sig, 8)) return adm_error("%s: not a PNG file (no PNG signature)", path);
    if (len < 24 || memcmp(d + 12, "IHDR", 4))
        return adm_error("%s: truncated PNG (%zu bytes, no complete IHDR chunk)", path, len);
    uint32_t W = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    uint32_t H = (uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23];
    *w = W > 1000000 ? 1000000 : (int)W;
    *h = H > 1000000 ? 1000000 : (int)H;
    return 0;
}

/* One low-resolution PNG into out [C, size, size] (u8/127.5 - 1), checked:
 * regular file of at most MAX_INPUT_BYTES, a PNG, size x size, C channels;
 * sha256_want: the file must still have this hash (stage-1 images). */
static int read_low_png(const char *path, int size, int C, const char *sha256_want, float *out) {
    uint8_t *data = NULL;
    size_t len = 0;
    char sha[65];
    int rc = adm_read_untrusted(path, MAX_INPUT_BYTES, &data, &len, sha);
    if (rc == 1) return adm_error("%s: reading stopped by a signal", path);
    if (rc != 0) return -1;
    if (sha256_want && strcmp(sha, sha256_want)) {
        free(data);
        return adm_error("%s changed since it was recorded (sha256 %.12s..., recorded %.12s...)", path, sha, sha256_want);
    }
    int w, h;
    if (png_header(data, len, path, &w, &h) != 0) { free(data); return -1; }
    if (w != size || h != size) {
        free(data);
        return adm_error("%s is %dx%d, the upsampler takes %dx%d images", path, w, h, size, size);
    }
    adm_png_image img;
    memset(&img, 0, sizeof img);
    rc = adm_png_decode(data, len, &img);
    free(data);
    if (rc != 0) {
        char why[512];                /* the decoder's "png: ..." (libpng's words) */
        snprintf(why, sizeof why, "%s", adm_last_error());
        return adm_error("%s: truncated or corrupt PNG (%s)", path, why);
    }
    static const char *names[5] = {"", "gray", "", "RGB", "RGBA"};
    int c = img.c;
    if (c != C) {
        adm_png_free(&img);
        return adm_error("%s is %s (%d channel%s), the upsampler takes %s", path, c >= 1 && c <= 4 ? names[c] : "?", c,
                         c == 1 ? "" : "s", C == 1 ? "gray (1 channel)" : "RGB (3 channels)");
    }
    adm_low_res_from_u8(img.pixels, size, size, C, out);
    adm_png_free(&img);
    return 0;
}

/* ---- two-stage jobs ---- */

static int two_stage(admd_stage_job *sj, adm_spool *s, adm_model_cache *cache, const char *root,
                     const adm_spool_job *job, adm_cached_model **cm, adm_spool_provenance *p,
                     adm_gen_step_fn on_step, void *step_user) {
    adm_cached_model *base = *cm;
    sj->two_stage = 1;
    if (base->info.superres)
        return fail(sj, "jobs.model %s is a super-resolution model: a two-stage job's first stage needs a base model",
                    base->name);
    int rc = stage1_run(sj, s, root, job, base, p, on_step, step_user);
    if (rc) return rc;
    int size = base->info.image_size, C = base->info.channels;
    char base_name[ADM_SPOOL_NAME];           /* the cache may evict the base model to make room */
    snprintf(base_name, sizeof base_name, "%s", base->name);
    base = NULL;

    /* the upsampler, from the cache (the base model may stay beside it) */
    adm_spool_model up;
    if (adm_spool_model_get(s, sj->st.upsampler, &up) != 0) return fail(sj, "jobs.upsampler: %s", adm_last_error());
    double load_s = 0;
    adm_cached_model *ucm = adm_model_cache_get(cache, s, &up, &load_s);
    if (!ucm) {
        if (strstr(adm_last_error(), "stopped")) { sj->stopped = 1; return 1; }
        return fail(sj, "upsampler %s: %s", up.name, adm_last_error());
    }
    if (load_s > 0 && adm_spool_model_set_info(s, up.name, up.unet_sha256[0] ? NULL : ucm->unet_sha256, NULL,
                                               ucm->info.image_size, ucm->info.channels, ucm->info.num_classes) != 0)
        adm_log(ADM_LOG_WARNING, "model %s: %s", up.name, adm_last_error());
    if (!ucm->info.superres) return fail(sj, "jobs.upsampler %s is not a super-resolution model", up.name);
    if (ucm->info.channels != C)
        return fail(sj, "jobs.upsampler %s takes %d-channel images, model %s makes %d", up.name, ucm->info.channels,
                    base_name, C);
    if ((ucm->info.small_size > 0 && ucm->info.small_size != size) || size > ucm->info.image_size)
        return fail(sj, "jobs.upsampler %s takes %dx%d images, model %s makes %dx%d", up.name,
                    ucm->info.small_size > 0 ? ucm->info.small_size : ucm->info.image_size,
                    ucm->info.small_size > 0 ? ucm->info.small_size : ucm->info.image_size, base_name, size, size);
    snprintf(p->upsampler, sizeof p->upsampler, "%s", up.name);
    snprintf(p->up_unet_path, sizeof p->up_unet_path, "%s", ucm->unet_path);
    snprintf(p->up_unet_config, sizeof p->up_unet_config, "%s", ucm->unet_config);
    snprintf(p->up_unet_sha256, sizeof p->up_unet_sha256, "%s", ucm->unet_sha256);
    snprintf(p->up_sampler, sizeof p->up_sampler, "%s", sj->st.up_sampler);
    snprintf(p->up_respacing, sizeof p->up_respacing, "%s", sj->st.up_respacing);
    p->up_steps = sj->st.up_steps;
    p->up_eta = sj->st.up_eta;
    p->up_image_size = ucm->info.image_size;
    p->up_model_load_s = load_s;

    /* stage 1's images as their PNGs say, for the final images still to make */
    adm_spool_output *outs;
    int n_out;
    if (adm_spool_stage1_outputs(s, job->id, &outs, &n_out) != 0) return fail(sj, "%s", adm_last_error());
    size_t per = (size_t)C * size * size;
    sj->low_size = size;
    sj->channels = C;
    sj->low_res = adm_malloc(sizeof(float) * per * (size_t)(sj->n > 0 ? sj->n : 1));
    sj->classes = adm_malloc(sizeof(int) * (size_t)(sj->n > 0 ? sj->n : 1));
    rc = sj->low_res && sj->classes ? 0 : fail(sj, "%s", adm_last_error());
    for (int k = 0; rc == 0 && k < sj->n; k++) {
        int index = sj->first + k;
        const adm_spool_output *o = index < n_out && outs[index].index == index ? &outs[index] : NULL;
        if (!o) { rc = fail(sj, "stage-1 image %d is not recorded", index); break; }
        if (read_low_png(o->path, size, C, o->sha256, sj->low_res + per * k) != 0)
            rc = fail(sj, "stage-1 image %d: %s", index, adm_last_error());
        sj->classes[k] = o->klass;
    }
    /* stage 1's time: its images' recorded seconds (over every attempt that made them) */
    for (int i = 0; i < n_out; i++) sj->stage1_recorded_s += outs[i].seconds;
    free(outs);
    if (rc) return rc;
    *cm = ucm;
    adm_log(ADM_LOG_INFO, "job %lld: stage 2: %d image%s from %d with upsampler %s (%dx%d -> %dx%d)", (long long)job->id,
            sj->n, sj->n == 1 ? "" : "s", sj->first, up.name, size, size, ucm->info.image_size, ucm->info.image_size);
    return 0;
}

/* ---- given images ---- */

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_png(const char *name) {
    size_t n = strlen(name);
    return n > 4 && (!strcmp(name + n - 4, ".png") || !strcmp(name + n - 4, ".PNG"));
}

/* The inputs' sizes and sha256s into job_inputs; a job resumed after a
 * restart whose inputs changed since they were first read is failed (its
 * images would mix two sets of inputs). */
static int record_inputs(admd_stage_job *sj, adm_spool *s, int64_t job_id, char **files, int nf) {
    adm_spool_input *now = adm_malloc(sizeof *now * (size_t)nf), *was = NULL;
    int nwas = 0, rc = 0;
    if (!now) return fail(sj, "out of memory");
    for (int i = 0; rc == 0 && i < nf; i++) {
        struct stat st;
        now[i].index = i;
        snprintf(now[i].path, sizeof now[i].path, "%s", files[i]);
        if (stat(files[i], &st) != 0) rc = fail(sj, "jobs.input_path: %s: %s", files[i], strerror(errno));
        else if (adm_sha256_file(files[i], now[i].sha256) != 0) rc = fail(sj, "jobs.input_path: %s", adm_last_error());
        else now[i].bytes = (int64_t)st.st_size;
    }
    if (rc == 0 && adm_spool_job_inputs(s, job_id, &was, &nwas) != 0) rc = fail(sj, "%s", adm_last_error());
    for (int k = 0; rc == 0 && k < nwas; k++) {
        const adm_spool_input *w = &was[k];
        if (w->index >= nf) rc = fail(sj, "jobs.input_path: %d input PNGs now, but input %d was recorded when the job started",
                                      nf, w->index);
        else if (strcmp(w->sha256, now[w->index].sha256) != 0 || strcmp(w->path, now[w->index].path) != 0)
            rc = fail(sj, "jobs.input_path: input %d changed since the job started (%s, sha256 %.16s... then; %s, %.16s... now)",
                      w->index, w->path, w->sha256, now[w->index].path, now[w->index].sha256);
    }
    if (rc == 0 && adm_spool_record_inputs(s, job_id, now, nf) != 0) rc = fail(sj, "%s", adm_last_error());
    free(now);
    free(was);
    return rc;
}

static int given_images(admd_stage_job *sj, adm_spool *s, const adm_spool_job *job, adm_cached_model *cm,
                        adm_spool_provenance *p) {
    const char *in = sj->st.input_path;
    snprintf(p->input_path, sizeof p->input_path, "%s", in);
    if (!cm->info.superres)
        return fail(sj, "jobs.input_path needs a super-resolution model as jobs.model (%s is not one)", cm->name);
    if (g_nroots == 0)
        return fail(sj, "jobs.input_path %s: this admd allows no input folders (start it with --input-root DIR)", in);
    char real[PATH_MAX];
    if (!realpath(in, real)) return fail(sj, "jobs.input_path %s: %s", in, strerror(errno));
    if (!inside_roots(real))
        return fail(sj, "jobs.input_path %s is outside the allowed input roots (admd --input-root)", in);
    struct stat st;
    if (stat(real, &st) != 0) return fail(sj, "jobs.input_path %s: %s", in, strerror(errno));
    char **files = NULL;
    int nf = 0, rc = 0;
    if (S_ISREG(st.st_mode)) {
        files = adm_malloc(sizeof *files);
        if (!files || !(files[0] = strdup(real))) { free(files); return fail(sj, "out of memory"); }
        nf = 1;
    } else if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(real);
        if (!d) return fail(sj, "jobs.input_path %s: %s", in, strerror(errno));
        files = adm_malloc(sizeof *files * MAX_INPUT_FILES);
        for (struct dirent *e; files && (e = readdir(d));) {
            if (!ends_png(e->d_name)) continue;
            if (nf == MAX_INPUT_FILES) { rc = fail(sj, "jobs.input_path %s holds more than %d PNG files", in, MAX_INPUT_FILES); break; }
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", real, e->d_name) >= (int)sizeof path) continue;
            if (!(files[nf] = strdup(path))) { rc = fail(sj, "out of memory"); break; }
            nf++;
        }
        closedir(d);
        if (!files) return fail(sj, "out of memory");
        qsort(files, (size_t)nf, sizeof *files, cmp_name);
    } else {
        return fail(sj, "jobs.input_path %s is %s, not a PNG file or a folder", in, adm_file_kind(st.st_mode));
    }
    if (rc == 0 && nf == 0) rc = fail(sj, "jobs.input_path %s holds no PNG files", in);
    if (rc == 0 && nf != job->req.count)
        rc = fail(sj, "jobs.count is %d, but jobs.input_path %s holds %d PNG file%s", job->req.count, in, nf, nf == 1 ? "" : "s");
    int size = cm->info.small_size > 0 ? cm->info.small_size : 0, C = cm->info.channels;
    if (rc == 0 && size == 0) {            /* the config says no small size: the first file's, checked below */
        int w, h;
        uint8_t head[32];
        FILE *f = fopen(files[0], "rb");
        size_t got = f ? fread(head, 1, sizeof head, f) : 0;
        if (f) fclose(f);
        if (png_header(head, got, files[0], &w, &h) != 0) rc = fail(sj, "%s", adm_last_error());
        else if (w != h || w > cm->info.image_size) rc = fail(sj, "%s is %dx%d: the upsampler takes square images up to %dx%d",
                                                              files[0], w, h, cm->info.image_size, cm->info.image_size);
        else size = w;
    }
    size_t per = (size_t)C * (size > 0 ? size : 1) * (size > 0 ? size : 1);
    if (rc == 0) {
        sj->low_size = size;
        sj->channels = C;
        sj->low_res = adm_malloc(sizeof(float) * per * (size_t)(sj->n > 0 ? sj->n : 1));
        float *scratch = adm_malloc(sizeof(float) * per);
        if (!sj->low_res || !scratch) rc = fail(sj, "out of memory");
        /* every file is checked (a bad one fails the job before any work); the ones still to make are kept */
        for (int i = 0; rc == 0 && i < nf; i++) {
            float *dst = i >= sj->first && i < sj->first + sj->n ? sj->low_res + per * (size_t)(i - sj->first) : scratch;
            if (read_low_png(files[i], size, C, NULL, dst) != 0) rc = fail(sj, "jobs.input_path: %s", adm_last_error());
        }
        free(scratch);
    }
    if (rc == 0) rc = record_inputs(sj, s, job->id, files, nf);
    for (int i = 0; i < nf; i++) free(files[i]);
    free(files);
    return rc;
}

int admd_stages_begin(admd_stage_job *sj, adm_spool *s, adm_model_cache *cache, const char *root,
                      const adm_spool_job *job, adm_cached_model **cm, adm_spool_provenance *p,
                      adm_gen_step_fn on_step, void *step_user) {
    int batch = sj->batch;
    memset(sj, 0, sizeof *sj);
    sj->batch = batch;
    if (adm_spool_stages_get(s, job->id, &sj->st) != 0) return fail(sj, "%s", adm_last_error());
    if (!sj->st.upsampler[0] && !sj->st.input_path[0]) {
        if ((*cm)->info.superres)
            return fail(sj, "jobs.model %s is a super-resolution model: give it low-resolution images "
                            "(jobs.input_path) or use it as jobs.upsampler", (*cm)->name);
        return 0;
    }
    sj->active = 1;
    sj->first = job->images_done;
    sj->n = job->req.count - job->images_done;
    if (sj->st.upsampler[0]) return two_stage(sj, s, cache, root, job, cm, p, on_step, step_user);
    return given_images(sj, s, job, *cm, p);
}

void admd_stages_request(const admd_stage_job *sj, adm_gen_request *req) {
    if (!sj->active) return;
    int k = req->first_index - sj->first;
    req->low_res = sj->low_res + (size_t)k * sj->channels * sj->low_size * sj->low_size;
    req->low_size = sj->low_size;
    req->stage = 1;                       /* the upsampler's Philox stream (ADM_NOISE_SLOT_STAGE) */
    req->scale = 0;                       /* upsamplers sample unguided */
    if (sj->two_stage) {
        req->sampler = sj->st.up_sampler;
        req->respacing = sj->st.up_respacing;
        req->steps = sj->st.up_steps;
        req->eta = sj->st.up_eta;
        req->skip = NULL;
        req->thresholding = NULL;
        req->classes = sj->classes + k;
    }
}

void admd_stages_end(admd_stage_job *sj, adm_spool_provenance *p) {
    if (!sj->two_stage) return;
    p->stage2_steps_s = p->steps_s;
    p->stage1_steps_s = sj->stage1_recorded_s;
    p->steps_s += sj->stage1_s;
}

void admd_stages_free(admd_stage_job *sj) {
    free(sj->low_res);
    free(sj->classes);
    sj->low_res = NULL;
    sj->classes = NULL;
}
