/* lib_notify.c — stderr logging with sd-daemon prefixes and sd_notify (see
 * lib_notify.h). */
#include "lib_notify.h"
#include "util.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

static int log_level = ADM_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void adm_log_set_level(int max_priority) { log_level = max_priority; }

void adm_log(int priority, const char *fmt, ...) {
    if (priority > log_level) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One message per line, so each carries its priority prefix. */
    for (char *p = line; *p; p++) if (*p == '\n') *p = ' ';
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "<%d>%s\n", priority, line);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void adm_notify_ready(const char *status) {
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%ld", status ? status : "ready", (long)getpid());
}

static char status_last[512];

static void send_status(const char *msg) {
    if (!strcmp(msg, status_last)) return;
    snprintf(status_last, sizeof status_last, "%s", msg);
    sd_notifyf(0, "STATUS=%s", msg);
}

static void vsend_status(const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    send_status(msg);
}

void adm_notify_status(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsend_status(fmt, ap);
    va_end(ap);
}

void adm_notify_progress(const char *fmt, ...) {
    static double progress_last_t = -1e9;
    double now = adm_now();
    if (now - progress_last_t < 1.0) return;
    progress_last_t = now;
    va_list ap;
    va_start(ap, fmt);
    vsend_status(fmt, ap);
    va_end(ap);
}

void adm_notify_watchdog(void) {
    static double last_t = -1e9;
    double now = adm_now();
    if (now - last_t < 1.0) return;
    last_t = now;
    sd_notify(0, "WATCHDOG=1");
}

void adm_notify_stopping(void) { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

void adm_notify_reloading(void) { sd_notify(0, "STATUS=reloading models"); }

/* ---- keepalive thread ---- */

static pthread_t ka_thread;
static pthread_mutex_t ka_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ka_cond = PTHREAD_COND_INITIALIZER;
static int ka_running, ka_stop;
static char ka_what[128];

#define KEEPALIVE_PERIOD_S 5
#define KEEPALIVE_EXTEND_US 30000000ULL

static void *keepalive_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&ka_lock);
    while (!ka_stop) {
        sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu\nWATCHDOG=1\nSTATUS=%s", KEEPALIVE_EXTEND_US, ka_what);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += KEEPALIVE_PERIOD_S;
        while (!ka_stop && pthread_cond_timedwait(&ka_cond, &ka_lock, &until) == 0) {}
    }
    pthread_mutex_unlock(&ka_lock);
    return NULL;
}

int adm_notify_keepalive_begin(const char *what) {
    if (ka_running) return 0;
    snprintf(ka_what, sizeof ka_what, "%s", what ? what : "working");
    ka_stop = 0;
    if (pthread_create(&ka_thread, NULL, keepalive_main, NULL) != 0)
        return adm_error("cannot start the keepalive thread");
    ka_running = 1;
    return 0;
}

void adm_notify_keepalive_end(void) {
    if (!ka_running) return;
    pthread_mutex_lock(&ka_lock);
    ka_stop = 1;
    pthread_cond_signal(&ka_cond);
    pthread_mutex_unlock(&ka_lock);
    pthread_join(ka_thread, NULL);
    ka_running = 0;
}
