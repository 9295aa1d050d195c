/* cmd_list.c — `admctl list` (jobs, newest first) and `admctl status`
 * (counts per state, then the running jobs and the queue in order, with
 * position and progress; or one job).  The jobs are a libsmartcols table
 * (admctl_table.h): aligned, or --raw / --noheadings for scripts, or
 * --json. */
#include "admctl.h"
#include "admctl_json.h"
#include "admctl_spool.h"
#include "admctl_table.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static const char *states[6] = {"queued", "running", "done", "failed", "cancelled", "dead"};

static void list_usage(FILE *f) {
    fprintf(f,
        "usage: admctl list [--state S] [--limit N] [--json | --raw | --noheadings] [--db PATH]\n"
        "\n"
        "Jobs, newest first, with their progress.\n"
        "  --state S     only jobs in state S (queued running done failed cancelled dead)\n"
        "  --limit N     at most N jobs (default 50; 0: all)\n"
        "  --json        one JSON document on stdout: {\"spool\": PATH, \"jobs\": [...]}\n"
        ADMCTL_TABLE_HELP
        "                (\"no jobs\" then goes to stderr, stdout stays empty)\n"
        ADMCTL_DB_HELP);
}

static void status_usage(FILE *f) {
    fprintf(f,
        "usage: admctl status [JOB] [--json | --raw | --noheadings] [--db PATH]\n"
        "\n"
        "Without JOB: how many jobs are in each state, then the running jobs and the\n"
        "queue in the order the daemon will take it.  With JOB: that job's state.\n"
        "  --json        one JSON document on stdout: {\"spool\", \"counts\", \"running\",\n"
        "                \"queue\"} (with JOB: the job's object)\n"
        ADMCTL_TABLE_HELP
        "                (the counts, pauses and pool rates then go to stderr: stdout has\n"
        "                the rows only)\n"
        ADMCTL_DB_HELP);
}

/* The jobs table: a[0..na) then b[0..nb) (either may be empty). */
static int print_jobs(const admctl_table_opts *topt, const adm_spool_job *a, int na, const adm_spool_job *b, int nb) {
    admctl_table *t = admctl_table_new(stdout, topt);
    if (!t) return ADMCTL_FAIL;
    admctl_job_columns(t);
    for (int k = 0; k < na; k++) admctl_job_row(t, &a[k]);
    for (int k = 0; k < nb; k++) admctl_job_row(t, &b[k]);
    return admctl_table_print(t, 0);
}

int cmd_list(int argc, char **argv) {
    const char *db = NULL, *state = NULL, *limit = "50";
    int json = 0;
    admctl_table_opts topt = {0};
    if (admctl_wants_help(argc, argv)) { list_usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--state", &state) ||
            admctl_opt(argc, argv, &i, "--limit", &limit) || admctl_flag(argv, i, "--json", &json) ||
            admctl_table_flag(argv, i, &topt))
            continue;
        list_usage(stderr);
        admctl_fail("list: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (json && admctl_table_plain(&topt)) { admctl_fail("list: --json or a table option, not both"); return ADMCTL_USAGE; }
    if (state) {
        int ok = 0;
        for (int k = 0; k < 6; k++) ok |= !strcmp(state, states[k]);
        if (!ok) { admctl_fail("--state '%s': one of queued running done failed cancelled dead", state); return ADMCTL_USAGE; }
    }
    char *end;
    long lim = strtol(limit, &end, 10);
    if (*end || end == limit || lim < 0) { admctl_fail("--limit '%s': expected a number >= 0", limit); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    adm_spool_job *jobs = NULL;
    int n = 0, rc = ADMCTL_OK;
    if (adm_spool_job_list(s, state, (int)lim, &jobs, &n) != 0) rc = admctl_fail("%s", adm_last_error());
    else if (json) {
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        for (int k = 0; k < n; k++) json_object_array_add(arr, admctl_json_job(&jobs[k]));
        json_object_object_add(doc, "spool", admctl_json_text(adm_spool_path(s)));
        json_object_object_add(doc, "jobs", arr);
        rc = admctl_json_print(doc);
    } else if (n == 0) {
        fprintf(admctl_table_plain(&topt) ? stderr : stdout, "no jobs%s%s\n", state ? " in state " : "", state ? state : "");
    } else rc = print_jobs(&topt, jobs, n, NULL, 0);
    free(jobs);
    adm_spool_close(s);
    return rc;
}

static int by_position(const void *a, const void *b) {
    const adm_spool_job *x = a, *y = b;
    return (x->position > y->position) - (x->position < y->position);
}

int cmd_status(int argc, char **argv) {
    const char *db = NULL, *job = NULL;
    int json = 0;
    admctl_table_opts topt = {0};
    if (admctl_wants_help(argc, argv)) { status_usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--json", &json) ||
            admctl_table_flag(argv, i, &topt))
            continue;
        if (argv[i][0] != '-' && !job) { job = argv[i]; continue; }
        status_usage(stderr);
        admctl_fail("status: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (json && admctl_table_plain(&topt)) { admctl_fail("status: --json or a table option, not both"); return ADMCTL_USAGE; }
    int64_t id = 0;
    if (job && admctl_parse_job_id(job, &id) != 0) { admctl_fail("%s", adm_last_error()); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    int rc = ADMCTL_OK;
    if (job) {
        adm_spool_job j;
        if (adm_spool_job_get(s, id, &j) != 0) rc = admctl_fail("%s", adm_last_error());
        else if (json) rc = admctl_json_print(admctl_json_job(&j));
        else rc = print_jobs(&topt, &j, 1, NULL, 0);
        adm_spool_close(s);
        return rc;
    }
    int counts[6];
    if (adm_spool_counts(s, counts) != 0) { adm_spool_close(s); return admctl_fail("%s", adm_last_error()); }
    adm_spool_job *run = NULL, *queue = NULL;
    int nr = 0, nq = 0;
    if (!json) {
        FILE *prose = admctl_table_plain(&topt) ? stderr : stdout;   /* a script's stdout: rows only */
        fprintf(prose, "%s:", adm_spool_path(s));
        for (int k = 0; k < 6; k++) fprintf(prose, " %d %s%s", counts[k], states[k], k < 5 ? "," : "\n");
        adm_spool_pause_row *pauses;
        int np;
        if (adm_spool_pauses(s, &pauses, &np) != 0) rc = admctl_fail("%s", adm_last_error());
        for (int k = 0; rc == ADMCTL_OK && k < np; k++)
            fprintf(prose, "paused: worker %s since %s, retrying at %s: %s\n", pauses[k].worker, pauses[k].since,
                    pauses[k].retry_at[0] ? pauses[k].retry_at : "-", pauses[k].reason);
        if (rc == ADMCTL_OK) free(pauses);
        adm_spool_rate_row *rates;      /* admd --batch pools: their throughput */
        int nrates;
        if (rc == ADMCTL_OK && adm_spool_worker_rates(s, &rates, &nrates) != 0) rc = admctl_fail("%s", adm_last_error());
        for (int k = 0; rc == ADMCTL_OK && k < nrates; k++)
            fprintf(prose, "pool: worker %s, %.2f images/s (%lld images in %.1f s busy, %lld passes, batch %d)\n",
                    rates[k].worker, rates[k].seconds > 0 ? rates[k].images / rates[k].seconds : 0.0,
                    (long long)rates[k].images, rates[k].seconds, (long long)rates[k].passes, rates[k].pool);
        if (rc == ADMCTL_OK) free(rates);
    }
    if (adm_spool_job_list(s, "running", 0, &run, &nr) != 0 || adm_spool_job_list(s, "queued", 0, &queue, &nq) != 0)
        rc = admctl_fail("%s", adm_last_error());
    else if (json) {
        qsort(queue, (size_t)nq, sizeof *queue, by_position);
        json_object *doc = json_object_new_object(), *c = json_object_new_object();
        json_object *r = json_object_new_array(), *q = json_object_new_array();
        for (int k = 0; k < 6; k++) json_object_object_add(c, states[k], json_object_new_int(counts[k]));
        for (int k = 0; k < nr; k++) json_object_array_add(r, admctl_json_job(&run[k]));
        for (int k = 0; k < nq; k++) json_object_array_add(q, admctl_json_job(&queue[k]));
        json_object_object_add(doc, "spool", admctl_json_text(adm_spool_path(s)));
        json_object_object_add(doc, "counts", c);
        json_object_object_add(doc, "running", r);
        json_object_object_add(doc, "queue", q);
        rc = admctl_json_print(doc);
    } else if (nr + nq > 0) {
        qsort(queue, (size_t)nq, sizeof *queue, by_position);
        rc = print_jobs(&topt, run, nr, queue, nq);
    }
    free(run);
    free(queue);
    adm_spool_close(s);
    return rc;
}
