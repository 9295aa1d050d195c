/* cmd_watch.c — `admctl watch JOB`: follow a job until it ends.
 *
 * On a terminal: one line redrawn in place, never wider than the terminal
 * less one column (so it never wraps), with a bar of the true fraction
 * done — recorded images plus the running pass's images (jobs.pass_images)
 * times its step share — the step, images done (+ in the pass), the
 * measured rate and an ETA from the work still to do.  A two-stage job
 * (jobs.upsampler) names its stage, "stage 1/2" or "stage 2/2", and its
 * fraction spans both: image-steps of stage 1 (stage1_done images and the
 * running pass) then of stage 2, each stage's steps counted from its
 * respacing; the rate and ETA are the running stage's.  Otherwise
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
    double t0, w0;             /* first sighting with progress (of this stage): time, work */
    int seen;
    double frac;               /* largest fraction shown (never backwards) */
    int stage;                 /* the stage measured: 0 one-stage job, 1 or 2 */
    double first;              /* first sighting with progress at all */
} watch_state;

/* Where a job stands, in image-steps: work done, all the job's work, and
 * what the running stage still has to do. */
typedef struct {
    int stage;                 /* 0: a one-stage job; 1, 2: the stage running */
    int starting;              /* stage 2 before its first step (the upsampler loads) */
    double work, total, stage_left, steps;   /* steps: the running stage's per image */
} watch_work;

/* Network passes of a respacing spec as adm_space_timesteps counts them:
 * "25", "ddim25", "10,10,5" (their sum); 0 when it does not say (""). */
static int spec_steps(const char *spec) {
    if (!strncmp(spec, "ddim", 4)) spec += 4;
    int n = 0;
    while (*spec) {
        char *end;
        long v = strtol(spec, &end, 10);
        if (end == spec || v < 0 || v > 100000) return 0;
        n += (int)v;
        spec = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return n;
}

/* The steps a sampler setting takes per image: dpm samplers their passes,
 * ddpm/ddim their respacing's; 0 unknown. */
static int sampler_steps(const char *sampler, int steps, const char *respacing) {
    if (!strncmp(sampler, "dpm", 3)) return steps;
    return spec_steps(respacing);
}

static void work_of(const adm_spool_job *j, const adm_spool_stages *st, watch_work *o) {
    memset(o, 0, sizeof *o);
    double T = j->total_steps, count = j->req.count;
    double pass = j->pass_images > 0 ? (double)j->pass_images * j->step : 0;
    o->steps = T;
    if (!st || !st->upsampler[0]) {                       /* one stage */
        o->work = j->images_done * T + pass;
        o->total = count * T;
        o->stage_left = o->total - o->work;
        return;
    }
    double T1 = sampler_steps(j->req.sampler, j->req.steps, j->req.respacing);
    double T2 = sampler_steps(st->up_sampler, st->up_steps, st->up_respacing);
    if (st->stage1_done < j->req.count) {                  /* stage 1: its heartbeats say its steps */
        o->stage = 1;
        if (T > 0) T1 = T;
        if (T2 <= 0) T2 = T1;                              /* unknown: count it as long as stage 1 */
        o->work = st->stage1_done * T1 + pass;
        o->stage_left = count * T1 - o->work;
    } else {
        o->stage = 2;
        /* until stage 2's first heartbeat the row still holds stage 1's last step */
        o->starting = j->pass_images <= 0 && j->images_done == 0;
        if (T > 0 && !o->starting) T2 = T;
        if (T1 <= 0) T1 = T2;
        o->work = count * T1 + j->images_done * T2 + (o->starting ? 0 : pass);
        o->stage_left = count * T2 - (o->work - count * T1);
        o->steps = T2;
    }
    o->total = count * (T1 + T2);
}

static void fmt_duration(double s, char *buf, size_t len) {
    if (s < 0 || s > 1e7) snprintf(buf, len, "?");
    else if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* The running job's fraction done, rate and seconds left in the running
 * stage (-1: unknown).  Without pass_images (a daemon older than this
 * admctl, or stage 1, whose passes it does not record) only recorded
 * images count: the fraction stays honest, just coarse. */
static double progress_of(watch_state *w, const watch_work *k, const adm_spool_job *j, double now, double *frac,
                          char *rate, size_t len) {
    double T = k->steps;
    *frac = k->total > 0 ? k->work / k->total : 0;
    if (*frac < w->frac) *frac = w->frac;
    w->frac = *frac;
    snprintf(rate, len, "-");
    if (T <= 0 || k->starting) return -1;
    if (w->stage != k->stage) { w->stage = k->stage; w->seen = 0; }   /* a new stage: its own rate */
    if (!w->seen) { w->seen = 1; w->t0 = now; w->w0 = k->work; if (w->first == 0) w->first = now; return -1; }
    double el = now - w->t0, done = k->work - w->w0;
    if (el <= 0 || done <= 0) return -1;
    double per_s = done / el;                                  /* image-steps per second */
    if (per_s / T >= 0.1) snprintf(rate, len, "%.2f img/s", per_s / T);
    else snprintf(rate, len, "%.2f steps/s", j->pass_images > 0 ? per_s / j->pass_images : per_s);
    return k->stage_left / per_s;
}

/* The line of a running job (tty: the bar, cut to columns; else prose).
 * Returns the stage: 0 one-stage job, 1, 2, or 3 while stage 2 starts. */
static int running_line(watch_state *w, const adm_spool_job *j, const adm_spool_stages *st, double now, int tty,
                         int columns, char *line, size_t len) {
    watch_work k;
    work_of(j, st, &k);
    double frac;
    char rate[64], left[32], stage[32] = "", pass[32] = "";
    fmt_duration(progress_of(w, &k, j, now, &frac, rate, sizeof rate), left, sizeof left);
    if (k.stage == 1) strcat(left, tty ? "+stage 2" : " + stage 2");   /* the rate is stage 1's */
    if (k.stage) snprintf(stage, sizeof stage, "stage %d/2%s", k.stage, tty ? " " : ", ");
    if (j->pass_images > 0 && !k.starting) snprintf(pass, sizeof pass, "+%d", j->pass_images);
    long long id = (long long)j->id;
    int images = k.stage == 1 ? st->stage1_done : j->images_done;    /* stage 1 counts its own images */
    if (k.starting) {
        snprintf(line, len, "job %lld running: stage 2/2 starting (upsampler load), %d%%, image %d/%d", id,
                 (int)(frac * 100), j->images_done, j->req.count);
    } else if (tty) {
        char prefix[32], suffix[200];
        snprintf(prefix, sizeof prefix, "job %lld", id);
        snprintf(suffix, sizeof suffix, "%sstep %d/%d img %d%s/%d %s ETA %s", stage, j->step, j->total_steps, images, pass,
                 j->req.count, rate, left);
        admctl_progress_format(line, len, columns, prefix, frac, suffix);
    } else {
        snprintf(line, len, "job %lld running: %s%d%%, step %d/%d, %simages %d done%s%s%s of %d, %s, ETA %s", id, stage,
                 (int)(frac * 100), j->step, j->total_steps, k.stage == 1 ? "stage-1 " : "", images, pass[0] ? ", " : "",
                 pass[0] ? pass + 1 : "", pass[0] ? " in this pass" : "", j->req.count, rate, left);
    }
    return k.starting ? 3 : k.stage;
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
    int stage = 0, last_stage = 0;          /* of a two-stage job: a new stage is news on a pipe */
    adm_spool_job j;
    int rc;
    for (;;) {
        if (adm_spool_job_get(s, id, &j) != 0) {
            if (tty) printf("\n");
            rc = admctl_fail("%s", adm_last_error());
            break;
        }
        double now = adm_now();
        char line[512], left[32] = "?";
        if (admctl_job_ended(&j)) {
            if (tty) printf("\r\033[K");
            printf("job %lld %s: %d/%d images", (long long)id, j.state, j.images_done, j.req.count);
            if (w.first > 0) { fmt_duration(now - w.first, left, sizeof left); printf(" (watched %s)", left); }
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
            adm_spool_stages st;
            if (adm_spool_stages_get(s, id, &st) != 0) {
                if (tty) printf("\n");
                rc = admctl_fail("%s", adm_last_error());
                break;
            }
            stage = running_line(&w, &j, &st, now, tty, columns, line, sizeof line);
        } else {
            snprintf(line, sizeof line, "job %lld %s: queue position %d", (long long)id, j.state, j.position);
        }
        if (tty && (int)strlen(line) > columns - 1) line[columns > 1 ? columns - 1 : 1] = 0;
        if (tty) {
            printf("\r\033[K%s", line);
            fflush(stdout);
        } else if (strcmp(line, last) != 0 &&
                   (now - last_print >= 5 || strncmp(line, last, 20) != 0 || stage != last_stage)) {
            /* a pipe gets a line per change, at most one each 5 s unless the state or stage changed */
            printf("%s\n", line);
            fflush(stdout);
            snprintf(last, sizeof last, "%s", line);
            last_print = now;
            last_stage = stage;
        }
        admctl_sleep(every);
    }
    adm_spool_close(s);
    return rc;
}
