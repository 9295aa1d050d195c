/* lib_heartbeat.c — the lease-renewing thread of admd's pool (see
 * lib_heartbeat.h). */
#include "lib_heartbeat.h"
#include "lib_notify.h"
#include "spool.h"
#include "util.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_JOBS 4096          /* admd --batch's bound: one job per image at most */

struct admd_heartbeat {
    adm_spool *spool;          /* the thread's own connection */
    double every_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int n;
    int64_t ids[MAX_JOBS];
    unsigned char lost[MAX_JOBS];
    long rounds, failures;
    int64_t copy[MAX_JOBS];    /* the thread's copy of ids for a round */
    int copy_lost[MAX_JOBS];
};

static int find(const admd_heartbeat *h, int64_t id) {
    for (int i = 0; i < h->n; i++) if (h->ids[i] == id) return i;
    return -1;
}

/* One round: renew a copy of the ids outside the lock (the pool may add
 * and remove meanwhile; a result for a removed id is dropped). */
static void renew_round(admd_heartbeat *h) {
    int64_t *ids = h->copy;
    int *lost = h->copy_lost;
    pthread_mutex_lock(&h->mu);
    int n = h->n;
    memcpy(ids, h->ids, sizeof ids[0] * (size_t)n);
    pthread_mutex_unlock(&h->mu);
    if (n == 0) return;
    int rc = adm_spool_renew(h->spool, ids, n, lost);
    pthread_mutex_lock(&h->mu);
    h->rounds++;
    if (rc != 0) h->failures++;
    for (int i = 0; rc == 0 && i < n; i++) {
        int k = find(h, ids[i]);
        if (k >= 0 && lost[i]) h->lost[k] = 1;
    }
    pthread_mutex_unlock(&h->mu);
    if (rc != 0) adm_log(ADM_LOG_WARNING, "heartbeat: leases not renewed: %s", adm_last_error());
}

static void *run(void *arg) {
    admd_heartbeat *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double t = until.tv_sec + until.tv_nsec * 1e-9 + h->every_s;
        until.tv_sec = (time_t)t;
        until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
        while (!h->stop && pthread_cond_timedwait(&h->cv, &h->mu, &until) != ETIMEDOUT) {}
        if (h->stop) break;
        pthread_mutex_unlock(&h->mu);
        renew_round(h);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

admd_heartbeat *admd_heartbeat_start(const char *db_path, const char *worker, double lease_s, double every_s) {
    admd_heartbeat *h = adm_calloc(1, sizeof *h);
    if (!h) return NULL;
    h->every_s = every_s;
    if (adm_spool_open(db_path, 0, &h->spool) != 0) {
        adm_error_prefix("heartbeat connection");
        free(h);
        return NULL;
    }
    if (adm_spool_set_worker(h->spool, worker, lease_s) != 0) goto fail;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    int e = pthread_create(&h->thread, NULL, run, h);
    if (e != 0) {
        adm_error("heartbeat thread: %s", strerror(e));
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        goto fail;
    }
    return h;
fail:
    adm_spool_close(h->spool);
    free(h);
    return NULL;
}

void admd_heartbeat_stop(admd_heartbeat *h) {
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    adm_spool_close(h->spool);
    free(h);
}

int admd_heartbeat_add(admd_heartbeat *h, int64_t job_id) {
    pthread_mutex_lock(&h->mu);
    int rc = 0;
    if (find(h, job_id) >= 0) {
        h->lost[find(h, job_id)] = 0;
    } else if (h->n == MAX_JOBS) {
        rc = adm_error("heartbeat: more than %d jobs", MAX_JOBS);
    } else {
        h->ids[h->n] = job_id;
        h->lost[h->n++] = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void admd_heartbeat_remove(admd_heartbeat *h, int64_t job_id) {
    pthread_mutex_lock(&h->mu);
    int k = find(h, job_id);
    if (k >= 0) {
        h->n--;
        h->ids[k] = h->ids[h->n];
        h->lost[k] = h->lost[h->n];
    }
    pthread_mutex_unlock(&h->mu);
}

int admd_heartbeat_lost(admd_heartbeat *h, int64_t job_id) {
    pthread_mutex_lock(&h->mu);
    int k = find(h, job_id), lost = k >= 0 && h->lost[k];
    pthread_mutex_unlock(&h->mu);
    return lost;
}

void admd_heartbeat_counts(admd_heartbeat *h, long *rounds, long *failures) {
    pthread_mutex_lock(&h->mu);
    *rounds = h->rounds;
    *failures = h->failures;
    pthread_mutex_unlock(&h->mu);
}
