/* step.cl — one DDPM or DDIM step with classifier guidance, per element,
 * shared by the host and every device.
 *
 * Like noise.cl, this file is both OpenCL C (the adm_step_ddpm and
 * adm_step_ddim kernels) and C (model/sampler.c #includes it for the host
 * step), so host and device evaluate the very same expressions in the very
 * same order: with FP_CONTRACT off, IEEE +, -, *, / (correctly rounded
 * division: cl_runtime builds with -cl-fp32-correctly-rounded-divide-sqrt
 * where the device has it) and the exp below made only of those, a step
 * gives the same bits on the host and on the device.
 *
 * The reference (guided-diffusion's gaussian_diffusion.py), per element,
 * with the step's scalars cf[] computed once on the host (model/sampler.c,
 * adm_step_coefs: table entries read as float32(arr[t])):
 *
 *   p_mean_variance (EPSILON mean, clip_denoised):
 *     learned range: frac = (v + 1) / 2,
 *                    log_var = frac * log(beta_t) + (1 - frac) * posterior_log_variance_clipped_t
 *     fixed:         log_var = the table's log
 *     x0   = clip(sqrt(1/abar) * x - sqrt(1/abar - 1) * eps, -1, 1)
 *     mean = posterior_mean_coef1 * x0 + posterior_mean_coef2 * x
 *   DDPM (p_sample, condition_mean):
 *     mean'  = mean + exp(log_var) * (s * grad)
 *     x_next = mean' + [t != 0] * exp(0.5 * log_var) * noise
 *   DDIM (ddim_sample, condition_score):
 *     eps    = (sqrt(1/abar) * x - x0) / sqrt(1/abar - 1)
 *     eps'   = eps - sqrt(1 - abar) * (s * grad)
 *     x0'    = sqrt(1/abar) * x - sqrt(1/abar - 1) * eps'      (not clipped again)
 *     eps''  = (sqrt(1/abar) * x - x0') / sqrt(1/abar - 1)
 *     x_next = x0' sqrt(abar_prev) + sqrt(1 - abar_prev - sigma^2) eps'' + [t != 0] sigma noise
 */
#ifdef __OPENCL_VERSION__
#pragma OPENCL FP_CONTRACT OFF
#define ADM_ST_FN static inline
#define adm_st_as_float(u) as_float(u)
#endif
/* (the host defines ADM_ST_FN and adm_st_as_float before including this file) */

/* The step's scalars cf[ADM_ST_NCOEF] (one float16 kernel argument). */
#define ADM_ST_MIN_LOG   0    /* posterior_log_variance_clipped[t] */
#define ADM_ST_MAX_LOG   1    /* log(betas[t]) */
#define ADM_ST_FIXED_LOG 2    /* fixed variance's log (FIXED_LARGE / FIXED_SMALL) */
#define ADM_ST_RECIP     3    /* sqrt(1/abar) */
#define ADM_ST_RECIPM1   4    /* sqrt(1/abar - 1) */
#define ADM_ST_COEF1     5    /* posterior_mean_coef1 */
#define ADM_ST_COEF2     6    /* posterior_mean_coef2 */
#define ADM_ST_SCALE     7    /* guidance scale s */
#define ADM_ST_MASK      8    /* [t != 0] */
#define ADM_ST_SQRT1MA   9    /* DDIM: sqrt(1 - abar) */
#define ADM_ST_C_X0     10    /* DDIM: sqrt(abar_prev) */
#define ADM_ST_C_EPS    11    /* DDIM: sqrt(1 - abar_prev - sigma^2) */
#define ADM_ST_SIGMA    12    /* DDIM: [t != 0] * sigma */
#define ADM_ST_LEARNED  13    /* 1: learned-range variance (v is read), 0: fixed */
#define ADM_ST_NCOEF    16

/* exp(x) from +, -, * only: x = n ln2 + r (Cody-Waite, |r| <= ln2/2), exp(r)
 * by its Taylor polynomial to r^7 (relative error < 1e-8), times 2^n built
 * from the exponent bits.  x is clamped to [-87, 88] (normal results). */
ADM_ST_FN float adm_st_exp(float x) {
    if (x < -87.0f) x = -87.0f;
    if (x > 88.0f) x = 88.0f;
    float t = x * 0x1.715476p+0f;                          /* x / ln 2 */
    int n = (int)(t + (t >= 0.0f ? 0.5f : -0.5f));         /* nearest, |n| <= 127 */
    float fn = (float)n;
    float r = x - fn * 0x1.62e400p-1f;                     /* ln2_hi (16 bits): the product is exact */
    r = r - fn * 0x1.7f7d1cp-20f;                          /* ln2_lo */
    float p = 0x1.a01a02p-13f;                             /* 1/7! .. 1/0!, Horner */
    p = p * r + 0x1.6c16c2p-10f;
    p = p * r + 0x1.111112p-7f;
    p = p * r + 0x1.555556p-5f;
    p = p * r + 0x1.555556p-3f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * adm_st_as_float((unsigned)(n + 127) << 23);
}

/* p_mean_variance of one element: x0 (clipped), and for DDPM mean and log_var. */
ADM_ST_FN float adm_st_pred_x0(float x, float eps, const float *cf) {
    float p = cf[ADM_ST_RECIP] * x, q = cf[ADM_ST_RECIPM1] * eps;
    float x0 = p - q;
    return x0 < -1.0f ? -1.0f : x0 > 1.0f ? 1.0f : x0;
}
ADM_ST_FN float adm_st_log_var(float v, const float *cf) {
    if (cf[ADM_ST_LEARNED] == 0.0f) return cf[ADM_ST_FIXED_LOG];
    float frac = (v + 1.0f) / 2.0f;
    float a = frac * cf[ADM_ST_MAX_LOG], c = (1.0f - frac) * cf[ADM_ST_MIN_LOG];
    return a + c;
}
ADM_ST_FN float adm_st_mean(float x, float x0, const float *cf) {
    float m1 = cf[ADM_ST_COEF1] * x0, m2 = cf[ADM_ST_COEF2] * x;
    return m1 + m2;
}

/* x_next of one element, DDPM (guided when has_grad). */
ADM_ST_FN float adm_st_ddpm(float x, float eps, float v, float grad, int has_grad, float noise, const float *cf) {
    float log_var = adm_st_log_var(v, cf);
    float m = adm_st_mean(x, adm_st_pred_x0(x, eps, cf), cf);
    if (has_grad) {
        float g = grad * cf[ADM_ST_SCALE];
        float var = adm_st_exp(log_var);
        m = m + var * g;
    }
    float sd = cf[ADM_ST_MASK] * adm_st_exp(0.5f * log_var);
    return m + sd * noise;
}

/* x_next of one element, DDIM (guided when has_grad). */
ADM_ST_FN float adm_st_ddim(float x, float eps, float grad, int has_grad, float noise, const float *cf) {
    const float recip = cf[ADM_ST_RECIP], recipm1 = cf[ADM_ST_RECIPM1];
    float p0 = adm_st_pred_x0(x, eps, cf);
    if (has_grad) {
        float e = (recip * x - p0) / recipm1;
        float g = grad * cf[ADM_ST_SCALE];
        e = e - cf[ADM_ST_SQRT1MA] * g;
        float a = recip * x, c = recipm1 * e;
        p0 = a - c;
    }
    float e2 = (recip * x - p0) / recipm1;
    float m1 = p0 * cf[ADM_ST_C_X0], m2 = cf[ADM_ST_C_EPS] * e2;
    float mean_pred = m1 + m2;
    return mean_pred + cf[ADM_ST_SIGMA] * noise;
}

#ifdef __OPENCL_VERSION__
/* x[k] (in place, k < n = B * img) = one step of element k.  img = C*H*W;
 * the model output of image b is out[b * out_img ..]: eps, then (learned
 * variance) v at + img.  grad and noise are [B, C, H, W]; grad is read only
 * when has_grad.  One work-item per element. */
__kernel void adm_step_ddpm(__global float *x, ulong x_off, __global const float *out, ulong out_off,
                            __global const float *grad, ulong grad_off, int has_grad,
                            __global const float *noise, ulong noise_off, float16 coefs,
                            ulong img, ulong out_img, ulong n) {
    ulong k = get_global_id(0);
    if (k >= n) return;
    float cf[ADM_ST_NCOEF];
    vstore16(coefs, 0, cf);
    ulong b = k / img, e = k - b * img;
    __global const float *o = out + out_off + b * out_img + e;
    float v = cf[ADM_ST_LEARNED] != 0.0f ? o[img] : 0.0f;
    float g = has_grad ? grad[grad_off + k] : 0.0f;
    x[x_off + k] = adm_st_ddpm(x[x_off + k], o[0], v, g, has_grad, noise[noise_off + k], cf);
}

__kernel void adm_step_ddim(__global float *x, ulong x_off, __global const float *out, ulong out_off,
                            __global const float *grad, ulong grad_off, int has_grad,
                            __global const float *noise, ulong noise_off, float16 coefs,
                            ulong img, ulong out_img, ulong n) {
    ulong k = get_global_id(0);
    if (k >= n) return;
    float cf[ADM_ST_NCOEF];
    vstore16(coefs, 0, cf);
    ulong b = k / img, e = k - b * img;
    float g = has_grad ? grad[grad_off + k] : 0.0f;
    x[x_off + k] = adm_st_ddim(x[x_off + k], out[out_off + b * out_img + e], g, has_grad, noise[noise_off + k], cf);
}
#endif
