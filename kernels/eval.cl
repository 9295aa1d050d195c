/* eval.cl — kernels of the evaluation network (FID Inception-v3): input
 * preprocessing, the column matrix of a general convolution (any kh x kw,
 * stride and padding per axis) for the panel GEMM of conv.cl, ReLU on a
 * channel slice, max/average pooling and the global average pool.
 *
 * Outputs may be channel slices of a larger NCHW tensor (a block's
 * concatenation): ybs is the per-sample stride of the whole tensor.
 * Every sum runs in a fixed order, independent of the launch shape, so an
 * image gives the same bits in any batch.  lin_index comes from
 * elementwise.cl; NVW, floatV from common.cl / conv.cl.
 */
#pragma OPENCL FP_CONTRACT OFF

/* y [N, 3, OH, OW] = 2 * bilinear(img / 255) - 1 with img uint8 [N, H, W, C],
 * C = 1 (replicated to three channels) or 3.  Bilinear as torch's
 * F.interpolate(align_corners=False, antialias=False): with
 * src = scale * (dst + 0.5) - 0.5 (clamped at 0), scale = in / out,
 *   out = lh0 * (lw0 * v00 + lw1 * v01) + lh1 * (lw0 * v10 + lw1 * v11).
 * One work-item per output row (n, c, oy). */
__kernel void adm_eval_preprocess(__global const uchar *img, ulong ioff, uint H, uint W, uint C,
                                  __global float *y, ulong yoff, uint OH, uint OW, float sh, float sw, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    uint q = r / OH, oy = r - q * OH, n = q / 3, c = q - n * 3, cs = C == 1 ? 0 : c;
    uint h0, h1;
    float lh0, lh1;
    lin_index(sh, oy, H, &h0, &h1, &lh0, &lh1);
    __global const uchar *s = img + ioff + (ulong)n * H * W * C + cs;
    __global float *d = y + yoff + (ulong)r * OW;
    for (uint ox = 0; ox < OW; ox++) {
        uint w0, w1;
        float lw0, lw1;
        lin_index(sw, ox, W, &w0, &w1, &lw0, &lw1);
        float v00 = (float)s[((ulong)h0 * W + w0) * C] / 255.0f, v01 = (float)s[((ulong)h0 * W + w1) * C] / 255.0f;
        float v10 = (float)s[((ulong)h1 * W + w0) * C] / 255.0f, v11 = (float)s[((ulong)h1 * W + w1) * C] / 255.0f;
        float t0 = v00 * lw0;
        t0 += v01 * lw1;
        float t1 = v10 * lw0;
        t1 += v11 * lw1;
        float out = t0 * lh0;
        out += t1 * lh1;
        d[ox] = 2.0f * out - 1.0f;
    }
}

/* The column matrix of a convolution, in the panel layout of adm_gemm_panel
 * (conv.cl), for samples b of a chunk:
 *   B_b(k, p) = x[b, ci, oy*SH + ky - PH, ox*SW + kx - PW]  (0 outside the image)
 *   k = (ci*KH + ky)*KW + kx  (the order of w [Co, Ci, KH, KW]),  p = oy*OW + ox,
 *   stored at dst[b*dbs + ((p / NVW) * K + k) * NVW + p % NVW], tail lanes 0.
 * One work-item per (b, panel, k): NVW consecutive floats. */
__kernel void adm_eval_im2col(__global const float *x, ulong xoff, ulong xbs, __global float *dst, ulong dbs,
                              int Ci, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW,
                              int OH, int OW, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    int K = Ci * KH * KW, P = OH * OW, np = (P + NVW - 1) / NVW;
    uint q = r / (uint)K, k = r - q * (uint)K, b = q / (uint)np, pn = q - b * (uint)np;
    int kq = (int)k / KW, kx = (int)k - kq * KW, ci = kq / KH, ky = kq - ci * KH;
    __global const float *xs = x + xoff + b * xbs + (ulong)ci * H * W;
    __global float *d = dst + b * dbs + ((ulong)pn * K + k) * NVW;
    int p = (int)pn * NVW, oy = p / OW, ox = p - oy * OW;     /* then stepped without dividing */
    if (KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0 && p + NVW <= P) {
        for (int l = 0; l < NVW; l++) d[l] = xs[p + l];       /* 1x1: a contiguous run */
        return;
    }
    for (int l = 0; l < NVW; l++, p++) {
        float v = 0.0f;
        if (p < P) {
            int iy = oy * SH + ky - PH, ix = ox * SW + kx - PW;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) v = xs[iy * W + ix];
        }
        d[l] = v;
        if (++ox == OW) { ox = 0; oy++; }
    }
}

/* y[b, j] = max(y[b, j], 0) for j < per (a channel slice of per floats per sample). */
__kernel void adm_eval_relu(__global float *y, ulong yoff, ulong ybs, uint per, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint b = i / per;
    __global float *p = y + yoff + b * ybs + (i - b * per);
    float v = *p;
    *p = v > 0.0f ? v : 0.0f;
}

/* Pooling, k x k window, stride s, padding pad, over x [N, C, H, W] into the
 * channel slice y (per-sample stride ybs):
 *   max: the largest value in the window (padding never wins: -inf), NaN propagates;
 *   avg: the sum of the window's values inside the image, in row-major order,
 *        divided by their count (count_include_pad=False).
 * One work-item per output row (b, c, oy). */
__kernel void adm_eval_pool(__global const float *x, ulong xoff, __global float *y, ulong yoff, ulong ybs,
                            int C, int H, int W, int OH, int OW, int k, int s, int pad, int is_max, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    int q = r / OH, oy = r - q * OH, b = q / C, c = q - b * C;
    __global const float *xs = x + xoff + ((ulong)b * C + c) * H * W;
    __global float *d = y + yoff + (ulong)b * ybs + ((ulong)c * OH + oy) * OW;
    int y0 = max(oy * s - pad, 0), y1 = min(oy * s - pad + k, H);
    for (int ox = 0; ox < OW; ox++) {
        int x0 = max(ox * s - pad, 0), x1 = min(ox * s - pad + k, W);
        float acc = is_max ? -INFINITY : 0.0f;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
                float v = xs[iy * W + ix];
                if (is_max) acc = (v > acc || isnan(v)) ? v : acc;
                else acc += v;
            }
        d[ox] = is_max ? acc : acc / (float)((y1 - y0) * (x1 - x0));
    }
}

/* y[p] = (sum_i x[p, i]) / HW, i in order: the global average pool of plane p. */
__kernel void adm_eval_mean_hw(__global const float *x, ulong xoff, __global float *y, ulong yoff, uint HW, uint planes) {
    uint p = get_global_id(0);
    if (p >= planes) return;
    __global const float *s = x + xoff + (ulong)p * HW;
    float acc = 0.0f;
    for (uint i = 0; i < HW; i++) acc += s[i];
    y[yoff + p] = acc / (float)HW;
}
