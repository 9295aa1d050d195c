/* cmd_metrics.c — `admctl metrics`: the spool's state in the Prometheus
 * text exposition format (version 0.0.4), for node_exporter's textfile
 * collector (systemd/admd-metrics.timer writes it once a minute) or any
 * scraper that runs a command.
 *
 *   admd_jobs{state}               jobs per state (gauge)
 *   admd_images                    images recorded and not pruned (gauge)
 *   admd_images_per_second         images recorded per second over the window
 *   admd_queue_age_seconds         age of the oldest queued job (0: empty queue)
 *   admd_device_busy_ratio         device time on jobs / window, summed over workers
 *   admd_prune_pending_files       files an interrupted prune has yet to remove
 *   admd_spool_bytes               size of the database file (+ its WAL)
 * With --out FILE the text goes to FILE.tmp, then is renamed over FILE, so
 * a collector never reads half a file. */
#include "admctl.h"
#include "admctl_spool.h"
#include "util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl metrics [--window S] [--out FILE] [--db PATH]\n"
        "\n"
        "Print the spool's metrics in Prometheus text format: jobs by state, images,\n"
        "images/s, the oldest queued job's age, the device busy fraction.\n"
        "  --window S    seconds the rates and the busy fraction cover (default 600)\n"
        "  --out FILE    write FILE atomically (FILE.tmp, then rename) instead of stdout;\n"
        "                for node_exporter's textfile collector (*.prom)\n"
        ADMCTL_DB_HELP);
}

static int64_t file_size(const char *path, const char *suffix) {
    char p[ADM_SPOOL_PATH + 8];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

static void write_metrics(FILE *f, const adm_spool_metrics *m, double window, int64_t bytes) {
    static const char *states[6] = {"queued", "running", "done", "failed", "cancelled", "dead"};
    fprintf(f, "# HELP admd_jobs Jobs in the spool by state.\n# TYPE admd_jobs gauge\n");
    for (int k = 0; k < 6; k++) fprintf(f, "admd_jobs{state=\"%s\"} %d\n", states[k], m->jobs[k]);
    fprintf(f, "# HELP admd_images Images recorded in the spool (pruned jobs no longer count).\n"
               "# TYPE admd_images gauge\nadmd_images %lld\n", (long long)m->images);
    fprintf(f, "# HELP admd_images_per_second Images recorded per second over the last window_seconds.\n"
               "# TYPE admd_images_per_second gauge\nadmd_images_per_second{window_seconds=\"%g\"} %.6g\n", window,
            (double)m->images_window / window);
    fprintf(f, "# HELP admd_queue_age_seconds Age of the oldest queued job (0 when the queue is empty).\n"
               "# TYPE admd_queue_age_seconds gauge\nadmd_queue_age_seconds %.3f\n", m->queue_age_s);
    fprintf(f, "# HELP admd_device_busy_ratio Time spent running jobs over the last window_seconds, "
               "divided by the window (summed over workers).\n"
               "# TYPE admd_device_busy_ratio gauge\nadmd_device_busy_ratio{window_seconds=\"%g\"} %.6f\n", window,
            m->busy_s / window);
    fprintf(f, "# HELP admd_prune_pending_files Files of an interrupted prune not yet removed.\n"
               "# TYPE admd_prune_pending_files gauge\nadmd_prune_pending_files %lld\n", (long long)m->prune_pending);
    fprintf(f, "# HELP admd_spool_bytes Size of the spool database with its write-ahead log.\n"
               "# TYPE admd_spool_bytes gauge\nadmd_spool_bytes %lld\n", (long long)bytes);
}

int cmd_metrics(int argc, char **argv) {
    const char *db = NULL, *window_s = "600", *out = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--window", &window_s) ||
            admctl_opt(argc, argv, &i, "--out", &out)) continue;
        usage(stderr);
        admctl_fail("metrics: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    char *end;
    double window = strtod(window_s, &end);
    if (*end || end == window_s || !(window >= 1 && window <= 365 * 86400.0)) {
        admctl_fail("metrics: --window '%s': expected seconds from 1 to 31536000", window_s);
        return ADMCTL_USAGE;
    }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    adm_spool_metrics m;
    int rc = adm_spool_metrics_get(s, window, &m);
    int64_t bytes = file_size(adm_spool_path(s), "") + file_size(adm_spool_path(s), "-wal");
    adm_spool_close(s);
    if (rc != 0) return admctl_fail("metrics: %s", adm_last_error());
    if (!out) { write_metrics(stdout, &m, window, bytes); return fflush(stdout) == 0 ? ADMCTL_OK : ADMCTL_FAIL; }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp) return admctl_fail("metrics: --out path too long");
    FILE *f = fopen(tmp, "w");
    if (!f) return admctl_fail("metrics: %s: %s", tmp, strerror(errno));
    write_metrics(f, &m, window, bytes);
    int werr = ferror(f);
    if (fclose(f) != 0 || werr) { unlink(tmp); return admctl_fail("metrics: %s: write failed", tmp); }
    if (rename(tmp, out) != 0) { int e = errno; unlink(tmp); return admctl_fail("metrics: %s: %s", out, strerror(e)); }
    return ADMCTL_OK;
}
