/* lib_modelcache.c — an LRU cache of device-resident models (see
 * lib_modelcache.h), and how the daemon reads a model's files: regular
 * files only, bounded, stoppable, checkpoints checked against their
 * registered sha256 while read, config errors that never quote the file. */
#include "lib_modelcache.h"
#include "config.h"
#include "lib_notify.h"
#include "util.h"
#include "weights.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_MAX 16
/* Larger files are refused before a byte is read: the largest released
 * checkpoint is about 2.2 GB; a config file is a few hundred bytes. */
#define ADM_MODEL_MAX_BYTES ((size_t)64 << 30)
#define ADM_CONFIG_MAX_BYTES ((size_t)1 << 20)

struct adm_model_cache {
    adm_cl *cl;
    size_t budget;
    adm_cached_model *e[CACHE_MAX];
    int n;
    unsigned long long clock;
};

adm_model_cache *adm_model_cache_new(adm_cl *cl, size_t budget_bytes) {
    adm_model_cache *c = adm_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cl = cl;
    c->budget = budget_bytes ? budget_bytes : (size_t)(cl->global_mem / 4 * 3);
    return c;
}

static void drop(adm_model_cache *c, int i) {
    adm_log(ADM_LOG_INFO, "model %s: unloaded from the device (%.1f MB)", c->e[i]->name,
            c->e[i]->info.device_bytes / 1e6);
    adm_model_free(c->e[i]->model);
    free(c->e[i]);
    c->e[i] = c->e[--c->n];
}

void adm_model_cache_clear(adm_model_cache *c) {
    while (c->n > 0) drop(c, c->n - 1);
}

void adm_model_cache_free(adm_model_cache *c) {
    if (!c) return;
    adm_model_cache_clear(c);
    free(c);
}

int adm_model_cache_count(const adm_model_cache *c) { return c->n; }

size_t adm_model_cache_bytes(const adm_model_cache *c) {
    size_t b = 0;
    for (int i = 0; i < c->n; i++) b += c->e[i]->info.device_bytes;
    return b;
}

/* size, mtime and inode of path (all 0 for an absent path).  Only a
 * regular file is a model file (stat does not open, so a FIFO cannot
 * block here; adm_read_untrusted checks again on the descriptor). */
static int file_id(const char *path, long long *size, long long *mtime_ns, long long *ino) {
    *size = *mtime_ns = *ino = 0;
    if (!path[0]) return 0;
    struct stat st;
    if (stat(path, &st) != 0) return adm_error("%s: cannot read the model file: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return adm_error("%s: %s, not a regular file", path, adm_file_kind(st.st_mode));
    *size = (long long)st.st_size;
    *mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    *ino = (long long)st.st_ino;
    return 0;
}

/* A config spec that names a file (of any type: read_config refuses what
 * is not a regular file) is resolved like a path; flag strings and preset
 * names are kept as they are. */
static void resolve_config(const adm_spool *s, const char *spec, char *out, int n) {
    char cand[ADM_SPOOL_PATH];
    struct stat st;
    if (spec[0] && spec[0] != '-' && spec[0] != '/' &&
        stat(adm_spool_resolve(s, spec, cand, sizeof cand), &st) == 0)
        snprintf(out, (size_t)n, "%s", cand);
    else
        snprintf(out, (size_t)n, "%s", spec);
}

/* ---- reading a model's files (paths from the spool: anybody's say-so) ---- */

/* What adm_model_load_files gets, and the buffers behind it. */
typedef struct {
    adm_model_files files;
    uint8_t *unet, *clf;
    char *unet_config, *clf_config;     /* NULL: the spec is a flag string or a preset */
} model_files;

/* A checkpoint, hashed while read and checked against the registered
 * sha256 (none registered yet: the daemon records the one it read). */
static int read_weights(const char *path, const char *registered, uint8_t **buf, size_t *len, char sha[65]) {
    if (adm_read_untrusted(path, ADM_MODEL_MAX_BYTES, buf, len, sha) != 0) return -1;
    if (registered[0] && strcmp(registered, sha) != 0) {
        free(*buf);
        *buf = NULL;
        return adm_error("%s: sha256 %.16s... does not match the registered %.16s... (the file changed after it "
                         "was registered; refusing it: register it again if the change is wanted)", path, sha,
                         registered);
    }
    return 0;
}

/* A config spec that names a file: its text, checked here so that a bad
 * file fails without its content being quoted (a config path may point at
 * any file the daemon can read, and the error goes into jobs.error).
 * Flag strings and preset names leave *text NULL. */
static int read_config(const char *spec, char **text, adm_kind kind) {
    *text = NULL;
    const char *t = spec;
    while (isspace((unsigned char)*t)) t++;
    struct stat st;
    if (!strncmp(t, "--", 2) || stat(spec, &st) != 0) return 0;   /* flags, preset or a missing path */
    uint8_t *buf;
    size_t len;
    if (adm_read_untrusted(spec, ADM_CONFIG_MAX_BYTES, &buf, &len, NULL) != 0) return -1;
    adm_config cfg;
    adm_config_defaults(&cfg, kind);
    if (adm_config_parse_text((const char *)buf, len, kind, &cfg) != 0) {
        free(buf);
        return adm_error("%s: not a valid model config (key=value lines or MODEL_FLAGS; its text is not quoted "
                         "here: check it with admctl model add --check)", spec);
    }
    *text = (char *)buf;
    return 0;
}

adm_cached_model *adm_model_cache_get(adm_model_cache *c, const adm_spool *s, const adm_spool_model *row,
                                      double *load_s) {
    *load_s = 0;
    adm_cached_model key;
    memset(&key, 0, sizeof key);
    snprintf(key.name, sizeof key.name, "%s", row->name);
    adm_spool_resolve(s, row->unet_path, key.unet_path, sizeof key.unet_path);
    adm_spool_resolve(s, row->classifier_path, key.classifier_path, sizeof key.classifier_path);
    resolve_config(s, row->unet_config, key.unet_config, sizeof key.unet_config);
    resolve_config(s, row->classifier_config, key.classifier_config, sizeof key.classifier_config);
    if (file_id(key.unet_path, &key.unet_size, &key.unet_mtime_ns, &key.unet_ino) != 0 ||
        file_id(key.classifier_path, &key.clf_size, &key.clf_mtime_ns, &key.clf_ino) != 0) {
        adm_error_prefix("model %s", row->name);
        return NULL;
    }
    for (int i = 0; i < c->n; i++) {
        adm_cached_model *e = c->e[i];
        if (!strcmp(e->name, key.name) && !strcmp(e->unet_path, key.unet_path) &&
            !strcmp(e->classifier_path, key.classifier_path) && !strcmp(e->unet_config, key.unet_config) &&
            !strcmp(e->classifier_config, key.classifier_config) && e->unet_size == key.unet_size &&
            e->unet_mtime_ns == key.unet_mtime_ns && e->unet_ino == key.unet_ino &&
            e->clf_size == key.clf_size && e->clf_mtime_ns == key.clf_mtime_ns && e->clf_ino == key.clf_ino &&
            (!row->unet_sha256[0] || !strcmp(row->unet_sha256, e->unet_sha256)) &&
            (!row->classifier_sha256[0] || !strcmp(row->classifier_sha256, e->classifier_sha256))) {
            e->last_used = ++c->clock;
            return e;
        }
        if (!strcmp(e->name, key.name)) { drop(c, i); i--; }   /* stale version of this model */
    }
    /* Make room for the weights, fp32 on the device whatever the file
     * stores (an fp16 checkpoint takes twice its size), computed from the
     * files' tensor index.  A file whose index cannot be read is counted at
     * twice its size; the load below then says what is wrong with it. */
    size_t estimate = 0, clf_bytes = 0;
    if (adm_weights_file_bytes(key.unet_path, &estimate) != 0) estimate = 2 * (size_t)key.unet_size;
    if (key.classifier_path[0] && adm_weights_file_bytes(key.classifier_path, &clf_bytes) != 0)
        clf_bytes = 2 * (size_t)key.clf_size;
    estimate += clf_bytes;
    while (c->n > 0 && (adm_model_cache_bytes(c) + estimate > c->budget || c->n == CACHE_MAX)) {
        int lru = 0;
        for (int i = 1; i < c->n; i++) if (c->e[i]->last_used < c->e[lru]->last_used) lru = i;
        drop(c, lru);
    }
    double t0 = adm_now();
    adm_cached_model *e = adm_malloc(sizeof *e);
    if (!e) return NULL;
    *e = key;
    /* Every file once, hashed while read; the bytes hashed are the bytes loaded. */
    model_files f;
    memset(&f, 0, sizeof f);
    int ok = read_weights(e->unet_path, row->unet_sha256, &f.unet, &f.files.unet_len, e->unet_sha256) == 0 &&
             read_config(e->unet_config, &f.unet_config, ADM_KIND_UNET) == 0 &&
             (!e->classifier_path[0] ||
              (read_weights(e->classifier_path, row->classifier_sha256, &f.clf, &f.files.classifier_len,
                            e->classifier_sha256) == 0 &&
               read_config(e->classifier_config, &f.clf_config, ADM_KIND_CLASSIFIER) == 0));
    if (ok) {
        f.files.unet_bytes = f.unet;
        f.files.classifier_bytes = f.clf;
        f.files.unet_config_text = f.unet_config;
        f.files.classifier_config_text = f.clf_config;
        adm_model_spec spec = {
            e->unet_path, e->unet_config,
            e->classifier_path[0] ? e->classifier_path : NULL,
            e->classifier_path[0] ? e->classifier_config : NULL,
        };
        e->model = adm_model_load_files(c->cl, &spec, &f.files);
        ok = e->model != NULL;
    }
    free(f.unet); free(f.clf); free(f.unet_config); free(f.clf_config);
    if (!ok) {
        free(e);
        adm_error_prefix("model %s", row->name);
        return NULL;
    }
    adm_model_get_info(e->model, &e->info);
    e->last_used = ++c->clock;
    c->e[c->n++] = e;
    *load_s = adm_now() - t0;
    adm_log(ADM_LOG_INFO, "model %s: loaded in %.2f s (%dx%d, %d channels, %d classes%s, %.1f MB on the device)",
            e->name, *load_s, e->info.image_size, e->info.image_size, e->info.channels, e->info.num_classes,
            e->info.has_classifier ? ", classifier" : "", e->info.device_bytes / 1e6);
    return e;
}
