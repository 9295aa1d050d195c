/* ops_backward.c — host wrappers of the classifier's backward ops (see
 * ops_backward.h).  Kernels are in kernels/backward.cl; the attention
 * backward's products run on the ops' matrix backend (bwd_gemm on CPUs,
 * CLBlast's strided-batched SGEMM elsewhere); conv input gradients run as
 * forward convolutions (adm_op_conv2d) with transposed, flipped weights.
 * Launches go through adm_launch, so admctl bench's per-kind profile
 * counts them (kinds bwd_norm, bwd_attention, bwd_linear, bwd_elementwise,
 * cls_head). */
#include "ops_backward.h"
#include "ops_internal.h"
#include "util.h"
#include <clblast_c.h>
#include <math.h>
#include <string.h>

#define BWD_WG 64    /* the most work-items per GroupNorm work-group (backward.cl: BWD_WG) */
#define ELEM_WG 64   /* fixed work-group size of the elementwise kernels */

/* ---- kernel argument helper ---- */

/* kind: the row of adm_ops_times this kernel's time is counted in. */
typedef struct { const adm_kernel *kern; const char *name, *kind; cl_kernel k; cl_uint i; cl_int err; } kargs;

static int kbegin(adm_cl *cl, kargs *a, adm_kernel_id id, const char *kind) {
    a->kern = adm_cl_k(cl, id);
    a->name = a->kern->name; a->kind = kind; a->i = 0; a->err = CL_SUCCESS;
    a->k = a->kern->k;
    return 0;
}
static void karg(kargs *a, size_t size, const void *v) {
    if (a->err == CL_SUCCESS) a->err = clSetKernelArg(a->k, a->i, size, v);
    a->i++;
}
static void kmem(kargs *a, cl_mem m) { karg(a, sizeof m, &m); }
static void kint(kargs *a, int v) { cl_int x = v; karg(a, sizeof x, &x); }
static void kulong(kargs *a, size_t v) { cl_ulong x = v; karg(a, sizeof x, &x); }
static void kfloat(kargs *a, float v) { karg(a, sizeof v, &v); }
static void kdt(kargs *a, const adm_dt *t) { kmem(a, t->mem); kulong(a, t->off); }

/* Enqueue over `items` work-items in work-groups of up to `local` (within
 * the kernel's and device's limits; the global size is rounded up, kernels
 * bound-check). */
static int klaunch(adm_cl *cl, kargs *a, size_t items, size_t local) {
    if (a->err != CL_SUCCESS) return adm_cl_fail(a->name, a->err);
    size_t lws = adm_cl_wg(cl, (adm_kernel_id)(a->kern - cl->kern), local);
    return adm_launch(cl, a->kern, NULL, a->kind, 1, &items, &lws);
}

static int same_shape(const adm_dt *a, const adm_dt *b, const char *op) {
    if (a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w) return 0;
    return adm_error("%s: shapes differ ([%d,%d,%d,%d] vs [%d,%d,%d,%d])", op,
                     a->n, a->c, a->h, a->w, b->n, b->c, b->h, b->w);
}

/* ---- GroupNorm, SiLU, ReLU ---- */

int adm_bwd_group_norm(adm_cl *cl, const adm_dt *x, const adm_dt *gamma, const adm_dt *beta, int groups,
                       float eps, const adm_dt *ss, int silu, const adm_dt *dy, adm_dt *dx) {
    if (same_shape(x, dy, "group_norm backward") || same_shape(x, dx, "group_norm backward")) return -1;
    if (groups <= 0 || x->c % groups) return adm_error("group_norm backward: %d channels not divisible by %d groups", x->c, groups);
    if (dx->mem == x->mem && dx->off == x->off) return adm_error("group_norm backward: dx must not overwrite x");
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_group_norm, "bwd_norm")) return -1;
    kdt(&a, x); kdt(&a, gamma); kdt(&a, beta);
    if (ss) kdt(&a, ss); else kdt(&a, x);
    kint(&a, ss != NULL); kint(&a, silu);
    kdt(&a, dy); kdt(&a, dx);
    kint(&a, x->c); kint(&a, x->h * x->w); kint(&a, groups); kfloat(&a, eps);
    /* one work-group of up to 64 per (sample, group): backward.cl's sums are the same bits for any size */
    size_t wg = adm_cl_wg(cl, ADM_K_bwd_group_norm, BWD_WG);
    return klaunch(cl, &a, (size_t)x->n * groups * wg, wg);
}

static int elementwise_bwd(adm_cl *cl, adm_kernel_id kernel, const adm_dt *x, const adm_dt *dy, adm_dt *dx) {
    if (same_shape(x, dy, cl->kern[kernel].name) || same_shape(x, dx, cl->kern[kernel].name)) return -1;
    kargs a;
    if (kbegin(cl, &a, kernel, "bwd_elementwise")) return -1;
    kdt(&a, x); kdt(&a, dy); kdt(&a, dx); kulong(&a, adm_dt_numel(x));
    return klaunch(cl, &a, adm_dt_numel(x), ELEM_WG);
}
int adm_bwd_silu(adm_cl *cl, const adm_dt *x, const adm_dt *dy, adm_dt *dx) { return elementwise_bwd(cl, ADM_K_bwd_silu, x, dy, dx); }
int adm_bwd_relu(adm_cl *cl, const adm_dt *x, const adm_dt *dy, adm_dt *dx) { return elementwise_bwd(cl, ADM_K_bwd_relu, x, dy, dx); }

/* ---- convolutions, pooling, linear ---- */

int adm_bwd_conv_weight(adm_cl *cl, const adm_dt *w, int O, int I, int k, adm_dt *wt) {
    if (adm_dt_numel(w) != (size_t)O * I * k * k || adm_dt_numel(wt) != adm_dt_numel(w))
        return adm_error("conv weight transpose: expected %d x %d x %d x %d floats", O, I, k, k);
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_conv_weight, "bwd_setup")) return -1;
    kdt(&a, w); kdt(&a, wt); kint(&a, O); kint(&a, I); kint(&a, k);
    return klaunch(cl, &a, (size_t)O * I * k * k, ELEM_WG);
}

int adm_bwd_conv2d(adm_cl *cl, const adm_dt *dy, const adm_dt *wt, int stride, const adm_dt *tmp, adm_dt *dx) {
    /* wt is [I, O, k, k]: its n is the forward's input channels. */
    if (wt->c != dy->c || wt->n != dx->c || dy->n != dx->n)
        return adm_error("conv backward: dy [%d,%d,..] / weight [%d,%d,..] / dx [%d,%d,..] do not fit",
                         dy->n, dy->c, wt->n, wt->c, dx->n, dx->c);
    if (stride == 1) return adm_op_conv2d(cl, dy, wt, NULL, 1, dx);
    if (stride != 2) return adm_error("conv backward: stride %d unsupported", stride);
    if (!tmp || adm_dt_numel(tmp) < (size_t)dy->n * dy->c * dx->h * dx->w)
        return adm_error("conv backward: stride-2 scratch too small");
    adm_dt d = adm_dt_make(tmp->mem, tmp->off, dy->n, dy->c, dx->h, dx->w);
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_dilate2x, "bwd_elementwise")) return -1;
    kdt(&a, dy); kdt(&a, &d); kint(&a, dy->n * dy->c); kint(&a, dx->h); kint(&a, dx->w);
    kint(&a, dy->h); kint(&a, dy->w);
    if (klaunch(cl, &a, (size_t)d.n * d.c * d.h, ELEM_WG)) return -1;   /* a row per work-item */
    return adm_op_conv2d(cl, &d, wt, NULL, 1, dx);
}

int adm_bwd_avgpool2x2(adm_cl *cl, const adm_dt *dy, adm_dt *dx) {
    if (dy->n != dx->n || dy->c != dx->c || dy->h != dx->h / 2 || dy->w != dx->w / 2)
        return adm_error("avgpool backward: dy [%d,%d,%d,%d] is not dx [%d,%d,%d,%d] halved",
                         dy->n, dy->c, dy->h, dy->w, dx->n, dx->c, dx->h, dx->w);
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_avgpool2x2, "bwd_elementwise")) return -1;
    kdt(&a, dy); kdt(&a, dx); kint(&a, dx->n * dx->c); kint(&a, dx->h); kint(&a, dx->w);
    kint(&a, dy->h); kint(&a, dy->w);
    return klaunch(cl, &a, (size_t)dx->n * dx->c * dx->h, ELEM_WG);   /* a row per work-item */
}

int adm_bwd_linear(adm_cl *cl, const adm_dt *dy, const adm_dt *w, int O, int I,
                   cl_mem dx, size_t dx_off, int dx_sn, int dx_si) {
    if (adm_dt_numel(w) != (size_t)O * I || adm_dt_numel(dy) != (size_t)dy->n * O)
        return adm_error("linear backward: weight is not [%d, %d] or dy is not [N, %d]", O, I, O);
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_linear, "bwd_linear")) return -1;
    kdt(&a, dy); kint(&a, O); kdt(&a, w);
    kmem(&a, dx); kulong(&a, dx_off); kint(&a, dx_sn); kint(&a, dx_si);
    kint(&a, dy->n); kint(&a, O); kint(&a, I);
    return klaunch(cl, &a, (size_t)dy->n * I, ELEM_WG);
}

/* ---- attention ---- */

/* Floats per T x T matrix: room for the panel layout's padding (panel
 * widths are at most 64 columns: ADM_VW <= 16 times ADM_NV <= 4). */
static size_t matrix_floats(int T) { return ((size_t)T + 63) / 64 * 64 * T; }

size_t adm_bwd_attention_scratch(int heads, int T) { return 3 * (size_t)heads * matrix_floats(T); }

/* Batched GEMM over the heads of one sample:  C[b] = alpha op(A[b]) op(B[b]),
 * op = transpose when ta / tb; matrices row-major with leading dimension
 * ld, or (own path, panels = 1) in the panel layout of backward.cl.
 * CLBlast's strided-batched SGEMM when the ops use CLBlast (GPUs: no
 * panels there), else bwd_gemm (no transposed B: the caller passes B^T). */
typedef struct { cl_mem mem; size_t off, ld, bs; int panels; } mat;

static int gemm(adm_cl *cl, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                mat A, mat B, mat C, size_t batch) {
    if (strcmp(adm_ops_backend(cl), "own")) {            /* clblast or auto */
        cl_event ev = NULL;
        CLBlastStatusCode st = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
            tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha,
            A.mem, A.off, A.ld, A.bs, B.mem, B.off, B.ld, B.bs, 0.0f, C.mem, C.off, C.ld, C.bs, batch,
            &cl->queue, cl->profiling ? &ev : NULL);
        if (st != CLBlastSuccess) return adm_error("attention backward: CLBlast GEMM failed (status %d)", (int)st);
        adm_ops_record(cl, "bwd_attn_gemm", ev);
        return 0;
    }
    if (tb || A.panels) return adm_error("attention backward: internal error (unsupported GEMM operand)");
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_gemm, "bwd_attn_gemm")) return -1;
    kmem(&a, A.mem); kulong(&a, A.off); kulong(&a, A.bs);
    kint(&a, ta ? 1 : (int)A.ld); kint(&a, ta ? (int)A.ld : 1);      /* A(m, k) strides */
    kmem(&a, B.mem); kulong(&a, B.off); kulong(&a, B.bs); kint(&a, (int)B.ld); kint(&a, B.panels);
    kmem(&a, C.mem); kulong(&a, C.off); kulong(&a, C.bs); kint(&a, (int)C.ld); kint(&a, C.panels);
    kint(&a, (int)m); kint(&a, (int)n); kint(&a, (int)k); kfloat(&a, alpha);
    if (a.err != CL_SUCCESS) return adm_cl_fail(a.name, a.err);
    const size_t nc = (size_t)cl->tile_vw * cl->tile_nv, mt = (size_t)cl->tile_mt;   /* backward.cl's tile */
    size_t gws[3] = {(n + nc - 1) / nc, (m + mt - 1) / mt, batch}, lws[3] = {1, 1, 1};
    return adm_launch(cl, a.kern, NULL, a.kind, 3, gws, lws);
}

/* Per sample n and head h (ch = C/heads, s2 = 1/sqrt(ch) = scale^2), with
 * q, k, v, dA each [ch, T]:
 *     P  = softmax_rows(s2 * q^T k)              [T, T]  (recomputed)
 *     dP = dA^T v,   dv = dA P
 *     dS = P * (dP - rowsum(P * dP))
 *     dq = s2 k dS^T,   dk = s2 q dS
 * Head layout: legacy order splits heads first (head h of sample n is the
 * block [3ch, T] at n*3C*T + h*3ch*T, holding q, k, v); the new order
 * splits q, k, v first (q of head h at n*3C*T + h*ch*T, k at +C*T,
 * v at +2C*T).  The output a [C, T] puts head h at channels h*ch. */
int adm_bwd_attention(adm_cl *cl, const adm_dt *qkv, const adm_dt *dy, int heads, int legacy,
                      const adm_dt *scratch, adm_dt *dqkv) {
    const int N = qkv->n, C3 = qkv->c, T = qkv->h * qkv->w;
    if (heads <= 0 || C3 % (3 * heads)) return adm_error("attention backward: %d channels, %d heads", C3, heads);
    const int C = C3 / 3, ch = C / heads;
    if (dy->n != N || dy->c != C || dy->h * dy->w != T || same_shape(qkv, dqkv, "attention backward"))
        return adm_error("attention backward: qkv [%d,%d,%d] / dy [%d,%d,%d] do not fit", N, C3, T, dy->n, dy->c, dy->h * dy->w);
    if (adm_dt_numel(scratch) < adm_bwd_attention_scratch(heads, T))
        return adm_error("attention backward: scratch too small");
    const int own = !strcmp(adm_ops_backend(cl), "own");
    const int pw = own ? cl->tile_vw * cl->tile_nv : T;   /* panel width of the T x T matrices */
    if (own && (pw < 1 || pw > 64)) return adm_error("attention backward: tile width %d outside 1..64", pw);
    const float s2 = 1.0f / sqrtf((float)ch);
    const size_t cT = (size_t)ch * T, ms = matrix_floats(T);
    const size_t hstride = legacy ? 3 * cT : cT;          /* between heads of one sample */
    const size_t koff = legacy ? cT : (size_t)C * T;      /* from q to k of a head */
    const size_t voff = 2 * koff;
    const mat P = {scratch->mem, scratch->off, T, ms, own};
    const mat dP = {scratch->mem, scratch->off + (size_t)heads * ms, T, ms, own};
    const mat dST = {scratch->mem, scratch->off + 2 * (size_t)heads * ms, T, ms, own};
    for (int n = 0; n < N; n++) {
        const size_t q = qkv->off + (size_t)n * C3 * T, dq = dqkv->off + (size_t)n * C3 * T;
        const mat Q = {qkv->mem, q, T, hstride, 0}, K = {qkv->mem, q + koff, T, hstride, 0};
        const mat V = {qkv->mem, q + voff, T, hstride, 0};
        const mat dQ = {dqkv->mem, dq, T, hstride, 0}, dK = {dqkv->mem, dq + koff, T, hstride, 0};
        const mat dV = {dqkv->mem, dq + voff, T, hstride, 0};
        const mat dA = {dy->mem, dy->off + (size_t)n * C * T, T, cT, 0};
        /* P = softmax(s2 q^T k) */
        if (gemm(cl, 1, 0, T, T, ch, s2, Q, K, P, heads)) return -1;
        kargs a;
        if (kbegin(cl, &a, ADM_K_bwd_softmax_rows, "bwd_attn_softmax")) return -1;
        kmem(&a, P.mem); kulong(&a, P.off); kulong(&a, ms); kint(&a, T); kint(&a, pw); kint(&a, heads * T);
        if (klaunch(cl, &a, (size_t)heads * T, ELEM_WG)) return -1;
        /* dP = dA^T v;  dv = dA P */
        if (gemm(cl, 1, 0, T, T, ch, 1.0f, dA, V, dP, heads)) return -1;
        if (gemm(cl, 0, 0, ch, T, T, 1.0f, dA, P, dV, heads)) return -1;
        /* dS = P * (dP - rowsum(P * dP)), in place in dP */
        if (kbegin(cl, &a, ADM_K_bwd_softmax_grad_rows, "bwd_attn_softmax")) return -1;
        kmem(&a, P.mem); kulong(&a, P.off); kmem(&a, dP.mem); kulong(&a, dP.off); kulong(&a, ms);
        kint(&a, T); kint(&a, pw); kint(&a, heads * T);
        if (klaunch(cl, &a, (size_t)heads * T, ELEM_WG)) return -1;
        /* dq = s2 k dS^T (own GEMM: with dS^T made explicit);  dk = s2 q dS */
        if (own) {
            if (kbegin(cl, &a, ADM_K_bwd_transpose, "bwd_attn_transpose")) return -1;
            kmem(&a, dP.mem); kulong(&a, dP.off); kmem(&a, dST.mem); kulong(&a, dST.off); kulong(&a, ms); kint(&a, T);
            if (a.err != CL_SUCCESS) return adm_cl_fail(a.name, a.err);
            size_t gws[3] = {((size_t)T + 15) / 16, ((size_t)T + 15) / 16, (size_t)heads}, lws[3] = {1, 1, 1};
            if (adm_launch(cl, a.kern, NULL, a.kind, 3, gws, lws)) return -1;
            if (gemm(cl, 0, 0, ch, T, T, s2, K, dST, dQ, heads)) return -1;
        } else if (gemm(cl, 0, 1, ch, T, T, s2, K, dP, dQ, heads)) {
            return -1;
        }
        if (gemm(cl, 0, 0, ch, T, T, s2, Q, dP, dK, heads)) return -1;
    }
    return 0;
}

/* ---- heads ---- */

int adm_bwd_pool_tokens(adm_cl *cl, const adm_dt *dxp, adm_dt *da) {
    const int HW = da->h * da->w;
    if (dxp->n != da->n || dxp->c != da->c || dxp->h * dxp->w != HW + 1)
        return adm_error("pool tokens backward: dxp is not [N, C, HW+1] of da");
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_pool_tokens, "bwd_elementwise")) return -1;
    kdt(&a, dxp); kdt(&a, da); kint(&a, da->n * da->c); kint(&a, HW);
    return klaunch(cl, &a, adm_dt_numel(da), ELEM_WG);
}

int adm_bwd_spatial_mean(adm_cl *cl, const adm_dt *d, int F, int off, adm_dt *dx, int accumulate) {
    if (off < 0 || off + dx->c > F || adm_dt_numel(d) < (size_t)dx->n * F)
        return adm_error("spatial mean backward: columns %d..%d outside [N, %d]", off, off + dx->c, F);
    kargs a;
    if (kbegin(cl, &a, ADM_K_bwd_spatial_mean, "bwd_elementwise")) return -1;
    kdt(&a, d); kint(&a, F); kint(&a, off); kdt(&a, dx);
    kint(&a, dx->c); kint(&a, dx->h * dx->w); kint(&a, dx->n); kint(&a, accumulate);
    return klaunch(cl, &a, adm_dt_numel(dx), ELEM_WG);
}

int adm_bwd_zero(adm_cl *cl, adm_dt *t) {
    /* a kernel, not clEnqueueFillBuffer: see adm_fill in elementwise.cl */
    size_t n = adm_dt_numel(t);
    if (n == 0) return 0;
    kargs a;
    if (kbegin(cl, &a, ADM_K_adm_fill, "bwd_elementwise")) return -1;
    kdt(&a, t); kfloat(&a, 0.0f); kulong(&a, n);
    return klaunch(cl, &a, n, ELEM_WG);
}

int adm_cls_pool_tokens(adm_cl *cl, const adm_dt *x, const adm_dt *pos, adm_dt *xp) {
    const int HW = x->h * x->w;
    if (xp->n != x->n || xp->c != x->c || xp->h * xp->w != HW + 1 || adm_dt_numel(pos) != (size_t)x->c * (HW + 1))
        return adm_error("attention pool: tokens [%d,%d,%d] / positional embedding (%zu floats) do not fit [%d,%d,%d]",
                         xp->n, xp->c, xp->h * xp->w, adm_dt_numel(pos), x->n, x->c, HW + 1);
    kargs a;
    if (kbegin(cl, &a, ADM_K_cls_pool_tokens, "cls_head")) return -1;
    kdt(&a, x); kdt(&a, pos); kdt(&a, xp); kint(&a, x->n); kint(&a, x->c); kint(&a, HW);
    return klaunch(cl, &a, (size_t)x->n * x->c, ELEM_WG);
}

int adm_cls_spatial_mean(adm_cl *cl, const adm_dt *x, int F, int off, adm_dt *y) {
    if (off < 0 || off + x->c > F || adm_dt_numel(y) < (size_t)x->n * F)
        return adm_error("spatial mean: columns %d..%d outside [N, %d]", off, off + x->c, F);
    kargs a;
    if (kbegin(cl, &a, ADM_K_cls_spatial_mean, "cls_head")) return -1;
    kdt(&a, x); kdt(&a, y); kint(&a, F); kint(&a, off); kint(&a, x->n); kint(&a, x->c); kint(&a, x->h * x->w);
    return klaunch(cl, &a, (size_t)x->n * x->c, ELEM_WG);
}

int adm_cls_linear_strided(adm_cl *cl, const adm_dt *x, int x_sn, int x_si, const adm_dt *w,
                           const adm_dt *b, int N, int O, int I, adm_dt *y) {
    if (adm_dt_numel(w) != (size_t)O * I || adm_dt_numel(b) != (size_t)O || adm_dt_numel(y) < (size_t)N * O)
        return adm_error("strided linear: weight is not [%d, %d] or bias/output too small", O, I);
    kargs a;
    if (kbegin(cl, &a, ADM_K_cls_linear_strided, "cls_head")) return -1;
    kdt(&a, x); kint(&a, x_sn); kint(&a, x_si); kdt(&a, w); kdt(&a, b); kdt(&a, y);
    kint(&a, N); kint(&a, O); kint(&a, I);
    return klaunch(cl, &a, (size_t)N * O, ELEM_WG);
}

int adm_cls_relu(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    if (same_shape(x, y, "relu")) return -1;
    kargs a;
    if (kbegin(cl, &a, ADM_K_cls_relu, "cls_head")) return -1;
    kdt(&a, x); kdt(&a, y); kulong(&a, adm_dt_numel(x));
    return klaunch(cl, &a, adm_dt_numel(x), ELEM_WG);
}
