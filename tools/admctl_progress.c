/* admctl_progress.c — progress lines that fit the terminal: the width
 * (TIOCGWINSZ, else $COLUMNS, else 80), a line of "prefix [bar] NN% suffix"
 * shortened to width - 1 columns (the bar shrinks first, then goes, then the
 * text is cut) so a redraw never wraps and scrolls, and a counter for
 * commands that work through N items (eval features, audit, generate),
 * and the same bar for reading and hashing big files (convert, model add).
 * See admctl.h. */
#include "admctl.h"
#include "tensor.h"
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
    char amount[64];
    if (c->bytes)
        snprintf(amount, sizeof amount, "%.1f/%.1f MB, %.1f MB/s", done / 1e6, total / 1e6, rate / 1e6);
    else
        snprintf(amount, sizeof amount, "%lld/%lld %s, %.1f %s/s", (long long)done, (long long)total, c->unit, rate,
                 c->unit);
    if (done < total) snprintf(suffix, sizeof suffix, "%s, ETA %s", amount, left);
    else snprintf(suffix, sizeof suffix, "%s, %.1f s", amount, el);
    admctl_progress_format(line, sizeof line, c->tty ? admctl_term_columns(fileno(c->f)) : 200, c->what,
                           total > 0 ? (double)done / total : 1, suffix);
    admctl_progress_show(c->f, c->tty, line);
    if (c->tty && done >= total) fputc('\n', c->f);
    if (done >= total) c->ended = 1;
}

/* ---- reading and hashing files ---- */

static struct {
    admctl_counter c;
    char what[160];
} read_bar;

static void on_read(void *ctx, const char *path, size_t got, size_t size) {
    (void)ctx; (void)path;
    admctl_counter_update(&read_bar.c, (int64_t)got, (int64_t)(size > got ? size : got));
}

void admctl_read_bar_begin(const char *verb, const char *path) {
    const char *base = strrchr(path, '/');
    snprintf(read_bar.what, sizeof read_bar.what, "%s %s", verb, base ? base + 1 : path);
    admctl_counter_init(&read_bar.c, stderr, read_bar.what, "bytes");
    read_bar.c.bytes = 1;
    adm_read_set_progress(on_read, NULL);
}

void admctl_read_bar_end(void) {
    adm_read_set_progress(NULL, NULL);
    /* a bar cut short (an error) ends its line, so the message starts on its own */
    if (read_bar.c.tty && read_bar.c.last > 0 && !read_bar.c.ended) fputc('\n', read_bar.c.f);
}

int admctl_tensors_load(const char *path, adm_tensor_set *out, char sha256[65]) {
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    admctl_read_bar_begin("reading", path);
    int rc = adm_read_untrusted(path, 0, &buf, &len, sha256);
    admctl_read_bar_end();
    if (rc != 0) return -1;
    rc = adm_tensors_load_mem(path, buf, len, out);
    free(buf);
    return rc;
}

int admctl_sha256_file(const char *path, char out[65]) {
    admctl_read_bar_begin("hashing", path);
    int rc = adm_sha256_file(path, out);
    admctl_read_bar_end();
    return rc;
}
