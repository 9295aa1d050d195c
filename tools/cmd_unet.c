/* cmd_unet.c — `admctl unet`: one UNet (or SuperResModel) forward pass on
 * a device, from .npy inputs to an .npy output, optionally dumping every
 * block's activation (act/<module>.npy, named like the reference's).
 *
 *   admctl unet --checkpoint M.pt --config C [--device D] --x x.npy --t t.npy
 *               [--y y.npy] [--low-res lr.npy] --out out.npy [--dump-dir DIR]
 */
#include "admctl.h"
#include "cl_runtime.h"
#include "config.h"
#include "npy.h"
#include "tensor.h"
#include "unet.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl unet --checkpoint M.pt --config C [--device D] --x x.npy --t t.npy\n"
        "                   [--y y.npy] [--low-res lr.npy] --out out.npy [--dump-dir DIR]\n"
        "\n"
        "Run the UNet once: out = model(x, t[, y]) (SuperResModel: also low_res).\n"
        "  --checkpoint  weights (.pt as torch.save writes them, or .safetensors)\n"
        "  --config      key=value file, MODEL_FLAGS string (\"--image_size 64 ...\") or preset name\n"
        "  --device      P:D, a device number or a name substring (default: first GPU, else CPU)\n"
        "  --x           float32 [B, C, H, W]; --y int [B] (class-conditional models)\n"
        "  --t           model times [B] (.npy float or int, fractional allowed), or one\n"
        "                number for every image (--t 412.5)\n"
        "  --low-res     float32 [B, C, h, w] (SuperResModel only)\n"
        "  --out         where to write the float32 [B, out_channels, H, W] output\n"
        "  --dump-dir    also write DIR/act/<module>.npy for every block\n");
}

/* A float32 4-d array with `channels` channels. */
static int read_image(const char *path, const char *what, int channels, adm_tensor *t) {
    if (adm_npy_read(path, t) != 0) return -1;
    if (t->dtype != ADM_F32 || t->ndim != 4 || t->shape[1] != channels || t->shape[0] < 1 ||
        t->shape[2] < 1 || t->shape[3] < 1 || t->shape[0] > 65536 || t->shape[2] > 16384 || t->shape[3] > 16384) {
        char shape[96] = "";
        for (int d = 0; d < t->ndim && d < 8; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? ", " : "",
                     (long long)t->shape[d]);
        adm_error("%s: %s must be float32 [B, %d, H, W], got %s [%s]", path, what, channels,
                  adm_dtype_name(t->dtype), shape);
        adm_tensor_free(t);
        return -1;
    }
    return 0;
}

int cmd_unet(int argc, char **argv) {
    const char *ckpt = NULL, *config = NULL, *device = NULL, *xp = NULL, *tp = NULL, *yp = NULL,
               *lrp = NULL, *outp = NULL, *dump = NULL;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--checkpoint", &ckpt) || admctl_opt(argc, argv, &i, "--config", &config) ||
            admctl_opt(argc, argv, &i, "--device", &device) || admctl_opt(argc, argv, &i, "--x", &xp) ||
            admctl_opt(argc, argv, &i, "--t", &tp) || admctl_opt(argc, argv, &i, "--y", &yp) ||
            admctl_opt(argc, argv, &i, "--low-res", &lrp) || admctl_opt(argc, argv, &i, "--out", &outp) ||
            admctl_opt(argc, argv, &i, "--dump-dir", &dump))
            continue;
        admctl_fail("unet: unknown argument '%s'", argv[i]);
        usage(stderr);
        return ADMCTL_USAGE;
    }
    if (!ckpt || !config || !xp || !tp || !outp) {
        admctl_fail("unet: --checkpoint, --config, --x, --t and --out are required");
        usage(stderr);
        return ADMCTL_USAGE;
    }

    int rc = ADMCTL_FAIL;
    adm_config cfg;
    adm_tensor_set weights = {0};
    adm_tensor x = {0}, lr = {0};
    float *t = NULL;
    int64_t *y = NULL;
    float *out = NULL;
    adm_cl cl;
    int cl_open = 0;
    adm_unet *u = NULL;

    if (adm_config_parse(config, ADM_KIND_UNET, &cfg) != 0) { admctl_fail("config %s: %s", config, adm_last_error()); goto done; }
    if (cfg.kind == ADM_KIND_CLASSIFIER) { admctl_fail("config %s describes a classifier, not a UNet", config); goto done; }
    int superres = cfg.kind == ADM_KIND_SUPERRES;

    /* inputs first: a wrong shape should not wait for the device */
    if (read_image(xp, "x", cfg.in_channels, &x) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    int B = (int)x.shape[0], H = (int)x.shape[2], W = (int)x.shape[3];
    if (admctl_read_time_vector(tp, B, &t) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (cfg.num_classes > 0 && !yp) { admctl_fail("the model is class-conditional: --y labels are required"); goto done; }
    if (cfg.num_classes <= 0 && yp) { admctl_fail("the model is unconditional: --y must not be given"); goto done; }
    if (yp && admctl_read_index_vector(yp, "y", B, &y) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (superres && !lrp) { admctl_fail("a SuperResModel needs --low-res"); goto done; }
    if (!superres && lrp) { admctl_fail("--low-res is only for a SuperResModel (the config is a UNetModel)"); goto done; }
    if (lrp) {
        if (read_image(lrp, "low_res", cfg.in_channels, &lr) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
        if (lr.shape[0] != B) { admctl_fail("%s: low_res batch %lld, x has %d", lrp, (long long)lr.shape[0], B); goto done; }
    }

    if (adm_tensors_load(ckpt, &weights) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    if (adm_cl_open(&cl, device, 0) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    cl_open = 1;
    if (!(u = adm_unet_load(&cl, &cfg, &weights))) { admctl_fail("%s: %s", ckpt, adm_last_error()); goto done; }
    adm_tensors_free(&weights);
    if (dump && adm_unet_set_dump_dir(u, dump) != 0) { admctl_fail("%s", adm_last_error()); goto done; }

    size_t n_out = (size_t)B * cfg.out_channels * H * W;
    if (!(out = adm_malloc(n_out * sizeof(float)))) { admctl_fail("%s", adm_last_error()); goto done; }
    double t0 = adm_now();
    if (adm_unet_forward_sized(u, B, H, W, x.data, t, y, lr.data, lrp ? (int)lr.shape[2] : 0,
                               lrp ? (int)lr.shape[3] : 0, out) != 0) {
        admctl_fail("%s", adm_last_error());
        goto done;
    }
    double ms = (adm_now() - t0) * 1e3;
    int64_t shape[4] = {B, cfg.out_channels, H, W};
    if (adm_npy_write(outp, ADM_F32, 4, shape, out) != 0) { admctl_fail("%s", adm_last_error()); goto done; }
    printf("unet: %s: batch %d, %dx%d -> %s: forward %.1f ms (planning included), %.1f MiB on the device\n",
           cl.device_name, B, H, W, outp, ms, adm_unet_device_bytes(u) / 1048576.0);
    rc = ADMCTL_OK;
done:
    adm_unet_free(u);
    if (cl_open) adm_cl_close(&cl);
    adm_tensors_free(&weights);
    adm_tensor_free(&x);
    adm_tensor_free(&lr);
    free(t);
    free(y);
    free(out);
    return rc;
}
