/* attention.cl — the softmax of QKVAttention / QKVAttentionLegacy and the
 * scaling of q and k.  The score matrix is stored transposed, S^T[s, t]
 * (key s, query t), so the softmax over the key axis runs down a column,
 * s = 0..T-1 in order, in fp32:  w = exp(x - max) / sum_s exp(x - max).
 */
#pragma OPENCL FP_CONTRACT OFF


/* S^T of each head is T rows (s) of Tp columns (t; T rounded up to a
 * multiple of pw), stored as Tp / pw column panels of [T, pw] (see conv.cl;
 * pw = Tp is plain row-major with row stride Tp):
 *   S^T(s, t) = S[off + b*T*Tp + (t / pw)*T*pw + s*pw + t % pw]
 * A work-item takes ADM_VW adjacent columns (lanes are independent columns,
 * so each column is summed in the order s = 0..T-1); padding columns
 * (t >= T) are computed like the others and never used. */
__kernel void adm_softmax_cols(__global float *S, ulong off, int T, int Tp, int pw, int batch) {
    int t0 = get_global_id(0) * ADM_VW, b = get_global_id(1);
    if (t0 >= Tp || b >= batch) return;
    int pq = t0 / pw;
    __global float *s = S + off + (ulong)b * T * Tp + (ulong)pq * T * pw + (t0 - pq * pw);
    floatV mx = vloadV(0, s);
    for (int i = 1; i < T; i++) mx = fmax(mx, vloadV(0, s + (ulong)i * pw));
    floatV sum = (floatV)(0.0f);
    for (int i = 0; i < T; i++) {
        floatV e = exp(vloadV(0, s + (ulong)i * pw) - mx);
        vstoreV(e, 0, s + (ulong)i * pw);
        sum += e;
    }
    for (int i = 0; i < T; i++) vstoreV(vloadV(0, s + (ulong)i * pw) / sum, 0, s + (ulong)i * pw);
}

/* qs = q * scale in panels of pw columns over Tp (zero padding columns):
 *   qs(bh, c, t) = dst[qs_off + bh*ch*Tp + (t / pw)*ch*pw + c*pw + t % pw]
 * ks, vs [N*H, ch, T] = k * scale, v (the reference scales q and k
 * separately before their product).  part: floats from q to k (and k to v)
 * in qkv; head: floats between heads of a sample; sample: floats per sample.
 * One work-item per row (bh, c). */
__kernel void adm_attn_scale_qk(__global const float *qkv, ulong off, __global float *dst, ulong qs_off, ulong ks_off,
                                ulong vs_off, int heads, int ch, int T, int Tp, int pw, ulong part, ulong head,
                                ulong sample, float scale, uint rows) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    uint bh = r / (uint)ch, c = r - bh * (uint)ch, n = bh / (uint)heads, h = bh - n * (uint)heads;
    __global const float *q = qkv + off + (ulong)n * sample + (ulong)h * head + (ulong)c * T;
    __global float *qs = dst + qs_off + (ulong)bh * ch * Tp + (ulong)c * pw;
    __global float *ks = dst + ks_off + (ulong)r * T, *vs = dst + vs_off + (ulong)r * T;
    for (int p = 0; p < Tp / pw; p++)
        for (int l = 0; l < pw; l++) {
            int t = p * pw + l;
            qs[(ulong)p * ch * pw + l] = t < T ? q[t] * scale : 0.0f;
        }
    for (int t = 0; t < T; t++) {
        ks[t] = q[part + t] * scale;
        vs[t] = q[2 * part + t];
    }
}
