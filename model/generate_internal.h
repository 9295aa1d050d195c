/* generate_internal.h — what generate.c and generate_pool.c share (not for
 * callers): the loaded model and a request's sampling plan. */
#ifndef ADM_GENERATE_INTERNAL_H
#define ADM_GENERATE_INTERNAL_H
#include "generate.h"
#include "classifier.h"
#include "config.h"
#include "dpm_solver.h"
#include "sampler.h"
#include "schedule.h"
#include "unet.h"

struct adm_model {
    adm_cl *cl;
    adm_config ucfg, ccfg;          /* the UNet's and the classifier's configs */
    adm_unet *unet;
    adm_classifier *clf;            /* NULL: no guidance */
    char noise_schedule[16];
    int diffusion_steps;
    /* SuperResModel: the low_res of the batch now sampling (net_model) */
    const float *low_res;
    int low_size;
};

/* What a request samples with: DDPM/DDIM over a respaced schedule, or a
 * DPM-Solver over the continuous-time schedule of the same betas. */
typedef struct {
    int dpm;
    adm_sampler_opts o;         /* ddpm / ddim */
    adm_schedule s;
    adm_dpm_opts d;             /* dpm++2m / dpm++3m / dpm3s */
    adm_vp_schedule ns;
} adm_sampling_plan;

/* The plan a request and model imply (checked, with clear errors); 0 / -1. */
int adm_plan_build(const adm_model *m, const adm_gen_request *req, adm_sampling_plan *p);
void adm_plan_free(adm_sampling_plan *p);
/* Classes a job's images can have: the UNet's, else the classifier's (0: none). */
int adm_model_classes(const adm_model *m);

#endif
