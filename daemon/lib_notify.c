/* lib_notify.c — logging (journal fields under systemd, plain lines
 * elsewhere) and sd_notify (see lib_notify.h). */
#include "lib_notify.h"
#include "util.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

static int log_level = ADM_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int journal = -1;          /* stderr is the journal's stream: -1 not yet known */

void adm_log_set_level(int max_priority) { log_level = max_priority; }

/* systemd sets JOURNAL_STREAM=DEV:INODE for a stderr connected to journald;
 * it counts only when stderr still is that stream (not redirected since). */
int adm_log_to_journal(void) {
    if (journal >= 0) return journal;
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    return journal;
}

static const char *const priority_word[8] = {"emergency: ", "alert: ", "critical: ", "error: ", "warning: ", "", "", ""};

/* One record: to the journal with fields (MESSAGE_ID, ADMD_JOB, ADMD_MODEL
 * when given), falling back to a "<N>" line on the stream; elsewhere (a
 * terminal, a file) a plain line, "error: "/"warning: " when it is one. */
static void emit(int priority, const char *message_id, long long job, const char *model, char *line) {
    for (char *p = line; *p; p++) if (*p == '\n') *p = ' ';     /* one message per line */
    pthread_mutex_lock(&log_lock);
    int sent = 0;
    if (adm_log_to_journal()) {
        char msg[2100], pri[16], id[48], jb[48], md[300];
        struct iovec iov[6];
        int n = 0;
#define FIELD(buf, ...) do { int k_ = snprintf(buf, sizeof buf, __VA_ARGS__); \
        iov[n].iov_base = buf; iov[n++].iov_len = (size_t)k_ < sizeof buf ? (size_t)k_ : sizeof buf - 1; } while (0)
        FIELD(msg, "MESSAGE=%s", line);
        FIELD(pri, "PRIORITY=%d", priority);
        iov[n].iov_base = (void *)"SYSLOG_IDENTIFIER=admd"; iov[n++].iov_len = strlen("SYSLOG_IDENTIFIER=admd");
        if (message_id) FIELD(id, "MESSAGE_ID=%s", message_id);
        if (job > 0) FIELD(jb, "ADMD_JOB=%lld", job);
        if (model && *model) FIELD(md, "ADMD_MODEL=%s", model);
#undef FIELD
        sent = sd_journal_sendv(iov, n) == 0;
        if (!sent) fprintf(stderr, "<%d>%s\n", priority, line);
    } else {
        fprintf(stderr, "%s%s\n", priority_word[priority & 7], line);
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void adm_log(int priority, const char *fmt, ...) {
    if (priority > log_level) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(priority, NULL, 0, NULL, line);
}

void adm_log_job(int priority, const char *message_id, long long job, const char *model, const char *fmt, ...) {
    if (priority > log_level) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(priority, message_id, job, model, line);
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
