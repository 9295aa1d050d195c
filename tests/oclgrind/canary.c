/* canary.c — deliberately wrong device code, so that make check-oclgrind
 * proves its log scan catches what it is for (tests/oclgrind/run.sh
 * expects this program's Oclgrind log to hold the reports named below):
 *   uninitialised   adm_copy from a buffer nothing ever wrote (what a GPU
 *                   would turn into garbage) -> "Uninitialized value"
 *   race            a test-only kernel whose work-items all write one
 *                   element -> "data race"
 *   bounds          a test-only kernel reading past its buffer -> "Invalid read"
 * It prints what it ran; its own exit status says only whether the device
 * opened (the verdict is the caller's). */
#include "cl_runtime.h"
#include "ops.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>

static const char *extra =
    "__kernel void adm_canary_race(__global float *y) { y[0] = (float)get_global_id(0); }\n"
    "__kernel void adm_canary_bounds(__global const float *x, __global float *y, uint n) {\n"
    "    uint i = get_global_id(0); y[i] = x[i + n];\n"
    "}\n";

static void launch(adm_cl *cl, const char *name, int nargs, const size_t *sizes, const void **args, size_t items) {
    cl_kernel k = adm_cl_kernel(cl, name);
    if (!k) { printf("canary %s: %s\n", name, adm_last_error()); return; }
    for (int i = 0; i < nargs; i++) clSetKernelArg(k, (cl_uint)i, sizes[i], args[i]);
    size_t lws = 4;
    cl_int err = clEnqueueNDRangeKernel(cl->queue, k, 1, NULL, &items, &lws, 0, NULL, NULL);
    printf("canary %s: enqueued (%s)\n", name, adm_cl_strerror(err));
}

int main(void) {
    adm_cl cl;
    if (adm_cl_open_extra(&cl, getenv("ADMD_TEST_DEVICE"), 0, extra)) {
        printf("canary: %s\n", adm_last_error());
        return 1;
    }
    enum { n = 16 };
    float h[n] = {0};
    cl_mem never = adm_cl_alloc(&cl, n * sizeof(float)), y = adm_cl_alloc(&cl, n * sizeof(float));
    if (!never || !y) { printf("canary: %s\n", adm_last_error()); return 1; }
    /* uninitialised: y = copy of `never`, which no one wrote */
    adm_dt src = adm_dt_make(never, 0, 1, n, 1, 1), dst = adm_dt_make(y, 0, 1, n, 1, 1);
    if (adm_op_copy(&cl, &src, &dst)) printf("canary copy: %s\n", adm_last_error());
    else printf("canary uninitialised: enqueued\n");
    adm_cl_write(&cl, never, 0, sizeof h, h);
    /* race: every work-item writes y[0] */
    size_t s1[1] = {sizeof(cl_mem)};
    const void *a1[1] = {&y};
    launch(&cl, "adm_canary_race", 1, s1, a1, 8);
    /* bounds: reads x[n .. 2n) of an n-float buffer */
    cl_uint nn = n;
    size_t s2[3] = {sizeof(cl_mem), sizeof(cl_mem), sizeof nn};
    const void *a2[3] = {&never, &y, &nn};
    launch(&cl, "adm_canary_bounds", 3, s2, a2, 4);
    adm_cl_finish(&cl);
    clReleaseMemObject(never);
    clReleaseMemObject(y);
    adm_cl_close(&cl);
    return 0;
}
