/* common.cl — definitions every admd kernel file shares.  cl_runtime.c puts
 * this file first in the one program it builds from kernels/NAME.cl.
 *
 * Register tiles (cl_runtime.c passes the device's values as -D options;
 * the defaults suit a CPU): vectors of ADM_VW floats, ADM_NV vectors per
 * work-item, ADM_COT output channels per 3x3 conv work-item, ADM_MT rows
 * per GEMM work-item.  ADM_MAD is fma() where the device has it in hardware
 * (exactly rounded, so deterministic) and a separate multiply and add
 * otherwise.  The sums below run in a fixed order, so the same inputs give
 * the same bits on every run on a device.
 *
 * Index arithmetic: where a kernel needs both a / b and a % b, it writes
 * the remainder as a - (a / b) * b.  Given '%' next to '/', clang's
 * DivRemPairs pass emits an LLVM `freeze`, which Oclgrind 21.10's
 * uninitialised-value checker cannot interpret: it abandons the rest of the
 * kernel (make check-oclgrind reports it as a fatal error).
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef ADM_VW
#define ADM_VW 8
#endif
#ifndef ADM_COT
#define ADM_COT 16
#endif
#ifndef ADM_NV
#define ADM_NV 1
#endif
#ifndef ADM_MT
#define ADM_MT 8
#endif

#define ADM_CAT_(a, b) a##b
#define ADM_CAT(a, b) ADM_CAT_(a, b)
#define floatV ADM_CAT(float, ADM_VW)      /* a vector of ADM_VW floats */
#define vloadV ADM_CAT(vload, ADM_VW)
#define vstoreV ADM_CAT(vstore, ADM_VW)

#if ADM_FMA
#define ADM_MAD(a, b, c) fma((a), (b), (c))
#else
#define ADM_MAD(a, b, c) ((a) * (b) + (c))
#endif

/* Work-group sums over ADM_LANES virtual lanes: the caller has each lane
 * v (0 <= v < ADM_LANES) sum its share in a fixed order and writes it to
 * buf[v] (a work-group of wg items, wg a power of two <= ADM_LANES, runs
 * lanes lid, lid + wg, ...); adm_lanes_total then adds buf[] by a fixed
 * tree (buf[i] += buf[i + s], s = 32, 16, ..., 1) and gives every item the
 * sum.  Neither step depends on wg, so the bits do not either: a device
 * with a small work-group limit gets the same result as one with 64. */
#define ADM_LANES 64
static float adm_lanes_total(__local float *buf, int lid, int wg) {
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = ADM_LANES / 2; s > 0; s >>= 1) {
        for (int i = lid; i < s; i += wg) buf[i] += buf[i + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* The lanes of a vector added in order 0, 1, ..., ADM_VW-1. */
static float adm_lanes_sum(floatV v) {
    float t[ADM_VW];
    vstoreV(v, 0, t);
    float s = t[0];
    for (int i = 1; i < ADM_VW; i++) s += t[i];
    return s;
}

/* GroupNorm statistics of the cnt floats at xs: the mean, then the biased
 * variance (sum of (x - mean)^2 / cnt).  Lane v sums the ADM_VW-wide
 * chunks v, v + 64, ... lane by lane, adds its vector lanes in order, then
 * the scalar tail; adm_lanes_total combines the 64 lanes.  buf: local
 * memory of ADM_LANES floats; every item of the work-group gets both. */
static float2 adm_group_stats(__global const float *xs, uint cnt, __local float *buf, uint l, uint wg) {
    uint nv = cnt / ADM_VW;
    for (uint v = l; v < ADM_LANES; v += wg) {
        floatV sv = (floatV)(0.0f);
        for (uint i = v; i < nv; i += ADM_LANES) sv += vloadV(i, xs);
        float s = adm_lanes_sum(sv);
        for (uint i = nv * ADM_VW + v; i < cnt; i += ADM_LANES) s += xs[i];
        buf[v] = s;
    }
    float mean = adm_lanes_total(buf, l, wg) / (float)cnt;
    for (uint v = l; v < ADM_LANES; v += wg) {
        floatV vv = (floatV)(0.0f);
        for (uint i = v; i < nv; i += ADM_LANES) { floatV d = vloadV(i, xs) - mean; vv += d * d; }
        float s = adm_lanes_sum(vv);
        for (uint i = nv * ADM_VW + v; i < cnt; i += ADM_LANES) { float d = xs[i] - mean; s += d * d; }
        buf[v] = s;
    }
    return (float2)(mean, adm_lanes_total(buf, l, wg) / (float)cnt);
}
