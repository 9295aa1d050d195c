/* evaluate.h — one evaluation as guided-diffusion's evaluator.py runs it:
 * a reference batch and a sample set through a feature network
 * (featnet.h), then FID, sFID, Inception Score, precision and recall
 * (metrics.h).  Where the images come from (an .npz, PNG files, spool
 * jobs) is the caller's business; the reference batch format is here. */
#ifndef ADM_EVALUATE_H
#define ADM_EVALUATE_H
#include "featnet.h"
#include "metrics.h"
#include "tensor.h"

/* A reference (or sample) batch in the evaluator's .npz format:
 * arr_0 uint8 [N, H, W, C]; optionally mu [d], sigma [d, d], mu_s, sigma_s
 * (statistics of the TensorFlow graph's pool_3 / mixed_6/conv features)
 * and labels [N]. */
typedef struct {
    adm_tensor_set set;
    const uint8_t *images;            /* arr_0's data */
    int64_t n;
    int h, w, c;
    const adm_tensor *mu, *sigma, *mu_s, *sigma_s, *labels;   /* NULL when absent */
    char sha256[65];                  /* of the file */
} adm_batch;

int adm_batch_load(const char *path, adm_batch *b);
void adm_batch_free(adm_batch *b);

/* Features of a set of images (or read from .npy files). */
typedef struct {
    int64_t n;
    int pool_dim, spatial_dim, classes;  /* spatial_dim / classes 0: absent */
    float *pool, *spatial, *softmax;
} adm_features;

int adm_features_compute(adm_featnet *net, const uint8_t *images, int64_t n, int h, int w, int c, adm_features *out,
                         adm_featnet_progress progress, void *ctx);
/* Features of a batch file, kept in $ADMD_CACHE_DIR/features/ keyed by the
 * file's and the network's sha256 (reference batches are evaluated again
 * and again); *cached says whether they came from there. */
int adm_features_of_batch(adm_featnet *net, const adm_batch *b, adm_features *out, int *cached,
                          adm_featnet_progress progress, void *ctx);
void adm_features_free(adm_features *f);

typedef struct {
    double fid, sfid, inception_score, precision, recall;   /* NAN: not computable from what was given */
    int stats_given;                  /* FID/sFID used a batch's own mu/sigma */
} adm_eval_numbers;

/* Statistics that came with a batch (mu/sigma, mu_s/sigma_s): the
 * evaluator uses them instead of computing its own, for either batch. */
typedef struct {
    adm_fid_stats pool, spatial;
    int have_pool, have_spatial;
} adm_given_stats;

/* The batch's own mu/sigma (and mu_s/sigma_s when spatial_dim > 0), checked
 * against the feature widths; absent ones are left out (have_* 0). */
int adm_batch_given_stats(const adm_batch *b, int pool_dim, int spatial_dim, adm_given_stats *g);
void adm_given_stats_free(adm_given_stats *g);

/* The five numbers; ref_given / sam_given may be NULL. */
int adm_eval_compute(const adm_features *ref, const adm_given_stats *ref_given, const adm_features *sam,
                     const adm_given_stats *sam_given, int64_t is_split, adm_eval_numbers *out);

#endif
