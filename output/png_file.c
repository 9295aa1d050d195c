/* png_file.c — PNG encode/decode with libpng (in memory), and saving a PNG
 * with util.h's atomic write.  See png_file.h. */
#include "png_file.h"
#include "util.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- libpng plumbing: errors into adm_error, memory I/O ---- */

static void on_png_error(png_structp png, png_const_charp msg) {
    adm_error("png: %s", msg);
    png_longjmp(png, 1);
}
static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

typedef struct { uint8_t *data; size_t len, cap; int oom; } membuf;

static void mem_write(png_structp png, png_bytep src, png_size_t n) {
    membuf *b = png_get_io_ptr(png);
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) { b->oom = 1; png_error(png, "out of memory"); }
        b->data = p; b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}
static void mem_flush(png_structp png) { (void)png; }

typedef struct { const uint8_t *data; size_t len, pos; } memreader;

static void mem_read(png_structp png, png_bytep dst, png_size_t n) {
    memreader *r = png_get_io_ptr(png);
    if (n > r->len - r->pos) png_error(png, "file is truncated");
    memcpy(dst, r->data + r->pos, n);
    r->pos += n;
}

/* ---- encode ---- */

int adm_png_encode(const uint8_t *pixels, int w, int h, int c, const adm_png_text *texts,
                   int n_texts, uint8_t **out, size_t *len) {
    *out = NULL; *len = 0;
    if (w < 1 || h < 1 || w > ADM_PNG_MAX_SIDE || h > ADM_PNG_MAX_SIDE)
        return adm_error("png: image size %dx%d outside 1..%d", w, h, ADM_PNG_MAX_SIDE);
    if (c != 1 && c != 3) return adm_error("png: %d channels (only gray or RGB)", c);
    if (n_texts < 0 || n_texts > ADM_PNG_MAX_TEXTS) return adm_error("png: %d text chunks", n_texts);
    for (int i = 0; i < n_texts; i++) {
        size_t kl = texts[i].key ? strlen(texts[i].key) : 0;
        if (kl < 1 || kl > 79 || !texts[i].value)
            return adm_error("png: text chunk key must be 1-79 characters with a value");
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
    if (!png) return adm_error("png: cannot create writer");
    png_infop info = png_create_info_struct(png);
    membuf buf = {0};
    png_text *pt = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!info) adm_error("png: cannot create writer");
        png_destroy_write_struct(&png, &info);
        free(buf.data); free(pt);
        return -1;
    }
    png_set_write_fn(png, &buf, mem_write, mem_flush);
    png_set_compression_level(png, 6);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (n_texts > 0) {
        pt = calloc((size_t)n_texts, sizeof *pt);
        if (!pt) png_error(png, "out of memory");
        for (int i = 0; i < n_texts; i++) {
            /* tEXt is Latin-1: a value with other bytes (a UTF-8 class name) goes in iTXt */
            int ascii = 1;
            for (const char *q = texts[i].value; *q; q++) if ((unsigned char)*q >= 0x80) ascii = 0;
            pt[i].compression = ascii ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
            pt[i].key = (png_charp)texts[i].key;
            pt[i].text = (png_charp)texts[i].value;
            pt[i].text_length = strlen(texts[i].value);
        }
        png_set_text(png, info, pt, n_texts);
    }
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * w * c));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(pt);
    *out = buf.data; *len = buf.len;
    return 0;
}

int adm_png_save(const char *path, const char *tmp_path, const uint8_t *pixels, int w, int h,
                 int c, const adm_png_text *texts, int n_texts, char *sha256_hex, size_t *bytes) {
    uint8_t *data;
    size_t len;
    if (adm_png_encode(pixels, w, h, c, texts, n_texts, &data, &len) != 0)
        return adm_error_prefix("%s", path);
    int rc = adm_file_write_atomic(path, tmp_path, data, len);
    if (rc == 0) {
        if (sha256_hex) adm_sha256_hex(data, len, sha256_hex);
        if (bytes) *bytes = len;
    }
    free(data);
    return rc;
}

/* ---- decode ---- */

int adm_png_decode(const uint8_t *data, size_t len, adm_png_image *img) {
    memset(img, 0, sizeof *img);
    if (len < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) return adm_error("png: not a PNG file");
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
    if (!png) return adm_error("png: cannot create reader");
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    memreader r = {data, len, 0};
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!info) adm_error("png: cannot create reader");
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        adm_png_free(img);
        return -1;
    }
    png_set_read_fn(png, &r, mem_read);
    png_set_user_limits(png, ADM_PNG_MAX_SIDE, ADM_PNG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int ct = png_get_color_type(png, info);
    png_set_expand(png);          /* palette -> RGB, low-bit gray -> 8, tRNS -> alpha */
    png_set_strip_16(png);
    if (ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    if (c == 2) png_error(png, "unexpected gray+alpha after conversion");
    img->w = (int)w; img->h = (int)h; img->c = c;
    img->pixels = malloc((size_t)w * h * (size_t)c);
    rows = malloc(sizeof *rows * h);
    if (!img->pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = img->pixels + (size_t)y * w * c;
    png_read_image(png, rows);
    png_read_end(png, info);
    png_textp text;
    int nt = 0;
    if (png_get_text(png, info, &text, &nt) > 0) {
        for (int i = 0; i < nt && img->n_texts < ADM_PNG_MAX_TEXTS; i++) {
            char *k = strdup(text[i].key), *v = strdup(text[i].text ? text[i].text : "");
            if (!k || !v) { free(k); free(v); png_error(png, "out of memory"); }
            img->keys[img->n_texts] = k; img->values[img->n_texts] = v; img->n_texts++;
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return 0;
}

int adm_png_read(const char *path, adm_png_image *img) {
    uint8_t *data;
    size_t len;
    memset(img, 0, sizeof *img);
    if (adm_read_file(path, &data, &len) != 0) return -1;
    int rc = adm_png_decode(data, len, img);
    free(data);
    return rc == 0 ? 0 : adm_error_prefix("%s", path);
}

void adm_png_free(adm_png_image *img) {
    free(img->pixels);
    for (int i = 0; i < img->n_texts; i++) { free(img->keys[i]); free(img->values[i]); }
    memset(img, 0, sizeof *img);
}

const char *adm_png_text_get(const adm_png_image *img, const char *key) {
    for (int i = 0; i < img->n_texts; i++)
        if (!strcmp(img->keys[i], key)) return img->values[i];
    return NULL;
}
