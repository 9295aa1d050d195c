/* cmd_watch.c — `admctl watch JOB`: follow a job until it ends.
 *
 * On a terminal: one line redrawn in place, never wider than the terminal
 * less one column (so it never wraps), with a bar of the true fraction
 * done — recorded images plus the running pass's images (jobs.pass_images)
 * times its step share — the step, images done (+ in the pass), the
 * measured rate and an ETA from the work still to do.  Otherwise
 * (a pipe, a log): one plain line whenever the progress changes, at most
 * every few seconds, so logs stay readable.  Exit status: 0 when the job
 * is done, 1 when it failed, was cancelled or died. */
#include "admctl.h"
#include "admctl_spool.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl watch JOB [--interval SECONDS] [--db PATH]\n"
        "\n"
        "Follow a job until it ends: step, images, rate and ETA.  Exit status 0 when\n"
        "the job is done, 1 when it failed, was cancelled or died.\n"
        "  --interval S  seconds between looks at the database (default 0.5)\n"
        ADMCTL_DB_HELP);
}

/* What we have seen of the job, to measure its rate.  Work is counted in
 * image-steps: images_done * total_steps + pass_images * step, which grows
 * steadily across passes of any size (a pass's images are recorded when
 * its last step is written, and the next pass starts at step 0). */
typedef struct {
    double t0, w0;             /* first sighting with progress: time, work */
    int seen;
    double frac;               /* largest fraction shown (never backwards) */
} watch_state;

static void fmt_duration(double s, char *buf, size_t len) {
    if (s < 0 || s > 1e7) snprintf(buf, len, "?");
    else if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* The running job's fraction done, rate and seconds left (-1: unknown).
 * Without pass_images (a daemon older than this admctl) only recorded
 * images count: the fraction stays honest, just coarse. */
static double progress_of(watch_state *w, const adm_spool_job *j, double now, double *frac, char *rate, size_t len) {
    double T = j->total_steps, count = j->req.count;
    double work = j->images_done * T + (j->pass_images > 0 ? (double)j->pass_images * j->step : 0);
    *frac = count > 0 && T > 0 ? work / (count * T) : 0;
    if (*frac < w->frac) *frac = w->frac;
    w->frac = *frac;
    snprintf(rate, len, "-");
    if (T <= 0) return -1;
    if (!w->seen) { w->seen = 1; w->t0 = now; w->w0 = work; return -1; }
    double el = now - w->t0, done = work - w->w0;
    if (el <= 0 || done <= 0) return -1;
    double per_s = done / el;                                  /* image-steps per second */
    if (per_s / T >= 0.1) snprintf(rate, len, "%.2f img/s", per_s / T);
    else snprintf(rate, len, "%.2f steps/s", j->pass_images > 0 ? per_s / j->pass_images : per_s);
    return (count * T - work) / per_s;
}

int cmd_watch(int argc, char **argv) {
    const char *db = NULL, *job = NULL, *interval = "0.5";
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--interval", &interval)) continue;
        if (argv[i][0] != '-' && !job) { job = argv[i]; continue; }
        usage(stderr);
        admctl_fail("watch: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    int64_t id;
    if (!job) { usage(stderr); admctl_fail("watch: which job?"); return ADMCTL_USAGE; }
    if (admctl_parse_job_id(job, &id) != 0) { admctl_fail("%s", adm_last_error()); return ADMCTL_USAGE; }
    char *end;
    double every = strtod(interval, &end);
    if (*end || end == interval || !(every >= 0.05 && every <= 3600)) {
        admctl_fail("--interval '%s': expected seconds between 0.05 and 3600", interval);
        return ADMCTL_USAGE;
    }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;

    int tty = isatty(STDOUT_FILENO);
    watch_state w;
    memset(&w, 0, sizeof w);
    char last[512] = "";
    double last_print = 0;
    adm_spool_job j;
    int rc;
    for (;;) {
        if (adm_spool_job_get(s, id, &j) != 0) {
            if (tty) printf("\n");
            rc = admctl_fail("%s", adm_last_error());
            break;
        }
        double now = adm_now();
        char line[512], rate[64] = "-", left[32] = "?";
        if (admctl_job_ended(&j)) {
            if (tty) printf("\r\033[K");
            printf("job %lld %s: %d/%d images", (long long)id, j.state, j.images_done, j.req.count);
            if (w.t0 > 0) { fmt_duration(now - w.t0, left, sizeof left); printf(" (watched %s)", left); }
            printf("\n");
            rc = strcmp(j.state, "done") == 0 ? ADMCTL_OK : admctl_fail("job %lld %s%s%s", (long long)id, j.state,
                                                                         j.error[0] ? ": " : "", j.error);
            break;
        }
        int columns = tty ? admctl_term_columns(STDOUT_FILENO) : 0;
        if (!strcmp(j.state, "running") && j.total_steps == 0) {
            snprintf(line, sizeof line, "job %lld running: starting (model load, kernel build), image %d/%d", (long long)id,
                     j.images_done, j.req.count);
        } else if (!strcmp(j.state, "running")) {
            double frac;
            fmt_duration(progress_of(&w, &j, now, &frac, rate, sizeof rate), left, sizeof left);
            char pass[32] = "";
            if (j.pass_images > 0) snprintf(pass, sizeof pass, "+%d", j.pass_images);
            if (tty) {
                char prefix[32], suffix[160];
                snprintf(prefix, sizeof prefix, "job %lld", (long long)id);
                snprintf(suffix, sizeof suffix, "step %d/%d img %d%s/%d %s ETA %s", j.step, j.total_steps,
                         j.images_done, pass, j.req.count, rate, left);
                admctl_progress_format(line, sizeof line, columns, prefix, frac, suffix);
            } else {
                snprintf(line, sizeof line, "job %lld running: %d%%, step %d/%d, images %d done%s%s%s of %d, %s, ETA %s",
                         (long long)id, (int)(frac * 100), j.step, j.total_steps, j.images_done,
                         pass[0] ? ", " : "", pass[0] ? pass + 1 : "", pass[0] ? " in this pass" : "", j.req.count, rate, left);
            }
        } else {
            snprintf(line, sizeof line, "job %lld %s: queue position %d", (long long)id, j.state, j.position);
        }
        if (tty && (int)strlen(line) > columns - 1) line[columns > 1 ? columns - 1 : 1] = 0;
        if (tty) {
            printf("\r\033[K%s", line);
            fflush(stdout);
        } else if (strcmp(line, last) != 0 && (now - last_print >= 5 || strncmp(line, last, 20) != 0)) {
            /* a pipe gets a line per change, at most one each 5 s unless the state changed */
            printf("%s\n", line);
            fflush(stdout);
            snprintf(last, sizeof last, "%s", line);
            last_print = now;
        }
        admctl_sleep(every);
    }
    adm_spool_close(s);
    return rc;
}
