/* fleet_box.c — admd's side of the fleet: one thread with its own spool
 * connection and NATS connection, so the daemon's loop needs no change
 * beyond start and stop (a job it inserts wakes the loop through the
 * spool's inotify watch, like a row inserted with sqlite3).
 *
 * The loop, every 200 ms (or as soon as a pulled message arrives):
 *   publish  unsent outbox rows (images as they are recorded, the job's
 *            end), each retried with backoff until the server acknowledges
 *   settle   for each held job message: its job ended and its results are
 *            out -> acknowledge (then fleet_inbox.state = acked); still
 *            queued or running -> "in progress" every third of the ack
 *            deadline, so the server does not hand it to another box
 *   pull     one message, only when this worker holds none and the spool
 *            has nothing queued and nothing running under this worker: a
 *            box never hoards work another box could start now
 *   take     the message's job into the spool in one transaction keyed by
 *            its Nats-Msg-Id (a redelivery never makes a second job);
 *            a message that is not a valid job is terminated and the reason
 *            published on adm.errors
 *   report   every 5 s the box's counts to adm.boxes.<box>
 *
 * Why hold the message until the job ended (and not acknowledge on
 * insert): a box that dies for good (disk, power, network) would take its
 * accepted jobs with it; held, they go back to the queue when the ack
 * deadline passes and another box does them.  The price: a box cut off
 * from the server for longer than the deadline may see its job done twice
 * (here and elsewhere); both give the same bytes (the seed travels in the
 * message) and the same result message ids, so the results stream and
 * `admctl fleet collect` keep one. */
#include "fleet.h"
#include "util.h"
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 8

typedef struct {
    natsMsg *msg;
    char id[ADM_FLEET_ID];
    int64_t job_id;
    double last_progress;
    int ack_tries;
} held_msg;

struct adm_fleet_box {
    adm_fleet_options o;
    char url[1024], creds[4096], ca[4096];
    char db_path[ADM_SPOOL_PATH], worker[ADM_SPOOL_TEXT], box[128];
    double lease_s, ack_wait_s;
    adm_spool *s;
    adm_fleet_conn *c;
    natsSubscription *sub;
    held_msg held[MAX_HELD];
    int nheld;
    pthread_t th;
    atomic_int stop;
    double pub_retry_at, pub_backoff, next_report, next_warn, next_release;
    int was_connected;
    int refusal_logged;        /* the server's refusal of the credentials was logged since the last connect */
    int64_t taken, refused, acked, published, report_n;
};

static void blog(adm_fleet_box *b, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void blog(adm_fleet_box *b, int prio, const char *fmt, ...) {
    if (!b->o.log) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->o.log(prio, line);
}

/* A warning at most every 10 s (an unreachable server would flood the log). */
static void warn_limited(adm_fleet_box *b, const char *what) {
    double now = adm_now();
    if (now < b->next_warn) return;
    b->next_warn = now + 10;
    blog(b, 4, "fleet: %s: %s", what, adm_last_error());
}

static int subscribe(adm_fleet_box *b) {
    if (adm_fleet_setup(b->c, b->o.ack_wait_s) != 0) return -1;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, b->c->js, ADM_FLEET_JOBS_STREAM, ADM_FLEET_CONSUMER, NULL, &jerr);
    if (s != NATS_OK) return adm_fleet_fail("consumer info", s, jerr);
    b->ack_wait_s = ci->Config && ci->Config->AckWait > 0 ? (double)ci->Config->AckWait / 1e9 : 30;
    jsConsumerInfo_Destroy(ci);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = ADM_FLEET_JOBS_STREAM;
    so.Consumer = ADM_FLEET_CONSUMER;
    jerr = 0;
    s = js_PullSubscribe(&b->sub, b->c->js, ADM_FLEET_JOBS_SUBJECT, ADM_FLEET_CONSUMER, NULL, &so, &jerr);
    if (s != NATS_OK) { b->sub = NULL; return adm_fleet_fail("pull subscribe", s, jerr); }
    blog(b, 6, "fleet: box %s pulling from %s (consumer %s, ack deadline %.0f s)", b->box, ADM_FLEET_JOBS_STREAM,
         ADM_FLEET_CONSUMER, b->ack_wait_s);
    return 0;
}

/* ---- results ---- */

static int publish_row(adm_fleet_box *b, const adm_spool_outbox_row *r, int *messages, int64_t *bytes, char *gone,
                       size_t gone_n) {
    char subject[256], id[ADM_FLEET_ID + 32], seed[32], local[32], idx[16], klass[16], nbytes[32];
    snprintf(seed, sizeof seed, "%lld", (long long)r->seed);
    snprintf(local, sizeof local, "%lld", (long long)r->job_id);
    gone[0] = 0;
    if (!strcmp(r->kind, "image")) {
        if (!r->out.path[0]) { snprintf(gone, gone_n, "image %d: its outputs row is gone (pruned)", r->index); return 0; }
        uint8_t *data = NULL;
        size_t len = 0;
        char sha[65];
        if (adm_read_untrusted(r->out.path, (size_t)1 << 30, &data, &len, sha) != 0) {
            snprintf(gone, gone_n, "image %d: %s", r->index, adm_last_error());
            return 0;
        }
        if (strcmp(sha, r->out.sha256) != 0) {
            free(data);
            snprintf(gone, gone_n, "image %d: %.1500s changed since it was recorded (sha256 %s, recorded %s)", r->index,
                     r->out.path, sha, r->out.sha256);
            return 0;
        }
        snprintf(subject, sizeof subject, ADM_FLEET_RESULTS_PREFIX ".%s.%d", r->msg_id, r->index);
        snprintf(id, sizeof id, "%s.%d", r->msg_id, r->index);
        snprintf(idx, sizeof idx, "%d", r->index);
        snprintf(klass, sizeof klass, "%d", r->out.klass);
        snprintf(nbytes, sizeof nbytes, "%zu", len);
        snprintf(seed, sizeof seed, "%lld", (long long)r->out.seed);
        const char *keys[] = {"Adm-Job", "Adm-Kind", "Adm-Image", "Adm-Seed", "Adm-Class", "Adm-Sha256", "Adm-Bytes",
                              "Adm-Box", "Adm-Local-Job"};
        const char *vals[] = {r->msg_id, "image", idx, seed, klass, sha, nbytes, b->worker, local};
        int rc = adm_fleet_publish(b->c, subject, id, keys, vals, 9, data, len, messages, bytes);
        free(data);
        return rc;
    }
    char *body = NULL;
    if (!strcmp(r->kind, "done")) {
        adm_spool_provenance p;
        int g = adm_spool_provenance_get(b->s, r->job_id, &p);
        if (g < 0) return -1;
        if (g == 0) body = adm_fleet_provenance_json(&p);
        else body = strdup("{}");
    } else {
        body = strdup(r->error[0] ? r->error : r->kind);
    }
    if (!body) return adm_error("out of memory");
    snprintf(subject, sizeof subject, ADM_FLEET_RESULTS_PREFIX ".%s.end", r->msg_id);
    snprintf(id, sizeof id, "%s.end.%s", r->msg_id, r->kind);
    const char *keys[] = {"Adm-Job", "Adm-Kind", "Adm-State", "Adm-Seed", "Adm-Box", "Adm-Local-Job"};
    const char *vals[] = {r->msg_id, "end", r->kind, seed, b->worker, local};
    int rc = adm_fleet_publish(b->c, subject, id, keys, vals, 6, body, strlen(body), messages, bytes);
    free(body);
    return rc;
}

static void publish_outbox(adm_fleet_box *b) {
    if (adm_now() < b->pub_retry_at) return;
    adm_spool_outbox_row *rows;
    int n;
    if (adm_spool_outbox_pending(b->s, 16, &rows, &n) != 0) { warn_limited(b, "outbox"); return; }
    for (int i = 0; i < n && !atomic_load(&b->stop); i++) {
        adm_spool_outbox_row *r = &rows[i];
        int messages = 0;
        int64_t bytes = 0;
        char gone[2048];
        double t0 = adm_now();
        if (publish_row(b, r, &messages, &bytes, gone, sizeof gone) != 0) {
            char why[1024];
            snprintf(why, sizeof why, "%s", adm_last_error());
            if (adm_spool_outbox_failed(b->s, r->id, why) != 0) warn_limited(b, "outbox");
            b->pub_backoff = b->pub_backoff < 1 ? 1 : b->pub_backoff * 2 > 30 ? 30 : b->pub_backoff * 2;
            b->pub_retry_at = adm_now() + b->pub_backoff;
            adm_error("job %lld %s %d not published (retry in %.0f s): %s", (long long)r->job_id, r->kind, r->index,
                      b->pub_backoff, why);
            warn_limited(b, "publish");
            break;
        }
        b->pub_backoff = 0;
        if (gone[0]) blog(b, 3, "fleet: job %lld: result given up: %s", (long long)r->job_id, gone);
        if (adm_spool_outbox_sent(b->s, r->id, messages, bytes, gone[0] ? gone : NULL) != 0) {
            warn_limited(b, "outbox");   /* published but not marked: it goes again, the server drops the copy */
            break;
        }
        b->published++;
        char what[48] = "";
        if (r->index >= 0) snprintf(what, sizeof what, " %d", r->index);
        blog(b, 7, "fleet: job %lld %s%s published (%d message%s, %lld bytes, %.1f ms)", (long long)r->job_id, r->kind,
             what, messages, messages == 1 ? "" : "s", (long long)bytes, (adm_now() - t0) * 1e3);
    }
    free(rows);
}

/* ---- held messages ---- */

static void drop_held(adm_fleet_box *b, int i) {
    natsMsg_Destroy(b->held[i].msg);
    b->held[i] = b->held[--b->nheld];
}

static void settle(adm_fleet_box *b, int connected) {
    for (int i = 0; i < b->nheld; i++) {
        held_msg *h = &b->held[i];
        adm_spool_job j;
        int ended;
        if (adm_spool_job_get(b->s, h->job_id, &j) != 0) {
            if (!strstr(adm_last_error(), "no job")) { warn_limited(b, "job state"); continue; }
            ended = 1;   /* pruned */
        } else {
            ended = !strcmp(j.state, "done") || !strcmp(j.state, "failed") || !strcmp(j.state, "dead") ||
                    !strcmp(j.state, "cancelled");
        }
        if (!connected) continue;
        if (!ended) {
            double now = adm_now();
            if (now - h->last_progress >= b->ack_wait_s / 3) {
                if (natsMsg_InProgress(h->msg, NULL) == NATS_OK) h->last_progress = now;
                else { adm_fleet_fail("in progress", NATS_ERR, 0); warn_limited(b, "ack deadline"); }
            }
            continue;
        }
        int unsent = 0;
        if (adm_spool_outbox_unsent(b->s, h->job_id, &unsent) != 0) { warn_limited(b, "outbox"); continue; }
        if (unsent > 0) continue;               /* acknowledge once its results are out */
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = b->c->timeout_ms;
        jsErrCode jerr = 0;
        natsStatus s = natsMsg_AckSync(h->msg, &jo, &jerr);
        if (s != NATS_OK && ++h->ack_tries < 3) { adm_fleet_fail("ack", s, jerr); warn_limited(b, "ack"); continue; }
        if (s != NATS_OK) blog(b, 4, "fleet: job %lld: no answer to its ack (%s); taken as acknowledged",
                               (long long)h->job_id, natsStatus_GetText(s));
        if (adm_spool_fleet_acked(b->s, h->id) != 0) warn_limited(b, "inbox");
        blog(b, 6, "fleet: job %lld (%s) %s: message acknowledged", (long long)h->job_id, h->id, j.state[0] ? j.state : "pruned");
        b->acked++;
        drop_held(b, i);
        i--;
    }
}

/* ---- taking a message ---- */

/* Not a job: the reason goes to adm.errors, then the message is terminated
 * (never redelivered).  If the reason cannot be published, the message is
 * handed back for later (it is refused again then). */
static void refuse(adm_fleet_box *b, natsMsg *m, const char *id, uint64_t seq, const char *reason) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", id ? json_object_new_string(id) : NULL);
    json_object_object_add(o, "stream_seq", json_object_new_int64((int64_t)seq));
    json_object_object_add(o, "box", json_object_new_string(b->worker));
    json_object_object_add(o, "reason", json_object_new_string(reason));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char eid[64], sseq[32];
    snprintf(eid, sizeof eid, "refused-%llu", (unsigned long long)seq);
    snprintf(sseq, sizeof sseq, "%llu", (unsigned long long)seq);
    const char *keys[] = {"Adm-Job", "Adm-Stream-Seq", "Adm-Box"};
    const char *vals[] = {id ? id : "", sseq, b->worker};
    int rc = adm_fleet_publish(b->c, ADM_FLEET_ERRORS_SUBJECT, eid, keys, vals, 3, text, strlen(text), NULL, NULL);
    json_object_put(o);
    if (rc != 0) {
        warn_limited(b, "error report");
        natsMsg_NakWithDelay(m, 5000, NULL);
    } else {
        natsMsg_Term(m, NULL);
        b->refused++;
        blog(b, 4, "fleet: job message %llu (%s) refused: %s", (unsigned long long)seq, id ? id : "no id", reason);
    }
    natsMsg_Destroy(m);
}

static void take(adm_fleet_box *b, natsMsg *m) {
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    double published = 0;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        published = (double)meta->Timestamp / 1e9;
        jsMsgMetaData_Destroy(meta);
    }
    const char *id = NULL;
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id || !adm_fleet_id_ok(id)) {
        refuse(b, m, NULL, seq, "no Nats-Msg-Id header of 1-128 characters A-Z a-z 0-9 _ - (admctl fleet submit sets it)");
        return;
    }
    char mid[ADM_FLEET_ID];
    snprintf(mid, sizeof mid, "%s", id);
    adm_spool_request r;
    if (adm_fleet_job_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &r) != 0) {
        refuse(b, m, mid, seq, adm_last_error());
        return;
    }
    int64_t job_id = 0;
    int rc = adm_spool_fleet_take(b->s, mid, seq, published, b->worker, &r, &job_id);
    if (rc == ADM_FLEET_REFUSED) { refuse(b, m, mid, seq, adm_last_error()); return; }
    if (rc < 0) {    /* the spool is busy or its disk full: back to the queue for a while */
        warn_limited(b, "taking a job");
        natsMsg_NakWithDelay(m, 5000, NULL);
        natsMsg_Destroy(m);
        return;
    }
    if (rc == ADM_FLEET_ENDED) {
        jsErrCode jerr = 0;
        natsMsg_AckSync(m, NULL, &jerr);
        adm_spool_fleet_acked(b->s, mid);
        blog(b, 6, "fleet: job message %llu (%s) delivered again after its job %lld ended: acknowledged",
             (unsigned long long)seq, mid, (long long)job_id);
        natsMsg_Destroy(m);
        return;
    }
    for (int i = 0; i < b->nheld; i++)     /* a redelivery of a message we hold: keep the newer */
        if (!strcmp(b->held[i].id, mid)) { drop_held(b, i); break; }
    if (b->nheld == MAX_HELD) { natsMsg_Nak(m, NULL); natsMsg_Destroy(m); return; }
    held_msg *h = &b->held[b->nheld++];
    memset(h, 0, sizeof *h);
    h->msg = m;
    snprintf(h->id, sizeof h->id, "%s", mid);
    h->job_id = job_id;
    h->last_progress = adm_now();
    b->taken++;
    blog(b, 6, "fleet: job message %llu (%s) -> job %lld%s", (unsigned long long)seq, mid, (long long)job_id,
         rc == ADM_FLEET_HELD ? " (delivered again; the job resumes)" : "");
}

static void pull(adm_fleet_box *b) {
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, b->sub, 1, 500, &jerr);
    if (s == NATS_TIMEOUT) return;
    if (s != NATS_OK) {
        adm_fleet_fail("fetch", s, jerr);
        warn_limited(b, "pull");
        usleep(200 * 1000);
        return;
    }
    for (int i = 0; i < list.Count; i++) {
        take(b, list.Msgs[i]);
        list.Msgs[i] = NULL;
    }
    natsMsgList_Destroy(&list);
}

static void report(adm_fleet_box *b) {
    double now = adm_now();
    if (now < b->next_report) return;
    b->next_report = now + 5;
    int counts[6] = {0};
    int64_t pending = 0, sent = 0;
    if (adm_spool_counts(b->s, counts) != 0 || adm_spool_outbox_counts(b->s, &pending, &sent) != 0) {
        warn_limited(b, "report");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "box", json_object_new_string(b->worker));
    json_object_object_add(o, "held", json_object_new_int(b->nheld));
    json_object_object_add(o, "queued", json_object_new_int(counts[0]));
    json_object_object_add(o, "running", json_object_new_int(counts[1]));
    json_object_object_add(o, "done", json_object_new_int(counts[2]));
    json_object_object_add(o, "failed", json_object_new_int(counts[3]));
    json_object_object_add(o, "dead", json_object_new_int(counts[5]));
    json_object_object_add(o, "taken", json_object_new_int64(b->taken));
    json_object_object_add(o, "refused", json_object_new_int64(b->refused));
    json_object_object_add(o, "acked", json_object_new_int64(b->acked));
    json_object_object_add(o, "outbox_pending", json_object_new_int64(pending));
    json_object_object_add(o, "outbox_sent", json_object_new_int64(sent));
    json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
    char textbuf[2048], id[200], subject[200];
    snprintf(textbuf, sizeof textbuf, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    const char *text = textbuf;
    snprintf(subject, sizeof subject, ADM_FLEET_BOXES_PREFIX ".%s", b->box);
    snprintf(id, sizeof id, "%s-%lld", b->box, (long long)++b->report_n);
    if (adm_fleet_publish(b->c, subject, id, NULL, NULL, 0, text, strlen(text), NULL, NULL) != 0) warn_limited(b, "report");
}

static void *box_main(void *arg) {
    adm_fleet_box *b = arg;
    while (!atomic_load(&b->stop)) {
        int connected = adm_fleet_connected(b->c);
        if (connected != b->was_connected) {
            blog(b, connected ? 6 : 4, "fleet: %s %s", connected ? "connected to" : "lost the connection to", b->url);
            b->was_connected = connected;
            b->pub_retry_at = 0;
            /* back after an outage (maybe a server restart): tell the server
             * at once that the held jobs are still in progress */
            for (int i = 0; connected && i < b->nheld; i++) b->held[i].last_progress = -1e9;
        }
        const char *why = NULL;
        if (connected) b->refusal_logged = 0;
        else if (!b->refusal_logged && adm_fleet_refused(b->c, &why)) {   /* retried, but an operator must act */
            blog(b, 3, "fleet: %s refuses the credentials in %s (%s): the user or its account is not one it trusts",
                 b->url, b->o.creds ? b->o.creds : "(none given)", why);
            b->refusal_logged = 1;
        }
        if (connected && !b->sub && subscribe(b) != 0) warn_limited(b, "setting up");
        if (adm_now() >= b->next_release) {
            int n = 0;
            if (adm_spool_fleet_release(b->s, NULL, adm_worker_is_dead, NULL, &n) != 0) warn_limited(b, "release");
            else if (n) blog(b, 6, "fleet: released %d job message%s of stopped workers", n, n == 1 ? "" : "s");
            b->next_release = adm_now() + 30;
        }
        if (connected) publish_outbox(b);
        settle(b, connected);
        if (connected && b->sub) report(b);
        int busy = 1;
        if (connected && b->sub && b->nheld == 0 && adm_spool_fleet_busy(b->s, b->worker, &busy) != 0) {
            warn_limited(b, "spool");
            busy = 1;
        }
        if (!busy) pull(b);
        else usleep(200 * 1000);
    }
    return NULL;
}

int adm_fleet_box_start(const adm_fleet_options *o, const char *db_path, const char *worker, double lease_s,
                        adm_fleet_box **out) {
    *out = NULL;
    adm_fleet_box *b = adm_calloc(1, sizeof *b);
    if (!b) return -1;
    b->o = *o;
    snprintf(b->url, sizeof b->url, "%s", o->url);
    b->o.url = b->url;
    if (o->creds) { snprintf(b->creds, sizeof b->creds, "%s", o->creds); b->o.creds = b->creds; }
    if (o->ca) { snprintf(b->ca, sizeof b->ca, "%s", o->ca); b->o.ca = b->ca; }
    snprintf(b->db_path, sizeof b->db_path, "%s", db_path);
    snprintf(b->worker, sizeof b->worker, "%s", worker);
    adm_fleet_token(worker, b->box, sizeof b->box);
    b->lease_s = lease_s;
    b->ack_wait_s = o->ack_wait_s > 0 ? o->ack_wait_s : 60;
    atomic_init(&b->stop, 0);
    if (adm_spool_open(db_path, 0, &b->s) != 0 || adm_spool_set_worker(b->s, worker, lease_s) != 0) goto fail;
    int n = 0;
    if (adm_spool_fleet_release(b->s, NULL, adm_worker_is_dead, NULL, &n) != 0) goto fail;
    if (n) blog(b, 6, "fleet: released %d job message%s of stopped workers (their queued jobs cancelled here)", n,
                n == 1 ? "" : "s");
    b->next_release = adm_now() + 30;
    if (adm_fleet_connect(&b->o, 1, &b->c) != 0) goto fail;
    if (adm_fleet_connected(b->c) && adm_fleet_check_account(b->c) != 0) goto fail;
    if (pthread_create(&b->th, NULL, box_main, b) != 0) { adm_error("cannot start the fleet thread"); goto fail; }
    *out = b;
    return 0;
fail:;
    char why[1024];
    snprintf(why, sizeof why, "%s", adm_last_error());
    if (b->c) adm_fleet_close(b->c);
    if (b->s) adm_spool_close(b->s);
    free(b);
    return adm_error("fleet: %s", why);
}

void adm_fleet_box_stop(adm_fleet_box *b) {
    if (!b) return;
    atomic_store(&b->stop, 1);
    pthread_join(b->th, NULL);
    int connected = adm_fleet_connected(b->c);
    if (connected) {      /* what ended goes out and is acknowledged now */
        publish_outbox(b);
        settle(b, 1);
    }
    int n = 0;
    if (adm_spool_fleet_release(b->s, b->worker, NULL, NULL, &n) != 0) blog(b, 4, "fleet: release: %s", adm_last_error());
    for (int i = 0; i < b->nheld; i++) {
        if (connected) natsMsg_Nak(b->held[i].msg, NULL);     /* back to the queue now, not at the deadline */
        natsMsg_Destroy(b->held[i].msg);
    }
    if (b->nheld) blog(b, 6, "fleet: gave %d job message%s back to the queue", b->nheld, b->nheld == 1 ? "" : "s");
    b->nheld = 0;
    if (b->sub) natsSubscription_Destroy(b->sub);
    adm_fleet_close(b->c);
    adm_spool_close(b->s);
    free(b);
}
