/* lib_notify.h — how admd talks to its supervisor: log records and
 * sd_notify messages (READY, STATUS, WATCHDOG, EXTEND_TIMEOUT_USEC,
 * STOPPING).  When stderr is the journal's stream (JOURNAL_STREAM names it)
 * records go to the journal natively (sd_journal_sendv) with PRIORITY,
 * MESSAGE_ID, ADMD_JOB and ADMD_MODEL fields (`journalctl -u admd
 * ADMD_JOB=12`), or as "<N>" lines if that fails; on a terminal or a file
 * they are plain lines ("error: ", "warning: " when they are).  Outside
 * systemd (no NOTIFY_SOCKET) the notify calls do nothing. */
#ifndef ADM_LIB_NOTIFY_H
#define ADM_LIB_NOTIFY_H

#define ADM_LOG_ERR 3
#define ADM_LOG_WARNING 4
#define ADM_LOG_INFO 6
#define ADM_LOG_DEBUG 7

/* Lines above this priority number are dropped (default ADM_LOG_INFO). */
void adm_log_set_level(int max_priority);
void adm_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A job's event: MESSAGE_ID (one of the ADM_MSG_* below, or NULL), the job
 * and its model as journal fields. */
void adm_log_job(int priority, const char *message_id, long long job, const char *model, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Is stderr the journal (JOURNAL_STREAM matches it)? */
int adm_log_to_journal(void);

/* MESSAGE_IDs (journalctl MESSAGE_ID=...): 128-bit ids made once for admd. */
#define ADM_MSG_JOB_STARTED "cd8fd8ca95ec4365981584cdf5c17186"
#define ADM_MSG_JOB_DONE    "da6f0f0db6d84dfaa4f7ee9910320a35"
#define ADM_MSG_JOB_FAILED  "58af265a72014733ae9dae82596f32fd"
#define ADM_MSG_JOB_REQUEUED "b56c5f0b5e8546f2ab809d21fb7e40b2"

/* sd_notify wrappers.  A STATUS equal to the last one is not resent;
 * progress STATUS and WATCHDOG pings are sent at most once per second. */
void adm_notify_ready(const char *status);
void adm_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void adm_notify_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void adm_notify_watchdog(void);
void adm_notify_stopping(void);
void adm_notify_reloading(void);

/* While a long blocking call runs (kernel compilation), a helper thread
 * sends EXTEND_TIMEOUT_USEC (start-up deadline) and WATCHDOG pings every few
 * seconds.  keepalive_begin returns 0 or -1; end joins the thread. */
int adm_notify_keepalive_begin(const char *what);
void adm_notify_keepalive_end(void);

#endif
