/* lib_modelcache.h — models kept loaded on the device across jobs.
 *
 * A model is identified by its spool name plus its files (resolved paths,
 * configs, and each file's size, mtime and inode): when a file changes the
 * next job loads it afresh.  The total device bytes are bounded by a budget
 * (default: 3/4 of the device's global memory); the least recently used
 * models are evicted first.  SIGHUP clears the cache. */
#ifndef ADM_LIB_MODELCACHE_H
#define ADM_LIB_MODELCACHE_H
#include "generate.h"
#include "spool.h"
#include <stddef.h>

typedef struct {
    char name[ADM_SPOOL_NAME];
    char unet_path[ADM_SPOOL_PATH], classifier_path[ADM_SPOOL_PATH];   /* resolved */
    char unet_config[ADM_SPOOL_PATH], classifier_config[ADM_SPOOL_PATH];
    char unet_sha256[65], classifier_sha256[65];                         /* of the files loaded */
    adm_model *model;
    adm_model_info info;
    /* cache bookkeeping */
    long long unet_size, unet_mtime_ns, unet_ino, clf_size, clf_mtime_ns, clf_ino;
    unsigned long long last_used;
} adm_cached_model;

typedef struct adm_model_cache adm_model_cache;

/* budget_bytes 0: 3/4 of cl's global memory. */
adm_model_cache *adm_model_cache_new(adm_cl *cl, size_t budget_bytes);
void adm_model_cache_free(adm_model_cache *c);
/* Drop every model (SIGHUP). */
void adm_model_cache_clear(adm_model_cache *c);

/* The model of a spool row, loading it (and hashing its files) on a miss.
 * *load_s: seconds spent loading (0 on a hit).  NULL + adm_error on failure. */
adm_cached_model *adm_model_cache_get(adm_model_cache *c, const adm_spool *s, const adm_spool_model *row,
                                      double *load_s);

int adm_model_cache_count(const adm_model_cache *c);
size_t adm_model_cache_bytes(const adm_model_cache *c);

#endif
