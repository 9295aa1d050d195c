/* picture.c — raster images for people: drawing, a 5x7 font, contact
 * sheets, line charts, and PNG files through libpng's simplified API.
 * See picture.h for the conventions (8-bit, interleaved, 0xRRGGBB). */
#include "picture.h"
#include "util.h"
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADM_IMAGE_MAX_SIDE 16384

/* ---- images ---- */

/* Luma of 0xRRGGBB by the ITU-R BT.601 weights (integer, rounded). */
static uint8_t rgb_luma(uint32_t rgb) {
    unsigned r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
    return (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
}

static void put_pixel(adm_image *im, int x, int y, uint32_t rgb) {
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return;
    uint8_t *p = im->px + ((size_t)y * im->w + x) * im->c;
    if (im->c == 1) { p[0] = rgb_luma(rgb); return; }
    p[0] = (uint8_t)(rgb >> 16); p[1] = (uint8_t)(rgb >> 8); p[2] = (uint8_t)rgb;
}

int adm_image_init(adm_image *im, int w, int h, int c, uint32_t rgb) {
    im->w = im->h = im->c = 0; im->px = NULL;
    if (w < 1 || h < 1 || w > ADM_IMAGE_MAX_SIDE || h > ADM_IMAGE_MAX_SIDE)
        return adm_error("image size %dx%d out of range (1..%d per side)", w, h, ADM_IMAGE_MAX_SIDE);
    if (c != 1 && c != 3) return adm_error("image with %d channels: only 1 (gray) or 3 (RGB)", c);
    im->px = adm_malloc((size_t)w * h * c);
    if (!im->px) return -1;
    im->w = w; im->h = h; im->c = c;
    adm_image_rect(im, 0, 0, w, h, rgb);
    return 0;
}

void adm_image_free(adm_image *im) {
    free(im->px);
    im->px = NULL; im->w = im->h = im->c = 0;
}

void adm_image_rect(adm_image *im, int x, int y, int w, int h, uint32_t rgb) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > im->w ? im->w : x + w, y1 = y + h > im->h ? im->h : y + h;
    for (int j = y0; j < y1; j++)
        for (int i = x0; i < x1; i++) put_pixel(im, i, j, rgb);
}

void adm_image_line(adm_image *im, int x0, int y0, int x1, int y1, uint32_t rgb) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        put_pixel(im, x0, y0, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

void adm_image_blit(adm_image *im, int x, int y, const uint8_t *px, int pw, int ph, int pc, int zoom) {
    if (zoom < 1) zoom = 1;
    for (int j = 0; j < ph; j++)
        for (int i = 0; i < pw; i++) {
            const uint8_t *s = px + ((size_t)j * pw + i) * pc;
            /* gray v becomes (v, v, v), whose luma is v again on a gray image */
            uint32_t rgb = pc >= 3 ? ((uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2])
                                   : ((uint32_t)s[0] * 0x010101u);
            adm_image_rect(im, x + i * zoom, y + j * zoom, zoom, zoom, rgb);
        }
}

int adm_image_save_png(const adm_image *im, const char *path) {
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    p.width = (png_uint_32)im->w;
    p.height = (png_uint_32)im->h;
    p.format = im->c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&p, path, 0, im->px, 0, NULL)) {
        int e = adm_error("%s: cannot write PNG: %s", path, p.message);
        png_image_free(&p);
        return e;
    }
    return 0;
}

int adm_image_load_png(const char *path, adm_image *im) {
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    im->px = NULL; im->w = im->h = im->c = 0;
    if (!png_image_begin_read_from_file(&p, path))
        return adm_error("%s: not a readable PNG: %s", path, p.message);
    int gray = !(p.format & PNG_FORMAT_FLAG_COLOR);
    if (adm_image_init(im, (int)p.width, (int)p.height, gray ? 1 : 3, 0) != 0) {
        png_image_free(&p);
        return adm_error_prefix("%s", path);
    }
    p.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    /* Alpha is composited onto black: the background the images were made for. */
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&p, &black, im->px, 0, NULL)) {
        adm_image_free(im);
        return adm_error("%s: corrupt PNG: %s", path, p.message);
    }
    return 0;
}

/* ---- font ---- */

/* 5x7 glyphs for ASCII 32..126, one byte per row, bit 4 = leftmost column.
 * Drawn for this project (public domain).  The descender letters g j p q y
 * are drawn one row lower (the cell has two spare rows below). */
static const uint8_t font5x7[95][7] = {
    {0x00,0x00,0x00,0x00,0x00,0x00,0x00}, /* ' ' */
    {0x04,0x04,0x04,0x04,0x04,0x00,0x04}, /* '!' */
    {0x0a,0x0a,0x0a,0x00,0x00,0x00,0x00}, /* '"' */
    {0x0a,0x0a,0x1f,0x0a,0x1f,0x0a,0x0a}, /* '#' */
    {0x04,0x0f,0x14,0x0e,0x05,0x1e,0x04}, /* '$' */
    {0x18,0x19,0x02,0x04,0x08,0x13,0x03}, /* '%' */
    {0x0c,0x12,0x14,0x08,0x15,0x12,0x0d}, /* '&' */
    {0x04,0x04,0x08,0x00,0x00,0x00,0x00}, /* "'" */
    {0x02,0x04,0x08,0x08,0x08,0x04,0x02}, /* '(' */
    {0x08,0x04,0x02,0x02,0x02,0x04,0x08}, /* ')' */
    {0x00,0x04,0x15,0x0e,0x15,0x04,0x00}, /* '*' */
    {0x00,0x04,0x04,0x1f,0x04,0x04,0x00}, /* '+' */
    {0x00,0x00,0x00,0x00,0x0c,0x04,0x08}, /* ',' */
    {0x00,0x00,0x00,0x1f,0x00,0x00,0x00}, /* '-' */
    {0x00,0x00,0x00,0x00,0x00,0x0c,0x0c}, /* '.' */
    {0x00,0x01,0x02,0x04,0x08,0x10,0x00}, /* '/' */
    {0x0e,0x11,0x13,0x15,0x19,0x11,0x0e}, /* '0' */
    {0x04,0x0c,0x04,0x04,0x04,0x04,0x0e}, /* '1' */
    {0x0e,0x11,0x01,0x02,0x04,0x08,0x1f}, /* '2' */
    {0x1f,0x02,0x04,0x02,0x01,0x11,0x0e}, /* '3' */
    {0x02,0x06,0x0a,0x12,0x1f,0x02,0x02}, /* '4' */
    {0x1f,0x10,0x1e,0x01,0x01,0x11,0x0e}, /* '5' */
    {0x06,0x08,0x10,0x1e,0x11,0x11,0x0e}, /* '6' */
    {0x1f,0x01,0x02,0x04,0x08,0x08,0x08}, /* '7' */
    {0x0e,0x11,0x11,0x0e,0x11,0x11,0x0e}, /* '8' */
    {0x0e,0x11,0x11,0x0f,0x01,0x02,0x0c}, /* '9' */
    {0x00,0x0c,0x0c,0x00,0x0c,0x0c,0x00}, /* ':' */
    {0x00,0x0c,0x0c,0x00,0x0c,0x04,0x08}, /* ';' */
    {0x02,0x04,0x08,0x10,0x08,0x04,0x02}, /* '<' */
    {0x00,0x00,0x1f,0x00,0x1f,0x00,0x00}, /* '=' */
    {0x08,0x04,0x02,0x01,0x02,0x04,0x08}, /* '>' */
    {0x0e,0x11,0x01,0x02,0x04,0x00,0x04}, /* '?' */
    {0x0e,0x11,0x01,0x0d,0x15,0x15,0x0e}, /* '@' */
    {0x0e,0x11,0x11,0x1f,0x11,0x11,0x11}, /* 'A' */
    {0x1e,0x11,0x11,0x1e,0x11,0x11,0x1e}, /* 'B' */
    {0x0e,0x11,0x10,0x10,0x10,0x11,0x0e}, /* 'C' */
    {0x1c,0x12,0x11,0x11,0x11,0x12,0x1c}, /* 'D' */
    {0x1f,0x10,0x10,0x1e,0x10,0x10,0x1f}, /* 'E' */
    {0x1f,0x10,0x10,0x1e,0x10,0x10,0x10}, /* 'F' */
    {0x0e,0x11,0x10,0x17,0x11,0x11,0x0f}, /* 'G' */
    {0x11,0x11,0x11,0x1f,0x11,0x11,0x11}, /* 'H' */
    {0x0e,0x04,0x04,0x04,0x04,0x04,0x0e}, /* 'I' */
    {0x07,0x02,0x02,0x02,0x02,0x12,0x0c}, /* 'J' */
    {0x11,0x12,0x14,0x18,0x14,0x12,0x11}, /* 'K' */
    {0x10,0x10,0x10,0x10,0x10,0x10,0x1f}, /* 'L' */
    {0x11,0x1b,0x15,0x15,0x11,0x11,0x11}, /* 'M' */
    {0x11,0x11,0x19,0x15,0x13,0x11,0x11}, /* 'N' */
    {0x0e,0x11,0x11,0x11,0x11,0x11,0x0e}, /* 'O' */
    {0x1e,0x11,0x11,0x1e,0x10,0x10,0x10}, /* 'P' */
    {0x0e,0x11,0x11,0x11,0x15,0x12,0x0d}, /* 'Q' */
    {0x1e,0x11,0x11,0x1e,0x14,0x12,0x11}, /* 'R' */
    {0x0f,0x10,0x10,0x0e,0x01,0x01,0x1e}, /* 'S' */
    {0x1f,0x04,0x04,0x04,0x04,0x04,0x04}, /* 'T' */
    {0x11,0x11,0x11,0x11,0x11,0x11,0x0e}, /* 'U' */
    {0x11,0x11,0x11,0x11,0x11,0x0a,0x04}, /* 'V' */
    {0x11,0x11,0x11,0x15,0x15,0x15,0x0a}, /* 'W' */
    {0x11,0x11,0x0a,0x04,0x0a,0x11,0x11}, /* 'X' */
    {0x11,0x11,0x0a,0x04,0x04,0x04,0x04}, /* 'Y' */
    {0x1f,0x01,0x02,0x04,0x08,0x10,0x1f}, /* 'Z' */
    {0x0e,0x08,0x08,0x08,0x08,0x08,0x0e}, /* '[' */
    {0x00,0x10,0x08,0x04,0x02,0x01,0x00}, /* '\\' */
    {0x0e,0x02,0x02,0x02,0x02,0x02,0x0e}, /* ']' */
    {0x04,0x0a,0x11,0x00,0x00,0x00,0x00}, /* '^' */
    {0x00,0x00,0x00,0x00,0x00,0x00,0x1f}, /* '_' */
    {0x08,0x04,0x02,0x00,0x00,0x00,0x00}, /* '`' */
    {0x00,0x00,0x0e,0x01,0x0f,0x11,0x0f}, /* 'a' */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x1e}, /* 'b' */
    {0x00,0x00,0x0e,0x10,0x10,0x11,0x0e}, /* 'c' */
    {0x01,0x01,0x0d,0x13,0x11,0x11,0x0f}, /* 'd' */
    {0x00,0x00,0x0e,0x11,0x1f,0x10,0x0e}, /* 'e' */
    {0x06,0x09,0x08,0x1c,0x08,0x08,0x08}, /* 'f' */
    {0x00,0x0f,0x11,0x11,0x0f,0x01,0x0e}, /* 'g' */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x11}, /* 'h' */
    {0x04,0x00,0x0c,0x04,0x04,0x04,0x0e}, /* 'i' */
    {0x02,0x00,0x06,0x02,0x02,0x12,0x0c}, /* 'j' */
    {0x10,0x10,0x12,0x14,0x18,0x14,0x12}, /* 'k' */
    {0x0c,0x04,0x04,0x04,0x04,0x04,0x0e}, /* 'l' */
    {0x00,0x00,0x1a,0x15,0x15,0x11,0x11}, /* 'm' */
    {0x00,0x00,0x16,0x19,0x11,0x11,0x11}, /* 'n' */
    {0x00,0x00,0x0e,0x11,0x11,0x11,0x0e}, /* 'o' */
    {0x00,0x1e,0x11,0x11,0x1e,0x10,0x10}, /* 'p' */
    {0x00,0x0f,0x11,0x11,0x0f,0x01,0x01}, /* 'q' */
    {0x00,0x00,0x16,0x19,0x10,0x10,0x10}, /* 'r' */
    {0x00,0x00,0x0e,0x10,0x0e,0x01,0x1e}, /* 's' */
    {0x08,0x08,0x1c,0x08,0x08,0x09,0x06}, /* 't' */
    {0x00,0x00,0x11,0x11,0x11,0x13,0x0d}, /* 'u' */
    {0x00,0x00,0x11,0x11,0x11,0x0a,0x04}, /* 'v' */
    {0x00,0x00,0x11,0x11,0x15,0x15,0x0a}, /* 'w' */
    {0x00,0x00,0x11,0x0a,0x04,0x0a,0x11}, /* 'x' */
    {0x00,0x11,0x11,0x11,0x0f,0x01,0x0e}, /* 'y' */
    {0x00,0x00,0x1f,0x02,0x04,0x08,0x1f}, /* 'z' */
    {0x02,0x04,0x04,0x08,0x04,0x04,0x02}, /* '{' */
    {0x04,0x04,0x04,0x04,0x04,0x04,0x04}, /* '|' */
    {0x08,0x04,0x04,0x02,0x04,0x04,0x08}, /* '}' */
    {0x00,0x00,0x08,0x15,0x02,0x00,0x00}, /* '~' */
};

const uint8_t *adm_font_glyph(int ch) {
    if (ch < 32 || ch > 126) ch = '?';
    return font5x7[ch - 32];
}

int adm_text_lines(const char *s) {
    if (!s || !*s) return 0;
    int n = 1;
    for (; *s; s++) n += *s == '\n' && s[1] != 0;
    return n;
}

int adm_text_width(const char *s, int scale) {
    int best = 0, cur = 0;
    if (scale < 1) scale = 1;
    for (; s && *s; s++) {
        if (*s == '\n') { cur = 0; continue; }
        cur++;
        if (cur > best) best = cur;
    }
    /* the last column of the last glyph carries no spacing */
    return best ? (best * ADM_FONT_ADVANCE - 1) * scale : 0;
}

static void draw_glyph(adm_image *im, int x, int y, int ch, uint32_t rgb, int scale) {
    const uint8_t *g = adm_font_glyph(ch);
    if (ch == 'g' || ch == 'j' || ch == 'p' || ch == 'q' || ch == 'y') y += scale;
    for (int r = 0; r < ADM_FONT_H; r++)
        for (int col = 0; col < ADM_FONT_W; col++)
            if (g[r] & (0x10 >> col))
                adm_image_rect(im, x + col * scale, y + r * scale, scale, scale, rgb);
}

int adm_draw_text(adm_image *im, int x, int y, const char *s, uint32_t rgb, int scale) {
    const char *start = s;
    if (scale < 1) scale = 1;
    int cx = x;
    for (; s && *s; s++) {
        if (*s == '\n') { cx = x; y += ADM_FONT_LINE * scale; continue; }
        draw_glyph(im, cx, y, (unsigned char)*s, rgb, scale);
        cx += ADM_FONT_ADVANCE * scale;
    }
    return adm_text_width(start, scale);
}

void adm_draw_text_centered(adm_image *im, int cx, int y, const char *s, uint32_t rgb, int scale) {
    char line[256];
    if (scale < 1) scale = 1;
    while (s && *s) {
        size_t n = strcspn(s, "\n");
        size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, s, k);
        line[k] = 0;
        adm_draw_text(im, cx - adm_text_width(line, scale) / 2, y, line, rgb, scale);
        y += ADM_FONT_LINE * scale;
        s += n;
        if (*s == '\n') s++;
    }
}

/* ---- contact sheet ---- */

#define SHEET_PAD 6
#define SHEET_BG 0xffffff
#define SHEET_INK 0x202020

int adm_sheet_render(const adm_sheet_cell *cells, int n, int cols, int zoom, const char *title,
                     adm_image *out) {
    out->px = NULL; out->w = out->h = out->c = 0;
    if (n < 1) return adm_error("contact sheet: no images");
    if (cols <= 0) { cols = 1; while (cols * cols < n) cols++; }
    if (cols > n) cols = n;
    int rows = (n + cols - 1) / cols;
    /* the cell is as large as the largest image, its label as tall as the most lines */
    int iw = 1, ih = 1, lines = 0, lw = 0;
    for (int k = 0; k < n; k++) {
        if (cells[k].img) {
            if (cells[k].img->w > iw) iw = cells[k].img->w;
            if (cells[k].img->h > ih) ih = cells[k].img->h;
        }
        int l = adm_text_lines(cells[k].label);
        if (l > lines) lines = l;
        int w = adm_text_width(cells[k].label, 1);
        if (w > lw) lw = w;
    }
    if (zoom <= 0) zoom = iw >= 64 ? 1 : 64 / iw;
    if (zoom > 16) zoom = 16;
    int cw = iw * zoom > lw ? iw * zoom : lw;
    int ch = ih * zoom + (lines ? 3 + lines * ADM_FONT_LINE : 0);
    int top = title && *title ? SHEET_PAD + adm_text_lines(title) * ADM_FONT_LINE * 2 : 0;
    long W = (long)cols * (cw + SHEET_PAD) + SHEET_PAD, H = (long)rows * (ch + SHEET_PAD) + SHEET_PAD + top;
    if (title && *title && adm_text_width(title, 2) + 2 * SHEET_PAD > W) W = adm_text_width(title, 2) + 2 * SHEET_PAD;
    if (W > ADM_IMAGE_MAX_SIDE || H > ADM_IMAGE_MAX_SIDE)
        return adm_error("contact sheet of %d images would be %ldx%ld pixels (limit %d): use fewer columns or images",
                         n, W, H, ADM_IMAGE_MAX_SIDE);
    if (adm_image_init(out, (int)W, (int)H, 3, SHEET_BG) != 0) return -1;
    if (top) adm_draw_text(out, SHEET_PAD, SHEET_PAD, title, SHEET_INK, 2);
    for (int k = 0; k < n; k++) {
        int x = SHEET_PAD + (k % cols) * (cw + SHEET_PAD), y = top + SHEET_PAD + (k / cols) * (ch + SHEET_PAD);
        int ix = x + (cw - iw * zoom) / 2;
        const adm_image *img = cells[k].img;
        if (img) {
            adm_image_blit(out, ix + (iw - img->w) * zoom / 2, y + (ih - img->h) * zoom / 2,
                           img->px, img->w, img->h, img->c, zoom);
        } else {
            adm_image_rect(out, ix, y, iw * zoom, ih * zoom, 0xc0c0c0);
            adm_draw_text_centered(out, x + cw / 2, y + ih * zoom / 2 - 3, "missing", 0x800000, 1);
        }
        if (cells[k].label)
            adm_draw_text_centered(out, x + cw / 2, y + ih * zoom + 3, cells[k].label, SHEET_INK, 1);
    }
    return 0;
}

/* ---- line chart ---- */

#define CHART_AXIS 0x000000
#define CHART_GRID 0xe0e0e0

/* Tick marks and labels of a vertical axis at column x, 5 intervals of
 * [lo, hi]; labels left of the axis (side < 0) or right of it (side > 0). */
static void chart_y_axis(adm_image *im, int x, int top, int bottom, double lo, double hi, int side, int grid_to) {
    for (int i = 0; i <= 5; i++) {
        double v = lo + (hi - lo) * i / 5;
        int y = bottom - (int)lround((double)(bottom - top) * i / 5);
        char lab[32];
        snprintf(lab, sizeof lab, "%.2f", v);
        if (i > 0 && grid_to) adm_image_line(im, x + 1, y, grid_to, y, CHART_GRID);
        adm_image_line(im, x + (side < 0 ? -4 : 0), y, x + (side < 0 ? 0 : 4), y, CHART_AXIS);
        int lx = side < 0 ? x - 6 - adm_text_width(lab, 1) : x + 7;
        adm_draw_text(im, lx, y - 3, lab, CHART_AXIS, 1);
    }
    adm_image_line(im, x, top, x, bottom, CHART_AXIS);
}

int adm_chart_render(const adm_chart *c, adm_image *out) {
    out->px = NULL; out->w = out->h = out->c = 0;
    if (c->n < 1 || c->n_series < 1 || !c->series || !c->x_ticks)
        return adm_error("chart: needs at least one point and one series");
    if (!(c->y_max > c->y_min) || !isfinite(c->y_min) || !isfinite(c->y_max))
        return adm_error("chart: y range [%g, %g] is empty", c->y_min, c->y_max);
    int right_axis = 0;
    for (int s = 0; s < c->n_series; s++) right_axis |= c->series[s].right_axis;
    if (right_axis && (!(c->y2_max > c->y2_min) || !isfinite(c->y2_min) || !isfinite(c->y2_max)))
        return adm_error("chart: right axis range [%g, %g] is empty", c->y2_min, c->y2_max);
    int W = c->width > 0 ? c->width : 480, H = c->height > 0 ? c->height : 320;
    if (W < 160 || H < 120) return adm_error("chart: %dx%d is too small (at least 160x120)", W, H);
    if (adm_image_init(out, W, H, 3, 0xffffff) != 0) return -1;

    /* plot area: room for the title above, tick labels and axis labels at the
     * sides and below, the legend at the bottom */
    int left = 14 + 6 * ADM_FONT_ADVANCE, right = W - 16 - (right_axis ? 5 * ADM_FONT_ADVANCE : 0), top = 30;
    int bottom = H - 36 - ADM_FONT_LINE * c->n_series;
    if (bottom - top < 40) { adm_image_free(out); return adm_error("chart: too many series for %d pixels of height", H); }
    if (c->title) adm_draw_text_centered(out, W / 2, 8, c->title, CHART_AXIS, 2);
    chart_y_axis(out, left, top, bottom, c->y_min, c->y_max, -1, right);
    if (right_axis) chart_y_axis(out, right, top, bottom, c->y2_min, c->y2_max, +1, 0);
    if (c->y_label) {   /* y label, written top-down one character per line */
        int len = (int)strlen(c->y_label), y0 = (top + bottom) / 2 - len * ADM_FONT_LINE / 2;
        for (int i = 0; i < len; i++) {
            char s[2] = {c->y_label[i], 0};
            adm_draw_text(out, 3, y0 + i * ADM_FONT_LINE, s, CHART_AXIS, 1);
        }
    }
    /* x: evenly spaced points, half a step of margin at each end */
    double step = (double)(right - left) / c->n;
    #define XPOS(i) (left + (int)lround(step * ((i) + 0.5)))
    for (int i = 0; i < c->n; i++) {
        int x = XPOS(i);
        adm_image_line(out, x, bottom, x, bottom + 4, CHART_AXIS);
        if (c->x_ticks[i]) adm_draw_text_centered(out, x, bottom + 7, c->x_ticks[i], CHART_AXIS, 1);
    }
    if (c->x_label) adm_draw_text_centered(out, (left + right) / 2, bottom + 7 + ADM_FONT_LINE + 2, c->x_label, CHART_AXIS, 1);
    adm_image_line(out, left, bottom, right, bottom, CHART_AXIS);

    /* series: segments between consecutive finite points, 5x5 dot per point, legend line */
    for (int s = 0; s < c->n_series; s++) {
        const adm_chart_series *se = &c->series[s];
        double lo = se->right_axis ? c->y2_min : c->y_min, hi = se->right_axis ? c->y2_max : c->y_max;
        int px = 0, py = 0, have = 0;
        for (int i = 0; i < c->n; i++) {
            double v = se->y[i];
            if (!isfinite(v)) { have = 0; continue; }
            if (v < lo) v = lo;
            if (v > hi) v = hi;
            int x = XPOS(i), y = bottom - (int)lround((v - lo) / (hi - lo) * (bottom - top));
            if (have) {   /* 2 pixels thick */
                adm_image_line(out, px, py, x, y, se->rgb);
                adm_image_line(out, px, py - 1, x, y - 1, se->rgb);
            }
            adm_image_rect(out, x - 2, y - 2, 5, 5, se->rgb);
            px = x; py = y; have = 1;
        }
        int ly = H - 6 - ADM_FONT_LINE * (c->n_series - s);
        adm_image_rect(out, left, ly + 2, 14, 3, se->rgb);
        if (se->name) adm_draw_text(out, left + 20, ly, se->name, CHART_AXIS, 1);
    }
    #undef XPOS
    return 0;
}
