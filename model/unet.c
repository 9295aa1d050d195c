/* unet.c — the ADM UNet (UNetModel) and SuperResModel forward pass on an
 * OpenCL device, following guided_diffusion/unet.py block by block.
 *
 *   emb = time_embed(timestep_embedding(t, model_channels)) [+ label_emb(y)]
 *   h = x                      (SuperResModel: cat[x, bilinear(low_res)])
 *   for module in input_blocks:  h = module(h, emb); hs.push(h)
 *   h = middle_block(h, emb)
 *   for module in output_blocks: h = module(cat[h, hs.pop()], emb)
 *   out = conv(SiLU(GroupNorm(h)))
 *
 * Each block (a TimestepEmbedSequential) is a list of up to three layers:
 * conv, ResBlock, AttentionBlock, Downsample, Upsample.  The blocks are the
 * network's description (network.h: one list, built from the config) with
 * views of the device-resident weights bound to each layer (checked against
 * the shapes the description implies).  Without weights, the same blocks
 * count the FLOPs.
 *
 * Activations come from an arena (unet_arena.h) planned by a dry run of the
 * very same forward code: the wrappers below (conv, group_norm, ...) count
 * multiply-adds and scratch while planning, and enqueue ops when running.
 */
#include "unet.h"
#include "network.h"
#include "ops.h"
#include "weights.h"
#include "unet_arena.h"
#include "npy.h"
#include "util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TRY(expr) do { if ((expr) != 0) return -1; } while (0)


/* ---- per-layer weights (views into adm_weights) ---- */

typedef struct { adm_dt g, b; } gn_w;          /* GroupNorm32: weight (gamma), bias (beta) */
typedef struct { adm_dt w, b; } affine_w;      /* conv or linear: weight, bias */

typedef struct {                                /* ResBlock */
    int ch, out_ch, up, down, emb_out;          /* emb_out: 2*out_ch with scale-shift norm */
    gn_w in_norm;   affine_w in_conv;           /* in_layers.0 (GN), in_layers.2 (3x3 conv) */
    affine_w emb;                               /* emb_layers.1: linear(emb_dim -> emb_out) */
    gn_w out_norm;  affine_w out_conv;          /* out_layers.0 (GN), out_layers.3 (3x3 conv) */
    int skip_conv;  affine_w skip;              /* skip_connection: 1x1 conv when ch != out_ch */
} res_block;

typedef struct {                                /* AttentionBlock */
    int ch, heads;
    gn_w norm;
    affine_w qkv, proj;                         /* conv1d 1x1: ch -> 3ch, ch -> ch (proj_out) */
} attn_block;

typedef struct {                                /* Downsample / Upsample */
    int ch, use_conv;
    affine_w conv;                              /* Downsample: op (stride 2); Upsample: conv */
} resample;

typedef enum { LAYER_CONV, LAYER_RES, LAYER_ATTN, LAYER_DOWN, LAYER_UP } layer_kind;

typedef struct {
    layer_kind kind;
    union {
        struct { int in_ch, out_ch; affine_w p; } conv;     /* input_blocks.0: 3x3 conv */
        res_block res;
        attn_block attn;
        resample rs;
    };
} layer;

typedef struct { layer l[3]; int n; } seq_block;   /* TimestepEmbedSequential */

struct adm_unet {
    adm_cl *cl;
    adm_config cfg;
    adm_weights w;
    int in_ch;                  /* channels into input_blocks.0: in_channels, doubled for SuperRes */
    int emb_dim;                /* time_embed_dim = 4 * model_channels */
    affine_w time_embed0, time_embed2;       /* time_embed.0, time_embed.2 (linear) */
    adm_dt label_emb;                        /* [num_classes, emb_dim]; absent: unconditional */
    seq_block *input, middle, *output;
    int n_input, n_output;
    gn_w out_norm;                           /* out.0 */
    affine_w out_conv;                       /* out.2 */

    adm_arena arena;
    int planned_B, planned_H, planned_W, planned_lh, planned_lw;
    double macs;                /* multiply-adds counted by the last dry run */
    size_t scratch;             /* op scratch (floats) the last dry run asked for */
    char *dump_dir;
    const adm_dt *dev_x;        /* adm_unet_forward_dev: x and out stay on the device */
    adm_dt *dev_out;
};

/* ------------------------------------------------------------------ */
/* Building the block structure from the config (and the weights).     */
/* ------------------------------------------------------------------ */

/* View of weight `name` that must have shape [n, c, h, w] (see weights.h
 * for how tensors map to views).  w == NULL: shapes only (FLOP counting). */
static int get_w(const adm_weights *w, adm_dt *out, int n, int c, int h, int wd, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int get_w(const adm_weights *w, adm_dt *out, int n, int c, int h, int wd, const char *fmt, ...) {
    if (!w) { *out = adm_dt_make(NULL, 0, n, c, h, wd); return 0; }
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    TRY(adm_weights_get(w, name, out));
    if (out->n != n || out->c != c || out->h != h || out->w != wd)
        return adm_error("weight %s: shape [%d, %d, %d, %d] as a view, the config implies [%d, %d, %d, %d]",
                         name, out->n, out->c, out->h, out->w, n, c, h, wd);
    return 0;
}

static int load_gn(const adm_weights *w, gn_w *g, int ch, const char *prefix) {
    if (ch <= 0 || ch % 32 != 0)
        return adm_error("%s: GroupNorm(32) over %d channels (not a positive multiple of 32)", prefix, ch);
    TRY(get_w(w, &g->g, 1, ch, 1, 1, "%s.weight", prefix));
    return get_w(w, &g->b, 1, ch, 1, 1, "%s.bias", prefix);
}

/* conv weight [out, in, k, k] (conv1d [out, in, 1] has the same view), bias [out] */
static int load_conv(const adm_weights *w, affine_w *p, int out, int in, int k, const char *prefix) {
    TRY(get_w(w, &p->w, out, in, k, k, "%s.weight", prefix));
    return get_w(w, &p->b, 1, out, 1, 1, "%s.bias", prefix);
}

/* linear weight [out, in] (view n=1, c=out, w=in), bias [out] */
static int load_linear(const adm_weights *w, affine_w *p, int out, int in, const char *prefix) {
    TRY(get_w(w, &p->w, 1, out, 1, in, "%s.weight", prefix));
    return get_w(w, &p->b, 1, out, 1, 1, "%s.bias", prefix);
}

/* ResBlock: in_layers, emb_layers, out_layers [, skip_connection] */
static int res_init(adm_unet *u, const adm_weights *w, layer *l, const adm_layer *d) {
    char p[128];
    res_block *r = &l->res;
    l->kind = LAYER_RES;
    r->ch = d->cin; r->out_ch = d->cout; r->up = d->up; r->down = d->down;
    r->emb_out = d->emb_out;
    r->skip_conv = d->cout != d->cin;
    snprintf(p, sizeof p, "%s.in_layers.0", d->name);    TRY(load_gn(w, &r->in_norm, r->ch, p));
    snprintf(p, sizeof p, "%s.in_layers.2", d->name);    TRY(load_conv(w, &r->in_conv, r->out_ch, r->ch, 3, p));
    snprintf(p, sizeof p, "%s.emb_layers.1", d->name);   TRY(load_linear(w, &r->emb, r->emb_out, u->emb_dim, p));
    snprintf(p, sizeof p, "%s.out_layers.0", d->name);   TRY(load_gn(w, &r->out_norm, r->out_ch, p));
    snprintf(p, sizeof p, "%s.out_layers.3", d->name);   TRY(load_conv(w, &r->out_conv, r->out_ch, r->out_ch, 3, p));
    if (r->skip_conv) {
        snprintf(p, sizeof p, "%s.skip_connection", d->name);
        TRY(load_conv(w, &r->skip, r->out_ch, r->ch, 1, p));
    }
    return 0;
}

/* AttentionBlock: norm, qkv, proj_out */
static int attn_init(adm_unet *u, const adm_weights *w, layer *l, const adm_layer *d) {
    char p[128];
    attn_block *a = &l->attn;
    l->kind = LAYER_ATTN;
    a->ch = d->cin;
    a->heads = d->heads;
    if (a->heads <= 0)
        return adm_error("%s: %d channels cannot be split into heads (num_heads %d, num_head_channels %d)",
                         d->name, a->ch, u->cfg.num_heads, u->cfg.num_head_channels);
    snprintf(p, sizeof p, "%s.norm", d->name);      TRY(load_gn(w, &a->norm, a->ch, p));
    snprintf(p, sizeof p, "%s.qkv", d->name);       TRY(load_conv(w, &a->qkv, 3 * a->ch, a->ch, 1, p));
    snprintf(p, sizeof p, "%s.proj_out", d->name);  TRY(load_conv(w, &a->proj, a->ch, a->ch, 1, p));
    return 0;
}

/* Downsample (stride-2 3x3 conv, or 2x2 average pool) / Upsample (nearest 2x, then 3x3 conv). */
static int resample_init(const adm_weights *w, layer *l, const adm_layer *d) {
    char p[128];
    l->kind = d->up ? LAYER_UP : LAYER_DOWN;
    l->rs.ch = d->cin;
    l->rs.use_conv = d->use_conv;
    if (!l->rs.use_conv) return 0;
    snprintf(p, sizeof p, "%s.%s", d->name, d->up ? "conv" : "op");
    return load_conv(w, &l->rs.conv, d->cin, d->cin, 3, p);
}

/* The blocks of UNetModel / SuperResModel: each layer of the description
 * (network.h) joins its block, with its weights bound. */
static int build(adm_unet *u, const adm_weights *w) {
    const adm_config *cfg = &u->cfg;
    adm_network net;
    TRY(adm_network_describe(cfg, &net));
    int rc = -1;
    u->in_ch = net.in_ch;
    u->emb_dim = net.emb_dim;
    u->n_input = net.n_input;
    u->n_output = net.n_output;
    u->input = adm_calloc((size_t)u->n_input, sizeof *u->input);
    u->output = adm_calloc((size_t)u->n_output, sizeof *u->output);
    if (!u->input || !u->output) goto done;
    if (load_linear(w, &u->time_embed0, u->emb_dim, cfg->model_channels, "time_embed.0") ||
        load_linear(w, &u->time_embed2, u->emb_dim, u->emb_dim, "time_embed.2") ||
        (cfg->num_classes > 0 && get_w(w, &u->label_emb, 1, cfg->num_classes, 1, u->emb_dim, "label_emb.weight")))
        goto done;
    for (int i = 0; i < net.n; i++) {
        const adm_layer *d = &net.l[i];
        seq_block *b = d->part == ADM_PART_INPUT ? &u->input[d->block] :
                       d->part == ADM_PART_OUTPUT ? &u->output[d->block] : &u->middle;
        if (b->n == 3) { adm_error("%s: a fourth layer in one block", d->name); goto done; }
        layer *l = &b->l[b->n++];
        int r = 0;
        switch (d->kind) {
        case ADM_LAYER_CONV:
            l->kind = LAYER_CONV;
            l->conv.in_ch = d->cin;
            l->conv.out_ch = d->cout;
            r = load_conv(w, &l->conv.p, d->cout, d->cin, 3, d->name);
            break;
        case ADM_LAYER_RES:  r = res_init(u, w, l, d); break;
        case ADM_LAYER_ATTN: r = attn_init(u, w, l, d); break;
        case ADM_LAYER_DOWN:
        case ADM_LAYER_UP:   r = resample_init(w, l, d); break;
        }
        if (r) goto done;
    }
    /* out: GroupNorm -> SiLU -> conv(ch -> out_channels) */
    if (load_gn(w, &u->out_norm, net.head_ch, "out.0") ||
        load_conv(w, &u->out_conv, cfg->out_channels, net.head_ch, 3, "out.2"))
        goto done;
    rc = 0;
done:
    adm_network_free(&net);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Op wrappers: count while planning (arena.dry), enqueue when running. */
/* ------------------------------------------------------------------ */

static void need_scratch(adm_unet *u, size_t floats) { if (floats > u->scratch) u->scratch = floats; }

/* y = conv2d(x, p.w, p.b), 3x3 (padding 1) or 1x1, stride 1 or 2 */
static int conv(adm_unet *u, const adm_dt *x, const affine_w *p, int stride, adm_dt *y) {
    if (u->arena.dry) {
        int k = p->w.h;
        u->macs += (double)adm_dt_numel(y) * x->c * k * k;
        /* the ops' scratch: a zero-padded copy of x (own 3x3 kernel) or
         * one sample's im2col matrix (CLBlast); grown on demand otherwise */
        if (k > 1) {
            need_scratch(u, (size_t)x->n * x->c * (x->h + 2) * (x->w + 2) + 16);
            need_scratch(u, (size_t)x->c * k * k * y->h * y->w);
        }
        return 0;
    }
    return adm_op_conv2d(u->cl, x, &p->w, &p->b, stride, y);
}

static int linear(adm_unet *u, const adm_dt *x, const affine_w *p, adm_dt *y) {
    if (u->arena.dry) { u->macs += (double)x->n * x->c * y->c; return 0; }
    return adm_op_linear(u->cl, x, &p->w, &p->b, y);
}

/* y = GroupNorm32(x) [* (1 + scale) + shift] [then SiLU] */
static int group_norm(adm_unet *u, const adm_dt *x, const gn_w *g, const adm_dt *ss, int silu, adm_dt *y) {
    if (u->arena.dry) return 0;
    return adm_op_group_norm(u->cl, x, &g->g, &g->b, 32, 1e-5f, ss, silu, y);
}

static int add(adm_unet *u, const adm_dt *a, const adm_dt *b, adm_dt *y) {
    return u->arena.dry ? 0 : adm_op_add(u->cl, a, b, y);
}

/* ResBlock up/down path without convolution: nearest 2x or 2x2 average pool. */
static int updown(adm_unet *u, int up, const adm_dt *x, adm_dt *y) {
    if (u->arena.dry) return 0;
    return up ? adm_op_upsample_nearest2x(u->cl, x, y) : adm_op_avgpool2x2(u->cl, x, y);
}

static int attention(adm_unet *u, const adm_dt *qkv, int heads, adm_dt *y) {
    if (u->arena.dry) {
        double T = qkv->w, C = y->c;
        u->macs += 2.0 * qkv->n * T * T * C;                   /* q^T k and weights v */
        need_scratch(u, (size_t)qkv->n * heads * qkv->w * qkv->w);      /* the T x T weights per head */
        return 0;
    }
    return adm_op_attention(u->cl, qkv, heads, !u->cfg.use_new_attention_order, y);
}

static int upload(adm_unet *u, const float *host, adm_dt *t) {
    if (u->arena.dry) return 0;
    return adm_cl_write(u->cl, t->mem, t->off * sizeof(float), adm_dt_numel(t) * sizeof(float), host);
}

/* x into the first activation: from the host, or a device copy (forward_dev) */
static int upload_x(adm_unet *u, const float *host, adm_dt *t) {
    if (u->arena.dry || !u->dev_x) return upload(u, host, t);
    return adm_op_copy(u->cl, u->dev_x, t);
}

static int act_alloc(adm_unet *u, int n, int c, int h, int w, adm_dt *t) {
    return adm_arena_alloc(&u->arena, n, c, h, w, t);
}
static void act_free(adm_unet *u, const adm_dt *t) { adm_arena_free(&u->arena, t); }

/* ---- activation dumps (act/<module>.npy, as the reference names them) ---- */

static int dump_host(adm_unet *u, const char *name, int ndim, const int64_t *shape, const float *data) {
    char path[4096];
    snprintf(path, sizeof path, "%s/act/%s.npy", u->dump_dir, name);
    if (adm_npy_write(path, ADM_F32, ndim, shape, data) != 0) return adm_error_prefix("dumping %s", name);
    return 0;
}

/* ndim 2: [n, c] (embeddings); 4: [n, c, h, w] */
static int dump(adm_unet *u, const char *name, const adm_dt *t, int ndim) {
    if (u->arena.dry || !u->dump_dir) return 0;
    float *host = adm_malloc(adm_dt_numel(t) * sizeof(float));
    if (!host) return -1;
    int64_t shape[4] = {t->n, t->c, t->h, t->w};
    int rc = adm_cl_read(u->cl, t->mem, t->off * sizeof(float), adm_dt_numel(t) * sizeof(float), host);
    if (rc == 0) rc = dump_host(u, name, ndim, shape, host);
    free(host);
    return rc;
}

static int dumpf(adm_unet *u, const adm_dt *t, const char *fmt, int i) {
    char name[64];
    snprintf(name, sizeof name, fmt, i);
    return dump(u, name, t, 4);
}

/* label_emb(y): the table's rows, read back from the device weights. */
static int dump_label_emb(adm_unet *u, const int64_t *y, int B) {
    if (u->arena.dry || !u->dump_dir) return 0;
    int D = u->emb_dim;
    float *host = adm_malloc((size_t)B * D * sizeof(float));
    if (!host) return -1;
    int rc = 0;
    for (int n = 0; n < B && rc == 0; n++)
        rc = adm_cl_read(u->cl, u->label_emb.mem, (u->label_emb.off + (size_t)y[n] * D) * sizeof(float),
                         (size_t)D * sizeof(float), host + (size_t)n * D);
    int64_t shape[2] = {B, D};
    if (rc == 0) rc = dump_host(u, "label_emb", 2, shape, host);
    free(host);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Layers.                                                             */
/* ------------------------------------------------------------------ */

/* ResBlock._forward:
 *   h = in_layers(x)                     (GN, SiLU, conv)
 *     with up/down: h = in_conv(upd(in_rest(x))), x = upd(x)
 *   emb_out = emb_layers(emb)            (SiLU(emb) is computed once per forward)
 *   scale-shift: h = out_rest(out_norm(h) * (1 + scale) + shift)
 *   else:        h = out_layers(h + emb_out)
 *   return skip_connection(x) + h        (dropout is the identity at inference) */
static int res_forward(adm_unet *u, const res_block *r, const adm_dt *x, const adm_dt *emb_silu, adm_dt *out) {
    int B = x->n, H = out->h, W = out->w;
    adm_dt a, xs = *x, h, e, t;
    TRY(act_alloc(u, B, r->ch, x->h, x->w, &a));
    TRY(group_norm(u, x, &r->in_norm, NULL, 1, &a));                 /* in_rest: GN, SiLU */
    if (r->up || r->down) {                                          /* h_upd, x_upd */
        adm_dt a2;
        TRY(act_alloc(u, B, r->ch, H, W, &a2));
        TRY(updown(u, r->up, &a, &a2));
        act_free(u, &a);
        a = a2;
        TRY(act_alloc(u, B, r->ch, H, W, &xs));
        TRY(updown(u, r->up, x, &xs));
    }
    TRY(act_alloc(u, B, r->out_ch, H, W, &h));
    TRY(conv(u, &a, &r->in_conv, 1, &h));                            /* in_conv */
    act_free(u, &a);

    TRY(act_alloc(u, B, r->emb_out, 1, 1, &e));
    TRY(linear(u, emb_silu, &r->emb, &e));                           /* emb_layers */
    TRY(act_alloc(u, B, r->out_ch, H, W, &t));
    if (u->cfg.use_scale_shift_norm) {
        TRY(group_norm(u, &h, &r->out_norm, &e, 1, &t));             /* GN(h)*(1+scale)+shift, SiLU */
    } else {
        if (!u->arena.dry) TRY(adm_op_add_channel(u->cl, &h, &e));  /* h + emb_out */
        TRY(group_norm(u, &h, &r->out_norm, NULL, 1, &t));           /* GN, SiLU */
    }
    act_free(u, &e);
    TRY(conv(u, &t, &r->out_conv, 1, &h));                           /* out conv, into h */
    act_free(u, &t);

    if (r->skip_conv) {
        TRY(conv(u, &xs, &r->skip, 1, out));                         /* skip_connection(x) */
        TRY(add(u, out, &h, out));
    } else {
        TRY(add(u, &xs, &h, out));
    }
    act_free(u, &h);
    if (r->up || r->down) act_free(u, &xs);
    return 0;
}

/* AttentionBlock._forward: x + proj_out(attention(qkv(norm(x)))), over T = H*W positions. */
static int attn_forward(adm_unet *u, const attn_block *ab, const adm_dt *x, adm_dt *out) {
    int B = x->n, C = ab->ch, T = x->h * x->w;
    adm_dt n, qkv, a;
    TRY(act_alloc(u, B, C, x->h, x->w, &n));
    TRY(group_norm(u, x, &ab->norm, NULL, 0, &n));
    TRY(act_alloc(u, B, 3 * C, x->h, x->w, &qkv));
    TRY(conv(u, &n, &ab->qkv, 1, &qkv));                             /* qkv: conv1d 1x1 */
    act_free(u, &n);
    TRY(act_alloc(u, B, C, x->h, x->w, &a));
    adm_dt qkv3 = adm_dt_make(qkv.mem, qkv.off, B, 3 * C, 1, T);     /* [B, 3C, T] */
    adm_dt a3 = adm_dt_make(a.mem, a.off, B, C, 1, T);               /* [B, C, T] */
    TRY(attention(u, &qkv3, ab->heads, &a3));
    act_free(u, &qkv);
    TRY(conv(u, &a, &ab->proj, 1, out));                             /* proj_out */
    TRY(add(u, x, out, out));                                        /* x + h */
    act_free(u, &a);
    return 0;
}

/* Downsample: stride-2 conv or 2x2 average pool.  Upsample: nearest 2x [then conv]. */
static int resample_forward(adm_unet *u, const layer *l, const adm_dt *x, adm_dt *out) {
    const resample *rs = &l->rs;
    if (l->kind == LAYER_DOWN)
        return rs->use_conv ? conv(u, x, &rs->conv, 2, out) : updown(u, 0, x, out);
    if (!rs->use_conv) return updown(u, 1, x, out);
    adm_dt up;
    TRY(act_alloc(u, x->n, x->c, out->h, out->w, &up));
    TRY(updown(u, 1, x, &up));
    TRY(conv(u, &up, &rs->conv, 1, out));
    act_free(u, &up);
    return 0;
}

/* Output channels and size of a layer given its input. */
static void layer_shape(const layer *l, int *c, int *h, int *w) {
    switch (l->kind) {
    case LAYER_CONV: *c = l->conv.out_ch; break;
    case LAYER_RES:
        *c = l->res.out_ch;
        if (l->res.up) { *h *= 2; *w *= 2; }
        if (l->res.down) { *h /= 2; *w /= 2; }
        break;
    case LAYER_ATTN: break;
    case LAYER_DOWN: *h /= 2; *w /= 2; break;
    case LAYER_UP: *h *= 2; *w *= 2; break;
    }
}

static void block_shape(const seq_block *b, int *c, int *h, int *w) {
    for (int i = 0; i < b->n; i++) layer_shape(&b->l[i], c, h, w);
}

/* TimestepEmbedSequential: the layers in turn; the last writes `out`. */
static int block_forward(adm_unet *u, const seq_block *b, const adm_dt *x, const adm_dt *emb_silu, adm_dt *out) {
    adm_dt cur = *x;
    for (int i = 0; i < b->n; i++) {
        const layer *l = &b->l[i];
        adm_dt dst = *out;
        if (i < b->n - 1) {
            int c = cur.c, h = cur.h, w = cur.w;
            layer_shape(l, &c, &h, &w);
            TRY(act_alloc(u, cur.n, c, h, w, &dst));
        }
        switch (l->kind) {
        case LAYER_CONV: TRY(conv(u, &cur, &l->conv.p, 1, &dst)); break;
        case LAYER_RES:  TRY(res_forward(u, &l->res, &cur, emb_silu, &dst)); break;
        case LAYER_ATTN: TRY(attn_forward(u, &l->attn, &cur, &dst)); break;
        case LAYER_DOWN:
        case LAYER_UP:   TRY(resample_forward(u, l, &cur, &dst)); break;
        }
        if (i > 0) act_free(u, &cur);
        cur = dst;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The whole network.                                                  */
/* ------------------------------------------------------------------ */

typedef struct { int B, H, W, lh, lw; } fwd_shape;

/* One forward (a dry run when u->arena.dry: host pointers may be NULL). */
static int forward(adm_unet *u, const fwd_shape *s, const float *x, const float *t, const int64_t *y,
                   const float *low_res, float *out) {
    const adm_config *cfg = &u->cfg;
    int B = s->B, H = s->H, W = s->W, C = cfg->in_channels, mc = cfg->model_channels, ed = u->emb_dim;

    /* emb = time_embed(timestep_embedding(t, model_channels)) (+ label_emb(y)) */
    adm_dt temb, e1, emb;
    TRY(act_alloc(u, B, mc, 1, 1, &temb));
    if (!u->arena.dry) TRY(adm_op_timestep_embedding(u->cl, t, B, mc, &temb));
    TRY(act_alloc(u, B, ed, 1, 1, &e1));
    TRY(linear(u, &temb, &u->time_embed0, &e1));
    if (!u->arena.dry) TRY(adm_op_silu(u->cl, &e1, &e1));
    TRY(act_alloc(u, B, ed, 1, 1, &emb));
    TRY(linear(u, &e1, &u->time_embed2, &emb));
    act_free(u, &temb);
    act_free(u, &e1);
    TRY(dump(u, "time_embed", &emb, 2));
    if (cfg->num_classes > 0) {
        if (!u->arena.dry) TRY(adm_op_embedding_add(u->cl, &u->label_emb, y, B, &emb));
        TRY(dump_label_emb(u, y, B));
    }
    /* every ResBlock's emb_layers starts with SiLU(emb): computed once, in place */
    if (!u->arena.dry) TRY(adm_op_silu(u->cl, &emb, &emb));

    /* h = x, or cat[x, bilinear(low_res)] for SuperResModel */
    adm_dt h;
    if (cfg->kind == ADM_KIND_SUPERRES) {
        adm_dt xa, lr, up;
        TRY(act_alloc(u, B, C, H, W, &xa));
        TRY(upload_x(u, x, &xa));
        TRY(act_alloc(u, B, C, s->lh, s->lw, &lr));
        TRY(upload(u, low_res, &lr));
        TRY(act_alloc(u, B, C, H, W, &up));
        if (!u->arena.dry) TRY(adm_op_upsample_bilinear(u->cl, &lr, &up));
        act_free(u, &lr);
        TRY(act_alloc(u, B, 2 * C, H, W, &h));
        if (!u->arena.dry) TRY(adm_op_concat(u->cl, &xa, &up, &h));
        act_free(u, &xa);
        act_free(u, &up);
    } else {
        TRY(act_alloc(u, B, C, H, W, &h));
        TRY(upload_x(u, x, &h));
    }

    /* input blocks; hs keeps every output for the skip connections */
    adm_dt hs[ADM_MAX_INPUT_BLOCKS];
    for (int i = 0; i < u->n_input; i++) {
        int c = h.c, hh = h.h, ww = h.w;
        block_shape(&u->input[i], &c, &hh, &ww);
        TRY(act_alloc(u, B, c, hh, ww, &hs[i]));
        TRY(block_forward(u, &u->input[i], &h, &emb, &hs[i]));
        if (i == 0) act_free(u, &h);
        h = hs[i];
        TRY(dumpf(u, &h, "input_blocks.%d", i));
    }
    int n_hs = u->n_input;

    adm_dt mid;
    TRY(act_alloc(u, B, h.c, h.h, h.w, &mid));
    TRY(block_forward(u, &u->middle, &h, &emb, &mid));
    TRY(dump(u, "middle_block", &mid, 4));
    h = mid;                    /* the last input block stays on hs */

    /* output blocks: h = module(cat[h, hs.pop()]) */
    for (int j = 0; j < u->n_output; j++) {
        adm_dt skip = hs[--n_hs], cat, o;
        TRY(act_alloc(u, B, h.c + skip.c, h.h, h.w, &cat));
        if (!u->arena.dry) TRY(adm_op_concat(u->cl, &h, &skip, &cat));
        act_free(u, &h);
        act_free(u, &skip);
        int c = cat.c, hh = cat.h, ww = cat.w;
        block_shape(&u->output[j], &c, &hh, &ww);
        TRY(act_alloc(u, B, c, hh, ww, &o));
        TRY(block_forward(u, &u->output[j], &cat, &emb, &o));
        act_free(u, &cat);
        h = o;
        TRY(dumpf(u, &h, "output_blocks.%d", j));
    }

    /* out = conv(SiLU(GroupNorm(h))) */
    adm_dt n, res;
    TRY(act_alloc(u, B, h.c, H, W, &n));
    TRY(group_norm(u, &h, &u->out_norm, NULL, 1, &n));
    act_free(u, &h);
    TRY(act_alloc(u, B, cfg->out_channels, H, W, &res));
    TRY(conv(u, &n, &u->out_conv, 1, &res));
    act_free(u, &n);
    if (!u->arena.dry && u->dev_out)
        TRY(adm_op_copy(u->cl, &res, u->dev_out));
    else if (!u->arena.dry)
        TRY(adm_cl_read(u->cl, res.mem, res.off * sizeof(float), adm_dt_numel(&res) * sizeof(float), out));
    act_free(u, &res);
    act_free(u, &emb);
    return 0;
}

/* Plan the arena for this shape (a dry run), check the device memory,
 * reserve op scratch and allocate.  Nothing happens for a planned shape. */
static int plan(adm_unet *u, const fwd_shape *s) {
    if (s->B == u->planned_B && s->H == u->planned_H && s->W == u->planned_W &&
        s->lh == u->planned_lh && s->lw == u->planned_lw)
        return 0;
    adm_arena_begin(&u->arena, 1);
    u->macs = 0;
    u->scratch = 0;
    if (forward(u, s, NULL, NULL, NULL, NULL, NULL) != 0)
        return adm_error_prefix("planning batch %d at %dx%d", s->B, s->H, s->W);
    size_t act = u->arena.peak > u->arena.size ? u->arena.peak : u->arena.size;
    double need = (double)u->w.bytes + (double)act * sizeof(float) + (double)u->scratch * sizeof(float);
    if (need > (double)u->cl->global_mem)
        return adm_error("not enough device memory on %s: batch %d at %dx%d needs %.1f MiB (weights %.1f, "
                         "activations %.1f, scratch %.1f), the device has %.1f MiB",
                         u->cl->device_name, s->B, s->H, s->W, need / 1048576.0, u->w.bytes / 1048576.0,
                         act * 4.0 / 1048576.0, u->scratch * 4.0 / 1048576.0, u->cl->global_mem / 1048576.0);
    TRY(adm_ops_reserve_scratch(u->cl, u->scratch));
    TRY(adm_arena_realize(&u->arena, u->cl, u->arena.peak));
    u->planned_B = s->B; u->planned_H = s->H; u->planned_W = s->W;
    u->planned_lh = s->lh; u->planned_lw = s->lw;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public API.                                                         */
/* ------------------------------------------------------------------ */

static void unet_free_blocks(adm_unet *u) {
    free(u->input);
    free(u->output);
    u->input = u->output = NULL;
}

adm_unet *adm_unet_load(adm_cl *cl, const adm_config *cfg, const adm_tensor_set *weights) {
    if (!cl || !cfg || !weights) { adm_error("adm_unet_load: missing argument"); return NULL; }
    if (cfg->kind != ADM_KIND_UNET && cfg->kind != ADM_KIND_SUPERRES) {
        adm_error("the config describes a classifier (EncoderUNetModel), not a UNet");
        return NULL;
    }
    if (adm_config_validate(cfg, weights) != 0) return NULL;     /* lists every mismatch */
    /* device memory for the weights as fp32, before uploading anything */
    double wbytes = 0;
    for (int i = 0; i < weights->n; i++) wbytes += (double)adm_tensor_numel(&weights->t[i]) * sizeof(float);
    if (wbytes > (double)cl->global_mem) {
        adm_error("not enough device memory on %s: the weights need %.1f MiB as fp32, the device has %.1f MiB",
                  cl->device_name, wbytes / 1048576.0, cl->global_mem / 1048576.0);
        return NULL;
    }
    adm_unet *u = adm_calloc(1, sizeof *u);
    if (!u) return NULL;
    u->cl = cl;
    u->cfg = *cfg;
    adm_arena_init(&u->arena, (size_t)cl->max_alloc);
    if (adm_weights_upload(cl, weights, NULL, &u->w) != 0 || build(u, &u->w) != 0) {
        adm_unet_free(u);
        return NULL;
    }
    return u;
}

void adm_unet_free(adm_unet *u) {
    if (!u) return;
    adm_arena_release(&u->arena);
    adm_weights_free(&u->w);
    unet_free_blocks(u);
    free(u->dump_dir);
    free(u);
}

int adm_unet_forward_sized(adm_unet *u, int B, int H, int W, const float *x, const float *t,
                           const int64_t *y, const float *low_res, int low_h, int low_w, float *out) {
    if (!u || !x || !t || !out) return adm_error("unet forward: x, t and out are required");
    const adm_config *cfg = &u->cfg;
    int f = 1 << (cfg->n_levels - 1);
    if (B < 1 || B > 65536) return adm_error("unet forward: batch size %d (1..65536)", B);
    if (H < f || W < f || H > 16384 || W > 16384 || H % f || W % f)
        return adm_error("unet forward: image %dx%d: height and width must be positive multiples of %d "
                         "(%d levels) up to 16384", H, W, f, cfg->n_levels);
    if (cfg->num_classes > 0 && !y)
        return adm_error("unet forward: the model is class-conditional (%d classes): labels y are required",
                         cfg->num_classes);
    if (cfg->num_classes <= 0 && y)
        return adm_error("unet forward: the model is unconditional: labels y must not be given");
    for (int n = 0; y && n < B; n++)
        if (y[n] < 0 || y[n] >= cfg->num_classes)
            return adm_error("unet forward: label y[%d] = %lld outside 0..%d", n, (long long)y[n],
                             cfg->num_classes - 1);
    if (cfg->kind == ADM_KIND_SUPERRES) {
        if (!low_res) return adm_error("unet forward: SuperResModel needs low_res");
        if (low_h < 1 || low_w < 1 || low_h > 16384 || low_w > 16384)
            return adm_error("unet forward: low_res size %dx%d", low_h, low_w);
    } else if (low_res) {
        return adm_error("unet forward: low_res given to a UNetModel (only SuperResModel takes it)");
    }
    fwd_shape s = {B, H, W, low_res ? low_h : 0, low_res ? low_w : 0};
    TRY(plan(u, &s));
    adm_arena_begin(&u->arena, 0);
    if (forward(u, &s, x, t, y, low_res, out) != 0) return adm_error_prefix("unet forward");
    return 0;
}

int adm_unet_forward_dev(adm_unet *u, int B, const adm_dt *x, const float *t, const int64_t *y, adm_dt *out) {
    if (!u || !x || !out) return adm_error("unet forward: x and out are required");
    const adm_config *cfg = &u->cfg;
    int S = cfg->image_size;
    if (cfg->kind == ADM_KIND_SUPERRES) return adm_error("unet forward: SuperResModel takes host inputs");
    if (B < 1 || adm_dt_numel(x) != (size_t)B * cfg->in_channels * S * S ||
        adm_dt_numel(out) != (size_t)B * cfg->out_channels * S * S)
        return adm_error("unet forward: device x holds %zu floats and out %zu, batch %d at %dx%d needs %zu and %zu",
                         adm_dt_numel(x), adm_dt_numel(out), B, S, S, (size_t)B * cfg->in_channels * S * S,
                         (size_t)B * cfg->out_channels * S * S);
    u->dev_x = x;
    u->dev_out = out;
    float unused = 0;                /* the host x and out: neither read nor written */
    int rc = adm_unet_forward_sized(u, B, S, S, &unused, t, y, NULL, 0, 0, &unused);
    u->dev_x = NULL;
    u->dev_out = NULL;
    return rc;
}

int adm_unet_forward(adm_unet *u, const float *x, const float *t, const int64_t *y,
                     const float *low_res, int B, float *out) {
    if (u && u->cfg.kind == ADM_KIND_SUPERRES)
        return adm_error("unet forward: SuperResModel needs the low_res size (adm_unet_forward_sized)");
    int S = u ? u->cfg.image_size : 0;
    return adm_unet_forward_sized(u, B, S, S, x, t, y, low_res, 0, 0, out);
}

int adm_unet_set_dump_dir(adm_unet *u, const char *dir) {
    free(u->dump_dir);
    u->dump_dir = NULL;
    if (!dir) return 0;
    char act[4096];
    snprintf(act, sizeof act, "%s/act", dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return adm_error("dump dir %s: %s", dir, strerror(errno));
    if (mkdir(act, 0777) != 0 && errno != EEXIST) return adm_error("dump dir %s: %s", act, strerror(errno));
    u->dump_dir = strdup(dir);
    return u->dump_dir ? 0 : adm_error("out of memory");
}


size_t adm_unet_device_bytes(const adm_unet *u) { return u->w.bytes + adm_arena_bytes(&u->arena); }

double adm_unet_flops(const adm_config *cfg, int B) {
    adm_unet u;
    memset(&u, 0, sizeof u);
    u.cfg = *cfg;
    adm_arena_init(&u.arena, 0);
    adm_arena_begin(&u.arena, 1);
    int S = cfg->image_size, lo = S / 4 > 0 ? S / 4 : 1;
    fwd_shape s = {B, S, S, lo, lo};
    int rc = (cfg->kind == ADM_KIND_UNET || cfg->kind == ADM_KIND_SUPERRES) ? build(&u, NULL) :
             adm_error("flops: not a UNet config");
    if (rc == 0) rc = forward(&u, &s, NULL, NULL, NULL, NULL, NULL);
    unet_free_blocks(&u);
    return rc == 0 ? 2.0 * u.macs : -1.0;
}
