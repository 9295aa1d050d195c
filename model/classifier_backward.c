/* classifier_backward.c — the classifier's backward pass to its input:
 *
 *     grad = d/dx  sum_b log_softmax(logits_b)[y_b]
 *
 * starting from dlogits = onehot(y) - softmax(logits) (uploaded by
 * adm_classifier_grad), back through the head, then the layers in reverse
 * order.  Only input gradients are formed; the timestep path (emb, and so
 * every scale/shift) is a constant.  Convs, linears and 1x1 projections
 * are linear in their input, so they need no kept activations; GroupNorm
 * needs its input (statistics recomputed), attention its qkv.
 *
 * Buffers: the gradient with respect to a layer's output is in plan.ws[0]
 * when that layer's backward starts, and the gradient with respect to its
 * input is left there when it ends (ws[1..3] are temporaries).
 */
#include "classifier_net.h"
#include "util.h"

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

static adm_dt wsv(const adm_classifier *c, int k, int n, int ch, int h, int w) {
    return adm_dt_make(c->plan.ws[k].mem, c->plan.ws[k].off, n, ch, h, w);
}

static int gn_bwd(adm_classifier *c, const adm_dt *x, const adm_dt *g, const adm_dt *b, const adm_dt *ss,
                  int silu, const adm_dt *dy, adm_dt *dx) {
    return adm_bwd_group_norm(c->cl, x, g, b, CLS_GROUPS, CLS_EPS, ss, silu, dy, dx);
}

/* ResBlock: out = skip(x_upd(x)) + conv_out(SiLU(GN(h1)(1+scale)+shift)),
 * h1 = conv_in(h_upd(SiLU(GN(x)))).  Backward:
 *     dh1 = GN'(conv_out^T dout);   dx = GN'(h_upd^T conv_in^T dh1) + x_upd^T skip^T dout */
static int bwd_res(adm_classifier *c, const cls_layer *L, const adm_dt *x) {
    const int N = c->plan.B, H = L->h, Ho = L->down ? H / 2 : H, ci = L->cin, co = L->cout;
    const adm_dt *ss = c->cfg.use_scale_shift_norm ? &L->emb : NULL;
    adm_dt g = wsv(c, 0, N, co, Ho, Ho);
    adm_dt t1 = wsv(c, 1, N, co, Ho, Ho), t2 = wsv(c, 2, N, co, Ho, Ho);
    TRY(adm_bwd_conv2d(c->cl, &g, &L->out_conv_wt, 1, NULL, &t1));
    TRY(gn_bwd(c, &L->mid, &L->out_norm_g, &L->out_norm_b, ss, 1, &t1, &t2));
    adm_dt t3 = wsv(c, 1, N, ci, Ho, Ho), br = t3;
    TRY(adm_bwd_conv2d(c->cl, &t2, &L->in_conv_wt, 1, NULL, &t3));
    if (L->down) {
        br = wsv(c, 3, N, ci, H, H);
        TRY(adm_bwd_avgpool2x2(c->cl, &t3, &br));
    }
    adm_dt gx = wsv(c, 2, N, ci, H, H);
    TRY(gn_bwd(c, x, &L->in_norm_g, &L->in_norm_b, NULL, 1, &br, &gx));
    adm_dt s = wsv(c, 0, N, ci, Ho, Ho);              /* identity skip: dout itself */
    if (ci != co) {
        s = wsv(c, 1, N, ci, Ho, Ho);
        TRY(adm_bwd_conv2d(c->cl, &g, &L->skip_wt, 1, NULL, &s));
    }
    adm_dt s2 = s;
    if (L->down) {
        s2 = wsv(c, 3, N, ci, H, H);
        TRY(adm_bwd_avgpool2x2(c->cl, &s, &s2));
    }
    adm_dt out = wsv(c, 0, N, ci, H, H);
    return adm_op_add(c->cl, &gx, &s2, &out);
}

/* AttentionBlock: out = x + proj(attn(qkv(GN(x)))).  Backward:
 *     dx = dout + GN'(qkv^T attn'(proj^T dout)) */
static int bwd_attn(adm_classifier *c, const cls_layer *L, const adm_dt *x) {
    const int N = c->plan.B, C = L->cin, T = L->h * L->w;
    adm_dt g = wsv(c, 0, N, C, 1, T), ga = wsv(c, 1, N, C, 1, T), dqkv = wsv(c, 2, N, 3 * C, 1, T);
    TRY(adm_bwd_conv2d(c->cl, &g, &L->proj_wt, 1, NULL, &ga));
    TRY(adm_bwd_attention(c->cl, &L->qkv, &ga, L->heads, !c->cfg.use_new_attention_order, &c->plan.att_scratch, &dqkv));
    adm_dt gn_t = wsv(c, 1, N, C, 1, T);
    TRY(adm_bwd_conv2d(c->cl, &dqkv, &L->qkv_wt, 1, NULL, &gn_t));
    adm_dt gn_in = wsv(c, 1, N, C, L->h, L->w), gx = wsv(c, 2, N, C, L->h, L->w), out = wsv(c, 0, N, C, L->h, L->w);
    TRY(gn_bwd(c, x, &L->norm_g, &L->norm_b, NULL, 0, &gn_in, &gx));
    return adm_op_add(c->cl, &gx, &out, &out);
}

/* Downsample: stride-2 conv (transposed conv backward) or 2x2 avg pool. */
static int bwd_down(adm_classifier *c, const cls_layer *L) {
    const int N = c->plan.B, H = L->h, Ho = H / 2;
    adm_dt g = wsv(c, 0, N, L->cout, Ho, Ho), dx = wsv(c, 2, N, L->cin, H, H), tmp = wsv(c, 1, N, L->cout, H, H);
    if (L->conv_down) TRY(adm_bwd_conv2d(c->cl, &g, &L->conv_wt, 2, &tmp, &dx));
    else TRY(adm_bwd_avgpool2x2(c->cl, &g, &dx));
    adm_dt out = wsv(c, 0, N, L->cin, H, H);
    return adm_op_copy(c->cl, &dx, &out);
}

/* The head, from plan.dlogits to d/dh of the middle block's output h (in ws[0]). */
static int bwd_head(adm_classifier *c, const adm_dt *h) {
    cls_plan *p = &c->plan;
    const int N = p->B, C = c->C_out, Hf = c->H_out, K = c->cfg.out_channels, T1 = Hf * Hf + 1;
    const int Hd = CLS_SPATIAL_HIDDEN, F = c->feat_dim;
    adm_dt dh = wsv(c, 0, N, C, Hf, Hf), dsil = wsv(c, 3, N, C, Hf, Hf);
    switch (c->pool) {
    case CLS_POOL_ATTENTION: {
        /* logits = c_proj(a)[:, :, 0]: only token 0 of da is non-zero */
        adm_dt da = wsv(c, 1, N, C, 1, T1), dqkv = wsv(c, 2, N, 3 * C, 1, T1), dxp = wsv(c, 1, N, C, 1, T1);
        TRY(adm_bwd_zero(c->cl, &da));
        TRY(adm_bwd_linear(c->cl, &p->dlogits, &c->c_proj_w, K, C, da.mem, da.off, C * T1, T1));
        TRY(adm_bwd_attention(c->cl, &p->pool_qkv, &da, c->pool_heads, 0, &p->att_scratch, &dqkv));
        TRY(adm_bwd_conv2d(c->cl, &dqkv, &c->pool_qkv_wt, 1, NULL, &dxp));
        TRY(adm_bwd_pool_tokens(c->cl, &dxp, &dsil));     /* the positional embedding is a constant */
        return gn_bwd(c, h, &c->out_norm_g, &c->out_norm_b, NULL, 1, &dsil, &dh);
    }
    case CLS_POOL_ADAPTIVE:
        /* logits = W mean_hw(SiLU(GN(h))) + b; head_vec now holds d/dmean */
        TRY(adm_bwd_linear(c->cl, &p->dlogits, &c->head_w, K, C, p->head_vec.mem, p->head_vec.off, C, 1));
        TRY(adm_bwd_spatial_mean(c->cl, &p->head_vec, C, 0, &dsil, 0));
        return gn_bwd(c, h, &c->out_norm_g, &c->out_norm_b, NULL, 1, &dsil, &dh);
    case CLS_POOL_SPATIAL: case CLS_POOL_SPATIAL_V2:
        /* logits = W1 act(W0 feat + b0) + b1;  the middle block's own mean is the last feature block */
        TRY(adm_bwd_linear(c->cl, &p->dlogits, &c->sp1_w, K, Hd, p->dhid.mem, p->dhid.off, Hd, 1));
        if (c->pool == CLS_POOL_SPATIAL) TRY(adm_bwd_relu(c->cl, &p->hid, &p->dhid, &p->dhid2));
        else TRY(gn_bwd(c, &p->hid, &c->sp_norm_g, &c->sp_norm_b, NULL, 1, &p->dhid, &p->dhid2));
        TRY(adm_bwd_linear(c->cl, &p->dhid2, &c->sp0_w, Hd, F, p->dfeat.mem, p->dfeat.off, F, 1));
        return adm_bwd_spatial_mean(c->cl, &p->dfeat, F, c->layers[c->n_layers - 1].feat_off, &dh, 0);
    }
    return 0;
}

int cls_backward(adm_classifier *c, adm_dt *grad_x) {
    cls_plan *p = &c->plan;
    const int N = p->B, spatial = c->pool == CLS_POOL_SPATIAL || c->pool == CLS_POOL_SPATIAL_V2;
    if (bwd_head(c, &c->layers[c->n_layers - 1].out)) return adm_error_prefix("out (backward)");
    for (int i = c->n_layers - 1; i >= 0; i--) {
        const cls_layer *L = &c->layers[i];
        const adm_dt *x = i ? &c->layers[i - 1].out : &p->x;
        const int Ho = L->down ? L->h / 2 : L->h;
        int rc = 0;
        if (spatial && L->block_end && i != c->n_layers - 1) {
            /* the spatial heads also read this block's mean */
            adm_dt g = wsv(c, 0, N, L->cout, Ho, Ho);
            rc = adm_bwd_spatial_mean(c->cl, &p->dfeat, c->feat_dim, L->feat_off, &g, 1);
        }
        if (!rc) switch (L->kind) {
        case CLS_CONV: {
            /* input_blocks.0: the gradient with respect to x, left in ws[1] */
            adm_dt g = wsv(c, 0, N, L->cout, L->h, L->w);
            *grad_x = wsv(c, 1, N, L->cin, L->h, L->w);
            rc = adm_bwd_conv2d(c->cl, &g, &L->conv_wt, 1, NULL, grad_x);
            break;
        }
        case CLS_DOWN: rc = bwd_down(c, L); break;
        case CLS_RES: rc = bwd_res(c, L, x); break;
        case CLS_ATTN: rc = bwd_attn(c, L, x); break;
        }
        if (rc) return adm_error_prefix("%s (backward)", L->name);
    }
    return 0;
}
