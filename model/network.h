/* network.h — one description per network: the ADM UNet (UNetModel), its
 * super-resolution variant (SuperResModel) and the noisy classifier
 * (EncoderUNetModel), each as the flat list of layers its constructor
 * creates, in state-dict order, built once from the config:
 *
 *     input_blocks.0.0     conv 3x3 (in_channels -> ch)
 *     input_blocks.k.0     ResBlock (ch -> mult*mc) [.1 AttentionBlock]     x num_res_blocks per level
 *     input_blocks.k.0     Downsample, or ResBlock(down=True)               between levels
 *     middle_block.0/1/2   ResBlock, AttentionBlock, ResBlock
 *     output_blocks.k.0    ResBlock (ch + hs.pop() -> mult*mc) [AttentionBlock] [Upsample / ResBlock(up=True)]
 *                          (UNet only; the classifier's head `out` follows the middle block)
 *
 * That one list drives everything that walks a network: the state-dict
 * names and shapes (adm_network_params: loading and validation), the UNet's
 * blocks and forward (unet.c, whose dry run plans the arena), the
 * classifier's layers, memory plan, forward and backward (classifier.c,
 * classifier_backward.c), and `admctl inspect`.  A new network of this
 * family is a new description, not another walk.
 */
#ifndef ADM_NETWORK_H
#define ADM_NETWORK_H
#include "config.h"

#define ADM_MAX_RES_BLOCKS 32
#define ADM_MAX_INPUT_BLOCKS (1 + ADM_MAX_LEVELS * (ADM_MAX_RES_BLOCKS + 1))

typedef enum { ADM_LAYER_CONV, ADM_LAYER_RES, ADM_LAYER_ATTN, ADM_LAYER_DOWN, ADM_LAYER_UP } adm_layer_kind;
typedef enum { ADM_PART_INPUT, ADM_PART_MIDDLE, ADM_PART_OUTPUT } adm_part;

typedef struct {
    adm_layer_kind kind;
    adm_part part;
    int block;              /* its TimestepEmbedSequential: input_blocks.<block> / output_blocks.<block> (0: middle) */
    char name[48];          /* state-dict prefix, e.g. "input_blocks.4.1" */
    int cin, cout;          /* channels in (a concatenated skip included) and out */
    int skip;               /* first layer of an output block: channels of hs.pop() concatenated after h */
    int ds;                 /* downsampling rate of its input: resolution = image size / ds */
    int up, down;           /* resolution doubles / halves (Upsample, Downsample, ResBlock up/down) */
    int use_conv;           /* Upsample / Downsample: with a 3x3 conv (conv_resample), else nearest / avg pool */
    int heads;              /* AttentionBlock: heads (-1: the config gives none that divide cin) */
    int emb_out;            /* ResBlock: emb_layers' width, 2 * cout with scale-shift norm */
    int block_end;          /* last layer of its block (input blocks: its output is pushed on hs) */
} adm_layer;

typedef struct {
    adm_kind kind;
    adm_layer *l;           /* n layers in forward (= state-dict) order */
    int n;
    int n_input, n_output;  /* number of input / output blocks */
    int in_ch;              /* channels into input_blocks.0: in_channels, 2x for SuperResModel */
    int emb_dim;            /* time embedding width: 4 * model_channels */
    int head_ch, head_ds;   /* channels and downsampling rate entering the head `out` */
    int feat_dim;           /* classifier spatial heads: the channels of every block output, summed */
} adm_network;

/* Describe cfg's network (checks the sizes); adm_network_free releases it. */
int adm_network_describe(const adm_config *cfg, adm_network *net);
void adm_network_free(adm_network *net);
/* "conv", "ResBlock", "AttentionBlock", "Downsample", "Upsample" */
const char *adm_layer_kind_name(adm_layer_kind kind);

/* Every tensor the configured network has, in the reference's state-dict
 * order, with its shape: the layers' tensors plus time_embed, label_emb and
 * the head.  free(*out). */
typedef struct { char name[96]; int ndim; int64_t shape[4]; } adm_param_spec;
int adm_network_params(const adm_config *cfg, adm_param_spec **out, int *n);

#endif
