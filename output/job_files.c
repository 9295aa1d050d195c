/* job_files.c — job file layout, PNG provenance chunks, device provenance
 * and orphan cleanup (see job_files.h). */
#include "job_files.h"
#include "labels.h"
#include "util.h"
#include <clblast_c.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- paths ---- */

int adm_job_output_dir(const char *root, const adm_spool_job *job, char *out, size_t n) {
    int len = job->req.outdir[0] ? snprintf(out, n, "%s/%s", root, job->req.outdir)
                                 : snprintf(out, n, "%s/job-%lld", root, (long long)job->id);
    return len < 0 || (size_t)len >= n ? adm_error("output path too long") : 0;
}

int adm_job_output_path(const char *root, const adm_spool_job *job, int index, char *out, size_t n) {
    char dir[ADM_SPOOL_PATH];
    if (adm_job_output_dir(root, job, dir, sizeof dir) != 0) return -1;
    int len = snprintf(out, n, "%s/job%lld-%04d.png", dir, (long long)job->id, index);
    return len < 0 || (size_t)len >= n ? adm_error("output path too long") : 0;
}

int adm_job_tmp_path(const char *final, char *out, size_t n) {
    const char *slash = strrchr(final, '/');
    int dlen = slash ? (int)(slash - final) : 0;
    const char *base = slash ? slash + 1 : final;
    int len = snprintf(out, n, "%.*s%s.%s.tmp-%s-%ld", dlen, final, slash ? "/" : "", base,
                       adm_host_name(), (long)getpid());
    return len < 0 || (size_t)len >= n ? adm_error("temp path too long") : 0;
}

int adm_job_make_dir(const char *root, const char *dir) {
    char real_root[PATH_MAX], real_dir[PATH_MAX];
    if (!realpath(root, real_root)) return adm_error("output root %s: %s", root, strerror(errno));
    size_t rl = strlen(root);
    if (strncmp(dir, root, rl) != 0) return adm_error("%s is not under the output root %s", dir, root);
    if (adm_mkdir_p(dir, 0775) != 0) return -1;
    if (!realpath(dir, real_dir)) return adm_error("%s: %s", dir, strerror(errno));
    size_t n = strlen(real_root);
    if (strncmp(real_dir, real_root, n) != 0 || (real_dir[n] != '/' && real_dir[n] != 0))
        return adm_error("%s resolves to %s, outside the output root %s", dir, real_dir, real_root);
    return 0;
}

/* A temp file of ours: ".<name>.tmp-<host>-<pid>" with host = this host and
 * pid no longer running.  Returns 1 when it is such an orphan. */
static int is_orphan_tmp(const char *name) {
    if (name[0] != '.') return 0;
    const char *t = strstr(name, ".tmp-");
    if (!t) return 0;
    const char *host = t + 5, *dash = strrchr(host, '-');
    if (!dash) return 0;
    size_t hl = strlen(adm_host_name());
    if ((size_t)(dash - host) != hl || strncmp(host, adm_host_name(), hl) != 0) return 0;
    char *end;
    long pid = strtol(dash + 1, &end, 10);
    if (*end || pid <= 0) return 0;
    if (pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int clean_dir(const char *dir, int depth) {
    if (depth > 16) return 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : adm_error("%s: %s", dir, strerror(errno));
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            int r = clean_dir(path, depth + 1);
            if (r > 0) removed += r;
        } else if (S_ISREG(st.st_mode) && is_orphan_tmp(e->d_name)) {
            if (unlink(path) == 0) removed++;
        }
    }
    closedir(d);
    return removed;
}

int adm_job_clean_orphans(const char *root) { return clean_dir(root, 0); }

/* In dir, the files job<ID>-<k>.png of job with k >= images_done, older than before. */
static int clean_job_files(const char *dir, const adm_spool_job *job, time_t before) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char prefix[40];
    int plen = snprintf(prefix, sizeof prefix, "job%lld-", (long long)job->id);
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0) continue;
        char *end;
        long k = strtol(e->d_name + plen, &end, 10);
        if (end == e->d_name + plen || strcmp(end, ".png") != 0 || k < job->images_done) continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < before && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

int adm_job_clean_unrecorded(adm_spool *s, const char *root, time_t before) {
    adm_spool_job *jobs;
    int n, removed = 0;
    if (adm_spool_job_list(s, NULL, 0, &jobs, &n) != 0) return -1;
    for (int i = 0; i < n; i++) {
        const adm_spool_job *j = &jobs[i];
        char dir[ADM_SPOOL_PATH];
        if (!strcmp(j->state, "running") || j->images_done >= j->req.count ||
            adm_job_output_dir(root, j, dir, sizeof dir) != 0) continue;
        removed += clean_job_files(dir, j, before);
    }
    free(jobs);
    return removed;
}

/* ---- provenance ---- */

void adm_job_png_texts(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass) {
    char name[ADM_LABEL_MAX + 1];
    int named = klass >= 0 && adm_labels_line(p->labels, klass, name, sizeof name) == 0;
    adm_job_png_texts_named(tx, p, job_id, index, klass, named ? name : NULL);
}

void adm_job_png_texts_named(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass,
                             const char *class_name) {
    tx->n = 0;
#define TEXT(k, ...) do { snprintf(tx->buf[tx->n], sizeof tx->buf[0], __VA_ARGS__); \
        tx->t[tx->n].key = (k); tx->t[tx->n].value = tx->buf[tx->n]; tx->n++; } while (0)
    TEXT("Software", "admd %s", p->admd_version);
    TEXT("adm:job", "%lld", (long long)job_id);
    TEXT("adm:index", "%d", index);
    TEXT("adm:seed", "%lld", (long long)p->seed);
    TEXT("adm:class", "%d", klass);
    if (class_name && *class_name) TEXT("adm:class-name", "%s", class_name);
    TEXT("adm:model", "%s", p->model);
    TEXT("adm:unet-sha256", "%s", p->unet_sha256);
    if (p->classifier_sha256[0]) TEXT("adm:classifier-sha256", "%s", p->classifier_sha256);
    TEXT("adm:sampler", "%s", p->sampler);
    if (p->steps > 0) {                        /* the DPM-Solver samplers */
        TEXT("adm:steps", "%d", p->steps);
        TEXT("adm:skip", "%s", p->skip);
        TEXT("adm:thresholding", "%s", p->thresholding);
    } else {
        TEXT("adm:respacing", "%s", p->respacing);
        TEXT("adm:eta", "%.17g", p->eta);
    }
    TEXT("adm:scale", "%.17g", p->scale);
    TEXT("adm:noise", "%s", p->noise_algorithm);
    if (p->upsampler[0]) {                     /* stage 2 of a two-stage job (stage 1: the lines above) */
        TEXT("adm:stage", "2");
        TEXT("adm:upsampler", "%s", p->upsampler);
        TEXT("adm:upsampler-sha256", "%s", p->up_unet_sha256);
        TEXT("adm:up-sampler", "%s", p->up_sampler);
        if (p->up_steps > 0) TEXT("adm:up-steps", "%d", p->up_steps);
        else { TEXT("adm:up-respacing", "%s", p->up_respacing); TEXT("adm:up-eta", "%.17g", p->up_eta); }
    }
    if (p->input_path[0]) TEXT("adm:input", "%.1000s", p->input_path);
#undef TEXT
}

const char *adm_clblast_version(void) {
    static char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
    return v;
}

void adm_job_device_provenance(const adm_cl *cl, adm_spool_provenance *p) {
    snprintf(p->device_name, sizeof p->device_name, "%s", cl->device_name);
    snprintf(p->device_vendor, sizeof p->device_vendor, "%s", cl->vendor);
    snprintf(p->driver_version, sizeof p->driver_version, "%s", cl->driver_version);
    snprintf(p->opencl_version, sizeof p->opencl_version, "%s", cl->cl_version);
    snprintf(p->admd_version, sizeof p->admd_version, "%s", ADM_VERSION);
    snprintf(p->kernel_hash, sizeof p->kernel_hash, "%s", cl->source_hash);
    snprintf(p->clblast_version, sizeof p->clblast_version, "%s", adm_clblast_version());
    snprintf(p->host, sizeof p->host, "%s", adm_host_name());
}
