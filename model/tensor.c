/* tensor.c — dtype helpers, conversions, tensor sets.  See tensor.h. */
#include "tensor.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; size_t size; } dtypes[ADM_DTYPE_COUNT] = {
    [ADM_F32] = {"f32", 4}, [ADM_F16] = {"f16", 2}, [ADM_BF16] = {"bf16", 2},
    [ADM_F64] = {"f64", 8}, [ADM_I64] = {"i64", 8}, [ADM_I32] = {"i32", 4}, [ADM_U8] = {"u8", 1},
};

size_t adm_dtype_size(adm_dtype d) { return (unsigned)d < ADM_DTYPE_COUNT ? dtypes[d].size : 0; }
const char *adm_dtype_name(adm_dtype d) { return (unsigned)d < ADM_DTYPE_COUNT ? dtypes[d].name : "?"; }

int64_t adm_tensor_numel(const adm_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

float adm_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {                                  /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f; memcpy(&f, &bits, 4); return f;
}

uint16_t adm_float_to_half(float f) {
    uint32_t x; memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);            /* overflow -> inf */
    if (absx < 0x38800000u) {                      /* half subnormal (units of 2^-24) or zero */
        if (absx < 0x33000000u) return (uint16_t)sign;             /* below half the smallest: 0 */
        uint32_t e = absx >> 23, man = (absx & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e;                                  /* 14..24 */
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;           /* round to nearest even */
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((absx - 0x38000000u) >> 13);
    uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float adm_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16; float f; memcpy(&f, &bits, 4); return f;
}

int adm_tensor_to_f32(const adm_tensor *t, float *dst) {
    int64_t n = adm_tensor_numel(t);
    const uint8_t *p = t->data;
    if ((size_t)n * adm_dtype_size(t->dtype) > t->nbytes)
        return adm_error("tensor %s: %zu bytes of data, shape needs more", t->name ? t->name : "", t->nbytes);
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case ADM_F32: { float v; memcpy(&v, p + 4*i, 4); dst[i] = v; break; }
        case ADM_F16: { uint16_t v; memcpy(&v, p + 2*i, 2); dst[i] = adm_half_to_float(v); break; }
        case ADM_BF16: { uint16_t v; memcpy(&v, p + 2*i, 2); dst[i] = adm_bf16_to_float(v); break; }
        case ADM_F64: { double v; memcpy(&v, p + 8*i, 8); dst[i] = (float)v; break; }
        case ADM_I64: { int64_t v; memcpy(&v, p + 8*i, 8); dst[i] = (float)v; break; }
        case ADM_I32: { int32_t v; memcpy(&v, p + 4*i, 4); dst[i] = (float)v; break; }
        case ADM_U8: dst[i] = p[i]; break;
        default: return adm_error("tensor %s: unknown dtype", t->name ? t->name : "");
        }
    }
    return 0;
}

float *adm_tensor_f32_copy(const adm_tensor *t) {
    float *d = adm_calloc((size_t)adm_tensor_numel(t), sizeof(float));
    if (d && adm_tensor_to_f32(t, d) != 0) { free(d); return NULL; }
    return d;
}

void adm_tensor_free(adm_tensor *t) {
    if (!t) return;
    free(t->name);
    if (t->owns_data) free(t->data);
    memset(t, 0, sizeof *t);
}

const adm_tensor *adm_tensors_find(const adm_tensor_set *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (s->t[i].name && strcmp(s->t[i].name, name) == 0) return &s->t[i];
    return NULL;
}

void adm_tensors_free(adm_tensor_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) adm_tensor_free(&s->t[i]);
    free(s->t);
    free(s->blob);
    memset(s, 0, sizeof *s);
}
