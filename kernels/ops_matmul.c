/* ops_matmul.c — the compute-bound ops: conv2d (3x3 and 1x1, stride 1 or
 * 2), linear, and the attention core, each on one of these engines:
 *
 *   own      kernels/conv.cl: register-tiled 3x3 kernels on a zero-padded
 *            copy of the input (rows of all channels side by side for
 *            images at least one vector wide; whole planes, or three
 *            column-shifted copies of them, for narrower ones), and a GEMM
 *            on column panels for 1x1 convs and attention.  Written for
 *            CPUs: PoCL turns the explicit float vectors into AVX-512, and
 *            the layouts keep every stream sequential for the hardware
 *            prefetcher.
 *   clblast  im2col + CLBlastSgemm, CLBlastSgemmStridedBatched for
 *            attention.
 *   convgemm CLBlastSconvgemm (convolutions only): the whole batch in one
 *            call without an im2col buffer.
 * The backend "auto" (GPUs) picks the fastest per op shape by measurement
 * (ops_engine.c).  Every engine computes each image alone, so outputs do
 * not depend on the batch under any choice.
 *
 * Both sum in a fixed order, so each is deterministic on a given device.
 */
#include "ops_internal.h"
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Register tiles, as conv.cl was built with (see adm_cl_open). */
#define VW (cl->tile_vw * cl->tile_nv)  /* ADM_VW x ADM_NV: positions/columns per work-item */
#define COT (cl->tile_cot)   /* ADM_COT: output channels per work-item (3x3) */
#define MT (cl->tile_mt)     /* ADM_MT: rows per work-item (GEMM) */

static int clblast_fail(const char *what, CLBlastStatusCode st) {
    return adm_error("CLBlast %s failed with status %d", what, (int)st);
}

/* ---- GEMM (own kernel) ------------------------------------------------------ */

/* dst[b] = src[b] (K rows of ld floats, N used) as column panels of VW (see conv.cl) */
static int pack_panels(adm_cl *cl, const char *kind, cl_mem src, size_t soff, size_t sbs, int ld,
                       cl_mem dst, size_t doff, size_t dbs, int K, int N, int batch) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_pack_panels);
    size_t np = ((size_t)N + VW - 1) / VW, rows = (size_t)batch * np * K;
    cl_ulong so = soff, sb = sbs, dof = doff, db = dbs;
    cl_uint nr = (cl_uint)rows;
    if (adm_set_args(k, ARG(src), ARG(so), ARG(sb), ARG(ld), ARG(dst), ARG(dof), ARG(db),
                     ARG(K), ARG(N), ARG(nr), 0))
        return -1;
    return adm_launch1(cl, k, kind, rows);
}

/* C[b] (M x N) = bias + A[b] Bp[b]: A(m, k) at aoff + b*abs + m*asm + k*ask; Bp: panels at
 * bpoff + b*bpbs; C row-major (ldc) or, with c_panels, panels.  label names the call in
 * per-kernel profiles. */
static int gemm_own(adm_cl *cl, const char *kind, const char *label, int M, int N, int K, int batch,
                    cl_mem A, size_t aoff, size_t abs_, int asm_, int ask, cl_mem Bp, size_t bpoff, size_t bpbs,
                    const adm_dt *bias, cl_mem C, size_t coff, size_t cbs, int ldc, int c_panels) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_gemm_panel);
    cl_ulong ao = aoff, ab = abs_, bo = bpoff, bb = bpbs, co = coff, cb = cbs, biasoff = bias ? bias->off : 0;
    cl_int hb = bias != NULL, cp = c_panels;
    cl_mem bm = bias ? bias->mem : A;
    if (adm_set_args(k, ARG(A), ARG(ao), ARG(ab), ARG(asm_), ARG(ask), ARG(Bp), ARG(bo), ARG(bb),
                     ARG(bm), ARG(biasoff), ARG(hb), ARG(C), ARG(co), ARG(cb), ARG(ldc), ARG(cp),
                     ARG(M), ARG(N), ARG(K), 0))
        return -1;
    size_t gws[3] = {(size_t)(M + MT - 1) / MT, (size_t)(N + VW - 1) / VW, (size_t)batch}, lws[3] = {1, 1, 1};
    return adm_launch(cl, k, label, kind, 3, gws, lws);
}

/* y[n, c, :] += b[c] (the bias after a CLBlast GEMM) */
static int add_bias(adm_cl *cl, const char *kind, const adm_dt *b, adm_dt *y) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_add_bias);
    cl_ulong yo = y->off, bo = b->off;
    cl_uint n = (cl_uint)(y->n * y->c), hw = (cl_uint)(y->h * y->w), C = (cl_uint)y->c;   /* planes */
    if (adm_set_args(k, ARG(y->mem), ARG(yo), ARG(b->mem), ARG(bo), ARG(n), ARG(hw), ARG(C), 0))
        return -1;
    return adm_launch1(cl, k, kind, n);
}

/* ---- conv2d ------------------------------------------------------------------- */

static int conv_direct(adm_cl *cl, const char *kind, const adm_dt *x, const adm_dt *w, const adm_dt *b,
                       int stride, adm_dt *y) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_conv2d_direct);
    cl_ulong xo = x->off, wo = w->off, bo = b ? b->off : 0, yo = y->off;
    cl_int hb = b != NULL, ks = w->h, st = stride;
    cl_mem bm = b ? b->mem : w->mem;
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(w->mem), ARG(wo), ARG(bm), ARG(bo), ARG(hb),
                     ARG(y->mem), ARG(yo), ARG(x->n), ARG(x->c), ARG(x->h), ARG(x->w), ARG(y->c), ARG(y->h), ARG(y->w),
                     ARG(ks), ARG(st), 0))
        return -1;
    return adm_launch1(cl, k, kind, adm_dt_numel(y));
}

/* 3x3 stride 1 on images at least one vector wide: row-interleaved padding,
 * then a row segment per work-item (NV vectors wide if the row has them,
 * else one vector of two rows). */
static int conv3x3_rows(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y) {
    int N = x->n, Ci = x->c, H = x->h, W = x->w, Wp = W + 2, Hp = H + 2;
    /* + slack: zero rows for the last vector loads and for the row past an odd H */
    size_t rows = (size_t)N * Hp * Ci + Ci + (size_t)(VW + 2 + Wp - 1) / Wp;
    cl_mem xr = adm_ops_scratch(cl, rows * Wp);
    if (!xr) return -1;
    int wide = W >= VW;          /* rows: NV vectors of 1 row; rows1: 1 vector of 2 rows */
    adm_kernel_id kid = wide ? ADM_K_adm_conv3x3_rows : ADM_K_adm_conv3x3_rows1;
    size_t tw = wide ? (size_t)VW : (size_t)cl->tile_vw, tc = (size_t)COT, nrow = wide ? 1 : 2;
    const adm_kernel *kp = adm_cl_k(cl, ADM_K_adm_pad2d_rows), *kc = adm_cl_k(cl, kid);
    cl_ulong xo = x->off;
    cl_uint nr = (cl_uint)rows;
    if (adm_set_args(kp, ARG(x->mem), ARG(xo), ARG(xr), ARG(N), ARG(Ci), ARG(H), ARG(W), ARG(nr), 0) ||
        adm_launch1(cl, kp, "conv3x3", rows))
        return -1;
    cl_ulong wo = w->off, bo = b ? b->off : 0, yo = y->off;
    cl_int hb = b != NULL;
    cl_mem bm = b ? b->mem : w->mem;
    if (adm_set_args(kc, ARG(xr), ARG(w->mem), ARG(wo), ARG(bm), ARG(bo), ARG(hb),
                     ARG(y->mem), ARG(yo), ARG(Ci), ARG(H), ARG(W), ARG(y->c), 0))
        return -1;
    size_t gws[3] = {((size_t)y->c + tc - 1) / tc, ((size_t)W + tw - 1) / tw, (size_t)N * ((H + nrow - 1) / nrow)};
    size_t lws[3] = {1, 1, 1};
    return adm_launch(cl, kc, NULL, "conv3x3", 3, gws, lws);
}

/* 3x3 stride 1 in two launches: `pad` lays x out in scratch (rows of row_len
 * floats, zero borders and overrun rows included), then `conv` computes
 * tiles of VW of the `positions` output positions per plane for COT output
 * channels.  Channel tiles vary fastest: neighbouring work-items share the
 * input rows. */
static int conv3x3_via_layout(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y,
                              adm_kernel_id pad, adm_kernel_id conv, size_t rows, size_t row_len, size_t positions) {
    cl_mem xs = adm_ops_scratch(cl, rows * row_len);
    if (!xs) return -1;
    const adm_kernel *kp = adm_cl_k(cl, pad), *kc = adm_cl_k(cl, conv);
    int H = x->h, W = x->w;
    cl_ulong xo = x->off;
    cl_uint np = (cl_uint)((size_t)x->n * x->c), nr = (cl_uint)rows;
    if (adm_set_args(kp, ARG(x->mem), ARG(xo), ARG(xs), ARG(H), ARG(W), ARG(np), ARG(nr), 0) ||
        adm_launch1(cl, kp, "conv3x3", rows))
        return -1;
    cl_ulong wo = w->off, bo = b ? b->off : 0, yo = y->off;
    cl_int hb = b != NULL;
    cl_mem bm = b ? b->mem : w->mem;
    if (adm_set_args(kc, ARG(xs), ARG(w->mem), ARG(wo), ARG(bm), ARG(bo), ARG(hb),
                     ARG(y->mem), ARG(yo), ARG(x->c), ARG(H), ARG(W), ARG(y->c), 0))
        return -1;
    size_t gws[3] = {((size_t)y->c + COT - 1) / COT, (positions + VW - 1) / VW, (size_t)x->n}, lws[3] = {1, 1, 1};
    return adm_launch(cl, kc, NULL, "conv3x3", 3, gws, lws);
}

/* Narrow images, layout 1: whole zero-bordered planes [H+2, W+2]; tiles run
 * across rows (the 2 border columns of each row are computed and dropped),
 * then whole zero rows covering the vector loads' overrun (VW + 2 floats). */
static int conv3x3_planes(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y) {
    size_t Wp = (size_t)x->w + 2, planes = (size_t)x->n * x->c;
    size_t rows = planes * (x->h + 2) + (VW + 2 + Wp - 1) / Wp;
    return conv3x3_via_layout(cl, x, w, b, y, ADM_K_adm_pad2d, ADM_K_adm_conv3x3_vec, rows, Wp, (size_t)x->h * Wp);
}

/* Narrow images, layout 2: three column-shifted copies [H+2, W] of each
 * plane, so every tap is a contiguous run and tiles cover exactly H*W
 * positions; then whole zero rows covering the last tile's overrun (< VW). */
static int conv3x3_shift3(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y) {
    size_t W = (size_t)x->w, planes = (size_t)x->n * x->c;
    size_t rows = planes * 3 * (x->h + 2) + (VW + W - 1) / W;
    return conv3x3_via_layout(cl, x, w, b, y, ADM_K_adm_pad2d_shift3, ADM_K_adm_conv3x3_shift3, rows, W, (size_t)x->h * W);
}

/* 3x3 stride 1 on images narrower than a vector: whichever layout computes
 * fewer tiles of VW positions (planes: H*(W+2) positions, 2 border columns
 * per row dropped; shifted copies: exactly H*W).  On a tie (7x7, 14x14) the
 * planes, whose single input stream is cheaper; 8x8 takes 2 tiles instead of 3. */
static int conv3x3_narrow(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y) {
    size_t vw = VW, shifted = ((size_t)x->h * x->w + vw - 1) / vw, planes = ((size_t)x->h * (x->w + 2) + vw - 1) / vw;
    return shifted < planes ? conv3x3_shift3(cl, x, w, b, y) : conv3x3_planes(cl, x, w, b, y);
}

/* any k/stride via im2col (one sample at a time) + CLBlastSgemm */
static int conv_clblast(adm_cl *cl, const char *kind, const adm_dt *x, const adm_dt *w, const adm_dt *b,
                        int stride, adm_dt *y) {
    int ks = w->h, OH = y->h, OW = y->w, Ci = x->c, Co = y->c;
    size_t kk = (size_t)Ci * ks * ks, P = (size_t)OH * OW;
    cl_mem col = NULL;
    const adm_kernel *kc = adm_cl_k(cl, ADM_K_adm_im2col);
    int direct = ks == 1 && stride == 1;       /* the input already is the column matrix */
    if (!direct) {
        if (!(col = adm_ops_scratch(cl, kk * P))) return -1;
    }
    for (int n = 0; n < x->n; n++) {
        size_t boff = x->off + (size_t)n * Ci * x->h * x->w;
        cl_mem bm = x->mem;
        if (!direct) {
            cl_ulong xo = boff;
            cl_int H = x->h, W = x->w, st = stride;
            if (adm_set_args(kc, ARG(x->mem), ARG(xo), ARG(col), ARG(Ci), ARG(H), ARG(W), ARG(ks),
                             ARG(st), ARG(OH), ARG(OW), 0) ||
                adm_launch1(cl, kc, kind, kk * P))
                return -1;
            bm = col;
            boff = 0;
        }
        cl_event ev = NULL;
        CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                                            (size_t)Co, P, kk, 1.0f, w->mem, w->off, kk, bm, boff, P, 0.0f,
                                            y->mem, y->off + (size_t)n * Co * P, P, &cl->queue, &ev);
        if (st != CLBlastSuccess) return clblast_fail("SGEMM (conv)", st);
        adm_ops_record(cl, kind, ev);
    }
    return b ? add_bias(cl, kind, b, y) : 0;
}

/* all k/stride in one CLBlast call over the batch (convgemm: no im2col
 * buffer), then the bias */
static int conv_convgemm(adm_cl *cl, const char *kind, const adm_dt *x, const adm_dt *w, const adm_dt *b,
                         int stride, adm_dt *y) {
    size_t ks = (size_t)w->h, pad = ks / 2;
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSconvgemm(CLBlastKernelModeCrossCorrelation, (size_t)x->c, (size_t)x->h, (size_t)x->w,
                                            ks, ks, pad, pad, (size_t)stride, (size_t)stride, 1, 1, (size_t)y->c,
                                            (size_t)x->n, x->mem, x->off, w->mem, w->off, y->mem, y->off, &cl->queue, &ev);
    if (st != CLBlastSuccess) return clblast_fail("convgemm", st);
    adm_ops_record(cl, kind, ev);
    return b ? add_bias(cl, kind, b, y) : 0;
}

/* the own kernels: register-tiled 3x3 (stride 1), panel GEMM (1x1), else direct */
static int conv_own(adm_cl *cl, const char *kind, const adm_dt *x, const adm_dt *w, const adm_dt *b, int stride,
                    adm_dt *y) {
    int k = w->h;
    if (k == 3 && stride == 1)
        return x->w >= cl->tile_vw ? conv3x3_rows(cl, x, w, b, y) : conv3x3_narrow(cl, x, w, b, y);
    if (k == 1 && stride == 1) {
        /* y[n] (O x HW) = W (O x I) x[n] (I x HW) + b, x[n] packed into panels first */
        size_t HW = (size_t)x->h * x->w, pan = ((HW + VW - 1) / VW) * VW * x->c;
        cl_mem xp = adm_ops_scratch(cl, pan * x->n);
        if (!xp || pack_panels(cl, kind, x->mem, x->off, (size_t)x->c * HW, (int)HW, xp, 0, pan, x->c, (int)HW, x->n))
            return -1;
        return gemm_own(cl, kind, "adm_gemm_panel (conv1x1)", y->c, (int)HW, x->c, x->n, w->mem, w->off, 0, x->c, 1,
                        xp, 0, pan, b, y->mem, y->off, (size_t)y->c * HW, (int)HW, 0);
    }
    return conv_direct(cl, kind, x, w, b, stride, y);
}

typedef struct { const char *kind; const adm_dt *x, *w, *b; int stride; adm_dt *y; } conv_args;

static int conv_run(adm_cl *cl, adm_engine e, void *arg) {
    conv_args *a = arg;
    if (e == ADM_ENGINE_CLBLAST) return conv_clblast(cl, a->kind, a->x, a->w, a->b, a->stride, a->y);
    if (e == ADM_ENGINE_CONVGEMM) return conv_convgemm(cl, a->kind, a->x, a->w, a->b, a->stride, a->y);
    return conv_own(cl, a->kind, a->x, a->w, a->b, a->stride, a->y);
}

int adm_op_conv2d(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, int stride, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(w); ADM_ASSERT_VIEW(y);
    int k = w->h;
    if ((k != 1 && k != 3) || w->w != k) return adm_shape_error("conv2d", "w", w, "[O, I, k, k] with k = 1 or 3");
    if (stride != 1 && stride != 2) return adm_error("conv2d: stride %d (1 or 2 supported)", stride);
    if (w->c != x->c) return adm_shape_error("conv2d", "w", w, "[O, I, k, k] with I = x's channels");
    int pad = k / 2, OH = (x->h + 2 * pad - k) / stride + 1, OW = (x->w + 2 * pad - k) / stride + 1;
    if (y->n != x->n || y->c != w->n || y->h != OH || y->w != OW) {
        char e[96];
        snprintf(e, sizeof e, "[%d, %d, %d, %d]", x->n, w->n, OH, OW);
        return adm_shape_error("conv2d", "y", y, e);
    }
    if (b && adm_dt_numel(b) != (size_t)w->n) return adm_shape_error("conv2d", "bias", b, "O values");
    const char *kind = k == 1 ? "conv1x1" : stride == 2 ? "conv3x3s2" : "conv3x3";
    conv_args a = {kind, x, w, b, stride, y};
    char shape[96];
    snprintf(shape, sizeof shape, "%s %dx%dx%d->%d", kind, x->c, x->h, x->w, y->c);
    int e = adm_engine_pick(cl, shape, 1u << ADM_ENGINE_OWN | 1u << ADM_ENGINE_CLBLAST | 1u << ADM_ENGINE_CONVGEMM,
                            conv_run, &a);
    return e < 0 ? -1 : conv_run(cl, (adm_engine)e, &a);
}

/* ---- linear --------------------------------------------------------------------- */

int adm_op_linear(adm_cl *cl, const adm_dt *x, const adm_dt *w, const adm_dt *b, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(w); ADM_ASSERT_VIEW(y);
    int N = x->n, I = (int)(adm_dt_numel(x) / (size_t)x->n), O = w->c;
    if (w->n != 1 || w->h != 1 || w->w != I) return adm_shape_error("linear", "w", w, "[1, O, 1, I] with I = x's features");
    if (adm_dt_numel(y) != (size_t)N * O || y->n != N) return adm_shape_error("linear", "y", y, "[N, O, 1, 1]");
    if (b && adm_dt_numel(b) != (size_t)O) return adm_shape_error("linear", "bias", b, "O values");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_linear);
    cl_ulong xo = x->off, wo = w->off, bo = b ? b->off : 0, yo = y->off;
    cl_int hb = b != NULL;
    cl_mem bm = b ? b->mem : w->mem;
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(w->mem), ARG(wo), ARG(bm), ARG(bo), ARG(hb),
                     ARG(y->mem), ARG(yo), ARG(N), ARG(I), ARG(O), 0))
        return -1;
    return adm_launch1(cl, k, "linear", (size_t)O);
}

/* ---- attention -------------------------------------------------------------------- */

#define ATTN_SCORE_CAP ((size_t)64 << 20)       /* floats of S^T per chunk */

/* S^T softmax over s for nb heads (layout: see attention.cl) */
static int attn_softmax(adm_cl *cl, cl_mem scr, size_t s_off, int T, int Tp, int pw, size_t nb) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_softmax_cols);
    cl_ulong so = s_off;
    cl_int nbi = (cl_int)nb;
    size_t gws[2] = {(size_t)Tp / cl->tile_vw, nb}, lws[2] = {1, 1};
    if (adm_set_args(k, ARG(scr), ARG(so), ARG(T), ARG(Tp), ARG(pw), ARG(nbi), 0))
        return -1;
    return adm_launch(cl, k, NULL, "attention", 2, gws, lws);
}

/* CLBlast: qs and S^T plain row-major with row stride Tp */
static int attn_gemms_clblast(adm_cl *cl, int T, int Tp, int ch, size_t nb, cl_mem scr, size_t ks_off,
                              size_t qs_off, size_t vs_off, size_t s_off, const adm_dt *y, size_t y_off) {
    size_t qk = (size_t)ch * T, qkp = (size_t)ch * Tp, TT = (size_t)T * Tp;
    cl_event ev = NULL;
    CLBlastStatusCode st = CLBlastSgemmStridedBatched(
        CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, (size_t)T, (size_t)T, (size_t)ch, 1.0f,
        scr, ks_off, (size_t)T, qk, scr, qs_off, (size_t)Tp, qkp, 0.0f, scr, s_off, (size_t)Tp, TT, nb, &cl->queue, &ev);
    if (st != CLBlastSuccess) return clblast_fail("SGEMM strided batched (attention scores)", st);
    adm_ops_record(cl, "attention", ev);
    if (attn_softmax(cl, scr, s_off, T, Tp, Tp, nb)) return -1;
    ev = NULL;
    st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, (size_t)ch,
                                    (size_t)T, (size_t)T, 1.0f, scr, vs_off, (size_t)T, qk, scr, s_off, (size_t)Tp, TT,
                                    0.0f, y->mem, y_off, (size_t)T, qk, nb, &cl->queue, &ev);
    if (st != CLBlastSuccess) return clblast_fail("SGEMM strided batched (attention output)", st);
    adm_ops_record(cl, "attention", ev);
    return 0;
}

/* own kernels: qs and S^T in panels of VW columns */
static int attn_gemms_own(adm_cl *cl, int T, int Tp, int ch, size_t nb, cl_mem scr, size_t ks_off,
                          size_t qs_off, size_t vs_off, size_t s_off, const adm_dt *y, size_t y_off) {
    size_t qk = (size_t)ch * T, TT = (size_t)T * Tp;
    /* S^T (T_s x T_t) = ks^T qs: A(m=s, k=c) = ks[c*T + s] */
    if (gemm_own(cl, "attention", "adm_gemm_panel (attention scores)", T, T, ch, (int)nb, scr, ks_off, qk, 1, T,
                 scr, qs_off, (size_t)ch * Tp, NULL, scr, s_off, TT, 0, 1))
        return -1;
    if (attn_softmax(cl, scr, s_off, T, Tp, (int)VW, nb)) return -1;
    /* a (ch x T_t) = vs (ch x T_s) S^T (T_s x T_t): A(m=c, k=s) = vs[c*T + s] */
    return gemm_own(cl, "attention", "adm_gemm_panel (attention output)", ch, T, T, (int)nb, scr, vs_off, qk, T, 1,
                    scr, s_off, TT, NULL, y->mem, y_off, qk, T, 0);
}

/* Head bh = n * H + h reads q, k, v from qkv [N, 3C, T]:
 *   legacy (QKVAttentionLegacy): [N*H, 3*ch, T] -> q, k, v = rows 0, ch, 2ch of head bh
 *   new (QKVAttention): chunk(3) first -> q, k, v = channel blocks 0, C, 2C, head h = rows h*ch..
 * Either way head bh's output is rows bh*ch.. of y viewed as [N*H, ch, T].
 *   qs = q * scale, ks = k * scale (scale = 1/sqrt(sqrt(ch)), each rounded to fp32 as the reference)
 *   S^T[s, t] = sum_c ks[c, s] qs[c, t];  softmax over s;  a[c, t] = sum_s v[c, s] S^T[s, t].
 * Scratch: qs [N*H, ch, Tp], ks, vs [N*H, ch, T], then S^T for a chunk of
 * heads at a time (at most ~256 MiB, or what the max allocation allows). */
typedef struct { const adm_dt *qkv; int heads, legacy; adm_dt *y; } attn_args;

static int attention_run(adm_cl *cl, adm_engine e, void *arg) {
    const attn_args *a = arg;
    const adm_dt *qkv = a->qkv, *y = a->y;
    const int heads = a->heads, legacy = a->legacy, own = e == ADM_ENGINE_OWN;
    int N = qkv->n, C3 = qkv->c, T = qkv->h * qkv->w, C = C3 / 3, ch = C / heads;
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return -1;
    int Tp = (int)(((size_t)T + VW - 1) / VW * VW), pw = own ? (int)VW : Tp;
    size_t TT = (size_t)T * Tp, BH = (size_t)N * heads, qk = (size_t)ch * T, qkp = (size_t)ch * Tp;
    size_t fixed = BH * (qkp + 2 * qk);
    size_t cap = s->attn_cap ? s->attn_cap : ATTN_SCORE_CAP;
    if (cap > cl->max_alloc / sizeof(float)) cap = cl->max_alloc / sizeof(float);
    size_t room = cap > fixed + TT ? cap - fixed : TT;
    size_t nb = room / TT < 1 ? 1 : room / TT > BH ? BH : room / TT;      /* heads per chunk */
    size_t qs_off = 0, ks_off = BH * qkp, vs_off = ks_off + BH * qk, s_off = fixed;
    cl_mem scr = adm_ops_scratch(cl, s_off + nb * TT);
    if (!scr) return adm_error_prefix("attention (%zu heads of %d x %d)", BH, T, T);

    float scale = (float)(1.0 / sqrt(sqrt((double)ch)));
    cl_ulong part = (cl_ulong)(legacy ? ch : C) * T;          /* distance q -> k -> v */
    cl_ulong head = (cl_ulong)(legacy ? 3 * ch : ch) * T;     /* distance between heads of a sample */
    cl_ulong sample = (cl_ulong)C3 * T, qo = qkv->off, qso = qs_off, kso = ks_off, vso = vs_off;
    cl_uint nq = (cl_uint)(BH * ch);                          /* rows (bh, c) */
    const adm_kernel *ksc = adm_cl_k(cl, ADM_K_adm_attn_scale_qk);
    if (adm_set_args(ksc, ARG(qkv->mem), ARG(qo), ARG(scr), ARG(qso), ARG(kso), ARG(vso),
                             ARG(heads), ARG(ch), ARG(T), ARG(Tp), ARG(pw), ARG(part), ARG(head), ARG(sample),
                             ARG(scale), ARG(nq), 0) ||
        adm_launch1(cl, ksc, "attention", nq))
        return -1;
    for (size_t b0 = 0; b0 < BH; b0 += nb) {
        size_t n = BH - b0 < nb ? BH - b0 : nb;
        int rc = (own ? attn_gemms_own : attn_gemms_clblast)(cl, T, Tp, ch, n, scr, ks_off + b0 * qk,
                                                            qs_off + b0 * qkp, vs_off + b0 * qk, s_off, y,
                                                            y->off + b0 * qk);
        if (rc) return -1;
    }
    return 0;
}

int adm_op_attention(adm_cl *cl, const adm_dt *qkv, int heads, int legacy, adm_dt *y) {
    ADM_ASSERT_VIEW(qkv); ADM_ASSERT_VIEW(y);
    int N = qkv->n, C3 = qkv->c, T = qkv->h * qkv->w;
    if (heads < 1 || C3 % (3 * heads)) return adm_error("attention: %d qkv channels do not split into 3 x %d heads", C3, heads);
    int C = C3 / 3;
    if (y->n != N || y->c != C || (size_t)y->h * y->w != (size_t)T)
        return adm_shape_error("attention", "y", y, "[N, C, T] with C = qkv channels / 3");
    attn_args a = {qkv, heads, legacy, y};
    char shape[96];
    snprintf(shape, sizeof shape, "attention%s %dx%d heads %d", legacy ? "" : "-new", C, T, heads);
    int e = adm_engine_pick(cl, shape, 1u << ADM_ENGINE_OWN | 1u << ADM_ENGINE_CLBLAST, attention_run, &a);
    return e < 0 ? -1 : attention_run(cl, (adm_engine)e, &a);
}

/* ---- CLBlast warm-up ------------------------------------------------------------- */

int adm_ops_warmup(adm_cl *cl, double *seconds) {
    double t0 = adm_now();
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return -1;
    if (s->backend != ADM_BACKEND_OWN) {
        /* CLBlast compiles (and keeps in memory) one program per routine and
         * kernel family: run the shapes the ops use once, small (direct
         * kernel) and large (indirect kernel), plain and batched. */
        size_t n = 256;
        cl_mem a = adm_cl_alloc(cl, n * n * sizeof(float) * 3);
        if (!a) return -1;
        int rc = 0;
        size_t dims[2] = {16, 256};
        for (int i = 0; i < 2 && !rc; i++) {
            size_t d = dims[i];
            CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, d, d, d,
                                                1.0f, a, 0, d, a, n * n, d, 0.0f, a, 2 * n * n, d, &cl->queue, NULL);
            if (st != CLBlastSuccess) { rc = clblast_fail("SGEMM warm-up", st); break; }
            st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, d, d, d, 1.0f,
                                            a, 0, d, d * d, a, n * n, d, d * d, 0.0f, a, 2 * n * n, d, d * d, 1,
                                            &cl->queue, NULL);
            if (st != CLBlastSuccess) { rc = clblast_fail("SGEMM strided batched warm-up", st); break; }
            st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, d, d, d, 1.0f,
                                            a, 0, d, d * d, a, n * n, d, d * d, 0.0f, a, 2 * n * n, d, d * d, 1,
                                            &cl->queue, NULL);
            if (st != CLBlastSuccess) { rc = clblast_fail("SGEMM strided batched warm-up", st); break; }
        }
        clFinish(cl->queue);
        adm_cl_release(cl, a);
        if (rc) return -1;
    }
    if (seconds) *seconds = adm_now() - t0;
    return 0;
}
