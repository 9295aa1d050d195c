/* unet.h — the ADM UNet (UNetModel) and its super-resolution variant
 * (SuperResModel) on an OpenCL device.
 *
 * Weights are uploaded once at load (fp32; fp16/bf16 storage expanded to
 * fp32).  Activations live in an arena planned for the largest batch seen,
 * so a forward allocates nothing after the first call at that batch size.
 * Inputs and outputs are host arrays (NCHW float32).
 */
#ifndef ADM_UNET_H
#define ADM_UNET_H
#include "cl_runtime.h"
#include "config.h"
#include "ops.h"
#include "tensor.h"

typedef struct adm_unet adm_unet;

/* Validates cfg against weights (naming every problem), checks the device
 * has the memory (saying needed vs available), uploads the weights. */
adm_unet *adm_unet_load(adm_cl *cl, const adm_config *cfg, const adm_tensor_set *weights);
void adm_unet_free(adm_unet *u);

/* out [B, out_channels, H, W] = model(x [B, in_channels, H, W], t [B], y [B])
 * (t: the model time on the 0..999 scale; fractional times are allowed, as
 * DPM-Solver gives them: the sinusoidal embedding takes float32 t)
 * at H = W = image_size.  y: NULL for unconditional models.  low_res must
 * be NULL here: a SuperResModel (low_res [B, in_channels, h, w], bilinearly
 * upsampled to H, W and concatenated after x) runs through
 * adm_unet_forward_sized, which is told h and w. */
int adm_unet_forward(adm_unet *u, const float *x, const float *t, const int64_t *y,
                     const float *low_res, int B, float *out);

/* The same with x [B, in_channels, S, S] and out [B, out_channels, S, S]
 * (S = image_size) on the device (views into any cl_mem of this device):
 * nothing of image size crosses to the host.  Not for SuperResModel. */
int adm_unet_forward_dev(adm_unet *u, int B, const adm_dt *x, const float *t, const int64_t *y, adm_dt *out);

/* The general form: x [B, in_channels, H, W] at any H, W that are multiples
 * of 2^(levels-1); SuperResModel: low_res [B, in_channels, low_h, low_w]
 * (NULL and ignored otherwise).  The arena is planned (a dry run, then
 * device buffers that only ever grow) on the first call at each shape. */
int adm_unet_forward_sized(adm_unet *u, int B, int H, int W, const float *x, const float *t,
                           const int64_t *y, const float *low_res, int low_h, int low_w, float *out);

/* Write act/<module>.npy for time_embed, label_emb, input_blocks.N,
 * middle_block, output_blocks.N on later forwards (NULL: stop). */
int adm_unet_set_dump_dir(adm_unet *u, const char *dir);

size_t adm_unet_device_bytes(const adm_unet *u);       /* weights + arena now held */
double adm_unet_flops(const adm_config *cfg, int B);   /* multiply-adds x2 of one forward */

#endif
