/* norm.cl — GroupNorm32 (guided-diffusion's normalization()): statistics in
 * fp32 over each (sample, group), biased variance, then
 *   y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]
 *   y = y * (1 + scale[n, c]) + shift[n, c]       (if has_ss; ss = [scale | shift])
 *   y = y * sigmoid(y)                            (if silu)
 * One work-group of ADM_GN_WG work-items per (sample, group).  Item l sums
 * the ADM_VW-wide chunks l, l + WG, l + 2 WG, ... lane by lane, adds its
 * lanes in a fixed order, then the scalar tail; the items' partial sums
 * are combined by a fixed tree.  Nothing depends on timing, so the result
 * is the same on every run.
 */
#pragma OPENCL FP_CONTRACT OFF
#define ADM_GN_WG 64

__kernel __attribute__((reqd_work_group_size(ADM_GN_WG, 1, 1)))
void adm_group_norm(__global const float *x, ulong xoff, __global const float *gamma, ulong goff,
                    __global const float *beta, ulong boff, __global const float *ss, ulong ssoff,
                    int has_ss, int silu, __global float *y, ulong yoff,
                    uint C, uint HW, uint G, float eps) {
    __local float buf[ADM_GN_WG];
    uint g = get_group_id(0), n = get_group_id(1), l = get_local_id(0);
    uint cpg = C / G, cnt = cpg * HW, nv = cnt / ADM_VW;
    ulong base = ((ulong)n * C + (ulong)g * cpg) * HW;
    __global const float *xs = x + xoff + base;
    __global float *ys = y + yoff + base;

    floatV sv = (floatV)(0.0f);
    for (uint i = l; i < nv; i += ADM_GN_WG) sv += vloadV(i, xs);
    float s = adm_lanes_sum(sv);
    for (uint i = nv * ADM_VW + l; i < cnt; i += ADM_GN_WG) s += xs[i];
    float mean = adm_wg_sum(buf, s, get_local_id(0), ADM_GN_WG) / (float)cnt;

    floatV vv = (floatV)(0.0f);
    for (uint i = l; i < nv; i += ADM_GN_WG) { floatV d = vloadV(i, xs) - mean; vv += d * d; }
    float v = adm_lanes_sum(vv);
    for (uint i = nv * ADM_VW + l; i < cnt; i += ADM_GN_WG) { float d = xs[i] - mean; v += d * d; }
    float var = adm_wg_sum(buf, v, get_local_id(0), ADM_GN_WG) / (float)cnt;
    float rstd = 1.0f / sqrt(var + eps);

    __global const float *sn = ss + ssoff + (ulong)n * 2 * C;
    if (HW % ADM_VW == 0) {              /* a chunk lies in one channel */
        for (uint i = l; i < nv; i += ADM_GN_WG) {
            uint c = g * cpg + (i * ADM_VW) / HW;
            floatV o = (vloadV(i, xs) - mean) * rstd * gamma[goff + c] + beta[boff + c];
            if (has_ss) o = o * (1.0f + sn[c]) + sn[C + c];
            if (silu) o = o / (1.0f + exp(-o));
            vstoreV(o, i, ys);
        }
        return;
    }
    for (uint i = l; i < cnt; i += ADM_GN_WG) {
        uint c = g * cpg + i / HW;
        float o = (xs[i] - mean) * rstd * gamma[goff + c] + beta[boff + c];
        if (has_ss) o = o * (1.0f + sn[c]) + sn[C + c];
        if (silu) o = o / (1.0f + exp(-o));
        ys[i] = o;
    }
}
