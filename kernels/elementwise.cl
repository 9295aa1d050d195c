/* elementwise.cl — memory-bound ops of the ADM UNet: SiLU, residual add,
 * per-channel add (emb_out added to h), copy, channel concat, nearest 2x
 * upsample, 2x2 average pool, bilinear resize (align_corners=False).
 * Every tensor is float32 NCHW; xoff/yoff are element offsets into the
 * buffers.  One work-item per output element, or per output row / plane
 * where that saves index divisions (slow on CPUs); no reductions, so
 * results do not depend on the launch shape.
 */
#pragma OPENCL FP_CONTRACT OFF

/* y = x * sigmoid(x) = x / (1 + exp(-x))  (torch's SiLU) */
__kernel void adm_silu(__global const float *x, ulong xoff, __global float *y, ulong yoff, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    float v = x[xoff + i];
    y[yoff + i] = v / (1.0f + exp(-v));
}

__kernel void adm_add(__global const float *a, ulong aoff, __global const float *b, ulong boff,
                      __global float *y, ulong yoff, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] = a[aoff + i] + b[boff + i];
}

/* y[p, :] += v[p] over planes p of hw elements; one work-item per plane */
__kernel void adm_add_channel(__global float *y, ulong yoff, __global const float *v, ulong voff,
                              uint planes, uint hw) {
    uint p = get_global_id(0);
    if (p >= planes) return;
    __global float *d = y + yoff + (ulong)p * hw;
    float a = v[voff + p];
    for (uint i = 0; i < hw; i++) d[i] += a;
}

__kernel void adm_copy(__global const float *x, ulong xoff, __global float *y, ulong yoff, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] = x[xoff + i];
}

/* y[i] = v (zeroing gradients; a kernel rather than clEnqueueFillBuffer,
 * whose per-pattern host stores Oclgrind's uninitialised-value checker
 * mistracks, see cl_runtime.c) */
__kernel void adm_fill(__global float *y, ulong yoff, float v, ulong n) {
    ulong i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] = v;
}

/* y[s] = cat(a[s] (ca planes), b[s] (cb planes)) of hw floats; one work-item per output plane */
__kernel void adm_concat(__global const float *a, ulong aoff, __global const float *b, ulong boff,
                         __global float *y, ulong yoff, uint ca, uint cb, uint hw, uint planes) {
    uint r = get_global_id(0);
    if (r >= planes) return;
    uint s = r / (ca + cb), c = r - s * (ca + cb);
    __global const float *src = c < ca ? a + aoff + ((ulong)s * ca + c) * hw : b + boff + ((ulong)s * cb + (c - ca)) * hw;
    __global float *d = y + yoff + (ulong)r * hw;
    for (uint i = 0; i < hw; i++) d[i] = src[i];
}

/* y [NC, 2H, 2W] = x [NC, H, W] repeated (F.interpolate nearest, scale 2); one work-item per output row */
__kernel void adm_upsample_nearest2x(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                                     uint h, uint w, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    uint p = r / (2 * h), oy = r - p * (2 * h);
    __global const float *s = x + xoff + ((ulong)p * h + oy / 2) * w;
    __global float *d = y + yoff + (ulong)r * 2 * w;
    for (uint i = 0; i < 2 * w; i++) d[i] = s[i / 2];
}

/* y [NC, H/2, W/2] = mean of each 2x2 block (avg_pool2d(2), summed row-major like torch);
 * one work-item per output row */
__kernel void adm_avgpool2x2(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                             uint h, uint w, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    uint oh = h / 2, ow = w / 2, p = r / oh, oy = r - p * oh;
    __global const float *s0 = x + xoff + ((ulong)p * h + 2 * oy) * w, *s1 = s0 + w;
    __global float *d = y + yoff + (ulong)r * ow;
    for (uint i = 0; i < ow; i++) {
        float sum = s0[2 * i];
        sum += s0[2 * i + 1];
        sum += s1[2 * i];
        sum += s1[2 * i + 1];
        d[i] = sum / 4.0f;
    }
}

/* Source index and weight of torch's linear interpolation (align_corners=False):
 * src = scale * (dst + 0.5) - 0.5, clamped at 0; i0 = floor, i1 = i0 + (i0 < in-1),
 * l1 = src - i0, l0 = 1 - l1. */
static void lin_index(float scale, uint dst, uint in, uint *i0, uint *i1, float *l0, float *l1) {
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    uint a = (uint)src;
    if (a > in - 1) a = in - 1;
    float l = src - (float)a;
    l = clamp(l, 0.0f, 1.0f);
    *i0 = a;
    *i1 = a + (a < in - 1 ? 1u : 0u);
    *l1 = l;
    *l0 = 1.0f - l;
}

/* y [NC, oh, ow] = bilinear(x [NC, h, w]); sh = h/oh, sw = w/ow as float; one work-item per output row */
__kernel void adm_upsample_bilinear(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                                    uint h, uint w, uint oh, uint ow, float sh, float sw, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    uint p = r / oh, oy = r - p * oh;
    uint h0, h1;
    float lh0, lh1;
    lin_index(sh, oy, h, &h0, &h1, &lh0, &lh1);
    __global const float *s = x + xoff + (ulong)p * h * w;
    __global float *d = y + yoff + (ulong)r * ow;
    for (uint ox = 0; ox < ow; ox++) {
        uint w0, w1;
        float lw0, lw1;
        lin_index(sw, ox, w, &w0, &w1, &lw0, &lw1);
        float t0 = s[h0 * w + w0] * lw0;
        t0 += s[h0 * w + w1] * lw1;
        float t1 = s[h1 * w + w0] * lw0;
        t1 += s[h1 * w + w1] * lw1;
        float out = t0 * lh0;
        out += t1 * lh1;
        d[ox] = out;
    }
}

/* y[n, c, :] += b[c]  (conv bias after a GEMM); one work-item per plane (n, c) */
__kernel void adm_add_bias(__global float *y, ulong yoff, __global const float *b, ulong boff,
                           uint planes, uint hw, uint C) {
    uint p = get_global_id(0);
    if (p >= planes) return;
    __global float *d = y + yoff + (ulong)p * hw;
    float a = b[boff + p % C];
    for (uint i = 0; i < hw; i++) d[i] += a;
}
