/* fleet_nats.c — the NATS connection of a box or of admctl: options
 * (credentials file, TLS for tls:// URLs, reconnect forever), the streams
 * and consumer of fleet.h, and publishing a payload in parts that fit the
 * server's max_payload, with message ids for the server's dedupe. */
#include "fleet.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

/* The client's last error without its "(file.c:123): " source prefix. */
static const char *last_error(natsStatus s) {
    const char *last = nats_GetLastError(NULL);
    if (!last || !*last) return natsStatus_GetText(s);
    if (last[0] == '(') {
        const char *end = strstr(last, "): ");
        if (end && end[3]) return end + 3;
    }
    return last;
}

int adm_fleet_fail(const char *what, natsStatus s, jsErrCode jerr) {
    if (jerr == JSNotEnabledForAccountErr || jerr == JSNotEnabledErr)
        return adm_error("%s: JetStream is not enabled for this account (JetStream error %d): the server's operator "
                         "must enable it for the account the credentials belong to", what, (int)jerr);
    const char *last = last_error(s);
    if (jerr) return adm_error("%s: %s (JetStream error %d)", what, last, (int)jerr);
    return adm_error("%s: %s", what, last);
}

void adm_fleet_new_id(char out[33]) {
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {   /* no entropy source: time and address */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char src[96];
        snprintf(src, sizeof src, "%lld.%ld.%p", (long long)ts.tv_sec, ts.tv_nsec, (void *)out);
        char hex[65];
        adm_sha256_hex(src, strlen(src), hex);
        memcpy(out, hex, 32);
        out[32] = 0;
        return;
    }
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int adm_fleet_id_ok(const char *id) {
    size_t n = strlen(id);
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

void adm_fleet_token(const char *name, char *out, size_t n) {
    size_t k = 0;
    for (; name[k] && k + 1 < n; k++) {
        char ch = name[k];
        out[k] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ? ch : '_';
    }
    if (n) out[k] = 0;
}

/* A credentials file holds a secret: a readable regular file, not open to others. */
static int check_creds(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return adm_error("--nats-creds %s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return adm_error("--nats-creds %s: %s, not a credentials file", path, adm_file_kind(sb.st_mode));
    if (sb.st_mode & S_IROTH)
        return adm_error("--nats-creds %s: readable by others (chmod o-r: it holds a secret key)", path);
    if (sb.st_size > (1 << 20)) return adm_error("--nats-creds %s: %lld bytes, not a credentials file", path, (long long)sb.st_size);
    uint8_t *data = NULL;
    size_t n = 0;
    if (adm_read_file(path, &data, &n) != 0) return adm_error("--nats-creds: %s", adm_last_error());
    const char *text = (const char *)data;
    int jwt = strstr(text, "-----BEGIN NATS USER JWT-----") != NULL, seed = strstr(text, "NKEY SEED-----") != NULL;
    free(data);
    if (!jwt || !seed)
        return adm_error("--nats-creds %s: not a NATS credentials file (no %s block; `nsc generate creds` makes one)", path,
                         !jwt ? "\"BEGIN NATS USER JWT\"" : "\"NKEY SEED\"");
    return 0;
}

/* Why a first connect failed, in words an operator can act on. */
static int connect_fail(const adm_fleet_options *o, natsStatus s) {
    if (s == NATS_CONNECTION_AUTH_FAILED && o->creds)
        return adm_error("%s: the server refused the credentials in %s (%s): the user or its account is not one "
                         "this server trusts (another operator or account, revoked, or expired)", o->url, o->creds,
                         last_error(s));
    if (s == NATS_CONNECTION_AUTH_FAILED)
        return adm_error("%s: the server wants credentials (%s): give --nats-creds FILE", o->url, last_error(s));
    if (o->creds && strstr(last_error(s), o->creds))
        return adm_error("--nats-creds %s: %s", o->creds, last_error(s));
    return adm_fleet_fail(o->url, s, 0);
}

/* Failures that may pass on their own (the server down or unreachable for
 * now); any other (credentials, TLS) needs the operator. */
static int transient(natsStatus s) {
    return s == NATS_NO_SERVER || s == NATS_TIMEOUT || s == NATS_IO_ERROR || s == NATS_CONNECTION_CLOSED ||
           s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION;
}

/* With a callback, a first connect that fails goes on in the background
 * (without one, the client retries synchronously, forever here). */
static void on_connected(natsConnection *nc, void *closure) { (void)nc; (void)closure; }

int adm_fleet_connect(const adm_fleet_options *o, int retry, adm_fleet_conn **out) {
    *out = NULL;
    if (!o->url || !*o->url) return adm_error("no NATS URL");
    if (o->creds && check_creds(o->creds) != 0) return -1;
    adm_fleet_conn *c = adm_calloc(1, sizeof *c);
    if (!c) return -1;
    c->timeout_ms = (int64_t)((o->timeout_s > 0 ? o->timeout_s : 5) * 1000);
    natsStatus s = natsOptions_Create(&c->opts);
    if (s == NATS_OK) s = natsOptions_SetURL(c->opts, o->url);
    if (s == NATS_OK) s = natsOptions_SetName(c->opts, "admd");
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->opts, -1);         /* forever: boxes ride out outages */
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(c->opts, 500);
    if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts, 2000);
    if (s == NATS_OK) s = natsOptions_SetPingInterval(c->opts, 5000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(c->opts, 2);
    if (s == NATS_OK && o->creds) s = natsOptions_SetUserCredentialsFromFiles(c->opts, o->creds, NULL);
    if (s == NATS_OK && (!strncmp(o->url, "tls://", 6) || o->ca)) s = natsOptions_SetSecure(c->opts, true);
    if (s == NATS_OK && o->ca) s = natsOptions_LoadCATrustedCertificates(c->opts, o->ca);
    if (s != NATS_OK) { adm_fleet_fail("NATS options", s, 0); adm_fleet_close(c); return -1; }
    /* A first try in the foreground: credentials or TLS the server refuses
     * are an error now, not a silent retry forever.  Only a server that
     * cannot be reached yet is retried in the background (with retry). */
    s = natsConnection_Connect(&c->nc, c->opts);
    if (s != NATS_OK && retry && transient(s)) {
        s = natsOptions_SetRetryOnFailedConnect(c->opts, true, on_connected, NULL);
        if (s == NATS_OK) s = natsConnection_Connect(&c->nc, c->opts);
        if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
    }
    if (s != NATS_OK) {
        connect_fail(o, s);
        adm_fleet_close(c);
        return -1;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
    s = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (s != NATS_OK) { adm_fleet_fail("JetStream", s, 0); adm_fleet_close(c); return -1; }
    *out = c;
    return 0;
}

void adm_fleet_close(adm_fleet_conn *c) {
    if (!c) return;
    if (c->js) jsCtx_Destroy(c->js);
    if (c->nc) { natsConnection_FlushTimeout(c->nc, 1000); natsConnection_Close(c->nc); natsConnection_Destroy(c->nc); }
    if (c->opts) natsOptions_Destroy(c->opts);
    free(c);
}

int adm_fleet_connected(adm_fleet_conn *c) {
    return c && c->nc && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

int adm_fleet_refused(adm_fleet_conn *c, const char **text) {
    const char *t = NULL;
    if (!c || !c->nc || natsConnection_GetLastError(c->nc, &t) != NATS_CONNECTION_AUTH_FAILED) return 0;
    *text = t && *t ? t : "authorization violation";
    return 1;
}

int adm_fleet_check_account(adm_fleet_conn *c) {
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetAccountInfo(&ai, c->js, NULL, &jerr);
    if (s == NATS_OK) { jsAccountInfo_Destroy(ai); return 0; }
    if (jerr == JSNotEnabledForAccountErr || jerr == JSNotEnabledErr) return adm_fleet_fail("JetStream", s, jerr);
    return 0;
}

/* The stream name with its subjects, if missing. */
static int ensure_stream(adm_fleet_conn *c, const char *name, const char *subject, jsRetentionPolicy retention,
                         int64_t per_subject, int64_t max_age_s) {
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, name, NULL, &jerr);
    if (s == NATS_OK) { jsStreamInfo_Destroy(si); return 0; }
    if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) return adm_fleet_fail(name, s, jerr);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {subject};
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = retention;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = (int64_t)3600 * 1000000000LL;     /* an hour of message-id dedupe */
    if (per_subject > 0) cfg.MaxMsgsPerSubject = per_subject;
    if (max_age_s > 0) cfg.MaxAge = max_age_s * 1000000000LL;
    jerr = 0;
    s = js_AddStream(&si, c->js, &cfg, NULL, &jerr);
    if (s == NATS_OK) { jsStreamInfo_Destroy(si); return 0; }
    if (jerr == JSStreamNameExistErr) return 0;     /* another box was quicker */
    return adm_fleet_fail(name, s, jerr);
}

int adm_fleet_setup(adm_fleet_conn *c, double ack_wait_s) {
    if (ensure_stream(c, ADM_FLEET_JOBS_STREAM, ADM_FLEET_JOBS_SUBJECT, js_WorkQueuePolicy, 0, 0) != 0 ||
        ensure_stream(c, ADM_FLEET_RESULTS_STREAM, ADM_FLEET_RESULTS_PREFIX ".>", js_LimitsPolicy, 0, 0) != 0 ||
        ensure_stream(c, ADM_FLEET_ERRORS_STREAM, ADM_FLEET_ERRORS_SUBJECT, js_LimitsPolicy, 0, 0) != 0 ||
        ensure_stream(c, ADM_FLEET_BOXES_STREAM, ADM_FLEET_BOXES_PREFIX ".*", js_LimitsPolicy, 1, 7 * 86400) != 0)
        return -1;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, c->js, ADM_FLEET_JOBS_STREAM, ADM_FLEET_CONSUMER, NULL, &jerr);
    if (s == NATS_OK) { jsConsumerInfo_Destroy(ci); return 0; }
    if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) return adm_fleet_fail("consumer " ADM_FLEET_CONSUMER, s, jerr);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = ADM_FLEET_CONSUMER;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)((ack_wait_s > 0 ? ack_wait_s : 60) * 1e9);
    cc.MaxDeliver = -1;             /* a box that dies gives its job back, however often */
    cc.MaxAckPending = -1;
    jerr = 0;
    s = js_AddConsumer(&ci, c->js, ADM_FLEET_JOBS_STREAM, &cc, NULL, &jerr);
    if (s == NATS_OK) { jsConsumerInfo_Destroy(ci); return 0; }
    return adm_fleet_fail("consumer " ADM_FLEET_CONSUMER, s, jerr);
}

int adm_fleet_publish(adm_fleet_conn *c, const char *subject, const char *msg_id, const char **keys,
                      const char **vals, int nh, const void *data, size_t len, int *messages, int64_t *bytes) {
    if (messages) *messages = 0;
    if (bytes) *bytes = 0;
    int64_t max = natsConnection_GetMaxPayload(c->nc);
    if (max <= 0) max = 1024 * 1024;
    /* headers travel in the payload too: NATS/1.0 line, ours, part and id */
    size_t hdr = 64 + strlen(msg_id) + 32;
    for (int i = 0; i < nh; i++) hdr += strlen(keys[i]) + strlen(vals[i]) + 4;
    if ((int64_t)hdr + 64 >= max) return adm_error("%s: headers of %zu bytes exceed the server's max_payload %lld", subject,
                                                    hdr, (long long)max);
    size_t chunk = (size_t)max - hdr - 64;
    int parts = len == 0 ? 1 : (int)((len + chunk - 1) / chunk);
    for (int k = 0; k < parts; k++) {
        size_t off = (size_t)k * chunk, n = len - off < chunk ? len - off : chunk;
        if (len == 0) n = 0;
        natsMsg *m = NULL;
        natsStatus s = natsMsg_Create(&m, subject, NULL, n ? (const char *)data + off : NULL, (int)n);
        char part[32], id[ADM_FLEET_ID + 16];
        snprintf(part, sizeof part, "%d/%d", k + 1, parts);
        if (parts > 1) snprintf(id, sizeof id, "%s.%d", msg_id, k + 1);
        else snprintf(id, sizeof id, "%s", msg_id);
        for (int i = 0; s == NATS_OK && i < nh; i++) s = natsMsgHeader_Set(m, keys[i], vals[i]);
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Adm-Part", part);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = c->timeout_ms;
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        if (s == NATS_OK) s = js_PublishMsg(&pa, c->js, m, &po, &jerr);
        natsMsg_Destroy(m);
        if (pa) jsPubAck_Destroy(pa);
        if (s != NATS_OK) return adm_fleet_fail(subject, s, jerr);
        if (messages) (*messages)++;
        if (bytes) *bytes += (int64_t)n;
    }
    return 0;
}
