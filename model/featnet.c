/* featnet.c — feature networks for the metrics (see featnet.h). */
#include "featnet.h"
#include "classifier.h"
#include "inception.h"
#include "metrics.h"
#include "tensor.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEAT_BATCH 16        /* classifier: images per device pass */
#define FEAT_CHUNK 256       /* Inception: images per call (it batches inside), for progress */

struct adm_featnet {
    adm_featnet_info info;
    adm_classifier *clf;     /* one of these two */
    adm_config cfg;
    adm_inception *inc;
};

int adm_featnet_inception(adm_featnet **out, adm_cl *cl, const char *weights_path) {
    *out = NULL;
    adm_featnet *f = adm_calloc(1, sizeof *f);
    if (!f) return -1;
    if (adm_inception_load(&f->inc, cl, weights_path) != 0) { free(f); return -1; }
    snprintf(f->info.name, sizeof f->info.name, "inception FID (pytorch-fid 2015-12-05 graph)");
    snprintf(f->info.sha256, sizeof f->info.sha256, "%s", adm_inception_sha256(f->inc));
    f->info.pool_dim = ADM_INCEPTION_POOL3;
    f->info.spatial_dim = ADM_INCEPTION_SPATIAL;
    f->info.classes = ADM_INCEPTION_LOGITS;
    *out = f;
    return 0;
}

int adm_featnet_classifier(adm_featnet **out, adm_cl *cl, const char *label, const char *config_spec,
                           const char *weights_path) {
    *out = NULL;
    adm_featnet *f = adm_calloc(1, sizeof *f);
    if (!f) return -1;
    adm_tensor_set w = {0};
    if (adm_config_parse(config_spec, ADM_KIND_CLASSIFIER, &f->cfg) != 0 || adm_tensors_load(weights_path, &w) != 0 ||
        adm_sha256_file(weights_path, f->info.sha256) != 0 || !(f->clf = adm_classifier_load(cl, &f->cfg, &w))) {
        adm_tensors_free(&w);
        free(f);
        return -1;
    }
    adm_tensors_free(&w);
    snprintf(f->info.name, sizeof f->info.name, "classifier %s at t=0", label);
    adm_classifier_feature_dims(f->clf, &f->info.pool_dim, &f->info.spatial_dim);
    f->info.classes = f->cfg.out_channels;
    f->info.h = f->info.w = f->cfg.image_size;
    f->info.c = f->cfg.in_channels;
    *out = f;
    return 0;
}

const adm_featnet_info *adm_featnet_get_info(const adm_featnet *f) { return &f->info; }

void adm_featnet_free(adm_featnet *f) {
    if (!f) return;
    if (f->clf) adm_classifier_free(f->clf);
    if (f->inc) adm_inception_free(f->inc);
    free(f);
}

/* The classifier reads x in [-1, 1], CHW: the inverse of the sampler's
 * uint8 = (x + 1) * 127.5; one channel is replicated when it takes three. */
static int classifier_run(adm_featnet *f, const uint8_t *images, int64_t n, int h, int w, int c, float *pool,
                          float *spatial, float *softmax, adm_featnet_progress progress, void *ctx) {
    const adm_featnet_info *in = &f->info;
    if (h != in->h || w != in->w || !(c == in->c || (c == 1 && in->c == 3)))
        return adm_error("images are %dx%dx%d (HxWxC), the classifier takes %dx%dx%d", h, w, c, in->h, in->w, in->c);
    const int C = in->c, HW = h * w, K = in->classes;
    float *x = adm_malloc((size_t)FEAT_BATCH * C * HW * sizeof *x);
    float *logits = adm_malloc((size_t)FEAT_BATCH * K * sizeof *logits);
    float t[FEAT_BATCH] = {0};          /* t = 0 */
    int rc = x && logits ? 0 : -1;
    for (int64_t b0 = 0; rc == 0 && b0 < n; b0 += FEAT_BATCH) {
        int B = (int)(n - b0 < FEAT_BATCH ? n - b0 : FEAT_BATCH);
        for (int b = 0; b < B; b++) {
            const uint8_t *im = images + (size_t)(b0 + b) * HW * c;
            for (int k = 0; k < C; k++)
                for (int i = 0; i < HW; i++)
                    x[((size_t)b * C + k) * HW + i] = im[(size_t)i * c + (c == 1 ? 0 : k)] / 127.5f - 1.0f;
        }
        rc = adm_classifier_features(f->clf, x, t, B, pool ? pool + b0 * in->pool_dim : NULL,
                                     spatial ? spatial + b0 * in->spatial_dim : NULL, logits);
        if (rc == 0 && softmax) adm_softmax_rows(logits, B, K, softmax + b0 * K);
        if (rc == 0 && progress) progress(b0 + B, n, ctx);
    }
    free(x);
    free(logits);
    return rc;
}

/* Inception: softmax = softmax(pool3 @ W^T), the fc without its bias (the
 * evaluator's softmax graph). */
static int inception_run(adm_featnet *f, const uint8_t *images, int64_t n, int h, int w, int c, float *pool,
                         float *spatial, float *softmax, adm_featnet_progress progress, void *ctx) {
    const int K = ADM_INCEPTION_LOGITS;
    float *logits = softmax ? adm_malloc((size_t)FEAT_CHUNK * K * sizeof *logits) : NULL;
    int rc = !softmax || logits ? 0 : -1;
    for (int64_t b0 = 0; rc == 0 && b0 < n; b0 += FEAT_CHUNK) {
        int B = (int)(n - b0 < FEAT_CHUNK ? n - b0 : FEAT_CHUNK);
        rc = adm_inception_features(f->inc, images + (size_t)b0 * h * w * c, B, h, w, c,
                                    pool ? pool + b0 * ADM_INCEPTION_POOL3 : NULL,
                                    spatial ? spatial + b0 * ADM_INCEPTION_SPATIAL : NULL, logits);
        if (rc == 0 && softmax) adm_softmax_rows(logits, B, K, softmax + b0 * K);
        if (rc == 0 && progress) progress(b0 + B, n, ctx);
    }
    free(logits);
    return rc;
}

int adm_featnet_run(adm_featnet *f, const uint8_t *images, int64_t n, int h, int w, int c, float *pool,
                    float *spatial, float *softmax, adm_featnet_progress progress, void *ctx) {
    if (n < 1) return adm_error("no images");
    if (f->inc) return inception_run(f, images, n, h, w, c, pool, spatial, softmax, progress, ctx);
    return classifier_run(f, images, n, h, w, c, pool, spatial, softmax, progress, ctx);
}
