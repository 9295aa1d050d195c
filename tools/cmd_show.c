/* cmd_show.c — `admctl show JOBS`: everything the spool knows about a job:
 * the request, its state, the provenance record (device, driver, versions,
 * file hashes, timings) and every output with its seed and sha256; classes
 * with their names when the model has them. */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_ids.h"
#include "admctl_json.h"
#include "admctl_spool.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl show JOBS... [--state S] [--paths | --json] [--db PATH]\n"
        "\n"
        "A job's parameters, state, provenance and outputs.\n"
        "  JOBS          job ids: 3, 3,5 or 5-9; --state S adds every job in state S\n"
        "  --paths       print only the outputs' PNG paths, one per line (for scripts)\n"
        "  --json        one JSON document on stdout: an array of the jobs, each with\n"
        "                \"provenance\" (null until it ends) and \"outputs\"\n"
        ADMCTL_DB_HELP);
}

/* The job's model's class names (none when it has none or is gone). */
static void job_labels(adm_spool *s, const adm_spool_job *j, adm_labels *l) {
    if (admctl_load_labels(s, j->req.model, l) != 0) memset(l, 0, sizeof *l);
}

/* " (name)" or "" */
static const char *paren_name(const adm_labels *l, int k, char *buf, size_t n) {
    const char *name = adm_labels_name(l, k);
    if (!name) return "";
    snprintf(buf, n, " (%s)", name);
    return buf;
}

static void show_job(const adm_spool_job *j, const adm_labels *l) {
    char prog[ADM_SPOOL_TEXT + 64];
    admctl_job_progress(j, prog, sizeof prog);
    printf("job %lld: %s (%s)\n", (long long)j->id, j->state, prog);
    printf("  model       %s\n", j->req.model);
    if (j->req.klass < 0) printf("  class       random per image\n");
    else {
        char nm[ADM_LABEL_MAX + 4];
        printf("  class       %d%s\n", j->req.klass, paren_name(l, j->req.klass, nm, sizeof nm));
    }
    char how[ADM_SPOOL_SPEC + 128];
    printf("  count       %d\n  scale       %g\n  sampler     %s\n", j->req.count, j->req.scale,
           adm_spool_sampling_text(j->req.sampler, j->req.respacing, j->req.eta, j->req.steps, j->req.skip,
                                   j->req.thresholding, how, sizeof how));
    if (j->req.seed < 0) printf("  seed        (chosen by the daemon when it starts)\n");
    else printf("  seed        %lld\n", (long long)j->req.seed);
    printf("  priority    %d\n  outdir      %s\n  attempts    %d of %d\n", j->req.priority,
           j->req.outdir[0] ? j->req.outdir : "(default)", j->attempts, j->req.max_attempts);
    printf("  created     %s\n", j->created_at);
    if (j->started_at[0]) printf("  started     %s\n", j->started_at);
    if (j->finished_at[0]) printf("  finished    %s\n", j->finished_at);
    if (j->worker[0] && j->lease_until[0]) printf("  worker      %s (lease until %s)\n", j->worker, j->lease_until);
    else if (j->worker[0]) printf("  worker      %s\n", j->worker);
    if (j->error[0]) printf("  error       %s\n", j->error);
}

static void show_provenance(const adm_spool_provenance *p, const adm_labels *l) {
    printf("provenance (attempt %d, recorded %s)\n", p->attempt, p->recorded_at);
    printf("  host        %s  worker %s\n", p->host, p->worker);
    printf("  device      %s (%s)\n  driver      %s, %s\n", p->device_name, p->device_vendor, p->driver_version,
           p->opencl_version);
    printf("  admd        %s, kernels sha256 %.16s..., CLBlast %s\n", p->admd_version, p->kernel_hash, p->clblast_version);
    if (p->engine[0]) printf("  engine      %s\n", p->engine);
    printf("  unet        %s\n              sha256 %s\n              config %s\n", p->unet_path, p->unet_sha256,
           p->unet_config);
    if (p->classifier_path[0])
        printf("  classifier  %s\n              sha256 %s\n              config %s\n", p->classifier_path,
               p->classifier_sha256, p->classifier_config);
    char how[ADM_SPOOL_SPEC + 128];
    adm_spool_sampling_text(p->sampler, p->respacing, p->eta, p->steps, p->skip, p->thresholding, how, sizeof how);
    char nm[ADM_LABEL_MAX + 4];
    printf("  sampling    %s, scale %g, seed %lld, class %d%s, %d image(s) %dx%dx%d, batch %d\n", how, p->scale,
           (long long)p->seed, p->klass, paren_name(l, p->klass, nm, sizeof nm), p->count, p->image_size,
           p->image_size, p->channels, p->batch);
    if (p->passes > 0)
        printf("  pool        %d device passes of %d to %d images, %d of them shared with other jobs\n", p->passes,
               p->batch_min, p->batch_max, p->passes_shared);
    printf("  noise       %s\n", p->noise_algorithm);
    printf("  timings     queue wait %.2f s, model load %.2f s, steps %.2f s, encode %.2f s, total %.2f s\n",
           p->queue_wait_s, p->model_load_s, p->steps_s, p->encode_s, p->total_s);
}

/* Two-stage jobs and given images (schema 008): the stage columns. */
static void show_stages(const adm_spool_stages *st, int count) {
    if (st->upsampler[0]) {
        char how[ADM_SPOOL_SPEC + 128];
        printf("  upsampler   %s, %s (stage 2; stage-1 images %d of %d)\n", st->upsampler,
               adm_spool_sampling_text(st->up_sampler, st->up_respacing, st->up_eta, st->up_steps, "time_uniform",
                                       "none", how, sizeof how), st->stage1_done, count);
    }
    if (st->input_path[0]) printf("  input       %s\n", st->input_path);
}

static void show_stage_provenance(const adm_spool_provenance *p) {
    if (p->upsampler[0]) {
        char how[ADM_SPOOL_SPEC + 128];
        printf("  upsampler   %s: %s\n              sha256 %s\n              config %s\n", p->upsampler,
               p->up_unet_path, p->up_unet_sha256, p->up_unet_config);
        printf("  stage 2     %s, %d image(s) %dx%d, Philox stage 2 stream\n",
               adm_spool_sampling_text(p->up_sampler, p->up_respacing, p->up_eta, p->up_steps, "time_uniform", "none",
                                       how, sizeof how), p->count, p->up_image_size, p->up_image_size);
        printf("  stages      stage 1 %.2f s (its images' recorded seconds), stage 2 steps %.2f s, upsampler load %.2f s\n", p->stage1_steps_s,
               p->stage2_steps_s, p->up_model_load_s);
    }
    if (p->input_path[0]) printf("  input       %s\n", p->input_path);
}

static json_object *name_json(const adm_labels *l, int k) {
    const char *name = adm_labels_name(l, k);
    return name ? json_object_new_string(name) : NULL;
}

/* One job as JSON: its fields, the class's name (or null), provenance (or
 * null) and outputs (each with its class_name); NULL + error. */
static json_object *job_json(adm_spool *s, int64_t id) {
    adm_spool_job j;
    adm_spool_provenance p;
    adm_spool_output *outs = NULL;
    int n = 0, prc;
    if (adm_spool_job_get(s, id, &j) != 0 || (prc = adm_spool_provenance_get(s, id, &p)) < 0 ||
        adm_spool_outputs(s, id, &outs, &n) != 0) return NULL;
    adm_labels l;
    job_labels(s, &j, &l);
    json_object *o = admctl_json_job(&j), *arr = json_object_new_array();
    json_object_object_add(o, "class_name", name_json(&l, j.req.klass));
    json_object_object_add(o, "provenance", prc == 0 ? admctl_json_provenance(&p) : NULL);
    for (int k = 0; k < n; k++) {
        json_object *out = admctl_json_output(&outs[k]);
        json_object_object_add(out, "class_name", name_json(&l, outs[k].klass));
        json_object_array_add(arr, out);
    }
    adm_labels_free(&l);
    json_object_object_add(o, "outputs", arr);
    free(outs);
    adm_spool_stages st;
    if (adm_spool_stages_get(s, id, &st) != 0) { json_object_put(o); return NULL; }
    if (st.upsampler[0] || st.input_path[0]) {
        json_object *js = json_object_new_object();
        json_object_object_add(js, "upsampler", st.upsampler[0] ? json_object_new_string(st.upsampler) : NULL);
        json_object_object_add(js, "up_sampler", st.up_sampler[0] ? json_object_new_string(st.up_sampler) : NULL);
        json_object_object_add(js, "up_respacing", st.up_respacing[0] ? json_object_new_string(st.up_respacing) : NULL);
        json_object_object_add(js, "up_steps", st.up_steps > 0 ? json_object_new_int(st.up_steps) : NULL);
        json_object_object_add(js, "up_eta", json_object_new_double(st.up_eta));
        json_object_object_add(js, "input_path", st.input_path[0] ? json_object_new_string(st.input_path) : NULL);
        json_object_object_add(js, "stage1_done", json_object_new_int(st.stage1_done));
        if (prc == 0 && p.upsampler[0]) {
            json_object_object_add(js, "up_unet_path", json_object_new_string(p.up_unet_path));
            json_object_object_add(js, "up_unet_sha256", json_object_new_string(p.up_unet_sha256));
            json_object_object_add(js, "stage1_steps_s", json_object_new_double(p.stage1_steps_s));
            json_object_object_add(js, "stage2_steps_s", json_object_new_double(p.stage2_steps_s));
        }
        json_object_object_add(o, "stages", js);
        json_object *s1 = json_object_new_array();
        if (adm_spool_stage1_outputs(s, id, &outs, &n) != 0) { json_object_put(s1); json_object_put(o); return NULL; }
        for (int k = 0; k < n; k++) json_object_array_add(s1, admctl_json_output(&outs[k]));
        free(outs);
        json_object_object_add(o, "stage1_outputs", s1);
    }
    return o;
}

/* show_one's text: the job, its provenance and outputs. */
static int show_details(adm_spool *s, const adm_spool_job *jp, const adm_labels *l) {
    const adm_spool_job j = *jp;
    int64_t id = j.id;
    adm_spool_provenance p;
    adm_spool_output *outs = NULL;
    int n = 0, rc = ADMCTL_OK, prc;
    char nm[ADM_LABEL_MAX + 4];
    show_job(&j, l);
    adm_spool_stages st;
    if (adm_spool_stages_get(s, id, &st) != 0) return admctl_fail("%s", adm_last_error());
    show_stages(&st, j.req.count);
    prc = adm_spool_provenance_get(s, id, &p);
    if (prc < 0) return admctl_fail("%s", adm_last_error());
    if (prc == 0) { show_provenance(&p, l); show_stage_provenance(&p); }
    else printf("provenance  (none yet: recorded when the job ends)\n");
    if (adm_spool_outputs(s, id, &outs, &n) != 0) return admctl_fail("%s", adm_last_error());
    if (st.upsampler[0]) {             /* both stages side by side, per image */
        adm_spool_output *s1;
        int n1;
        if (adm_spool_stage1_outputs(s, id, &s1, &n1) != 0) { free(outs); return admctl_fail("%s", adm_last_error()); }
        printf("outputs (stage 1: %d, stage 2: %d)\n", n1, n);
        for (int k = 0; k < j.req.count; k++) {
            const adm_spool_output *a = k < n1 && s1[k].index == k ? &s1[k] : NULL, *b = k < n && outs[k].index == k ? &outs[k] : NULL;
            if (!a && !b) continue;
            printf("  %4d  seed %-12lld class %d%s", k, (long long)(a ? a->seed : b->seed), a ? a->klass : b->klass,
                   paren_name(l, a ? a->klass : b->klass, nm, sizeof nm));
            if (a && b && b->klass != a->klass) printf(" (stage 2: %d, drawn from the seed: the base model is unconditional)", b->klass);
            printf("\n");
            if (a) printf("        stage 1 %6.2f s  %7lld B  sha256 %.16s...  %s\n", a->seconds, (long long)a->bytes, a->sha256, a->path);
            if (b) printf("        stage 2 %6.2f s  %7lld B  sha256 %.16s...  %s\n", b->seconds, (long long)b->bytes, b->sha256, b->path);
        }
        free(s1);
        free(outs);
        return rc;
    }
    printf("outputs (%d)\n", n);
    for (int k = 0; k < n; k++) {
        char sh[80] = "";
        adm_labels_short(l, outs[k].klass, sh + 1, sizeof sh - 2);
        if (sh[1]) { sh[0] = '('; strcat(sh, ")"); }
        printf("  %4d  class %-3d %-10s seed %-12lld %6.2f s  %7lld B  sha256 %.16s...  %s\n", outs[k].index,
               outs[k].klass, sh, (long long)outs[k].seed, outs[k].seconds, (long long)outs[k].bytes, outs[k].sha256,
               outs[k].path);
    }
    free(outs);
    return rc;
}

/* Everything about one job (or with paths, its PNG paths only). */
static int show_one(adm_spool *s, int64_t id, int paths) {
    adm_spool_job j;
    adm_spool_output *outs = NULL;
    int n = 0;
    if (adm_spool_job_get(s, id, &j) != 0) return admctl_fail("%s", adm_last_error());
    if (paths) {
        if (adm_spool_outputs(s, id, &outs, &n) != 0) return admctl_fail("%s", adm_last_error());
        for (int k = 0; k < n; k++) printf("%s\n", outs[k].path);
        free(outs);
        return ADMCTL_OK;
    }
    adm_labels l;
    job_labels(s, &j, &l);
    int rc = show_details(s, &j, &l);
    adm_labels_free(&l);
    return rc;
}

int cmd_show(int argc, char **argv) {
    const char *db = NULL, *state = NULL;
    int paths = 0, json = 0;
    admctl_ids ids = {0};
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--state", &state) ||
            admctl_flag(argv, i, "--paths", &paths) || admctl_flag(argv, i, "--json", &json)) continue;
        if (argv[i][0] != '-' && admctl_ids_parse(&ids, argv[i]) == 0) continue;
        usage(stderr);
        admctl_fail("show: %s '%s'", argv[i][0] == '-' ? "unexpected argument" : adm_last_error(), argv[i]);
        admctl_ids_free(&ids);
        return ADMCTL_USAGE;
    }
    if (ids.n == 0 && !state) { usage(stderr); admctl_fail("show: which job?"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { admctl_ids_free(&ids); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    if (state && admctl_ids_add_state(&ids, s, state) != 0) rc = admctl_fail("show: %s", adm_last_error());
    if (rc == ADMCTL_OK && json) {
        json_object *arr = json_object_new_array();
        for (int k = 0; k < ids.n && arr; k++) {
            json_object *o = job_json(s, ids.v[k]);
            if (!o) { rc = admctl_fail("%s", adm_last_error()); json_object_put(arr); arr = NULL; break; }
            json_object_array_add(arr, o);
        }
        if (arr) rc = admctl_json_print(arr);
        ids.n = 0;
    }
    for (int k = 0; rc == ADMCTL_OK && k < ids.n; k++) {
        if (k > 0 && !paths) printf("\n");
        if (show_one(s, ids.v[k], paths) != ADMCTL_OK) rc = ADMCTL_FAIL;
    }
    admctl_ids_free(&ids);
    adm_spool_close(s);
    return rc;
}
