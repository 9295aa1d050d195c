/* safetensors.c — read and write .safetensors files.
 *
 * Layout: u64 little-endian N, then N bytes of JSON
 *     {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 *      "__metadata__": {"key": "value", ...}}
 * then the data; offsets are relative to the byte after the header.  The
 * JSON is parsed by a small bounds-checked parser that accepts exactly
 * this shape (any JSON value is skipped inside __metadata__).
 */
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct { const char *name; adm_dtype dtype; } st_types[] = {
    {"F32", ADM_F32}, {"F16", ADM_F16}, {"BF16", ADM_BF16}, {"F64", ADM_F64},
    {"I64", ADM_I64}, {"I32", ADM_I32}, {"U8", ADM_U8},
};

typedef struct { const char *label; const char *p; size_t len, pos; } js;

static void js_ws(js *J) {
    while (J->pos < J->len && (J->p[J->pos] == ' ' || J->p[J->pos] == '\n' || J->p[J->pos] == '\r' || J->p[J->pos] == '\t'))
        J->pos++;
}

static int js_expect(js *J, char c) {
    js_ws(J);
    if (J->pos >= J->len || J->p[J->pos] != c)
        return adm_error("%s: safetensors header: expected '%c' at byte %zu", J->label, c, J->pos);
    J->pos++;
    return 0;
}

static int js_peek(js *J, char c) {
    js_ws(J);
    return J->pos < J->len && J->p[J->pos] == c;
}

/* A string without escapes that matter to us: returns start/length of the raw text. */
static int js_string(js *J, const char **s, size_t *n) {
    if (js_expect(J, '"')) return -1;
    size_t start = J->pos;
    while (J->pos < J->len && J->p[J->pos] != '"') {
        if (J->p[J->pos] == '\\') J->pos++;          /* skip the escaped character */
        J->pos++;
    }
    if (J->pos >= J->len) return adm_error("%s: safetensors header: unterminated string", J->label);
    *s = J->p + start; *n = J->pos - start;
    J->pos++;
    return 0;
}

static int js_uint(js *J, uint64_t *v) {
    js_ws(J);
    if (J->pos >= J->len || J->p[J->pos] < '0' || J->p[J->pos] > '9')
        return adm_error("%s: safetensors header: expected a number at byte %zu", J->label, J->pos);
    uint64_t x = 0;
    while (J->pos < J->len && J->p[J->pos] >= '0' && J->p[J->pos] <= '9') {
        if (x > ((uint64_t)1 << 56)) return adm_error("%s: safetensors header: number too large", J->label);
        x = x * 10 + (uint64_t)(J->p[J->pos++] - '0');
    }
    *v = x;
    return 0;
}

/* The JSON string text s[0..n) (between the quotes) decoded into a malloc'd
 * C string: \" \\ \/ \b \f \n \r \t and \uXXXX (surrogate pairs joined)
 * become UTF-8.  Refused: raw control characters, bad escapes, lone
 * surrogates and \u0000 (a C string cannot hold it). */
static char *js_unescape(js *J, const char *s, size_t n) {
    char *out = malloc(n + 1), *o = out;
    if (!out) { adm_error("out of memory"); return NULL; }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20) goto bad;
        if (c != '\\') { *o++ = (char)c; continue; }
        if (++i >= n) goto bad;
        const char *esc = strchr("\"\\/bfnrt", s[i]);
        if (esc && s[i]) { *o++ = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"]; continue; }
        if (s[i] != 'u') goto bad;
        uint32_t cp = 0;
        for (int pair = 0; pair < 2; pair++) {
            uint32_t u = 0;
            if (i + 4 >= n) goto bad;                  /* s[i] is 'u', four hex digits follow */
            for (int k = 1; k <= 4; k++) {
                char h = s[i + k];
                int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (d < 0) goto bad;
                u = u << 4 | (uint32_t)d;
            }
            i += 4;
            if (!pair) {
                cp = u;
                if (cp < 0xD800 || cp > 0xDFFF) break;
                if (cp > 0xDBFF || i + 2 >= n || s[i + 1] != '\\' || s[i + 2] != 'u') goto bad;
                i += 2;
            } else {
                if (u < 0xDC00 || u > 0xDFFF) goto bad;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (u - 0xDC00);
            }
        }
        if (cp == 0) goto bad;
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 63)); }
        else if (cp < 0x10000) { *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | (cp >> 6 & 63)); *o++ = (char)(0x80 | (cp & 63)); }
        else { *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | (cp >> 12 & 63)); *o++ = (char)(0x80 | (cp >> 6 & 63)); *o++ = (char)(0x80 | (cp & 63)); }
    }
    *o = 0;
    return out;
bad:
    free(out);
    adm_error("%s: safetensors header: bad string (control character or escape) near byte %zu", J->label, J->pos);
    return NULL;
}

/* Skip any JSON value (depth-limited). */
static int js_skip(js *J, int depth) {
    if (depth > 16) return adm_error("%s: safetensors header nested too deeply", J->label);
    js_ws(J);
    if (J->pos >= J->len) return adm_error("%s: safetensors header truncated", J->label);
    char c = J->p[J->pos];
    const char *s; size_t n;
    if (c == '"') return js_string(J, &s, &n);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        J->pos++;
        if (js_peek(J, close)) { J->pos++; return 0; }
        for (;;) {
            if (c == '{') { if (js_string(J, &s, &n) || js_expect(J, ':')) return -1; }
            if (js_skip(J, depth + 1)) return -1;
            if (js_peek(J, ',')) { J->pos++; continue; }
            return js_expect(J, close);
        }
    }
    while (J->pos < J->len && strchr("-+.eE0123456789truefalsn", J->p[J->pos])) J->pos++;
    return 0;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]} */
static int st_entry(js *J, adm_tensor *t, uint64_t *begin, uint64_t *end) {
    int have = 0;
    if (js_expect(J, '{')) return -1;
    for (;;) {
        const char *k; size_t kn;
        if (js_string(J, &k, &kn) || js_expect(J, ':')) return -1;
        if (kn == 5 && memcmp(k, "dtype", 5) == 0) {
            const char *v; size_t vn; int found = 0;
            if (js_string(J, &v, &vn)) return -1;
            for (size_t i = 0; i < sizeof st_types / sizeof *st_types; i++)
                if (vn == strlen(st_types[i].name) && memcmp(v, st_types[i].name, vn) == 0) { t->dtype = st_types[i].dtype; found = 1; }
            if (!found) return adm_error("%s: safetensors dtype %.*s not supported", J->label, (int)(vn > 16 ? 16 : vn), v);
            have |= 1;
        } else if (kn == 5 && memcmp(k, "shape", 5) == 0) {
            if (js_expect(J, '[')) return -1;
            t->ndim = 0;
            if (js_peek(J, ']')) J->pos++;
            else for (;;) {
                uint64_t d;
                if (js_uint(J, &d)) return -1;
                if (t->ndim >= ADM_MAX_DIMS) return adm_error("%s: safetensors tensor has too many dimensions", J->label);
                if (d > ((uint64_t)1 << 40)) return adm_error("%s: safetensors tensor: absurd dimension", J->label);
                t->shape[t->ndim++] = (int64_t)d;
                if (js_peek(J, ',')) { J->pos++; continue; }
                if (js_expect(J, ']')) return -1;
                break;
            }
            have |= 2;
        } else if (kn == 12 && memcmp(k, "data_offsets", 12) == 0) {
            if (js_expect(J, '[') || js_uint(J, begin) || js_expect(J, ',') || js_uint(J, end) || js_expect(J, ']')) return -1;
            have |= 4;
        } else if (js_skip(J, 1)) return -1;
        if (js_peek(J, ',')) { J->pos++; continue; }
        if (js_expect(J, '}')) return -1;
        break;
    }
    if (have != 7) return adm_error("%s: safetensors entry lacks dtype, shape or data_offsets", J->label);
    return 0;
}

/* Parse the header of buf, the first len bytes of a file_len-byte file;
 * tensors point into buf (the caller owns it) when it holds the whole file
 * (len == file_len), else their data is NULL (an index: names, shapes). */
static int st_parse(const char *label, const uint8_t *buf, size_t len, size_t file_len, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    if (len < 8 || file_len < len) return adm_error("%s: not a safetensors file (too short)", label);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | buf[k];
    if (hlen < 2 || hlen > len - 8) return adm_error("%s: safetensors header length %llu does not fit the file", label, (unsigned long long)hlen);
    const uint8_t *data = len == file_len ? buf + 8 + hlen : NULL;
    size_t dlen = file_len - 8 - (size_t)hlen;
    js J = { label, (const char *)buf + 8, (size_t)hlen, 0 };
    int cap = 0;
    if (js_expect(&J, '{')) goto fail;
    if (js_peek(&J, '}')) { adm_error("%s: safetensors file holds no tensors", label); goto fail; }
    for (;;) {
        const char *k; size_t kn;
        if (js_string(&J, &k, &kn) || js_expect(&J, ':')) goto fail;
        if (kn == 12 && memcmp(k, "__metadata__", 12) == 0) {
            if (js_skip(&J, 1)) goto fail;
        } else {
            if (out->n >= cap) {
                int ncap = cap ? cap * 2 : 64;
                if (ncap > (1 << 24)) { adm_error("%s: too many tensors", label); goto fail; }
                adm_tensor *nt = realloc(out->t, (size_t)ncap * sizeof *nt);
                if (!nt) { adm_error("out of memory"); goto fail; }
                out->t = nt; cap = ncap;
            }
            adm_tensor *t = &out->t[out->n];
            memset(t, 0, sizeof *t);
            out->n++;
            uint64_t b = 0, e = 0;
            if (!(t->name = js_unescape(&J, k, kn))) goto fail;
            if (st_entry(&J, t, &b, &e)) { adm_error_prefix("tensor %s", t->name); goto fail; }
            uint64_t numel = 1;
            for (int d = 0; d < t->ndim; d++) {
                if (t->shape[d] && numel > ((uint64_t)1 << 40) / (uint64_t)t->shape[d]) {
                    adm_error("%s: tensor %s: size overflow", label, t->name); goto fail;
                }
                numel *= (uint64_t)t->shape[d];
            }
            if (b > e || e > dlen || e - b != numel * adm_dtype_size(t->dtype)) {
                adm_error("%s: tensor %s: data offsets [%llu, %llu] do not match its shape or the file (%zu data bytes)",
                          label, t->name, (unsigned long long)b, (unsigned long long)e, dlen);
                goto fail;
            }
            t->data = data ? (void *)(data + b) : NULL;
            t->nbytes = (size_t)(e - b);
        }
        if (js_peek(&J, ',')) { J.pos++; continue; }
        if (js_expect(&J, '}')) goto fail;
        break;
    }
    if (out->n == 0) { adm_error("%s: safetensors file holds no tensors", label); goto fail; }
    return 0;
fail:
    if (strncmp(adm_last_error(), label, strlen(label)) != 0) adm_error_prefix("%s", label);
    for (int k = 0; k < out->n; k++) free(out->t[k].name);
    free(out->t);
    memset(out, 0, sizeof *out);
    return -1;
}

int adm_safetensors_load_mem(const char *label, const uint8_t *buf, size_t len, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    if (len == 0) return adm_error("%s: empty file", label);
    uint8_t *copy = adm_malloc(len);
    if (!copy) return -1;
    memcpy(copy, buf, len);
    if (st_parse(label, copy, len, len, out) != 0) { free(copy); return -1; }
    out->blob = copy; out->blob_len = len;
    return 0;
}

int adm_safetensors_load(const char *path, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    uint8_t *buf; size_t len;
    if (adm_read_file(path, &buf, &len) != 0) return -1;
    if (len == 0) { free(buf); return adm_error("%s: empty file", path); }
    if (st_parse(path, buf, len, len, out) != 0) { free(buf); return -1; }
    out->blob = buf; out->blob_len = len;
    return 0;
}

int adm_safetensors_index(const char *path, adm_tensor_set *out) {
    memset(out, 0, sizeof *out);
    size_t size;
    if (adm_check_input_file(path, "a weights file", &size) != 0) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return adm_error("%s: %s", path, strerror(errno));
    uint8_t len8[8];
    uint64_t hlen = 0;
    if (size < 8 || fread(len8, 1, 8, f) != 8) { fclose(f); return adm_error("%s: not a safetensors file (too short)", path); }
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | len8[k];
    if (hlen < 2 || hlen > size - 8) {
        fclose(f);
        return adm_error("%s: safetensors header length %llu does not fit the file", path, (unsigned long long)hlen);
    }
    uint8_t *buf = adm_malloc(8 + (size_t)hlen);
    if (!buf) { fclose(f); return -1; }
    memcpy(buf, len8, 8);
    int ok = fread(buf + 8, 1, (size_t)hlen, f) == (size_t)hlen;
    fclose(f);
    if (!ok) { free(buf); return adm_error("%s: read error", path); }
    int rc = st_parse(path, buf, 8 + (size_t)hlen, size, out);
    free(buf);
    return rc;
}

/* Append printf-style text to a growing buffer. */
static int st_cat(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static int st_cat(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return adm_error("safetensors: formatting failed");
        if (*buf && *len + (size_t)n < *cap) { *len += (size_t)n; return 0; }
        size_t ncap = (*cap ? *cap * 2 : 4096) + (size_t)n;
        char *nb = realloc(*buf, ncap);
        if (!nb) return adm_error("out of memory");
        *buf = nb; *cap = ncap;
    }
}

/* name as a JSON string: quotes and backslashes escaped, control
 * characters as \u00XX; -1 unless name is valid UTF-8. */
static int st_cat_name(char **buf, size_t *len, size_t *cap, const char *name) {
    const unsigned char *p = (const unsigned char *)name;
    if (st_cat(buf, len, cap, "\"")) return -1;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                  : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 3 : -1;
        for (int k = 1; extra > 0 && k <= extra; k++)
            if ((p[k] & 0xC0) != 0x80) extra = -1;
        if (extra < 0) return adm_error("tensor name '%s' is not valid UTF-8", name);
        int rc;
        if (*p == '"' || *p == '\\') rc = st_cat(buf, len, cap, "\\%c", *p);
        else if (*p < 0x20) rc = st_cat(buf, len, cap, "\\u%04x", *p);
        else rc = st_cat(buf, len, cap, "%.*s", extra + 1, (const char *)p);
        if (rc) return -1;
        p += extra + 1;
    }
    return st_cat(buf, len, cap, "\"");
}

int adm_safetensors_write(const char *path, const adm_tensor *t, int n) {
    static const char *names[ADM_DTYPE_COUNT] = {
        [ADM_F32] = "F32", [ADM_F16] = "F16", [ADM_BF16] = "BF16", [ADM_F64] = "F64",
        [ADM_I64] = "I64", [ADM_I32] = "I32", [ADM_U8] = "U8" };
    char *hdr = NULL; size_t hl = 0, hc = 0; uint64_t off = 0;
    int rc = -1;
    if (st_cat(&hdr, &hl, &hc, "{")) goto done;
    for (int i = 0; i < n; i++) {
        size_t nb = (size_t)adm_tensor_numel(&t[i]) * adm_dtype_size(t[i].dtype);
        if (!t[i].name || (unsigned)t[i].dtype >= ADM_DTYPE_COUNT || nb > t[i].nbytes) {
            adm_error("%s: cannot write tensor %d (%s)", path, i, t[i].name ? t[i].name : "unnamed");
            goto done;
        }
        if (st_cat(&hdr, &hl, &hc, "%s", i ? "," : "") || st_cat_name(&hdr, &hl, &hc, t[i].name)) {
            adm_error_prefix("%s", path);
            goto done;
        }
        if (st_cat(&hdr, &hl, &hc, ":{\"dtype\":\"%s\",\"shape\":[", names[t[i].dtype])) goto done;
        for (int d = 0; d < t[i].ndim; d++)
            if (st_cat(&hdr, &hl, &hc, "%s%lld", d ? "," : "", (long long)t[i].shape[d])) goto done;
        if (st_cat(&hdr, &hl, &hc, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + nb))) goto done;
        off += nb;
    }
    if (st_cat(&hdr, &hl, &hc, "}")) goto done;
    while (hl % 8) if (st_cat(&hdr, &hl, &hc, " ")) goto done;

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) { adm_error("%s: %s", tmp, strerror(errno)); goto done; }
    uint8_t len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (uint8_t)((uint64_t)hl >> (8 * k));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hl, f) == hl;
    for (int i = 0; ok && i < n; i++) {
        size_t nb = (size_t)adm_tensor_numel(&t[i]) * adm_dtype_size(t[i].dtype);
        ok = fwrite(t[i].data, 1, nb, f) == nb;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) { remove(tmp); adm_error("%s: write failed: %s", path, strerror(errno)); goto done; }
    if (rename(tmp, path) != 0) { remove(tmp); adm_error("%s: %s", path, strerror(errno)); goto done; }
    rc = 0;
done:
    free(hdr);
    return rc;
}
