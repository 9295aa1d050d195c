/* metrics.c — FID, sFID, Inception Score, precision and recall, as
 * guided-diffusion's evaluations/evaluator.py computes them (see metrics.h).
 *
 * Linear algebra goes to the system's BLAS and LAPACK (OpenBLAS, LAPACKE):
 * the covariance is a blocked dsyrk, the matrix square root's trace comes
 * from two symmetric eigendecompositions (dsyevd), the k-NN distances from
 * blocked sgemm.  All host code: features are small next to the images.
 */
#include "metrics.h"
#include "util.h"
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROW_BLOCK 1024      /* rows per block (covariance, distances) */
#define COL_BLOCK 4096      /* columns per distance block */

/* ------------------------------------------------------------------ */
/* Gaussian statistics                                                 */
/* ------------------------------------------------------------------ */

void adm_fid_stats_wrap(adm_fid_stats *s, int d, double *mu, double *sigma) {
    s->d = d; s->n = 0; s->mu = mu; s->sigma = sigma;
}

void adm_fid_stats_free(adm_fid_stats *s) {
    if (!s) return;
    free(s->mu); free(s->sigma);
    memset(s, 0, sizeof *s);
}

/*   mu    = 1/n sum_i x_i
 *   sigma = 1/(n-1) sum_i (x_i - mu)(x_i - mu)^T          (np.cov, rowvar=False)
 * accumulated in float64, ROW_BLOCK centred rows at a time (dsyrk). */
int adm_fid_stats_compute(const float *x, int64_t n, int d, adm_fid_stats *out) {
    memset(out, 0, sizeof *out);
    if (d <= 0) return adm_error("statistics: feature dimension %d", d);
    if (n < 2) return adm_error("statistics: %lld feature vectors; a covariance needs at least 2", (long long)n);
    double *mu = adm_calloc((size_t)d, sizeof *mu);
    double *sigma = adm_calloc((size_t)d * d, sizeof *sigma);
    double *blk = adm_malloc((size_t)ROW_BLOCK * d * sizeof *blk);
    if (!mu || !sigma || !blk) { free(mu); free(sigma); free(blk); return -1; }
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (int j = 0; j < d; j++) mu[j] /= (double)n;
    for (int64_t i0 = 0; i0 < n; i0 += ROW_BLOCK) {
        int rows = (int)(n - i0 < ROW_BLOCK ? n - i0 : ROW_BLOCK);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) blk[(size_t)r * d + j] = x[(i0 + r) * d + j] - mu[j];
        /* upper triangle of sigma += blk^T blk */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, blk, d, 1.0, sigma, d);
    }
    free(blk);
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            double v = sigma[(size_t)a * d + b] / (double)(n - 1);
            sigma[(size_t)a * d + b] = v;
            sigma[(size_t)b * d + a] = v;
        }
    out->d = d; out->n = n; out->mu = mu; out->sigma = sigma;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Frechet distance                                                    */
/* ------------------------------------------------------------------ */

/* Eigenvalues (ascending) of the symmetric d x d matrix a, which is
 * overwritten (by the eigenvectors, row-major, one per column, when
 * vectors). */
static int sym_eig(double *a, int d, int vectors, double *w) {
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, vectors ? 'V' : 'N', 'U', d, a, d, w);
    if (info != 0) return adm_error("frechet distance: LAPACK dsyevd failed (info %d)", (int)info);
    return 0;
}

/* d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2).
 *
 * S1 S2 is similar to the symmetric positive semi-definite
 * M = S1^1/2 S2 S1^1/2 (S1^1/2 M S1^-1/2 = S1 S2), so
 * tr((S1 S2)^1/2) = sum_i sqrt(lambda_i(M)).  S1^1/2 = V diag(sqrt l) V^T
 * from S1 = V diag(l) V^T; eigenvalues that round-off made negative count
 * as 0 (the evaluator's sqrtm keeps their tiny imaginary parts and drops
 * them with .real). */
int adm_frechet_distance(const adm_fid_stats *a, const adm_fid_stats *b, double *out) {
    if (a->d != b->d)
        return adm_error("frechet distance: the feature dimensions differ (%d and %d)", a->d, b->d);
    const int d = a->d;
    const size_t dd = (size_t)d * d;
    double *v = adm_malloc(dd * sizeof *v), *h = adm_malloc(dd * sizeof *h), *t = adm_malloc(dd * sizeof *t);
    double *w = adm_malloc((size_t)d * sizeof *w);
    int rc = -1;
    if (!v || !h || !t || !w) goto done;

    double diff2 = 0, tr1 = 0, tr2 = 0;
    for (int i = 0; i < d; i++) {
        double e = a->mu[i] - b->mu[i];
        diff2 += e * e;
        tr1 += a->sigma[(size_t)i * d + i];
        tr2 += b->sigma[(size_t)i * d + i];
    }

    /* S1 = V diag(l) V^T;  h = S1^1/2 = (V diag(sqrt l)) V^T */
    memcpy(v, a->sigma, dd * sizeof *v);
    if (sym_eig(v, d, 1, w) != 0) goto done;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) t[(size_t)i * d + j] = v[(size_t)i * d + j] * sqrt(w[j] > 0 ? w[j] : 0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d, d, d, 1.0, t, d, v, d, 0.0, h, d);

    /* M = S1^1/2 S2 S1^1/2, made exactly symmetric against round-off */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, h, d, b->sigma, d, 0.0, t, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, t, d, h, d, 0.0, v, d);
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) {
            double s = 0.5 * (v[(size_t)i * d + j] + v[(size_t)j * d + i]);
            v[(size_t)i * d + j] = v[(size_t)j * d + i] = s;
        }
    if (sym_eig(v, d, 0, w) != 0) goto done;
    double tr_covmean = 0;
    for (int i = 0; i < d; i++) tr_covmean += sqrt(w[i] > 0 ? w[i] : 0);

    *out = diff2 + tr1 + tr2 - 2 * tr_covmean;
    if (!isfinite(*out)) { adm_error("frechet distance: not finite (features with inf or nan?)"); goto done; }
    rc = 0;
done:
    free(v); free(h); free(t); free(w);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Inception Score                                                     */
/* ------------------------------------------------------------------ */

void adm_softmax_rows(const float *logits, int64_t n, int k, float *p) {
    for (int64_t i = 0; i < n; i++) {
        const float *l = logits + i * k;
        double m = l[0], s = 0;
        for (int c = 1; c < k; c++) if (l[c] > m) m = l[c];
        for (int c = 0; c < k; c++) s += exp((double)l[c] - m);
        for (int c = 0; c < k; c++) p[i * k + c] = (float)(exp((double)l[c] - m) / s);
    }
}

/* For each split X of up to `split` rows:
 *   p(y)  = 1/|X| sum_{x in X} p(y|x)
 *   score = exp( 1/|X| sum_x sum_y p(y|x) (log p(y|x) - log p(y)) )
 * IS = mean of the split scores.  A term with p(y|x) = 0 adds its limit 0
 * (the evaluator would turn it into nan). */
int adm_inception_score(const float *p, int64_t n, int k, int64_t split, double *out) {
    if (n < 1) return adm_error("inception score: no samples");
    if (k < 1) return adm_error("inception score: %d classes", k);
    if (split < 1) return adm_error("inception score: split size %lld", (long long)split);
    double *py = adm_malloc((size_t)k * sizeof *py);
    if (!py) return -1;
    double total = 0;
    int64_t splits = 0;
    for (int64_t i0 = 0; i0 < n; i0 += split, splits++) {
        int64_t m = n - i0 < split ? n - i0 : split;
        for (int c = 0; c < k; c++) py[c] = 0;
        for (int64_t i = i0; i < i0 + m; i++)
            for (int c = 0; c < k; c++) py[c] += p[i * k + c];
        for (int c = 0; c < k; c++) py[c] /= (double)m;
        double kl = 0;
        for (int64_t i = i0; i < i0 + m; i++)
            for (int c = 0; c < k; c++) {
                double q = p[i * k + c];
                if (q > 0) kl += q * (log(q) - log(py[c]));
            }
        total += exp(kl / (double)m);
    }
    free(py);
    *out = total / (double)splits;
    if (!isfinite(*out)) return adm_error("inception score: not finite (negative or nan probabilities?)");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Precision and recall                                                */
/* ------------------------------------------------------------------ */

/* |x|^2 of each row, in fp32 like the evaluator's reduce_sum(square(U)). */
static void row_norms(const float *x, int64_t n, int d, float *out) {
    for (int64_t i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
        out[i] = s;
    }
}

/* D[i][j] = max(|u_i|^2 - 2 u_i.v_j + |v_j|^2, 0) for a block of rows of U
 * and a block of rows of V (the evaluator's _batch_pairwise_distances). */
static void dist_block(const float *u, const float *nu, int ru, const float *v, const float *nv, int rv, int d,
                       float *D) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ru, rv, d, 1.0f, u, d, v, d, 0.0f, D, rv);
    for (int i = 0; i < ru; i++)
        for (int j = 0; j < rv; j++) {
            float e = nu[i] - 2.0f * D[(size_t)i * rv + j] + nv[j];
            D[(size_t)i * rv + j] = e > 0.0f ? e : 0.0f;
        }
}

/* radius_i = the (k+1)-th smallest of D[i][*] over the whole set, itself
 * (distance 0) included: the squared distance to the k-th nearest other
 * point (the evaluator's np.partition(..., k)[:, k]). */
static int manifold_radii(const float *x, const float *nx, int64_t n, int d, float *radii, float *D) {
    const int K1 = ADM_METRICS_K + 1;
    float *best = adm_malloc((size_t)ROW_BLOCK * K1 * sizeof *best);
    if (!best) return -1;
    for (int64_t i0 = 0; i0 < n; i0 += ROW_BLOCK) {
        int ru = (int)(n - i0 < ROW_BLOCK ? n - i0 : ROW_BLOCK);
        for (int i = 0; i < ru * K1; i++) best[i] = INFINITY;
        for (int64_t j0 = 0; j0 < n; j0 += COL_BLOCK) {
            int rv = (int)(n - j0 < COL_BLOCK ? n - j0 : COL_BLOCK);
            dist_block(x + i0 * d, nx + i0, ru, x + j0 * d, nx + j0, rv, d, D);
            for (int i = 0; i < ru; i++) {
                float *b = best + (size_t)i * K1;      /* ascending K1 smallest so far */
                for (int j = 0; j < rv; j++) {
                    float e = D[(size_t)i * rv + j];
                    if (!(e < b[K1 - 1])) continue;
                    int p = K1 - 1;
                    while (p > 0 && b[p - 1] > e) { b[p] = b[p - 1]; p--; }
                    b[p] = e;
                }
            }
        }
        for (int i = 0; i < ru; i++) radii[i0 + i] = best[(size_t)i * K1 + ADM_METRICS_K];
    }
    free(best);
    return 0;
}

/* precision = 1/|S| #{s in S : exists r in R, |s-r|^2 <= radius_R(r)}
 * recall    = 1/|R| #{r in R : exists s in S, |s-r|^2 <= radius_S(s)} */
int adm_precision_recall(const float *ref, int64_t n_ref, const float *sam, int64_t n_sam, int d,
                         double *precision, double *recall) {
    if (d <= 0) return adm_error("precision/recall: feature dimension %d", d);
    if (n_ref <= ADM_METRICS_K || n_sam <= ADM_METRICS_K)
        return adm_error("precision/recall: %lld reference and %lld sample images; k-NN balls with k=%d need at least %d of each",
                         (long long)n_ref, (long long)n_sam, ADM_METRICS_K, ADM_METRICS_K + 1);
    float *nr = adm_malloc((size_t)n_ref * sizeof *nr), *ns = adm_malloc((size_t)n_sam * sizeof *ns);
    float *rr = adm_malloc((size_t)n_ref * sizeof *rr), *rs = adm_malloc((size_t)n_sam * sizeof *rs);
    float *D = adm_malloc((size_t)ROW_BLOCK * COL_BLOCK * sizeof *D);
    uint8_t *ref_in = adm_calloc((size_t)n_ref, 1), *sam_in = adm_calloc((size_t)n_sam, 1);
    int rc = -1;
    if (!nr || !ns || !rr || !rs || !D || !ref_in || !sam_in) goto done;
    row_norms(ref, n_ref, d, nr);
    row_norms(sam, n_sam, d, ns);
    if (manifold_radii(ref, nr, n_ref, d, rr, D) != 0 || manifold_radii(sam, ns, n_sam, d, rs, D) != 0) goto done;
    for (int64_t i0 = 0; i0 < n_ref; i0 += ROW_BLOCK) {
        int ru = (int)(n_ref - i0 < ROW_BLOCK ? n_ref - i0 : ROW_BLOCK);
        for (int64_t j0 = 0; j0 < n_sam; j0 += COL_BLOCK) {
            int rv = (int)(n_sam - j0 < COL_BLOCK ? n_sam - j0 : COL_BLOCK);
            dist_block(ref + i0 * d, nr + i0, ru, sam + j0 * d, ns + j0, rv, d, D);
            for (int i = 0; i < ru; i++)
                for (int j = 0; j < rv; j++) {
                    float e = D[(size_t)i * rv + j];
                    if (e <= rs[j0 + j]) ref_in[i0 + i] = 1;
                    if (e <= rr[i0 + i]) sam_in[j0 + j] = 1;
                }
        }
    }
    int64_t np_ = 0, nrc = 0;
    for (int64_t j = 0; j < n_sam; j++) np_ += sam_in[j];
    for (int64_t i = 0; i < n_ref; i++) nrc += ref_in[i];
    *precision = (double)np_ / (double)n_sam;
    *recall = (double)nrc / (double)n_ref;
    rc = 0;
done:
    free(nr); free(ns); free(rr); free(rs); free(D); free(ref_in); free(sam_in);
    return rc;
}
