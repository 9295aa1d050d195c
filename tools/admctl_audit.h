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

/* The adm:class-name chunk of a recorded PNG (a name written then is
 * checked as written, even if the model's names changed since): 1 with it
 * in out, 0 when the file has none, -1 when the file cannot be read. */
int admctl_recorded_class_name(const char *path, char *out, size_t n);

#endif
