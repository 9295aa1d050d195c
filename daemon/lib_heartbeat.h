/* lib_heartbeat.h — leases of the pool's jobs renewed by a thread of their
 * own, every few seconds, whatever the device is doing.
 *
 * admd's pool (lib_pool.c) writes progress after its device passes, but a
 * pass can last longer than the lease (a large batch of 256x256 images on
 * a slow device): without this thread another worker would reap a live job
 * and run it a second time.  The thread has its own SQLite connection
 * (same worker id, same lease) and renews every job it was given in one
 * short transaction per round; a job the renewal finds no longer ours
 * (cancelled, reaped, taken over) is marked lost for the pool to drop at
 * its next pass. */
#ifndef ADMD_LIB_HEARTBEAT_H
#define ADMD_LIB_HEARTBEAT_H
#include <stdint.h>

typedef struct admd_heartbeat admd_heartbeat;

/* Open db_path as worker with lease_s and renew every every_s seconds.
 * NULL + adm_last_error. */
admd_heartbeat *admd_heartbeat_start(const char *db_path, const char *worker, double lease_s, double every_s);
/* Stop the thread and close its connection (NULL: nothing). */
void admd_heartbeat_stop(admd_heartbeat *h);

/* Jobs to renew: add when claimed, remove before ending them.  0 / -1. */
int admd_heartbeat_add(admd_heartbeat *h, int64_t job_id);
void admd_heartbeat_remove(admd_heartbeat *h, int64_t job_id);
/* 1 when a renewal found the job no longer ours. */
int admd_heartbeat_lost(admd_heartbeat *h, int64_t job_id);
/* Renewal rounds done and rounds that failed (SQLite busy, I/O), for logs and tests. */
void admd_heartbeat_counts(admd_heartbeat *h, long *rounds, long *failures);

#endif
