/* cmd_prune.c — `admctl prune`: remove ended jobs, their rows and their
 * PNG files together, so that a spool that runs for months does not fill
 * its disk.
 *
 * Order of operations (crash-safe; schema/006_ops.sql, spool_admin.c):
 *   0. paths left in prune_pending by an earlier prune that died are
 *      unlinked first;
 *   1. per chunk of jobs, one transaction deletes the job rows (outputs and
 *      provenance follow by trigger) and records the output paths in
 *      prune_pending;
 *   2. the files are unlinked, then their paths forgotten (one transaction
 *      per 256 files); emptied job folders are removed.
 * Killed anywhere, the spool never names a file that is gone, and every
 * file whose row is gone is still named in prune_pending until a later
 * prune (or `admctl prune --resume`) removes it. */
#include "admctl.h"
#include "admctl_ids.h"
#include "admctl_spool.h"
#include "util.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRUNE_CHUNK 256    /* jobs per delete transaction, files per forget transaction */

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl prune [JOBS...] [--older-than AGE] [--state LIST] [--keep-last N]\n"
        "                    [--all] [--keep-files] [--dry-run] [--vacuum] [--db PATH]\n"
        "       admctl prune --resume [--db PATH]\n"
        "\n"
        "Delete ended jobs (done, failed, cancelled, dead) with their outputs,\n"
        "provenance and PNG files.  Queued and running jobs are never pruned.  Every\n"
        "condition given must hold; at least one is needed (--all: every ended job).\n"
        "  JOBS            only these jobs: 3, 3,5 or 5-9\n"
        "  --older-than AGE  ended more than AGE ago: 90d, 12h, 30m, 45s or 2w\n"
        "  --state LIST    only jobs in these ended states (comma list; default all four)\n"
        "  --keep-last N   keep the newest N jobs of those states whatever their age\n"
        "  --all           every ended job (with no other condition)\n"
        "  --keep-files    delete the rows only; the PNG files stay where they are (admd\n"
        "                  never touches them: its start-up clean-up looks only at files of\n"
        "                  jobs the spool still has, and job ids are never reused)\n"
        "  --dry-run       list what would go, change nothing\n"
        "  --vacuum        VACUUM the database afterwards (returns the space to the disk)\n"
        "  --resume        only finish the file removals of a prune that was interrupted\n"
        ADMCTL_DB_HELP
        "The newest job of the spool is never pruned: it keeps job ids from being reused.\n"
        "A prune that is killed leaves no row pointing at a missing file; the files\n"
        "whose rows it already deleted are listed in the table prune_pending and\n"
        "removed by the next prune.\n");
}

/* "90d", "12h", "30m", "45s", "2w" into seconds; -1 when malformed. */
static double parse_age(const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 1e6) return -1;
    double unit = 0;
    if (!strcmp(end, "s")) unit = 1;
    else if (!strcmp(end, "m")) unit = 60;
    else if (!strcmp(end, "h")) unit = 3600;
    else if (!strcmp(end, "d")) unit = 86400;
    else if (!strcmp(end, "w")) unit = 7 * 86400;
    return unit > 0 ? v * unit : -1;
}

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* Unlink every path in prune_pending and forget it.  Only PNG files (or
 * links) are unlinked; another kind of path is reported and forgotten.  A
 * path whose unlink fails (other than "already gone") stays pending and
 * makes the result -1. */
static int drain_pending(adm_spool *s, int64_t *removed, int64_t *bytes) {
    for (;;) {
        char (*paths)[ADM_SPOOL_PATH] = NULL;
        int n = 0, handled = 0, failed = 0;
        if (adm_spool_pending_list(s, PRUNE_CHUNK, &paths, &n) != 0) return -1;
        if (n == 0) { free(paths); return 0; }
        for (int k = 0; k < n; k++) {
            const char *p = paths[k];
            struct stat st;
            int keep = 0;
            if (lstat(p, &st) != 0) {
                if (errno != ENOENT) {
                    fprintf(stderr, "admctl: prune: %s: %s (left in prune_pending)\n", p, strerror(errno));
                    keep = 1;
                }
            } else if (!ends_with(p, ".png") || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
                fprintf(stderr, "admctl: prune: %s: not a PNG file; left in place\n", p);
            } else if (unlink(p) != 0 && errno != ENOENT) {
                fprintf(stderr, "admctl: prune: cannot remove %s: %s (left in prune_pending)\n", p, strerror(errno));
                keep = 1;
            } else {
                (*removed)++;
                *bytes += st.st_size;
                char dir[ADM_SPOOL_PATH];
                snprintf(dir, sizeof dir, "%s", p);
                rmdir(dirname(dir));   /* the job's folder, once empty; fails harmlessly otherwise */
            }
            if (keep) failed++;
            else if (handled != k) memcpy(paths[handled++], p, ADM_SPOOL_PATH);
            else handled++;
        }
        int rc = adm_spool_pending_forget(s, paths, handled);
        free(paths);
        if (rc != 0) return -1;
        if (failed) return adm_error("%d file(s) could not be removed (still listed in prune_pending)", failed);
    }
}

static int by_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* What --dry-run prints for one job. */
static int dry_run_line(adm_spool *s, int64_t id, int64_t *images) {
    adm_spool_job j;
    if (adm_spool_job_get(s, id, &j) != 0) return -1;
    printf("would prune job %lld (%s, ended %s, %d image%s)\n", (long long)id, j.state,
           j.finished_at[0] ? j.finished_at : j.updated_at[0] ? j.updated_at : j.created_at, j.images_done,
           j.images_done == 1 ? "" : "s");
    *images += j.images_done;
    return 0;
}

int cmd_prune(int argc, char **argv) {
    const char *db = NULL, *older = NULL, *states = NULL, *keep_s = NULL;
    int all = 0, keep_files = 0, dry = 0, vacuum = 0, resume = 0;
    admctl_ids only = {0};
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--older-than", &older) ||
            admctl_opt(argc, argv, &i, "--state", &states) || admctl_opt(argc, argv, &i, "--keep-last", &keep_s) ||
            admctl_flag(argv, i, "--all", &all) || admctl_flag(argv, i, "--keep-files", &keep_files) ||
            admctl_flag(argv, i, "--dry-run", &dry) || admctl_flag(argv, i, "--vacuum", &vacuum) ||
            admctl_flag(argv, i, "--resume", &resume))
            continue;
        if (argv[i][0] == '-' || admctl_ids_parse(&only, argv[i]) != 0) {
            usage(stderr);
            admctl_fail("prune: %s '%s'", argv[i][0] == '-' ? "unknown option" : adm_last_error(), argv[i]);
            admctl_ids_free(&only);
            return ADMCTL_USAGE;
        }
    }
    adm_spool_prune_filter f = {states, -1, -1};
    int usage_rc = 0;
    if (older && (f.older_than_s = parse_age(older)) < 0)
        usage_rc = admctl_fail("prune: --older-than '%s': expected a number and a unit (90d, 12h, 30m, 45s, 2w)", older);
    if (keep_s) {
        char *end;
        long v = strtol(keep_s, &end, 10);
        if (end == keep_s || *end || v < 0 || v > 100000000) usage_rc = admctl_fail("prune: --keep-last '%s': expected a count", keep_s);
        f.keep_last = (int)v;
    }
    int criteria = only.n > 0 || older || states || keep_s;
    if (!usage_rc && resume && (criteria || all || dry || keep_files))
        usage_rc = admctl_fail("prune: --resume takes no other condition");
    if (!usage_rc && !resume && !criteria && !all)
        usage_rc = admctl_fail("prune: say what to prune (JOBS, --older-than, --state, --keep-last, or --all)");
    if (!usage_rc && all && criteria) usage_rc = admctl_fail("prune: --all goes alone (it means every ended job)");
    if (usage_rc) { admctl_ids_free(&only); usage(stderr); return ADMCTL_USAGE; }

    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&only); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    int64_t *sel = NULL, pending = 0, removed = 0, bytes = 0, images = 0;
    int n_sel = 0, n_jobs = 0;

    if (adm_spool_pending_count(s, &pending) != 0) { rc = admctl_fail("%s", adm_last_error()); goto out; }
    if (pending && dry) printf("%lld file(s) of an interrupted prune are waiting to be removed\n", (long long)pending);
    if (pending && !dry) {
        fprintf(stderr, "admctl: prune: finishing an interrupted prune: %lld file(s)\n", (long long)pending);
        if (drain_pending(s, &removed, &bytes) != 0) { rc = admctl_fail("prune: %s", adm_last_error()); goto out; }
    }
    if (resume) goto summary;

    if (adm_spool_prune_select(s, &f, &sel, &n_sel) != 0) { rc = admctl_fail("prune: %s", adm_last_error()); goto out; }
    if (only.n > 0) {
        /* JOBS: keep the selected ones among them; say why the others stay */
        int m = 0;
        for (int k = 0; k < only.n; k++) {
            if (n_sel && bsearch(&only.v[k], sel, (size_t)n_sel, sizeof *sel, by_id)) { only.v[m++] = only.v[k]; continue; }
            adm_spool_job j;
            if (adm_spool_job_get(s, only.v[k], &j) != 0) rc = admctl_fail("prune: %s", adm_last_error());
            else if (!admctl_job_ended(&j))
                rc = admctl_fail("prune: job %lld is %s: only ended jobs are pruned (cancel it first)",
                                 (long long)j.id, j.state);
            else fprintf(stderr, "admctl: prune: job %lld kept: it does not match the conditions\n", (long long)j.id);
        }
        free(sel);
        sel = only.v;         /* ownership moves to sel */
        n_sel = m;
        only.v = NULL;
        only.n = only.cap = 0;
    }
    if (dry) {
        for (int k = 0; k < n_sel; k++)
            if (dry_run_line(s, sel[k], &images) != 0) { rc = admctl_fail("%s", adm_last_error()); goto out; }
        printf("dry run: would prune %d job%s with %lld image%s%s\n", n_sel, n_sel == 1 ? "" : "s", (long long)images,
               images == 1 ? "" : "s", keep_files ? " (files kept)" : "");
        goto out;
    }
    for (int k = 0; k < n_sel; k += PRUNE_CHUNK) {
        int chunk = n_sel - k < PRUNE_CHUNK ? n_sel - k : PRUNE_CHUNK, nj = 0, nf = 0;
        if (adm_spool_prune_jobs(s, sel + k, chunk, !keep_files, &nj, &nf) != 0) {
            rc = admctl_fail("prune: %s", adm_last_error());
            goto summary;
        }
        n_jobs += nj;
        if (!keep_files && drain_pending(s, &removed, &bytes) != 0) {
            rc = admctl_fail("prune: %s", adm_last_error());
            goto summary;
        }
    }
summary:
    printf("pruned %d job%s, removed %lld file%s (%.1f MB)%s\n", n_jobs, n_jobs == 1 ? "" : "s", (long long)removed,
           removed == 1 ? "" : "s", (double)bytes / 1e6, keep_files ? "; files kept" : "");
    if (rc == ADMCTL_OK && vacuum) {
        if (adm_spool_vacuum(s) != 0) rc = admctl_fail("prune: vacuum: %s", adm_last_error());
        else printf("vacuumed %s\n", adm_spool_path(s));
    }
out:
    free(sel);
    admctl_ids_free(&only);
    adm_spool_close(s);
    return rc;
}
