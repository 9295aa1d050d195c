/* test_image.c — the pictures people look at: the 5x7 font, contact
 * sheets and charts (output/picture.c), and PNG files written and read
 * back through libpng. */
#include "check.h"
#include "picture.h"
#include "util.h"
#include <unistd.h>

static int popcount7(const uint8_t *g) {
    int n = 0;
    for (int r = 0; r < ADM_FONT_H; r++)
        for (int b = 0; b < ADM_FONT_W; b++) n += (g[r] >> b) & 1;
    return n;
}

static int count_colour(const adm_image *im, int x0, int y0, int w, int h, uint32_t rgb) {
    int n = 0;
    for (int y = y0; y < y0 + h && y < im->h; y++)
        for (int x = x0; x < x0 + w && x < im->w; x++) {
            const uint8_t *p = im->px + ((size_t)y * im->w + x) * im->c;
            if (im->c == 3 ? (p[0] == (rgb >> 16 & 255) && p[1] == (rgb >> 8 & 255) && p[2] == (rgb & 255))
                           : p[0] == (rgb & 255))
                n++;
        }
    return n;
}

static void test_font_glyphs(void) {
    /* every printable character but space has ink, and no glyph uses bits outside 5 columns */
    for (int ch = 33; ch < 127; ch++) {
        const uint8_t *g = adm_font_glyph(ch);
        CHECK(popcount7(g) > 0, "glyph '%c' is empty", ch);
        for (int r = 0; r < ADM_FONT_H; r++) CHECK(g[r] < 32, "glyph '%c' row %d is wider than 5", ch, r);
    }
    CHECK(popcount7(adm_font_glyph(' ')) == 0, "space has ink");
    CHECK(adm_font_glyph(200) == adm_font_glyph('?'), "non-ASCII does not print '?'");
    /* all digits distinct (the labels are digits) */
    for (int a = '0'; a <= '9'; a++)
        for (int b = a + 1; b <= '9'; b++)
            CHECK(memcmp(adm_font_glyph(a), adm_font_glyph(b), ADM_FONT_H) != 0, "'%c' == '%c'", a, b);
    /* '1' is the vertical bar with a foot: column 2 set in every row */
    const uint8_t *one = adm_font_glyph('1');
    for (int r = 0; r < ADM_FONT_H; r++) CHECK(one[r] & 0x04, "'1' row %d lacks the stem", r);
}

static void test_text_render(void) {
    adm_image im;
    REQUIRE(adm_image_init(&im, 64, 32, 3, 0xffffff) == 0, "%s", adm_last_error());
    CHECK(adm_text_width("AB", 1) == 11, "width of AB = %d", adm_text_width("AB", 1));
    CHECK(adm_text_width("AB\nCDE", 2) == 34, "width of AB/CDE at 2x = %d", adm_text_width("AB\nCDE", 2));
    CHECK(adm_text_lines("a\nb\nc") == 3 && adm_text_lines("") == 0, "line count");
    int w = adm_draw_text(&im, 2, 3, "A", 0xff0000, 2);
    CHECK(w == 10, "drawn width %d", w);
    /* each lit font pixel becomes a 2x2 block of red, nothing else changes */
    int red = count_colour(&im, 0, 0, 64, 32, 0xff0000);
    CHECK(red == 4 * popcount7(adm_font_glyph('A')), "red pixels %d", red);
    CHECK(count_colour(&im, 0, 0, 64, 32, 0xffffff) == 64 * 32 - red, "background disturbed");
    /* the glyph's top-left bit maps to (2,3) */
    const uint8_t *g = adm_font_glyph('A');
    int on = (g[0] & 0x10) != 0;
    CHECK((count_colour(&im, 2, 3, 1, 1, 0xff0000) == 1) == on, "top-left pixel");
    /* drawing off the image clips instead of writing out of bounds */
    adm_draw_text(&im, 60, 28, "WWWW", 0x00ff00, 3);
    adm_draw_text(&im, -20, -20, "WWWW", 0x00ff00, 3);
    adm_image_line(&im, -100, -100, 200, 300, 0x0000ff);
    adm_image_free(&im);
}

static void test_png_roundtrip(void) {
    char path[] = "/tmp/adm_test_image_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    for (int c = 1; c <= 3; c += 2) {
        adm_image a, b;
        REQUIRE(adm_image_init(&a, 37, 23, c, 0) == 0, "%s", adm_last_error());
        for (size_t i = 0; i < (size_t)37 * 23 * c; i++) a.px[i] = (uint8_t)(i * 7 + i / 37);
        REQUIRE(adm_image_save_png(&a, path) == 0, "%s", adm_last_error());
        REQUIRE(adm_image_load_png(path, &b) == 0, "%s", adm_last_error());
        CHECK(b.w == 37 && b.h == 23 && b.c == c, "decoded %dx%dx%d", b.w, b.h, b.c);
        CHECK(b.w == a.w && memcmp(a.px, b.px, (size_t)37 * 23 * c) == 0, "pixels differ after round trip (c=%d)", c);
        adm_image_free(&a);
        adm_image_free(&b);
    }
    /* not a PNG: a clear error naming the file */
    FILE *f = fopen(path, "wb");
    REQUIRE(f, "reopen");
    fputs("this is not a png file", f);
    fclose(f);
    adm_image bad;
    CHECK(adm_image_load_png(path, &bad) == -1, "text accepted as PNG");
    CHECK(strstr(adm_last_error(), path) != NULL, "error does not name the file: %s", adm_last_error());
    CHECK(bad.px == NULL, "failed load left pixels");
    unlink(path);
    CHECK(adm_image_load_png("/nonexistent/x.png", &bad) == -1, "missing file accepted");
    adm_image big;
    CHECK(adm_image_init(&big, 100000, 10, 1, 0) == -1, "absurd size accepted");
    CHECK(adm_image_init(&big, 10, 10, 2, 0) == -1, "2 channels accepted");
}

static void test_real_png(void) {
    /* a PNG written by another program (PIL, via the reference sampler) */
    adm_image im;
    REQUIRE(adm_image_load_png("models/mnist/reference_samples_ddpm50.png", &im) == 0, "%s", adm_last_error());
    CHECK(im.w > 32 && im.h > 32, "size %dx%d", im.w, im.h);
    long sum = 0;
    for (size_t i = 0; i < (size_t)im.w * im.h * im.c; i++) sum += im.px[i];
    CHECK(sum > 0, "all black");
    adm_image_free(&im);
}

static void test_sheet(void) {
    adm_image digits[4];
    adm_sheet_cell cells[5];
    char labels[5][32];
    for (int k = 0; k < 4; k++) {
        REQUIRE(adm_image_init(&digits[k], 32, 32, 1, 0) == 0, "%s", adm_last_error());
        adm_image_rect(&digits[k], 8 + k, 8, 10, 16, 0xffffff);    /* a white bar, shifted per image */
        snprintf(labels[k], sizeof labels[k], "%d\ns=%d", k, 4);
        cells[k].img = &digits[k];
        cells[k].label = labels[k];
    }
    cells[4].img = NULL;
    cells[4].label = "9\ns=4";
    adm_image sheet;
    REQUIRE(adm_sheet_render(cells, 5, 3, 2, "job 12", &sheet) == 0, "%s", adm_last_error());
    CHECK(sheet.c == 3, "sheet not RGB");
    /* 3 columns x 2 rows of 64-pixel images with two label lines, a 2x title */
    int cw = 64, ch = 64 + 3 + 2 * ADM_FONT_LINE, pad = 6, top = pad + 2 * ADM_FONT_LINE;
    CHECK(sheet.w == 3 * (cw + pad) + pad, "width %d", sheet.w);
    CHECK(sheet.h == 2 * (ch + pad) + pad + top, "height %d", sheet.h);
    /* image 1 (row 0, col 1): its bar's pixels are white at zoom 2, its corner black */
    int x = pad + 1 * (cw + pad), y = top + pad;
    CHECK(count_colour(&sheet, x + 2 * 9, y + 2 * 8, 20, 32, 0xffffff) == 20 * 32, "bar of image 1 not where expected");
    CHECK(count_colour(&sheet, x, y, 16, 16, 0x000000) == 256, "corner of image 1 not black");
    /* its label sits under it: dark ink in the label band */
    CHECK(count_colour(&sheet, x, y + 64, cw, ch - 64, 0x202020) > 10, "no label ink under image 1");
    /* the missing cell (row 1, col 1) is grey with text */
    x = pad + 1 * (cw + pad); y = top + pad + ch + pad;
    CHECK(count_colour(&sheet, x, y, 64, 64, 0xc0c0c0) > 64 * 64 / 2, "missing cell not grey");
    /* and a PNG of it decodes */
    char path[] = "/tmp/adm_test_sheet_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    CHECK(adm_image_save_png(&sheet, path) == 0, "%s", adm_last_error());
    adm_image back;
    if (adm_image_load_png(path, &back) == 0) {
        CHECK(back.w == sheet.w && back.h == sheet.h && !memcmp(back.px, sheet.px, (size_t)back.w * back.h * 3),
              "sheet PNG differs");
        adm_image_free(&back);
    } else CHECK(0, "%s", adm_last_error());
    unlink(path);
    adm_image_free(&sheet);
    CHECK(adm_sheet_render(cells, 0, 3, 2, NULL, &sheet) == -1, "empty sheet accepted");
    for (int k = 0; k < 4; k++) adm_image_free(&digits[k]);
}

static void test_chart(void) {
    const char *ticks[] = {"0", "1", "2", "4", "10"};
    double acc[] = {0.8, 0.9, 0.95, 1.0, 1.0}, div[] = {0.5, 0.45, NAN, 0.3, 0.2};
    adm_chart_series s[2] = {{"accuracy", acc, 0x1060c0, 0}, {"diversity", div, 0xd04010, 0}};
    adm_chart c = {"sweep", "guidance scale", "value", 5, ticks, 0.0, 1.0, s, 2, 400, 300, 0.0, 0.0};
    adm_image im;
    REQUIRE(adm_chart_render(&c, &im) == 0, "%s", adm_last_error());
    CHECK(im.w == 400 && im.h == 300 && im.c == 3, "size %dx%dx%d", im.w, im.h, im.c);
    CHECK(count_colour(&im, 0, 0, 400, 300, 0x1060c0) > 5 * 25, "accuracy series missing");
    CHECK(count_colour(&im, 0, 0, 400, 300, 0xd04010) > 4 * 25, "diversity series missing");
    /* the y axis is a black vertical line at least 150 pixels long */
    int best = 0;
    for (int x = 0; x < 120; x++) {
        int n = count_colour(&im, x, 0, 1, 300, 0x000000);
        if (n > best) best = n;
    }
    CHECK(best > 150, "no y axis (longest black column %d)", best);
    adm_image_free(&im);

    /* a right axis: the same series against [0, 0.5] sits higher than against [0, 1] */
    double one[] = {0.25, 0.25, 0.25, 0.25, 0.25};
    adm_chart_series r[1] = {{"right", one, 0x00a000, 1}};
    adm_chart c2 = {"two axes", NULL, NULL, 5, ticks, 0.0, 1.0, r, 1, 400, 300, 0.0, 0.5};
    REQUIRE(adm_chart_render(&c2, &im) == 0, "%s", adm_last_error());
    int top_green = -1, right_black = 0;
    for (int y = 0; y < 300 && top_green < 0; y++)
        if (count_colour(&im, 150, y, 1, 1, 0x00a000)) top_green = y;
    /* plot area: top 30, bottom 300-36-9 = 255; 0.25 of [0, 0.5] is halfway: y = 142.5 (+-2 for the line) */
    CHECK(top_green >= 139 && top_green <= 144, "right-axis series at y=%d, expected about 142", top_green);
    for (int x = 300; x < 400; x++) {
        int k = count_colour(&im, x, 0, 1, 300, 0x000000);
        if (k > right_black) right_black = k;
    }
    CHECK(right_black > 150, "no right axis (longest black column %d)", right_black);
    adm_image_free(&im);
    c2.y2_max = 0;
    CHECK(adm_chart_render(&c2, &im) == -1, "empty right-axis range accepted");

    c.y_min = c.y_max = 1.0;
    CHECK(adm_chart_render(&c, &im) == -1, "empty y range accepted");
    c.y_min = 0; c.n = 0;
    CHECK(adm_chart_render(&c, &im) == -1, "no points accepted");
}

int main(void) {
    RUN(test_font_glyphs);
    RUN(test_text_render);
    RUN(test_png_roundtrip);
    RUN(test_real_png);
    RUN(test_sheet);
    RUN(test_chart);
    CHECK_EXIT();
}
