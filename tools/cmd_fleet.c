/* cmd_fleet.c — `admctl fleet`: the user's side of a fleet of boxes
 * (fleet/fleet.h): submit jobs to the NATS JetStream queue, see the queue,
 * the consumer and each box, and collect every result into a folder and a
 * central SQLite file, checking each PNG's sha256. */
#include "admctl.h"
#include "admctl_spool.h"
#include "admctl_submit_args.h"
#include "admctl_table.h"
#include "fleet.h"
#include "util.h"
#include <errno.h>
#include <unistd.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl fleet submit --nats URL [submit's options]   queue jobs for any box\n"
        "       admctl fleet submit --nats URL --message FILE|-     queue one job message as written\n"
        "       admctl fleet status --nats URL [--errors N] [--raw | --noheadings]\n"
        "                                                       queue, consumer, boxes, refused messages\n"
        "       admctl fleet collect --nats URL --out DIR [--db FILE]  every result into DIR\n"
        "  --nats URL        the NATS server: nats://host:4222, tls://host:4222 (TLS)\n"
        "  --nats-creds FILE credentials file (user JWT + nkey seed; never on the command line)\n"
        "  --nats-ca FILE    CA certificates for a tls:// server\n"
        "  --out DIR         collect: PNGs go to DIR/<job>/<index>.png, provenance to\n"
        "                    DIR/<job>/provenance.json\n"
        "  --db FILE         collect: the central results file (default DIR/fleet.db); a second\n"
        "                    run adds only what is new\n"
        "  --errors N        status: the last N refused job messages (default 5)\n"
        "  --raw             status: the boxes' table for scripts (unaligned, blanks as \\x20)\n"
        "  --noheadings      status: the boxes' table without its header line\n"
        "                    (with either, the rest of the report goes to stderr)\n");
}

static int connect_opts(const char *url, const char *creds, const char *ca, const char *ack_wait, adm_fleet_conn **c) {
    adm_fleet_options o;
    memset(&o, 0, sizeof o);
    o.url = url;
    o.creds = creds;
    o.ca = ca;
    if (ack_wait) {
        char *end;
        o.ack_wait_s = strtod(ack_wait, &end);
        if (end == ack_wait || *end || !(o.ack_wait_s >= 1 && o.ack_wait_s <= 86400))
            return admctl_fail("--nats-ack-wait '%s': expected seconds from 1 to 86400", ack_wait);
    }
    if (adm_fleet_connect(&o, 0, c) != 0) return admctl_fail("%s", adm_last_error());
    if (adm_fleet_setup(*c, o.ack_wait_s) != 0) {
        admctl_fail("%s", adm_last_error());
        adm_fleet_close(*c);
        return ADMCTL_FAIL;
    }
    return ADMCTL_OK;
}

/* ---- submit ---- */

/* --message FILE: a job message as the queue carries it (fleet.h's JSON),
 * published as it is: the boxes judge it (scripts, and the tests of bad
 * messages).  "-" reads standard input. */
static int submit_message(int argc, char **argv) {
    const char *url = NULL, *creds = NULL, *ca = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--nats", &url) || admctl_opt(argc, argv, &i, "--nats-creds", &creds) ||
            admctl_opt(argc, argv, &i, "--nats-ca", &ca) || admctl_opt(argc, argv, &i, "--message", &file))
            continue;
        admctl_fail("fleet submit --message: unexpected argument '%s' (the message holds the job)", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!url) { admctl_fail("fleet submit: --nats URL is required"); return ADMCTL_USAGE; }
    uint8_t *data = NULL;
    size_t len = 0;
    if (!strcmp(file, "-")) {
        size_t cap = 0;
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 8192;
                uint8_t *g = realloc(data, cap);
                if (!g) { free(data); return admctl_fail("out of memory"); }
                data = g;
            }
            size_t n = fread(data + len, 1, 4096, stdin);
            len += n;
            if (n == 0) break;
            if (len > 16u << 20) { free(data); return admctl_fail("--message -: more than 16 MB"); }
        }
    } else if (adm_read_file(file, &data, &len) != 0) return admctl_fail("--message %s", adm_last_error());
    adm_fleet_conn *c;
    if (connect_opts(url, creds, ca, NULL, &c) != ADMCTL_OK) { free(data); return ADMCTL_FAIL; }
    char id[33];
    adm_fleet_new_id(id);
    const char *keys[] = {"Adm-Job"};
    const char *vals[] = {id};
    int rc = ADMCTL_OK;
    if (adm_fleet_publish(c, ADM_FLEET_JOBS_SUBJECT, id, keys, vals, 1, data, len, NULL, NULL) != 0)
        rc = admctl_fail("%s", adm_last_error());
    else printf("%s\n", id);
    free(data);
    adm_fleet_close(c);
    return rc;
}

static int fleet_submit(int argc, char **argv) {
    if (admctl_wants_help(argc, argv)) { admctl_submit_usage(stdout, 1); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--message", 9)) return submit_message(argc, argv);
    admctl_submit_args a;
    int rc = admctl_submit_parse(argc, argv, 1, &a);
    if (rc != ADMCTL_OK) return rc;
    /* The seed is fixed here: whichever box runs the job (or two, after an
     * outage) draws the same images. */
    if (a.r.seed < 0) {
        char id[33];
        adm_fleet_new_id(id);
        a.r.seed = (int64_t)(strtoull(id + 16, NULL, 16) & 0x7fffffffffffffffULL);
    }
    adm_fleet_conn *c;
    if (connect_opts(a.nats, a.creds, a.ca, a.ack_wait, &c) != ADMCTL_OK) return ADMCTL_FAIL;
    json_object *ids = a.json ? json_object_new_array() : NULL;
    for (int k = 0; k < a.n_classes && rc == ADMCTL_OK; k++) {
        a.r.klass = a.classes[k];
        char id[33];
        adm_fleet_new_id(id);
        char *text = adm_fleet_job_json(&a.r);
        if (!text) { rc = admctl_fail("%s", adm_last_error()); break; }
        const char *keys[] = {"Adm-Job"};
        const char *vals[] = {id};
        if (adm_fleet_publish(c, ADM_FLEET_JOBS_SUBJECT, id, keys, vals, 1, text, strlen(text), NULL, NULL) != 0)
            rc = admctl_fail("%s", adm_last_error());
        else if (ids) json_object_array_add(ids, json_object_new_string(id));
        else printf("%s\n", id);
        free(text);
    }
    if (ids) {
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "ids", ids);
        json_object_object_add(doc, "seed", json_object_new_int64(a.r.seed));
        printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
        json_object_put(doc);
    }
    adm_fleet_close(c);
    return rc;
}

/* ---- status ---- */

static const char *hdr(natsMsg *m, const char *key) {
    const char *v = NULL;
    if (natsMsgHeader_Get(m, key, &v) != NATS_OK || !v) return "";
    return v;
}

static int64_t jint(json_object *o, const char *k) {
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static int fleet_status(int argc, char **argv) {
    const char *url = NULL, *creds = NULL, *ca = NULL, *nerr = "5";
    admctl_table_opts topt = {0};
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--nats", &url) || admctl_opt(argc, argv, &i, "--nats-creds", &creds) ||
            admctl_opt(argc, argv, &i, "--nats-ca", &ca) || admctl_opt(argc, argv, &i, "--errors", &nerr) ||
            admctl_table_flag(argv, i, &topt))
            continue;
        usage(stderr);
        admctl_fail("fleet status: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    char *end;
    long show_errors = strtol(nerr, &end, 10);
    if (!url || *end || show_errors < 0 || show_errors > 1000) {
        usage(stderr);
        return admctl_fail("fleet status: --nats URL is required; --errors takes 0..1000"), ADMCTL_USAGE;
    }
    adm_fleet_conn *c;
    if (connect_opts(url, creds, ca, NULL, &c) != ADMCTL_OK) return ADMCTL_FAIL;
    int rc = ADMCTL_OK;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, ADM_FLEET_JOBS_STREAM, NULL, &jerr);
    if (s == NATS_OK) s = js_GetConsumerInfo(&ci, c->js, ADM_FLEET_JOBS_STREAM, ADM_FLEET_CONSUMER, NULL, &jerr);
    if (s != NATS_OK) { adm_fleet_fail("queue", s, jerr); rc = admctl_fail("%s", adm_last_error()); goto out; }
    FILE *prose = admctl_table_plain(&topt) ? stderr : stdout;     /* a script's stdout: the boxes' rows only */
    fprintf(prose, "queue %s: %llu job message%s (%llu bytes)\n", ADM_FLEET_JOBS_STREAM, (unsigned long long)si->State.Msgs,
           si->State.Msgs == 1 ? "" : "s", (unsigned long long)si->State.Bytes);
    fprintf(prose, "consumer %s: %llu pending (not delivered yet), %lld in flight (held by boxes), %lld redelivered, "
           "%lld pulls waiting, ack deadline %.0f s\n",
           ADM_FLEET_CONSUMER, (unsigned long long)ci->NumPending, (long long)ci->NumAckPending,
           (long long)ci->NumRedelivered, (long long)ci->NumWaiting, ci->Config ? (double)ci->Config->AckWait / 1e9 : 0);
    jsStreamInfo_Destroy(si);
    si = NULL;
    s = js_GetStreamInfo(&si, c->js, ADM_FLEET_RESULTS_STREAM, NULL, &jerr);
    if (s == NATS_OK) {
        fprintf(prose, "results %s: %llu messages (%llu bytes)\n", ADM_FLEET_RESULTS_STREAM, (unsigned long long)si->State.Msgs,
               (unsigned long long)si->State.Bytes);
        jsStreamInfo_Destroy(si);
        si = NULL;
    }
    /* each box's last report */
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Stream.Info.SubjectsFilter = ADM_FLEET_BOXES_PREFIX ".>";
    s = js_GetStreamInfo(&si, c->js, ADM_FLEET_BOXES_STREAM, &jo, &jerr);
    if (s == NATS_OK && si->State.Subjects && si->State.Subjects->Count > 0) {
        static const char *cols[] = {"BOX", "HELD", "QUEUED", "RUNNING", "DONE", "FAILED", "TAKEN", "REFUSED", "ACKED",
                                     "OUTBOX", "AGE-S"};
        static const char *keys[] = {"held", "queued", "running", "done", "failed", "taken", "refused", "acked",
                                     "outbox_pending"};
        admctl_table *t = admctl_table_new(stdout, &topt);
        if (!t) { rc = ADMCTL_FAIL; goto out; }
        for (int k = 0; k < 11; k++) admctl_table_column(t, cols[k], k ? ADMCTL_COL_RIGHT : 0);
        for (int i = 0; i < si->State.Subjects->Count; i++) {
            natsMsg *m = NULL;
            if (js_GetLastMsg(&m, c->js, ADM_FLEET_BOXES_STREAM, si->State.Subjects->List[i].Subject, NULL, &jerr) != NATS_OK)
                continue;
            json_object *o = json_tokener_parse(natsMsg_GetData(m) ? natsMsg_GetData(m) : "");
            if (o) {
                json_object *b;
                const char *box = json_object_object_get_ex(o, "box", &b) ? json_object_get_string(b) : "?";
                admctl_table_row(t);
                admctl_table_cell(t, 0, "%s", box);
                for (int k = 0; k < 9; k++) admctl_table_cell(t, k + 1, "%lld", (long long)jint(o, keys[k]));
                admctl_table_cell(t, 10, "%lld", (long long)(time(NULL) - jint(o, "time")));
                json_object_put(o);
            }
            natsMsg_Destroy(m);
        }
        if (admctl_table_print(t, 0) != ADMCTL_OK) rc = ADMCTL_FAIL;
    } else fprintf(prose, "boxes: none has reported yet\n");
    if (si) { jsStreamInfo_Destroy(si); si = NULL; }
    /* the last refused job messages */
    s = js_GetStreamInfo(&si, c->js, ADM_FLEET_ERRORS_STREAM, NULL, &jerr);
    if (s == NATS_OK) {
        fprintf(prose, "refused job messages: %llu\n", (unsigned long long)si->State.Msgs);
        uint64_t last = si->State.LastSeq, first = si->State.FirstSeq;
        for (uint64_t q = last >= (uint64_t)show_errors ? last - (uint64_t)show_errors + 1 : 1; show_errors > 0 && q <= last; q++) {
            if (q < first) continue;
            natsMsg *m = NULL;
            if (js_GetMsg(&m, c->js, ADM_FLEET_ERRORS_STREAM, q, NULL, &jerr) != NATS_OK) continue;
            fprintf(prose, "  refused: %.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
            natsMsg_Destroy(m);
        }
        jsStreamInfo_Destroy(si);
        si = NULL;
    }
out:
    if (si) jsStreamInfo_Destroy(si);
    if (ci) jsConsumerInfo_Destroy(ci);
    adm_fleet_close(c);
    return rc;
}

/* ---- collect ---- */

typedef struct {
    char subject[256];
    uint64_t first_seq;
    int next, parts;
    natsMsg *head;          /* the first part: its headers */
    uint8_t *data;
    size_t len;
} assembly;

typedef struct {
    adm_collect_db *db;
    const char *out;
    int64_t images, already, ends, bad, conflicts;
} collect_ctx;

static void assembly_free(assembly *a) {
    if (a->head) natsMsg_Destroy(a->head);
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* One whole result (all its parts). */
static int take_result(collect_ctx *x, natsMsg *head, const uint8_t *data, size_t len, uint64_t seq) {
    const char *job = hdr(head, "Adm-Job"), *kind = hdr(head, "Adm-Kind");
    if (!adm_fleet_id_ok(job)) {
        fprintf(stderr, "admctl: results message %llu: bad Adm-Job header: skipped\n", (unsigned long long)seq);
        x->bad++;
        return 0;
    }
    char dir[ADM_SPOOL_PATH + 200], path[ADM_SPOOL_PATH + 300];
    snprintf(dir, sizeof dir, "%s/%s", x->out, job);
    if (!strcmp(kind, "image")) {
        char *end;
        long idx = strtol(hdr(head, "Adm-Image"), &end, 10);
        const char *want = hdr(head, "Adm-Sha256");
        char sha[65];
        adm_sha256_hex(data, len, sha);
        if (*end || idx < 0 || idx > 100000 || strcmp(sha, want) != 0) {
            fprintf(stderr, "admctl: results message %llu (job %s image %s): sha256 %s does not match its header %s: "
                            "not collected\n", (unsigned long long)seq, job, hdr(head, "Adm-Image"), sha, want);
            x->bad++;
            return 0;
        }
        char there[ADM_SPOOL_SHA];
        int has = adm_collect_has_image(x->db, job, (int)idx, there);
        if (has < 0) return -1;
        if (has) {
            if (strcmp(there, sha) != 0) {
                fprintf(stderr, "admctl: job %s image %ld: a second result with another sha256 (%s, kept %s; the boxes' "
                                "devices differ?)\n", job, idx, sha, there);
                x->conflicts++;
            } else x->already++;
            return 0;
        }
        if (adm_mkdir_p(dir, 0775) != 0) return -1;
        snprintf(path, sizeof path, "%s/%ld.png", dir, idx);
        if (adm_file_write_atomic(path, NULL, data, len) != 0) return -1;
        adm_collect_image im;
        memset(&im, 0, sizeof im);
        snprintf(im.job, sizeof im.job, "%s", job);
        im.index = (int)idx;
        im.seed = strtoll(hdr(head, "Adm-Seed"), NULL, 10);
        snprintf(im.sha256, sizeof im.sha256, "%s", sha);
        snprintf(im.box, sizeof im.box, "%s", hdr(head, "Adm-Box"));
        char real[PATH_MAX];
        if (!realpath(path, real)) snprintf(real, sizeof real, "%.4000s", path);
        snprintf(im.path, sizeof im.path, "%.4000s", real);
        im.bytes = (int64_t)len;
        im.local_job_id = strtoll(hdr(head, "Adm-Local-Job"), NULL, 10);
        im.stream_seq = seq;
        if (adm_collect_add_image(x->db, &im) != 0) return -1;
        x->images++;
        return 0;
    }
    if (!strcmp(kind, "end")) {
        const char *state = hdr(head, "Adm-State");
        char *text = adm_malloc(len + 1);
        if (!text) return -1;
        memcpy(text, data, len);
        text[len] = 0;
        if (!strcmp(state, "done")) {
            if (adm_mkdir_p(dir, 0775) != 0) { free(text); return -1; }
            snprintf(path, sizeof path, "%s/provenance.json", dir);
            if (adm_file_write_atomic(path, NULL, data, len) != 0) { free(text); return -1; }
        }
        int rc = adm_collect_add_end(x->db, job, state, hdr(head, "Adm-Box"), text, seq);
        free(text);
        if (rc == 0) x->ends++;
        return rc;
    }
    fprintf(stderr, "admctl: results message %llu: unknown Adm-Kind '%s': skipped\n", (unsigned long long)seq, kind);
    return 0;
}

/* ADM_RESULTS read in batches from a stream sequence on, through an
 * ephemeral pull consumer without acks (nothing the boxes or another collect
 * see changes; the server deletes it when collect unsubscribes or is gone):
 * one request per batch instead of one js_GetMsg per message. */
#define COLLECT_BATCH 256
#define COLLECT_BATCH_BYTES (16 << 20)

typedef struct {
    natsSubscription *sub;
    natsMsgList list;
    int at;
    int64_t timeout_ms;
    int last_batch;         /* the server said nothing is left after the last message fetched */
} results_reader;

static int reader_open(results_reader *r, adm_fleet_conn *c, uint64_t from) {
    memset(r, 0, sizeof *r);
    r->timeout_ms = c->timeout_ms;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = ADM_FLEET_RESULTS_STREAM;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from;
    so.Config.AckPolicy = js_AckNone;
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&r->sub, c->js, ADM_FLEET_RESULTS_PREFIX ".>", NULL, NULL, &so, &jerr);
    return s == NATS_OK ? 0 : adm_fleet_fail("results", s, jerr);
}

/* The next message and its stream sequence: 1, or 0 when none is left up to
 * seq `last`, -1 on error. */
static int reader_next(results_reader *r, uint64_t last, natsMsg **m, uint64_t *seq) {
    *m = NULL;
    while (r->at >= r->list.Count) {
        natsMsgList_Destroy(&r->list);
        memset(&r->list, 0, sizeof r->list);
        r->at = 0;
        if (r->last_batch) return 0;
        jsFetchRequest req;
        jsFetchRequest_Init(&req);
        req.Batch = COLLECT_BATCH;
        req.MaxBytes = COLLECT_BATCH_BYTES;
        req.Expires = r->timeout_ms * 1000000LL;
        req.NoWait = true;                     /* what is there now, not a full batch */
        natsStatus s = natsSubscription_FetchRequest(&r->list, r->sub, &req);
        if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) return 0;     /* the rest up to `last` was deleted */
        if (s != NATS_OK) return adm_fleet_fail("results", s, 0);
    }
    natsMsg *msg = r->list.Msgs[r->at];
    r->list.Msgs[r->at++] = NULL;
    jsMsgMetaData *meta = NULL;
    natsStatus s = natsMsg_GetMetaData(&meta, msg);
    if (s != NATS_OK) { natsMsg_Destroy(msg); return adm_fleet_fail("results message", s, 0); }
    *seq = meta->Sequence.Stream;
    if (meta->NumPending == 0 || *seq >= last) r->last_batch = 1;
    jsMsgMetaData_Destroy(meta);
    if (*seq > last) { natsMsg_Destroy(msg); r->at = r->list.Count; return 0; }   /* newer than this run */
    *m = msg;
    return 1;
}

static void reader_close(results_reader *r) {
    natsMsgList_Destroy(&r->list);
    if (r->sub) { natsSubscription_Unsubscribe(r->sub); natsSubscription_Destroy(r->sub); }
}

static int fleet_collect(int argc, char **argv) {
    const char *url = NULL, *creds = NULL, *ca = NULL, *out = NULL, *dbp = NULL;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--nats", &url) || admctl_opt(argc, argv, &i, "--nats-creds", &creds) ||
            admctl_opt(argc, argv, &i, "--nats-ca", &ca) || admctl_opt(argc, argv, &i, "--out", &out) ||
            admctl_opt(argc, argv, &i, "--db", &dbp))
            continue;
        usage(stderr);
        admctl_fail("fleet collect: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!url || !out) { usage(stderr); admctl_fail("fleet collect: --nats URL and --out DIR are required"); return ADMCTL_USAGE; }
    if (adm_mkdir_p(out, 0775) != 0) return admctl_fail("--out %s: %s", out, adm_last_error());
    char dbbuf[4200];
    if (!dbp) { snprintf(dbbuf, sizeof dbbuf, "%s/fleet.db", out); dbp = dbbuf; }
    adm_fleet_conn *c;
    if (connect_opts(url, creds, ca, NULL, &c) != ADMCTL_OK) return ADMCTL_FAIL;
    collect_ctx x = {.out = out};
    if (adm_collect_open(dbp, &x.db) != 0) { admctl_fail("%s", adm_last_error()); adm_fleet_close(c); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    uint64_t from = 0;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, ADM_FLEET_RESULTS_STREAM, NULL, &jerr);
    if (s != NATS_OK || adm_collect_last_seq(x.db, &from) != 0) {
        if (s != NATS_OK) adm_fleet_fail("results stream", s, jerr);
        rc = admctl_fail("%s", adm_last_error());
        goto out;
    }
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    uint64_t q = from + 1 > first ? from + 1 : first;
    double t0 = adm_now();
    assembly asm_[16];
    memset(asm_, 0, sizeof asm_);
    uint64_t done_upto = from;     /* every message up to here is taken in whole */
    int64_t messages = 0;
    results_reader rd;
    memset(&rd, 0, sizeof rd);
    if (adm_collect_begin(x.db) != 0) { rc = admctl_fail("%s", adm_last_error()); goto out; }
    if (q <= last && q > 0 && reader_open(&rd, c, q) != 0) { rc = admctl_fail("%s", adm_last_error()); goto out; }
    for (uint64_t seq = 0; q <= last && q > 0; q = seq + 1) {
        natsMsg *m = NULL;
        int got = reader_next(&rd, last, &m, &seq);
        if (got < 0) { rc = admctl_fail("%s", adm_last_error()); break; }
        if (got == 0) { q = last + 1; break; }
        q = seq;
        messages++;
        int k = 0, n = 0;
        if (sscanf(hdr(m, "Adm-Part"), "%d/%d", &k, &n) != 2 || k < 1 || n < 1 || k > n || n > 100000) k = n = 1;
        const char *subj = natsMsg_GetSubject(m);
        const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
        size_t len = (size_t)natsMsg_GetDataLength(m);
        if (n == 1) {
            if (take_result(&x, m, data, len, q) != 0) { rc = admctl_fail("%s", adm_last_error()); natsMsg_Destroy(m); break; }
            natsMsg_Destroy(m);
            continue;
        }
        /* a part of a large result: assemble by subject */
        int slot = -1, free_slot = -1;
        for (int i = 0; i < 16; i++) {
            if (asm_[i].head && !strcmp(asm_[i].subject, subj)) slot = i;
            if (!asm_[i].head && free_slot < 0) free_slot = i;
        }
        if (k == 1) {
            if (slot >= 0) assembly_free(&asm_[slot]);       /* a retried result starts over */
            else slot = free_slot;
            if (slot < 0) { rc = admctl_fail("too many results in parts at once"); natsMsg_Destroy(m); break; }
            snprintf(asm_[slot].subject, sizeof asm_[slot].subject, "%s", subj);
            asm_[slot].first_seq = q;
            asm_[slot].parts = n;
            asm_[slot].next = 1;
            asm_[slot].head = m;
        } else if (slot < 0 || asm_[slot].next != k || asm_[slot].parts != n) {
            natsMsg_Destroy(m);            /* a part without its beginning (a dedupe-dropped retry): skip */
            continue;
        }
        assembly *a = &asm_[slot];
        uint8_t *grown = realloc(a->data, a->len + len + 1);
        if (!grown) { rc = admctl_fail("out of memory"); if (a->head != m) natsMsg_Destroy(m); break; }
        a->data = grown;
        memcpy(a->data + a->len, data, len);
        a->len += len;
        a->next++;
        if (a->head != m) natsMsg_Destroy(m);
        if (a->next > a->parts) {
            int trc = take_result(&x, a->head, a->data, a->len, a->first_seq);
            assembly_free(a);
            if (trc != 0) { rc = admctl_fail("%s", adm_last_error()); break; }
        }
    }
    /* resume next time before the first result still in parts */
    done_upto = q > 0 ? q - 1 : 0;
    for (int i = 0; i < 16; i++)
        if (asm_[i].head) { if (asm_[i].first_seq - 1 < done_upto) done_upto = asm_[i].first_seq - 1; assembly_free(&asm_[i]); }
    reader_close(&rd);
    if (rc == ADMCTL_OK && (adm_collect_set_last_seq(x.db, done_upto) != 0 || adm_collect_commit(x.db) != 0))
        rc = admctl_fail("%s", adm_last_error());
    if (rc == ADMCTL_OK) {
        int64_t ti = 0, te = 0;
        adm_collect_counts(x.db, &ti, &te);
        printf("collected %lld new image%s and %lld job end%s from %lld message%s in %.2f s (%lld already collected); "
               "sha256 checked: %lld bad, %lld conflicting; %s holds %lld images, %lld job ends\n",
               (long long)x.images, x.images == 1 ? "" : "s", (long long)x.ends, x.ends == 1 ? "" : "s",
               (long long)messages, messages == 1 ? "" : "s", adm_now() - t0, (long long)x.already, (long long)x.bad,
               (long long)x.conflicts, dbp, (long long)ti, (long long)te);
        if (x.bad) rc = admctl_fail("%lld result%s failed the sha256 check (see above)", (long long)x.bad, x.bad == 1 ? "" : "s");
    }
out:
    adm_collect_close(x.db);
    adm_fleet_close(c);
    return rc;
}

int cmd_fleet(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ADMCTL_USAGE : ADMCTL_OK;
    }
    if (!strcmp(argv[1], "submit")) return fleet_submit(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status")) return fleet_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "collect")) return fleet_collect(argc - 1, argv + 1);
    usage(stderr);
    admctl_fail("fleet: unknown subcommand '%s'", argv[1]);
    return ADMCTL_USAGE;
}
