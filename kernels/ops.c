/* ops.c — host side of the memory-bound ops (kernels/elementwise.cl,
 * kernels/norm.cl) plus what every op shares: the per-device state, the
 * scratch buffer, kernel launches and per-op-kind profiling.
 * The matrix ops (conv, linear, attention) are in ops_matmul.c.
 */
#include "ops_internal.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- per-device state and scratch -------------------------------------- */

struct adm_ops_state *adm_ops_state_get(adm_cl *cl) {
    if (cl->ops) return cl->ops;
    struct adm_ops_state *s = adm_calloc(1, sizeof *s);
    if (!s) return NULL;
    /* Own kernels on CPUs (PoCL: faster than CLBlast there), the fastest
     * engine per shape on GPUs and accelerators; ADMD_BACKEND=own|clblast|auto
     * overrides. */
    const char *env = getenv("ADMD_BACKEND");
    if (env && !strcasecmp(env, "clblast")) s->backend = ADM_BACKEND_CLBLAST;
    else if (env && !strcasecmp(env, "own")) s->backend = ADM_BACKEND_OWN;
    else if (env && !strcasecmp(env, "auto")) s->backend = ADM_BACKEND_AUTO;
    else if (env && !strcasecmp(env, "convgemm")) s->backend = ADM_BACKEND_CONVGEMM;
    else s->backend = (cl->type & CL_DEVICE_TYPE_CPU) ? ADM_BACKEND_OWN : ADM_BACKEND_AUTO;
    cl->ops = s;
    return s;
}

int adm_ops_set_backend(adm_cl *cl, const char *name) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return -1;
    if (!strcasecmp(name, "own")) s->backend = ADM_BACKEND_OWN;
    else if (!strcasecmp(name, "clblast")) s->backend = ADM_BACKEND_CLBLAST;
    else if (!strcasecmp(name, "auto")) s->backend = ADM_BACKEND_AUTO;
    else if (!strcasecmp(name, "convgemm")) s->backend = ADM_BACKEND_CONVGEMM;
    else return adm_error("unknown matrix backend '%s' (own, clblast, convgemm, auto)", name);
    return 0;
}

const char *adm_backend_name(adm_backend b) {
    static const char *const names[] = {"own", "clblast", "auto", "convgemm"};
    return names[b];
}

const char *adm_ops_backend(adm_cl *cl) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    return adm_backend_name(s ? s->backend : ADM_BACKEND_OWN);
}

int adm_ops_set_attention_chunk(adm_cl *cl, size_t floats) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return -1;
    s->attn_cap = floats;
    return 0;
}

cl_mem adm_ops_scratch(adm_cl *cl, size_t floats) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return NULL;
    if (floats <= s->scratch_floats && s->scratch) return s->scratch;
    /* Released buffers stay alive until the kernels queued on them finish. */
    adm_cl_release(cl, s->scratch);
    s->scratch = NULL;
    s->scratch_floats = 0;
    cl_mem m = adm_cl_alloc(cl, floats * sizeof(float));
    if (!m) { adm_error_prefix("ops scratch"); return NULL; }
    s->scratch = m;
    s->scratch_floats = floats;
    return m;
}

int adm_ops_reserve_scratch(adm_cl *cl, size_t floats) {
    return adm_ops_scratch(cl, floats) ? 0 : -1;
}

size_t adm_ops_scratch_floats(adm_cl *cl) {
    return cl->ops ? cl->ops->scratch_floats : 0;
}

void adm_ops_release(adm_cl *cl) {
    if (!cl || !cl->ops) return;
    for (int i = 0; i < cl->ops->prof.n_pending; i++) clReleaseEvent(cl->ops->prof.pending[i].ev);
    adm_cl_release(cl, cl->ops->scratch);
    adm_engine_free(cl->ops->engines);
    free(cl->ops);
    cl->ops = NULL;
}

/* ---- profiling (per context: cl->ops->prof) ------------------------------- */

void adm_ops_times_by_kernel(adm_cl *cl, int on) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (s) s->prof.by_kernel = on;
}

static void flush_pending(adm_profile *p) {
    for (int i = 0; i < p->n_pending; i++) {
        cl_ulong t0 = 0, t1 = 0;
        clWaitForEvents(1, &p->pending[i].ev);
        if (clGetEventProfilingInfo(p->pending[i].ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(p->pending[i].ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) == CL_SUCCESS) {
            int k = 0;
            while (k < p->n_kinds && strcmp(p->kinds[k].kind, p->pending[i].kind)) k++;
            if (k == p->n_kinds && p->n_kinds < ADM_PROF_KINDS) p->kinds[p->n_kinds++].kind = p->pending[i].kind;
            if (k < p->n_kinds) {
                p->kinds[k].ms += (double)(t1 - t0) * 1e-6;
                p->kinds[k].calls++;
            }
        }
        clReleaseEvent(p->pending[i].ev);
    }
    p->n_pending = 0;
}

void adm_ops_record(adm_cl *cl, const char *kind, cl_event ev) {
    if (!ev) return;
    struct adm_ops_state *s = cl->profiling ? adm_ops_state_get(cl) : NULL;
    if (!s) { clReleaseEvent(ev); return; }
    adm_profile *p = &s->prof;
    if (p->n_pending == ADM_PROF_PENDING) flush_pending(p);
    p->pending[p->n_pending].kind = kind;
    p->pending[p->n_pending].ev = ev;
    p->n_pending++;
}

int adm_ops_times(adm_cl *cl, adm_op_time *out, int max) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return 0;
    flush_pending(&s->prof);
    int n = s->prof.n_kinds < max ? s->prof.n_kinds : max;
    memcpy(out, s->prof.kinds, (size_t)n * sizeof *out);
    return n;
}

void adm_ops_times_reset(adm_cl *cl) {
    struct adm_ops_state *s = adm_ops_state_get(cl);
    if (!s) return;
    flush_pending(&s->prof);
    s->prof.n_kinds = 0;
    memset(s->prof.kinds, 0, sizeof s->prof.kinds);
}

/* ---- launching ------------------------------------------------------------ */

int adm_set_args(const adm_kernel *k, ...) {
    va_list ap;
    va_start(ap, k);
    for (cl_uint i = 0;; i++) {
        size_t sz = va_arg(ap, size_t);
        if (!sz) break;
        const void *p = va_arg(ap, const void *);
        cl_int err = clSetKernelArg(k->k, i, sz, p);
        if (err != CL_SUCCESS) {
            va_end(ap);
            return adm_error("kernel %s: argument %u: %s", k->name, i, adm_cl_strerror(err));
        }
    }
    va_end(ap);
    return 0;
}

int adm_launch(adm_cl *cl, const adm_kernel *k, const char *label, const char *kind,
               int dims, const size_t *gws, const size_t *lws) {
    size_t g[3], items = 1;
    assert(dims >= 1 && dims <= 3);
    for (int d = 0; d < dims; d++) {
        if (gws[d] == 0) return 0;          /* nothing to do */
        assert(lws[d] >= 1);
        items *= lws[d];
        g[d] = (gws[d] + lws[d] - 1) / lws[d] * lws[d];
    }
    if (items > k->max_wg)
        return adm_error("kernel %s (%s): work-group of %zu items exceeds its limit %zu on %s", k->name, kind, items,
                         k->max_wg, cl->device_name);
    cl_event ev = NULL;
    if (k >= cl->kern && k < cl->kern + ADM_K_COUNT) cl->launches[k - cl->kern]++;
    cl_int err = clEnqueueNDRangeKernel(cl->queue, k->k, (cl_uint)dims, NULL, g, lws, 0, NULL,
                                        cl->profiling ? &ev : NULL);
    if (err != CL_SUCCESS) return adm_error("kernel %s (%s): %s", k->name, kind, adm_cl_strerror(err));
    if (ev) {
        struct adm_ops_state *s = adm_ops_state_get(cl);
        adm_ops_record(cl, s && s->prof.by_kernel ? (label ? label : k->name) : kind, ev);
    }
    return 0;
}

int adm_launch1(adm_cl *cl, const adm_kernel *k, const char *kind, size_t n) {
    size_t lws = adm_cl_wg(cl, (adm_kernel_id)(k - cl->kern), 64);
    return adm_launch(cl, k, NULL, kind, 1, &n, &lws);
}

void adm_assert_view(const adm_dt *t) {
    size_t size = 0;
    assert(t->mem && t->n >= 0 && t->c >= 0 && t->h >= 0 && t->w >= 0);
    if (clGetMemObjectInfo(t->mem, CL_MEM_SIZE, sizeof size, &size, NULL) == CL_SUCCESS)
        assert((t->off + adm_dt_numel(t)) * sizeof(float) <= size);
    (void)size;
}

int adm_shape_error(const char *op, const char *what, const adm_dt *t, const char *expected) {
    return adm_error("%s: %s is [%d, %d, %d, %d], expected %s", op, what, t->n, t->c, t->h, t->w, expected);
}

static int same_shape(const adm_dt *a, const adm_dt *b) {
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w;
}

/* ---- elementwise -------------------------------------------------------- */

int adm_op_silu(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y);
    if (!same_shape(x, y)) return adm_shape_error("silu", "y", y, "the shape of x");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_silu);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint n = (cl_uint)adm_dt_numel(x);
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(n), 0)) return -1;
    return adm_launch1(cl, k, "silu", n);
}

int adm_op_add(adm_cl *cl, const adm_dt *a, const adm_dt *b, adm_dt *y) {
    ADM_ASSERT_VIEW(a); ADM_ASSERT_VIEW(b); ADM_ASSERT_VIEW(y);
    if (adm_dt_numel(a) != adm_dt_numel(b)) return adm_shape_error("add", "b", b, "as many elements as a");
    if (adm_dt_numel(a) != adm_dt_numel(y)) return adm_shape_error("add", "y", y, "as many elements as a");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_add);
    cl_ulong ao = a->off, bo = b->off, yo = y->off;
    cl_uint n = (cl_uint)adm_dt_numel(a);
    if (adm_set_args(k, ARG(a->mem), ARG(ao), ARG(b->mem), ARG(bo), ARG(y->mem), ARG(yo), ARG(n), 0))
        return -1;
    return adm_launch1(cl, k, "add", n);
}

int adm_op_add_channel(adm_cl *cl, adm_dt *y, const adm_dt *v) {
    ADM_ASSERT_VIEW(y); ADM_ASSERT_VIEW(v);
    if ((size_t)v->n * v->c * v->h * v->w != (size_t)y->n * y->c)
        return adm_shape_error("add_channel", "v", v, "one value per (sample, channel) of y");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_add_channel);
    cl_ulong yo = y->off, vo = v->off;
    cl_uint n = (cl_uint)(y->n * y->c), hw = (cl_uint)(y->h * y->w);
    if (adm_set_args(k, ARG(y->mem), ARG(yo), ARG(v->mem), ARG(vo), ARG(n), ARG(hw), 0))
        return -1;
    return adm_launch1(cl, k, "add", n);
}

int adm_op_copy(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y);
    if (adm_dt_numel(x) != adm_dt_numel(y)) return adm_shape_error("copy", "y", y, "as many elements as x");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_copy);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint n = (cl_uint)adm_dt_numel(x);
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(n), 0)) return -1;
    return adm_launch1(cl, k, "copy", n);
}

int adm_op_concat(adm_cl *cl, const adm_dt *a, const adm_dt *b, adm_dt *y) {
    ADM_ASSERT_VIEW(a); ADM_ASSERT_VIEW(b); ADM_ASSERT_VIEW(y);
    if (a->n != y->n || b->n != y->n || a->h != y->h || b->h != y->h || a->w != y->w || b->w != y->w ||
        a->c + b->c != y->c)
        return adm_shape_error("concat", "y", y, "[N, Ca + Cb, H, W] of a and b");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_concat);
    cl_ulong ao = a->off, bo = b->off, yo = y->off;
    cl_uint ca = (cl_uint)a->c, cb = (cl_uint)b->c, hw = (cl_uint)(a->h * a->w), n = (cl_uint)(y->n * y->c);
    if (adm_set_args(k, ARG(a->mem), ARG(ao), ARG(b->mem), ARG(bo), ARG(y->mem), ARG(yo),
                           ARG(ca), ARG(cb), ARG(hw), ARG(n), 0))
        return -1;
    return adm_launch1(cl, k, "concat", n);
}

/* ---- resampling ----------------------------------------------------------- */

int adm_op_upsample_nearest2x(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y);
    if (y->n != x->n || y->c != x->c || y->h != 2 * x->h || y->w != 2 * x->w)
        return adm_shape_error("upsample_nearest2x", "y", y, "[N, C, 2H, 2W] of x");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_upsample_nearest2x);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint h = (cl_uint)x->h, w = (cl_uint)x->w, n = (cl_uint)(y->n * y->c * y->h);   /* output rows */
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo),
                           ARG(h), ARG(w), ARG(n), 0))
        return -1;
    return adm_launch1(cl, k, "resample", n);
}

int adm_op_avgpool2x2(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y);
    if (y->n != x->n || y->c != x->c || y->h != x->h / 2 || y->w != x->w / 2 || y->h == 0 || y->w == 0)
        return adm_shape_error("avgpool2x2", "y", y, "[N, C, H/2, W/2] of x");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_avgpool2x2);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint h = (cl_uint)x->h, w = (cl_uint)x->w, n = (cl_uint)(y->n * y->c * y->h);   /* output rows */
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(h), ARG(w), ARG(n), 0))
        return -1;
    return adm_launch1(cl, k, "resample", n);
}

int adm_op_upsample_bilinear(adm_cl *cl, const adm_dt *x, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y);
    if (y->n != x->n || y->c != x->c || y->h < 1 || y->w < 1 || x->h < 1 || x->w < 1)
        return adm_shape_error("upsample_bilinear", "y", y, "[N, C, H', W'] with x's N and C");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_upsample_bilinear);
    cl_ulong xo = x->off, yo = y->off;
    cl_uint h = (cl_uint)x->h, w = (cl_uint)x->w, oh = (cl_uint)y->h, ow = (cl_uint)y->w;
    cl_uint n = (cl_uint)(y->n * y->c * y->h);   /* output rows */
    float sh = (float)x->h / (float)y->h, sw = (float)x->w / (float)y->w;   /* torch: (float)in / out */
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(y->mem), ARG(yo), ARG(h), ARG(w),
                           ARG(oh), ARG(ow), ARG(sh), ARG(sw), ARG(n), 0))
        return -1;
    return adm_launch1(cl, k, "resample", n);
}

/* ---- normalization -------------------------------------------------------- */

int adm_op_group_norm(adm_cl *cl, const adm_dt *x, const adm_dt *gamma, const adm_dt *beta,
                      int groups, float eps, const adm_dt *ss, int silu, adm_dt *y) {
    ADM_ASSERT_VIEW(x); ADM_ASSERT_VIEW(y); ADM_ASSERT_VIEW(gamma); ADM_ASSERT_VIEW(beta);
    if (groups < 1 || x->c % groups) return adm_error("group_norm: %d channels do not split into %d groups", x->c, groups);
    if (!same_shape(x, y)) return adm_shape_error("group_norm", "y", y, "the shape of x");
    if (adm_dt_numel(gamma) != (size_t)x->c || adm_dt_numel(beta) != (size_t)x->c)
        return adm_shape_error("group_norm", "gamma/beta", gamma, "C values");
    if (ss && adm_dt_numel(ss) != (size_t)x->n * 2 * x->c)
        return adm_shape_error("group_norm", "ss", ss, "[N, 2C] (scale | shift)");
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_group_norm);
    cl_ulong xo = x->off, go = gamma->off, bo = beta->off, so = ss ? ss->off : 0, yo = y->off;
    cl_int has_ss = ss != NULL, si = silu != 0;
    cl_mem ssm = ss ? ss->mem : x->mem;
    cl_uint C = (cl_uint)x->c, HW = (cl_uint)(x->h * x->w), G = (cl_uint)groups;
    if (adm_set_args(k, ARG(x->mem), ARG(xo), ARG(gamma->mem), ARG(go), ARG(beta->mem), ARG(bo),
                           ARG(ssm), ARG(so), ARG(has_ss), ARG(si), ARG(y->mem), ARG(yo), ARG(C), ARG(HW), ARG(G),
                           ARG(eps), 0))
        return -1;
    /* a work-group of up to 64 per (sample, group); norm.cl's sums are the same bits for any size */
    size_t wg = adm_cl_wg(cl, ADM_K_adm_group_norm, 64);
    size_t gws[2] = {(size_t)groups * wg, (size_t)x->n}, lws[2] = {wg, 1};
    return adm_launch(cl, k, NULL, "group_norm", 2, gws, lws);
}

/* ---- embeddings ----------------------------------------------------------- */

int adm_op_timestep_embedding(adm_cl *cl, const float *t, int n, int dim, adm_dt *y) {
    if (n < 1 || dim < 2 || adm_dt_numel(y) != (size_t)n * dim)
        return adm_shape_error("timestep_embedding", "y", y, "[N, dim]");
    float *h = adm_malloc((size_t)n * dim * sizeof(float));
    if (!h) return -1;
    /* As the reference, in fp32: freqs = exp(-ln(max_period) * arange(half) / half),
     * args = t.float() * freqs, embedding = cat([cos(args), sin(args)]) (+ a zero column if dim is odd). */
    int half = dim / 2;
    const float neg_log_period = (float)-log(10000.0);
    for (int b = 0; b < n; b++) {
        float *row = h + (size_t)b * dim;
        for (int i = 0; i < half; i++) {
            float f = expf((neg_log_period * (float)i) / (float)half);
            float a = t[b] * f;
            row[i] = cosf(a);
            row[half + i] = sinf(a);
        }
        if (dim % 2) row[dim - 1] = 0.0f;
    }
    int rc = adm_cl_write(cl, y->mem, y->off * sizeof(float), (size_t)n * dim * sizeof(float), h);
    free(h);
    return rc;
}

int adm_op_embedding_add(adm_cl *cl, const adm_dt *table, const int64_t *labels, int n, adm_dt *y) {
    int rows = table->n * table->c, D = table->h * table->w;
    if (table->h == 1 && table->n == 1) { rows = table->c; D = table->w; }   /* 2-d [rows, D] as c=rows, w=D */
    if (adm_dt_numel(y) != (size_t)n * D) return adm_shape_error("embedding_add", "y", y, "[N, D] of the table");
    for (int b = 0; b < n; b++) {
        if (labels[b] < 0 || labels[b] >= rows)
            return adm_error("embedding_add: label %lld of sample %d is outside 0..%d", (long long)labels[b], b, rows - 1);
        adm_dt row = adm_dt_make(table->mem, table->off + (size_t)labels[b] * D, 1, D, 1, 1);
        adm_dt yr = adm_dt_make(y->mem, y->off + (size_t)b * D, 1, D, 1, 1);
        if (adm_op_add(cl, &yr, &row, &yr)) return -1;
    }
    return 0;
}
