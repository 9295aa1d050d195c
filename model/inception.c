/* inception.c — pytorch-fid's FID Inception-v3 as a network description
 * and one walk over it (see inception.h for inputs and outputs).
 *
 * The description: the network is a list of blocks (inc_net), a block is
 * an instance of a block type (a table of ops) with one width parameter P.
 * An op reads the block input or an earlier op's output; ops marked OUT
 * write, in table order, into consecutive channels of the block output
 * (torch.cat of the branches).  A conv op is torchvision's BasicConv2d,
 *     y = ReLU(BN(conv(x, W)))  with BN(z) = (z - mean) / sqrt(var + 0.001) * gamma + beta,
 * folded at load into  y = ReLU(conv(x, W') + b'),
 *     W'[o] = W[o] * s_o,  b'[o] = beta_o - mean_o * s_o,  s_o = gamma_o / sqrt(var_o + 0.001),
 * its tensors are "<block>.<op>.conv.weight", "<block>.<op>.bn.{weight,bias,running_mean,running_var}"
 * (num_batches_tracked is not needed).  Pools: FIDInceptionA/C/E_1 average
 * with count_include_pad=False, FIDInceptionE_2 max, reductions (Mixed_6a,
 * Mixed_7a) and the stem max 3x3 stride 2.
 *
 * The walk (inc_walk) is the only code that follows the description: with
 * FOLD it checks every tensor's shape and folds BatchNorm (loading); dry, it
 * plans the activation arena (adm_arena) for a batch; otherwise it runs the
 * forward on the device.  After the last block: pool3 = global average pool,
 * logits = pool3 fc.weight^T (no bias); the spatial features are read from
 * the tap Mixed_6d.branch1x1 as its block finishes.
 */
#include "inception.h"
#include "ops_eval.h"
#include "tensor.h"
#include "unet_arena.h"
#include "util.h"
#include "weights.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the description ------------------------------------------------------ */

enum { CONV, AVGPOOL, MAXPOOL };
#define IN (-1)        /* op source: the block input */
#define P (-1)         /* op channels: the block's width parameter */
#define OUT 1          /* op output is a part of the block output */

typedef struct {
    const char *name;  /* conv: tensor prefix inside the block (NULL: the block itself); pools: NULL */
    int kind, src, cout;
    int kh, kw, sh, sw, ph, pw;
    int out;
} inc_op;

#define CONV1(nm, src, co, out) {nm, CONV, src, co, 1, 1, 1, 1, 0, 0, out}
#define CONV3(nm, src, co, s, pad, out) {nm, CONV, src, co, 3, 3, s, s, pad, pad, out}
#define CONVHW(nm, src, co, kh, kw, out) {nm, CONV, src, co, kh, kw, 1, 1, (kh) / 2, (kw) / 2, out}
#define POOL(kind, src, k, s, pad, out) {NULL, kind, src, 0, k, k, s, s, pad, pad, out}
#define END {NULL, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/* The stem: single ops (BasicConv2d named by the block, or a pool). */
static const inc_op T_CONV3S2[] = {CONV3(NULL, IN, P, 2, 0, OUT), END};
static const inc_op T_CONV3[] = {CONV3(NULL, IN, P, 1, 0, OUT), END};
static const inc_op T_CONV3P1[] = {CONV3(NULL, IN, P, 1, 1, OUT), END};
static const inc_op T_CONV1[] = {CONV1(NULL, IN, P, OUT), END};
static const inc_op T_MAXPOOL[] = {POOL(MAXPOOL, IN, 3, 2, 0, OUT), END};

/* FIDInceptionA (P = pool_features). */
static const inc_op T_A[] = {
    CONV1("branch1x1", IN, 64, OUT),
    CONV1("branch5x5_1", IN, 48, 0),
    CONVHW("branch5x5_2", 1, 64, 5, 5, OUT),
    CONV1("branch3x3dbl_1", IN, 64, 0),
    CONV3("branch3x3dbl_2", 3, 96, 1, 1, 0),
    CONV3("branch3x3dbl_3", 4, 96, 1, 1, OUT),
    POOL(AVGPOOL, IN, 3, 1, 1, 0),
    CONV1("branch_pool", 6, P, OUT),
    END};

/* InceptionB (Mixed_6a). */
static const inc_op T_B[] = {
    CONV3("branch3x3", IN, 384, 2, 0, OUT),
    CONV1("branch3x3dbl_1", IN, 64, 0),
    CONV3("branch3x3dbl_2", 1, 96, 1, 1, 0),
    CONV3("branch3x3dbl_3", 2, 96, 2, 0, OUT),
    POOL(MAXPOOL, IN, 3, 2, 0, OUT),
    END};

/* FIDInceptionC (P = channels_7x7). */
static const inc_op T_C[] = {
    CONV1("branch1x1", IN, 192, OUT),
    CONV1("branch7x7_1", IN, P, 0),
    CONVHW("branch7x7_2", 1, P, 1, 7, 0),
    CONVHW("branch7x7_3", 2, 192, 7, 1, OUT),
    CONV1("branch7x7dbl_1", IN, P, 0),
    CONVHW("branch7x7dbl_2", 4, P, 7, 1, 0),
    CONVHW("branch7x7dbl_3", 5, P, 1, 7, 0),
    CONVHW("branch7x7dbl_4", 6, P, 7, 1, 0),
    CONVHW("branch7x7dbl_5", 7, 192, 1, 7, OUT),
    POOL(AVGPOOL, IN, 3, 1, 1, 0),
    CONV1("branch_pool", 9, 192, OUT),
    END};

/* InceptionD (Mixed_7a). */
static const inc_op T_D[] = {
    CONV1("branch3x3_1", IN, 192, 0),
    CONV3("branch3x3_2", 0, 320, 2, 0, OUT),
    CONV1("branch7x7x3_1", IN, 192, 0),
    CONVHW("branch7x7x3_2", 2, 192, 1, 7, 0),
    CONVHW("branch7x7x3_3", 3, 192, 7, 1, 0),
    CONV3("branch7x7x3_4", 4, 192, 2, 0, OUT),
    POOL(MAXPOOL, IN, 3, 2, 0, OUT),
    END};

/* FIDInceptionE_1 (average pool branch) and FIDInceptionE_2 (max pool branch). */
#define T_E(POOLKIND) {                                  \
    CONV1("branch1x1", IN, 320, OUT),                    \
    CONV1("branch3x3_1", IN, 384, 0),                    \
    CONVHW("branch3x3_2a", 1, 384, 1, 3, OUT),           \
    CONVHW("branch3x3_2b", 1, 384, 3, 1, OUT),           \
    CONV1("branch3x3dbl_1", IN, 448, 0),                 \
    CONV3("branch3x3dbl_2", 4, 384, 1, 1, 0),            \
    CONVHW("branch3x3dbl_3a", 5, 384, 1, 3, OUT),        \
    CONVHW("branch3x3dbl_3b", 5, 384, 3, 1, OUT),        \
    POOL(POOLKIND, IN, 3, 1, 1, 0),                      \
    CONV1("branch_pool", 8, 192, OUT),                   \
    END}
static const inc_op T_E1[] = T_E(AVGPOOL);
static const inc_op T_E2[] = T_E(MAXPOOL);

typedef struct { const char *name; const inc_op *ops; int p; } inc_block;

static const inc_block inc_net[] = {
    {"Conv2d_1a_3x3", T_CONV3S2, 32}, {"Conv2d_2a_3x3", T_CONV3, 32}, {"Conv2d_2b_3x3", T_CONV3P1, 64},
    {"maxpool1", T_MAXPOOL, 0},
    {"Conv2d_3b_1x1", T_CONV1, 80}, {"Conv2d_4a_3x3", T_CONV3, 192},
    {"maxpool2", T_MAXPOOL, 0},
    {"Mixed_5b", T_A, 32}, {"Mixed_5c", T_A, 64}, {"Mixed_5d", T_A, 64},
    {"Mixed_6a", T_B, 0},
    {"Mixed_6b", T_C, 128}, {"Mixed_6c", T_C, 160}, {"Mixed_6d", T_C, 160}, {"Mixed_6e", T_C, 192},
    {"Mixed_7a", T_D, 0},
    {"Mixed_7b", T_E1, 0}, {"Mixed_7c", T_E2, 0},
};
#define INC_NBLOCKS ((int)(sizeof inc_net / sizeof *inc_net))
#define INC_MAX_OPS 16

#define INC_SIZE 299                 /* the network's input size */
#define INC_BN_EPS 0.001
#define SPATIAL_BLOCK "Mixed_6d"     /* TF 'mixed_6/conv' */
#define SPATIAL_OP "branch1x1"
#define SPATIAL_CH 7

/* ---- the network ---------------------------------------------------------- */

struct adm_inception {
    adm_cl *cl;
    adm_weights w;               /* folded: "<prefix>.w" [Co,Ci,kh,kw], "<prefix>.b" [Co], "fc.weight" */
    adm_arena arena;
    cl_mem img;                  /* uint8 images of one batch */
    size_t img_bytes;
    int batch, batch_default;
    size_t per_image_floats;     /* arena floats one image needs (planned at load) */
    char sha[65];
};

enum { W_FOLD = 1, W_DRY = 2 };

/* What a walk produces; pointers are host arrays of the walk's batch (any may be NULL). */
typedef struct {
    adm_tensor_set *raw;         /* W_FOLD: the file's tensors */
    adm_tensor *folded;          /* W_FOLD: folded tensors appended here */
    int nfolded;
    float *spatial;              /* [B, 2023] */
    const char *tap;             /* block whose output to read for image 0 */
    float *tap_out; size_t tap_cap, tap_count; int tap_chw[3];
} inc_io;

static void op_prefix(char *buf, int n, const char *block, const inc_op *op) {
    if (op->name) snprintf(buf, n, "%s.%s", block, op->name);
    else snprintf(buf, n, "%s", block);
}

/* Fold one BasicConv2d's BatchNorm into its weight (checking every shape). */
static int fold_conv(inc_io *io, const char *pre, int cin, int cout, int kh, int kw) {
    static const char *bn[4] = {"weight", "bias", "running_mean", "running_var"};
    char name[200];
    snprintf(name, sizeof name, "%s.conv.weight", pre);
    const adm_tensor *w = adm_tensors_find(io->raw, name);
    if (!w) return adm_error("tensor %s is missing", name);
    if (w->ndim != 4 || w->shape[0] != cout || w->shape[1] != cin || w->shape[2] != kh || w->shape[3] != kw)
        return adm_error("tensor %s: expected [%d, %d, %d, %d]", name, cout, cin, kh, kw);
    float *v[4] = {0}, *wf = NULL, *bf = NULL;
    int rc = -1;
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "%s.bn.%s", pre, bn[k]);
        const adm_tensor *t = adm_tensors_find(io->raw, name);
        if (!t) { adm_error("tensor %s is missing", name); goto done; }
        if (adm_tensor_numel(t) != cout) { adm_error("tensor %s: expected %d values", name, cout); goto done; }
        if (!(v[k] = adm_tensor_f32_copy(t))) goto done;
    }
    if (!(wf = adm_tensor_f32_copy(w)) || !(bf = adm_malloc((size_t)cout * sizeof *bf))) goto done;
    size_t per = (size_t)cin * kh * kw;
    for (int o = 0; o < cout; o++) {
        if (!(v[3][o] >= 0)) { adm_error("%s.bn.running_var: negative or NaN variance at channel %d", pre, o); goto done; }
        double s = v[0][o] / sqrt((double)v[3][o] + INC_BN_EPS);
        for (size_t i = 0; i < per; i++) wf[o * per + i] = (float)(wf[o * per + i] * s);
        bf[o] = (float)(v[1][o] - v[2][o] * s);
    }
    adm_tensor *fw = &io->folded[io->nfolded], *fb = fw + 1;
    memset(fw, 0, 2 * sizeof *fw);
    snprintf(name, sizeof name, "%s.w", pre);
    if (!(fw->name = strdup(name))) { adm_error("out of memory"); goto done; }
    fw->dtype = ADM_F32; fw->ndim = 4; fw->shape[0] = cout; fw->shape[1] = cin; fw->shape[2] = kh; fw->shape[3] = kw;
    fw->data = wf; fw->nbytes = per * cout * sizeof(float); fw->owns_data = 1; wf = NULL;
    io->nfolded++;
    snprintf(name, sizeof name, "%s.b", pre);
    if (!(fb->name = strdup(name))) { adm_error("out of memory"); goto done; }
    fb->dtype = ADM_F32; fb->ndim = 1; fb->shape[0] = cout;
    fb->data = bf; fb->nbytes = (size_t)cout * sizeof(float); fb->owns_data = 1; bf = NULL;
    io->nfolded++;
    rc = 0;
done:
    for (int k = 0; k < 4; k++) free(v[k]);
    free(wf); free(bf);
    return rc;
}

/* Read channels [c0, c0 + nc) of image 0 of t (a block output) into out, NCHW. */
static int read_channels(adm_cl *cl, const adm_dt *t, int img, int c0, int nc, float *out) {
    size_t hw = (size_t)t->h * t->w;
    return adm_cl_read(cl, t->mem, (t->off + ((size_t)img * t->c + c0) * hw) * sizeof(float), (size_t)nc * hw * sizeof(float), out);
}

/* The walk.  x: the preprocessed input [B, 3, 299, 299] (an arena tensor,
 * freed here); pool3 / logits: arena tensors [B, 2048] / [B, 1008] out.
 * Returns 0, -1 + adm_error, or 1 when it stopped after io->tap's block. */
static int inc_walk(adm_inception *net, int flags, adm_dt x, adm_dt *pool3, adm_dt *logits, inc_io *io) {
    adm_cl *cl = net->cl;
    adm_arena *A = &net->arena;
    int dry = (flags & W_DRY) != 0, B = x.n;
    char pre[128];
    for (int bi = 0; bi < INC_NBLOCKS; bi++) {
        const inc_block *blk = &inc_net[bi];
        int n = 0, shp[INC_MAX_OPS][3], total = 0, OH = 0, OW = 0;
        /* Shapes: each op's output from its source's. */
        for (; blk->ops[n].kind >= 0; n++) {
            const inc_op *op = &blk->ops[n];
            const int *s = op->src == IN ? (const int[3]){x.c, x.h, x.w} : shp[op->src];
            shp[n][0] = op->kind == CONV ? (op->cout == P ? blk->p : op->cout) : s[0];
            shp[n][1] = (s[1] + 2 * op->ph - op->kh) / op->sh + 1;
            shp[n][2] = (s[2] + 2 * op->pw - op->kw) / op->sw + 1;
            if (s[1] + 2 * op->ph < op->kh || s[2] + 2 * op->pw < op->kw)
                return adm_error("inception %s: input %dx%d smaller than a %dx%d window", blk->name, s[1], s[2], op->kh, op->kw);
            if (op->out) {
                if (total && (shp[n][1] != OH || shp[n][2] != OW))
                    return adm_error("inception %s: branches of different sizes", blk->name);   /* a description error */
                OH = shp[n][1]; OW = shp[n][2]; total += shp[n][0];
            }
        }
        adm_dt y, tmp[INC_MAX_OPS];
        int is_tmp[INC_MAX_OPS] = {0}, c0 = 0, tap_c0 = -1;
        if (adm_arena_alloc(A, B, total, OH, OW, &y)) return -1;
        for (int k = 0; k < n; k++) {
            const inc_op *op = &blk->ops[k];
            const adm_dt *src = op->src == IN ? &x : &tmp[op->src];
            adm_dt *dst = &y;
            int at = c0;
            if (op->out) c0 += shp[k][0];
            else {
                if (adm_arena_alloc(A, B, shp[k][0], shp[k][1], shp[k][2], &tmp[k])) return -1;
                is_tmp[k] = 1; dst = &tmp[k]; at = 0;
            }
            op_prefix(pre, (int)sizeof pre, blk->name, op);
            if (op->kind == CONV && strcmp(blk->name, SPATIAL_BLOCK) == 0 && op->name && strcmp(op->name, SPATIAL_OP) == 0) {
                if (!op->out) return adm_error("inception: the spatial tap must be a block output");
                tap_c0 = at;
            }
            if (op->kind == CONV && (flags & W_FOLD)) {
                if (fold_conv(io, pre, src->c, shp[k][0], op->kh, op->kw)) return -1;
            }
            if (dry) continue;
            if (op->kind == CONV) {
                adm_dt w, b;
                if (adm_weights_getf(&net->w, &w, "%s.w", pre) || adm_weights_getf(&net->w, &b, "%s.b", pre) ||
                    adm_op_eval_conv(cl, src, &w, &b, op->sh, op->sw, op->ph, op->pw, 1, dst, at))
                    return adm_error_prefix("inception %s", pre);
            } else if (adm_op_eval_pool(cl, src, op->kh, op->sh, op->ph, op->kind == MAXPOOL, dst, at))
                return adm_error_prefix("inception %s pool", blk->name);
        }
        for (int k = n - 1; k >= 0; k--) if (is_tmp[k]) adm_arena_free(A, &tmp[k]);
        adm_arena_free(A, &x);
        x = y;
        if (dry) continue;
        /* Taps: the spatial features (H, W, C order), a debugging block output. */
        if (tap_c0 >= 0 && io->spatial) {
            size_t hw = (size_t)x.h * x.w;
            if (SPATIAL_CH * hw != ADM_INCEPTION_SPATIAL) return adm_error("inception: spatial map %dx%d, expected 17x17", x.h, x.w);
            float buf[ADM_INCEPTION_SPATIAL];
            for (int b = 0; b < B; b++) {
                if (read_channels(cl, &x, b, tap_c0, SPATIAL_CH, buf)) return adm_error_prefix("inception spatial features");
                for (size_t p = 0; p < hw; p++)
                    for (int c = 0; c < SPATIAL_CH; c++) io->spatial[(size_t)b * ADM_INCEPTION_SPATIAL + p * SPATIAL_CH + c] = buf[c * hw + p];
            }
        }
        if (io->tap && strcmp(io->tap, blk->name) == 0) {
            io->tap_count = (size_t)x.c * x.h * x.w;
            io->tap_chw[0] = x.c; io->tap_chw[1] = x.h; io->tap_chw[2] = x.w;
            if (io->tap_count > io->tap_cap) return adm_error("inception: block %s has %zu values, room for %zu", blk->name, io->tap_count, io->tap_cap);
            if (read_channels(cl, &x, 0, 0, x.c, io->tap_out)) return -1;
            adm_arena_free(A, &x);
            return 1;                   /* the tap was all this run wanted */
        }
    }
    /* pool3 = mean over H, W;  logits = pool3 fc.weight^T (no bias). */
    if (x.c != ADM_INCEPTION_POOL3) return adm_error("inception: last block has %d channels", x.c);
    if (adm_arena_alloc(A, B, ADM_INCEPTION_POOL3, 1, 1, pool3) || adm_arena_alloc(A, B, ADM_INCEPTION_LOGITS, 1, 1, logits))
        return -1;
    if (flags & W_FOLD) {
        const adm_tensor *fc = adm_tensors_find(io->raw, "fc.weight");
        if (!fc) return adm_error("tensor fc.weight is missing");
        if (fc->ndim != 2 || fc->shape[0] != ADM_INCEPTION_LOGITS || fc->shape[1] != ADM_INCEPTION_POOL3)
            return adm_error("tensor fc.weight: expected [%d, %d] (the FID Inception has 1008 classes)", ADM_INCEPTION_LOGITS, ADM_INCEPTION_POOL3);
    }
    if (!dry) {
        adm_dt fc;
        if (adm_op_eval_mean_hw(cl, &x, pool3) || adm_weights_get(&net->w, "fc.weight", &fc) ||
            adm_op_linear(cl, pool3, &fc, NULL, logits))
            return adm_error_prefix("inception head");
    }
    adm_arena_free(A, &x);
    return 0;
}

/* ---- loading ---------------------------------------------------------------- */

static int input_plan(adm_inception *net, int B, adm_dt *x) {
    return adm_arena_alloc(&net->arena, B, 3, INC_SIZE, INC_SIZE, x);
}

/* Dry walk for B images: arena floats it needs. */
static int plan(adm_inception *net, int B, size_t *floats) {
    adm_dt x, p3, lg;
    inc_io io = {0};
    adm_arena_begin(&net->arena, 1);
    if (input_plan(net, B, &x) || inc_walk(net, W_DRY, x, &p3, &lg, &io)) return -1;
    *floats = net->arena.peak;
    return 0;
}

int adm_inception_load(adm_inception **out, adm_cl *cl, const char *path) {
    *out = NULL;
    adm_inception *net = adm_calloc(1, sizeof *net);
    if (!net) return -1;
    net->cl = cl;
    adm_arena_init(&net->arena, cl->max_alloc);
    adm_tensor_set raw;
    if (adm_tensors_load(path, &raw)) { free(net); return -1; }
    inc_io io = {.raw = &raw};
    int rc = -1;
    /* Two folded tensors per conv: at most one conv per raw tensor. */
    if (!(io.folded = adm_calloc((size_t)raw.n * 2 + 2, sizeof *io.folded))) goto done;
    adm_dt x, p3, lg;
    adm_arena_begin(&net->arena, 1);
    if (input_plan(net, 1, &x) || inc_walk(net, W_FOLD | W_DRY, x, &p3, &lg, &io)) {
        adm_error_prefix("%s: not pytorch-fid's FID Inception weights", path);
        goto done;
    }
    /* fc.weight as it is (any float dtype -> f32 on upload). */
    const adm_tensor *fc = adm_tensors_find(&raw, "fc.weight");
    adm_tensor *f = &io.folded[io.nfolded++];
    *f = *fc;
    f->name = strdup("fc.weight"); f->owns_data = 0;
    if (!f->name) { adm_error("out of memory"); goto done; }
    adm_tensor_set folded = {.t = io.folded, .n = io.nfolded};
    if (adm_weights_upload(cl, &folded, NULL, &net->w)) { adm_error_prefix("%s", path); goto done; }
    if (adm_sha256_file(path, net->sha)) goto done;
    /* Batch from device memory: a quarter of it for activations (the column
     * matrices of the convolutions live in the ops scratch, at most 256 MiB). */
    size_t one;
    if (plan(net, 1, &one)) goto done;
    net->per_image_floats = one;
    size_t budget = (size_t)(cl->global_mem / 4), per = one * sizeof(float);
    int b = (int)(budget / per);
    net->batch_default = b < 1 ? 1 : b > 32 ? 32 : b;
    net->batch = net->batch_default;
    rc = 0;
done:
    for (int k = 0; k < io.nfolded; k++) {
        free(io.folded[k].name);
        if (io.folded[k].owns_data) free(io.folded[k].data);
    }
    free(io.folded);
    adm_tensors_free(&raw);
    if (rc) { adm_inception_free(net); return -1; }
    *out = net;
    return 0;
}

void adm_inception_free(adm_inception *net) {
    if (!net) return;
    adm_weights_free(&net->w);
    adm_arena_release(&net->arena);
    adm_cl_release(net->cl, net->img);
    free(net);
}

const char *adm_inception_sha256(const adm_inception *net) { return net->sha; }
int adm_inception_batch(const adm_inception *net) { return net->batch; }
void adm_inception_set_batch(adm_inception *net, int batch) { net->batch = batch > 0 ? batch : net->batch_default; }

/* ---- running ------------------------------------------------------------------ */

/* One device batch of B images: upload, preprocess, walk, read back. */
static int run_batch(adm_inception *net, const uint8_t *img, int B, int h, int w, int c,
                     float *pool3, float *logits, inc_io *io) {
    adm_cl *cl = net->cl;
    size_t bytes = (size_t)B * h * w * c, floats;
    if (bytes > net->img_bytes) {
        adm_cl_release(cl, net->img);
        net->img = NULL; net->img_bytes = 0;
        if (!(net->img = adm_cl_alloc(cl, bytes))) return adm_error_prefix("inception input images");
        net->img_bytes = bytes;
    }
    if (adm_cl_write(cl, net->img, 0, bytes, img)) return -1;
    if (plan(net, B, &floats) || adm_arena_realize(&net->arena, cl, floats)) return -1;
    adm_arena_begin(&net->arena, 0);
    adm_dt x, p3, lg;
    if (input_plan(net, B, &x) || adm_op_eval_preprocess(cl, net->img, 0, h, w, c, &x)) return -1;
    int rc = inc_walk(net, 0, x, &p3, &lg, io);
    if (rc) return rc < 0 ? -1 : 0;
    if (pool3 && adm_cl_read(cl, p3.mem, p3.off * sizeof(float), (size_t)B * ADM_INCEPTION_POOL3 * sizeof(float), pool3)) return -1;
    if (logits && adm_cl_read(cl, lg.mem, lg.off * sizeof(float), (size_t)B * ADM_INCEPTION_LOGITS * sizeof(float), logits)) return -1;
    return 0;
}

static int check_images(int n, int h, int w, int c) {
    if (n < 0 || h < 1 || w < 1 || (c != 1 && c != 3))
        return adm_error("inception: images must be [N, H, W, C] uint8 with C = 1 or 3 (got [%d, %d, %d, %d])", n, h, w, c);
    if ((size_t)h * w > ((size_t)1 << 26)) return adm_error("inception: images of %dx%d are too large", h, w);
    return 0;
}

int adm_inception_features(adm_inception *net, const uint8_t *images, int n, int h, int w, int c,
                           float *pool3, float *spatial, float *logits) {
    if (check_images(n, h, w, c)) return -1;
    size_t per_img = (size_t)h * w * c;
    for (int i = 0; i < n; i += net->batch) {
        int B = n - i < net->batch ? n - i : net->batch;
        inc_io io = {.spatial = spatial ? spatial + (size_t)i * ADM_INCEPTION_SPATIAL : NULL};
        if (run_batch(net, images + (size_t)i * per_img, B, h, w, c, pool3 ? pool3 + (size_t)i * ADM_INCEPTION_POOL3 : NULL,
                      logits ? logits + (size_t)i * ADM_INCEPTION_LOGITS : NULL, &io))
            return -1;
    }
    return 0;
}

int adm_inception_block_output(adm_inception *net, const uint8_t *images, int h, int w, int c,
                               const char *name, float *out, size_t *count, int chw[3]) {
    if (check_images(1, h, w, c)) return -1;
    int known = 0;
    for (int b = 0; b < INC_NBLOCKS; b++) known |= strcmp(inc_net[b].name, name) == 0;
    if (!known) return adm_error("inception: no block named %s", name);
    inc_io io = {.tap = name, .tap_out = out, .tap_cap = *count};
    if (run_batch(net, images, 1, h, w, c, NULL, NULL, &io)) return -1;
    *count = io.tap_count;
    memcpy(chw, io.tap_chw, sizeof io.tap_chw);
    return 0;
}
