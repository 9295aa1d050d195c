/* fleet_job.c — a job request as the fleet's JSON message and back, and a
 * provenance row as JSON for the results stream.  A job message comes from
 * anyone who may publish on adm.jobs: parsed with bounds (size, depth,
 * known keys, types, ranges, string lengths) before the spool's schema
 * judges the values. */
#include "fleet.h"
#include "util.h"
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_str(json_object *o, const char *k, const char *v) {
    if (v && *v) json_object_object_add(o, k, json_object_new_string(v));
}

char *adm_fleet_job_json(const adm_spool_request *r) {
    json_object *o = json_object_new_object();
    if (!o) { adm_error("out of memory"); return NULL; }
    json_object_object_add(o, "v", json_object_new_int(1));
    put_str(o, "model", r->model);
    json_object_object_add(o, "class", r->klass >= 0 ? json_object_new_int(r->klass) : NULL);
    json_object_object_add(o, "count", json_object_new_int(r->count));
    if (!isnan(r->scale)) json_object_object_add(o, "scale", json_object_new_double(r->scale));
    put_str(o, "sampler", r->sampler);
    put_str(o, "respacing", r->respacing);
    if (!isnan(r->eta)) json_object_object_add(o, "eta", json_object_new_double(r->eta));
    if (r->steps) json_object_object_add(o, "steps", json_object_new_int(r->steps));
    put_str(o, "skip", r->skip);
    put_str(o, "thresholding", r->thresholding);
    if (r->seed >= 0) json_object_object_add(o, "seed", json_object_new_int64(r->seed));
    if (r->priority) json_object_object_add(o, "priority", json_object_new_int(r->priority));
    put_str(o, "outdir", r->outdir);
    if (r->max_attempts > 0) json_object_object_add(o, "max_attempts", json_object_new_int(r->max_attempts));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *out = text ? strdup(text) : NULL;
    json_object_put(o);
    if (!out) adm_error("out of memory");
    return out;
}

/* key's value as a whole number in [lo, hi]. */
static int get_int(json_object *v, const char *key, double lo, double hi, int64_t *out) {
    json_type t = json_object_get_type(v);
    double x;
    if (t == json_type_int) x = (double)json_object_get_int64(v);
    else if (t == json_type_double) x = json_object_get_double(v);
    else return adm_error("'%s' must be a whole number", key);
    if (!isfinite(x) || x != floor(x)) return adm_error("'%s' must be a whole number", key);
    if (x < lo || x > hi) return adm_error("'%s' must be from %.0f to %.0f", key, lo, hi);
    *out = t == json_type_int ? json_object_get_int64(v) : (int64_t)x;
    return 0;
}

static int get_num(json_object *v, const char *key, double *out) {
    json_type t = json_object_get_type(v);
    if (t != json_type_int && t != json_type_double) return adm_error("'%s' must be a number", key);
    *out = json_object_get_double(v);
    if (!isfinite(*out)) return adm_error("'%s' must be a finite number", key);
    return 0;
}

static int get_str(json_object *v, const char *key, char *dst, size_t n) {
    if (json_object_get_type(v) != json_type_string) return adm_error("'%s' must be a string", key);
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (strlen(s) != len) return adm_error("'%s' contains a NUL byte", key);
    if (len >= n) return adm_error("'%s' is too long (at most %zu bytes)", key, n - 1);
    memcpy(dst, s, len + 1);
    return 0;
}

int adm_fleet_job_parse(const char *data, size_t len, adm_spool_request *r) {
    adm_spool_request_init(r);
    if (len > ADM_FLEET_MAX_JOB_BYTES) return adm_error("job message of %zu bytes (at most %d)", len, ADM_FLEET_MAX_JOB_BYTES);
    if (len == 0) return adm_error("bad JSON: empty message");
    json_tokener *tok = json_tokener_new_ex(8);
    if (!tok) return adm_error("out of memory");
    json_object *o = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || jerr != json_tokener_success) {
        if (o) json_object_put(o);
        if (jerr == json_tokener_continue || jerr == json_tokener_success) return adm_error("bad JSON: the text ends early");
        return adm_error("bad JSON: %s", json_tokener_error_desc(jerr));
    }
    for (size_t i = used; i < len; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t') {
            json_object_put(o);
            return adm_error("bad JSON: text after the object (at byte %zu)", i);
        }
    int rc = 0, have_model = 0;
    if (json_object_get_type(o) != json_type_object) { json_object_put(o); return adm_error("bad JSON: not an object"); }
    json_object_object_foreach(o, key, v) {
        int64_t n;
        double x;
        int is_null = json_object_get_type(v) == json_type_null;
        if (!strcmp(key, "v")) {
            if (get_int(v, key, 1, 1, &n)) rc = adm_error("'v' must be 1 (this admd reads version 1 job messages)");
        } else if (!strcmp(key, "model")) {
            rc = get_str(v, key, r->model, sizeof r->model);
            have_model = 1;
        } else if (!strcmp(key, "class")) {
            if (is_null) r->klass = -1;
            else if (!(rc = get_int(v, key, 0, 1e9, &n))) r->klass = (int)n;
        } else if (!strcmp(key, "count")) {
            if (!(rc = get_int(v, key, -1e9, 1e9, &n))) r->count = (int)n;
        } else if (!strcmp(key, "scale")) {
            if (!is_null && !(rc = get_num(v, key, &x))) r->scale = x;
        } else if (!strcmp(key, "eta")) {
            if (!is_null && !(rc = get_num(v, key, &x))) r->eta = x;
        } else if (!strcmp(key, "sampler")) rc = get_str(v, key, r->sampler, sizeof r->sampler);
        else if (!strcmp(key, "respacing")) rc = get_str(v, key, r->respacing, sizeof r->respacing);
        else if (!strcmp(key, "skip")) rc = get_str(v, key, r->skip, sizeof r->skip);
        else if (!strcmp(key, "thresholding")) rc = get_str(v, key, r->thresholding, sizeof r->thresholding);
        else if (!strcmp(key, "outdir")) rc = get_str(v, key, r->outdir, sizeof r->outdir);
        else if (!strcmp(key, "steps")) {
            if (!(rc = get_int(v, key, -1e9, 1e9, &n))) r->steps = n == 0 ? -1 : (int)n;   /* 0: refused by the schema */
        } else if (!strcmp(key, "seed")) {
            /* exact 64-bit integers (a double range check would refuse seeds near 2^63) */
            if (!is_null) {
                errno = 0;
                int64_t sv = json_object_get_type(v) == json_type_int ? json_object_get_int64(v) : -1;
                if (sv < 0 || errno || (sv == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
                    rc = adm_error("'seed' must be a whole number from 0 to %lld", (long long)INT64_MAX);
                else r->seed = sv;
            }
        } else if (!strcmp(key, "priority")) {
            if (!(rc = get_int(v, key, -1e9, 1e9, &n))) r->priority = (int)n;
        } else if (!strcmp(key, "max_attempts")) {
            if (!(rc = get_int(v, key, 1, 100, &n))) r->max_attempts = (int)n;
        } else rc = adm_error("unknown key '%.64s'", key);
        if (rc) break;
    }
    json_object_put(o);
    if (rc) return -1;
    if (!have_model || !r->model[0]) return adm_error("'model' is missing");
    return 0;
}

static void put_num(json_object *o, const char *k, double v) {
    json_object_object_add(o, k, isfinite(v) ? json_object_new_double(v) : NULL);
}

char *adm_fleet_provenance_json(const adm_spool_provenance *p) {
    json_object *o = json_object_new_object();
    if (!o) { adm_error("out of memory"); return NULL; }
    json_object_object_add(o, "job_id", json_object_new_int64(p->job_id));
    put_str(o, "host", p->host);
    put_str(o, "worker", p->worker);
    json_object_object_add(o, "attempt", json_object_new_int(p->attempt));
    put_str(o, "device_name", p->device_name);
    put_str(o, "device_vendor", p->device_vendor);
    put_str(o, "driver_version", p->driver_version);
    put_str(o, "opencl_version", p->opencl_version);
    put_str(o, "admd_version", p->admd_version);
    put_str(o, "kernel_hash", p->kernel_hash);
    put_str(o, "clblast_version", p->clblast_version);
    put_str(o, "model", p->model);
    put_str(o, "unet_sha256", p->unet_sha256);
    put_str(o, "unet_config", p->unet_config);
    put_str(o, "classifier_sha256", p->classifier_sha256);
    put_str(o, "classifier_config", p->classifier_config);
    put_str(o, "sampler", p->sampler);
    put_str(o, "respacing", p->respacing);
    put_num(o, "eta", p->eta);
    put_num(o, "scale", p->scale);
    json_object_object_add(o, "steps", json_object_new_int(p->steps));
    put_str(o, "skip", p->skip);
    put_str(o, "thresholding", p->thresholding);
    json_object_object_add(o, "seed", json_object_new_int64(p->seed));
    json_object_object_add(o, "class", p->klass >= 0 ? json_object_new_int(p->klass) : NULL);
    json_object_object_add(o, "count", json_object_new_int(p->count));
    json_object_object_add(o, "batch", json_object_new_int(p->batch));
    json_object_object_add(o, "image_size", json_object_new_int(p->image_size));
    json_object_object_add(o, "channels", json_object_new_int(p->channels));
    put_str(o, "noise_algorithm", p->noise_algorithm);
    put_num(o, "queue_wait_s", p->queue_wait_s);
    put_num(o, "model_load_s", p->model_load_s);
    put_num(o, "steps_s", p->steps_s);
    put_num(o, "encode_s", p->encode_s);
    put_num(o, "total_s", p->total_s);
    put_str(o, "recorded_at", p->recorded_at);
    put_str(o, "engine", p->engine);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char *out = text ? strdup(text) : NULL;
    json_object_put(o);
    if (!out) adm_error("out of memory");
    return out;
}
