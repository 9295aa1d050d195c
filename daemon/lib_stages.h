/* lib_stages.h — what a job samples its final images from when they are
 * super-resolutions (schema/008_two_stage.sql):
 *
 *   two-stage jobs (jobs.upsampler): stage 1 samples the base model as a
 *     one-stage job would (its images recorded in stage_outputs as they are
 *     made, so a crash never redoes one); each stage-1 PNG is read back
 *     (its sha256 checked against its row) and low_res = u8/127.5 - 1; then
 *     the job runner samples the upsampler on them, with stage 1's classes
 *     and stage 2's Philox stream, as the job's final images;
 *   given images (jobs.input_path, jobs.model an upsampler): one PNG or a
 *     folder of PNGs inside the daemon's allowed input roots (--input-root),
 *     read with bounds checks; each must be the upsampler's small size with
 *     its channels, else the job fails naming the file and the sizes.
 *
 * admd's job runner calls admd_stages_begin after loading the job's model
 * and admd_stages_request for every device pass; everything else of a
 * stage lives here. */
#ifndef ADMD_LIB_STAGES_H
#define ADMD_LIB_STAGES_H
#include "generate.h"
#include "lib_modelcache.h"
#include "spool.h"
#include <signal.h>

/* Folders input_path may name (at most 16; realpath'd).  0 / -1. */
int admd_stages_add_input_root(const char *dir);

typedef struct {
    int batch;                /* set by the caller: stage 1's images per pass (admd --batch; 0: the model's choice) */
    adm_spool_stages st;
    int active;               /* the final images are super-resolutions (two-stage or given images) */
    int two_stage;
    int first, n;             /* the final images still to make: first .. first+n-1 */
    float *low_res;           /* [n, C, low_size, low_size] */
    int low_size, channels;
    int *classes;             /* [n] classes of the final images (stage 1's / the job's), NULL: none */
    double stage1_s;          /* stage 1's denoising time in this attempt */
    double stage1_recorded_s; /* the stage-1 images' recorded seconds, all attempts */
    int stage1_images;        /* stage-1 images made in this attempt */
    int stopped, transient;   /* begin: stopped by the step callback / a passing error (full disk) */
    char error[1024];
} admd_stage_job;

/* Prepare the job's low-resolution inputs.  *cm is the job's model on
 * entry (the base model of a two-stage job, the upsampler of a given-images
 * job); for a two-stage job stage 1 runs on it first and *cm becomes the
 * upsampler (from the cache; the provenance p gets its files, hashes and
 * load time).  sj->batch is read on entry (stage 1's pass size).  on_step/step_user: admd's per-step callback (heartbeat,
 * SIGTERM, cancellation).  0 ready (sj->active says whether any of this
 * applies), 1 stopped (requeue), -1 failed (sj->error, sj->transient). */
int admd_stages_begin(admd_stage_job *sj, adm_spool *s, adm_model_cache *cache, const char *root,
                      const adm_spool_job *job, adm_cached_model **cm, adm_spool_provenance *p,
                      adm_gen_step_fn on_step, void *step_user);

/* A device pass of the final images [index, index+count): the stage-2
 * sampler, low_res, classes and noise stream (no change when inactive). */
void admd_stages_request(const admd_stage_job *sj, adm_gen_request *req);

/* After the final images: stage timings into p (steps_s = both stages). */
void admd_stages_end(admd_stage_job *sj, adm_spool_provenance *p);
void admd_stages_free(admd_stage_job *sj);

#endif
