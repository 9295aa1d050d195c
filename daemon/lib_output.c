/* lib_output.c — write and record one finished image (see lib_output.h). */
#include "lib_output.h"
#include "generate.h"
#include "job_files.h"
#include "lib_notify.h"
#include "png_file.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int admd_transient_errno(int e) { return e == ENOSPC || e == EDQUOT || e == EINTR; }

/* Is image index of the job recorded (by us or another worker)? */
static int recorded(adm_spool *s, int64_t job_id, int index) {
    adm_spool_output *outs;
    int n, found = 0;
    if (adm_spool_outputs(s, job_id, &outs, &n) != 0) return 1;   /* unsure: keep the file */
    for (int i = 0; i < n; i++) if (outs[i].index == index) found = 1;
    free(outs);
    return found;
}

int admd_record_image(adm_spool *s, const char *root, const adm_spool_job *job, const adm_spool_provenance *p,
                      int index, int klass, const uint8_t *pixels, int h, int w, int ch, double seconds,
                      volatile sig_atomic_t *stop, int *transient) {
    double t0 = adm_now();
    *transient = 0;
    char path[ADM_SPOOL_PATH], tmp[ADM_SPOOL_PATH + 300];
    adm_spool_output o;
    memset(&o, 0, sizeof o);
    if (adm_job_output_path(root, job, index, path, sizeof path) != 0 ||
        adm_job_tmp_path(path, tmp, sizeof tmp) != 0) return -1;
    adm_job_texts tx;
    adm_job_png_texts(&tx, p, job->id, index, klass);
    size_t bytes = 0;
    if (adm_png_save(path, tmp, pixels, w, h, ch, tx.t, tx.n, o.sha256, &bytes) != 0) {
        *transient = admd_transient_errno(errno);
        return -1;
    }
    o.job_id = job->id;
    o.index = index;
    o.seed = job->req.seed;
    o.klass = klass;
    snprintf(o.noise_algorithm, sizeof o.noise_algorithm, "%s", ADM_NOISE_ALGORITHM);
    snprintf(o.path, sizeof o.path, "%s", path);
    o.bytes = (int64_t)bytes;
    o.seconds = seconds + (adm_now() - t0);
    int rc = adm_spool_record_output(s, &o);
    /* Someone holds the write lock longer than the busy timeout (an open
     * transaction in a sqlite3 shell): keep trying for a while. */
    for (int tries = 0; rc < 0 && strstr(adm_last_error(), "locked") && tries < 12 && !*stop; tries++) {
        adm_log(ADM_LOG_WARNING, "job %lld image %d: spool busy, retrying: %s", (long long)job->id, index,
                adm_last_error());
        rc = adm_spool_record_output(s, &o);
    }
    if (rc == 0) {
        adm_log(ADM_LOG_DEBUG, "job %lld: image %d -> %s", (long long)job->id, index, path);
        return 0;
    }
    /* Not recorded: the file must not stay unless someone recorded it. */
    char why[1024];
    snprintf(why, sizeof why, "%s", adm_last_error());
    if (!recorded(s, job->id, index)) unlink(path);
    if (strstr(why, "disk is full")) *transient = 1;      /* SQLITE_FULL: the spool's disk */
    adm_error("%s", why);
    return rc == 1 ? 1 : -1;
}
