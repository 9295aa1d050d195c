/* sampler_dev.h — the device-resident sampling loop: the same DDPM/DDIM
 * steps as sampler.h, with x, the model output, the classifier gradient
 * and the noise kept on the device from x_T to the sample.  Per step only
 * the timesteps, the classes and the B x num_classes logits (for the
 * softmax of the guidance gradient) cross to or from the host.
 *
 * The step kernels (kernels/step.cl) evaluate the host step's formulas
 * in its order and the noise kernel is the host's Philox, so a seed gives
 * the same bits through either loop (tests/test_step.c checks it on PoCL).
 */
#ifndef ADM_SAMPLER_DEV_H
#define ADM_SAMPLER_DEV_H
#include "sampler.h"
#include "ops.h"

typedef struct {
    /* out [B, C or 2C, H, W] = model(x [B, C, H, W], t, y), all on the device */
    int (*model)(void *user, const adm_dt *x, const float *t, const int64_t *y, int B, adm_dt *out);
    /* grad [B, C, H, W] = d/dx sum_b log_softmax(classifier(x, t))[b, y_b]; NULL: no classifier */
    int (*grad)(void *user, const adm_dt *x, const float *t, const int64_t *y, int B, adm_dt *grad);
    void *user;
} adm_dev_networks;

/* Where the noise of each step comes from. */
typedef struct {
    uint64_t seed;              /* Philox noise of images first_index .. +B-1 (kernels/noise.cl) */
    uint32_t first_index;
    const float *recorded;      /* non-NULL: replay [steps, B, C, H, W], uploaded step by step */
    uint32_t stage;             /* the stage's stream (ADM_NOISE_SLOT_STAGE) */
} adm_dev_noise;

/* As adm_sample_loop: x [B, C, H, W] (host) holds x_T on entry and the
 * sample on return (one upload, one download).  on_step gets x = NULL.
 * 0 done, 1 stopped by on_step, -1 error. */
int adm_sample_loop_dev(adm_cl *cl, const adm_schedule *s, const adm_sampler_opts *o, const adm_dev_networks *net,
                        const int64_t *y, int B, int C, int H, int W, float *x, const adm_dev_noise *noise,
                        adm_step_fn on_step, void *step_user);

#endif
