/* cmd_chart.c — `admctl chart TABLE.tsv --x COL --y COL --series COL --out
 * PNG`: a line chart of a tab-separated table (a header line naming the
 * columns, then one row per point), one line per distinct value of the
 * series column against the distinct numeric values of the x column
 * (evenly spaced ticks, ascending).  The docs' quality-per-network-pass
 * chart is drawn from the measured table so. */
#include "admctl.h"
#include "picture.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_MAX_X 32
#define CHART_MAX_SERIES 12
#define CHART_MAX_COLS 32

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl chart TABLE.tsv --x COL --y COL --series COL --out PNG\n"
        "                    [--title T] [--x-label L] [--y-min A] [--y-max B]\n"
        "\n"
        "Line chart of a tab-separated table whose first line names the columns:\n"
        "one line per distinct value of --series, against the distinct numbers of\n"
        "--x (evenly spaced ticks, ascending); a point missing from a line is skipped.\n"
        "The y axis spans --y-min..--y-max (default: the data's range).\n");
}

/* Split line at tabs into at most CHART_MAX_COLS fields (in place). */
static int split_tabs(char *line, char **f) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line; n < CHART_MAX_COLS;) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

static int col_index(char **names, int n, const char *want) {
    for (int i = 0; i < n; i++) if (!strcmp(names[i], want)) return i;
    return -1;
}

static int num(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

int cmd_chart(int argc, char **argv) {
    const char *path = NULL, *xc = NULL, *yc = NULL, *sc = NULL, *out = NULL, *title = "", *xlabel = NULL;
    const char *ymin_s = NULL, *ymax_s = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--x", &xc) || admctl_opt(argc, argv, &i, "--y", &yc) ||
            admctl_opt(argc, argv, &i, "--series", &sc) || admctl_opt(argc, argv, &i, "--out", &out) ||
            admctl_opt(argc, argv, &i, "--title", &title) || admctl_opt(argc, argv, &i, "--x-label", &xlabel) ||
            admctl_opt(argc, argv, &i, "--y-min", &ymin_s) || admctl_opt(argc, argv, &i, "--y-max", &ymax_s))
            continue;
        if (argv[i][0] != '-' && !path) { path = argv[i]; continue; }
        usage(stderr);
        admctl_fail("chart: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!path || !xc || !yc || !sc || !out) {
        usage(stderr);
        admctl_fail("chart: TABLE.tsv, --x, --y, --series and --out are required");
        return ADMCTL_USAGE;
    }
    uint8_t *text;
    size_t len;
    if (adm_read_file(path, &text, &len)) return admctl_fail("%s", adm_last_error());
    char *save = NULL, *line = strtok_r((char *)text, "\n", &save);
    char *names[CHART_MAX_COLS], *f[CHART_MAX_COLS];
    int ncol = line ? split_tabs(line, names) : 0;
    int ix = col_index(names, ncol, xc), iy = col_index(names, ncol, yc), is = col_index(names, ncol, sc);
    int rc = ADMCTL_FAIL;
    if (ix < 0 || iy < 0 || is < 0) {
        admctl_fail("%s: no column '%s' in the header", path, ix < 0 ? xc : iy < 0 ? yc : sc);
        free(text);
        return rc;
    }
    double xs[CHART_MAX_X], y[CHART_MAX_SERIES][CHART_MAX_X];
    char sname[CHART_MAX_SERIES][64];
    int nx = 0, ns = 0, row = 1;
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < CHART_MAX_SERIES; s++) for (int k = 0; k < CHART_MAX_X; k++) y[s][k] = NAN;
    /* first pass: the x values; second: the points */
    char *rows[1024];
    int nrows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) && nrows < 1024) rows[nrows++] = line;
    for (int r = 0; r < nrows; r++) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", rows[r]);
        int n = split_tabs(copy, f);
        double xv;
        if (n <= ix || !num(f[ix], &xv)) { admctl_fail("%s: row %d: %s is not a number", path, r + 2, xc); goto done; }
        int k = 0;
        while (k < nx && xs[k] != xv) k++;
        if (k == nx) {
            if (nx == CHART_MAX_X) { admctl_fail("%s: more than %d x values", path, CHART_MAX_X); goto done; }
            xs[nx++] = xv;
        }
    }
    for (int a = 0; a < nx; a++)            /* ascending */
        for (int b = a + 1; b < nx; b++) if (xs[b] < xs[a]) { double t = xs[a]; xs[a] = xs[b]; xs[b] = t; }
    for (int r = 0; r < nrows; r++, row++) {
        int n = split_tabs(rows[r], f);
        double xv, yv;
        if (n <= iy || n <= is || !num(f[ix], &xv) || !num(f[iy], &yv)) {
            admctl_fail("%s: row %d: %s is not a number", path, r + 2, yc);
            goto done;
        }
        int s = 0;
        while (s < ns && strcmp(sname[s], f[is])) s++;
        if (s == ns) {
            if (ns == CHART_MAX_SERIES) { admctl_fail("%s: more than %d series", path, CHART_MAX_SERIES); goto done; }
            snprintf(sname[ns++], sizeof sname[0], "%s", f[is]);
        }
        int k = 0;
        while (xs[k] != xv) k++;
        y[s][k] = yv;
        if (yv < lo) lo = yv;
        if (yv > hi) hi = yv;
    }
    if (ns == 0) { admctl_fail("%s: no rows", path); goto done; }
    double ymin = lo, ymax = hi > lo ? hi : lo + 1;
    if (ymin_s && !num(ymin_s, &ymin)) { admctl_fail("--y-min '%s': not a number", ymin_s); goto done; }
    if (ymax_s && !num(ymax_s, &ymax)) { admctl_fail("--y-max '%s': not a number", ymax_s); goto done; }
    if (!(ymax > ymin)) { admctl_fail("chart: --y-max must be above --y-min"); goto done; }
    static const uint32_t palette[CHART_MAX_SERIES] = {0x1060c0, 0xd04010, 0x20a040, 0x8040c0, 0x909020, 0x20a0a0,
                                                       0xc02080, 0x606060, 0xe08000, 0x0000ff, 0x804000, 0x00c0ff};
    adm_chart_series series[CHART_MAX_SERIES];
    char tick_s[CHART_MAX_X][16];
    const char *ticks[CHART_MAX_X];
    for (int k = 0; k < nx; k++) { snprintf(tick_s[k], sizeof tick_s[k], "%g", xs[k]); ticks[k] = tick_s[k]; }
    for (int s = 0; s < ns; s++) series[s] = (adm_chart_series){sname[s], y[s], palette[s], 0};
    char xl[160];
    snprintf(xl, sizeof xl, "%s (evenly spaced)", xlabel ? xlabel : xc);
    adm_chart chart = {title, xl, yc, nx, ticks, ymin, ymax, series, ns, 720, 420, 0, 0};
    adm_image im;
    if (adm_chart_render(&chart, &im) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    int w = adm_image_save_png(&im, out);
    adm_image_free(&im);
    if (w != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    printf("chart: %s (%d series, %d x values)\n", out, ns, nx);
    rc = ADMCTL_OK;
done:
    free(text);
    return rc;
}
