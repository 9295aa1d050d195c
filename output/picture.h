/* picture.h — small raster images for people to look at: a 5x7 bitmap
 * font, a contact sheet (a labelled grid of generated images) and a line
 * chart (guidance sweeps), written and read as PNG with libpng.
 *
 * An adm_image is 8-bit, row-major, channels interleaved: c = 1 (gray) or
 * c = 3 (RGB).  Colours are 0xRRGGBB; on a gray image the luma is used.
 * Every drawing call clips to the image, so callers never index outside.
 */
#ifndef ADM_PICTURE_H
#define ADM_PICTURE_H
#include <stdint.h>

typedef struct {
    int w, h, c;         /* width, height, channels (1 or 3) */
    uint8_t *px;         /* h*w*c bytes, owned */
} adm_image;

/* Allocate w x h x c, filled with colour rgb.  Sizes are bounded
 * (1..16384 per side) so a bad request fails with a message, not a crash. */
int adm_image_init(adm_image *im, int w, int h, int c, uint32_t rgb);
void adm_image_free(adm_image *im);

/* Solid rectangle and 1-pixel line (Bresenham), both clipped. */
void adm_image_rect(adm_image *im, int x, int y, int w, int h, uint32_t rgb);
void adm_image_line(adm_image *im, int x0, int y0, int x1, int y1, uint32_t rgb);

/* Copy pixels (pw x ph x pc, row-major interleaved) to (x, y), each source
 * pixel drawn as zoom x zoom; gray sources are replicated into RGB. */
void adm_image_blit(adm_image *im, int x, int y, const uint8_t *px, int pw, int ph, int pc, int zoom);

/* PNG files (8-bit gray or RGB).  Loading converts any PNG (palette,
 * 16-bit, alpha) to 8-bit: gray stays gray (c=1), everything else is RGB. */
int adm_image_save_png(const adm_image *im, const char *path);
int adm_image_load_png(const char *path, adm_image *im);

/* ---- font: 5x7 glyphs in a 6x9 cell (ASCII 32..126; others print '?') ---- */
#define ADM_FONT_W 5
#define ADM_FONT_H 7
#define ADM_FONT_ADVANCE 6     /* pixels per character at scale 1 */
#define ADM_FONT_LINE 9        /* pixels per line at scale 1 */

/* The 7 row bitmaps of a character (bit 4 = leftmost column). */
const uint8_t *adm_font_glyph(int ch);
/* Width in pixels of the widest line of s at the given scale. */
int adm_text_width(const char *s, int scale);
/* Number of lines of s ('\n' separated). */
int adm_text_lines(const char *s);
/* Draw s with its top-left at (x, y); '\n' starts a new line.  Returns the
 * width drawn. */
int adm_draw_text(adm_image *im, int x, int y, const char *s, uint32_t rgb, int scale);
/* Draw each line of s centred on column cx. */
void adm_draw_text_centered(adm_image *im, int cx, int y, const char *s, uint32_t rgb, int scale);

/* ---- contact sheet ---- */
typedef struct {
    const adm_image *img;   /* NULL: an empty cell marked "missing" */
    const char *label;      /* printed under the image (may hold '\n'); NULL: none */
} adm_sheet_cell;

/* A grid of cols columns (<= 0: about square) of cells, each image drawn at
 * zoom (<= 0: chosen so a 32-pixel image is 64 pixels wide), the label
 * under it, an optional title line above.  Output is RGB. */
int adm_sheet_render(const adm_sheet_cell *cells, int n, int cols, int zoom, const char *title,
                     adm_image *out);

/* ---- line chart ---- */
typedef struct {
    const char *name;       /* legend text */
    const double *y;        /* n values (NaN: no point) */
    uint32_t rgb;
    int right_axis;         /* 1: plotted against the right axis (y2_min..y2_max) */
} adm_chart_series;

typedef struct {
    const char *title, *x_label, *y_label;
    int n;                  /* points per series (>= 1) */
    const char *const *x_ticks;   /* n tick labels; points are evenly spaced */
    double y_min, y_max;    /* y axis range (y_max > y_min) */
    const adm_chart_series *series;
    int n_series;
    int width, height;      /* <= 0: 480 x 320 */
    double y2_min, y2_max;  /* right axis range; drawn only when some series uses it */
} adm_chart;

/* Axes with ticks and labels (a right axis too when a series asks for it),
 * a line with dot markers per series, a legend; output is RGB. */
int adm_chart_render(const adm_chart *chart, adm_image *out);

#endif
