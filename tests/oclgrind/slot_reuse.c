/* slot_reuse.c — the Oclgrind 21.10 fault that adm_cl_release works around
 * (see its comment in kernels/cl_runtime.c), shown on the smallest case:
 * a 64-float buffer written by a kernel and released, then a 256-float
 * buffer written whole by a kernel (adm_fill) and copied whole (adm_copy).
 * Nothing reads unwritten memory.  With "plain" the first buffer goes back
 * through clReleaseMemObject: the second takes its slot and inherits its
 * 64-float shadow record, and Oclgrind reports the copy's reads of floats
 * 64..255 (192 reports) as uninitialised.  Without it adm_cl_release keeps
 * the first buffer and Oclgrind reports nothing.  tests/oclgrind/run.sh
 * runs both: the first proves the fault (hence the workaround) is still
 * there, the second that the workaround removes it. */
#include "cl_runtime.h"
#include "ops.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fill(adm_cl *cl, cl_mem m, cl_ulong n) {
    const adm_kernel *k = adm_cl_k(cl, ADM_K_adm_fill);
    cl_ulong off = 0;
    float v = 1.0f;
    size_t g = (size_t)n, l = 64;
    cl_int err = clSetKernelArg(k->k, 0, sizeof m, &m);
    err |= clSetKernelArg(k->k, 1, sizeof off, &off);
    err |= clSetKernelArg(k->k, 2, sizeof v, &v);
    err |= clSetKernelArg(k->k, 3, sizeof n, &n);
    if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(cl->queue, k->k, 1, NULL, &g, &l, 0, NULL, NULL);
    return err == CL_SUCCESS ? 0 : adm_cl_fail("adm_fill", err);
}

int main(int argc, char **argv) {
    adm_cl cl;
    if (adm_cl_open(&cl, getenv("ADMD_TEST_DEVICE"), 0)) { printf("slot_reuse: %s\n", adm_last_error()); return 1; }
    int plain = argc > 1 && strcmp(argv[1], "plain") == 0;
    if (plain) cl.keep_released = 0;
    cl_mem a = adm_cl_alloc(&cl, 64 * sizeof(float));
    if (!a || fill(&cl, a, 64) || adm_cl_finish(&cl)) { printf("slot_reuse: %s\n", adm_last_error()); return 1; }
    adm_cl_release(&cl, a);
    cl_mem b = adm_cl_alloc(&cl, 256 * sizeof(float)), c = adm_cl_alloc(&cl, 256 * sizeof(float));
    adm_dt tb = adm_dt_make(b, 0, 1, 256, 1, 1), tc = adm_dt_make(c, 0, 1, 256, 1, 1);
    if (!b || !c || fill(&cl, b, 256) || adm_op_copy(&cl, &tb, &tc) || adm_cl_finish(&cl)) {
        printf("slot_reuse: %s\n", adm_last_error());
        return 1;
    }
    float h[256];
    int ok = adm_cl_read(&cl, c, 0, sizeof h, h) == 0;
    for (int i = 0; ok && i < 256; i++) ok = h[i] == 1.0f;
    printf("slot_reuse (%s release): copy %s\n", plain ? "plain" : "adm_cl_release", ok ? "correct" : "WRONG");
    adm_cl_release(&cl, b);
    adm_cl_release(&cl, c);
    adm_cl_close(&cl);
    return ok ? 0 : 1;
}
