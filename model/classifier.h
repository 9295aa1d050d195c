/* classifier.h — the noisy classifier (EncoderUNetModel: the UNet's encoder
 * half and a pooling head) on an OpenCL device, and the gradient that
 * classifier guidance needs:
 *
 *     grad = d/dx  sum_b log_softmax(logits_b)[y_b]
 *
 * computed by a real backward pass to the input (no weight gradients; the
 * timestep path is not differentiated).  Inputs/outputs are host arrays.
 */
#ifndef ADM_CLASSIFIER_H
#define ADM_CLASSIFIER_H
#include "cl_runtime.h"
#include "config.h"
#include "ops.h"
#include "tensor.h"

typedef struct adm_classifier adm_classifier;

adm_classifier *adm_classifier_load(adm_cl *cl, const adm_config *cfg, const adm_tensor_set *weights);
void adm_classifier_free(adm_classifier *c);

/* logits [B, num_classes] of x [B, C, H, W] at model times t [B] (0..999
 * scale, fractional allowed, as the UNet's). */
int adm_classifier_forward(adm_classifier *c, const float *x, const float *t, int B, float *logits);

/* grad [B, C, H, W] as above; logits may be NULL. */
int adm_classifier_grad(adm_classifier *c, const float *x, const float *t, const int64_t *y, int B,
                        float *logits, float *grad);

/* The same with x and grad [B, C, H, W] on the device (views into any
 * cl_mem of this device): only the B x num_classes logits visit the host. */
int adm_classifier_grad_dev(adm_classifier *c, const adm_dt *x, const float *t, const int64_t *y, int B,
                            adm_dt *grad);

/* The classifier as a feature network for FID and friends (admctl eval
 * without Inception weights): feat [B, feat_dim] = the input of the head's
 * final linear layer (attention pool: token 0 that c_proj reads; adaptive:
 * the pooled channels; spatial heads: the hidden layer after its
 * nonlinearity), spatial [B, spatial_dim] = channels 0..6 of the feature
 * map entering the head, in H, W, C order (as the evaluator takes 7
 * channels of Inception's mixed_6/conv), logits as adm_classifier_forward.
 * Any output may be NULL. */
#define ADM_CLASSIFIER_SPATIAL_CH 7
void adm_classifier_feature_dims(const adm_classifier *c, int *feat_dim, int *spatial_dim);
int adm_classifier_features(adm_classifier *c, const float *x, const float *t, int B, float *feat, float *spatial,
                            float *logits);

/* Device bytes held: weights, their input-gradient copies, and the
 * activations + workspace planned for the last batch size (the ops'
 * shared scratch, adm_ops_scratch_floats, is not included). */
size_t adm_classifier_device_bytes(const adm_classifier *c);
/* 2 x multiply-adds of a forward (with_backward: plus the input-gradient
 * pass); GroupNorm and elementwise work not counted. */
double adm_classifier_flops(const adm_config *cfg, int B, int with_backward);

/* A random checkpoint for cfg (every tensor adm_network_params lists, fp32,
 * scaled so activations stay O(1)): for benchmarks and tests.  Free with
 * adm_tensors_free. */
int adm_classifier_random_weights(const adm_config *cfg, uint64_t seed, adm_tensor_set *out);

#endif
