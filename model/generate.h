/* generate.h — the narrow "make these images" interface between the spool
 * and daemon (which know jobs and files) and the model side (which knows
 * devices, networks and samplers).
 *
 *   adm_model_load   a UNet (+ optional noisy classifier) onto a device
 *   adm_generate     run one job's images, calling back per step and per image
 *
 * Image k of a request depends only on (seed, k) and the parameters, never
 * on how images were batched, so one image can be reproduced alone
 * (first_index/count select which ones).
 */
#ifndef ADM_GENERATE_H
#define ADM_GENERATE_H
#include <stdint.h>
#include <stddef.h>
#include "cl_runtime.h"

typedef struct adm_model adm_model;

typedef struct {
    const char *unet_path;          /* .pt or .safetensors */
    const char *unet_config;        /* key=value file, MODEL_FLAGS string or preset */
    const char *classifier_path;    /* NULL: no guidance possible */
    const char *classifier_config;
} adm_model_spec;

adm_model *adm_model_load(adm_cl *cl, const adm_model_spec *spec);   /* NULL + adm_last_error */

/* Files the caller has already read (admd: regular files only, hashed
 * while read).  A member that is set is used instead of reading the file:
 * the weights' bytes, a config file's text (key=value or flags); the
 * spec's paths then only name the files in messages. */
typedef struct {
    const uint8_t *unet_bytes, *classifier_bytes;
    size_t unet_len, classifier_len;
    const char *unet_config_text, *classifier_config_text;
} adm_model_files;
adm_model *adm_model_load_files(adm_cl *cl, const adm_model_spec *spec, const adm_model_files *files);
void adm_model_free(adm_model *m);

typedef struct {
    int channels, image_size, num_classes;   /* num_classes 0: unconditional */
    int has_classifier;
    int superres;                            /* a SuperResModel: every image needs a low_res */
    int small_size;                          /* superres: low_res size its config says (0: not said) */
    size_t device_bytes;                     /* weights resident on the device */
} adm_model_info;
void adm_model_get_info(const adm_model *m, adm_model_info *info);

typedef struct {
    const char *sampler;        /* "ddpm" | "ddim" | "dpm++2m" | "dpm++3m" | "dpm3s" */
    const char *respacing;      /* ddpm/ddim: "50", "ddim25", "10,20,30", ... */
    int steps;                  /* dpm*: network passes */
    const char *skip;           /* dpm*: "time_uniform" | "logsnr" | "time_quadratic" (NULL: time_uniform) */
    const char *thresholding;   /* dpm++*: "none" | "dynamic" (NULL: none) */
    double eta;                 /* ddim only */
    double scale;               /* classifier guidance scale s (0: none) */
    uint64_t seed;
    int first_index, count;     /* images [first_index, first_index+count) of the job */
    const int *classes;         /* [count] class per image; NULL or -1 entries: drawn from (seed, index) */
    int batch;                  /* images per device pass (<= 0: choose) */
    /* Super-resolution models only (NULL otherwise): low_res [count, C, low_size,
     * low_size] in [-1, 1], image k of the request at low_res + k*C*low_size^2
     * (adm_generate_batch: its B images).  The model upsamples it itself. */
    const float *low_res;
    int low_size;
    int stage;                  /* noise stream: 0 one-stage jobs and stage 1, 1 stage 2 (ADM_NOISE_SLOT_STAGE) */
} adm_gen_request;

/* Called after every denoising step of a device pass; return non-zero to
 * stop (cancellation, SIGTERM): adm_generate then returns 1. */
typedef int (*adm_gen_step_fn)(void *user, int step, int total_steps, int images_done, int images_total);
/* Called once per finished image: pixels are uint8 H*W*C (row-major,
 * interleaved channels), by the reference's rule ((x+1)*127.5 clamped,
 * truncated); klass is the class used (-1 unconditional).  Return non-zero
 * to fail the job (adm_generate returns -1 with the callback's error). */
typedef int (*adm_gen_image_fn)(void *user, int index, int klass, const uint8_t *pixels,
                                int h, int w, int c);

/* 0 done, 1 stopped by the step callback, -1 error (adm_last_error). */
int adm_generate(adm_model *m, const adm_gen_request *req,
                 adm_gen_step_fn on_step, adm_gen_image_fn on_image, void *user);

/* Images per device pass for `count` images: `requested` when > 0, else
 * the model's choice by its image size (about 64 images of 32x32, scaled
 * down with the pixel count, 1..64); never more than count.  adm_generate
 * applies it to req->batch; admd calls it to pass (and record) the batch
 * that actually runs. */
int adm_generate_pass_size(int requested, int image_size, int count);

/* ---- images in flight: many jobs' images sharing device passes ----
 *
 * admd's pool (continuous batching): every image carries its own sampler
 * state (step, timestep, class, guidance scale, DDPM/DDIM or DPM-Solver
 * history), so one network pass can hold images of different jobs at
 * different steps with different settings; each image advances by one
 * network evaluation per pass.  The networks compute each image of a
 * batch alone (kernels/ops_engine.c), the step math runs per image, and
 * the noise is keyed by (seed, index, step): an image's bytes are those
 * adm_generate makes for it alone, whatever shared its passes
 * (tests/test_pool.c, tests/t_daemon_batch.sh). */

typedef struct adm_gen_job adm_gen_job;       /* a request's sampling settings, shared by its images */
typedef struct adm_gen_image adm_gen_image;   /* one image in flight */

/* The request's sampler, respacing/steps, eta, scale, thresholding, seed
 * and noise stage (first_index, count, classes, batch are not used).  Not
 * for super-resolution models (refused: their images need low_res inputs).
 * NULL + adm_last_error. */
adm_gen_job *adm_gen_job_new(adm_model *m, const adm_gen_request *req);
void adm_gen_job_free(adm_gen_job *j);        /* after its images */
int adm_gen_job_passes(const adm_gen_job *j); /* network passes each image takes */

/* Image `index` of the job with class klass (< 0: drawn from (seed, index)
 * when the model has classes), at x_T.  NULL + adm_last_error. */
adm_gen_image *adm_gen_image_new(adm_gen_job *j, int index, int klass);
void adm_gen_image_free(adm_gen_image *im);
int adm_gen_image_index(const adm_gen_image *im);
int adm_gen_image_class(const adm_gen_image *im);         /* -1: unconditional */
int adm_gen_image_passes_done(const adm_gen_image *im);
int adm_gen_image_finished(const adm_gen_image *im);
/* The finished image as uint8 H*W*C (adm_generate's on_image pixels). */
void adm_gen_image_pixels(const adm_gen_image *im, uint8_t *px);

/* One network pass over ims[0..n) (unfinished images of jobs of model m):
 * the UNet over all n, the classifier gradient over the guided ones, then
 * each image's own sampler step.  0, or -1 (the pass failed: the images
 * are unchanged and may be passed again or dropped). */
int adm_gen_pass(adm_model *m, adm_gen_image *const *ims, int n);

/* ---- lower level (admctl sample, replay tests) ---- */

/* Override the diffusion settings the UNet's config carried (noise schedule
 * "linear"/"cosine", base step count) — for configs that do not say them. */
int adm_model_set_diffusion(adm_model *m, const char *noise_schedule, int diffusion_steps);

/* One device pass at the float level: x [B, C, H, W] holds x_T on entry and
 * the final samples on return; y [B] the classes (used by a class-conditional
 * UNet and by the classifier; may be NULL when neither needs them).
 * The DPM-Solver samplers are deterministic: noise must be NULL.
 * noise NULL: Philox noise of images req->first_index .. +B-1 under
 * req->seed (the same draws adm_generate makes); else recorded noise
 * [steps, B, C, H, W] in the order the steps are taken (replay), with
 * noise_steps its first dimension, which must equal the respaced step count.
 * on_step gets images_done = 0, images_total = B.  0 / 1 stopped / -1. */
int adm_generate_batch(adm_model *m, const adm_gen_request *req, const int64_t *y, int B, float *x,
                       const float *noise, int noise_steps, adm_gen_step_fn on_step, void *user);

/* x_T of image `index` under `seed` (C*H*W floats, Philox slot 0 of the
 * stage's stream: stage 0 for one-stage jobs and stage 1, 1 for stage 2). */
void adm_generate_x_T(uint64_t seed, int index, float *x, size_t n);
void adm_generate_x_T_stage(uint64_t seed, int stage, int index, float *x, size_t n);

/* low_res of a super-resolution stage from uint8 pixels H*W*C (a stage-1
 * image exactly as its PNG, or a user's PNG): out [C, H, W] = u8/127.5 - 1,
 * as super_res_sample.py feeds the model. */
void adm_low_res_from_u8(const uint8_t *px, int h, int w, int c, float *out);

/* The noise algorithm's name+version, recorded with every output. */
#define ADM_NOISE_ALGORITHM "philox4x32-10/boxmuller-poly/v1"

#endif
