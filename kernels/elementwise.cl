/* elementwise.cl — memory-bound ops of the ADM UNet: SiLU, residual add,
 * per-channel add (emb_out added to h), copy, channel concat, nearest 2x
 * upsample, 2x2 average pool, bilinear resize (align_corners=False).
 * Every tensor is float32 NCHW; xoff/yoff are element offsets into the
 * buffers.  One work-item per output element; no reductions, so results do
 * not depend on the launch shape.
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

/* y[nc, :] += v[nc]  over nc planes of hw elements */
__kernel void adm_add_channel(__global float *y, ulong yoff, __global const float *v, ulong voff,
                              uint n, uint hw) {
    uint i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] += v[voff + i / hw];
}

__kernel void adm_copy(__global const float *x, ulong xoff, __global float *y, ulong yoff, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] = x[xoff + i];
}

/* y[s] = cat(a[s] (sa floats), b[s] (sb floats)) for each sample s */
__kernel void adm_concat(__global const float *a, ulong aoff, __global const float *b, ulong boff,
                         __global float *y, ulong yoff, uint sa, uint sb, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint per = sa + sb, s = i / per, r = i % per;
    y[yoff + i] = r < sa ? a[aoff + (ulong)s * sa + r] : b[boff + (ulong)s * sb + (r - sa)];
}

/* y [NC, 2H, 2W] = x [NC, H, W] repeated (F.interpolate nearest, scale 2) */
__kernel void adm_upsample_nearest2x(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                                     uint h, uint w, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint W2 = 2 * w, H2 = 2 * h;
    uint ox = i % W2, oy = (i / W2) % H2, p = i / (W2 * H2);
    y[yoff + i] = x[xoff + ((ulong)p * h + oy / 2) * w + ox / 2];
}

/* y [NC, H/2, W/2] = mean of each 2x2 block (avg_pool2d(2), summed row-major like torch) */
__kernel void adm_avgpool2x2(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                             uint h, uint w, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint ow = w / 2, oh = h / 2;
    uint ox = i % ow, oy = (i / ow) % oh, p = i / (ow * oh);
    __global const float *s = x + xoff + ((ulong)p * h + 2 * oy) * w + 2 * ox;
    float sum = s[0];
    sum += s[1];
    sum += s[w];
    sum += s[w + 1];
    y[yoff + i] = sum / 4.0f;
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

/* y [NC, oh, ow] = bilinear(x [NC, h, w]); sh = h/oh, sw = w/ow as float */
__kernel void adm_upsample_bilinear(__global const float *x, ulong xoff, __global float *y, ulong yoff,
                                    uint h, uint w, uint oh, uint ow, float sh, float sw, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint ox = i % ow, oy = (i / ow) % oh, p = i / (ow * oh);
    uint h0, h1, w0, w1;
    float lh0, lh1, lw0, lw1;
    lin_index(sh, oy, h, &h0, &h1, &lh0, &lh1);
    lin_index(sw, ox, w, &w0, &w1, &lw0, &lw1);
    __global const float *s = x + xoff + (ulong)p * h * w;
    float t0 = s[h0 * w + w0] * lw0;
    t0 += s[h0 * w + w1] * lw1;
    float t1 = s[h1 * w + w0] * lw0;
    t1 += s[h1 * w + w1] * lw1;
    float out = t0 * lh0;
    out += t1 * lh1;
    y[yoff + i] = out;
}

/* y[n, c, :] += b[c]  (conv bias after a GEMM) */
__kernel void adm_add_bias(__global float *y, ulong yoff, __global const float *b, ulong boff,
                           uint n, uint hw, uint C) {
    uint i = get_global_id(0);
    if (i >= n) return;
    y[yoff + i] += b[boff + (i / hw) % C];
}
