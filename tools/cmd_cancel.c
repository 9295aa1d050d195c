/* cmd_cancel.c — the two state changes people make to jobs:
 *   `admctl cancel JOBS`  queued or running -> cancelled (a running job
 *                         stops at its next denoising step)
 *   `admctl retry JOBS`   failed or dead (or cancelled) -> queued again,
 *                         attempts reset; images already recorded are kept
 * JOBS is an id list (admctl_ids.h): "3", "3,5", "5-9", --state S. */
#include "admctl.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void cancel_usage(FILE *f) {
    fprintf(f,
        "usage: admctl cancel JOBS... [--state S] [--db PATH]\n"
        "\n"
        "Cancel queued or running jobs; a running job stops at its next step and keeps\n"
        "the images it finished.  Fails (status 1) for a job that had already ended.\n"
        "  JOBS          job ids: 3, 3,5 or 5-9 (several arguments allowed)\n"
        "  --state S     also every job in state S (queued or running)\n"
        ADMCTL_DB_HELP);
}

static void retry_usage(FILE *f) {
    fprintf(f,
        "usage: admctl retry JOBS... [--state S] [--db PATH]\n"
        "\n"
        "Put failed, dead or cancelled jobs back in the queue: attempts start again\n"
        "from 0, the error is cleared, images already recorded are kept and not redone.\n"
        "Fails (status 1) for a job that is queued, running or done.\n"
        "  JOBS          job ids: 3, 3,5 or 5-9 (several arguments allowed)\n"
        "  --state S     also every job in state S (e.g. --state failed)\n"
        ADMCTL_DB_HELP);
}

/* Parse JOBS/--state/--db, then change every job with fn; verb for messages. */
static int change_jobs(int argc, char **argv, void (*usage)(FILE *), int (*fn)(adm_spool *, int64_t),
                       const char *verb, const char *done) {
    const char *db = NULL;
    const char *states[8];
    int n_states = 0;
    admctl_ids ids = {0};
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        const char *st;
        if (admctl_opt(argc, argv, &i, "--db", &db)) continue;
        if (admctl_opt(argc, argv, &i, "--state", &st)) {
            if (n_states == 8) { admctl_ids_free(&ids); admctl_fail("%s: too many --state options", verb); return ADMCTL_USAGE; }
            states[n_states++] = st;
            continue;
        }
        if (argv[i][0] == '-' || admctl_ids_parse(&ids, argv[i]) != 0) {
            usage(stderr);
            admctl_fail("%s: %s", verb, argv[i][0] == '-' ? "unknown option" : adm_last_error());
            admctl_ids_free(&ids);
            return ADMCTL_USAGE;
        }
    }
    if (ids.n == 0 && n_states == 0) { usage(stderr); admctl_fail("%s: which jobs?", verb); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&ids); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    for (int k = 0; k < n_states; k++)
        if (admctl_ids_add_state(&ids, s, states[k]) != 0) {
            rc = admctl_fail("%s: %s", verb, adm_last_error());
            goto out;
        }
    if (ids.n == 0) fprintf(stderr, "admctl: %s: no jobs in that state\n", verb);
    for (int k = 0; k < ids.n; k++) {
        if (fn(s, ids.v[k]) == 0) printf("%s job %lld\n", done, (long long)ids.v[k]);
        else rc = admctl_fail("job %lld: %s", (long long)ids.v[k], adm_last_error());
    }
out:
    admctl_ids_free(&ids);
    adm_spool_close(s);
    return rc;
}

int cmd_cancel(int argc, char **argv) {
    return change_jobs(argc, argv, cancel_usage, adm_spool_cancel, "cancel", "cancelled");
}

int cmd_retry(int argc, char **argv) {
    return change_jobs(argc, argv, retry_usage, adm_spool_requeue, "retry", "requeued");
}
