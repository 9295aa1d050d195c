/* cl_runtime.c — open one OpenCL device for admd: pick it, make a context
 * and an in-order queue, build every embedded kernels/NAME.cl as one
 * program (cached on disk as a device binary), create every kernel of
 * kernel_list.h once (reached by handle, with its work-group limit), and
 * wrap buffer allocation / transfers with clear errors.
 *
 * Program cache: the cache folder (adm_cache_dir: $ADMD_CACHE_DIR,
 * $CACHE_DIRECTORY, $XDG_CACHE_HOME/admd or ~/.cache/admd; none: no cache) holds
 * prog-<sha256>.bin, where the hash covers the kernel sources, the build
 * options, the device name and the driver version; files are written to a
 * temporary name and renamed, so a crash never leaves a torn binary.
 */
#include "cl_runtime.h"
#include "ops.h"
#include "util.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 32

const char *adm_cl_strerror(cl_int err) {
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL platform installed)";
    default: return "unknown OpenCL error";
    }
}

int adm_cl_fail(const char *where, cl_int err) {
    return adm_error("%s: %s (%d)", where, adm_cl_strerror(err), (int)err);
}

/* ---- device selection -------------------------------------------------- */

static void str_info_dev(cl_device_id d, cl_device_info what, char *buf, size_t n) {
    buf[0] = 0;
    if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
    buf[n - 1] = 0;
}
static void str_info_plat(cl_platform_id p, cl_platform_info what, char *buf, size_t n) {
    buf[0] = 0;
    if (clGetPlatformInfo(p, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
    buf[n - 1] = 0;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

static int get_platforms(cl_platform_id *plats, cl_uint *np) {
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, np);
    if (err == -1001 || (err == CL_SUCCESS && *np == 0))
        return adm_error("no OpenCL platform found (install an ICD such as pocl-opencl-icd)");
    if (err != CL_SUCCESS) return adm_cl_fail("clGetPlatformIDs", err);
    if (*np > MAX_PLATFORMS) *np = MAX_PLATFORMS;
    return 0;
}

static cl_uint get_devices(cl_platform_id p, cl_device_id *devs) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) != CL_SUCCESS) return 0;
    return nd > MAX_DEVICES ? MAX_DEVICES : nd;
}

/* spec: NULL/"" = first GPU else first device; "P:D"; or a name substring. */
static int select_device(const char *spec, cl_platform_id *plat_out, cl_device_id *dev_out) {
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (get_platforms(plats, &np)) return -1;
    int pi, di;
    char tail;
    if (spec && *spec && sscanf(spec, "%d:%d%c", &pi, &di, &tail) == 2) {
        if (pi < 0 || (cl_uint)pi >= np)
            return adm_error("device '%s': no platform %d (there are %u; see admctl devices)", spec, pi, np);
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = get_devices(plats[pi], devs);
        if (di < 0 || (cl_uint)di >= nd)
            return adm_error("device '%s': platform %d has no device %d (it has %u; see admctl devices)", spec, pi, di, nd);
        *plat_out = plats[pi]; *dev_out = devs[di];
        return 0;
    }
    /* A bare number N: the N-th device of all platforms, in `admctl devices`
     * order (never a name substring: "1" would match "avx512"). */
    int flat = -1, used = 0;
    if (spec && *spec && sscanf(spec, "%d%n", &flat, &used) == 1 && spec[used] == 0) {
        int k = 0;
        for (cl_uint p = 0; p < np; p++) {
            cl_device_id devs[MAX_DEVICES];
            cl_uint nd = get_devices(plats[p], devs);
            for (cl_uint d = 0; d < nd; d++, k++)
                if (k == flat) { *plat_out = plats[p]; *dev_out = devs[d]; return 0; }
        }
        return adm_error("device '%s': there are only %d device(s) (see admctl devices)", spec, k);
    }
    int have_first = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (cl_uint p = 0; p < np; p++) {
            cl_device_id devs[MAX_DEVICES];
            cl_uint nd = get_devices(plats[p], devs);
            char pname[256];
            str_info_plat(plats[p], CL_PLATFORM_NAME, pname, sizeof pname);
            for (cl_uint d = 0; d < nd; d++) {
                char dname[256];
                cl_device_type type = 0;
                str_info_dev(devs[d], CL_DEVICE_NAME, dname, sizeof dname);
                clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
                int match;
                if (spec && *spec) match = contains_nocase(dname, spec) || contains_nocase(pname, spec);
                else match = pass == 0 ? (type & CL_DEVICE_TYPE_GPU) != 0 : 1;
                if (match) { *plat_out = plats[p]; *dev_out = devs[d]; return 0; }
                have_first = 1;
            }
        }
        if (spec && *spec) break;
    }
    if (!have_first) return adm_error("no OpenCL device found on %u platform(s)", np);
    return adm_error("no OpenCL device matches '%s' (see admctl devices)", spec);
}

/* ---- program build and on-disk cache ------------------------------------ */

/* All embedded kernels/NAME.cl, common.cl first, each headed by its name, plus `extra` (may be NULL). */
static char *concat_sources(const char *extra, size_t *len_out) {
    size_t len = extra ? strlen(extra) + 64 : 0;
    for (const adm_embedded_file *f = adm_cl_sources; f->name; f++)
        len += strlen(f->name) + strlen(f->text) + 64;
    char *all = adm_malloc(len + 1);
    if (!all) return NULL;
    size_t off = 0;
    /* common.cl (shared macros and fixed-order sums) first, then the rest in name order */
    for (int pass = 0; pass < 2; pass++)
        for (const adm_embedded_file *f = adm_cl_sources; f->name; f++)
            if ((strcmp(f->name, "common.cl") == 0) == (pass == 0))
                off += (size_t)sprintf(all + off, "\n/* ---- %s ---- */\n#line 1\n%s\n", f->name, f->text);
    if (extra) off += (size_t)sprintf(all + off, "\n/* ---- extra ---- */\n#line 1\n%s\n", extra);
    *len_out = off;
    return all;
}

static int report_build_failure(adm_cl *cl, cl_int err) {
    size_t n = 0;
    clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = n ? malloc(n + 1) : NULL;
    if (log) {
        clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
        log[n] = 0;
    }
    adm_error("building the OpenCL kernels for %s failed: %s (%d); build log:\n%s",
              cl->device_name, adm_cl_strerror(err), (int)err, log ? log : "(no log)");
    free(log);
    return -1;
}

static int try_load_binary(adm_cl *cl, const char *path) {
    uint8_t *bin = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fclose(f);
    if (adm_read_file(path, &bin, &len) || len == 0) { free(bin); return -1; }
    cl_int st = 0, err;
    const unsigned char *b = bin;
    cl->program = clCreateProgramWithBinary(cl->ctx, 1, &cl->device, &len, &b, &st, &err);
    free(bin);
    if (err != CL_SUCCESS || st != CL_SUCCESS) {
        if (cl->program) clReleaseProgram(cl->program);
        cl->program = NULL;
        return -1;
    }
    err = clBuildProgram(cl->program, 1, &cl->device, cl->build_options, NULL, NULL);
    if (err != CL_SUCCESS) { clReleaseProgram(cl->program); cl->program = NULL; return -1; }
    return 0;
}

static void save_binary(adm_cl *cl, const char *dir, const char *path) {
    size_t len = 0;
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS || !len) return;
    unsigned char *bin = malloc(len);
    if (!bin) return;
    /* A cache that cannot be written only costs a rebuild next time. */
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS &&
        adm_mkdir_p(dir, 0755) == 0)
        (void)adm_file_write_atomic(path, NULL, bin, len);
    free(bin);
}

static int build_program(adm_cl *cl, const char *extra) {
    double t0 = adm_now();
    size_t src_len = 0;
    char *src = concat_sources(extra, &src_len);
    if (!src) return -1;
    adm_sha256_hex(src, src_len, cl->source_hash);

    /* cache key: sources + options + device + driver (+ platform version) */
    char plat_ver[256];
    str_info_plat(cl->platform, CL_PLATFORM_VERSION, plat_ver, sizeof plat_ver);
    size_t klen = src_len + 1024 + sizeof plat_ver;
    char *key = adm_malloc(klen);
    if (!key) { free(src); return -1; }
    int kn = snprintf(key, klen, "%s\n%s\n%s\n%s\n%s\n", cl->source_hash, cl->build_options,
                      cl->device_name, cl->driver_version, plat_ver);
    char hash[65], dir[1024], path[1200];
    adm_sha256_hex(key, (size_t)kn, hash);
    free(key);
    memcpy(cl->cache_key, hash, sizeof cl->cache_key);
    /* no usable cache folder: build every time (a note, not an error) */
    int cached = adm_cache_dir(dir, sizeof dir) == 0;
    if (!cached) fprintf(stderr, "note: %s\n", adm_last_error());
    snprintf(path, sizeof path, "%s/prog-%s.bin", dir, hash);

    if (cached && try_load_binary(cl, path) == 0) {
        cl->program_from_cache = 1;
        cl->build_seconds = adm_now() - t0;
        free(src);
        return 0;
    }
    cl_int err;
    const char *s = src;
    cl->program = clCreateProgramWithSource(cl->ctx, 1, &s, &src_len, &err);
    free(src);
    if (err != CL_SUCCESS) return adm_cl_fail("clCreateProgramWithSource", err);
    err = clBuildProgram(cl->program, 1, &cl->device, cl->build_options, NULL, NULL);
    if (err != CL_SUCCESS) return report_build_failure(cl, err);
    if (cached) save_binary(cl, dir, path);
    cl->build_seconds = adm_now() - t0;
    return 0;
}

/* ---- kernels ------------------------------------------------------------ */

static const char *const kernel_names[ADM_K_COUNT] = {
#define ADM_KERNEL_NAME(name) #name,
    ADM_KERNEL_LIST(ADM_KERNEL_NAME)
#undef ADM_KERNEL_NAME
};

/* Every kernel of kernel_list.h, once, with CL_KERNEL_WORK_GROUP_SIZE. */
static int create_kernels(adm_cl *cl) {
    for (int i = 0; i < ADM_K_COUNT; i++) {
        cl_int err;
        adm_kernel *k = &cl->kern[i];
        k->name = kernel_names[i];
        k->k = clCreateKernel(cl->program, k->name, &err);
        if (err != CL_SUCCESS)
            return adm_error("OpenCL kernel '%s' (kernel_list.h) is not in the program: %s", k->name,
                             adm_cl_strerror(err));
        size_t wg = 0;
        err = clGetKernelWorkGroupInfo(k->k, cl->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
        if (err != CL_SUCCESS || wg == 0) wg = cl->max_wg;
        k->max_wg = wg < cl->wg_cap ? wg : cl->wg_cap;
        if (k->max_wg < 1) k->max_wg = 1;
    }
    return 0;
}

size_t adm_cl_wg(const adm_cl *cl, adm_kernel_id id, size_t want) {
    size_t lim = cl->kern[id].max_wg, w = 1;
    if (want < lim) lim = want;
    while (w * 2 <= lim) w *= 2;
    return w;
}

/* ---- open / close ------------------------------------------------------- */

int adm_cl_open(adm_cl *cl, const char *spec, int flags) {
    return adm_cl_open_extra(cl, spec, flags, NULL);
}

int adm_cl_open_extra(adm_cl *cl, const char *spec, int flags, const char *extra_source) {
    memset(cl, 0, sizeof *cl);
    if (select_device(spec, &cl->platform, &cl->device)) return -1;
    str_info_dev(cl->device, CL_DEVICE_NAME, cl->device_name, sizeof cl->device_name);
    str_info_dev(cl->device, CL_DEVICE_VENDOR, cl->vendor, sizeof cl->vendor);
    str_info_dev(cl->device, CL_DRIVER_VERSION, cl->driver_version, sizeof cl->driver_version);
    str_info_dev(cl->device, CL_DEVICE_VERSION, cl->cl_version, sizeof cl->cl_version);
    str_info_plat(cl->platform, CL_PLATFORM_NAME, cl->platform_name, sizeof cl->platform_name);
    cl->keep_released = strstr(cl->platform_name, "Oclgrind") != NULL;
    clGetDeviceInfo(cl->device, CL_DEVICE_TYPE, sizeof cl->type, &cl->type, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof cl->global_mem, &cl->global_mem, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof cl->max_alloc, &cl->max_alloc, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof cl->local_mem, &cl->local_mem, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof cl->max_wg, &cl->max_wg, NULL);
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    cl->fp_fma = (fp & CL_FP_FMA) != 0;
    /* Work-group sizes come from the device's and each kernel's limits;
     * ADMD_MAX_WORK_GROUP=N lowers them (tests: what a GPU with small
     * limits would get). */
    cl->wg_cap = cl->max_wg ? cl->max_wg : 1;
    const char *cap = getenv("ADMD_MAX_WORK_GROUP");
    if (cap && *cap) {
        char *end;
        long v = strtol(cap, &end, 10);
        if (*end || v < 1) return adm_error("ADMD_MAX_WORK_GROUP='%s': expected a positive integer", cap);
        if ((size_t)v < cl->wg_cap) cl->wg_cap = (size_t)v;
    }

    cl_int err;
    cl->ctx = clCreateContext(NULL, 1, &cl->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) return adm_cl_fail("clCreateContext", err);
    cl->profiling = (flags & ADM_CL_PROFILE) != 0;
    cl->queue = clCreateCommandQueue(cl->ctx, cl->device, cl->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) { adm_cl_fail("clCreateCommandQueue", err); adm_cl_close(cl); return -1; }

    /* Deterministic options: no fast-math, no mad contraction.  ADM_FMA lets
     * kernels use fma() (exactly rounded, hence deterministic) where it is
     * a hardware instruction. */
    /* Register tiles of kernels/conv.cl: ADM_NV vectors of ADM_VW positions
     * (or GEMM columns) x ADM_COT output channels (3x3 convs) or ADM_MT rows
     * (GEMM).  ADMD_TILES="vw,nv,cot,mt" overrides (for tuning). */
    if (cl->type & CL_DEVICE_TYPE_CPU) { cl->tile_vw = 16; cl->tile_nv = 2; cl->tile_cot = 8; cl->tile_mt = 8; }
    else { cl->tile_vw = 8; cl->tile_nv = 1; cl->tile_cot = 16; cl->tile_mt = 8; }
    const char *tiles = getenv("ADMD_TILES");
    if (tiles && *tiles) {
        int a, b, c, d;
        if (sscanf(tiles, "%d,%d,%d,%d", &a, &b, &c, &d) != 4 || (a != 4 && a != 8 && a != 16) || b < 1 || b > 4 ||
            c < 1 || c > 32 || d < 1 || d > 32)
            return adm_error("ADMD_TILES='%s': expected vw,nv,cot,mt with vw 4, 8 or 16, nv 1..4, the others 1..32", tiles);
        cl->tile_vw = a; cl->tile_nv = b; cl->tile_cot = c; cl->tile_mt = d;
    }
    snprintf(cl->build_options, sizeof cl->build_options,
             "-cl-std=CL1.2%s%s -DADM_VW=%d -DADM_NV=%d -DADM_COT=%d -DADM_MT=%d",
             (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) ? " -cl-fp32-correctly-rounded-divide-sqrt" : "",
             cl->fp_fma ? " -DADM_FMA=1" : " -DADM_FMA=0", cl->tile_vw, cl->tile_nv, cl->tile_cot, cl->tile_mt);
    if (build_program(cl, extra_source) || create_kernels(cl)) { adm_cl_close(cl); return -1; }
    return 0;
}

void adm_cl_close(adm_cl *cl) {
    if (!cl) return;
    adm_ops_release(cl);
    for (int i = 0; i < ADM_K_COUNT; i++)
        if (cl->kern[i].k) clReleaseKernel(cl->kern[i].k);
    memset(cl->kern, 0, sizeof cl->kern);
    for (int i = 0; i < cl->n_extra; i++) clReleaseKernel(cl->extra[i].k);
    cl->n_extra = 0;
    adm_cl_release(cl, cl->staging);
    cl->staging = NULL;
    cl->staging_bytes = 0;
    for (int i = 0; i < cl->n_retired; i++) clReleaseMemObject(cl->retired[i]);
    free(cl->retired);
    cl->retired = NULL;
    cl->n_retired = cl->cap_retired = 0;
    cl->keep_released = 0;
    if (cl->program) clReleaseProgram(cl->program);
    if (cl->queue) { clFinish(cl->queue); clReleaseCommandQueue(cl->queue); }
    if (cl->ctx) clReleaseContext(cl->ctx);
    cl->program = NULL; cl->queue = NULL; cl->ctx = NULL;
}

cl_kernel adm_cl_kernel(adm_cl *cl, const char *name) {
    for (int i = 0; i < ADM_K_COUNT; i++)
        if (cl->kern[i].k && !strcmp(cl->kern[i].name, name)) return cl->kern[i].k;
    for (int i = 0; i < cl->n_extra; i++)
        if (!strcmp(cl->extra[i].name, name)) return cl->extra[i].k;
    if (cl->n_extra >= (int)(sizeof cl->extra / sizeof cl->extra[0])) {
        adm_error("kernel '%s': the table of extra kernels is full (add it to kernel_list.h)", name);
        return NULL;
    }
    cl_int err;
    cl_kernel k = clCreateKernel(cl->program, name, &err);
    if (err != CL_SUCCESS) {
        adm_error("OpenCL kernel '%s': %s", name, adm_cl_strerror(err));
        return NULL;
    }
    snprintf(cl->extra[cl->n_extra].name, sizeof cl->extra[0].name, "%s", name);
    cl->extra[cl->n_extra++].k = k;
    return k;
}

/* ---- buffers ------------------------------------------------------------ */

#define MIB(x) ((double)(x) / (1024.0 * 1024.0))

cl_mem adm_cl_alloc(adm_cl *cl, size_t bytes) {
    if (bytes == 0) bytes = 4;
    if (bytes > cl->max_alloc) {
        adm_error("device %s: a buffer of %.1f MiB is needed but the device's max allocation is %.1f MiB "
                  "(global memory %.1f MiB)", cl->device_name, MIB(bytes), MIB(cl->max_alloc), MIB(cl->global_mem));
        return NULL;
    }
    cl_int err;
    cl_mem m = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS || !m) {
        adm_error("device %s: allocating %.1f MiB failed (%s); max allocation %.1f MiB, global memory %.1f MiB",
                  cl->device_name, MIB(bytes), adm_cl_strerror(err), MIB(cl->max_alloc), MIB(cl->global_mem));
        return NULL;
    }
    return m;
}

/* A host write that fills a buffer from offset 0 goes straight in.  One
 * into the middle of a buffer (an input into the activation arena) is
 * written whole into the staging buffer, from offset 0, and copied on the
 * device by adm_copy.  The device result is the same either way; the
 * reason is Oclgrind 21.10's uninitialised-value checker, whose shadow
 * memory takes every host store (write, copy or fill) as the new size of
 * the whole buffer's shadow, starting at offset 0: after a partial write
 * everything the kernels later write beyond that size reads back as
 * "uninitialized" (the >1000 false reports of issue 12).  A kernel's
 * stores are tracked exactly, so with this path the checker sees the truth
 * and a real uninitialised read stands out. */
int adm_cl_write(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, const void *src) {
    if (!bytes) return 0;
    cl->bytes_to_device += bytes;
    size_t size = 0;
    clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL);
    int whole = offset_bytes == 0 && (bytes == size || size == 0);
    if (whole || offset_bytes % 4 || bytes % 4 || !cl->kern[ADM_K_adm_copy].k) {
        cl_int err = clEnqueueWriteBuffer(cl->queue, m, CL_TRUE, offset_bytes, bytes, src, 0, NULL, NULL);
        return err == CL_SUCCESS ? 0 : adm_cl_fail("writing a device buffer", err);
    }
    if (bytes > cl->staging_bytes) {
        adm_cl_release(cl, cl->staging);
        cl->staging = NULL;
        cl->staging_bytes = 0;
        if (!(cl->staging = adm_cl_alloc(cl, bytes))) return adm_error_prefix("staging buffer");
        cl->staging_bytes = bytes;
    }
    cl_int err = clEnqueueWriteBuffer(cl->queue, cl->staging, CL_TRUE, 0, bytes, src, 0, NULL, NULL);
    if (err != CL_SUCCESS) return adm_cl_fail("writing the staging buffer", err);
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_copy);
    cl_ulong so = 0, doff = offset_bytes / 4;
    cl_uint n = (cl_uint)(bytes / 4);
    err = clSetKernelArg(k->k, 0, sizeof(cl_mem), &cl->staging);
    err |= clSetKernelArg(k->k, 1, sizeof so, &so);
    err |= clSetKernelArg(k->k, 2, sizeof(cl_mem), &m);
    err |= clSetKernelArg(k->k, 3, sizeof doff, &doff);
    err |= clSetKernelArg(k->k, 4, sizeof n, &n);
    if (err != CL_SUCCESS) return adm_cl_fail("staged write: adm_copy arguments", err);
    size_t lws = adm_cl_wg(cl, ADM_K_adm_copy, 64), gws = ((size_t)n + lws - 1) / lws * lws;
    cl->launches[ADM_K_adm_copy]++;
    err = clEnqueueNDRangeKernel(cl->queue, k->k, 1, NULL, &gws, &lws, 0, NULL, NULL);
    return err == CL_SUCCESS ? 0 : adm_cl_fail("staged write: adm_copy", err);
}

/* On a GPU or PoCL this is clReleaseMemObject.  On Oclgrind 21.10 the
 * buffer is kept (released at adm_cl_close) because of a fault in its
 * uninitialised-value checker: the checker's shadow record of a buffer is
 * keyed by the buffer's slot number and is never dropped when the buffer is
 * released (the plugin has no memoryDeallocated hook), while Oclgrind hands
 * a released slot to the next buffer created.  The next buffer then
 * inherits the old record: its old size and its old initialised bytes.
 * When the new buffer is larger, kernel stores beyond the old size are
 * dropped from the record and later loads there are reported as
 * "uninitialized" although they were written (issue 12: the SuperRes
 * forward's arena took a slot of the previous model's smaller arena,
 * hundreds of false reports in adm_group_norm and adm_pad2d); when it is
 * not larger, reads of memory that was never written go unreported.  A
 * slot that is never reused has a record made fresh (all uninitialised,
 * the right size) at the buffer's first kernel, so the checker sees the
 * truth.  The cost is Oclgrind's memory until the context closes. */
void adm_cl_release(adm_cl *cl, cl_mem m) {
    if (!m) return;
    if (cl && cl->keep_released) {
        if (cl->n_retired == cl->cap_retired) {
            int nc = cl->cap_retired ? 2 * cl->cap_retired : 64;
            cl_mem *nr = realloc(cl->retired, (size_t)nc * sizeof *nr);
            if (nr) { cl->retired = nr; cl->cap_retired = nc; }
        }
        if (cl->n_retired < cl->cap_retired) { cl->retired[cl->n_retired++] = m; return; }
    }
    clReleaseMemObject(m);
}

int adm_cl_read(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, void *dst) {
    if (!bytes) return 0;
    cl->bytes_to_host += bytes;
    cl_int err = clEnqueueReadBuffer(cl->queue, m, CL_TRUE, offset_bytes, bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? 0 : adm_cl_fail("reading a device buffer", err);
}

int adm_cl_finish(adm_cl *cl) {
    cl_int err = clFinish(cl->queue);
    return err == CL_SUCCESS ? 0 : adm_cl_fail("clFinish", err);
}

/* ---- listing ------------------------------------------------------------ */

int adm_cl_list(void) {
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (get_platforms(plats, &np)) return -1;
    for (cl_uint p = 0; p < np; p++) {
        char name[256], ver[256], vendor[256];
        str_info_plat(plats[p], CL_PLATFORM_NAME, name, sizeof name);
        str_info_plat(plats[p], CL_PLATFORM_VERSION, ver, sizeof ver);
        str_info_plat(plats[p], CL_PLATFORM_VENDOR, vendor, sizeof vendor);
        printf("platform %u: %s (%s; %s)\n", p, name, vendor, ver);
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = get_devices(plats[p], devs);
        for (cl_uint d = 0; d < nd; d++) {
            char dname[256], dver[256], drv[256];
            cl_device_type type = 0;
            cl_ulong gmem = 0, amax = 0, lmem = 0;
            cl_uint cu = 0;
            size_t wg = 0;
            str_info_dev(devs[d], CL_DEVICE_NAME, dname, sizeof dname);
            str_info_dev(devs[d], CL_DEVICE_VERSION, dver, sizeof dver);
            str_info_dev(devs[d], CL_DRIVER_VERSION, drv, sizeof drv);
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof amax, &amax, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
            printf("  device %u:%u: %s\n", p, d, dname);
            printf("    type %s, %u compute units, OpenCL \"%s\", driver %s\n",
                   (type & CL_DEVICE_TYPE_GPU) ? "GPU" : (type & CL_DEVICE_TYPE_CPU) ? "CPU" :
                   (type & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator" : "other", cu, dver, drv);
            printf("    global memory %.0f MiB, max allocation %.0f MiB, local memory %.0f KiB, max work-group %zu\n",
                   MIB(gmem), MIB(amax), (double)lmem / 1024.0, wg);
        }
    }
    return 0;
}
