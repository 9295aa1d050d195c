/* ref_classifier.h — a plain-C, double-precision host implementation of
 * guided-diffusion's EncoderUNetModel forward (unet.py / nn.py), written
 * from the reference for tests: it checks the device classifier's logits
 * and, through central differences of
 *
 *     f(x) = sum_b log_softmax(logits_b)[y_b],
 *
 * its input gradient.  Slow and simple on purpose: one function per
 * module of the reference, weights looked up by state-dict name.
 */
#ifndef ADM_TEST_REF_CLASSIFIER_H
#define ADM_TEST_REF_CLASSIFIER_H
#include "config.h"
#include "tensor.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double *d; int n, c, h, w; } rt;     /* an NCHW host tensor */

static rt rt_new(int n, int c, int h, int w) {
    rt t = {calloc((size_t)n * c * h * w, sizeof(double)), n, c, h, w};
    if (!t.d) { fprintf(stderr, "ref_classifier: out of memory\n"); exit(2); }
    return t;
}
static void rt_free(rt *t) { free(t->d); t->d = NULL; }
static size_t rt_numel(const rt *t) { return (size_t)t->n * t->c * t->h * t->w; }

typedef struct { const adm_config *cfg; const adm_tensor_set *w; } ref_ctx;

/* Weight `name` as float32 data (every test set is float32). */
static const float *ref_w(const ref_ctx *r, size_t numel, const char *fmt, ...) {
    char name[160];
    va_list ap; va_start(ap, fmt); vsnprintf(name, sizeof name, fmt, ap); va_end(ap);
    const adm_tensor *t = adm_tensors_find(r->w, name);
    if (!t || t->dtype != ADM_F32 || (size_t)adm_tensor_numel(t) != numel) {
        fprintf(stderr, "ref_classifier: weight %s missing or not %zu float32 values\n", name, numel);
        exit(2);
    }
    return (const float *)t->data;
}

/* conv_nd: y = conv(x, w [O, I, k, k]) + b, padding k/2, stride s. */
static rt ref_conv(const ref_ctx *r, const rt *x, int O, int k, int s, const char *pre) {
    const float *w = ref_w(r, (size_t)O * x->c * k * k, "%s.weight", pre), *b = ref_w(r, O, "%s.bias", pre);
    const int p = k / 2, OH = (x->h + 2 * p - k) / s + 1, OW = (x->w + 2 * p - k) / s + 1;
    rt y = rt_new(x->n, O, OH, OW);
    for (int n = 0; n < x->n; n++)
        for (int o = 0; o < O; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double acc = b[o];
                    for (int i = 0; i < x->c; i++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s + ky - p, ix = ox * s + kx - p;
                                if (iy < 0 || ix < 0 || iy >= x->h || ix >= x->w) continue;
                                acc += (double)w[((size_t)(o * x->c + i) * k + ky) * k + kx] *
                                       x->d[(((size_t)n * x->c + i) * x->h + iy) * x->w + ix];
                            }
                    y.d[(((size_t)n * O + o) * OH + oy) * OW + ox] = acc;
                }
    return y;
}

/* nn.Linear on rows: y [N, O] = x [N, I] w^T + b. */
static rt ref_linear(const ref_ctx *r, const rt *x, int O, const char *pre) {
    const int I = x->c * x->h * x->w;
    const float *w = ref_w(r, (size_t)O * I, "%s.weight", pre), *b = ref_w(r, O, "%s.bias", pre);
    rt y = rt_new(x->n, O, 1, 1);
    for (int n = 0; n < x->n; n++)
        for (int o = 0; o < O; o++) {
            double acc = b[o];
            for (int i = 0; i < I; i++) acc += (double)w[(size_t)o * I + i] * x->d[(size_t)n * I + i];
            y.d[(size_t)n * O + o] = acc;
        }
    return y;
}

static double ref_silu1(double v) { return v / (1.0 + exp(-v)); }
static void ref_silu(rt *x) { for (size_t i = 0; i < rt_numel(x); i++) x->d[i] = ref_silu1(x->d[i]); }

/* GroupNorm32(32, C) (eps 1e-5, biased variance) in place. */
static void ref_group_norm(const ref_ctx *r, rt *x, const char *pre) {
    const int C = x->c, G = 32, cpg = C / G, HW = x->h * x->w;
    const float *g = ref_w(r, C, "%s.weight", pre), *b = ref_w(r, C, "%s.bias", pre);
    for (int n = 0; n < x->n; n++)
        for (int gi = 0; gi < G; gi++) {
            double *p = x->d + ((size_t)n * C + (size_t)gi * cpg) * HW, m = 0, v = 0;
            const size_t len = (size_t)cpg * HW;
            for (size_t j = 0; j < len; j++) m += p[j];
            m /= len;
            for (size_t j = 0; j < len; j++) v += (p[j] - m) * (p[j] - m);
            v /= len;
            for (size_t j = 0; j < len; j++) {
                int c = gi * cpg + (int)(j / HW);
                p[j] = (p[j] - m) / sqrt(v + 1e-5) * g[c] + b[c];
            }
        }
}

static rt ref_avgpool(const rt *x) {
    rt y = rt_new(x->n, x->c, x->h / 2, x->w / 2);
    for (size_t nc = 0; nc < (size_t)x->n * x->c; nc++)
        for (int i = 0; i < y.h; i++)
            for (int j = 0; j < y.w; j++) {
                const double *p = x->d + (nc * x->h + 2 * i) * x->w + 2 * j;
                y.d[(nc * y.h + i) * y.w + j] = (p[0] + p[1] + p[x->w] + p[x->w + 1]) / 4;
            }
    return y;
}

/* QKVAttentionLegacy (legacy=1) / QKVAttention (legacy=0) on qkv [N, 3C, T]. */
static rt ref_attention(const rt *qkv, int heads, int legacy) {
    const int N = qkv->n, T = qkv->h * qkv->w, C = qkv->c / 3, ch = C / heads;
    const double scale = 1.0 / sqrt(sqrt((double)ch));
    rt a = rt_new(N, C, 1, T);
    double *wts = malloc((size_t)T * sizeof(double));
    for (int n = 0; n < N; n++)
        for (int h = 0; h < heads; h++) {
            const double *base = qkv->d + (size_t)n * 3 * C * T, *q, *k, *v;
            if (legacy) { q = base + (size_t)h * 3 * ch * T; k = q + (size_t)ch * T; v = k + (size_t)ch * T; }
            else { q = base + (size_t)h * ch * T; k = q + (size_t)C * T; v = k + (size_t)C * T; }
            for (int t = 0; t < T; t++) {
                double m = -INFINITY, s = 0;
                for (int u = 0; u < T; u++) {
                    double d = 0;
                    for (int c = 0; c < ch; c++) d += q[(size_t)c * T + t] * scale * k[(size_t)c * T + u] * scale;
                    wts[u] = d; if (d > m) m = d;
                }
                for (int u = 0; u < T; u++) { wts[u] = exp(wts[u] - m); s += wts[u]; }
                for (int c = 0; c < ch; c++) {
                    double acc = 0;
                    for (int u = 0; u < T; u++) acc += wts[u] / s * v[(size_t)c * T + u];
                    a.d[((size_t)n * C + (size_t)h * ch + c) * T + t] = acc;
                }
            }
        }
    free(wts);
    return a;
}

/* ResBlock._forward (dropout 0). */
static rt ref_resblock(const ref_ctx *r, const rt *x, const rt *emb, int cout, int down, const char *pre) {
    char nm[160];
    rt a = rt_new(x->n, x->c, x->h, x->w), xs;
    memcpy(a.d, x->d, rt_numel(x) * sizeof(double));
    snprintf(nm, sizeof nm, "%s.in_layers.0", pre); ref_group_norm(r, &a, nm); ref_silu(&a);
    if (down) { rt t = ref_avgpool(&a); rt_free(&a); a = t; xs = ref_avgpool(x); }
    else { xs = rt_new(x->n, x->c, x->h, x->w); memcpy(xs.d, x->d, rt_numel(x) * sizeof(double)); }
    snprintf(nm, sizeof nm, "%s.in_layers.2", pre);
    rt h = ref_conv(r, &a, cout, 3, 1, nm);
    rt_free(&a);
    rt es = rt_new(emb->n, emb->c, 1, 1);
    memcpy(es.d, emb->d, rt_numel(emb) * sizeof(double)); ref_silu(&es);
    const int ss = r->cfg->use_scale_shift_norm;
    snprintf(nm, sizeof nm, "%s.emb_layers.1", pre);
    rt eo = ref_linear(r, &es, ss ? 2 * cout : cout, nm);
    rt_free(&es);
    const int HW = h.h * h.w;
    snprintf(nm, sizeof nm, "%s.out_layers.0", pre);
    if (ss) {
        ref_group_norm(r, &h, nm);
        for (int n = 0; n < h.n; n++)
            for (int c = 0; c < cout; c++)
                for (int j = 0; j < HW; j++) {
                    double *p = &h.d[((size_t)n * cout + c) * HW + j];
                    *p = *p * (1 + eo.d[(size_t)n * 2 * cout + c]) + eo.d[(size_t)n * 2 * cout + cout + c];
                }
    } else {
        for (int n = 0; n < h.n; n++)
            for (int c = 0; c < cout; c++)
                for (int j = 0; j < HW; j++) h.d[((size_t)n * cout + c) * HW + j] += eo.d[(size_t)n * cout + c];
        ref_group_norm(r, &h, nm);
    }
    rt_free(&eo);
    ref_silu(&h);
    snprintf(nm, sizeof nm, "%s.out_layers.3", pre);
    rt h2 = ref_conv(r, &h, cout, 3, 1, nm);
    rt_free(&h);
    if (x->c != cout) {
        snprintf(nm, sizeof nm, "%s.skip_connection", pre);
        rt s = ref_conv(r, &xs, cout, 1, 1, nm);
        rt_free(&xs); xs = s;
    }
    for (size_t i = 0; i < rt_numel(&h2); i++) h2.d[i] += xs.d[i];
    rt_free(&xs);
    return h2;
}

/* AttentionBlock._forward. */
static rt ref_attnblock(const ref_ctx *r, const rt *x, const char *pre) {
    char nm[160];
    const int C = x->c, T = x->h * x->w;
    const int heads = r->cfg->num_head_channels == -1 ? r->cfg->num_heads : C / r->cfg->num_head_channels;
    rt nx = rt_new(x->n, C, 1, T);
    memcpy(nx.d, x->d, rt_numel(x) * sizeof(double));
    snprintf(nm, sizeof nm, "%s.norm", pre); ref_group_norm(r, &nx, nm);
    snprintf(nm, sizeof nm, "%s.qkv", pre);
    rt qkv = ref_conv(r, &nx, 3 * C, 1, 1, nm);
    rt a = ref_attention(&qkv, heads, !r->cfg->use_new_attention_order);
    snprintf(nm, sizeof nm, "%s.proj_out", pre);
    rt p = ref_conv(r, &a, C, 1, 1, nm);
    rt y = rt_new(x->n, C, x->h, x->w);
    for (size_t i = 0; i < rt_numel(&y); i++) y.d[i] = x->d[i] + p.d[i];
    rt_free(&nx); rt_free(&qkv); rt_free(&a); rt_free(&p);
    return y;
}

/* Spatial mean of h appended at column *off of feat [N, F]. */
static void ref_push_mean(const rt *h, rt *feat, int *off) {
    const int HW = h->h * h->w;
    for (int n = 0; n < h->n; n++)
        for (int c = 0; c < h->c; c++) {
            double s = 0;
            for (int j = 0; j < HW; j++) s += h->d[((size_t)n * h->c + c) * HW + j];
            if (feat->d) feat->d[(size_t)n * feat->c + *off + c] = s / HW;
        }
    *off += h->c;
}

/* EncoderUNetModel.forward: logits [B, K] of x [B, in, S, S] (double). */
static void ref_classifier_logits(const adm_config *cfg, const adm_tensor_set *w, const double *x,
                                  const float *t, int B, double *logits) {
    ref_ctx r = {cfg, w};
    const int mc = cfg->model_channels, S = cfg->image_size, K = cfg->out_channels;
    char nm[160];
    /* emb = time_embed(timestep_embedding(t, mc)) */
    rt te = rt_new(B, mc, 1, 1);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < mc / 2; i++) {
            double f = exp(-log(10000.0) * i / (mc / 2)), a = (double)t[b] * f;
            te.d[(size_t)b * mc + i] = cos(a); te.d[(size_t)b * mc + mc / 2 + i] = sin(a);
        }
    rt e1 = ref_linear(&r, &te, 4 * mc, "time_embed.0");
    ref_silu(&e1);
    rt emb = ref_linear(&r, &e1, 4 * mc, "time_embed.2");
    rt_free(&te); rt_free(&e1);

    /* The spatial heads read the mean of every input block's output and of
     * the middle block's: F = the sum of their channels. */
    const int spatial = !strncmp(cfg->pool, "spatial", 7);
    int F = adm_config_channels(cfg, 0), off = 0;
    for (int level = 0; level < cfg->n_levels; level++)
        F += adm_config_channels(cfg, level) * (cfg->num_res_blocks + (level != cfg->n_levels - 1));
    F += adm_config_channels(cfg, cfg->n_levels - 1);
    rt feat = {0};
    if (spatial) feat = rt_new(B, F, 1, 1);

    rt h = rt_new(B, cfg->in_channels, S, S), nh;
    memcpy(h.d, x, rt_numel(&h) * sizeof(double));
    nh = ref_conv(&r, &h, adm_config_channels(cfg, 0), 3, 1, "input_blocks.0.0");
    rt_free(&h); h = nh;
    ref_push_mean(&h, &feat, &off);
    int blk = 1, ds = 1;
    for (int level = 0; level < cfg->n_levels; level++) {
        for (int i = 0; i < cfg->num_res_blocks; i++) {
            snprintf(nm, sizeof nm, "input_blocks.%d.0", blk);
            nh = ref_resblock(&r, &h, &emb, adm_config_channels(cfg, level), 0, nm);
            rt_free(&h); h = nh;
            for (int a = 0; a < cfg->n_attention_ds; a++)
                if (cfg->attention_ds[a] == ds) {
                    snprintf(nm, sizeof nm, "input_blocks.%d.1", blk);
                    nh = ref_attnblock(&r, &h, nm);
                    rt_free(&h); h = nh;
                }
            ref_push_mean(&h, &feat, &off);
            blk++;
        }
        if (level != cfg->n_levels - 1) {
            snprintf(nm, sizeof nm, "input_blocks.%d.0", blk);
            if (cfg->resblock_updown) nh = ref_resblock(&r, &h, &emb, h.c, 1, nm);
            else if (cfg->conv_resample) { snprintf(nm, sizeof nm, "input_blocks.%d.0.op", blk); nh = ref_conv(&r, &h, h.c, 3, 2, nm); }
            else nh = ref_avgpool(&h);
            rt_free(&h); h = nh;
            ref_push_mean(&h, &feat, &off);
            blk++; ds *= 2;
        }
    }
    nh = ref_resblock(&r, &h, &emb, h.c, 0, "middle_block.0"); rt_free(&h); h = nh;
    nh = ref_attnblock(&r, &h, "middle_block.1"); rt_free(&h); h = nh;
    nh = ref_resblock(&r, &h, &emb, h.c, 0, "middle_block.2"); rt_free(&h); h = nh;
    ref_push_mean(&h, &feat, &off);
    rt_free(&emb);

    const int C = h.c, HW = h.h * h.w;
    rt out;
    if (!strcmp(cfg->pool, "attention")) {
        /* GN, SiLU, AttentionPool2d */
        ref_group_norm(&r, &h, "out.0"); ref_silu(&h);
        const int T1 = HW + 1;
        const float *pos = ref_w(&r, (size_t)C * T1, "out.2.positional_embedding");
        rt tok = rt_new(B, C, 1, T1);
        for (int n = 0; n < B; n++)
            for (int c = 0; c < C; c++) {
                const double *p = h.d + ((size_t)n * C + c) * HW;
                double *o = tok.d + ((size_t)n * C + c) * T1, s = 0;
                for (int j = 0; j < HW; j++) s += p[j];
                o[0] = s / HW + pos[(size_t)c * T1];
                for (int j = 0; j < HW; j++) o[1 + j] = p[j] + pos[(size_t)c * T1 + 1 + j];
            }
        rt qkv = ref_conv(&r, &tok, 3 * C, 1, 1, "out.2.qkv_proj");
        rt a = ref_attention(&qkv, C / cfg->num_head_channels, 0);
        rt y = ref_conv(&r, &a, K, 1, 1, "out.2.c_proj");
        out = rt_new(B, K, 1, 1);
        for (int n = 0; n < B; n++)
            for (int k = 0; k < K; k++) out.d[(size_t)n * K + k] = y.d[((size_t)n * K + k) * T1];
        rt_free(&tok); rt_free(&qkv); rt_free(&a); rt_free(&y);
    } else if (!strcmp(cfg->pool, "adaptive")) {
        ref_group_norm(&r, &h, "out.0"); ref_silu(&h);
        rt m = rt_new(B, C, 1, 1);
        int o0 = 0; ref_push_mean(&h, &m, &o0);
        out = ref_conv(&r, &m, K, 1, 1, "out.3");
        rt_free(&m);
    } else {
        rt z = ref_linear(&r, &feat, 2048, "out.0");
        if (!strcmp(cfg->pool, "spatial")) {
            for (size_t i = 0; i < rt_numel(&z); i++) z.d[i] = z.d[i] > 0 ? z.d[i] : 0;
            out = ref_linear(&r, &z, K, "out.2");
        } else {
            ref_group_norm(&r, &z, "out.1"); ref_silu(&z);
            out = ref_linear(&r, &z, K, "out.3");
        }
        rt_free(&z);
    }
    memcpy(logits, out.d, (size_t)B * K * sizeof(double));
    rt_free(&out); rt_free(&h); rt_free(&feat);
}

/* f(x) = sum_b log_softmax(logits_b)[y_b]. */
static double ref_classifier_objective(const adm_config *cfg, const adm_tensor_set *w, const double *x,
                                       const float *t, const int64_t *y, int B) {
    const int K = cfg->out_channels;
    double *l = malloc((size_t)B * K * sizeof(double)), f = 0;
    ref_classifier_logits(cfg, w, x, t, B, l);
    for (int b = 0; b < B; b++) {
        double m = -INFINITY, s = 0;
        for (int k = 0; k < K; k++) if (l[b * K + k] > m) m = l[b * K + k];
        for (int k = 0; k < K; k++) s += exp(l[b * K + k] - m);
        f += l[b * K + y[b]] - m - log(s);
    }
    free(l);
    return f;
}

#endif
