/* featnet.h — the feature networks behind the evaluator's metrics
 * (metrics.h): what turns uint8 NHWC images into
 *   pool     [n, pool_dim]     the vectors FID, precision and recall use
 *   spatial  [n, spatial_dim]  the vectors sFID uses (0 wide: no sFID)
 *   softmax  [n, classes]      the class probabilities the Inception Score uses
 *
 * Two kinds:
 *   - the FID Inception (model/inception.c, pytorch-fid's weights): the
 *     paper's numbers;
 *   - any ADM noisy classifier at t = 0 (no Inception weights needed):
 *     pool = the input of its final linear layer, spatial = 7 channels of
 *     the map entering its head, softmax = its class probabilities.  Numbers
 *     on this scale are only comparable with each other; every output says
 *     which network made them (adm_featnet_info.name).
 */
#ifndef ADM_FEATNET_H
#define ADM_FEATNET_H
#include "cl_runtime.h"
#include "config.h"
#include <stdint.h>

typedef struct adm_featnet adm_featnet;

typedef struct {
    char name[256];          /* "classifier mnist at t=0", "inception FID (pytorch-fid 2015-12-05)" */
    char sha256[65];         /* of the weights file */
    int pool_dim, spatial_dim, classes;
    int h, w, c;             /* the image size it takes (0: any, resized) */
} adm_featnet_info;

/* The FID Inception from pytorch-fid's weight file. */
int adm_featnet_inception(adm_featnet **out, adm_cl *cl, const char *weights_path);
/* A classifier (config spec, weights file) as a feature network; label
 * names it in outputs ("mnist"). */
int adm_featnet_classifier(adm_featnet **out, adm_cl *cl, const char *label, const char *config_spec,
                           const char *weights_path);
const adm_featnet_info *adm_featnet_get_info(const adm_featnet *f);
void adm_featnet_free(adm_featnet *f);

/* Features of n images (uint8 NHWC, h x w x c), in batches; outputs may be
 * NULL.  progress(done, n, ctx) after each batch when not NULL. */
typedef void (*adm_featnet_progress)(int64_t done, int64_t n, void *ctx);
int adm_featnet_run(adm_featnet *f, const uint8_t *images, int64_t n, int h, int w, int c, float *pool,
                    float *spatial, float *softmax, adm_featnet_progress progress, void *ctx);

#endif
