/* admctl_eval.h — what `admctl eval` shares with `admctl sweep`: one row
 * of the evaluations table filled from an evaluation's parts. */
#ifndef ADM_ADMCTL_EVAL_H
#define ADM_ADMCTL_EVAL_H
#include "evaluate.h"
#include "spool.h"

/* Everything but e->samples (the caller's description of the sample set). */
void admctl_eval_fill(adm_spool_evaluation *e, const char *ref_path, const adm_batch *ref, int64_t n_samples,
                      const adm_featnet_info *fi, const char *device, int64_t is_split, const adm_eval_numbers *num,
                      double seconds);

#endif
