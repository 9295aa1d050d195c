/* cmd_cancel.c — `admctl cancel JOB...`: cancel queued or running jobs
 * (a running job stops at its next denoising step). */
#include "admctl.h"
#include "admctl_spool.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl cancel JOB... [--db PATH]\n"
        "\n"
        "Cancel queued or running jobs; a running job stops at its next step and keeps\n"
        "the images it finished.  Fails (status 1) for a job that had already ended.\n"
        ADMCTL_DB_HELP);
}

int cmd_cancel(int argc, char **argv) {
    const char *db = NULL;
    int64_t ids[256];
    int n = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db)) continue;
        if (argv[i][0] == '-' || n == 256 || admctl_parse_job_id(argv[i], &ids[n]) != 0) {
            usage(stderr);
            admctl_fail("cancel: %s", argv[i][0] == '-' ? "unknown option" : n == 256 ? "too many jobs at once" : adm_last_error());
            return ADMCTL_USAGE;
        }
        n++;
    }
    if (n == 0) { usage(stderr); admctl_fail("cancel: which job?"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    int rc = ADMCTL_OK;
    for (int k = 0; k < n; k++) {
        if (adm_spool_cancel(s, ids[k]) == 0) printf("cancelled job %lld\n", (long long)ids[k]);
        else rc = admctl_fail("job %lld: %s", (long long)ids[k], adm_last_error());
    }
    adm_spool_close(s);
    return rc;
}
