/* classifier.c — the noisy classifier (guided-diffusion's EncoderUNetModel)
 * on an OpenCL device: its layers, weights, memory plan and forward pass.
 * The backward pass to the input is in classifier_backward.c.
 *
 * Forward, as the reference computes it:
 *     emb = time_embed(timestep_embedding(t, mc))      linear, SiLU, linear
 *     h   = x;  for module in input_blocks: h = module(h, emb)
 *     h   = middle_block(h, emb)
 *     logits = out(h)
 * with out = GroupNorm, SiLU, AttentionPool2d for pool='attention' (token
 * 0 = spatial mean prepended to the HW tokens, + positional embedding,
 * qkv_proj, QKVAttention (new order) with C / num_head_channels heads,
 * c_proj, logits = token 0), or the 'adaptive', 'spatial', 'spatial_v2'
 * heads.  Every tensor the backward needs is kept (see cls_layer).
 */
#include "classifier_net.h"
#include "util.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

/* ------------------------------------------------------------------ */
/* The layer list: EncoderUNetModel's description (network.h)          */
/* ------------------------------------------------------------------ */

int cls_build_layers(const adm_config *cfg, cls_layer **out, int *n_out, int *feat_dim) {
    *out = NULL; *n_out = 0;
    if (cfg->image_size <= 0 || cfg->n_levels < 1 || cfg->n_levels > ADM_MAX_LEVELS ||
        cfg->image_size % (1 << (cfg->n_levels - 1)))
        return adm_error("classifier config: image_size %d is not a positive multiple of 2^(levels - 1) (%d levels)",
                         cfg->image_size, cfg->n_levels);
    adm_network net;
    if (adm_network_describe(cfg, &net) != 0) return adm_error_prefix("classifier");
    cls_layer *v = adm_calloc((size_t)net.n, sizeof *v);
    if (!v) { adm_network_free(&net); return -1; }
    static const cls_kind kinds[] = {[ADM_LAYER_CONV] = CLS_CONV, [ADM_LAYER_RES] = CLS_RES,
                                     [ADM_LAYER_ATTN] = CLS_ATTN, [ADM_LAYER_DOWN] = CLS_DOWN};
    int n = 0, feat = 0;
    for (int i = 0; i < net.n; i++) {
        const adm_layer *d = &net.l[i];
        cls_layer *L = &v[n++];
        if (d->part == ADM_PART_OUTPUT || d->kind == ADM_LAYER_UP) {
            adm_network_free(&net); free(v);
            return adm_error("classifier config: layer %s is not part of an EncoderUNetModel", d->name);
        }
        L->kind = kinds[d->kind];
        snprintf(L->name, sizeof L->name, "%s", d->name);
        L->cin = d->cin; L->cout = d->cout;
        L->h = L->w = cfg->image_size / d->ds;
        L->down = d->down;
        L->conv_down = d->kind == ADM_LAYER_DOWN && d->use_conv;
        L->heads = d->heads;
        L->block_end = d->block_end;
        if (d->kind == ADM_LAYER_ATTN && d->heads <= 0) {
            adm_error("classifier config: %d channels at %s cannot be split into heads (num_heads %d, num_head_channels %d)",
                      d->cin, d->name, cfg->num_heads, cfg->num_head_channels);
            adm_network_free(&net); free(v);
            return -1;
        }
        if (d->block_end) { L->feat_off = feat; feat += d->cout; }
    }
    adm_network_free(&net);
    *out = v; *n_out = n;
    if (feat_dim) *feat_dim = feat;
    return 0;
}

static int parse_pool(const char *s, cls_pool *p) {
    if (!strcmp(s, "attention")) *p = CLS_POOL_ATTENTION;
    else if (!strcmp(s, "adaptive") || !*s) *p = CLS_POOL_ADAPTIVE;   /* the constructor's default */
    else if (!strcmp(s, "spatial")) *p = CLS_POOL_SPATIAL;
    else if (!strcmp(s, "spatial_v2")) *p = CLS_POOL_SPATIAL_V2;
    else return adm_error("classifier config: unknown pool '%s' (attention, adaptive, spatial, spatial_v2)", s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */
/* ------------------------------------------------------------------ */

/* View of weight `prefix.suffix`, checked to hold `numel` floats. */
static int wget(const adm_classifier *c, adm_dt *t, size_t numel, const char *prefix, const char *suffix) {
    char name[128];
    snprintf(name, sizeof name, "%s%s%s", prefix, *suffix ? "." : "", suffix);
    if (adm_weights_get(&c->w, name, t)) return -1;
    if (adm_dt_numel(t) != numel)
        return adm_error("weight %s: %zu values, the config implies %zu", name, adm_dt_numel(t), numel);
    return 0;
}

static int bind_layer(adm_classifier *c, cls_layer *L) {
    const char *p = L->name;
    char s[96];
    const size_t ci = L->cin, co = L->cout, ed = 4 * (size_t)c->cfg.model_channels;
    switch (L->kind) {
    case CLS_CONV:
        TRY(wget(c, &L->conv_w, co * ci * 9, p, "weight"));
        return wget(c, &L->conv_b, co, p, "bias");
    case CLS_DOWN:
        if (!L->conv_down) return 0;
        snprintf(s, sizeof s, "%s.op", p);
        TRY(wget(c, &L->conv_w, co * ci * 9, s, "weight"));
        return wget(c, &L->conv_b, co, s, "bias");
    case CLS_RES: {
        const size_t emb_out = c->cfg.use_scale_shift_norm ? 2 * co : co;
        snprintf(s, sizeof s, "%s.in_layers.0", p);
        TRY(wget(c, &L->in_norm_g, ci, s, "weight")); TRY(wget(c, &L->in_norm_b, ci, s, "bias"));
        snprintf(s, sizeof s, "%s.in_layers.2", p);
        TRY(wget(c, &L->in_conv_w, co * ci * 9, s, "weight")); TRY(wget(c, &L->in_conv_b, co, s, "bias"));
        snprintf(s, sizeof s, "%s.emb_layers.1", p);
        TRY(wget(c, &L->emb_w, emb_out * ed, s, "weight")); TRY(wget(c, &L->emb_b, emb_out, s, "bias"));
        snprintf(s, sizeof s, "%s.out_layers.0", p);
        TRY(wget(c, &L->out_norm_g, co, s, "weight")); TRY(wget(c, &L->out_norm_b, co, s, "bias"));
        snprintf(s, sizeof s, "%s.out_layers.3", p);
        TRY(wget(c, &L->out_conv_w, co * co * 9, s, "weight")); TRY(wget(c, &L->out_conv_b, co, s, "bias"));
        if (ci == co) return 0;
        snprintf(s, sizeof s, "%s.skip_connection", p);
        TRY(wget(c, &L->skip_w, co * ci, s, "weight"));
        return wget(c, &L->skip_b, co, s, "bias");
    }
    case CLS_ATTN:
        snprintf(s, sizeof s, "%s.norm", p);
        TRY(wget(c, &L->norm_g, ci, s, "weight")); TRY(wget(c, &L->norm_b, ci, s, "bias"));
        snprintf(s, sizeof s, "%s.qkv", p);
        TRY(wget(c, &L->qkv_w, 3 * ci * ci, s, "weight")); TRY(wget(c, &L->qkv_b, 3 * ci, s, "bias"));
        snprintf(s, sizeof s, "%s.proj_out", p);
        TRY(wget(c, &L->proj_w, ci * ci, s, "weight"));
        return wget(c, &L->proj_b, ci, s, "bias");
    }
    return adm_error("classifier: unknown layer kind");
}

static int bind_head(adm_classifier *c) {
    const size_t C = c->C_out, K = c->cfg.out_channels, mc = c->cfg.model_channels;
    TRY(wget(c, &c->time0_w, 4 * mc * mc, "time_embed.0", "weight"));
    TRY(wget(c, &c->time0_b, 4 * mc, "time_embed.0", "bias"));
    TRY(wget(c, &c->time2_w, 16 * mc * mc, "time_embed.2", "weight"));
    TRY(wget(c, &c->time2_b, 4 * mc, "time_embed.2", "bias"));
    const size_t T1 = (size_t)c->H_out * c->H_out + 1, F = c->feat_dim, Hd = CLS_SPATIAL_HIDDEN;
    switch (c->pool) {
    case CLS_POOL_ATTENTION:
        TRY(wget(c, &c->out_norm_g, C, "out.0", "weight")); TRY(wget(c, &c->out_norm_b, C, "out.0", "bias"));
        TRY(wget(c, &c->pos, C * T1, "out.2", "positional_embedding"));
        TRY(wget(c, &c->pool_qkv_w, 3 * C * C, "out.2.qkv_proj", "weight"));
        TRY(wget(c, &c->pool_qkv_b, 3 * C, "out.2.qkv_proj", "bias"));
        TRY(wget(c, &c->c_proj_w, K * C, "out.2.c_proj", "weight"));
        return wget(c, &c->c_proj_b, K, "out.2.c_proj", "bias");
    case CLS_POOL_ADAPTIVE:
        TRY(wget(c, &c->out_norm_g, C, "out.0", "weight")); TRY(wget(c, &c->out_norm_b, C, "out.0", "bias"));
        TRY(wget(c, &c->head_w, K * C, "out.3", "weight"));
        return wget(c, &c->head_b, K, "out.3", "bias");
    case CLS_POOL_SPATIAL:
        TRY(wget(c, &c->sp0_w, Hd * F, "out.0", "weight")); TRY(wget(c, &c->sp0_b, Hd, "out.0", "bias"));
        TRY(wget(c, &c->sp1_w, K * Hd, "out.2", "weight"));
        return wget(c, &c->sp1_b, K, "out.2", "bias");
    case CLS_POOL_SPATIAL_V2:
        TRY(wget(c, &c->sp0_w, Hd * F, "out.0", "weight")); TRY(wget(c, &c->sp0_b, Hd, "out.0", "bias"));
        TRY(wget(c, &c->sp_norm_g, Hd, "out.1", "weight")); TRY(wget(c, &c->sp_norm_b, Hd, "out.1", "bias"));
        TRY(wget(c, &c->sp1_w, K * Hd, "out.3", "weight"));
        return wget(c, &c->sp1_b, K, "out.3", "bias");
    }
    return 0;
}

/* The input-gradient weights: every conv's weight transposed and flipped,
 * in one device buffer (made on the device from the uploaded weights). */
static int make_backward_weights(adm_classifier *c) {
    struct { adm_dt *src, *dst; int O, I, k; } job[4 * 64 + 8];
    int nj = 0; size_t total = 0;
    for (int i = 0; i < c->n_layers; i++) {
        cls_layer *L = &c->layers[i];
        adm_dt *src[3] = {0}, *dst[3] = {0}; int O[3], I[3], k[3], m = 0;
        switch (L->kind) {
        case CLS_CONV: src[m] = &L->conv_w; dst[m] = &L->conv_wt; O[m] = L->cout; I[m] = L->cin; k[m++] = 3; break;
        case CLS_DOWN:
            if (L->conv_down) { src[m] = &L->conv_w; dst[m] = &L->conv_wt; O[m] = L->cout; I[m] = L->cin; k[m++] = 3; }
            break;
        case CLS_RES:
            src[m] = &L->in_conv_w; dst[m] = &L->in_conv_wt; O[m] = L->cout; I[m] = L->cin; k[m++] = 3;
            src[m] = &L->out_conv_w; dst[m] = &L->out_conv_wt; O[m] = L->cout; I[m] = L->cout; k[m++] = 3;
            if (L->cin != L->cout) { src[m] = &L->skip_w; dst[m] = &L->skip_wt; O[m] = L->cout; I[m] = L->cin; k[m++] = 1; }
            break;
        case CLS_ATTN:
            src[m] = &L->qkv_w; dst[m] = &L->qkv_wt; O[m] = 3 * L->cin; I[m] = L->cin; k[m++] = 1;
            src[m] = &L->proj_w; dst[m] = &L->proj_wt; O[m] = L->cin; I[m] = L->cin; k[m++] = 1;
            break;
        }
        for (int j = 0; j < m; j++) {
            if (nj >= (int)(sizeof job / sizeof *job) - 1) return adm_error("classifier: too many layers");
            job[nj].src = src[j]; job[nj].dst = dst[j]; job[nj].O = O[j]; job[nj].I = I[j]; job[nj].k = k[j];
            total += ((size_t)O[j] * I[j] * k[j] * k[j] + 63) & ~(size_t)63;
            nj++;
        }
    }
    if (c->pool == CLS_POOL_ATTENTION) {
        job[nj].src = &c->pool_qkv_w; job[nj].dst = &c->pool_qkv_wt;
        job[nj].O = 3 * c->C_out; job[nj].I = c->C_out; job[nj].k = 1;
        total += ((size_t)job[nj].O * job[nj].I + 63) & ~(size_t)63;
        nj++;
    }
    c->wt_bytes = total * sizeof(float);
    if (!(c->wt_mem = adm_cl_alloc(c->cl, c->wt_bytes ? c->wt_bytes : 256))) return adm_error_prefix("input-gradient weights");
    size_t off = 0;
    for (int j = 0; j < nj; j++) {
        *job[j].dst = adm_dt_make(c->wt_mem, off, job[j].I, job[j].O, job[j].k, job[j].k);
        TRY(adm_bwd_conv_weight(c->cl, job[j].src, job[j].O, job[j].I, job[j].k, job[j].dst));
        off += ((size_t)job[j].O * job[j].I * job[j].k * job[j].k + 63) & ~(size_t)63;
    }
    return adm_cl_finish(c->cl);
}

adm_classifier *adm_classifier_load(adm_cl *cl, const adm_config *cfg, const adm_tensor_set *weights) {
    if (cfg->kind != ADM_KIND_CLASSIFIER) { adm_error("classifier: the config is not a classifier config"); return NULL; }
    adm_classifier *c = adm_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cl = cl;
    c->cfg = *cfg;
    if (parse_pool(cfg->pool, &c->pool)) goto fail;
    if (c->pool == CLS_POOL_ATTENTION && cfg->num_head_channels <= 0) {
        adm_error("classifier config: pool=attention needs num_head_channels (it is %d)", cfg->num_head_channels);
        goto fail;
    }
    if (cls_build_layers(cfg, &c->layers, &c->n_layers, &c->feat_dim)) goto fail;
    const cls_layer *last = &c->layers[c->n_layers - 1];
    c->C_out = last->cout; c->H_out = last->h;
    if (c->pool == CLS_POOL_ATTENTION) {
        if (c->C_out % cfg->num_head_channels) {
            adm_error("classifier config: %d channels are not divisible by num_head_channels %d", c->C_out, cfg->num_head_channels);
            goto fail;
        }
        c->pool_heads = c->C_out / cfg->num_head_channels;
    }
    if (adm_config_validate(cfg, weights)) { adm_error_prefix("classifier checkpoint does not match its config"); goto fail; }
    if (adm_weights_upload(cl, weights, NULL, &c->w)) goto fail;
    for (int i = 0; i < c->n_layers; i++) if (bind_layer(c, &c->layers[i])) goto fail;
    if (bind_head(c)) goto fail;
    if (make_backward_weights(c)) goto fail;
    return c;
fail:
    adm_classifier_free(c);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Memory plan for batch B                                             */
/* ------------------------------------------------------------------ */

typedef struct { adm_dt **t; int n, cap; int fail; } reqs;

/* Ask for a kept tensor of shape [n, c, h, w] (mem assigned by pack). */
static void need(reqs *r, adm_dt *t, int n, int c, int h, int w) {
    *t = adm_dt_make(NULL, 0, n, c, h, w);
    if (r->fail) return;
    if (r->n == r->cap) {
        int nc = r->cap ? 2 * r->cap : 64;
        adm_dt **nt = realloc(r->t, (size_t)nc * sizeof *nt);
        if (!nt) { r->fail = 1; return; }
        r->t = nt; r->cap = nc;
    }
    r->t[r->n++] = t;
}

static void plan_free(adm_classifier *c) {
    cls_plan *p = &c->plan;
    for (int i = 0; i < p->n_mems; i++) adm_cl_release(c->cl, p->mems[i]);
    free(p->mems); free(p->host_logits); free(p->host_dlogits);
    memset(p, 0, sizeof *p);
}

/* Pack the requested tensors into buffers of at most max_alloc bytes
 * (offsets aligned to 64 floats) and allocate them. */
static int pack(adm_classifier *c, reqs *r) {
    cls_plan *p = &c->plan;
    const size_t limit = (c->cl->max_alloc ? (size_t)c->cl->max_alloc : ((size_t)1 << 30)) / sizeof(float);
    size_t *chunk = adm_calloc((size_t)r->n + 1, sizeof *chunk);
    int *which = adm_calloc((size_t)r->n + 1, sizeof *which);
    size_t *offs = adm_calloc((size_t)r->n + 1, sizeof *offs);
    int nc = 0, rc = -1;
    if (!chunk || !which || !offs) goto out;
    for (int i = 0; i < r->n; i++) {
        size_t f = (adm_dt_numel(r->t[i]) + 63) & ~(size_t)63;
        if (f > limit) { adm_error("classifier: a %zu-byte activation exceeds the device's max allocation (%zu bytes); use a smaller batch", f * 4, limit * 4); goto out; }
        if (nc == 0 || chunk[nc - 1] + f > limit) nc++;
        which[i] = nc - 1; offs[i] = chunk[nc - 1]; chunk[nc - 1] += f;
    }
    if (!(p->mems = adm_calloc((size_t)nc + 1, sizeof *p->mems))) goto out;
    for (int k = 0; k < nc; k++) {
        if (!(p->mems[k] = adm_cl_alloc(c->cl, chunk[k] * sizeof(float)))) { adm_error_prefix("classifier activations for batch %d", p->B); goto out; }
        p->n_mems = k + 1;
        p->bytes += chunk[k] * sizeof(float);
    }
    for (int i = 0; i < r->n; i++) { r->t[i]->mem = p->mems[which[i]]; r->t[i]->off = offs[i]; }
    rc = 0;
out:
    free(chunk); free(which); free(offs);
    return rc;
}

static size_t max_z(size_t a, size_t b) { return a > b ? a : b; }

static int plan_batch(adm_classifier *c, int B) {
    if (c->plan.B == B) return 0;
    plan_free(c);
    cls_plan *p = &c->plan;
    p->B = B;
    const adm_config *cfg = &c->cfg;
    const int N = B, mc = cfg->model_channels, K = cfg->out_channels, S = cfg->image_size;
    reqs r = {0};
    /* scratch: the ops' shared buffer, reserved here for the attention
     * weights; convolutions grow it on their first call at this batch size
     * as their backend needs (a padded copy, or im2col with CLBlast). */
    size_t ws = 0, scratch = 0, att = 0;
    need(&r, &p->x, N, cfg->in_channels, S, S);
    need(&r, &p->temb, N, mc, 1, 1);
    need(&r, &p->emb, N, 4 * mc, 1, 1);
    need(&r, &p->emb_silu, N, 4 * mc, 1, 1);
    ws = max_z(ws, (size_t)N * cfg->in_channels * S * S);
    for (int i = 0; i < c->n_layers; i++) {
        cls_layer *L = &c->layers[i];
        const int H = L->h, Ho = L->down ? H / 2 : H, T = H * H;
        const size_t in = (size_t)N * L->cin * H * H, o = (size_t)N * L->cout * Ho * Ho;
        need(&r, &L->out, N, L->cout, Ho, Ho);
        ws = max_z(ws, max_z(in, o));
        switch (L->kind) {
        case CLS_CONV: case CLS_DOWN:
            break;
        case CLS_RES:
            need(&r, &L->mid, N, L->cout, Ho, Ho);
            need(&r, &L->emb, N, cfg->use_scale_shift_norm ? 2 * L->cout : L->cout, 1, 1);
            break;
        case CLS_ATTN:
            need(&r, &L->qkv, N, 3 * L->cin, 1, T);
            ws = max_z(ws, (size_t)N * 3 * L->cin * T);
            scratch = max_z(scratch, (size_t)N * L->heads * T * T);    /* forward attention weights */
            att = max_z(att, adm_bwd_attention_scratch(L->heads, T));
            break;
        }
    }
    const int C = c->C_out, T1 = c->H_out * c->H_out + 1;
    switch (c->pool) {
    case CLS_POOL_ATTENTION:
        need(&r, &p->pool_qkv, N, 3 * C, 1, T1);
        ws = max_z(ws, (size_t)N * 3 * C * T1);
        scratch = max_z(scratch, (size_t)N * c->pool_heads * T1 * T1);
        att = max_z(att, adm_bwd_attention_scratch(c->pool_heads, T1));
        break;
    case CLS_POOL_ADAPTIVE:
        need(&r, &p->head_vec, N, C, 1, 1);
        break;
    case CLS_POOL_SPATIAL: case CLS_POOL_SPATIAL_V2:
        need(&r, &p->feat, N, c->feat_dim, 1, 1);
        need(&r, &p->dfeat, N, c->feat_dim, 1, 1);
        need(&r, &p->hid, N, CLS_SPATIAL_HIDDEN, 1, 1);
        need(&r, &p->hid_act, N, CLS_SPATIAL_HIDDEN, 1, 1);
        need(&r, &p->dhid, N, CLS_SPATIAL_HIDDEN, 1, 1);
        need(&r, &p->dhid2, N, CLS_SPATIAL_HIDDEN, 1, 1);
        break;
    }
    need(&r, &p->logits, N, K, 1, 1);
    need(&r, &p->dlogits, N, K, 1, 1);
    if (ws > (size_t)INT32_MAX || att > (size_t)INT32_MAX) {
        free(r.t); plan_free(c);
        return adm_error("classifier: batch %d needs a %zu-float workspace, more than one buffer can hold; use a smaller batch", B, max_z(ws, att));
    }
    p->ws_floats = ws;
    for (int k = 0; k < 4; k++) need(&r, &p->ws[k], 1, (int)ws, 1, 1);
    need(&r, &p->att_scratch, 1, (int)(att ? att : 1), 1, 1);
    int rc = -1;
    if (r.fail) { adm_error("out of memory"); goto out; }
    if (pack(c, &r)) goto out;
    if (adm_ops_reserve_scratch(c->cl, scratch ? scratch : 1)) goto out;
    p->host_logits = adm_malloc((size_t)N * K * sizeof(float));
    p->host_dlogits = adm_malloc((size_t)N * K * sizeof(float));
    if (!p->host_logits || !p->host_dlogits) goto out;
    rc = 0;
out:
    free(r.t);
    if (rc) plan_free(c);
    return rc;
}

/* A [n, c, h, w] view at the start of workspace buffer k. */
static adm_dt wsv(const adm_classifier *c, int k, int n, int ch, int h, int w) {
    return adm_dt_make(c->plan.ws[k].mem, c->plan.ws[k].off, n, ch, h, w);
}

/* ------------------------------------------------------------------ */
/* Forward                                                             */
/* ------------------------------------------------------------------ */

static int gn(adm_classifier *c, const adm_dt *x, const adm_dt *g, const adm_dt *b, const adm_dt *ss, int silu, adm_dt *y) {
    return adm_op_group_norm(c->cl, x, g, b, CLS_GROUPS, CLS_EPS, ss, silu, y);
}

/* ResBlock._forward:
 *   h  = in_layers(x)  (GN, SiLU, [avg pool h and x if down], conv 3x3)
 *   scale|shift = emb_layers(emb);  h = SiLU(GN(h) * (1 + scale) + shift)   (or GN(h + emb_out))
 *   out = skip(x) + conv3x3(h) */
static int fwd_res(adm_classifier *c, cls_layer *L, const adm_dt *x) {
    const int N = c->plan.B, H = L->h, Ho = L->down ? H / 2 : H;
    adm_dt a = wsv(c, 0, N, L->cin, H, H), a2 = a, xs = *x;
    TRY(gn(c, x, &L->in_norm_g, &L->in_norm_b, NULL, 1, &a));
    if (L->down) {
        a2 = wsv(c, 1, N, L->cin, Ho, Ho);
        xs = wsv(c, 2, N, L->cin, Ho, Ho);
        TRY(adm_op_avgpool2x2(c->cl, &a, &a2));
        TRY(adm_op_avgpool2x2(c->cl, x, &xs));
    }
    TRY(adm_op_conv2d(c->cl, &a2, &L->in_conv_w, &L->in_conv_b, 1, &L->mid));
    TRY(adm_op_linear(c->cl, &c->plan.emb_silu, &L->emb_w, &L->emb_b, &L->emb));
    adm_dt b = wsv(c, 0, N, L->cout, Ho, Ho), h2 = wsv(c, 1, N, L->cout, Ho, Ho);
    if (c->cfg.use_scale_shift_norm) {
        TRY(gn(c, &L->mid, &L->out_norm_g, &L->out_norm_b, &L->emb, 1, &b));
    } else {
        TRY(adm_op_add_channel(c->cl, &L->mid, &L->emb));
        TRY(gn(c, &L->mid, &L->out_norm_g, &L->out_norm_b, NULL, 1, &b));
    }
    TRY(adm_op_conv2d(c->cl, &b, &L->out_conv_w, &L->out_conv_b, 1, &h2));
    adm_dt skip = xs;
    if (L->cin != L->cout) {
        skip = wsv(c, 0, N, L->cout, Ho, Ho);   /* b is dead */
        TRY(adm_op_conv2d(c->cl, &xs, &L->skip_w, &L->skip_b, 1, &skip));
    }
    return adm_op_add(c->cl, &skip, &h2, &L->out);
}

/* AttentionBlock._forward: out = x + proj_out(attention(qkv(GN(x)))), on
 * x flattened to [N, C, T]. */
static int fwd_attn(adm_classifier *c, cls_layer *L, const adm_dt *x) {
    const int N = c->plan.B, C = L->cin, T = L->h * L->w;
    adm_dt nx = wsv(c, 0, N, C, L->h, L->w);
    TRY(gn(c, x, &L->norm_g, &L->norm_b, NULL, 0, &nx));
    adm_dt nt = wsv(c, 0, N, C, 1, T), a = wsv(c, 1, N, C, 1, T), pr = wsv(c, 2, N, C, L->h, L->w);
    TRY(adm_op_conv2d(c->cl, &nt, &L->qkv_w, &L->qkv_b, 1, &L->qkv));
    TRY(adm_op_attention(c->cl, &L->qkv, L->heads, !c->cfg.use_new_attention_order, &a));
    adm_dt prt = wsv(c, 2, N, C, 1, T);
    TRY(adm_op_conv2d(c->cl, &a, &L->proj_w, &L->proj_b, 1, &prt));
    return adm_op_add(c->cl, x, &pr, &L->out);
}

static int fwd_layer(adm_classifier *c, cls_layer *L, const adm_dt *x) {
    switch (L->kind) {
    case CLS_CONV: return adm_op_conv2d(c->cl, x, &L->conv_w, &L->conv_b, 1, &L->out);
    case CLS_DOWN:
        return L->conv_down ? adm_op_conv2d(c->cl, x, &L->conv_w, &L->conv_b, 2, &L->out)
                            : adm_op_avgpool2x2(c->cl, x, &L->out);
    case CLS_RES: return fwd_res(c, L, x);
    case CLS_ATTN: return fwd_attn(c, L, x);
    }
    return adm_error("classifier: unknown layer kind");
}

/* The head `out` on h (the middle block's output) -> plan.logits. */
static int fwd_head(adm_classifier *c, const adm_dt *h) {
    cls_plan *p = &c->plan;
    const int N = p->B, C = c->C_out, Hf = c->H_out, K = c->cfg.out_channels, T1 = Hf * Hf + 1;
    adm_dt a = wsv(c, 0, N, C, Hf, Hf);
    switch (c->pool) {
    case CLS_POOL_ATTENTION: {
        /* AttentionPool2d: tokens = cat(mean, x) + pos; qkv_proj; QKVAttention; c_proj; token 0 */
        TRY(gn(c, h, &c->out_norm_g, &c->out_norm_b, NULL, 1, &a));
        adm_dt xp = wsv(c, 1, N, C, 1, T1), att = wsv(c, 2, N, C, 1, T1);
        TRY(adm_cls_pool_tokens(c->cl, &a, &c->pos, &xp));
        TRY(adm_op_conv2d(c->cl, &xp, &c->pool_qkv_w, &c->pool_qkv_b, 1, &p->pool_qkv));
        TRY(adm_op_attention(c->cl, &p->pool_qkv, c->pool_heads, 0, &att));
        return adm_cls_linear_strided(c->cl, &att, C * T1, T1, &c->c_proj_w, &c->c_proj_b, N, K, C, &p->logits);
    }
    case CLS_POOL_ADAPTIVE:
        /* GN, SiLU, AdaptiveAvgPool2d(1), conv 1x1, flatten */
        TRY(gn(c, h, &c->out_norm_g, &c->out_norm_b, NULL, 1, &a));
        TRY(adm_cls_spatial_mean(c->cl, &a, C, 0, &p->head_vec));
        return adm_cls_linear_strided(c->cl, &p->head_vec, C, 1, &c->head_w, &c->head_b, N, K, C, &p->logits);
    case CLS_POOL_SPATIAL: case CLS_POOL_SPATIAL_V2: {
        /* features (the block means) were written during the walk:
         * Linear(F, 2048), ReLU | GroupNorm+SiLU, Linear(2048, K) */
        TRY(adm_op_linear(c->cl, &p->feat, &c->sp0_w, &c->sp0_b, &p->hid));
        if (c->pool == CLS_POOL_SPATIAL) TRY(adm_cls_relu(c->cl, &p->hid, &p->hid_act));
        else TRY(gn(c, &p->hid, &c->sp_norm_g, &c->sp_norm_b, NULL, 1, &p->hid_act));
        return adm_op_linear(c->cl, &p->hid_act, &c->sp1_w, &c->sp1_b, &p->logits);
    }
    }
    return 0;
}

/* Run the forward pass of x (host, or dev_x on the device when x is NULL)
 * at timesteps t; logits stay on the device. */
static int forward(adm_classifier *c, const float *x, const adm_dt *dev_x, const float *t, int B) {
    if (!c) return adm_error("classifier: not loaded");
    if (B <= 0) return adm_error("classifier: batch size %d", B);
    TRY(plan_batch(c, B));
    cls_plan *p = &c->plan;
    const int mc = c->cfg.model_channels;
    if (dev_x && adm_dt_numel(dev_x) != adm_dt_numel(&p->x))
        return adm_error("classifier: device x holds %zu floats, batch %d needs %zu", adm_dt_numel(dev_x), B,
                         adm_dt_numel(&p->x));
    if (dev_x) TRY(adm_op_copy(c->cl, dev_x, &p->x));
    else TRY(adm_cl_write(c->cl, p->x.mem, p->x.off * sizeof(float), adm_dt_numel(&p->x) * sizeof(float), x));
    /* emb = time_embed(timestep_embedding(t)); each ResBlock uses SiLU(emb) */
    TRY(adm_op_timestep_embedding(c->cl, t, B, mc, &p->temb));
    TRY(adm_op_linear(c->cl, &p->temb, &c->time0_w, &c->time0_b, &p->emb_silu));
    TRY(adm_op_silu(c->cl, &p->emb_silu, &p->emb_silu));
    TRY(adm_op_linear(c->cl, &p->emb_silu, &c->time2_w, &c->time2_b, &p->emb));
    TRY(adm_op_silu(c->cl, &p->emb, &p->emb_silu));
    const int spatial = c->pool == CLS_POOL_SPATIAL || c->pool == CLS_POOL_SPATIAL_V2;
    const adm_dt *h = &p->x;
    for (int i = 0; i < c->n_layers; i++) {
        cls_layer *L = &c->layers[i];
        if (fwd_layer(c, L, h)) return adm_error_prefix("%s", L->name);
        if (spatial && L->block_end) TRY(adm_cls_spatial_mean(c->cl, &L->out, c->feat_dim, L->feat_off, &p->feat));
        h = &L->out;
    }
    if (fwd_head(c, h)) return adm_error_prefix("out");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

int adm_classifier_forward(adm_classifier *c, const float *x, const float *t, int B, float *logits) {
    TRY(forward(c, x, NULL, t, B));
    cls_plan *p = &c->plan;
    return adm_cl_read(c->cl, p->logits.mem, p->logits.off * sizeof(float), adm_dt_numel(&p->logits) * sizeof(float), logits);
}

/* The gradient of x (host) or dev_x (device): to grad (host) or dev_grad. */
static int grad_any(adm_classifier *c, const float *x, const adm_dt *dev_x, const float *t, const int64_t *y,
                    int B, float *logits, float *grad, adm_dt *dev_grad) {
    if (!c) return adm_error("classifier: not loaded");
    const int K = c->cfg.out_channels;
    for (int b = 0; b < B; b++)
        if (y[b] < 0 || y[b] >= K) return adm_error("classifier: label %lld of sample %d is outside 0..%d", (long long)y[b], b, K - 1);
    TRY(forward(c, x, dev_x, t, B));
    cls_plan *p = &c->plan;
    /* d/dlogits sum_b log_softmax(logits_b)[y_b] = onehot(y_b) - softmax(logits_b) (in double) */
    TRY(adm_cl_read(c->cl, p->logits.mem, p->logits.off * sizeof(float), (size_t)B * K * sizeof(float), p->host_logits));
    for (int b = 0; b < B; b++) {
        const float *l = p->host_logits + (size_t)b * K;
        double m = l[0], s = 0;
        for (int k = 1; k < K; k++) if (l[k] > m) m = l[k];
        for (int k = 0; k < K; k++) s += exp((double)l[k] - m);
        for (int k = 0; k < K; k++)
            p->host_dlogits[(size_t)b * K + k] = (float)((k == y[b] ? 1.0 : 0.0) - exp((double)l[k] - m) / s);
    }
    if (logits) memcpy(logits, p->host_logits, (size_t)B * K * sizeof(float));
    TRY(adm_cl_write(c->cl, p->dlogits.mem, p->dlogits.off * sizeof(float), (size_t)B * K * sizeof(float), p->host_dlogits));
    adm_dt g;
    TRY(cls_backward(c, &g));
    if (!dev_grad) return adm_cl_read(c->cl, g.mem, g.off * sizeof(float), adm_dt_numel(&g) * sizeof(float), grad);
    if (adm_dt_numel(dev_grad) != adm_dt_numel(&g))
        return adm_error("classifier: device grad holds %zu floats, batch %d needs %zu", adm_dt_numel(dev_grad), B,
                         adm_dt_numel(&g));
    return adm_op_copy(c->cl, &g, dev_grad);
}

int adm_classifier_grad(adm_classifier *c, const float *x, const float *t, const int64_t *y, int B,
                        float *logits, float *grad) {
    return grad_any(c, x, NULL, t, y, B, logits, grad, NULL);
}

int adm_classifier_grad_dev(adm_classifier *c, const adm_dt *x, const float *t, const int64_t *y, int B,
                            adm_dt *grad) {
    if (!x || !grad) return adm_error("classifier: device x and grad are required");
    return grad_any(c, NULL, x, t, y, B, NULL, NULL, grad);
}

/* The classifier as a feature network (see classifier.h): the vector its
 * final linear layer reads, and channels 0..6 of the map entering the head. */
void adm_classifier_feature_dims(const adm_classifier *c, int *feat_dim, int *spatial_dim) {
    const int ch = c->C_out < ADM_CLASSIFIER_SPATIAL_CH ? c->C_out : ADM_CLASSIFIER_SPATIAL_CH;
    *feat_dim = c->pool == CLS_POOL_SPATIAL || c->pool == CLS_POOL_SPATIAL_V2 ? CLS_SPATIAL_HIDDEN : c->C_out;
    *spatial_dim = ch * c->H_out * c->H_out;
}

int adm_classifier_features(adm_classifier *c, const float *x, const float *t, int B, float *feat, float *spatial,
                            float *logits) {
    TRY(forward(c, x, NULL, t, B));
    cls_plan *p = &c->plan;
    const int C = c->C_out, Hf = c->H_out, T1 = Hf * Hf + 1;
    int F, S;
    adm_classifier_feature_dims(c, &F, &S);
    if (logits) TRY(adm_cl_read(c->cl, p->logits.mem, p->logits.off * sizeof(float), adm_dt_numel(&p->logits) * sizeof(float), logits));
    if (feat) {
        switch (c->pool) {
        case CLS_POOL_ATTENTION: {           /* c_proj reads token 0 of the attention output [N, C, 1, T1] */
            adm_dt att = wsv(c, 2, B, C, 1, T1);
            float *a = adm_malloc((size_t)B * C * T1 * sizeof *a);
            if (!a) return -1;
            int rc = adm_cl_read(c->cl, att.mem, att.off * sizeof(float), (size_t)B * C * T1 * sizeof *a, a);
            for (int n = 0; rc == 0 && n < B; n++)
                for (int k = 0; k < C; k++) feat[(size_t)n * C + k] = a[((size_t)n * C + k) * T1];
            free(a);
            TRY(rc);
            break;
        }
        case CLS_POOL_ADAPTIVE:              /* the pooled [N, C] the 1x1 conv reads */
            TRY(adm_cl_read(c->cl, p->head_vec.mem, p->head_vec.off * sizeof(float), (size_t)B * C * sizeof(float), feat));
            break;
        case CLS_POOL_SPATIAL: case CLS_POOL_SPATIAL_V2:   /* the hidden layer after its nonlinearity */
            TRY(adm_cl_read(c->cl, p->hid_act.mem, p->hid_act.off * sizeof(float), (size_t)B * F * sizeof(float), feat));
            break;
        }
    }
    if (spatial) {                           /* h [N, C, Hf, Hf] -> channels 0..ch-1 in H, W, C order */
        const adm_dt *h = &c->layers[c->n_layers - 1].out;
        const int ch = S / (Hf * Hf), HW = Hf * Hf;
        float *a = adm_malloc((size_t)B * C * HW * sizeof *a);
        if (!a) return -1;
        int rc = adm_cl_read(c->cl, h->mem, h->off * sizeof(float), (size_t)B * C * HW * sizeof *a, a);
        for (int n = 0; rc == 0 && n < B; n++)
            for (int i = 0; i < HW; i++)
                for (int k = 0; k < ch; k++) spatial[(size_t)n * S + (size_t)i * ch + k] = a[((size_t)n * C + k) * HW + i];
        free(a);
        TRY(rc);
    }
    return 0;
}

void adm_classifier_free(adm_classifier *c) {
    if (!c) return;
    if (c->cl) adm_cl_finish(c->cl);
    plan_free(c);
    adm_cl_release(c->cl, c->wt_mem);
    adm_weights_free(&c->w);
    free(c->layers);
    free(c);
}


size_t adm_classifier_device_bytes(const adm_classifier *c) {
    return c->w.bytes + c->wt_bytes + c->plan.bytes;
}

/* Multiply-adds x 2.  Forward: convs, linears, attention (q^T k and
 * weights v).  Backward (input gradient only): each conv and linear once
 * more (dx = W^T dy), attention 5 products (recomputed q^T k, dP, dv, dq,
 * dk); GroupNorm and elementwise work is not counted. */
double adm_classifier_flops(const adm_config *cfg, int B, int with_backward) {
    cls_layer *v; int n, F;
    if (cls_build_layers(cfg, &v, &n, &F)) return 0;
    const double mc = cfg->model_channels, ed = 4 * mc;
    double mat = mc * ed + ed * ed, att = 0;   /* time_embed */
    for (int i = 0; i < n; i++) {
        const cls_layer *L = &v[i];
        const double H = L->h, Ho = L->down ? H / 2 : H, ci = L->cin, co = L->cout, T = H * H;
        switch (L->kind) {
        case CLS_CONV: mat += ci * co * 9 * T; break;
        case CLS_DOWN: if (L->conv_down) mat += ci * co * 9 * Ho * Ho; break;
        case CLS_RES:
            mat += ci * co * 9 * Ho * Ho + co * co * 9 * Ho * Ho + ed * co * (cfg->use_scale_shift_norm ? 2 : 1);
            if (ci != co) mat += ci * co * Ho * Ho;
            break;
        case CLS_ATTN: mat += 4 * ci * ci * T; att += 2 * T * T * ci; break;
        }
    }
    const double C = v[n - 1].cout, Hf = v[n - 1].h, K = cfg->out_channels, T1 = Hf * Hf + 1;
    if (!strcmp(cfg->pool, "attention")) { mat += 3 * C * C * T1 + K * C; att += 2 * T1 * T1 * C; }
    else if (!strncmp(cfg->pool, "spatial", 7)) mat += F * CLS_SPATIAL_HIDDEN + CLS_SPATIAL_HIDDEN * K;
    else mat += C * K;
    free(v);
    double macs = mat + att;
    if (with_backward) macs += mat + 2.5 * att;
    return 2.0 * macs * B;
}

/* ------------------------------------------------------------------ */
/* Random weights (benchmarks, tests)                                  */
/* ------------------------------------------------------------------ */

static double uniform_pm1(uint64_t *s) {          /* splitmix64 -> [-1, 1) */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 4503599627370496.0 - 1.0;
}

int adm_classifier_random_weights(const adm_config *cfg, uint64_t seed, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    adm_param_spec *ps; int n;
    if (adm_network_params(cfg, &ps, &n)) return -1;
    if (!(out->t = adm_calloc((size_t)n + 1, sizeof *out->t))) { free(ps); return -1; }
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        adm_tensor *t = &out->t[i];
        size_t numel = 1;
        for (int d = 0; d < ps[i].ndim; d++) { t->shape[d] = ps[i].shape[d]; numel *= (size_t)ps[i].shape[d]; }
        t->ndim = ps[i].ndim; t->dtype = ADM_F32; t->nbytes = numel * sizeof(float);
        t->name = strdup(ps[i].name);
        t->data = adm_malloc(t->nbytes ? t->nbytes : 1);
        t->owns_data = 1;
        out->n = i + 1;
        if (!t->name || !t->data) { free(ps); adm_tensors_free(out); return adm_error("out of memory"); }
        const size_t len = strlen(t->name);
        const int is_bias = len > 5 && !strcmp(t->name + len - 5, ".bias");
        const int is_pos = strstr(t->name, "positional_embedding") != NULL;
        /* weights: U(-1,1) sqrt(3 / fan_in) (unit gain); norm scales 1 + 0.2U;
         * biases 0.1U; the positional embedding ~ 1/sqrt(C) as the reference draws it */
        double scale = 0.1, offset = 0.0;
        if (is_pos) scale = sqrt(3.0 / (double)t->shape[0]);
        else if (t->ndim >= 2) scale = sqrt(3.0 * (double)t->shape[0] / (double)numel);
        else if (!is_bias) { scale = 0.2; offset = 1.0; }
        float *f = t->data;
        for (size_t j = 0; j < numel; j++) f[j] = (float)(offset + scale * uniform_pm1(&s));
    }
    free(ps);
    return 0;
}
