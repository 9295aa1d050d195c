/* network.c — the layer lists of UNetModel, SuperResModel and
 * EncoderUNetModel (guided_diffusion/unet.py's constructors, loop for loop),
 * and the state-dict layout they imply.  See network.h. */
#include "network.h"
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *adm_layer_kind_name(adm_layer_kind kind) {
    static const char *names[] = {"conv", "ResBlock", "AttentionBlock", "Downsample", "Upsample"};
    return (unsigned)kind < 5 ? names[kind] : "?";
}

/* ds is in attention_resolutions (as downsample rates) */
static int has_attention(const adm_config *cfg, int ds) {
    for (int i = 0; i < cfg->n_attention_ds; i++) if (cfg->attention_ds[i] == ds) return 1;
    return 0;
}

typedef struct { adm_network *net; int cap; } builder;

static adm_layer *push(builder *b, adm_layer_kind kind, adm_part part, int block, int cin, int cout, int ds,
                       const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static adm_layer *push(builder *b, adm_layer_kind kind, adm_part part, int block, int cin, int cout, int ds,
                       const char *fmt, ...) {
    adm_network *net = b->net;
    if (net->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        adm_layer *l = realloc(net->l, (size_t)cap * sizeof *l);
        if (!l) { adm_error("out of memory"); return NULL; }
        net->l = l; b->cap = cap;
    }
    adm_layer *l = &net->l[net->n++];
    memset(l, 0, sizeof *l);
    l->kind = kind; l->part = part; l->block = block;
    l->cin = cin; l->cout = cout; l->ds = ds;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->name, sizeof l->name, fmt, ap);
    va_end(ap);
    return l;
}

/* ResBlock(cin -> cout), maybe up or down */
static adm_layer *res(builder *b, const adm_config *cfg, adm_part part, int block, int cin, int cout, int ds,
                      int up, int down, const char *name) {
    adm_layer *l = push(b, ADM_LAYER_RES, part, block, cin, cout, ds, "%s", name);
    if (l) { l->up = up; l->down = down; l->emb_out = cfg->use_scale_shift_norm ? 2 * cout : cout; }
    return l;
}

/* AttentionBlock(ch): heads from num_head_channels, else num_heads
 * (num_heads_upsample in the output blocks) */
static adm_layer *attn(builder *b, const adm_config *cfg, adm_part part, int block, int ch, int ds, int upsample,
                       const char *name) {
    adm_layer *l = push(b, ADM_LAYER_ATTN, part, block, ch, ch, ds, "%s", name);
    if (!l) return NULL;
    l->heads = adm_config_heads(cfg, ch, upsample);
    if (l->heads <= 0) l->heads = -1;
    return l;
}

/* Downsample / Upsample(ch) */
static adm_layer *resample(builder *b, const adm_config *cfg, adm_part part, int block, int ch, int ds, int up,
                           const char *name) {
    adm_layer *l = push(b, up ? ADM_LAYER_UP : ADM_LAYER_DOWN, part, block, ch, ch, ds, "%s", name);
    if (l) { l->up = up; l->down = !up; l->use_conv = cfg->conv_resample; }
    return l;
}

int adm_network_describe(const adm_config *cfg, adm_network *net) {
    memset(net, 0, sizeof *net);
    int mc = cfg->model_channels, nrb = cfg->num_res_blocks, L = cfg->n_levels;
    int unet = cfg->kind == ADM_KIND_UNET || cfg->kind == ADM_KIND_SUPERRES;
    if (mc <= 0 || nrb < (unet ? 1 : 0) || nrb > ADM_MAX_RES_BLOCKS || L <= 0 || L > ADM_MAX_LEVELS ||
        cfg->in_channels <= 0 || cfg->out_channels <= 0)
        return adm_error("config: model_channels %d, num_res_blocks %d (at most %d), %d levels (at most %d), "
                         "in_channels %d, out_channels %d: all must be positive", mc, nrb, ADM_MAX_RES_BLOCKS, L,
                         ADM_MAX_LEVELS, cfg->in_channels, cfg->out_channels);
    for (int i = 0; i < L; i++)
        if (adm_config_channels(cfg, i) <= 0) return adm_error("config: channel_mult gives level %d no channels", i);
    builder b = {net, 0};
    adm_layer *l;
    net->kind = cfg->kind;
    net->in_ch = cfg->kind == ADM_KIND_SUPERRES ? 2 * cfg->in_channels : cfg->in_channels;
    net->emb_dim = 4 * mc;
#define PUSHED(expr) do { if (!(l = (expr))) goto fail; } while (0)

    /* input_blocks: conv, then per level num_res_blocks x (ResBlock [+ attention]), then a downsample */
    int ch = adm_config_channels(cfg, 0), ds = 1, k = 0;
    int chans[ADM_MAX_INPUT_BLOCKS], n_chans = 0;      /* input_block_chans */
    PUSHED(push(&b, ADM_LAYER_CONV, ADM_PART_INPUT, k, net->in_ch, ch, ds, "input_blocks.0.0"));
    l->block_end = 1; chans[n_chans++] = ch; net->feat_dim += ch; k++;
    for (int level = 0; level < L; level++) {
        int out = adm_config_channels(cfg, level);
        for (int r = 0; r < nrb; r++, k++) {
            char name[48];
            snprintf(name, sizeof name, "input_blocks.%d.0", k);
            PUSHED(res(&b, cfg, ADM_PART_INPUT, k, ch, out, ds, 0, 0, name));
            ch = out;
            if (has_attention(cfg, ds)) {
                snprintf(name, sizeof name, "input_blocks.%d.1", k);
                PUSHED(attn(&b, cfg, ADM_PART_INPUT, k, ch, ds, 0, name));
            }
            l->block_end = 1; chans[n_chans++] = ch; net->feat_dim += ch;
        }
        if (level != L - 1) {
            char name[48];
            snprintf(name, sizeof name, "input_blocks.%d.0", k);
            if (cfg->resblock_updown) PUSHED(res(&b, cfg, ADM_PART_INPUT, k, ch, ch, ds, 0, 1, name));
            else PUSHED(resample(&b, cfg, ADM_PART_INPUT, k, ch, ds, 0, name));
            l->block_end = 1; chans[n_chans++] = ch; net->feat_dim += ch;
            ds *= 2; k++;
        }
    }
    net->n_input = k;

    /* middle_block: ResBlock, AttentionBlock, ResBlock */
    PUSHED(res(&b, cfg, ADM_PART_MIDDLE, 0, ch, ch, ds, 0, 0, "middle_block.0"));
    PUSHED(attn(&b, cfg, ADM_PART_MIDDLE, 0, ch, ds, 0, "middle_block.1"));
    PUSHED(res(&b, cfg, ADM_PART_MIDDLE, 0, ch, ch, ds, 0, 0, "middle_block.2"));
    l->block_end = 1; net->feat_dim += ch;
    net->head_ch = ch; net->head_ds = ds;
    if (!unet) return 0;

    /* output_blocks: per level (deepest first) num_res_blocks + 1 x (ResBlock on
     * cat[h, hs.pop()] [+ attention]), the level's last one then upsamples */
    k = 0;
    for (int level = L - 1; level >= 0; level--) {
        int out = adm_config_channels(cfg, level);
        for (int i = 0; i <= nrb; i++, k++) {
            char name[48];
            int skip = chans[--n_chans], j = 0;
            snprintf(name, sizeof name, "output_blocks.%d.%d", k, j++);
            PUSHED(res(&b, cfg, ADM_PART_OUTPUT, k, ch + skip, out, ds, 0, 0, name));
            l->skip = skip;
            ch = out;
            if (has_attention(cfg, ds)) {
                snprintf(name, sizeof name, "output_blocks.%d.%d", k, j++);
                PUSHED(attn(&b, cfg, ADM_PART_OUTPUT, k, ch, ds, 1, name));
            }
            if (level && i == nrb) {
                snprintf(name, sizeof name, "output_blocks.%d.%d", k, j++);
                if (cfg->resblock_updown) PUSHED(res(&b, cfg, ADM_PART_OUTPUT, k, ch, ch, ds, 1, 0, name));
                else PUSHED(resample(&b, cfg, ADM_PART_OUTPUT, k, ch, ds, 1, name));
                ds /= 2;
            }
            l->block_end = 1;
        }
    }
    net->n_output = k;
    net->head_ch = ch; net->head_ds = ds;
    return 0;
#undef PUSHED
fail:
    adm_network_free(net);
    return -1;
}

void adm_network_free(adm_network *net) {
    free(net->l);
    memset(net, 0, sizeof *net);
}

/* ---- the state-dict layout ---------------------------------------------- */

typedef struct { adm_param_spec *p; int n, cap; int err; } plist;

static void add(plist *L, int ndim, int64_t a, int64_t b, int64_t c, int64_t d, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void add(plist *L, int ndim, int64_t a, int64_t b, int64_t c, int64_t d, const char *fmt, ...) {
    if (L->err) return;
    if (L->n == L->cap) {
        int ncap = L->cap ? 2 * L->cap : 256;
        adm_param_spec *np = realloc(L->p, (size_t)ncap * sizeof *np);
        if (!np) { L->err = 1; return; }
        L->p = np; L->cap = ncap;
    }
    adm_param_spec *s = &L->p[L->n++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = ndim;
    s->shape[0] = a; s->shape[1] = b; s->shape[2] = c; s->shape[3] = d;
}

/* The tensors of one layer:
 *   conv            weight [cout, cin, 3, 3], bias
 *   ResBlock        in_layers (GroupNorm, SiLU, conv3x3), emb_layers (SiLU, Linear
 *                   -> emb_out), out_layers (GroupNorm, SiLU, Dropout, conv3x3),
 *                   skip_connection (1x1 conv when cin != cout)
 *   AttentionBlock  norm, qkv (1x1 conv1d to 3C), proj_out (conv1d C -> C)
 *   Down/Upsample   op / conv (3x3) when use_conv */
static void layer_params(plist *L, const adm_network *net, const adm_layer *l) {
    const char *p = l->name;
    int ci = l->cin, co = l->cout;
    switch (l->kind) {
    case ADM_LAYER_CONV:
        add(L, 4, co, ci, 3, 3, "%s.weight", p); add(L, 1, co, 0, 0, 0, "%s.bias", p);
        break;
    case ADM_LAYER_RES:
        add(L, 1, ci, 0, 0, 0, "%s.in_layers.0.weight", p); add(L, 1, ci, 0, 0, 0, "%s.in_layers.0.bias", p);
        add(L, 4, co, ci, 3, 3, "%s.in_layers.2.weight", p); add(L, 1, co, 0, 0, 0, "%s.in_layers.2.bias", p);
        add(L, 2, l->emb_out, net->emb_dim, 0, 0, "%s.emb_layers.1.weight", p);
        add(L, 1, l->emb_out, 0, 0, 0, "%s.emb_layers.1.bias", p);
        add(L, 1, co, 0, 0, 0, "%s.out_layers.0.weight", p); add(L, 1, co, 0, 0, 0, "%s.out_layers.0.bias", p);
        add(L, 4, co, co, 3, 3, "%s.out_layers.3.weight", p); add(L, 1, co, 0, 0, 0, "%s.out_layers.3.bias", p);
        if (ci != co) {
            add(L, 4, co, ci, 1, 1, "%s.skip_connection.weight", p);
            add(L, 1, co, 0, 0, 0, "%s.skip_connection.bias", p);
        }
        break;
    case ADM_LAYER_ATTN:
        add(L, 1, ci, 0, 0, 0, "%s.norm.weight", p); add(L, 1, ci, 0, 0, 0, "%s.norm.bias", p);
        add(L, 3, 3 * ci, ci, 1, 0, "%s.qkv.weight", p); add(L, 1, 3 * ci, 0, 0, 0, "%s.qkv.bias", p);
        add(L, 3, ci, ci, 1, 0, "%s.proj_out.weight", p); add(L, 1, ci, 0, 0, 0, "%s.proj_out.bias", p);
        break;
    case ADM_LAYER_DOWN:
    case ADM_LAYER_UP:
        if (!l->use_conv) break;
        add(L, 4, ci, ci, 3, 3, "%s.%s.weight", p, l->up ? "conv" : "op");
        add(L, 1, ci, 0, 0, 0, "%s.%s.bias", p, l->up ? "conv" : "op");
        break;
    }
}

int adm_network_params(const adm_config *cfg, adm_param_spec **out, int *count) {
    plist L = {0};
    adm_network net;
    *out = NULL; *count = 0;
    if (adm_network_describe(cfg, &net) != 0) return -1;
    int mc = cfg->model_channels, emb = net.emb_dim, ch = net.head_ch, oc = cfg->out_channels;

    add(&L, 2, emb, mc, 0, 0, "time_embed.0.weight");
    add(&L, 1, emb, 0, 0, 0, "time_embed.0.bias");
    add(&L, 2, emb, emb, 0, 0, "time_embed.2.weight");
    add(&L, 1, emb, 0, 0, 0, "time_embed.2.bias");
    if (cfg->kind != ADM_KIND_CLASSIFIER && cfg->num_classes > 0)
        add(&L, 2, cfg->num_classes, emb, 0, 0, "label_emb.weight");
    for (int i = 0; i < net.n; i++) layer_params(&L, &net, &net.l[i]);

    /* the head `out` */
    if (cfg->kind != ADM_KIND_CLASSIFIER) {                     /* GroupNorm, SiLU, conv3x3 */
        add(&L, 1, ch, 0, 0, 0, "out.0.weight"); add(&L, 1, ch, 0, 0, 0, "out.0.bias");
        add(&L, 4, oc, ch, 3, 3, "out.2.weight"); add(&L, 1, oc, 0, 0, 0, "out.2.bias");
    } else if (!strcmp(cfg->pool, "adaptive")) {                /* GroupNorm, SiLU, pool, conv1x1 */
        add(&L, 1, ch, 0, 0, 0, "out.0.weight"); add(&L, 1, ch, 0, 0, 0, "out.0.bias");
        add(&L, 4, oc, ch, 1, 1, "out.3.weight"); add(&L, 1, oc, 0, 0, 0, "out.3.bias");
    } else if (!strcmp(cfg->pool, "attention")) {               /* GroupNorm, SiLU, AttentionPool2d */
        int sp = cfg->image_size / net.head_ds;
        add(&L, 1, ch, 0, 0, 0, "out.0.weight"); add(&L, 1, ch, 0, 0, 0, "out.0.bias");
        add(&L, 2, ch, (int64_t)sp * sp + 1, 0, 0, "out.2.positional_embedding");
        add(&L, 3, 3 * ch, ch, 1, 0, "out.2.qkv_proj.weight"); add(&L, 1, 3 * ch, 0, 0, 0, "out.2.qkv_proj.bias");
        add(&L, 3, oc, ch, 1, 0, "out.2.c_proj.weight"); add(&L, 1, oc, 0, 0, 0, "out.2.c_proj.bias");
    } else if (!strcmp(cfg->pool, "spatial")) {                 /* Linear(F, 2048), ReLU, Linear */
        add(&L, 2, 2048, net.feat_dim, 0, 0, "out.0.weight"); add(&L, 1, 2048, 0, 0, 0, "out.0.bias");
        add(&L, 2, oc, 2048, 0, 0, "out.2.weight"); add(&L, 1, oc, 0, 0, 0, "out.2.bias");
    } else if (!strcmp(cfg->pool, "spatial_v2")) {              /* Linear, GroupNorm, SiLU, Linear */
        add(&L, 2, 2048, net.feat_dim, 0, 0, "out.0.weight"); add(&L, 1, 2048, 0, 0, 0, "out.0.bias");
        add(&L, 1, 2048, 0, 0, 0, "out.1.weight"); add(&L, 1, 2048, 0, 0, 0, "out.1.bias");
        add(&L, 2, oc, 2048, 0, 0, "out.3.weight"); add(&L, 1, oc, 0, 0, 0, "out.3.bias");
    } else {
        adm_network_free(&net); free(L.p);
        return adm_error("unknown classifier pool '%s'", cfg->pool);
    }
    adm_network_free(&net);
    if (L.err) { free(L.p); return adm_error("out of memory"); }
    *out = L.p; *count = L.n;
    return 0;
}
