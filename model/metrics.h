/* metrics.h — the five numbers of Dhariwal & Nichol's evaluation, computed
 * on host arrays of features exactly as guided-diffusion's
 * evaluations/evaluator.py computes them:
 *
 *   FID / sFID      Frechet distance between Gaussians fitted to pool /
 *                   spatial features (float64 mean, np.cov's N-1 covariance)
 *   Inception Score exp(mean_x KL(p(y|x) || p(y))), p(y) the mean over a
 *                   split, averaged over splits of is_split images
 *   precision       fraction of samples inside some reference k-NN ball
 *   recall          fraction of references inside some sample k-NN ball
 *
 * Features are row-major [n, d] float32 (what any feature network yields).
 * The feature network itself (Inception, or a classifier) lives elsewhere.
 */
#ifndef ADM_METRICS_H
#define ADM_METRICS_H
#include <stdint.h>

#define ADM_METRICS_K 3              /* the evaluator's nhood_sizes=(3,) */
#define ADM_METRICS_IS_SPLIT 5000    /* the evaluator's split_size */

/* A Gaussian fitted to n feature vectors of dimension d. */
typedef struct {
    int d;
    int64_t n;          /* vectors it came from (0: given, e.g. a reference batch's mu/sigma) */
    double *mu;         /* [d] */
    double *sigma;      /* [d, d], symmetric */
} adm_fid_stats;

/* mu = mean(x), sigma = cov(x) with np.cov's normalisation 1/(n-1); n >= 2. */
int adm_fid_stats_compute(const float *x, int64_t n, int d, adm_fid_stats *out);
/* Take ownership of given mu [d] and sigma [d*d] (malloc'ed). */
void adm_fid_stats_wrap(adm_fid_stats *s, int d, double *mu, double *sigma);
void adm_fid_stats_free(adm_fid_stats *s);

/* Frechet distance |mu1-mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2). */
int adm_frechet_distance(const adm_fid_stats *a, const adm_fid_stats *b, double *out);

/* Inception Score of n softmax rows of k classes, in splits of split rows
 * (the last split may be shorter). */
int adm_inception_score(const float *p, int64_t n, int k, int64_t split, double *out);

/* Softmax of logits [n, k] into p (float32 rows, computed in double). */
void adm_softmax_rows(const float *logits, int64_t n, int k, float *p);

/* Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN balls
 * of k = ADM_METRICS_K, squared Euclidean distances in fp32. */
int adm_precision_recall(const float *ref, int64_t n_ref, const float *sam, int64_t n_sam, int d,
                         double *precision, double *recall);

#endif
