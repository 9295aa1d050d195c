/* lib_job.h — what admd and `admctl audit` share about a job's files and
 * records: where image k goes, the temp name it is written under, the PNG
 * text chunks that carry its provenance, the device part of the provenance
 * record, worker ids, and the start-up cleanup of orphaned temp files.
 *
 * Layout under the output root:
 *   <root>/<outdir or job-ID>/job<ID>-<k, 4 digits>.png
 *   <root>/<...>/.job<ID>-<k>.png.tmp-<host>-<pid>     while being written
 */
#ifndef ADM_LIB_JOB_H
#define ADM_LIB_JOB_H
#include "cl_runtime.h"
#include "lib_png.h"
#include "spool.h"
#include <stddef.h>

/* The folder of a job's images and image k's path; -1 if too long. */
int adm_job_output_dir(const char *root, const adm_spool_job *job, char *out, size_t n);
int adm_job_output_path(const char *root, const adm_spool_job *job, int index, char *out, size_t n);
/* The temp name (same folder) this process writes `final` under. */
int adm_job_tmp_path(const char *final, char *out, size_t n);

/* Images per device pass for `count` images: `requested` (admd --batch)
 * when > 0, else the model's choice by its image size (about 64 images of
 * 32x32, scaled down with the pixel count, 1..64; the rule model/generate.c
 * applies to a request that leaves the batch open); never more than count.
 * admd passes this to adm_generate explicitly, so the provenance row
 * records the batch that actually ran. */
int adm_job_batch(int requested, int image_size, int count);

/* mkdir -p root/rel (root must exist), refusing a result that resolves
 * outside root (a symlink pointing elsewhere). */
int adm_job_make_dir(const char *root, const char *dir);

/* Remove temp files left by dead admd processes of this host anywhere under
 * root (depth-limited walk).  Returns the number removed, or -1. */
int adm_job_clean_orphans(const char *root);

/* PNG text chunks of one image (the values live inside the struct). */
#define ADM_JOB_TEXTS 14
typedef struct {
    adm_png_text t[ADM_JOB_TEXTS];
    int n;
    char buf[ADM_JOB_TEXTS][1100];
} adm_job_texts;
/* From the job's provenance (seed, model, hashes, sampler, respacing, eta,
 * scale, admd version, noise algorithm), the job id, the image index and
 * the class used: the same inputs give the same bytes. */
void adm_job_png_texts(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass);

/* Device, driver, versions and kernel hash into p. */
void adm_job_device_provenance(const adm_cl *cl, adm_spool_provenance *p);
/* CLBlast's version as "1.5.3" (from its header). */
const char *adm_clblast_version(void);

/* This process's worker id "host:pid:nonce" (stable for the process). */
const char *adm_worker_id(void);
/* This machine's host name. */
const char *adm_host_name(void);
/* 1 when worker names a process of this host that no longer runs (for
 * adm_spool_reclaim); 0 when alive, elsewhere, or unparseable. */
int adm_worker_is_dead(const char *worker, void *user);

#endif
