/* lib_notify.h — how admd talks to its supervisor: log lines on stderr with
 * sd-daemon priority prefixes ("<3>" error ... "<7>" debug, which journald
 * turns into priorities), and sd_notify messages (READY, STATUS, WATCHDOG,
 * EXTEND_TIMEOUT_USEC, STOPPING).  Outside systemd (no NOTIFY_SOCKET) the
 * notify calls do nothing. */
#ifndef ADM_LIB_NOTIFY_H
#define ADM_LIB_NOTIFY_H

#define ADM_LOG_ERR 3
#define ADM_LOG_WARNING 4
#define ADM_LOG_INFO 6
#define ADM_LOG_DEBUG 7

/* Lines above this priority number are dropped (default ADM_LOG_INFO). */
void adm_log_set_level(int max_priority);
void adm_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
