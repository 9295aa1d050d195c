/* sampler_dev.c — the device-resident DDPM/DDIM loop (sampler_dev.h):
 * per step the UNet and the classifier gradient write device buffers, the
 * noise kernel draws the step's Philox noise (or replayed noise is
 * uploaded), and the step kernel updates x in place.  The loop's order and
 * checks are adm_sample_loop's. */
#include "sampler_dev.h"
#include "ops_noise.h"
#include "ops_step.h"
#include "philox.h"
#include "util.h"
#include <stdlib.h>

int adm_sample_loop_dev(adm_cl *cl, const adm_schedule *s, const adm_sampler_opts *o, const adm_dev_networks *net,
                        const int64_t *y, int B, int C, int H, int W, float *x, const adm_dev_noise *noise,
                        adm_step_fn on_step, void *step_user) {
    if (adm_sample_loop_check(o, net->grad != NULL, y, B, C, H, W)) return -1;
    const int guided = o->scale != 0, out_c = o->learn_sigma ? 2 * C : C;
    const size_t img = (size_t)C * H * W, n = (size_t)B * img;
    /* one buffer: x | noise | grad | model output */
    size_t floats = 2 * n + (guided ? n : 0) + (size_t)B * out_c * H * W;
    cl_mem mem = adm_cl_alloc(cl, floats * sizeof(float));
    float *t = adm_malloc(sizeof(float) * B);
    int rc = -1;
    if (!mem || !t) goto done;
    adm_dt xd = adm_dt_make(mem, 0, B, C, H, W), nd = adm_dt_make(mem, n, B, C, H, W);
    adm_dt gd = adm_dt_make(mem, 2 * n, B, C, H, W);
    adm_dt od = adm_dt_make(mem, guided ? 3 * n : 2 * n, B, out_c, H, W);
    if (adm_cl_write(cl, mem, 0, n * sizeof(float), x)) goto done;

    int total = s->num_steps;
    for (int step = 0; step < total; step++) {
        int i = total - 1 - step;                    /* respaced index, highest first */
        for (int b = 0; b < B; b++) t[b] = (float)s->timestep_map[i];   /* the networks see original t */
        if (net->model(net->user, &xd, t, y, B, &od)) { adm_error_prefix("step %d (t=%g)", step, t[0]); goto done; }
        if (guided && net->grad(net->user, &xd, t, y, B, &gd)) {
            adm_error_prefix("step %d (t=%g) classifier", step, t[0]);
            goto done;
        }
        if (noise->recorded) {
            if (adm_cl_write(cl, mem, n * sizeof(float), n * sizeof(float), noise->recorded + (size_t)step * n)) goto done;
        } else if (adm_op_noise(cl, noise->seed, noise->first_index, B, ADM_NOISE_SLOT_STAGE(noise->stage, ADM_NOISE_SLOT_STEP(step)), img, &nd)) {
            goto done;
        }
        float cf[ADM_STEP_COEFS];
        adm_step_coefs(s, o, i, cf);
        if (adm_op_step(cl, o->kind == ADM_SAMPLER_DDIM, cf, &xd, &od, guided ? &gd : NULL, &nd)) goto done;
        if (on_step && on_step(step_user, step, total, NULL)) { rc = 1; goto done; }
    }
    if (adm_cl_read(cl, mem, 0, n * sizeof(float), x)) goto done;
    rc = 0;
done:
    if (mem) { adm_cl_finish(cl); adm_cl_release(cl, mem); }
    free(t);
    return rc;
}
