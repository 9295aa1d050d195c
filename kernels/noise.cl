/* noise.cl — reproducible standard-normal noise: Philox4x32-10 and a
 * Box-Muller transform built only from correctly rounded operations.
 *
 * This one file is both OpenCL C (the adm_noise kernel, embedded in the
 * device program) and C (model/philox.c #includes it for the host), so the
 * host and every device run the same algorithm and produce the same bits.
 * Algorithm name/version: ADM_NOISE_ALGORITHM in model/generate.h
 * ("philox4x32-10/boxmuller-poly/v1"); any change here that alters a bit
 * of output must bump that version.
 *
 * Counter layout (key = the job's 64-bit seed: k0 = low 32 bits, k1 = high):
 *
 *     c0 = image index k within the job (0, 1, 2, ...)
 *     c1 = slot: 0 = x_T, 1 + i = the noise of sampling step i (i = 0 is the
 *          first step taken, the highest t); bits 24..31: the stage of a
 *          two-stage job (0 = one-stage jobs and stage 1, 1 = stage 2, the
 *          upsampler), so both stages draw disjoint counters under one key
 *     c2 = element block: elements 4*c2 .. 4*c2+3 of the image (C*H*W, C order)
 *     c3 = stream: 0 = Gaussian noise, 1 = the image's random class
 *
 * So image k depends only on (seed, k), never on how images are batched.
 *
 * Normal transform (per counter: 4 words w0..w3 -> 4 normals):
 *   (w0, w1) -> (z0, z1), (w2, w3) -> (z2, z3) by Box-Muller,
 *     u = ((w0 >> 8) + 1) * 2^-24 in (0, 1]      radius r = sqrt(-2 ln u)
 *     j = w1 >> 8 in [0, 2^24)                    angle  theta = 2 pi j / 2^24
 *     z0 = r cos(theta), z1 = r sin(theta)
 *   ln: exponent split with integer ops, ln(1+x) = x Q(x) with a degree-10
 *       Chebyshev-fitted Q on [sqrt(1/2)-1, sqrt(2)-1] (abs error ~3e-8);
 *   sqrt: a*rsqrt(a), rsqrt from the bit-trick guess and 4 Newton steps;
 *   sin/cos: quadrant and octant from the integer angle (exact), Taylor
 *       polynomials on [0, pi/4].
 * Only float +, -, * (correctly rounded in IEEE 754 and in OpenCL), exact
 * integer ops and exact int->float conversions of 24-bit values are used;
 * no division, no libm/builtin math; contraction into FMA is off.  No
 * intermediate comes near the subnormal range, so devices that flush
 * subnormals agree too.  r is at most sqrt(-2 ln 2^-24) = 5.77.
 */
#ifdef __OPENCL_VERSION__
#pragma OPENCL FP_CONTRACT OFF
typedef uint adm_u32;
typedef ulong adm_u64;
#define ADM_NZ_FN static inline
#define adm_nz_as_float(u) as_float(u)
#define adm_nz_as_uint(f) as_uint(f)
#define adm_nz_clz(x) ((int)clz(x))
#endif
/* (the host defines the same names before including this file) */

/* ---- Philox4x32-10 (Salmon et al. 2011, Random123) ---------------------- */
#define ADM_PHILOX_M0 0xD2511F53u
#define ADM_PHILOX_M1 0xCD9E8D57u
#define ADM_PHILOX_W0 0x9E3779B9u
#define ADM_PHILOX_W1 0xBB67AE85u

ADM_NZ_FN void adm_philox_round(adm_u32 *c, adm_u32 k0, adm_u32 k1) {
    adm_u64 p0 = (adm_u64)ADM_PHILOX_M0 * c[0];
    adm_u64 p1 = (adm_u64)ADM_PHILOX_M1 * c[2];
    adm_u32 hi0 = (adm_u32)(p0 >> 32), lo0 = (adm_u32)p0;
    adm_u32 hi1 = (adm_u32)(p1 >> 32), lo1 = (adm_u32)p1;
    adm_u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
}

/* out = Philox4x32-10(counter c0..c3, key k0, k1) */
ADM_NZ_FN void adm_philox4x32_10_words(adm_u32 c0, adm_u32 c1, adm_u32 c2, adm_u32 c3,
                                       adm_u32 k0, adm_u32 k1, adm_u32 *out) {
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
    for (int r = 0; r < 10; r++) {
        if (r) { k0 += ADM_PHILOX_W0; k1 += ADM_PHILOX_W1; }
        adm_philox_round(out, k0, k1);
    }
}

/* ---- elementary functions from +, -, * ------------------------------------ */

/* 2^e as a float, for -126 <= e <= 127 (built from the exponent bits). */
ADM_NZ_FN float adm_nz_pow2(int e) { return adm_nz_as_float((adm_u32)(e + 127) << 23); }

/* ln(k * 2^-24) for 1 <= k <= 2^24. */
ADM_NZ_FN float adm_nz_log_u24(adm_u32 k) {
    int e = 31 - adm_nz_clz(k);                   /* k = m 2^e, m in [1, 2) */
    float m = (float)k * adm_nz_pow2(-e);         /* exact: k has <= 25 bits, k < 2^25 */
    if (m > 0x1.6a09e6p+0f) { m = m * 0.5f; e = e + 1; }   /* m in [sqrt(1/2), sqrt(2)] */
    float x = m - 1.0f;                           /* exact (Sterbenz) */
    float q = 0x1.141564p-4f;                     /* Q(x) = ln(1+x)/x, Horner from the top */
    q = q * x + -0x1.e05a7ap-4f;
    q = q * x + 0x1.e867dep-4f;
    q = q * x + -0x1.fbdf08p-4f;
    q = q * x + 0x1.2312f4p-3f;
    q = q * x + -0x1.555c8cp-3f;
    q = q * x + 0x1.99a71cp-3f;
    q = q * x + -0x1.00001p-2f;
    q = q * x + 0x1.55554p-2f;
    q = q * x + -0x1p-1f;
    q = q * x + 0x1p+0f;
    return (float)(e - 24) * 0x1.62e43p-1f + x * q;   /* (e-24) ln 2 + ln m */
}

/* sqrt(a) for a > 0 (a well inside the normal range). */
ADM_NZ_FN float adm_nz_sqrt(float a) {
    float y = adm_nz_as_float(0x5f3759dfu - (adm_nz_as_uint(a) >> 1));   /* ~ 1/sqrt(a), 3.5% */
    float h = 0.5f * a;
    for (int i = 0; i < 4; i++) {
        float t = h * y;
        t = t * y;
        y = y * (1.5f - t);                       /* Newton step for 1/sqrt(a) */
    }
    return a * y;
}

/* sin and cos of phi in [0, pi/4] (Taylor to x^11 / x^12). */
ADM_NZ_FN float adm_nz_sin_poly(float p) {
    float p2 = p * p, s = -0x1.ae6456p-26f;
    s = s * p2 + 0x1.71de3ap-19f;
    s = s * p2 + -0x1.a01a02p-13f;
    s = s * p2 + 0x1.111112p-7f;
    s = s * p2 + -0x1.555556p-3f;
    s = s * p2;
    return p + p * s;
}
ADM_NZ_FN float adm_nz_cos_poly(float p) {
    float p2 = p * p, c = 0x1.1eed8ep-29f;
    c = c * p2 + -0x1.27e4fcp-22f;
    c = c * p2 + 0x1.a01a02p-16f;
    c = c * p2 + -0x1.6c16c2p-10f;
    c = c * p2 + 0x1.555556p-5f;
    c = c * p2 + -0x1p-1f;
    c = c * p2;
    return 1.0f + c;
}

/* Two standard normals from two Philox words (Box-Muller). */
ADM_NZ_FN void adm_nz_box_muller(adm_u32 wu, adm_u32 wa, float *z0, float *z1) {
    float a = -2.0f * adm_nz_log_u24((wu >> 8) + 1u);
    float r = a > 0.0f ? adm_nz_sqrt(a) : 0.0f;
    adm_u32 j = wa >> 8;                          /* angle 2 pi j / 2^24 */
    adm_u32 quadrant = j >> 22;
    float f = (float)(j & 0x3FFFFFu) * 0x1p-22f;  /* fraction of the quadrant, exact */
    int swap = f > 0.5f;
    if (swap) f = 1.0f - f;                       /* exact */
    float phi = f * 0x1.921fb6p+0f;               /* in [0, pi/4] */
    float s = adm_nz_sin_poly(phi), c = adm_nz_cos_poly(phi);
    if (swap) { float t = s; s = c; c = t; }
    float ct, st;                                 /* cos, sin of theta = quadrant pi/2 + ... */
    if (quadrant == 0)      { ct = c;  st = s;  }
    else if (quadrant == 1) { ct = -s; st = c;  }
    else if (quadrant == 2) { ct = -c; st = -s; }
    else                    { ct = s;  st = -c; }
    *z0 = r * ct;
    *z1 = r * st;
}

/* The four normals of element block `block` of image `index` at `slot`. */
ADM_NZ_FN void adm_nz_normal4(adm_u32 seed_lo, adm_u32 seed_hi, adm_u32 index, adm_u32 slot,
                              adm_u32 block, float *z) {
    adm_u32 w[4];
    adm_philox4x32_10_words(index, slot, block, 0u, seed_lo, seed_hi, w);
    adm_nz_box_muller(w[0], w[1], &z[0], &z[1]);
    adm_nz_box_muller(w[2], w[3], &z[2], &z[3]);
}

#ifdef __OPENCL_VERSION__
/* out[b * n + e] = normal e of image first_index + b at slot (all b < B, e < n).
 * Global size: (ceil(n / 4), B); each work-item writes one block of 4. */
__kernel void adm_noise(__global float *out, ulong out_off, uint seed_lo, uint seed_hi,
                        uint first_index, uint slot, ulong n) {
    ulong block = get_global_id(0);
    uint b = (uint)get_global_id(1);
    if (block * 4 >= n) return;
    float z[4];
    adm_nz_normal4(seed_lo, seed_hi, first_index + b, slot, (uint)block, z);
    __global float *o = out + out_off + (ulong)b * n;
    for (int l = 0; l < 4; l++)
        if (block * 4 + l < n) o[block * 4 + l] = z[l];
}
#endif
