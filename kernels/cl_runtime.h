/* cl_runtime.h — one OpenCL device, ready to run admd's kernels.
 *
 * adm_cl_open picks a device (spec: NULL/"" = first GPU else first device;
 * "P:D" platform and device index; "N" the N-th device over all platforms;
 * or a case-insensitive substring of the
 * device or platform name), makes one context and one in-order queue,
 * and builds every embedded kernels/NAME.cl file into one program with
 * deterministic options (no fast-math; -cl-fp32-correctly-rounded-divide-sqrt
 * where supported).  Program binaries are cached on disk under
 * $ADMD_CACHE_DIR (default ~/.cache/admd) keyed by a hash of the sources,
 * options, device name and driver version, so a restart does not recompile.
 */
#ifndef ADM_CL_RUNTIME_H
#define ADM_CL_RUNTIME_H
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>

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
    int program_from_cache;       /* 1: loaded from the on-disk binary cache */
    double build_seconds;         /* time spent building or loading the program */
    int fp_fma;                   /* device has a (fast) fused multiply-add */
    int tile_vw, tile_nv, tile_cot, tile_mt; /* conv.cl register tiles (ADM_VW, ADM_NV, ADM_COT, ADM_MT) */
    unsigned long long bytes_to_device, bytes_to_host;   /* moved by adm_cl_write / adm_cl_read */
    struct adm_ops_state *ops;    /* ops.c's per-device state (scratch, choices) */
    /* kernel cache, by name */
    struct { char name[64]; cl_kernel k; } kernels[128];
    int n_kernels;
} adm_cl;

/* Flags for adm_cl_open. */
#define ADM_CL_PROFILE 1

int adm_cl_open(adm_cl *cl, const char *spec, int flags);
/* The same with extra_source (OpenCL C, may be NULL) built into the program
 * after the embedded files: for kernels under development, and for tests
 * of the build-failure path (the error then carries the build log). */
int adm_cl_open_extra(adm_cl *cl, const char *spec, int flags, const char *extra_source);
void adm_cl_close(adm_cl *cl);

/* A kernel by name (created once, cached); NULL + adm_error if absent. */
cl_kernel adm_cl_kernel(adm_cl *cl, const char *name);

/* Human name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *adm_cl_strerror(cl_int err);

/* Set adm_error with where + the code's name; returns -1. */
int adm_cl_fail(const char *where, cl_int err);

/* Device buffers (float32 unless noted).  Allocation failures name the size
 * and the device's limits. */
cl_mem adm_cl_alloc(adm_cl *cl, size_t bytes);
int adm_cl_write(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, const void *src);
int adm_cl_read(adm_cl *cl, cl_mem m, size_t offset_bytes, size_t bytes, void *dst);
int adm_cl_finish(adm_cl *cl);

/* List every platform/device to stdout (admctl devices). */
int adm_cl_list(void);

#endif
