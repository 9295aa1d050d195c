/* backward.cl — the input-gradient kernels of the noisy classifier's
 * backward pass (classifier guidance: grad_x log p(y | x_t, t)), plus the
 * few forward helpers the classifier heads need that ops.h lacks.
 *
 * Conventions: tensors are float32 NCHW; each buffer argument is followed
 * by its offset in floats.  "d" prefixes a gradient (dy = dL/dy).
 * Reductions run in a fixed order inside one work-group of a fixed size,
 * so results are the same bits on every run on a given device.
 * Host wrappers: kernels/ops_backward.c.
 */
#pragma OPENCL FP_CONTRACT OFF

#define BWD_NC (ADM_VW * ADM_NV)              /* columns per work-item */

static float bwd_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

/* GroupNorm backward, with the optional scale-shift and SiLU of the
 * forward fused in.  Forward (per sample n, group g, channel c):
 *     y0 = (x - mu) * rstd                    rstd = 1/sqrt(var + eps)
 *     z  = y0 * gamma[c] + beta[c]
 *     z2 = z * (1 + scale[n,c]) + shift[n,c]   (if has_ss; else z2 = z)
 *     y  = SiLU(z2)                            (if silu;   else y = z2)
 * Backward: dz2 = dy * SiLU'(z2), dy0 = dz2 * (1 + scale) * gamma, and
 *     dx = rstd * (dy0 - mean(dy0) - y0 * mean(dy0 * y0))   over the group.
 * scale/shift depend only on t, so they are constants here.
 * One work-group per (n, g), of any power-of-two size up to ADM_LANES;
 * the group is a contiguous run of cpg*HW floats.  The sums run over 64
 * virtual lanes and a fixed tree (common.cl), so the bits do not depend on
 * the work-group size.  dx may alias dy but not x. */
__kernel void bwd_group_norm(__global const float *x, ulong x_off,
                    __global const float *gamma, ulong gamma_off,
                    __global const float *beta, ulong beta_off,
                    __global const float *ss, ulong ss_off, int has_ss, int silu,
                    __global const float *dy, ulong dy_off,
                    __global float *dx, ulong dx_off,
                    int C, int HW, int groups, float eps) {
    __local float buf[ADM_LANES];
    const int lid = get_local_id(0), wg = get_local_size(0);
    const int ng = get_group_id(0);
    const int n = ng / groups, g = ng - n * groups;
    const int cpg = C / groups;
    const int len = cpg * HW, nv = len / ADM_VW;
    const ulong base = (ulong)n * C * HW + (ulong)g * len;
    x += x_off + base; dy += dy_off + base; dx += dx_off + base;
    gamma += gamma_off + g * cpg; beta += beta_off + g * cpg;
    __global const float *scale = ss + ss_off + (ulong)n * 2 * C + g * cpg;
    __global const float *shift = scale + C;

    /* statistics as the forward computes them (common.cl) */
    const float2 st = adm_group_stats(x, (uint)len, buf, (uint)lid, (uint)wg);
    const float mu = st.x, var = st.y;
    const float rstd = 1.0f / sqrt(var + eps);

    /* dy0 = dL/dy0, parked in dx (lane v writes and rereads only indices
     * = v mod 64, item lid only those = lid mod wg) */
    float s1, s2;
    __local float buf2[ADM_LANES];
    for (int v = lid; v < ADM_LANES; v += wg) {
        if (HW % ADM_VW == 0) {          /* a vector lies in one channel */
            floatV v1 = (floatV)(0.0f), v2 = (floatV)(0.0f);
            for (int i = v; i < nv; i += ADM_LANES) {
                const int c = (i * ADM_VW) / HW;
                const float ga = gamma[c], m = has_ss ? 1.0f + scale[c] : 1.0f;
                const floatV y0 = (vloadV(i, x) - mu) * rstd;
                floatV d = vloadV(i, dy);
                if (silu) {
                    floatV z = y0 * ga + beta[c];
                    if (has_ss) z = z * m + shift[c];
                    const floatV sg = 1.0f / (1.0f + exp(-z));
                    d = d * (sg * (1.0f + z * (1.0f - sg)));
                }
                const floatV d0 = d * m * ga;
                vstoreV(d0, i, dx);
                v1 += d0; v2 += d0 * y0;
            }
            s1 = adm_lanes_sum(v1); s2 = adm_lanes_sum(v2);
        } else {
            s1 = 0.0f; s2 = 0.0f;
            for (int j = v; j < len; j += ADM_LANES) {
                const int c = j / HW;
                const float ga = gamma[c], m = has_ss ? 1.0f + scale[c] : 1.0f;
                const float y0 = (x[j] - mu) * rstd;
                float d = dy[j];
                if (silu) {
                    float z = y0 * ga + beta[c];
                    if (has_ss) z = z * m + shift[c];
                    const float sg = bwd_sigmoid(z);
                    d = d * (sg * (1.0f + z * (1.0f - sg)));
                }
                const float d0 = d * m * ga;
                dx[j] = d0;
                s1 += d0; s2 += d0 * y0;
            }
        }
        buf[v] = s1;
        buf2[v] = s2;
    }
    const float m1 = adm_lanes_total(buf, lid, wg) / (float)len;
    const float m2 = adm_lanes_total(buf2, lid, wg) / (float)len;
    if (HW % ADM_VW == 0) {
        for (int i = lid; i < nv; i += wg) {
            const floatV y0 = (vloadV(i, x) - mu) * rstd;
            vstoreV(rstd * (vloadV(i, dx) - m1 - y0 * m2), i, dx);
        }
    } else {
        for (int j = lid; j < len; j += wg) {
            const float y0 = (x[j] - mu) * rstd;
            dx[j] = rstd * (dx[j] - m1 - y0 * m2);
        }
    }
}

/* dx = dy * SiLU'(x),  SiLU'(x) = s(x) (1 + x (1 - s(x))). */
__kernel void bwd_silu(__global const float *x, ulong x_off, __global const float *dy, ulong dy_off,
                       __global float *dx, ulong dx_off, ulong n) {
    ulong i = get_global_id(0);
    if (i >= n) return;
    float v = x[x_off + i], sg = bwd_sigmoid(v);
    dx[dx_off + i] = dy[dy_off + i] * (sg * (1.0f + v * (1.0f - sg)));
}

/* dx = dy * (x > 0)  (ReLU of the 'spatial' head). */
__kernel void bwd_relu(__global const float *x, ulong x_off, __global const float *dy, ulong dy_off,
                       __global float *dx, ulong dx_off, ulong n) {
    ulong i = get_global_id(0);
    if (i >= n) return;
    dx[dx_off + i] = x[x_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}

/* Conv weight for the input gradient: wt[i, o, a, b] = w[o, i, k-1-a, k-1-b]
 * (channels swapped, kernel flipped), so dx = conv2d(dy, wt) for a stride-1
 * 'same' convolution. */
__kernel void bwd_conv_weight(__global const float *w, ulong w_off, __global float *wt, ulong wt_off,
                              int O, int I, int k) {
    int idx = get_global_id(0);
    if (idx >= O * I * k * k) return;
    int q1 = idx / k, b = idx - q1 * k, q2 = q1 / k, a = q1 - q2 * k, i = q2 / O, o = q2 - i * O;
    wt[wt_off + idx] = w[w_off + (((ulong)o * I + i) * k + (k - 1 - a)) * k + (k - 1 - b)];
}

/* Zero-insertion for the stride-2 conv's input gradient:
 * d[n, c, 2p, 2q] = dy[n, c, p, q], zero elsewhere; d is [NC, H, W].
 * One work-item per row of d. */
__kernel void bwd_dilate2x(__global const float *dy, ulong dy_off, __global float *d, ulong d_off,
                           int NC, int H, int W, int Ho, int Wo) {
    const int row = get_global_id(0);         /* nc * H + yy */
    if (row >= NC * H) return;
    const int nc = row / H, yy = row - nc * H;
    __global float *o = d + d_off + (ulong)row * W;
    __global const float *r = dy + dy_off + ((ulong)nc * Ho + (yy >> 1)) * Wo;
    const int live = !(yy & 1) && (yy >> 1) < Ho;
    for (int xx = 0; xx < W; xx++) o[xx] = live && !(xx & 1) && (xx >> 1) < Wo ? r[xx >> 1] : 0.0f;
}

/* 2x2 average pool backward: dx[.., y, x] = dy[.., y/2, x/2] / 4.
 * One work-item per row of dx. */
__kernel void bwd_avgpool2x2(__global const float *dy, ulong dy_off, __global float *dx, ulong dx_off,
                             int NC, int H, int W, int Ho, int Wo) {
    const int row = get_global_id(0);
    if (row >= NC * H) return;
    const int nc = row / H, yy = row - nc * H;
    __global float *o = dx + dx_off + (ulong)row * W;
    __global const float *r = dy + dy_off + ((ulong)nc * Ho + (yy >> 1)) * Wo;
    const int live = (yy >> 1) < Ho;
    for (int xx = 0; xx < W; xx++) o[xx] = live && (xx >> 1) < Wo ? 0.25f * r[xx >> 1] : 0.0f;
}

/* Linear input gradient with strides: dx[n, i] = sum_o dy[n, o] w[o, i],
 * w [O, I].  Element (n, i) of dx is at n*dx_sn + i*dx_si; dy's (n, o) at
 * n*dy_sn + o. */
__kernel void bwd_linear(__global const float *dy, ulong dy_off, int dy_sn,
                         __global const float *w, ulong w_off,
                         __global float *dx, ulong dx_off, int dx_sn, int dx_si,
                         int N, int O, int I) {
    int idx = get_global_id(0);
    if (idx >= N * I) return;
    int n = idx / I, i = idx - n * I;
    __global const float *d = dy + dy_off + (ulong)n * dy_sn;
    float s = 0.0f;
    for (int o = 0; o < O; o++) s += d[o] * w[w_off + (ulong)o * I + i];
    dx[dx_off + (ulong)n * dx_sn + (ulong)i * dx_si] = s;
}

/* Attention-backward matrices.  A T x T matrix of a head (scores P,
 * their gradients dP = dS, dS^T) is stored in column panels of width pw:
 *     M(r, c) = M[(c / pw) * T * pw + r * pw + c % pw]
 * pw = BWD_NC on the own-GEMM path (a GEMM work-item then reads its B
 * columns as one contiguous stream, which the prefetcher follows), pw = T
 * (plain row-major) for CLBlast.  The last panel's pad lanes are never read
 * as data: they only feed output columns >= T, which are dropped. */
#define BWD_PIDX(r, c, T, pw) ((ulong)((uint)(c) / (pw)) * (ulong)(T) * (pw) + (ulong)(r) * (pw) + \
                               ((uint)(c) - (uint)(c) / (pw) * (pw)))

/* Strided GEMM (own path):  C[b](m, n) = alpha * sum_k A[b](m, k) B[b](k, n)
 * A(m, k) at a_off + b*a_bs + m*a_sm + k*a_sk (any strides); B row-major
 * (ldb) or, with b_panels, in panels of BWD_NC columns (K rows each); C
 * row-major (ldc) or, with c_panels, in panels of BWD_NC columns (M rows,
 * every lane written).  Each work-item computes a register tile of ADM_MT
 * rows x ADM_NV vectors of ADM_VW columns, summing k in increasing order.
 * Launched with work-groups of 1 (the tile is the unit of work). */
__kernel void bwd_gemm(__global const float *A, ulong a_off, ulong a_bs, int a_sm, int a_sk,
                       __global const float *B, ulong b_off, ulong b_bs, int ldb, int b_panels,
                       __global float *C, ulong c_off, ulong c_bs, int ldc, int c_panels,
                       int M, int N, int K, float alpha) {
    const int n0 = get_global_id(0) * BWD_NC, m0 = get_global_id(1) * ADM_MT, b = get_global_id(2);
    if (n0 >= N || m0 >= M) return;
    __global const float *Ab = A + a_off + (ulong)b * a_bs;
    __global const float *Bb = B + b_off + (ulong)b * b_bs +
                               (b_panels ? (ulong)(n0 / BWD_NC) * K * BWD_NC : (ulong)n0);
    const int bstride = b_panels ? BWD_NC : ldb;
    floatV acc[ADM_MT][ADM_NV];
    __global const float *ar[ADM_MT];
    #pragma unroll
    for (int j = 0; j < ADM_MT; j++) {
        #pragma unroll
        for (int v = 0; v < ADM_NV; v++) acc[j][v] = (floatV)(0.0f);
        ar[j] = Ab + (ulong)min(m0 + j, M - 1) * a_sm;   /* tail rows: computed, never stored */
    }
    const int full = b_panels || n0 + BWD_NC <= N;
    for (int k = 0; k < K; k++) {
        floatV bv[ADM_NV];
        __global const float *br = Bb + (ulong)k * bstride;
        if (full) {
            #pragma unroll
            for (int v = 0; v < ADM_NV; v++) bv[v] = vloadV(v, br);
        } else {
            float t[BWD_NC];
            for (int l = 0; l < BWD_NC; l++) t[l] = n0 + l < N ? br[l] : 0.0f;
            for (int v = 0; v < ADM_NV; v++) bv[v] = vloadV(v, t);
        }
        #pragma unroll
        for (int j = 0; j < ADM_MT; j++) {
            floatV av = (floatV)(ar[j][(ulong)k * a_sk]);
            #pragma unroll
            for (int v = 0; v < ADM_NV; v++) acc[j][v] = ADM_MAD(av, bv[v], acc[j][v]);
        }
    }
    __global float *Cb = C + c_off + (ulong)b * c_bs;
    for (int j = 0; j < ADM_MT && m0 + j < M; j++) {
        if (c_panels) {
            __global float *cr = Cb + ((ulong)(n0 / BWD_NC) * M + m0 + j) * BWD_NC;
            #pragma unroll
            for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v] * alpha, v, cr);
            continue;
        }
        __global float *cr = Cb + (ulong)(m0 + j) * ldc + n0;
        if (n0 + BWD_NC <= N) {
            #pragma unroll
            for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v] * alpha, v, cr);
        } else {
            float t[BWD_NC];
            for (int v = 0; v < ADM_NV; v++) vstoreV(acc[j][v] * alpha, v, t);
            for (int l = 0; l < BWD_NC && n0 + l < N; l++) cr[l] = t[l];
        }
    }
}

/* Row r of block blk in the panel layout: its T entries are the chunks
 * [base + pi*T*pw, + w) with w = min(pw, T - pi*pw). */
#define BWD_ROW_CHUNKS(pi, w, T, pw) for (int pi = 0, w = min((pw), (T)); pi * (pw) < (T); pi++, w = min((pw), (T) - pi * (pw)))

/* Row softmax in place (recomputing attention weights), one work-item per
 * row, vectorised along the row; lanes keep their own partial sums, added
 * in a fixed order.  p = exp(s - max) / sum.  Matrices are mstride floats
 * apart. */
__kernel void bwd_softmax_rows(__global float *p, ulong p_off, ulong mstride, int T, int pw, int rows) {
    const int row = get_global_id(0);
    if (row >= rows) return;
    const int mq = row / T;
    __global float *base = p + p_off + (ulong)mq * mstride + (ulong)(row - mq * T) * pw;
    const ulong pstep = (ulong)T * pw;
    float m = -INFINITY;
    BWD_ROW_CHUNKS(pi, w, T, pw) {
        __global float *r = base + pi * pstep;
        for (int j = 0; j < w; j++) m = fmax(m, r[j]);
    }
    float s = 0.0f;
    BWD_ROW_CHUNKS(pi, w, T, pw) {
        __global float *r = base + pi * pstep;
        const int nv = w / ADM_VW;
        floatV sv = (floatV)(0.0f);
        for (int i = 0; i < nv; i++) { floatV e = exp(vloadV(i, r) - m); vstoreV(e, i, r); sv += e; }
        s += adm_lanes_sum(sv);
        for (int j = nv * ADM_VW; j < w; j++) { float e = exp(r[j] - m); r[j] = e; s += e; }
    }
    BWD_ROW_CHUNKS(pi, w, T, pw) {
        __global float *r = base + pi * pstep;
        const int nv = w / ADM_VW;
        for (int i = 0; i < nv; i++) vstoreV(vloadV(i, r) / s, i, r);
        for (int j = nv * ADM_VW; j < w; j++) r[j] = r[j] / s;
    }
}

/* Softmax backward per row (one work-item per row), in place on dp:
 *     ds[t, s] = p[t, s] * (dp[t, s] - sum_s' p[t, s'] dp[t, s']) */
__kernel void bwd_softmax_grad_rows(__global const float *p, ulong p_off, __global float *dp, ulong dp_off,
                                    ulong mstride, int T, int pw, int rows) {
    const int row = get_global_id(0);
    if (row >= rows) return;
    const int mq = row / T;
    const ulong o = (ulong)mq * mstride + (ulong)(row - mq * T) * pw, pstep = (ulong)T * pw;
    __global const float *pb = p + p_off + o;
    __global float *db = dp + dp_off + o;
    float s = 0.0f;
    BWD_ROW_CHUNKS(pi, w, T, pw) {
        __global const float *pr = pb + pi * pstep;
        __global const float *dr = db + pi * pstep;
        const int nv = w / ADM_VW;
        floatV sv = (floatV)(0.0f);
        for (int i = 0; i < nv; i++) sv += vloadV(i, pr) * vloadV(i, dr);
        s += adm_lanes_sum(sv);
        for (int j = nv * ADM_VW; j < w; j++) s += pr[j] * dr[j];
    }
    BWD_ROW_CHUNKS(pi, w, T, pw) {
        __global const float *pr = pb + pi * pstep;
        __global float *dr = db + pi * pstep;
        const int nv = w / ADM_VW;
        for (int i = 0; i < nv; i++) vstoreV(vloadV(i, pr) * (vloadV(i, dr) - s), i, dr);
        for (int j = nv * ADM_VW; j < w; j++) dr[j] = pr[j] * (dr[j] - s);
    }
}

/* dst(j, i) = src(i, j) for T x T blocks in the own path's panel layout
 * (pw = BWD_NC, a constant: no division per element), 16 x 16 tiles per
 * work-item: dS^T, dq's operand. */
__kernel void bwd_transpose(__global const float *src, ulong s_off, __global float *dst, ulong d_off,
                            ulong mstride, int T) {
    const int c0 = get_global_id(0) * 16, r0 = get_global_id(1) * 16, b = get_global_id(2);
    if (c0 >= T || r0 >= T) return;
    __global const float *sb = src + s_off + (ulong)b * mstride;
    __global float *db = dst + d_off + (ulong)b * mstride;
    const int nr = min(16, T - r0), nc = min(16, T - c0);
    float t[16][16];
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++) t[i][j] = sb[BWD_PIDX(r0 + i, c0 + j, T, BWD_NC)];
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nr; i++) db[BWD_PIDX(c0 + j, r0 + i, T, BWD_NC)] = t[i][j];
}

/* AttentionPool2d backward of the token building
 *     xp[n, c, 0] = mean_hw a[n, c, hw] + pos[c, 0],  xp[n, c, 1+hw] = a[n, c, hw] + pos[c, 1+hw]:
 *     da[n, c, hw] = dxp[n, c, 1+hw] + dxp[n, c, 0] / HW. */
__kernel void bwd_pool_tokens(__global const float *dxp, ulong dxp_off, __global float *da, ulong da_off,
                              int NC, int HW) {
    const int i = get_global_id(0);
    if (i >= NC * HW) return;
    const int nc = i / HW, hw = i - nc * HW;
    __global const float *r = dxp + dxp_off + (ulong)nc * (HW + 1);
    da[da_off + i] = r[1 + hw] + r[0] / (float)HW;
}

/* Backward of a spatial mean written at feature offset `off` of a [N, F]
 * vector: dx[n, c, hw] (+)= d[n, off + c] / HW. */
__kernel void bwd_spatial_mean(__global const float *d, ulong d_off, int F, int off,
                               __global float *dx, ulong dx_off, int C, int HW, int N, int accumulate) {
    const int i = get_global_id(0);
    if (i >= N * C * HW) return;
    const int q = i / HW, n = q / C, c = q - n * C;
    float v = d[d_off + (ulong)n * F + off + c] / (float)HW;
    dx[dx_off + i] = accumulate ? dx[dx_off + i] + v : v;
}

/* ---- forward helpers of the classifier heads (not in ops.h) ---- */

/* AttentionPool2d tokens: xp [N, C, HW+1] from a [N, C, HW] and the
 * positional embedding pos [C, HW+1] (token 0 = spatial mean). */
__kernel void cls_pool_tokens(__global const float *a, ulong a_off, __global const float *pos, ulong pos_off,
                              __global float *xp, ulong xp_off, int N, int C, int HW) {
    int idx = get_global_id(0);
    if (idx >= N * C) return;
    int c = idx % C;
    __global const float *r = a + a_off + (ulong)idx * HW;
    __global const float *pe = pos + pos_off + (ulong)c * (HW + 1);
    __global float *o = xp + xp_off + (ulong)idx * (HW + 1);
    float s = 0.0f;
    for (int j = 0; j < HW; j++) s += r[j];
    o[0] = s / (float)HW + pe[0];
    for (int j = 0; j < HW; j++) o[1 + j] = r[j] + pe[1 + j];
}

/* y[n, off + c] = mean over HW of x[n, c, :]  (y is [N, F]). */
__kernel void cls_spatial_mean(__global const float *x, ulong x_off, __global float *y, ulong y_off,
                               int F, int off, int N, int C, int HW) {
    int idx = get_global_id(0);
    if (idx >= N * C) return;
    int n = idx / C, c = idx - n * C;
    __global const float *r = x + x_off + (ulong)idx * HW;
    float s = 0.0f;
    for (int j = 0; j < HW; j++) s += r[j];
    y[y_off + (ulong)n * F + off + c] = s / (float)HW;
}

/* Strided linear: y[n, o] = b[o] + sum_i w[o, i] x[n*x_sn + i*x_si]
 * (c_proj on token 0 of AttentionPool2d; the adaptive head's 1x1 conv). */
__kernel void cls_linear_strided(__global const float *x, ulong x_off, int x_sn, int x_si,
                                 __global const float *w, ulong w_off, __global const float *b, ulong b_off,
                                 __global float *y, ulong y_off, int N, int O, int I) {
    int idx = get_global_id(0);
    if (idx >= N * O) return;
    int n = idx / O, o = idx - n * O;
    __global const float *wr = w + w_off + (ulong)o * I;
    __global const float *xr = x + x_off + (ulong)n * x_sn;
    float s = 0.0f;
    for (int i = 0; i < I; i++) s += wr[i] * xr[(ulong)i * x_si];
    y[y_off + idx] = s + b[b_off + o];
}

__kernel void cls_relu(__global const float *x, ulong x_off, __global float *y, ulong y_off, ulong n) {
    ulong i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = fmax(x[x_off + i], 0.0f);
}
