/* conv.cl — convolutions and matrix products of the ADM UNet.
 *
 *   adm_conv2d_direct   any k, stride, padding k/2: one work-item per output
 *                       (used for the stride-2 Downsample and as reference)
 *   adm_pad2d_rows      x [N, Ci, H, W] -> zero-bordered rows of all channels
 *                       side by side, [N, H+2, Ci, W+2]
 *   adm_conv3x3_rows*   3x3, stride 1 on that layout: a work-item holds a row
 *                       segment (ADM_NV vectors of ADM_VW columns) x ADM_COT
 *                       output channels in registers
 *   adm_pad2d           x -> zero-bordered planes [N*Ci, H+2, W+2]
 *   adm_conv3x3_vec     3x3, stride 1 on planes, for images narrower than a
 *                       vector: tiles run across row ends (the 2 border
 *                       columns are computed and dropped)
 *   adm_pad2d_shift3    x -> 3 column-shifted zero-bordered copies [N*Ci, 3, H+2, W]
 *   adm_conv3x3_shift3  3x3, stride 1 on those, for narrow images where the
 *                       dropped border columns would cost a whole tile (8x8)
 *   adm_pack_panels     a row-major matrix -> column panels
 *   adm_gemm_panel      C = A B (+ bias) with B in panels: 1x1 convs, attention
 *   adm_linear          y = x w^T + b (small: time embedding, classifier head)
 *   adm_im2col          for the CLBlast backend
 *
 * Layouts are chosen so that the innermost loop (input channels, or k)
 * walks memory sequentially.  Sums run over (ci, ky, kx) / k in increasing
 * order in every kernel, so the result does not depend on the launch
 * shape.  ADM_MAD, floatV and the tile
 * sizes come from common.cl.
 */
#pragma OPENCL FP_CONTRACT OFF

/* y[n, co, oy, ox] = b[co] + sum_{ci, ky, kx} w[co, ci, ky, kx] x[n, ci, oy*s + ky - k/2, ox*s + kx - k/2] */
__kernel void adm_conv2d_direct(__global const float *x, ulong xoff, __global const float *w, ulong woff,
                                __global const float *b, ulong boff, int has_bias,
                                __global float *y, ulong yoff,
                                int N, int Ci, int H, int W, int Co, int OH, int OW, int k, int stride) {
    int i = get_global_id(0);
    if (i >= N * Co * OH * OW) return;
    int q1 = i / OW, ox = i - q1 * OW, q2 = q1 / OH, oy = q1 - q2 * OH, n = q2 / Co, co = q2 - n * Co;
    int pad = k / 2;
    float acc = has_bias ? b[boff + co] : 0.0f;
    __global const float *xs = x + xoff + (ulong)n * Ci * H * W;
    __global const float *ws = w + woff + (ulong)co * Ci * k * k;
    for (int ci = 0; ci < Ci; ci++)
        for (int ky = 0; ky < k; ky++) {
            int iy = oy * stride + ky - pad;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < k; kx++) {
                int ix = ox * stride + kx - pad;
                if (ix < 0 || ix >= W) continue;
                acc = ADM_MAD(ws[(ci * k + ky) * k + kx], xs[((ulong)ci * H + iy) * W + ix], acc);
            }
        }
    y[yoff + i] = acc;
}

/* xp [P, H+2, W+2] (+ zero rows of slack) = x [P, H, W] with a zero border.
 * One work-item per padded row (rows = all padded rows + slack rows). */
__kernel void adm_pad2d(__global const float *x, ulong xoff, __global float *xp,
                        int H, int W, uint planes, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    int Wp = W + 2, Hp = H + 2;
    uint plane = r / (uint)Hp;
    int py = (int)(r - plane * (uint)Hp) - 1;
    __global float *d = xp + (ulong)r * Wp;
    if (plane >= planes || py < 0 || py >= H) {
        for (int i = 0; i < Wp; i++) d[i] = 0.0f;
        return;
    }
    __global const float *s = x + xoff + ((ulong)plane * H + py) * W;
    d[0] = 0.0f;
    for (int i = 0; i < W; i++) d[i + 1] = s[i];
    d[W + 1] = 0.0f;
}

/* 3x3 stride-1 conv on the padded input xp [N, Ci, H+2, W+2].
 * Work-item (tc, tp, n): ADM_NV vectors of ADM_VW padded-grid positions,
 * p = tp*NV*VW .. +NV*VW-1 (p = oy*Wp + ox), times output channels
 * co = tc*COT .. +COT-1, all in registers; each weight is broadcast once
 * per NV vectors.  xp has >= NV*VW+2 floats of slack past its end, so the
 * vector loads of the last tile stay inside. */
__kernel void adm_conv3x3_vec(__global const float *xp, __global const float *w, ulong woff,
                              __global const float *b, ulong boff, int has_bias,
                              __global float *y, ulong yoff, int Ci, int H, int W, int Co) {
    int tc = get_global_id(0), tp = get_global_id(1), n = get_global_id(2);
    int Wp = W + 2, plane = (H + 2) * Wp;
    int p0 = tp * ADM_VW * ADM_NV;
    if (p0 >= H * Wp) return;
    int co0 = tc * ADM_COT;
    floatV acc[ADM_COT][ADM_NV];
    __global const float *wr[ADM_COT];
    #pragma unroll
    for (int j = 0; j < ADM_COT; j++) {
        int co = min(co0 + j, Co - 1);             /* tail channels: computed, never stored */
        float bj = has_bias ? b[boff + co] : 0.0f;
        #pragma unroll
        for (int v = 0; v < ADM_NV; v++) acc[j][v] = (floatV)(bj);
        wr[j] = w + woff + (ulong)co * Ci * 9;
    }
    __global const float *xs = xp + (ulong)n * Ci * plane + p0;
    for (int ci = 0; ci < Ci; ci++) {
        __global const float *xc = xs + (ulong)ci * plane;
        int wo = ci * 9;
        #pragma unroll
        for (int ky = 0; ky < 3; ky++)
            #pragma unroll
            for (int kx = 0; kx < 3; kx++) {
                floatV xv[ADM_NV];
                #pragma unroll
                for (int v = 0; v < ADM_NV; v++) xv[v] = vloadV(0, xc + ky * Wp + kx + v * ADM_VW);
                #pragma unroll
                for (int j = 0; j < ADM_COT; j++) {
                    floatV wv = (floatV)(wr[j][wo + ky * 3 + kx]);
                    #pragma unroll
                    for (int v = 0; v < ADM_NV; v++) acc[j][v] = ADM_MAD(wv, xv[v], acc[j][v]);
                }
            }
    }
    __global float *ys = y + yoff + (ulong)n * Co * H * W;
    for (int j = 0; j < ADM_COT; j++) {
        if (co0 + j >= Co) break;
        for (int v = 0; v < ADM_NV; v++) {
            float o[ADM_VW];
            vstoreV(acc[j][v], 0, o);
            for (int l = 0; l < ADM_VW; l++) {
                int p = p0 + v * ADM_VW + l, oy = p / Wp, ox = p - oy * Wp;
                if (oy < H && ox < W) ys[((ulong)(co0 + j) * H + oy) * W + ox] = o[l];
            }
        }
    }
}

/* Row-interleaved padding for wide images: xr [N, H+2, Ci, W+2] (row py of every
 * channel side by side) = x [N, Ci, H, W] with a zero border, + zero rows of
 * slack.  Then the rows a 3x3 window needs for channel ci and ci+1 are W+2
 * floats apart, a stream the hardware prefetcher follows, instead of a plane apart. */
__kernel void adm_pad2d_rows(__global const float *x, ulong xoff, __global float *xr,
                             int N, int Ci, int H, int W, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    int Wp = W + 2, Hp = H + 2;
    uint t = r / (uint)Ci, ci = r - t * (uint)Ci, tn = t / (uint)Hp;
    int py = (int)(t - tn * (uint)Hp) - 1, n = (int)tn;
    __global float *d = xr + (ulong)r * Wp;
    if (n >= N || py < 0 || py >= H) {
        for (int i = 0; i < Wp; i++) d[i] = 0.0f;
        return;
    }
    __global const float *s = x + xoff + (((ulong)n * Ci + ci) * H + py) * W;
    d[0] = 0.0f;
    for (int i = 0; i < W; i++) d[i + 1] = s[i];
    d[W + 1] = 0.0f;
}

/* 3x3 stride-1 conv on the row-interleaved input xr [N, H+2, Ci, W+2].
 * Work-item (tc, tx, n*ceil(H/NR) + g): output rows oy = g*NR .. +NR-1,
 * columns x0 = tx*NV*VW .. +NV*VW-1 (those >= W computed from the next
 * row's floats and dropped), channels co = tc*COT .. +COT-1: COT x NR x NV
 * vectors in registers, each weight broadcast once per NR*NV vectors.
 * Two instances: NV = ADM_NV vectors of one row (adm_conv3x3_rows) and one
 * vector of 2 rows for images narrower than NV vectors (adm_conv3x3_rows1). */
#define CONV_ROWS(NAME, NV, NR, COT)                                                             \
__kernel void NAME(__global const float *xr, __global const float *w, ulong woff,               \
                   __global const float *b, ulong boff, int has_bias,                          \
                   __global float *y, ulong yoff, int Ci, int H, int W, int Co) {              \
    int tc = get_global_id(0), tx = get_global_id(1), r = get_global_id(2);                     \
    int Wp = W + 2, HG = (H + NR - 1) / NR, n = r / HG, oy0 = (r - n * HG) * NR;               \
    int x0 = tx * ADM_VW * NV;                                                                  \
    if (x0 >= W) return;                                                                        \
    int co0 = tc * COT;                                                                         \
    floatV acc[COT][NR][NV];                                                                    \
    __global const float *wr[COT];                                                              \
    _Pragma("unroll")                                                                           \
    for (int j = 0; j < COT; j++) {                                                             \
        int co = min(co0 + j, Co - 1);       /* tail channels: computed, never stored */        \
        float bj = has_bias ? b[boff + co] : 0.0f;                                              \
        _Pragma("unroll")                                                                       \
        for (int q = 0; q < NR; q++)                                                            \
            _Pragma("unroll")                                                                   \
            for (int v = 0; v < NV; v++) acc[j][q][v] = (floatV)(bj);                           \
        wr[j] = w + woff + (ulong)co * Ci * 9;                                                  \
    }                                                                                           \
    ulong rs = (ulong)Ci * Wp;                /* one padded row of all channels */              \
    /* rows past H (odd H) read the zero border / slack rows and are dropped */                 \
    __global const float *xc = xr + ((ulong)n * (H + 2) + oy0) * rs + x0;                      \
    for (int ci = 0; ci < Ci; ci++, xc += Wp) {                                                 \
        int wo = ci * 9;                                                                        \
        _Pragma("unroll")                                                                       \
        for (int ky = 0; ky < 3; ky++)                                                          \
            _Pragma("unroll")                                                                   \
            for (int kx = 0; kx < 3; kx++) {                                                    \
                floatV xv[NR][NV];                                                              \
                _Pragma("unroll")                                                               \
                for (int q = 0; q < NR; q++)                                                    \
                    _Pragma("unroll")                                                           \
                    for (int v = 0; v < NV; v++)                                                \
                        xv[q][v] = vloadV(0, xc + (ky + q) * rs + kx + v * ADM_VW);             \
                _Pragma("unroll")                                                               \
                for (int j = 0; j < COT; j++) {                                                 \
                    floatV wv = (floatV)(wr[j][wo + ky * 3 + kx]);                              \
                    _Pragma("unroll")                                                           \
                    for (int q = 0; q < NR; q++)                                                \
                        _Pragma("unroll")                                                       \
                        for (int v = 0; v < NV; v++)                                            \
                            acc[j][q][v] = ADM_MAD(wv, xv[q][v], acc[j][q][v]);                 \
                }                                                                               \
            }                                                                                   \
    }                                                                                           \
    for (int j = 0; j < COT; j++) {                                                             \
        if (co0 + j >= Co) break;                                                               \
        for (int q = 0; q < NR && oy0 + q < H; q++) {                                           \
            __global float *ys = y + yoff + (((ulong)n * Co + co0 + j) * H + oy0 + q) * W + x0; \
            for (int v = 0; v < NV; v++) {                                                      \
                if (x0 + (v + 1) * ADM_VW <= W) { vstoreV(acc[j][q][v], v, ys); continue; }     \
                float o[ADM_VW];                                                                \
                vstoreV(acc[j][q][v], 0, o);                                                    \
                for (int l = 0; l < ADM_VW && x0 + v * ADM_VW + l < W; l++) ys[v * ADM_VW + l] = o[l]; \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

CONV_ROWS(adm_conv3x3_rows, ADM_NV, 1, ADM_COT)
CONV_ROWS(adm_conv3x3_rows1, 1, 2, ADM_COT)

/* Panels: a row-major matrix B [K, N] stored as ceil(N / NVW) panels of
 * [K, NVW] (NVW = ADM_NV * ADM_VW columns, the last one zero-padded), so a
 * GEMM work-item walks its columns' rows contiguously — a stream the
 * hardware prefetcher follows, where row-major rows would be a plane apart.
 *   B(k, n) = Bp[(n / NVW) * K * NVW + k * NVW + n % NVW]
 * adm_pack_panels: dst[b] = panels of src[b] (K rows of ld floats, N used). */
#define NVW (ADM_NV * ADM_VW)
__kernel void adm_pack_panels(__global const float *src, ulong soff, ulong sbs, int ld,
                              __global float *dst, ulong doff, ulong dbs, int K, int N, uint rows) {
    uint r = get_global_id(0);                     /* (b, panel, k) */
    if (r >= rows) return;
    int np = (N + NVW - 1) / NVW;
    uint q = r / (uint)K, k = r - q * (uint)K, b = q / (uint)np, p = q - b * (uint)np;
    __global const float *s = src + soff + b * sbs + (ulong)k * ld + p * NVW;
    __global float *d = dst + doff + b * dbs + ((ulong)p * K + k) * NVW;
    int n = min(NVW, N - (int)p * NVW);
    for (int l = 0; l < NVW; l++) d[l] = l < n ? s[l] : 0.0f;
}

/* Batched GEMM with a panel-packed B:  C[b] (M x N) = bias[m] + A[b] (M x K) B[b] (K x N)
 *   A(m, k) = A[aoff + b*abs + m*asm + k*ask]
 *   B: panels at bpoff + b*bpbs (see above)
 *   C(m, n) = C[coff + b*cbs + m*ldc + n], or with c_panels the panel layout
 *             C[coff + b*cbs + (n / NVW) * M * NVW + m * NVW + n % NVW] (all NVW lanes written).
 * Work-item (tm, tn, b): ADM_MT rows x NVW columns in registers; k runs 0..K-1 in order. */
__kernel void adm_gemm_panel(__global const float *A, ulong aoff, ulong abs_, int asm_, int ask,
                             __global const float *Bp, ulong bpoff, ulong bpbs,
                             __global const float *bias, ulong biasoff, int has_bias,
                             __global float *C, ulong coff, ulong cbs, int ldc, int c_panels,
                             int M, int N, int K) {
    int tm = get_global_id(0), tn = get_global_id(1), b = get_global_id(2);
    int n0 = tn * NVW, m0 = tm * ADM_MT;
    if (n0 >= N || m0 >= M) return;
    __global const float *Ab = A + aoff + (ulong)b * abs_;
    __global const float *Bb = Bp + bpoff + (ulong)b * bpbs + (ulong)tn * K * NVW;
    floatV acc[ADM_MT][ADM_NV];
    __global const float *ar[ADM_MT];
    #pragma unroll
    for (int j = 0; j < ADM_MT; j++) {
        int m = min(m0 + j, M - 1);                /* tail rows: computed, never stored */
        float bj = has_bias ? bias[biasoff + m] : 0.0f;
        #pragma unroll
        for (int v = 0; v < ADM_NV; v++) acc[j][v] = (floatV)(bj);
        ar[j] = Ab + (ulong)m * asm_;
    }
    for (int k = 0; k < K; k++, Bb += NVW) {
        floatV bv[ADM_NV];
        #pragma unroll
        for (int v = 0; v < ADM_NV; v++) bv[v] = vloadV(v, Bb);
        #pragma unroll
        for (int j = 0; j < ADM_MT; j++) {
            floatV av = (floatV)(ar[j][(ulong)k * ask]);
            #pragma unroll
            for (int v = 0; v < ADM_NV; v++) acc[j][v] = ADM_MAD(av, bv[v], acc[j][v]);
        }
    }
    __global float *Cb = C + coff + (ulong)b * cbs;
    for (int j = 0; j < ADM_MT; j++) {
        if (m0 + j >= M) break;
        if (c_panels) {
            __global float *cr = Cb + ((ulong)tn * M + m0 + j) * NVW;
            for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v], v, cr);
            continue;
        }
        __global float *cr = Cb + (ulong)(m0 + j) * ldc + n0;
        if (n0 + NVW <= N) { for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v], v, cr); continue; }
        float o[NVW];
        for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v], v, o);
        for (int l = 0; l < NVW && n0 + l < N; l++) cr[l] = o[l];
    }
}

/* y [N, O] = x [N, I] w^T + b  (torch Linear).  One work-item per output
 * feature o; for each sample the dot product runs in ADM_VW lanes (lane l
 * sums i = l, l + VW, ... in order), then the lanes are added in order and
 * the tail i >= I - I % VW last: a fixed order, with independent chains. */
__kernel void adm_linear(__global const float *x, ulong xoff, __global const float *w, ulong woff,
                         __global const float *b, ulong boff, int has_bias, __global float *y, ulong yoff,
                         int N, int I, int O) {
    int o = get_global_id(0);
    if (o >= O) return;
    __global const float *wr = w + woff + (ulong)o * I;
    float b0 = has_bias ? b[boff + o] : 0.0f;
    int nv = I / ADM_VW;
    for (int n = 0; n < N; n++) {
        __global const float *xr = x + xoff + (ulong)n * I;
        floatV acc = (floatV)(0.0f);
        for (int i = 0; i < nv; i++) acc = ADM_MAD(vloadV(i, xr), vloadV(i, wr), acc);
        float t[ADM_VW];
        vstoreV(acc, 0, t);
        float sum = b0;
        for (int l = 0; l < ADM_VW; l++) sum += t[l];
        for (int i = nv * ADM_VW; i < I; i++) sum = ADM_MAD(xr[i], wr[i], sum);
        y[yoff + (ulong)n * O + o] = sum;
    }
}

/* im2col for the GEMM path (CLBlast): col[(ci*k + ky)*k + kx, oy*OW + ox] of one sample */
__kernel void adm_im2col(__global const float *x, ulong xoff, __global float *col,
                         int Ci, int H, int W, int k, int stride, int OH, int OW) {
    int i = get_global_id(0);
    if (i >= Ci * k * k * OH * OW) return;
    int r = i / (OH * OW), p = i - r * (OH * OW);
    int q = r / k, kx = r - q * k, ci = q / k, ky = q - ci * k;
    int oy = p / OW, ox = p - oy * OW, pad = k / 2;
    int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
    col[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[xoff + ((ulong)ci * H + iy) * W + ix] : 0.0f;
}

/* Three shifted copies for small images: xs [N*Ci, 3, H+2, W] (+ zero rows of
 * slack), copy kx holding x shifted by kx - 1 columns with a zero border:
 *   xs[(plane*3 + kx)*(H+2) + py, ox] = x[plane, py - 1, ox + kx - 1] (0 outside).
 * Then every 3x3 tap (ky, kx) of the output positions p = oy*W + ox, in
 * NCHW order, is the contiguous run xs[plane*3 + kx] + ky*W + p: no border
 * columns to compute and drop.  One work-item per row of W floats. */
__kernel void adm_pad2d_shift3(__global const float *x, ulong xoff, __global float *xs,
                               int H, int W, uint planes, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    int Hp = H + 2;
    uint t = r / (uint)Hp, plane = t / 3;
    int py = (int)(r - t * (uint)Hp) - 1, kx = (int)(t - plane * 3);
    __global float *d = xs + (ulong)r * W;
    if (plane >= planes || py < 0 || py >= H) {
        for (int i = 0; i < W; i++) d[i] = 0.0f;
        return;
    }
    __global const float *s = x + xoff + ((ulong)plane * H + py) * W;
    for (int i = 0; i < W; i++) {
        int ix = i + kx - 1;
        d[i] = ix >= 0 && ix < W ? s[ix] : 0.0f;
    }
}

/* 3x3 stride-1 conv on the shifted copies xs (above).  Work-item (tc, tp, n):
 * ADM_NV vectors of ADM_VW output positions p = tp*NV*VW .. (p = oy*W + ox),
 * times output channels co = tc*COT .. +COT-1, all in registers; sum over
 * (ci, ky, kx) in increasing order.  Positions p >= H*W (last tile) are
 * computed from the slack and dropped. */
__kernel void adm_conv3x3_shift3(__global const float *xs, __global const float *w, ulong woff,
                                 __global const float *b, ulong boff, int has_bias,
                                 __global float *y, ulong yoff, int Ci, int H, int W, int Co) {
    int tc = get_global_id(0), tp = get_global_id(1), n = get_global_id(2);
    int HW = H * W, plane = (H + 2) * W;
    int p0 = tp * ADM_VW * ADM_NV;
    if (p0 >= HW) return;
    int co0 = tc * ADM_COT;
    floatV acc[ADM_COT][ADM_NV];
    __global const float *wr[ADM_COT];
    #pragma unroll
    for (int j = 0; j < ADM_COT; j++) {
        int co = min(co0 + j, Co - 1);             /* tail channels: computed, never stored */
        float bj = has_bias ? b[boff + co] : 0.0f;
        #pragma unroll
        for (int v = 0; v < ADM_NV; v++) acc[j][v] = (floatV)(bj);
        wr[j] = w + woff + (ulong)co * Ci * 9;
    }
    __global const float *xc = xs + (ulong)n * Ci * 3 * plane + p0;
    for (int ci = 0; ci < Ci; ci++, xc += 3 * plane) {
        int wo = ci * 9;
        #pragma unroll
        for (int ky = 0; ky < 3; ky++)
            #pragma unroll
            for (int kx = 0; kx < 3; kx++) {
                floatV xv[ADM_NV];
                #pragma unroll
                for (int v = 0; v < ADM_NV; v++) xv[v] = vloadV(0, xc + kx * plane + ky * W + v * ADM_VW);
                #pragma unroll
                for (int j = 0; j < ADM_COT; j++) {
                    floatV wv = (floatV)(wr[j][wo + ky * 3 + kx]);
                    #pragma unroll
                    for (int v = 0; v < ADM_NV; v++) acc[j][v] = ADM_MAD(wv, xv[v], acc[j][v]);
                }
            }
    }
    __global float *ys = y + yoff + (ulong)n * Co * HW + p0;
    for (int j = 0; j < ADM_COT; j++) {
        if (co0 + j >= Co) break;
        __global float *yc = ys + (ulong)(co0 + j) * HW;
        for (int v = 0; v < ADM_NV; v++) {
            if (p0 + (v + 1) * ADM_VW <= HW) { vstoreV(acc[j][v], v, yc); continue; }
            float o[ADM_VW];
            vstoreV(acc[j][v], 0, o);
            for (int l = 0; l < ADM_VW && p0 + v * ADM_VW + l < HW; l++) yc[v * ADM_VW + l] = o[l];
        }
    }
}
