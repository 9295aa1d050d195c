/* attention.cl — the softmax of QKVAttention / QKVAttentionLegacy.
 * The score matrix is stored transposed, S^T[s, t] (key s, query t), so a
 * query column t is strided by T and the softmax over the key axis walks
 * s = 0..T-1 in order, in fp32:  w = exp(x - max) / sum_s exp(x - max).
 * A work-item takes ADM_SVW adjacent columns as one vector (lanes are
 * independent columns, so each column's sum order is the same as the
 * scalar loop's); the last, partial group of columns runs the scalar loop.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef ADM_VW
#define ADM_VW 8
#endif
#define ADM_SVW ADM_VW
#define SCAT_(a, b) a##b
#define SCAT(a, b) SCAT_(a, b)
#define floatS SCAT(float, ADM_SVW)
#define vloadS SCAT(vload, ADM_SVW)
#define vstoreS SCAT(vstore, ADM_SVW)

__kernel void adm_softmax_cols(__global float *S, ulong off, int T, int batch) {
    int t0 = get_global_id(0) * ADM_SVW, b = get_global_id(1);
    if (t0 >= T || b >= batch) return;
    __global float *s = S + off + (ulong)b * T * T + t0;
    if (t0 + ADM_SVW <= T) {
        floatS mx = vloadS(0, s);
        for (int i = 1; i < T; i++) mx = fmax(mx, vloadS(0, s + (ulong)i * T));
        floatS sum = (floatS)(0.0f);
        for (int i = 0; i < T; i++) {
            floatS e = exp(vloadS(0, s + (ulong)i * T) - mx);
            vstoreS(e, 0, s + (ulong)i * T);
            sum += e;
        }
        for (int i = 0; i < T; i++) vstoreS(vloadS(0, s + (ulong)i * T) / sum, 0, s + (ulong)i * T);
        return;
    }
    for (int t = 0; t0 + t < T; t++) {
        __global float *c = s + t;
        float mx = c[0];
        for (int i = 1; i < T; i++) mx = fmax(mx, c[(ulong)i * T]);
        float sum = 0.0f;
        for (int i = 0; i < T; i++) {
            float e = exp(c[(ulong)i * T] - mx);
            c[(ulong)i * T] = e;
            sum += e;
        }
        for (int i = 0; i < T; i++) c[(ulong)i * T] = c[(ulong)i * T] / sum;
    }
}

/* qs, ks, vs [N*H, ch, T] = q * scale, k * scale, v of head bh (the
 * reference scales q and k separately before their product).  part: floats
 * from q to k (and k to v) in qkv; head: floats between heads of a sample;
 * sample: floats per sample. */
__kernel void adm_attn_scale_qk(__global const float *qkv, ulong off, __global float *dst, ulong qs_off, ulong ks_off,
                                ulong vs_off, int heads, int ch, int T, ulong part, ulong head, ulong sample,
                                float scale, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    uint per = (uint)ch * T, bh = i / per, r = i % per;
    __global const float *q = qkv + off + (ulong)(bh / heads) * sample + (ulong)(bh % heads) * head + r;
    dst[qs_off + i] = q[0] * scale;
    dst[ks_off + i] = q[part] * scale;
    dst[vs_off + i] = q[2 * part];
}
