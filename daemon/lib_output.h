/* lib_output.h — one finished image of a job, written and recorded: the
 * PNG (temp file, fsync, rename) with its provenance chunks, then its
 * outputs row and the job's advance in one transaction.  admd's one-job
 * path and its pool (lib_pool.c) both end every image here. */
#ifndef ADMD_LIB_OUTPUT_H
#define ADMD_LIB_OUTPUT_H
#include "spool.h"
#include <signal.h>
#include <stdint.h>

/* Errors that pass by themselves: a full disk or quota, an interrupted call. */
int admd_transient_errno(int e);

/* Write image index (class klass, uint8 h*w*ch pixels) of job under root
 * and record it with outputs.seconds = seconds + its own encode and write.
 * A spool held locked by someone else is retried a while (until *stop).
 * 0 recorded; 1 the job is no longer ours (nothing recorded, file gone);
 * -1 failed (adm_last_error; *transient: a full disk or an interrupted
 * call, the job should wait rather than fail). */
int admd_record_image(adm_spool *s, const char *root, const adm_spool_job *job, const adm_spool_provenance *p,
                      int index, int klass, const uint8_t *pixels, int h, int w, int ch, double seconds,
                      volatile sig_atomic_t *stop, int *transient);

#endif
