/* ops_eval.c — host side of the evaluation network's ops (ops_eval.h):
 * argument checks and launches of kernels/eval.cl, and the general
 * convolution as column matrix (adm_eval_im2col) + the panel GEMM of
 * conv.cl (adm_gemm_panel), whose sums run over k = (ci, ky, kx) in order
 * per output, so results do not depend on batch size or position.
 */
#include "ops_eval.h"
#include "ops_internal.h"
#include <stdio.h>

#define NVW ((size_t)cl->tile_vw * cl->tile_nv)   /* panel width (conv.cl) */
#define EVAL_SCRATCH_CAP ((size_t)64 << 20)     /* floats of column matrix per chunk */

int adm_op_eval_preprocess(adm_cl *cl, cl_mem img, size_t ioff, int H, int W, int C, adm_dt *y) {
    if (H < 1 || W < 1 || (C != 1 && C != 3)) return adm_error("preprocess: images %dx%dx%d (1 or 3 channels)", H, W, C);
    if (y->c != 3 || y->h < 1 || y->w < 1) return adm_shape_error("preprocess", "y", y, "[N, 3, OH, OW]");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_eval_preprocess);
    cl_ulong io = ioff, yo = y->off;
    cl_uint h = (cl_uint)H, w = (cl_uint)W, c = (cl_uint)C, oh = (cl_uint)y->h, ow = (cl_uint)y->w;
    cl_uint rows = (cl_uint)(y->n * 3 * y->h);
    float sh = (float)H / (float)y->h, sw = (float)W / (float)y->w;     /* torch: (float)in / out */
    if (adm_set_args(k, ARG(img), ARG(io), ARG(h), ARG(w), ARG(c), ARG(y->mem), ARG(yo),
                           ARG(oh), ARG(ow), ARG(sh), ARG(sw), ARG(rows), 0))
        return -1;
    return adm_launch1(cl, k, "eval_preprocess", rows);
}

size_t adm_op_eval_conv_scratch(adm_cl *cl, int Ci, int KH, int KW, int OH, int OW) {
    size_t P = (size_t)OH * OW;
    return ((P + NVW - 1) / NVW) * NVW * (size_t)Ci * KH * KW;
}

int adm_op_eval_conv(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, int sh, int sw, int ph, int pw,
                     int relu, adm_dt *y, int c0) {
    int Co = w->n, Ci = w->c, KH = w->h, KW = w->w;
    if (Ci != x->c) return adm_shape_error("eval conv", "w", w, "[Co, Ci, KH, KW] with Ci = x's channels");
    if (sh < 1 || sw < 1 || ph < 0 || pw < 0) return adm_error("eval conv: stride %dx%d, padding %dx%d", sh, sw, ph, pw);
    int OH = (x->h + 2 * ph - KH) / sh + 1, OW = (x->w + 2 * pw - KW) / sw + 1;
    if (x->h + 2 * ph < KH || x->w + 2 * pw < KW) return adm_shape_error("eval conv", "x", x, "at least the kernel's size");
    if (y->n != x->n || y->h != OH || y->w != OW || c0 < 0 || c0 + Co > y->c) {
        char e[96];
        snprintf(e, sizeof e, "[%d, >= %d, %d, %d]", x->n, c0 + Co, OH, OW);
        return adm_shape_error("eval conv", "y", y, e);
    }
    if (adm_dt_numel(b) != (size_t)Co) return adm_shape_error("eval conv", "bias", b, "Co values");
    const adm_kernel *ki = adm_cl_k(cl, ADM_K_adm_eval_im2col), *kg = adm_cl_k(cl, ADM_K_adm_gemm_panel);
    size_t per = adm_op_eval_conv_scratch(cl, Ci, KH, KW, OH, OW);
    int chunk = (int)(EVAL_SCRATCH_CAP / per);
    if (chunk < 1) chunk = 1;
    if (chunk > x->n) chunk = x->n;
    cl_mem col = adm_ops_scratch(cl, per * (size_t)chunk);
    if (!col) return -1;
    const char *kind = KH == 1 && KW == 1 ? "eval_conv1x1" : "eval_conv";
    int K = Ci * KH * KW, P = OH * OW;
    size_t HW = (size_t)P, np = (HW + NVW - 1) / NVW;
    for (int n0 = 0; n0 < x->n; n0 += chunk) {
        int nb = x->n - n0 < chunk ? x->n - n0 : chunk;
        /* Column matrix of samples n0 .. n0 + nb - 1. */
        cl_ulong xo = x->off + (size_t)n0 * Ci * x->h * x->w, xbs = (cl_ulong)Ci * x->h * x->w, dbs = per;
        cl_int H = x->h, W = x->w;
        cl_uint rows = (cl_uint)((size_t)nb * np * K);
        if (adm_set_args(ki, ARG(x->mem), ARG(xo), ARG(xbs), ARG(col), ARG(dbs), ARG(Ci), ARG(H),
                         ARG(W), ARG(KH), ARG(KW), ARG(sh), ARG(sw), ARG(ph), ARG(pw), ARG(OH), ARG(OW), ARG(rows), 0) ||
            adm_launch1(cl, ki, kind, rows))
            return -1;
        /* y_b[c0 + m, p] = b[m] + sum_k w[m, k] B_b(k, p), row-major rows of HW in the slice. */
        cl_ulong ao = w->off, ab = 0, bo = 0, bb = per, biasoff = b->off;
        cl_ulong co = y->off + ((size_t)n0 * y->c + c0) * HW, cb = (cl_ulong)y->c * HW;
        cl_int asm_ = K, ask = 1, hb = 1, ldc = P, cp = 0;
        if (adm_set_args(kg, ARG(w->mem), ARG(ao), ARG(ab), ARG(asm_), ARG(ask), ARG(col), ARG(bo),
                         ARG(bb), ARG(b->mem), ARG(biasoff), ARG(hb), ARG(y->mem), ARG(co), ARG(cb), ARG(ldc), ARG(cp),
                         ARG(Co), ARG(P), ARG(K), 0))
            return -1;
        size_t gws[3] = {(size_t)(Co + cl->tile_mt - 1) / cl->tile_mt, np, (size_t)nb}, lws[3] = {1, 1, 1};
        if (adm_launch(cl, kg, "adm_gemm_panel (eval conv)", kind, 3, gws, lws)) return -1;
    }
    if (!relu) return 0;
    const adm_kernel *kr = adm_cl_k(cl, ADM_K_adm_eval_relu);
    cl_ulong yo = y->off + (size_t)c0 * HW, ybs = (cl_ulong)y->c * HW;
    cl_uint pr = (cl_uint)((size_t)Co * HW), n = (cl_uint)((size_t)y->n * Co * HW);
    if (adm_set_args(kr, ARG(y->mem), ARG(yo), ARG(ybs), ARG(pr), ARG(n), 0)) return -1;
    return adm_launch1(cl, kr, "eval_relu", n);
}

int adm_op_eval_pool(adm_cl *cl, const adm_dt *x, int k, int s, int pad, int is_max, adm_dt *y, int c0) {
    if (k < 1 || s < 1 || pad < 0 || 2 * pad > k || x->h + 2 * pad < k || x->w + 2 * pad < k)
        return adm_error("eval pool: window %d, stride %d, padding %d on %dx%d", k, s, pad, x->h, x->w);
    int OH = (x->h + 2 * pad - k) / s + 1, OW = (x->w + 2 * pad - k) / s + 1;
    if (y->n != x->n || y->h != OH || y->w != OW || c0 < 0 || c0 + x->c > y->c) {
        char e[96];
        snprintf(e, sizeof e, "[%d, >= %d, %d, %d]", x->n, c0 + x->c, OH, OW);
        return adm_shape_error("eval pool", "y", y, e);
    }
    const adm_kernel *kp = adm_cl_k(cl, ADM_K_adm_eval_pool);
    size_t HW = (size_t)OH * OW;
    cl_ulong xo = x->off, yo = y->off + (size_t)c0 * HW, ybs = (cl_ulong)y->c * HW;
    cl_int C = x->c, H = x->h, W = x->w, im = is_max != 0;
    cl_uint rows = (cl_uint)((size_t)x->n * x->c * OH);
    if (adm_set_args(kp, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(ybs), ARG(C), ARG(H),
                            ARG(W), ARG(OH), ARG(OW), ARG(k), ARG(s), ARG(pad), ARG(im), ARG(rows), 0))
        return -1;
    return adm_launch1(cl, kp, is_max ? "eval_maxpool" : "eval_avgpool", rows);
}

int adm_op_eval_mean_hw(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    if (adm_dt_numel(y) != (size_t)x->n * x->c) return adm_shape_error("eval mean", "y", y, "[N, C] of x");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_eval_mean_hw);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint hw = (cl_uint)(x->h * x->w), planes = (cl_uint)(x->n * x->c);
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(hw), ARG(planes), 0))
        return -1;
    return adm_launch1(cl, k, "eval_pool3", planes);
}
