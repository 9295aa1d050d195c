/* norm.cl — GroupNorm32 (guided-diffusion's normalization()): statistics in
 * fp32 over each (sample, group), biased variance, then
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]
 *   y = y * (1 + scale[n, c]) + shift[n, c]       (if has_ss; ss = [scale | shift])
 *   y = y * sigmoid(y)                            (if silu)
 * One work-group per (sample, group), of any power-of-two size up to
 * ADM_LANES (64; the host takes it from the device's and kernel's limits).
 * Virtual lane v sums the ADM_VW-wide chunks v, v + 64, v + 128, ...
 * lane by lane, adds its vector lanes in a fixed order, then the scalar
 * tail; the 64 partial sums are combined by a fixed tree (common.cl).
 * Nothing depends on timing or on the work-group size, so the result is
 * the same bits on every run and every launch shape.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void adm_group_norm(__global const float *x, ulong xoff, __global const float *gamma, ulong goff,
                             __global const float *beta, ulong boff, __global const float *ss, ulong ssoff,
                             int has_ss, int silu, __global float *y, ulong yoff,
                             uint C, uint HW, uint G, float eps) {
    __local float buf[ADM_LANES];
    uint g = get_group_id(0), n = get_group_id(1), l = get_local_id(0), wg = get_local_size(0);
    uint cpg = C / G, cnt = cpg * HW, nv = cnt / ADM_VW;
    ulong base = ((ulong)n * C + (ulong)g * cpg) * HW;
    __global const float *xs = x + xoff + base;
    __global float *ys = y + yoff + base;

    float2 st = adm_group_stats(xs, cnt, buf, l, wg);
    float mean = st.x, var = st.y;
    float rstd = 1.0f / sqrt(var + eps);

    __global const float *sn = ss + ssoff + (ulong)n * 2 * C;
    if (HW % ADM_VW == 0) {              /* a chunk lies in one channel */
        for (uint i = l; i < nv; i += wg) {
            uint c = g * cpg + (i * ADM_VW) / HW;
            floatV o = (vloadV(i, xs) - mean) * rstd * gamma[goff + c] + beta[boff + c];
            if (has_ss) o = o * (1.0f + sn[c]) + sn[C + c];
            if (silu) o = o / (1.0f + exp(-o));
            vstoreV(o, i, ys);
        }
        return;
    }
    for (uint i = l; i < cnt; i += wg) {
        uint c = g * cpg + i / HW;
        float o = (xs[i] - mean) * rstd * gamma[goff + c] + beta[boff + c];
        if (has_ss) o = o * (1.0f + sn[c]) + sn[C + c];
        if (silu) o = o / (1.0f + exp(-o));
        ys[i] = o;
    }
}
