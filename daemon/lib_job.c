/* lib_job.c — job file layout, PNG provenance chunks, device provenance,
 * worker ids and orphan cleanup (see lib_job.h). */
#include "lib_job.h"
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
#include <time.h>
#include <unistd.h>

/* ---- batching ---- */

int adm_job_batch(int requested, int image_size, int count) {
    int batch = requested;
    if (batch <= 0) {
        long px = (long)image_size * image_size;
        long b = 64L * 32 * 32 / (px > 0 ? px : 1);
        batch = b < 1 ? 1 : b > 64 ? 64 : (int)b;
    }
    return batch < count ? batch : count;
}

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
    char real_root[PATH_MAX], real_dir[PATH_MAX], path[PATH_MAX];
    if (!realpath(root, real_root)) return adm_error("output root %s: %s", root, strerror(errno));
    size_t rl = strlen(root);
    if (strncmp(dir, root, rl) != 0) return adm_error("%s is not under the output root %s", dir, root);
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return adm_error("path too long");
    /* mkdir each component after the root. */
    for (char *p = path + rl + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0775) != 0 && errno != EEXIST) return adm_error("mkdir %s: %s", path, strerror(errno));
            *p = c;
            if (c == 0) break;
        }
    }
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

/* ---- provenance ---- */

void adm_job_png_texts(adm_job_texts *tx, const adm_spool_provenance *p, int64_t job_id, int index, int klass) {
    tx->n = 0;
#define TEXT(k, ...) do { snprintf(tx->buf[tx->n], sizeof tx->buf[0], __VA_ARGS__); \
        tx->t[tx->n].key = (k); tx->t[tx->n].value = tx->buf[tx->n]; tx->n++; } while (0)
    TEXT("Software", "admd %s", p->admd_version);
    TEXT("adm:job", "%lld", (long long)job_id);
    TEXT("adm:index", "%d", index);
    TEXT("adm:seed", "%lld", (long long)p->seed);
    TEXT("adm:class", "%d", klass);
    TEXT("adm:model", "%s", p->model);
    TEXT("adm:unet-sha256", "%s", p->unet_sha256);
    if (p->classifier_sha256[0]) TEXT("adm:classifier-sha256", "%s", p->classifier_sha256);
    TEXT("adm:sampler", "%s", p->sampler);
    TEXT("adm:respacing", "%s", p->respacing);
    TEXT("adm:eta", "%.17g", p->eta);
    TEXT("adm:scale", "%.17g", p->scale);
    TEXT("adm:noise", "%s", p->noise_algorithm);
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

/* ---- workers ---- */

const char *adm_host_name(void) {
    static char host[256];
    if (!host[0] && (gethostname(host, sizeof host - 1) != 0 || !host[0])) snprintf(host, sizeof host, "localhost");
    /* ':' separates the fields of a worker id. */
    for (char *c = host; *c; c++) if (*c == ':') *c = '_';
    return host;
}

const char *adm_worker_id(void) {
    static char id[400];
    if (!id[0]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(id, sizeof id, "%s:%ld:%08lx", adm_host_name(), (long)getpid(),
                 (unsigned long)((ts.tv_nsec ^ (ts.tv_sec << 20)) & 0xffffffffUL));
    }
    return id;
}

int adm_worker_is_dead(const char *worker, void *user) {
    (void)user;
    const char *c1 = strchr(worker, ':');
    if (!c1) return 0;
    size_t hl = strlen(adm_host_name());
    if ((size_t)(c1 - worker) != hl || strncmp(worker, adm_host_name(), hl) != 0) return 0;
    char *end;
    long pid = strtol(c1 + 1, &end, 10);
    if (pid <= 0 || *end != ':') return 0;
    if (!strcmp(worker, adm_worker_id())) return 0;
    if (pid == (long)getpid()) return 1;     /* same pid, different nonce: an earlier process */
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}
