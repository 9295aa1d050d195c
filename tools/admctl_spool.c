/* admctl_spool.c — helpers shared by admctl's spool commands (see
 * admctl_spool.h): opening the spool, the embedded model, argument
 * parsing, job lines. */
#include "admctl_spool.h"
#include "admctl.h"
#include "util.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

adm_spool *admctl_spool_open(const char *db, int flags) {
    if (!db || !*db) db = getenv(ADMCTL_DB_ENV);
    if (!db || !*db) db = ADMCTL_DB_SYSTEM;
    if (!(flags & ADM_SPOOL_CREATE) && access(db, F_OK) != 0) {
        admctl_fail("%s: no spool there (create one with: admctl init --db %s)", db, db);
        return NULL;
    }
    adm_spool *s = NULL;
    if (adm_spool_open(db, flags, &s) != 0) {
        admctl_fail("%s", adm_last_error());
        return NULL;
    }
    return s;
}

/* ---- the embedded default model ---- */

static int is_dir_with_unet(const char *dir) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/unet.safetensors", dir);
    if (access(p, R_OK) == 0) return 1;
    snprintf(p, sizeof p, "%s/unet.pt", dir);
    return access(p, R_OK) == 0;
}

const char *admctl_default_model_dir(char *out, size_t len) {
    const char *env = getenv("ADMD_MODELS");
    if (env && *env) {
        snprintf(out, len, "%s/mnist", env);
        if (is_dir_with_unet(out)) return out;
        adm_error("ADMD_MODELS=%s: no mnist/unet.safetensors or mnist/unet.pt there", env);
        return NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        const char *rel[] = {"../models/mnist", "../share/admd/models/mnist"};
        for (int i = 0; i < 2; i++) {
            char cand[PATH_MAX + 64], abs[PATH_MAX];
            snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
            if (is_dir_with_unet(cand) && realpath(cand, abs) && strlen(abs) < len) {
                strcpy(out, abs);
                return out;
            }
        }
    }
    adm_error("the default model was not found next to admctl (../models/mnist or "
              "../share/admd/models/mnist); set ADMD_MODELS to the folder holding mnist/");
    return NULL;
}

/* dir/<base>.safetensors if present, else dir/<base>.pt; absolute. */
static int pick_file(const char *dir, const char *base, char *out, size_t len) {
    const char *ext[] = {"safetensors", "pt"};
    for (int i = 0; i < 2; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s.%s", dir, base, ext[i]);
        char abs[PATH_MAX];
        if (access(p, R_OK) == 0 && realpath(p, abs) && strlen(abs) < len) {
            strcpy(out, abs);
            return 0;
        }
    }
    return adm_error("%s: no %s.safetensors or %s.pt", dir, base, base);
}

int admctl_default_model(const char *dir, adm_spool_model *m) {
    char p[PATH_MAX], abs[PATH_MAX];
    adm_spool_model_init(m);
    snprintf(m->name, sizeof m->name, "mnist");
    if (pick_file(dir, "unet", m->unet_path, sizeof m->unet_path) != 0) return -1;
    if (pick_file(dir, "classifier", m->classifier_path, sizeof m->classifier_path) != 0) return -1;
    snprintf(p, sizeof p, "%s/unet.config.txt", dir);
    if (!realpath(p, abs)) return adm_error("%s: %s", p, strerror(errno));
    if (strlen(abs) >= sizeof m->unet_config) return adm_error("%s: path too long", abs);
    memcpy(m->unet_config, abs, strlen(abs) + 1);
    snprintf(p, sizeof p, "%s/classifier.config.txt", dir);
    if (!realpath(p, abs)) return adm_error("%s: %s", p, strerror(errno));
    if (strlen(abs) >= sizeof m->classifier_config) return adm_error("%s: path too long", abs);
    memcpy(m->classifier_config, abs, strlen(abs) + 1);
    /* DDPM with 25 respaced steps: the fewest network passes whose FID, sFID, precision,
     * recognition and clean background are within seed noise of DDPM 250 (README "Fast
     * samplers", docs/quality_passes.tsv); scale 1-4 gives clean digits */
    snprintf(m->default_sampler, sizeof m->default_sampler, "ddpm");
    snprintf(m->default_respacing, sizeof m->default_respacing, "25");
    m->default_scale = 2.0;
    return 0;
}

/* ---- arguments ---- */

static int parse_int(const char *s, long lo, long hi, long *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || errno || x < lo || x > hi) return -1;
    *v = x;
    return (int)(end - s);
}

int admctl_parse_classes(const char *spec, int *classes, int max) {
    if (!strcmp(spec, "random") || !strcmp(spec, "-1")) { classes[0] = -1; return 1; }
    int n = 0;
    const char *p = spec;
    while (*p) {
        long a, b;
        int k = parse_int(p, 0, 99999, &a);
        if (k <= 0) return adm_error("class list '%s': expected a class number at '%s'", spec, p);
        p += k;
        b = a;
        if (*p == '-') {
            p++;
            k = parse_int(p, 0, 99999, &b);
            if (k <= 0 || b < a) return adm_error("class list '%s': bad range", spec);
            p += k;
        }
        for (long c = a; c <= b; c++) {
            if (n >= max) return adm_error("class list '%s': more than %d classes", spec, max);
            classes[n++] = (int)c;
        }
        if (*p == ',') p++;
        else if (*p) return adm_error("class list '%s': unexpected '%c'", spec, *p);
    }
    if (n == 0) return adm_error("class list is empty");
    return n;
}

int admctl_parse_doubles(const char *spec, double *values, int max) {
    int n = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v)) return adm_error("number list '%s': expected a number at '%s'", spec, p);
        if (n >= max) return adm_error("number list '%s': more than %d values", spec, max);
        values[n++] = v;
        p = end;
        if (*p == ',') p++;
        else if (*p) return adm_error("number list '%s': unexpected '%c'", spec, *p);
    }
    if (n == 0) return adm_error("number list is empty");
    return n;
}

int admctl_parse_job_id(const char *s, int64_t *id) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v <= 0) return adm_error("'%s' is not a job id (a positive number)", s);
    *id = v;
    return 0;
}

/* ---- printing jobs ---- */

int admctl_job_ended(const adm_spool_job *j) {
    return !strcmp(j->state, "done") || !strcmp(j->state, "failed") || !strcmp(j->state, "cancelled") ||
           !strcmp(j->state, "dead");
}

void admctl_job_progress(const adm_spool_job *j, char *buf, size_t len) {
    if (!strcmp(j->state, "queued"))
        snprintf(buf, len, "queue position %d", j->position);
    else if (!strcmp(j->state, "running"))
        snprintf(buf, len, "step %d/%d, image %d/%d", j->step, j->total_steps, j->images_done, j->req.count);
    else if (j->error[0])
        snprintf(buf, len, "%d/%d images; %s", j->images_done, j->req.count, j->error);
    else
        snprintf(buf, len, "%d/%d images", j->images_done, j->req.count);
}

int admctl_job_columns(admctl_table *t) {
    static const struct { const char *name; int flags; } cols[] = {
        {"JOB", ADMCTL_COL_RIGHT}, {"STATE", 0}, {"MODEL", 0}, {"CLASS", ADMCTL_COL_RIGHT}, {"COUNT", ADMCTL_COL_RIGHT},
        {"SCALE", ADMCTL_COL_RIGHT}, {"SAMP", 0}, {"STEPS", 0}, {"SEED", 0}, {"PROGRESS", 0}};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        if (admctl_table_column(t, cols[k].name, cols[k].flags) != 0) return -1;
    return 0;
}

int admctl_job_row(admctl_table *t, const adm_spool_job *j) {
    char cls[16], seed[24], prog[ADM_SPOOL_TEXT + 64], steps[ADM_SPOOL_SPEC];
    if (j->req.klass < 0) snprintf(cls, sizeof cls, "rnd");
    else snprintf(cls, sizeof cls, "%d", j->req.klass);
    if (j->req.seed < 0) snprintf(seed, sizeof seed, "(daemon)");
    else snprintf(seed, sizeof seed, "%lld", (long long)j->req.seed);
    admctl_job_progress(j, prog, sizeof prog);
    /* ddpm/ddim: the respacing; the DPM-Solver samplers: their passes and spacing */
    if (j->req.steps > 0) snprintf(steps, sizeof steps, "%d %s", j->req.steps, j->req.skip);
    else snprintf(steps, sizeof steps, "%s", j->req.respacing);
    if (admctl_table_row(t) != 0) return -1;
    admctl_table_cell(t, 0, "%lld", (long long)j->id);
    admctl_table_cell(t, 1, "%s", j->state);
    admctl_table_cell(t, 2, "%s", j->req.model);
    admctl_table_cell(t, 3, "%s", cls);
    admctl_table_cell(t, 4, "%d", j->req.count);
    admctl_table_cell(t, 5, "%g", j->req.scale);
    admctl_table_cell(t, 6, "%s", j->req.sampler);
    admctl_table_cell(t, 7, "%s", steps);
    admctl_table_cell(t, 8, "%s", seed);
    return admctl_table_cell(t, 9, "%s", prog);
}

void admctl_cell_label(int klass, const char *name, double scale, char *buf, size_t len) {
    char sc[32];
    snprintf(sc, sizeof sc, "%.2f", scale);
    /* trim trailing zeros: 4.00 -> 4, 2.50 -> 2.5 */
    char *e = sc + strlen(sc) - 1;
    while (e > sc && *e == '0') *e-- = 0;
    if (*e == '.') *e = 0;
    /* the name in the sheet's ASCII font: a UTF-8 character becomes one '?' */
    char nm[ADMCTL_CELL_NAME + 1];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(name ? name : "");
    for (; *p && n < sizeof nm - 1; p++)
        if (*p < 0x80) nm[n++] = (char)*p;
        else if ((*p & 0xc0) != 0x80) nm[n++] = '?';
    while ((*p & 0xc0) == 0x80) p++;               /* the rest of a character */
    nm[n] = 0;
    if (*p) nm[n - 1] = '.';                       /* cut: say so */
    if (klass < 0) snprintf(buf, len, "rnd\ns=%s", sc);
    else if (n) snprintf(buf, len, "%d %s\ns=%s", klass, nm, sc);
    else snprintf(buf, len, "%d\ns=%s", klass, sc);
}

void admctl_sleep(double seconds) {
    if (seconds <= 0) return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}
