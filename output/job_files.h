/* job_files.h — what admd and `admctl audit` share about a job's files and
 * records: where image k goes, the temp name it is written under, the PNG
 * text chunks that carry its provenance, the device part of the provenance
 * record, and the start-up cleanup of orphaned temp files and of final
 * files no outputs row records.  (Worker ids are
 * the spool's: spool.h; how many images a device pass takes is the
 * model's: generate.h.)
 *
 * Layout under the output root:
 *   <root>/<outdir or job-ID>/job<ID>-<k, 4 digits>.png
 *   <root>/<...>/.job<ID>-<k>.png.tmp-<host>-<pid>     while being written
 */
#ifndef ADM_JOB_FILES_H
#define ADM_JOB_FILES_H
#include "cl_runtime.h"
#include "png_file.h"
#include "spool.h"
#include <stddef.h>
#include <time.h>

/* The folder of a job's images and image k's path; -1 if too long. */
int adm_job_output_dir(const char *root, const adm_spool_job *job, char *out, size_t n);
int adm_job_output_path(const char *root, const adm_spool_job *job, int index, char *out, size_t n);
/* The temp name (same folder) this process writes `final` under. */
int adm_job_tmp_path(const char *final, char *out, size_t n);

/* mkdir -p root/rel (root must exist), refusing a result that resolves
 * outside root (a symlink pointing elsewhere). */
int adm_job_make_dir(const char *root, const char *dir);

/* Remove temp files left by dead admd processes of this host anywhere under
 * root (depth-limited walk).  Returns the number removed, or -1. */
int adm_job_clean_orphans(const char *root);

/* Remove final images no outputs row records: job<ID>-<k>.png of the
 * spool's jobs that are not running, with k >= images_done (images are
 * recorded in index order, so exactly the unrecorded ones; a crash between
 * the file's rename and its record leaves one).  A file changed at or
 * after `before` is kept (a worker that claimed the job since).  Returns
 * the number removed, or -1. */
int adm_job_clean_unrecorded(adm_spool *s, const char *root, time_t before);

/* PNG text chunks of one image (the values live inside the struct). */
#define ADM_JOB_TEXTS 24
typedef struct {
    adm_png_text t[ADM_JOB_TEXTS];
    int n;
    char buf[ADM_JOB_TEXTS][1100];
} adm_job_texts;
/* From the job's provenance (seed, model, hashes, sampler, respacing, eta,
 * scale, admd version, noise algorithm), the job id, the image index and
 * the class used: the same inputs give the same bytes.  The class's name
 * from p->labels (when it has one) goes beside the number as
 * adm:class-name. */
void adm_job_png_texts(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass);
/* The same with the class name given (NULL: no adm:class-name chunk), as
 * `admctl audit` rebuilds a recorded file's chunks. */
void adm_job_png_texts_named(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass,
                             const char *class_name);

/* Device, driver, versions and kernel hash into p. */
void adm_job_device_provenance(const adm_cl *cl, adm_spool_provenance *p);
/* CLBlast's version as "1.5.3" (from its header). */
const char *adm_clblast_version(void);

#endif
