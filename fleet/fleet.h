/* fleet.h — many admd boxes, one queue: NATS JetStream (the fleet/ layer,
 * above output/, below the programs).  Nothing here is needed by a box
 * that runs alone; admd --nats and `admctl fleet` use it.
 *
 * On the server (created by whoever connects first, idempotent):
 *   ADM_JOBS     work-queue stream, subject adm.jobs: one message per job
 *                (JSON request, Nats-Msg-Id = the job's fleet id), removed
 *                when a box acknowledges it
 *   admd         the durable pull consumer all boxes share (explicit acks,
 *                ack deadline --nats-ack-wait)
 *   ADM_RESULTS  adm.results.<job>.<index> (PNG bytes, maybe in parts) and
 *                adm.results.<job>.end (provenance JSON, or the error)
 *   ADM_ERRORS   adm.errors: job messages refused, with the reason
 *   ADM_BOXES    adm.boxes.<box>: each box's last report (one per subject)
 *
 * fleet_nats.c connects and sets the streams up, fleet_job.c turns a job
 * request and a provenance into JSON and back, fleet_box.c is the daemon's
 * side (a thread: pull, hold, acknowledge, publish the outbox). */
#ifndef ADM_FLEET_H
#define ADM_FLEET_H
#include "spool.h"
#include <nats/nats.h>
#include <stddef.h>
#include <stdint.h>

#define ADM_FLEET_JOBS_STREAM    "ADM_JOBS"
#define ADM_FLEET_JOBS_SUBJECT   "adm.jobs"
#define ADM_FLEET_CONSUMER       "admd"
#define ADM_FLEET_RESULTS_STREAM "ADM_RESULTS"
#define ADM_FLEET_RESULTS_PREFIX "adm.results"
#define ADM_FLEET_ERRORS_STREAM  "ADM_ERRORS"
#define ADM_FLEET_ERRORS_SUBJECT "adm.errors"
#define ADM_FLEET_BOXES_STREAM   "ADM_BOXES"
#define ADM_FLEET_BOXES_PREFIX   "adm.boxes"
#define ADM_FLEET_MAX_JOB_BYTES  65536     /* a job message larger than this is refused */
#define ADM_FLEET_ID 129                   /* message ids: 1-128 of [A-Za-z0-9_-] */

typedef struct {
    const char *url;           /* nats://h:p, tls://h:p (TLS), or a comma list */
    const char *creds;         /* a NATS .creds file (user JWT + nkey seed), or NULL */
    const char *ca;            /* CA certificates for tls:// (NULL: the system's) */
    double ack_wait_s;         /* the consumer's ack deadline, when this creates it (default 60) */
    double timeout_s;          /* JetStream API and publish acks (default 5) */
    /* log sink of the box thread (priority as syslog: 3 err, 4 warning, 6 info, 7 debug) */
    void (*log)(int priority, const char *line);
} adm_fleet_options;

typedef struct {
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    int64_t timeout_ms;
} adm_fleet_conn;

/* Connect.  retry = 1: return at once even when the server cannot be
 * reached (the client keeps trying in the background and reconnects
 * forever); 0: fail with the reason.  In both, a server that refuses the
 * credentials or the TLS handshake is an error at once.  A credentials file
 * must be readable, not readable by others, and hold a user JWT and an nkey
 * seed (-1 with the reason otherwise). */
int adm_fleet_connect(const adm_fleet_options *o, int retry, adm_fleet_conn **out);
void adm_fleet_close(adm_fleet_conn *c);
int adm_fleet_connected(adm_fleet_conn *c);
/* 0 unless the server answers that the account has no JetStream (then
 * -1 with the reason); a server that does not answer passes. */
int adm_fleet_check_account(adm_fleet_conn *c);
/* 1 when the connection's last failure was the server refusing the
 * credentials (text: the server's words), else 0. */
int adm_fleet_refused(adm_fleet_conn *c, const char **text);
/* Streams and the consumer as fleet.h describes them (existing ones kept). */
int adm_fleet_setup(adm_fleet_conn *c, double ack_wait_s);
/* adm_error("what: <nats status text> (<server's JetStream error code>)"); -1. */
int adm_fleet_fail(const char *what, natsStatus s, jsErrCode jerr);
/* A fresh fleet id: 32 random hex digits. */
void adm_fleet_new_id(char out[33]);
/* 1 when id is 1-128 characters of [A-Za-z0-9_-] (usable in a subject). */
int adm_fleet_id_ok(const char *id);
/* A subject token from any name: [A-Za-z0-9_-], others as '_', at most n-1. */
void adm_fleet_token(const char *name, char *out, size_t n);

/* Publish data (any length) to subject as parts that fit the server's
 * max payload, each with headers keys[i]=vals[i] plus Adm-Part "k/n" and
 * Nats-Msg-Id msg_id (".k" appended when n > 1), waiting for every ack.
 * *messages and *bytes (may be NULL) count what went out. */
int adm_fleet_publish(adm_fleet_conn *c, const char *subject, const char *msg_id, const char **keys,
                      const char **vals, int nh, const void *data, size_t len, int *messages, int64_t *bytes);

/* ---- fleet_job.c ---- */
/* A job request as the queue's JSON (malloc'd string; free()). */
char *adm_fleet_job_json(const adm_spool_request *r);
/* Parse a job message (len bytes, not necessarily NUL-terminated) into r:
 * an object of known keys with values of the right type and range; else
 * -1 naming the problem ("bad JSON: ...", "unknown key 'x'", ...).  The
 * spool's schema judges the values further when the job is inserted. */
int adm_fleet_job_parse(const char *data, size_t len, adm_spool_request *r);
/* A provenance row as JSON (malloc'd; free()). */
char *adm_fleet_provenance_json(const adm_spool_provenance *p);

/* ---- fleet_box.c: admd's side ---- */
typedef struct adm_fleet_box adm_fleet_box;
/* Start the box thread: its own connection to the spool at db_path (as
 * worker), releases held messages of dead workers, then loops: keeps the
 * messages of its jobs (progress before the ack deadline, ack once the job
 * ended and its results went out), pulls one job when this worker has
 * nothing queued or running, publishes the outbox, reports to ADM_BOXES. */
int adm_fleet_box_start(const adm_fleet_options *o, const char *db_path, const char *worker, double lease_s,
                        adm_fleet_box **out);
/* Stop: held messages of jobs that have not ended are released (their
 * queued jobs cancelled here, the messages given back to the queue). */
void adm_fleet_box_stop(adm_fleet_box *b);

#endif
