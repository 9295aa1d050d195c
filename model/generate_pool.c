/* generate_pool.c — images in flight (generate.h, "images in flight"):
 * per-image sampler state advanced one network evaluation at a time, and
 * the shared network pass over images of many jobs.
 *
 * Each image is a small state machine over the samplers' own step math:
 *   DDPM / DDIM   step k at respaced index total-1-k: the UNet (+ classifier
 *                 gradient) at the original timestep, Philox noise of
 *                 (seed, index, step), adm_ddpm_step / adm_ddim_step of one
 *                 image (sampler.h) — adm_sample_loop's step, B = 1
 *   DPM-Solver++  multistep: the model value at ts[k] into the image's
 *                 history, then adm_dpm_multistep_update (dpm_solver.h)
 *   DPM-Solver 3S singlestep: up to three evaluations per outer step
 *                 (s, s1, s2), adm_dpm_single_stage after each
 * adm_generate's loops call the same functions on whole batches, and
 * every function is element- or image-wise, so an image gets the bits it
 * gets there (on GPUs adm_generate steps on the device, with the host's
 * bits: tests/test_step.c).
 */
#include "generate.h"
#include "generate_internal.h"
#include "philox.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

struct adm_gen_job {
    adm_model *m;
    adm_sampling_plan p;
    uint64_t seed;
    int stage;                      /* the noise stream (ADM_NOISE_SLOT_STAGE) */
    int passes;                     /* network evaluations per image */
    float *ts;                      /* multistep: steps+1 times */
    adm_dpm_single_step *single;    /* singlestep: K outer steps */
    int K;
};

struct adm_gen_image {
    adm_gen_job *j;
    int index, klass, done, passes_done;
    size_t per;                     /* C*H*W */
    float *x, *xin;                 /* the image; the next evaluation's input (x or tmp) */
    float t;                        /* the next evaluation's time (DPM: continuous t) */
    float *tmp, *noise;             /* DDPM/DDIM: x_next + noise; singlestep: xi */
    float *m[3];                    /* DPM: model values (history / e_s, e_s1, e_s2) */
    float *sort;                    /* thresholding scratch */
    int step;                       /* DDPM/DDIM: steps taken; multistep: the next step (1..); singlestep: outer step */
    int count, target, stage;       /* multistep history length and slot; singlestep stage */
    float t_prev[3];
};

adm_gen_job *adm_gen_job_new(adm_model *m, const adm_gen_request *req) {
    adm_gen_job *j = adm_calloc(1, sizeof *j);
    if (!j) return NULL;
    j->m = m;
    j->seed = req->seed;
    j->stage = req->stage;
    if (m->ucfg.kind == ADM_KIND_SUPERRES) {
        adm_error("a super-resolution model is not sampled in a pool (its images need their low-resolution inputs)");
        free(j);
        return NULL;
    }
    if (req->stage < 0 || req->stage > 255) { adm_error("noise stage %d: want 0..255", req->stage); free(j); return NULL; }
    if (adm_plan_build(m, req, &j->p)) { free(j); return NULL; }
    if (!j->p.dpm) {
        j->passes = j->p.s.num_steps;
    } else if (j->p.d.kind == ADM_DPM_3S) {
        j->single = adm_malloc(sizeof *j->single * j->p.d.steps);
        if (!j->single || (j->K = adm_dpm_single_plan(&j->p.ns, &j->p.d, j->single)) < 0) goto fail;
        j->passes = j->p.d.steps;
    } else {
        j->ts = adm_malloc(sizeof(float) * (j->p.d.steps + 1));
        if (!j->ts || adm_dpm_time_steps(&j->p.ns, j->p.d.skip, 1.0, 1.0 / j->p.ns.total_N, j->p.d.steps, j->ts)) goto fail;
        j->passes = j->p.d.steps;
    }
    return j;
fail:
    adm_gen_job_free(j);
    return NULL;
}

void adm_gen_job_free(adm_gen_job *j) {
    if (!j) return;
    adm_plan_free(&j->p);
    free(j->ts);
    free(j->single);
    free(j);
}

int adm_gen_job_passes(const adm_gen_job *j) { return j->passes; }

void adm_gen_image_free(adm_gen_image *im) {
    if (!im) return;
    free(im->x); free(im->tmp); free(im->noise); free(im->sort);
    for (int i = 0; i < 3; i++) free(im->m[i]);
    free(im);
}

adm_gen_image *adm_gen_image_new(adm_gen_job *j, int index, int klass) {
    const adm_model *m = j->m;
    int nc = adm_model_classes(m);
    if (index < 0) { adm_error("image index %d", index); return NULL; }
    if (nc > 0 && klass < 0) klass = adm_noise_class(j->seed, (uint32_t)index, nc);
    if (nc > 0 && klass >= nc) { adm_error("image %d: class %d outside 0..%d", index, klass, nc - 1); return NULL; }
    if (nc == 0) klass = -1;
    if (klass < 0 && (m->ucfg.num_classes > 0 || j->p.o.scale > 0 || j->p.d.scale > 0)) {
        adm_error("this model needs a class for every image");
        return NULL;
    }
    adm_gen_image *im = adm_calloc(1, sizeof *im);
    if (!im) return NULL;
    im->j = j;
    im->index = index;
    im->klass = klass;
    im->per = (size_t)m->ucfg.in_channels * m->ucfg.image_size * m->ucfg.image_size;
    size_t bytes = sizeof(float) * im->per;
    im->x = adm_malloc(bytes);
    im->tmp = adm_malloc(bytes);
    int ok = im->x && im->tmp;
    if (!j->p.dpm) {
        ok = ok && (im->noise = adm_malloc(bytes));
    } else {
        for (int i = 0; i < 3; i++) ok = ok && (im->m[i] = adm_malloc(bytes));
        ok = ok && (im->sort = adm_malloc(bytes));
    }
    if (!ok) { adm_gen_image_free(im); return NULL; }
    adm_generate_x_T_stage(j->seed, j->stage, index, im->x, im->per);
    im->xin = im->x;
    if (j->single) {
        im->stage = 1;
        im->t = j->single[0].s;
    } else if (j->ts) {
        im->count = 1;
        im->t_prev[0] = j->ts[0];
        im->t = j->ts[0];
        im->step = 1;
    }
    return im;
}

int adm_gen_image_index(const adm_gen_image *im) { return im->index; }
int adm_gen_image_class(const adm_gen_image *im) { return im->klass; }
int adm_gen_image_passes_done(const adm_gen_image *im) { return im->passes_done; }
int adm_gen_image_finished(const adm_gen_image *im) { return im->done; }

void adm_gen_image_pixels(const adm_gen_image *im, uint8_t *px) {
    const adm_model *m = im->j->m;
    int C = m->ucfg.in_channels, HW = m->ucfg.image_size * m->ucfg.image_size;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < HW; i++) px[(size_t)i * C + c] = adm_to_uint8(im->x[(size_t)c * HW + i]);
}

/* The model time the networks see for the image's next evaluation. */
static float model_time(const adm_gen_image *im) {
    const adm_gen_job *j = im->j;
    if (j->p.dpm) return adm_vp_model_time(&j->p.ns, im->t);
    return (float)j->p.s.timestep_map[j->p.s.num_steps - 1 - im->step];   /* original t */
}

static int guided(const adm_gen_image *im) {
    return im->j->p.dpm ? im->j->p.d.scale != 0 : im->j->p.o.scale != 0;
}

/* Advance by one evaluation: out = the UNet's output for xin (out_c*hw),
 * grad = the classifier gradient (NULL when unguided). */
static void advance(adm_gen_image *im, const float *out, const float *grad) {
    adm_gen_job *j = im->j;
    const adm_model *m = j->m;
    const int C = m->ucfg.in_channels;
    const size_t hw = (size_t)m->ucfg.image_size * m->ucfg.image_size, n = im->per;
    im->passes_done++;
    if (!j->p.dpm) {
        const adm_schedule *s = &j->p.s;
        int i = s->num_steps - 1 - im->step;
        adm_noise_fill(j->seed, (uint32_t)im->index, ADM_NOISE_SLOT_STAGE(j->stage, ADM_NOISE_SLOT_STEP(im->step)),
                       im->noise, n);
        if (j->p.o.kind == ADM_SAMPLER_DDPM) adm_ddpm_step(s, &j->p.o, i, im->x, out, grad, im->noise, 1, C, hw, im->tmp);
        else adm_ddim_step(s, &j->p.o, i, im->x, out, grad, im->noise, 1, C, hw, im->tmp);
        float *t = im->x; im->x = im->tmp; im->tmp = t;
        im->xin = im->x;
        if (++im->step == s->num_steps) im->done = 1;
        return;
    }
    const adm_dpm_opts *o = &j->p.d;
    if (j->single) {
        const adm_dpm_single_step *st = &j->single[im->step];
        adm_dpm_model_value(&j->p.ns, o, 1, C, hw, im->xin, im->t, out, grad, im->m[im->stage - 1], im->sort);
        float tn = 0;
        if (adm_dpm_single_stage(&j->p.ns, im->x, st->s, st->t, st->order, st->r1, st->r2, im->stage, im->m[0], im->m[1],
                                 im->m[2], im->tmp, n, &tn)) {
            im->stage++;
            im->xin = im->tmp;
            im->t = tn;
            return;
        }
        im->xin = im->x;
        im->stage = 1;
        if (++im->step == j->K) { im->done = 1; return; }
        im->t = j->single[im->step].s;
        return;
    }
    /* multistep DPM-Solver++ (the loop of dpm_solver.c's multistep) */
    adm_dpm_model_value(&j->p.ns, o, 1, C, hw, im->x, im->t, out, grad, im->m[im->target], im->sort);
    const int order = adm_dpm_order(o);
    const float t = j->ts[im->step];
    adm_dpm_multistep_update(&j->p.ns, im->x, im->m, im->t_prev, im->count, t, adm_dpm_multistep_order(o, im->step), n);
    if (im->count == order) {                                /* drop the oldest */
        float *old = im->m[0];
        for (int i = 0; i < order - 1; i++) { im->m[i] = im->m[i + 1]; im->t_prev[i] = im->t_prev[i + 1]; }
        im->m[order - 1] = old;
        im->count--;
    }
    im->t_prev[im->count] = t;
    if (im->step == o->steps) { im->done = 1; return; }
    im->target = im->count++;
    im->t = t;
    im->step++;
}

int adm_gen_pass(adm_model *m, adm_gen_image *const *ims, int n) {
    if (n < 1) return adm_error("pass of %d images", n);
    const int C = m->ucfg.in_channels, out_c = m->ucfg.out_channels;
    const size_t hw = (size_t)m->ucfg.image_size * m->ucfg.image_size, per = (size_t)C * hw;
    int g = 0;
    for (int b = 0; b < n; b++) {
        if (ims[b]->j->m != m) return adm_error("pass: image %d of another model", ims[b]->index);
        if (ims[b]->done) return adm_error("pass: image %d is finished", ims[b]->index);
        g += guided(ims[b]);
    }
    float *x = adm_malloc(sizeof(float) * per * n), *t = adm_malloc(sizeof(float) * n);
    float *out = adm_malloc(sizeof(float) * out_c * hw * n);
    int64_t *y = adm_malloc(sizeof(int64_t) * n);
    float *xg = g ? adm_malloc(sizeof(float) * per * g) : NULL, *tg = g ? adm_malloc(sizeof(float) * g) : NULL;
    float *grad = g ? adm_malloc(sizeof(float) * per * g) : NULL;
    int64_t *yg = g ? adm_malloc(sizeof(int64_t) * g) : NULL;
    int rc = -1;
    if (!x || !t || !out || !y || (g && (!xg || !tg || !grad || !yg))) goto done;
    for (int b = 0, k = 0; b < n; b++) {
        const adm_gen_image *im = ims[b];
        memcpy(x + per * b, im->xin, sizeof(float) * per);
        t[b] = model_time(im);
        y[b] = im->klass;
        if (guided(im)) {
            memcpy(xg + per * k, im->xin, sizeof(float) * per);
            tg[k] = t[b];
            yg[k++] = im->klass;
        }
    }
    if (adm_unet_forward(m->unet, x, t, m->ucfg.num_classes > 0 ? y : NULL, NULL, n, out)) {
        adm_error_prefix("pass of %d images", n);
        goto done;
    }
    if (g && adm_classifier_grad(m->clf, xg, tg, yg, g, NULL, grad)) {
        adm_error_prefix("pass of %d images: classifier", n);
        goto done;
    }
    for (int b = 0, k = 0; b < n; b++) {
        adm_gen_image *im = ims[b];
        const float *gr = guided(im) ? grad + per * k++ : NULL;
        advance(im, out + (size_t)out_c * hw * b, gr);
    }
    rc = 0;
done:
    free(x); free(t); free(out); free(y); free(xg); free(tg); free(grad); free(yg);
    return rc;
}
