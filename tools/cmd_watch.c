/* cmd_watch.c — `admctl watch JOB`: follow a job until it ends.
 *
 * On a terminal: one line redrawn in place, a progress bar with the
 * denoising step, images done, the measured rate and an ETA.  Otherwise
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

/* What we have seen of the job, to measure rates. */
typedef struct {
    double t0;                 /* when it was first seen running */
    int images0;               /* images done then */
    double step_t;             /* time of the last step change */
    int last_step, last_total, last_images;
    double steps_per_s;        /* smoothed */
    int steps_seen;
    double frac;               /* largest progress fraction shown */
} watch_state;

static void fmt_duration(double s, char *buf, size_t len) {
    if (s < 0 || s > 1e7) snprintf(buf, len, "?");
    else if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* Update rates from a new observation of a running job. */
static void observe(watch_state *w, const adm_spool_job *j, double now) {
    if (w->t0 == 0) {
        w->t0 = now; w->images0 = j->images_done; w->step_t = now;
        w->last_step = j->step; w->last_total = j->total_steps; w->last_images = j->images_done;
        return;
    }
    if (j->step != w->last_step) {
        int d = j->step - w->last_step;
        if (d < 0) d = j->step + (w->last_total - w->last_step);   /* a new device pass began */
        double dt = now - w->step_t;
        if (d > 0 && dt > 0) {
            double r = d / dt;
            w->steps_per_s = w->steps_seen ? 0.7 * w->steps_per_s + 0.3 * r : r;
            w->steps_seen++;
        }
        w->step_t = now;
        w->last_step = j->step;
        w->last_total = j->total_steps;
    }
    w->last_images = j->images_done;
}

/* Seconds left: from images once some were finished while we watched,
 * else from the step rate for the current pass. */
static double eta(const watch_state *w, const adm_spool_job *j, double now, char *rate, size_t len) {
    int done = j->images_done - w->images0;
    double el = now - w->t0;
    if (done > 0 && el > 0) {
        double ips = done / el;
        snprintf(rate, len, "%.2f img/s", ips);
        double left = (j->req.count - j->images_done) / ips;
        /* the images of the current pass finish together: do not go below the pass's own remainder */
        if (w->steps_per_s > 0 && j->total_steps > 0) {
            double pass = (j->total_steps - j->step) / w->steps_per_s;
            if (pass > left) left = pass;
        }
        return left;
    }
    if (w->steps_per_s > 0) {
        snprintf(rate, len, "%.2f steps/s", w->steps_per_s);
        return (j->total_steps - j->step) / w->steps_per_s;
    }
    snprintf(rate, len, "-");
    return -1;
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
        if (!strcmp(j.state, "running") && j.total_steps == 0) {
            snprintf(line, sizeof line, "job %lld running: starting (model load, kernel build), image %d/%d", (long long)id,
                     j.images_done, j.req.count);
        } else if (!strcmp(j.state, "running")) {
            observe(&w, &j, now);
            fmt_duration(eta(&w, &j, now, rate, sizeof rate), left, sizeof left);
            /* overall fraction: finished images plus the current pass's share, taking the
             * pass to hold the remaining images (the bar never moves backwards) */
            double frac = 0;
            if (j.req.count > 0) {
                frac = (double)j.images_done / j.req.count;
                if (j.total_steps > 0)
                    frac += (double)j.step / j.total_steps * (j.req.count - j.images_done) / j.req.count;
            }
            if (frac < w.frac) frac = w.frac;
            w.frac = frac;
            if (frac > 1) frac = 1;
            char bar[31];
            int fill = (int)(frac * 30 + 0.5);
            for (int k = 0; k < 30; k++) bar[k] = k < fill ? '#' : '.';
            bar[30] = 0;
            if (tty)
                snprintf(line, sizeof line, "job %lld [%s] step %d/%d  image %d/%d  %s  ETA %s", (long long)id, bar,
                         j.step, j.total_steps, j.images_done, j.req.count, rate, left);
            else
                snprintf(line, sizeof line, "job %lld running: step %d/%d, image %d/%d, %s, ETA %s", (long long)id,
                         j.step, j.total_steps, j.images_done, j.req.count, rate, left);
        } else {
            snprintf(line, sizeof line, "job %lld %s: queue position %d", (long long)id, j.state, j.position);
        }
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
