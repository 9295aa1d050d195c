/* evaluate.c — reference batches, feature sets and the five numbers
 * (see evaluate.h). */
#include "evaluate.h"
#include "npz.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int adm_batch_load(const char *path, adm_batch *b) {
    memset(b, 0, sizeof *b);
    if (adm_npz_read(path, &b->set) != 0) return -1;
    const adm_tensor *a = adm_tensors_find(&b->set, "arr_0");
    if (!a) { adm_batch_free(b); return adm_error("%s: no arr_0 (the images) in the .npz", path); }
    if (a->dtype != ADM_U8 || a->ndim != 4 || a->shape[0] < 1 || a->shape[1] < 1 || a->shape[2] < 1 ||
        !(a->shape[3] == 1 || a->shape[3] == 3) || a->shape[1] > 65536 || a->shape[2] > 65536) {
        char shp[128] = "";
        for (int i = 0; i < a->ndim; i++)
            snprintf(shp + strlen(shp), sizeof shp - strlen(shp), "%s%lld", i ? "x" : "", (long long)a->shape[i]);
        adm_error("%s: arr_0 is %s %s; expected uint8 images N x H x W x C with C 1 or 3", path,
                  adm_dtype_name(a->dtype), shp);
        adm_batch_free(b);
        return -1;
    }
    b->images = a->data;
    b->n = a->shape[0];
    b->h = (int)a->shape[1]; b->w = (int)a->shape[2]; b->c = (int)a->shape[3];
    b->mu = adm_tensors_find(&b->set, "mu");
    b->sigma = adm_tensors_find(&b->set, "sigma");
    b->mu_s = adm_tensors_find(&b->set, "mu_s");
    b->sigma_s = adm_tensors_find(&b->set, "sigma_s");
    b->labels = adm_tensors_find(&b->set, "labels");
    if (b->labels && (b->labels->ndim != 1 || b->labels->shape[0] != b->n)) {
        adm_batch_free(b);
        return adm_error("%s: labels must be one per image (%lld)", path, (long long)b->n);
    }
    if (adm_sha256_file(path, b->sha256) != 0) { adm_batch_free(b); return -1; }
    return 0;
}

void adm_batch_free(adm_batch *b) {
    adm_tensors_free(&b->set);
    memset(b, 0, sizeof *b);
}

/* A float tensor of any width as float64. */
static int to_f64(const adm_tensor *t, double *out) {
    int64_t n = adm_tensor_numel(t);
    if (t->dtype == ADM_F64) { memcpy(out, t->data, (size_t)n * sizeof *out); return 0; }
    float *f = adm_tensor_f32_copy(t);
    if (!f) return -1;
    for (int64_t i = 0; i < n; i++) out[i] = f[i];
    free(f);
    return 0;
}

static int given_one(const adm_batch *b, int spatial, int d, adm_fid_stats *out, int *have) {
    const adm_tensor *mu = spatial ? b->mu_s : b->mu, *sg = spatial ? b->sigma_s : b->sigma;
    const char *mn = spatial ? "mu_s" : "mu", *sn = spatial ? "sigma_s" : "sigma";
    memset(out, 0, sizeof *out);
    *have = 0;
    if (!mu && !sg) return 0;
    if (!mu || !sg) return adm_error("the reference batch has %s without %s", mu ? mn : sn, mu ? sn : mn);
    if (mu->ndim != 1 || mu->shape[0] != d || sg->ndim != 2 || sg->shape[0] != d || sg->shape[1] != d)
        return adm_error("the reference batch's %s/%s are for %lld-wide features; this feature network gives %d",
                         mn, sn, (long long)mu->shape[0], d);
    double *m = adm_malloc((size_t)d * sizeof *m), *s = adm_malloc((size_t)d * d * sizeof *s);
    if (!m || !s || to_f64(mu, m) != 0 || to_f64(sg, s) != 0) { free(m); free(s); return -1; }
    adm_fid_stats_wrap(out, d, m, s);
    *have = 1;
    return 0;
}

int adm_batch_given_stats(const adm_batch *b, int pool_dim, int spatial_dim, adm_given_stats *g) {
    memset(g, 0, sizeof *g);
    if (given_one(b, 0, pool_dim, &g->pool, &g->have_pool) != 0 ||
        (spatial_dim && given_one(b, 1, spatial_dim, &g->spatial, &g->have_spatial) != 0)) {
        adm_given_stats_free(g);
        return -1;
    }
    return 0;
}

void adm_given_stats_free(adm_given_stats *g) {
    adm_fid_stats_free(&g->pool);
    adm_fid_stats_free(&g->spatial);
    memset(g, 0, sizeof *g);
}

int adm_features_compute(adm_featnet *net, const uint8_t *images, int64_t n, int h, int w, int c, adm_features *out,
                         adm_featnet_progress progress, void *ctx) {
    const adm_featnet_info *in = adm_featnet_get_info(net);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->pool_dim = in->pool_dim; out->spatial_dim = in->spatial_dim; out->classes = in->classes;
    out->pool = adm_malloc((size_t)n * in->pool_dim * sizeof(float));
    out->spatial = in->spatial_dim ? adm_malloc((size_t)n * in->spatial_dim * sizeof(float)) : NULL;
    out->softmax = adm_malloc((size_t)n * in->classes * sizeof(float));
    if (!out->pool || (in->spatial_dim && !out->spatial) || !out->softmax ||
        adm_featnet_run(net, images, n, h, w, c, out->pool, out->spatial, out->softmax, progress, ctx) != 0) {
        adm_features_free(out);
        return -1;
    }
    return 0;
}

/* ---- the feature cache: features of a batch file by a network ---------- */

/* $cache/features/<sha256(batch sha256, network sha256, network name)>.npz;
 * -1 when there is no cache folder (features are then computed every time). */
static int cache_path(const adm_batch *b, const adm_featnet_info *in, char *out, size_t n) {
    char key[512], h[65], dir[3800];
    out[0] = 0;
    if (adm_cache_dir(dir, sizeof dir) != 0) return -1;
    snprintf(key, sizeof key, "%s %s %s %d %d %d", b->sha256, in->sha256, in->name, in->pool_dim, in->spatial_dim,
             in->classes);
    adm_sha256_hex(key, strlen(key), h);
    snprintf(out, n, "%s/features/%s.npz", dir, h);
    return 0;
}

/* Take member `name` [n, d] (f32) out of the set; 0 when it fits. */
static int cache_take(adm_tensor_set *s, const char *name, int64_t n, int d, float **out) {
    *out = NULL;
    if (d == 0) return 0;
    for (int i = 0; i < s->n; i++) {
        adm_tensor *t = &s->t[i];
        if (strcmp(t->name, name) != 0) continue;
        if (t->dtype != ADM_F32 || t->ndim != 2 || t->shape[0] != n || t->shape[1] != d || !t->owns_data) return -1;
        *out = t->data;
        t->owns_data = 0;
        return 0;
    }
    return -1;
}

int adm_features_of_batch(adm_featnet *net, const adm_batch *b, adm_features *out, int *cached,
                          adm_featnet_progress progress, void *ctx) {
    const adm_featnet_info *in = adm_featnet_get_info(net);
    char path[4096];
    adm_tensor_set s;
    int have_cache = cache_path(b, in, path, sizeof path) == 0;
    *cached = 0;
    if (!have_cache) fprintf(stderr, "note: features not cached: %s\n", adm_last_error());
    if (have_cache && access(path, R_OK) == 0 && adm_npz_read(path, &s) == 0) {
        memset(out, 0, sizeof *out);
        out->n = b->n;
        out->pool_dim = in->pool_dim; out->spatial_dim = in->spatial_dim; out->classes = in->classes;
        int ok = cache_take(&s, "pool", b->n, in->pool_dim, &out->pool) == 0 &&
                 cache_take(&s, "spatial", b->n, in->spatial_dim, &out->spatial) == 0 &&
                 cache_take(&s, "softmax", b->n, in->classes, &out->softmax) == 0;
        adm_tensors_free(&s);
        if (ok) { *cached = 1; return 0; }
        adm_features_free(out);               /* a stale or foreign file: recompute */
    }
    if (adm_features_compute(net, b->images, b->n, b->h, b->w, b->c, out, progress, ctx) != 0) return -1;
    if (!have_cache) return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    adm_tensor t[3] = {{.name = "pool", .dtype = ADM_F32, .ndim = 2, .shape = {b->n, in->pool_dim}, .data = out->pool},
                       {.name = "softmax", .dtype = ADM_F32, .ndim = 2, .shape = {b->n, in->classes}, .data = out->softmax},
                       {.name = "spatial", .dtype = ADM_F32, .ndim = 2, .shape = {b->n, in->spatial_dim}, .data = out->spatial}};
    /* a cache that cannot be written costs time, not the result */
    if (adm_mkdir_p(dir, 0775) != 0 || adm_npz_write(path, t, in->spatial_dim ? 3 : 2) != 0)
        fprintf(stderr, "note: features not cached: %s\n", adm_last_error());
    return 0;
}

void adm_features_free(adm_features *f) {
    free(f->pool); free(f->spatial); free(f->softmax);
    memset(f, 0, sizeof *f);
}

/* Frechet distance of one kind of features; a batch's given statistics
 * (may be NULL) take the place of those of its features. */
static int fid_of(const float *ref, int64_t n_ref, const adm_fid_stats *ref_given, const float *sam, int64_t n_sam,
                  const adm_fid_stats *sam_given, int d, double *out) {
    adm_fid_stats a = {0}, b = {0};
    int rc = (ref_given ? 0 : adm_fid_stats_compute(ref, n_ref, d, &a)) != 0 ||
             (sam_given ? 0 : adm_fid_stats_compute(sam, n_sam, d, &b)) != 0 ||
             adm_frechet_distance(sam_given ? sam_given : &b, ref_given ? ref_given : &a, out) != 0 ? -1 : 0;
    adm_fid_stats_free(&a);
    adm_fid_stats_free(&b);
    return rc;
}

int adm_eval_compute(const adm_features *ref, const adm_given_stats *ref_given, const adm_features *sam,
                     const adm_given_stats *sam_given, int64_t is_split, adm_eval_numbers *out) {
    out->fid = out->sfid = out->inception_score = out->precision = out->recall = NAN;
    const adm_fid_stats *rp = ref_given && ref_given->have_pool ? &ref_given->pool : NULL;
    const adm_fid_stats *sp = sam_given && sam_given->have_pool ? &sam_given->pool : NULL;
    const adm_fid_stats *rs = ref_given && ref_given->have_spatial ? &ref_given->spatial : NULL;
    const adm_fid_stats *ss = sam_given && sam_given->have_spatial ? &sam_given->spatial : NULL;
    out->stats_given = rp || sp || rs || ss;
    if (ref->pool_dim != sam->pool_dim)
        return adm_error("the reference features are %d wide, the sample features %d", ref->pool_dim, sam->pool_dim);
    if (fid_of(ref->pool, ref->n, rp, sam->pool, sam->n, sp, sam->pool_dim, &out->fid) != 0) return adm_error_prefix("FID");
    if (ref->spatial_dim != sam->spatial_dim)
        return adm_error("the reference spatial features are %d wide, the samples' %d", ref->spatial_dim, sam->spatial_dim);
    if (sam->spatial_dim &&
        fid_of(ref->spatial, ref->n, rs, sam->spatial, sam->n, ss, sam->spatial_dim, &out->sfid) != 0)
        return adm_error_prefix("sFID");
    if (sam->classes && sam->softmax &&
        adm_inception_score(sam->softmax, sam->n, sam->classes, is_split, &out->inception_score) != 0) return -1;
    if (adm_precision_recall(ref->pool, ref->n, sam->pool, sam->n, sam->pool_dim, &out->precision, &out->recall) != 0)
        return -1;
    return 0;
}
