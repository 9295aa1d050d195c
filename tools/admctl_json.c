/* admctl_json.c — JSON forms of the spool's records (see admctl_json.h). */
#include "admctl_json.h"
#include "admctl.h"
#include "admctl_spool.h"
#include <math.h>
#include <stdio.h>

json_object *admctl_json_text(const char *s) { return s && *s ? json_object_new_string(s) : NULL; }

static void add(json_object *o, const char *k, json_object *v) { json_object_object_add(o, k, v); }
static json_object *num(double v) { return isfinite(v) ? json_object_new_double(v) : NULL; }
static json_object *i64(int64_t v) { return json_object_new_int64(v); }
/* -1 means "none" for class and seed */
static json_object *opt64(int64_t v) { return v < 0 ? NULL : json_object_new_int64(v); }

json_object *admctl_json_job(const adm_spool_job *j) {
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    add(o, "id", i64(j->id));
    add(o, "state", admctl_json_text(j->state));
    add(o, "model", admctl_json_text(j->req.model));
    add(o, "class", opt64(j->req.klass));
    add(o, "count", i64(j->req.count));
    add(o, "scale", num(j->req.scale));
    add(o, "sampler", admctl_json_text(j->req.sampler));
    /* ddpm/ddim run a respacing (and eta); dpm* samplers run steps, skip and
     * thresholding: the other group is null, as in the spool's views (007) */
    int dpm = j->req.steps > 0;
    add(o, "respacing", dpm ? NULL : admctl_json_text(j->req.respacing));
    add(o, "eta", dpm ? NULL : num(j->req.eta));
    add(o, "steps", dpm ? i64(j->req.steps) : NULL);
    add(o, "skip", dpm ? admctl_json_text(j->req.skip) : NULL);
    add(o, "thresholding", dpm ? admctl_json_text(j->req.thresholding) : NULL);
    add(o, "seed", opt64(j->req.seed));
    add(o, "priority", i64(j->req.priority));
    add(o, "outdir", admctl_json_text(j->req.outdir));
    add(o, "max_attempts", i64(j->req.max_attempts));
    add(o, "attempts", i64(j->attempts));
    add(o, "worker", admctl_json_text(j->worker));
    add(o, "lease_until", admctl_json_text(j->lease_until));
    add(o, "step", i64(j->step));
    add(o, "total_steps", i64(j->total_steps));
    add(o, "images_done", i64(j->images_done));
    add(o, "queue_position", j->position > 0 ? i64(j->position) : NULL);
    add(o, "created_at", admctl_json_text(j->created_at));
    add(o, "started_at", admctl_json_text(j->started_at));
    add(o, "updated_at", admctl_json_text(j->updated_at));
    add(o, "finished_at", admctl_json_text(j->finished_at));
    add(o, "error", admctl_json_text(j->error));
    return o;
}

json_object *admctl_json_output(const adm_spool_output *x) {
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    add(o, "index", i64(x->index));
    add(o, "seed", opt64(x->seed));
    add(o, "class", opt64(x->klass));
    add(o, "noise_algorithm", admctl_json_text(x->noise_algorithm));
    add(o, "path", admctl_json_text(x->path));
    add(o, "bytes", i64(x->bytes));
    add(o, "sha256", admctl_json_text(x->sha256));
    add(o, "seconds", num(x->seconds));
    add(o, "created_at", admctl_json_text(x->created_at));
    return o;
}

json_object *admctl_json_provenance(const adm_spool_provenance *p) {
    json_object *o = json_object_new_object();
    if (!o) return NULL;
#define T(f) add(o, #f, admctl_json_text(p->f))
#define N(f) add(o, #f, num(p->f))
#define I(f) add(o, #f, i64(p->f))
    T(host); T(worker); I(attempt); T(device_name); T(device_vendor); T(driver_version); T(opencl_version);
    T(admd_version); T(kernel_hash); T(clblast_version); T(model); T(unet_path); T(unet_config); T(unet_sha256);
    T(classifier_path); T(classifier_config); T(classifier_sha256); T(sampler); T(respacing); N(eta); N(scale);
    add(o, "steps", p->steps > 0 ? i64(p->steps) : NULL);
    add(o, "skip", p->steps > 0 ? admctl_json_text(p->skip) : NULL);
    add(o, "thresholding", p->steps > 0 ? admctl_json_text(p->thresholding) : NULL);
    add(o, "seed", opt64(p->seed));
    add(o, "class", opt64(p->klass));
    I(count); I(batch); I(image_size); I(channels); T(noise_algorithm); N(queue_wait_s); N(model_load_s);
    N(steps_s); N(encode_s); N(total_s); T(engine); T(recorded_at);
    /* the pool's batch provenance (schema 010; null on the one-job path) */
    add(o, "batch_min", p->passes > 0 ? i64(p->batch_min) : NULL);
    add(o, "batch_max", p->passes > 0 ? i64(p->batch_max) : NULL);
    add(o, "passes", p->passes > 0 ? i64(p->passes) : NULL);
    add(o, "passes_shared", p->passes > 0 ? i64(p->passes_shared) : NULL);
#undef T
#undef N
#undef I
    return o;
}

json_object *admctl_json_model(const adm_spool_model *m) {
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    add(o, "name", admctl_json_text(m->name));
    add(o, "unet_path", admctl_json_text(m->unet_path));
    add(o, "unet_config", admctl_json_text(m->unet_config));
    add(o, "unet_sha256", admctl_json_text(m->unet_sha256));
    add(o, "classifier_path", admctl_json_text(m->classifier_path));
    add(o, "classifier_config", admctl_json_text(m->classifier_config));
    add(o, "classifier_sha256", admctl_json_text(m->classifier_sha256));
    add(o, "image_size", m->image_size >= 0 ? i64(m->image_size) : NULL);
    add(o, "channels", m->channels >= 0 ? i64(m->channels) : NULL);
    add(o, "num_classes", m->num_classes >= 0 ? i64(m->num_classes) : NULL);
    add(o, "default_sampler", admctl_json_text(m->default_sampler));
    add(o, "default_respacing", admctl_json_text(m->default_respacing));
    add(o, "default_scale", num(m->default_scale));
    add(o, "default_steps", m->default_steps > 0 ? i64(m->default_steps) : NULL);
    add(o, "created_at", admctl_json_text(m->created_at));
    return o;
}

int admctl_json_print(json_object *o) {
    if (!o) return admctl_fail("out of memory building JSON");
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    int ok = text && printf("%s\n", text) >= 0 && fflush(stdout) == 0;
    json_object_put(o);
    return ok ? ADMCTL_OK : admctl_fail("cannot write the JSON document to stdout");
}

json_object *admctl_json_class_names(const adm_labels *l) {
    if (!l || l->n == 0) return NULL;
    json_object *a = json_object_new_array();
    for (int k = 0; a && k < l->n; k++) json_object_array_add(a, json_object_new_string(l->name[k]));
    return a;
}
