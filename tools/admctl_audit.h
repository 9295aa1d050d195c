/* admctl_audit.h — what `admctl audit` (cmd_audit.c) hands to the audit of
 * two-stage and given-images jobs (cmd_audit_stages.c). */
#ifndef ADM_ADMCTL_AUDIT_H
#define ADM_ADMCTL_AUDIT_H
#include "cl_runtime.h"
#include "spool.h"

/* Regenerate the job's images (only >= 0: that index alone) on cl: which
 * "1", "2" or "chain" (NULL: all three; given-images jobs have one way),
 * printing one line per image and a summary.  ADMCTL_OK when every image
 * regenerated identically. */
int admctl_audit_stages(adm_spool *s, const adm_spool_job *job, const adm_spool_provenance *prov,
                        const adm_spool_stages *st, const adm_spool_output *outs, int n_outs, int only, adm_cl *cl,
                        const char *which);

#endif
