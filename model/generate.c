/* generate.c — "make these images": load a UNet (+ noisy classifier) onto a
 * device, then run a job's images through the sampler in device passes of
 * up to `batch` images, each with its own class, with Philox noise keyed by
 * (seed, image index) so that an image never depends on its batch.
 *
 * The schedule (schedule.h) is built on the host; the networks run on the
 * device (unet.h, classifier.h); the steps run on the device too on GPUs
 * and accelerators (sampler_dev.h) and on the host on CPU devices
 * (sampler.h), with the same bits either way (see device_step).
 */
#include "generate.h"
#include "generate_internal.h"
#include "classifier.h"
#include "config.h"
#include "dpm_solver.h"
#include "philox.h"
#include "sampler.h"
#include "sampler_dev.h"
#include "schedule.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read weights + config and build one network (UNet or classifier);
 * bytes / config_text: already read by the caller (adm_model_spec). */
static int load_net(adm_cl *cl, const char *path, const char *config, const uint8_t *bytes, size_t len,
                    const char *config_text, adm_kind kind, adm_config *cfg, adm_unet **unet, adm_classifier **clf) {
    adm_tensor_set w;
    memset(&w, 0, sizeof w);
    adm_config_defaults(cfg, kind);
    if (config_text ? adm_config_parse_text(config_text, strlen(config_text), kind, cfg)
                    : adm_config_parse(config, kind, cfg))
        return adm_error_prefix("%s", config);
    if (kind == ADM_KIND_CLASSIFIER ? cfg->kind != ADM_KIND_CLASSIFIER : cfg->kind == ADM_KIND_CLASSIFIER)
        return adm_error("%s: describes a %s, expected a %s", config,
                         cfg->kind == ADM_KIND_CLASSIFIER ? "classifier" : "UNet",
                         kind == ADM_KIND_CLASSIFIER ? "classifier" : "UNet");
    if (bytes ? adm_tensors_load_mem(path, bytes, len, &w) : adm_tensors_load(path, &w)) return -1;
    if (kind == ADM_KIND_CLASSIFIER) *clf = adm_classifier_load(cl, cfg, &w);
    else *unet = adm_unet_load(cl, cfg, &w);
    adm_tensors_free(&w);                     /* the device holds its own copy */
    if (kind == ADM_KIND_CLASSIFIER ? !*clf : !*unet) return adm_error_prefix("%s", path);
    return 0;
}

adm_model *adm_model_load(adm_cl *cl, const adm_model_spec *spec) { return adm_model_load_files(cl, spec, NULL); }

adm_model *adm_model_load_files(adm_cl *cl, const adm_model_spec *spec, const adm_model_files *files) {
    static const adm_model_files none;
    if (!files) files = &none;
    if (!cl || !spec || !spec->unet_path || !spec->unet_config) {
        adm_error("model load: a UNet path and config are required");
        return NULL;
    }
    adm_model *m = adm_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cl = cl;
    if (load_net(cl, spec->unet_path, spec->unet_config, files->unet_bytes, files->unet_len, files->unet_config_text,
                 ADM_KIND_UNET, &m->ucfg, &m->unet, NULL)) goto fail;
    if (m->ucfg.kind == ADM_KIND_SUPERRES && spec->classifier_path) {
        adm_error("%s: a super-resolution model samples unguided (no classifier)", spec->unet_config);
        goto fail;
    }
    snprintf(m->noise_schedule, sizeof m->noise_schedule, "%s", m->ucfg.noise_schedule[0] ? m->ucfg.noise_schedule : "linear");
    m->diffusion_steps = m->ucfg.diffusion_steps > 0 ? m->ucfg.diffusion_steps : 1000;
    if (spec->classifier_path) {
        if (!spec->classifier_config) { adm_error("model load: the classifier needs a config"); goto fail; }
        if (load_net(cl, spec->classifier_path, spec->classifier_config, files->classifier_bytes, files->classifier_len,
                     files->classifier_config_text, ADM_KIND_CLASSIFIER, &m->ccfg, NULL, &m->clf))
            goto fail;
        if (m->ccfg.image_size != m->ucfg.image_size || m->ccfg.in_channels != m->ucfg.in_channels) {
            adm_error("classifier %s sees %dx%d images with %d channels, the UNet makes %dx%d with %d",
                      spec->classifier_path, m->ccfg.image_size, m->ccfg.image_size, m->ccfg.in_channels,
                      m->ucfg.image_size, m->ucfg.image_size, m->ucfg.in_channels);
            goto fail;
        }
        if (m->ucfg.num_classes > 0 && m->ccfg.out_channels != m->ucfg.num_classes) {
            adm_error("classifier %s has %d classes, the UNet %d", spec->classifier_path,
                      m->ccfg.out_channels, m->ucfg.num_classes);
            goto fail;
        }
    }
    return m;
fail:
    adm_model_free(m);
    return NULL;
}

void adm_model_free(adm_model *m) {
    if (!m) return;
    if (m->unet) adm_unet_free(m->unet);
    if (m->clf) adm_classifier_free(m->clf);
    free(m);
}

/* Classes a job's images can have: the UNet's, else the classifier's. */
int adm_model_classes(const adm_model *m) {
    if (m->ucfg.num_classes > 0) return m->ucfg.num_classes;
    return m->clf ? m->ccfg.out_channels : 0;
}

void adm_model_get_info(const adm_model *m, adm_model_info *info) {
    memset(info, 0, sizeof *info);
    info->channels = m->ucfg.in_channels;
    info->image_size = m->ucfg.image_size;
    info->num_classes = adm_model_classes(m);
    info->has_classifier = m->clf != NULL;
    info->superres = m->ucfg.kind == ADM_KIND_SUPERRES;
    info->small_size = m->ucfg.small_size;
    info->device_bytes = adm_unet_device_bytes(m->unet) + (m->clf ? adm_classifier_device_bytes(m->clf) : 0);
}

int adm_model_set_diffusion(adm_model *m, const char *noise_schedule, int diffusion_steps) {
    if (noise_schedule) {
        if (strcmp(noise_schedule, "linear") && strcmp(noise_schedule, "cosine"))
            return adm_error("unknown noise schedule '%s' (want linear or cosine)", noise_schedule);
        snprintf(m->noise_schedule, sizeof m->noise_schedule, "%s", noise_schedule);
    }
    if (diffusion_steps > 0) m->diffusion_steps = diffusion_steps;
    return 0;
}

void adm_generate_x_T(uint64_t seed, int index, float *x, size_t n) {
    adm_noise_fill(seed, (uint32_t)index, ADM_NOISE_SLOT_XT, x, n);
}

void adm_generate_x_T_stage(uint64_t seed, int stage, int index, float *x, size_t n) {
    adm_noise_fill(seed, (uint32_t)index, ADM_NOISE_SLOT_STAGE(stage, ADM_NOISE_SLOT_XT), x, n);
}

void adm_low_res_from_u8(const uint8_t *px, int h, int w, int c, float *out) {
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h * w; i++) out[(size_t)ch * h * w + i] = (float)px[(size_t)i * c + ch] / 127.5f - 1.0f;
}

/* ---- the networks as the sampler sees them ---- */

static int net_model(void *user, const float *x, const float *t, const int64_t *y, int B, float *out) {
    adm_model *m = user;
    if (m->ucfg.kind == ADM_KIND_SUPERRES) {
        int S = m->ucfg.image_size;
        return adm_unet_forward_sized(m->unet, B, S, S, x, t, m->ucfg.num_classes > 0 ? y : NULL, m->low_res,
                                      m->low_size, m->low_size, out);
    }
    return adm_unet_forward(m->unet, x, t, m->ucfg.num_classes > 0 ? y : NULL, NULL, B, out);
}

static int net_grad(void *user, const float *x, const float *t, const int64_t *y, int B, float *grad) {
    adm_model *m = user;
    return adm_classifier_grad(m->clf, x, t, y, B, NULL, grad);
}

static int dnet_model(void *user, const adm_dt *x, const float *t, const int64_t *y, int B, adm_dt *out) {
    adm_model *m = user;
    return adm_unet_forward_dev(m->unet, B, x, t, m->ucfg.num_classes > 0 ? y : NULL, out);
}

static int dnet_grad(void *user, const adm_dt *x, const float *t, const int64_t *y, int B, adm_dt *grad) {
    adm_model *m = user;
    return adm_classifier_grad_dev(m->clf, x, t, y, B, grad);
}

/* Which loop runs the steps: the device-resident one (sampler_dev.h) on
 * GPUs and accelerators, where reading back the model output and gradient
 * and writing x twice per step would cross the bus; the host one on CPU
 * devices, whose memory is the host's (nothing to save), keeping the
 * reference-checked host loop the one CPUs run.  Both give the same bits
 * (tests/test_step.c).  ADMD_STEP=device|host overrides. */
static int device_step(const adm_model *m) {
    const char *env = getenv("ADMD_STEP");
    if (env && !strcmp(env, "device")) return 1;
    if (env && !strcmp(env, "host")) return 0;
    if (m->ucfg.kind == ADM_KIND_SUPERRES) return 0;   /* low_res goes through the host forward */
    return !(m->cl->type & CL_DEVICE_TYPE_CPU);
}

/* ---- noise sources ---- */

typedef struct {
    uint64_t seed;
    int stage;
    int first_index, B;
    size_t per_image;
    const float *recorded;          /* replay: [steps, B, C, H, W] */
} noise_src;

static int noise_next(void *user, int step, float *out, size_t n) {
    noise_src *ns = user;
    if (n != (size_t)ns->B * ns->per_image) return adm_error("noise: %zu floats asked, batch has %zu", n, (size_t)ns->B * ns->per_image);
    if (ns->recorded) {
        memcpy(out, ns->recorded + (size_t)step * n, n * sizeof(float));
        return 0;
    }
    for (int b = 0; b < ns->B; b++)
        adm_noise_fill(ns->seed, (uint32_t)(ns->first_index + b), ADM_NOISE_SLOT_STAGE(ns->stage, ADM_NOISE_SLOT_STEP(step)),
                       out + (size_t)b * ns->per_image, ns->per_image);
    return 0;
}

typedef struct {
    adm_gen_step_fn fn;
    void *user;
    int images_done, images_total;
} step_relay;

static int step_next(void *user, int step, int total, const float *x) {
    step_relay *r = user;
    return r->fn ? r->fn(r->user, step + 1, total, r->images_done, r->images_total) : 0;
}

void adm_plan_free(adm_sampling_plan *p) {
    if (p->dpm) adm_vp_schedule_free(&p->ns);
    else adm_schedule_free(&p->s);
}

/* The plan a request and model imply (checked, with clear errors). */
int adm_plan_build(const adm_model *m, const adm_gen_request *req, adm_sampling_plan *p) {
    memset(p, 0, sizeof *p);
    if (!(req->scale >= 0) || !isfinite(req->scale)) return adm_error("guidance scale %g: want a finite number >= 0", req->scale);
    if (req->scale > 0 && !m->clf) return adm_error("guidance scale %g needs a classifier (none loaded)", req->scale);
    const int learn_sigma = m->ucfg.out_channels == 2 * m->ucfg.in_channels;
    if (adm_dpm_kind_parse(req->sampler, &p->d.kind)) {
        p->d.steps = req->steps;
        p->d.scale = req->scale;
        p->d.learn_sigma = learn_sigma;
        p->d.lower_order_final = 1;
        if (adm_skip_type_parse(req->skip ? req->skip : "time_uniform", &p->d.skip)) return -1;
        const char *th = req->thresholding ? req->thresholding : "none";
        if (strcmp(th, "none") && strcmp(th, "dynamic"))
            return adm_error("unknown thresholding '%s' (want none or dynamic)", th);
        p->d.thresholding = !strcmp(th, "dynamic");
        if (adm_dpm_check(&p->d)) return -1;
        double *betas = adm_malloc(sizeof(double) * m->diffusion_steps);
        if (!betas) return -1;
        int rc = adm_beta_schedule(m->noise_schedule, m->diffusion_steps, betas) ||
                 adm_vp_schedule_init(&p->ns, betas, m->diffusion_steps) ? -1 : 0;
        free(betas);
        p->dpm = rc == 0;
        return rc;
    }
    adm_sampler_opts *o = &p->o;
    if (adm_sampler_kind_parse(req->sampler, &o->kind))
        return adm_error("unknown sampler '%s' (want ddpm, ddim, dpm++2m, dpm++3m or dpm3s)",
                         req->sampler ? req->sampler : "(none)");
    o->learn_sigma = learn_sigma;
    o->var_type = o->learn_sigma ? ADM_VAR_LEARNED_RANGE : ADM_VAR_FIXED_LARGE;
    o->eta = req->eta;
    o->scale = req->scale;
    if (o->kind == ADM_SAMPLER_DDIM && !(req->eta >= 0 && req->eta <= 1))
        return adm_error("DDIM eta %g: want 0..1", req->eta);
    return adm_schedule_build(&p->s, m->noise_schedule, m->diffusion_steps, req->respacing);
}

static int batch_run(adm_model *m, const adm_gen_request *req, const adm_sampling_plan *p,
                     const int64_t *y, int B, float *x, const float *noise, step_relay *relay) {
    int C = m->ucfg.in_channels, H = m->ucfg.image_size;
    noise_src ns = {req->seed, req->stage, req->first_index, B, (size_t)C * H * H, noise};
    adm_networks net = {net_model, m->clf ? net_grad : NULL, m};
    if (y) {
        int nc = adm_model_classes(m);
        for (int b = 0; b < B; b++)
            if (y[b] < 0 || y[b] >= nc) return adm_error("class %lld of image %d outside 0..%d", (long long)y[b], b, nc - 1);
    } else if (m->ucfg.num_classes > 0 || req->scale > 0) {
        return adm_error("this model needs a class for every image");
    }
    if (req->stage < 0 || req->stage > 255) return adm_error("noise stage %d: want 0..255", req->stage);
    /* the low_res of these B images (adm_generate points low_res at them) */
    if (m->ucfg.kind == ADM_KIND_SUPERRES) {
        if (!req->low_res) return adm_error("a super-resolution model needs a low-resolution image for every image");
        if (req->low_size < 1 || req->low_size > H)
            return adm_error("low-resolution size %d: want 1..%d (the upsampler's output size)", req->low_size, H);
        if (m->ucfg.small_size > 0 && req->low_size != m->ucfg.small_size)
            return adm_error("low-resolution images are %dx%d, the upsampler takes %dx%d", req->low_size,
                             req->low_size, m->ucfg.small_size, m->ucfg.small_size);
    } else if (req->low_res) {
        return adm_error("a low-resolution input is only for super-resolution models");
    }
    m->low_res = req->low_res;
    m->low_size = req->low_size;
    /* DPM-Solver: host linear combinations between the networks' passes */
    if (p->dpm) return adm_dpm_sample(&p->ns, &p->d, &net, y, B, C, H, H, x, step_next, relay);
    if (device_step(m)) {
        adm_dev_networks dnet = {dnet_model, m->clf ? dnet_grad : NULL, m};
        adm_dev_noise dn = {req->seed, (uint32_t)req->first_index, noise, (uint32_t)req->stage};
        return adm_sample_loop_dev(m->cl, &p->s, &p->o, &dnet, y, B, C, H, H, x, &dn, step_next, relay);
    }
    return adm_sample_loop(&p->s, &p->o, &net, y, B, C, H, H, x, noise_next, &ns, step_next, relay);
}

int adm_generate_batch(adm_model *m, const adm_gen_request *req, const int64_t *y, int B, float *x,
                       const float *noise, int noise_steps, adm_gen_step_fn on_step, void *user) {
    adm_sampling_plan p;
    if (B < 1) return adm_error("generate: batch of %d images", B);
    if (adm_plan_build(m, req, &p)) return -1;
    int rc;
    if (noise && p.dpm) {
        rc = adm_error("%s is deterministic: it takes no recorded noise", req->sampler);
    } else if (noise && noise_steps != p.s.num_steps) {
        rc = adm_error("recorded noise has %d steps, respacing '%s' takes %d", noise_steps, req->respacing, p.s.num_steps);
    } else {
        step_relay relay = {on_step, user, 0, B};
        rc = batch_run(m, req, &p, y, B, x, noise, &relay);
    }
    adm_plan_free(&p);
    return rc;
}

int adm_generate_pass_size(int requested, int image_size, int count) {
    int batch = requested;
    if (batch <= 0) {                      /* about 64 images of 32x32, fewer when larger */
        long px = (long)image_size * image_size;
        long b = 64L * 32 * 32 / (px > 0 ? px : 1);
        batch = b < 1 ? 1 : b > 64 ? 64 : (int)b;
    }
    return batch < count ? batch : count;
}

int adm_generate(adm_model *m, const adm_gen_request *req,
                 adm_gen_step_fn on_step, adm_gen_image_fn on_image, void *user) {
    adm_sampling_plan p;
    if (req->count < 1 || req->first_index < 0 || req->first_index > 0x7fffffff - req->count)
        return adm_error("generate: images %d..%d", req->first_index, req->first_index + req->count - 1);
    if (adm_plan_build(m, req, &p)) return -1;
    adm_ops_engine_clear_used(m->cl);          /* the job's engine summary counts its own shapes */

    int C = m->ucfg.in_channels, H = m->ucfg.image_size, W = H, nc = adm_model_classes(m);
    size_t per = (size_t)C * H * W;
    int batch = adm_generate_pass_size(req->batch, m->ucfg.image_size, req->count);
    float *x = adm_malloc(sizeof(float) * per * batch);
    int64_t *y = adm_malloc(sizeof(int64_t) * batch);
    uint8_t *px = adm_malloc(per);
    int rc = -1;
    if (!x || !y || !px) goto done;

    for (int done = 0; done < req->count; done += batch) {
        int B = req->count - done < batch ? req->count - done : batch;
        adm_gen_request sub = *req;
        sub.first_index = req->first_index + done;
        for (int b = 0; b < B; b++) {
            int index = sub.first_index + b;
            int k = req->classes ? req->classes[done + b] : -1;
            if (k < 0 && nc > 0) k = adm_noise_class(req->seed, (uint32_t)index, nc);
            if (nc > 0 && k >= nc) { adm_error("image %d: class %d outside 0..%d", index, k, nc - 1); goto done; }
            y[b] = k;
            adm_generate_x_T_stage(req->seed, req->stage, index, x + (size_t)b * per, per);
        }
        if (req->low_res) sub.low_res = req->low_res + (size_t)done * C * req->low_size * req->low_size;
        step_relay relay = {on_step, user, done, req->count};
        rc = batch_run(m, &sub, &p, nc > 0 ? y : NULL, B, x, NULL, &relay);
        if (rc) goto done;
        rc = -1;
        /* NCHW float -> H*W*C uint8 by the reference's rule */
        for (int b = 0; b < B; b++) {
            const float *img = x + (size_t)b * per;
            for (int c = 0; c < C; c++)
                for (int i = 0; i < H * W; i++) px[(size_t)i * C + c] = adm_to_uint8(img[(size_t)c * H * W + i]);
            if (on_image && on_image(user, sub.first_index + b, nc > 0 ? (int)y[b] : -1, px, H, W, C)) {
                adm_error_prefix("image %d", sub.first_index + b);   /* the callback's own message */
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(x); free(y); free(px);
    adm_plan_free(&p);
    return rc;
}
