/* classifier_net.h — internal structures of the noisy classifier
 * (EncoderUNetModel), shared by classifier.c (layers, weights, memory plan,
 * forward) and classifier_backward.c (the input-gradient pass).  Not part
 * of the public API (that is classifier.h).
 *
 * The network is a flat list of layers in forward order, one per layer of
 * its description (network.h), with the weights and activations bound:
 *     input_blocks.0.0            conv 3x3 (in_channels -> ch)        CLS_CONV
 *     input_blocks.i.0            ResBlock (maybe down=True)          CLS_RES
 *     input_blocks.i.1            AttentionBlock (at attention ds)    CLS_ATTN
 *     input_blocks.i.0            Downsample (conv or avg pool)       CLS_DOWN
 *     middle_block.0/.1/.2        ResBlock, AttentionBlock, ResBlock
 * followed by the head `out` (pool = attention | adaptive | spatial | spatial_v2).
 */
#ifndef ADM_CLASSIFIER_NET_H
#define ADM_CLASSIFIER_NET_H
#include "classifier.h"
#include "network.h"
#include "ops.h"
#include "ops_backward.h"
#include "weights.h"

#define CLS_GROUPS 32          /* normalization(): GroupNorm32(32, C) */
#define CLS_EPS 1e-5f
#define CLS_SPATIAL_HIDDEN 2048 /* the 'spatial' heads' hidden width */

typedef enum { CLS_CONV, CLS_RES, CLS_ATTN, CLS_DOWN } cls_kind;
typedef enum { CLS_POOL_ATTENTION, CLS_POOL_ADAPTIVE, CLS_POOL_SPATIAL, CLS_POOL_SPATIAL_V2 } cls_pool;

typedef struct {
    cls_kind kind;
    char name[48];            /* state-dict prefix, e.g. "input_blocks.4.1" */
    int cin, cout;            /* channels in and out */
    int h, w;                 /* input resolution (output is halved when down) */
    int down;                 /* RES with down=True, or DOWN */
    int conv_down;            /* DOWN: 1 = stride-2 conv, 0 = avg pool */
    int heads;                /* ATTN */
    int block_end;            /* last layer of an input block / the middle block */
    int feat_off;             /* spatial heads: column of this block's mean in the features */

    /* weights (views into the uploaded checkpoint) */
    adm_dt in_norm_g, in_norm_b, in_conv_w, in_conv_b;      /* RES in_layers.0 / .2 */
    adm_dt emb_w, emb_b;                                    /* RES emb_layers.1 */
    adm_dt out_norm_g, out_norm_b, out_conv_w, out_conv_b;  /* RES out_layers.0 / .3 */
    adm_dt skip_w, skip_b;                                  /* RES skip_connection (cin != cout) */
    adm_dt norm_g, norm_b, qkv_w, qkv_b, proj_w, proj_b;    /* ATTN */
    adm_dt conv_w, conv_b;                                  /* CONV, DOWN (conv) */
    /* input-gradient weights (transposed + flipped, see adm_bwd_conv_weight) */
    adm_dt in_conv_wt, out_conv_wt, skip_wt, qkv_wt, proj_wt, conv_wt;

    /* activations kept for the backward pass (planned per batch size) */
    adm_dt out;               /* the layer's output [N, cout, h', w'] */
    adm_dt mid;               /* RES: input of out_layers' GroupNorm (h1, + emb without scale-shift) */
    adm_dt qkv;               /* ATTN: [N, 3C, 1, T] */
    adm_dt emb;               /* RES: emb_layers output [N, 2*cout] or [N, cout] */
} cls_layer;

/* Device memory for one batch size: kept activations + reused workspace. */
typedef struct {
    int B;
    cl_mem *mems; int n_mems;
    size_t bytes;
    size_t ws_floats;         /* size of each workspace buffer */
    adm_dt ws[4];             /* forward temporaries, then backward gradients */
    adm_dt att_scratch;       /* attention backward: P and dP */
    adm_dt x;                 /* input [N, Cin, H, W] */
    adm_dt temb, emb, emb_silu;  /* [N, mc], [N, 4mc], SiLU(emb) */
    adm_dt pool_qkv;          /* attention head: [N, 3C, 1, HW+1] */
    adm_dt feat, hid, hid_act;   /* spatial heads: [N, F], [N, 2048] before / after the nonlinearity */
    adm_dt dfeat, dhid, dhid2;   /* their gradients */
    adm_dt head_vec;          /* adaptive head: pooled [N, C]; its gradient too */
    adm_dt logits, dlogits;   /* [N, K] */
    float *host_logits, *host_dlogits;
} cls_plan;

struct adm_classifier {
    adm_cl *cl;
    adm_config cfg;
    adm_weights w;
    cl_mem wt_mem;            /* all input-gradient weights */
    size_t wt_bytes;
    cls_layer *layers; int n_layers;
    cls_pool pool;
    int C_out, H_out;         /* channels / resolution entering the head */
    int feat_dim;             /* spatial heads: F */
    int pool_heads;           /* attention head */
    adm_dt time0_w, time0_b, time2_w, time2_b;
    adm_dt out_norm_g, out_norm_b;                       /* attention, adaptive */
    adm_dt pos, pool_qkv_w, pool_qkv_b, c_proj_w, c_proj_b, pool_qkv_wt;  /* attention */
    adm_dt head_w, head_b;                               /* adaptive: out.3 [K, C] */
    adm_dt sp0_w, sp0_b, sp_norm_g, sp_norm_b, sp1_w, sp1_b;  /* spatial heads */
    cls_plan plan;
};

/* The layer list of cfg from its description (no weights); *n_out layers, free() it. */
int cls_build_layers(const adm_config *cfg, cls_layer **out, int *n_out, int *feat_dim);

/* Backward pass (classifier_backward.c): with the forward's activations in
 * c->plan and dlogits uploaded, leaves d/dx in plan.ws[0] (returned). */
int cls_backward(adm_classifier *c, adm_dt *grad_x);

#endif
