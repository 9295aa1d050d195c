/* spool_worker_id.c — who a worker is: "host:pid:nonce", stable for the
 * process, and whether a worker id names a process of this host that no
 * longer runs (the test adm_spool_reclaim is given).  See spool.h. */
#include "spool.h"
#include "util.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *adm_worker_id(void) {
    static char id[400];
    if (!id[0]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(id, sizeof id, "%s:%ld:%08lx", adm_host_name(), (long)getpid(),
                 (unsigned long)((ts.tv_nsec ^ (ts.tv_sec << 20)) & 0xffffffffUL));
    }
    return id;
}

int adm_worker_is_dead(const char *worker, void *user) {
    (void)user;
    const char *c1 = strchr(worker, ':');
    if (!c1) return 0;
    size_t hl = strlen(adm_host_name());
    if ((size_t)(c1 - worker) != hl || strncmp(worker, adm_host_name(), hl) != 0) return 0;
    char *end;
    long pid = strtol(c1 + 1, &end, 10);
    if (pid <= 0 || *end != ':') return 0;
    if (!strcmp(worker, adm_worker_id())) return 0;
    if (pid == (long)getpid()) return 1;     /* same pid, different nonce: an earlier process */
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}
