/* admctl_progress.c — progress lines that fit the terminal: the width
 * (TIOCGWINSZ, else $COLUMNS, else 80), a line of "prefix [bar] NN% suffix"
 * shortened to width - 1 columns (the bar shrinks first, then goes, then the
 * text is cut) so a redraw never wraps and scrolls, and a counter for
 * commands that work through N items (eval features, audit, convert).
 * See admctl.h. */
#include "admctl.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int admctl_term_columns(int fd) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 10 && n <= 1000 ? n : 80;
}

void admctl_progress_format(char *out, size_t n, int columns, const char *prefix, double frac, const char *suffix) {
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    size_t room = columns > 1 ? (size_t)columns - 1 : 1;     /* the last column would wrap */
    if (room >= n) room = n - 1;
    char pct[8];
    snprintf(pct, sizeof pct, "%3d%%", (int)(frac * 100));   /* floor: 100% only when all is done */
    size_t fixed = strlen(prefix) + 1 + strlen(pct) + 1 + strlen(suffix);
    int bar = (int)room - (int)fixed - 3;                     /* "[" bar "] " */
    if (bar > 30) bar = 30;
    if (bar >= 5) {
        char b[31];
        int fill = (int)(frac * bar);
        for (int k = 0; k < bar; k++) b[k] = k < fill ? '#' : '.';
        b[bar] = 0;
        snprintf(out, n, "%s [%s] %s %s", prefix, b, pct, suffix);
    } else {
        snprintf(out, n, "%s %s %s", prefix, pct, suffix);
    }
    if (strlen(out) > room) out[room] = 0;
}

void admctl_progress_show(FILE *f, int tty, const char *line) {
    if (tty) fprintf(f, "\r\033[K%s", line);
    else fprintf(f, "%s\n", line);
    fflush(f);
}

void admctl_counter_init(admctl_counter *c, FILE *f, const char *what, const char *unit) {
    memset(c, 0, sizeof *c);
    c->f = f;
    c->what = what;
    c->unit = unit;
    c->tty = isatty(fileno(f));
    c->t0 = adm_now();
}

void admctl_counter_update(admctl_counter *c, int64_t done, int64_t total) {
    double now = adm_now();
    /* a terminal at most 10 times a second, a log every 10 s, and the end always */
    if (done < total && now - c->last < (c->tty ? 0.1 : 10)) return;
    c->last = now;
    double el = now - c->t0, rate = el > 0 ? done / el : 0;
    char suffix[160], left[32] = "?", line[512];
    if (rate > 0 && done < total) {
        double s = (total - done) / rate;
        if (s < 60) snprintf(left, sizeof left, "%.0fs", s);
        else if (s < 3600) snprintf(left, sizeof left, "%dm%02ds", (int)s / 60, (int)s % 60);
        else snprintf(left, sizeof left, "%dh%02dm", (int)(s / 3600), (int)s % 3600 / 60);
    }
    if (done < total)
        snprintf(suffix, sizeof suffix, "%lld/%lld %s, %.1f %s/s, ETA %s", (long long)done, (long long)total, c->unit,
                 rate, c->unit, left);
    else
        snprintf(suffix, sizeof suffix, "%lld/%lld %s, %.1f %s/s, %.1f s", (long long)done, (long long)total, c->unit,
                 rate, c->unit, el);
    admctl_progress_format(line, sizeof line, c->tty ? admctl_term_columns(fileno(c->f)) : 200, c->what,
                           total > 0 ? (double)done / total : 1, suffix);
    admctl_progress_show(c->f, c->tty, line);
    if (c->tty && done >= total) fputc('\n', c->f);
}
