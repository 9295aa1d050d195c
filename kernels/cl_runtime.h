/* cl_runtime.h — one OpenCL device, ready to run admd's kernels.
 *
 * adm_cl_open picks a device (spec: NULL/"" = first GPU else first device;
 * "P:D" platform and device index; "N" the N-th device over all platforms;
 * or a case-insensitive substring of the
 * device or platform name), makes one context and one in-order queue,
 * and builds every embedded kernels/NAME.cl file into one program with
 * deterministic options (no fast-math; -cl-fp32-correctly-rounded-divide-sqrt
 * where supported).  Program binaries are cached on disk under
 * the cache folder (adm_cache_dir in util.h) keyed by a hash of the sources,
 * options, device name and driver version, so a restart does not recompile.
 */
#ifndef ADM_CL_RUNTIME_H
#define ADM_CL_RUNTIME_H
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>
#include "kernel_list.h"

/* A kernel created once per device context: its name (profiles, errors)
 * and the largest work-group it may run with on this device
 * (CL_KERNEL_WORK_GROUP_SIZE, capped by the context's wg_cap). */
typedef struct {
    cl_kernel k;
    const char *name;
    size_t max_wg;
} adm_kernel;

typedef struct adm_cl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue queue;
    cl_program program;
    char device_name[256], vendor[256], driver_version[128], cl_version[128], platform_name[256];
    cl_device_type type;
    cl_ulong global_mem, max_alloc, local_mem;
    size_t max_wg;
    int profiling;                /* queue created with profiling enabled */
    char source_hash[65];         /* sha256 of all embedded kernel sources (provenance) */
    char build_options[256];      /* options the program was built with */
    char cache_key[65];           /* sha256 of sources, options, device, driver, platform: names cached files */
    int program_from_cache;       /* 1: loaded from the on-disk binary cache */
    double build_seconds;         /* time spent building or loading the program */
    int fp_fma;                   /* device has a (fast) fused multiply-add */
    int tile_vw, tile_nv, tile_cot, tile_mt; /* conv.cl register tiles (ADM_VW, ADM_NV, ADM_COT, ADM_MT) */
    unsigned long long bytes_to_device, bytes_to_host;   /* moved by adm_cl_write / adm_cl_read */
    size_t wg_cap;                /* max work-group size admd uses: max_wg, or less with ADMD_MAX_WORK_GROUP */
    struct adm_ops_state *ops;    /* ops.c's per-device state (scratch, choices, profile) */
    adm_kernel kern[ADM_K_COUNT]; /* every kernel of kernel_list.h, created at open */
    struct { char name[64]; cl_kernel k; } extra[16];   /* adm_cl_kernel's by-name cache (extra sources) */
    int n_extra;
    cl_mem staging;               /* host writes into part of a buffer pass through here (adm_cl_write) */
    size_t staging_bytes;
    int keep_released;            /* Oclgrind: adm_cl_release keeps buffers until adm_cl_close */
    cl_mem *retired;              /* ... here */
    int n_retired, cap_retired;
    unsigned long launches[ADM_K_COUNT]; /* launches per kernel (make check-oclgrind's coverage) */
} adm_cl;

/* A kernel handle: adm_cl_k(cl, ADM_K_adm_silu). */
static inline const adm_kernel *adm_cl_k(const adm_cl *cl, adm_kernel_id id) { return &cl->kern[id]; }

/* Flags for adm_cl_open. */
#define ADM_CL_PROFILE 1

int adm_cl_open(adm_cl *cl, const char *spec, int flags);
/* The same with extra_source (OpenCL C, may be NULL) built into the program
 * after the embedded files: for kernels under development, and for tests
 * of the build-failure path (the error then carries the build log). */
int adm_cl_open_extra(adm_cl *cl, const char *spec, int flags, const char *extra_source);
void adm_cl_close(adm_cl *cl);

/* A kernel by name, for kernels outside kernel_list.h (adm_cl_open_extra's
 * sources, tests): created on first use and cached; kernel_list.h's are
 * returned from the handle table.  NULL + adm_error if absent.  Ops use
 * handles (adm_cl_k), never this. */
cl_kernel adm_cl_kernel(adm_cl *cl, const char *name);

/* Largest work-group size <= want that kernel id may use here: a power of
 * two (want itself if it is one) within the kernel's and device's limits
 * (ADMD_MAX_WORK_GROUP=N caps them further, for tests). */
size_t adm_cl_wg(const adm_cl *cl, adm_kernel_id id, size_t want);

/* Human name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *adm_cl_strerror(cl_int err);

/* Set adm_error with where + the code's name; returns -1. */
int adm_cl_fail(const char *where, cl_int err);

/* Device buffers (float32 unless noted).  Allocation failures name the size
 * and the device's limits. */
cl_mem adm_cl_alloc(adm_cl *cl, size_t bytes);
/* Blocking host -> device copy.  A write into part of a buffer goes to a
 * staging buffer (written whole, from offset 0) and a device copy: see the
 * comment at adm_cl_write in cl_runtime.c (Oclgrind's checker). */
int adm_cl_write(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, const void *src);
/* Release a buffer of adm_cl_alloc's (NULL: nothing).  On Oclgrind the
 * buffer is kept until adm_cl_close, so that no later buffer reuses its
 * slot: see the comment at adm_cl_release in cl_runtime.c. */
void adm_cl_release(adm_cl *cl, cl_mem m);
int adm_cl_read(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, void *dst);
int adm_cl_finish(adm_cl *cl);

/* List every platform/device to stdout (admctl devices). */
int adm_cl_list(void);

#endif
