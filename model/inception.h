/* inception.h — the FID evaluation network: pytorch-fid's Inception-v3 (the
 * 2015-12-05 TensorFlow graph, 1008 classes; FIDInceptionA/C/E_1/E_2 blocks)
 * on the device, from pytorch-fid's weight file (pt_inception-2015-12-05-
 * 6726825d.pth, legacy or zip torch format).
 *
 * Input: uint8 images, NHWC, 1 or 3 channels (one channel is replicated to
 * three), any size: /255, bilinear resize to 299x299 (align_corners=False,
 * no antialiasing, also when shrinking), 2x - 1.  Outputs per image:
 *   pool3   [2048]  the final global average pool (FID features)
 *   spatial [2023]  Mixed_6d.branch1x1 (TF 'mixed_6/conv': conv, BN, ReLU),
 *                   channels 0..6 of its 17x17 map, flattened in H, W, C order
 *                   (sFID features)
 *   logits  [1008]  pool3 @ fc.weight^T, without the fc bias (the evaluator's
 *                   softmax input, for the Inception Score)
 * Images are run in device batches sized from device memory; each image's
 * outputs do not depend on the batch it ran in.
 */
#ifndef ADM_INCEPTION_H
#define ADM_INCEPTION_H
#include "cl_runtime.h"
#include <stdint.h>

#define ADM_INCEPTION_POOL3 2048
#define ADM_INCEPTION_SPATIAL 2023
#define ADM_INCEPTION_LOGITS 1008

typedef struct adm_inception adm_inception;

/* Load the weights (BatchNorm folded into the convolutions) onto cl's
 * device; -1 + adm_error naming the file and the problem. */
int adm_inception_load(adm_inception **out, adm_cl *cl, const char *path);
/* Features of n images (uint8, [n, h, w, c], c = 1 or 3) into pool3
 * [n, 2048], spatial [n, 2023], logits [n, 1008]; any output may be NULL. */
int adm_inception_features(adm_inception *net, const uint8_t *images_nhwc, int n, int h, int w, int c,
                           float *pool3, float *spatial, float *logits);
/* sha256 of the weight file, 64 hex digits. */
const char *adm_inception_sha256(const adm_inception *net);
void adm_inception_free(adm_inception *net);

/* Images per device batch (from device memory); set_batch overrides it
 * (0 restores the default), for tests of batch invariance and for memory. */
int adm_inception_batch(const adm_inception *net);
void adm_inception_set_batch(adm_inception *net, int batch);
/* For finding where a difference starts: the output of block `name`
 * ("Conv2d_1a_3x3", "Mixed_5b", ... "Mixed_7c") for the first image, NCHW,
 * into out (room for *count floats; *count gets c*h*w, shape in chw[3]). */
int adm_inception_block_output(adm_inception *net, const uint8_t *images_nhwc, int h, int w, int c,
                               const char *name, float *out, size_t *count, int chw[3]);

#endif
