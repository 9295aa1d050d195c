/* config.h — the constructor arguments of an ADM network (UNetModel,
 * SuperResModel, EncoderUNetModel) plus the diffusion settings that travel
 * with a model, exactly as guided-diffusion's script_util builds them.
 *
 * A config comes from one of three spellings (adm_config_parse):
 *   (a) a file of key=value lines (the reference's config.txt format);
 *   (b) a MODEL_FLAGS / CLASSIFIER_FLAGS string ("--image_size 64 ...");
 *   (c) a preset name for a released checkpoint ("64x64", "256x256_classifier", ...).
 */
#ifndef ADM_CONFIG_H
#define ADM_CONFIG_H
#include "tensor.h"

#define ADM_MAX_LEVELS 8

typedef enum { ADM_KIND_UNET, ADM_KIND_SUPERRES, ADM_KIND_CLASSIFIER } adm_kind;

typedef struct {
    adm_kind kind;
    int image_size;
    int in_channels;
    int model_channels;
    int out_channels;            /* unet: C or 2C (learned sigma); classifier: number of classes */
    int num_res_blocks;
    int attention_ds[ADM_MAX_LEVELS];   /* downsample rates with attention (1 = full resolution) */
    int n_attention_ds;
    int channel_mult[ADM_MAX_LEVELS];   /* integer part of each level's multiplier ... */
    int channel_mult_half[ADM_MAX_LEVELS]; /* ... plus 0.5 where 1 (512x512: 0.5,1,1,2,2,4,4);
                                            use adm_config_channels() for a level's width */
    int n_levels;                /* length of channel_mult */
    int num_classes;             /* 0 = unconditional (label_emb absent) */
    int num_heads;
    int num_head_channels;       /* -1: use num_heads */
    int num_heads_upsample;      /* -1: same as num_heads */
    int use_scale_shift_norm;
    int resblock_updown;
    int use_new_attention_order; /* 1: QKVAttention, 0: QKVAttentionLegacy */
    int conv_resample;           /* 1 (the reference's default) */
    int use_fp16;                /* informational: the reference ran the trunk in fp16 */
    char pool[16];               /* classifier head: "attention", "adaptive", "spatial", "spatial_v2" */
    /* diffusion settings (defaults: 1000 steps, linear schedule, learn_sigma from out_channels) */
    int diffusion_steps;
    char noise_schedule[16];     /* "linear" | "cosine" */
    int learn_sigma;
    int small_size;              /* SuperResModel: the low-resolution input's size (0: not said) */
} adm_config;

/* Fill cfg with the reference's defaults for kind (before parsing). */
void adm_config_defaults(adm_config *cfg, adm_kind kind);

/* spec: a path to a key=value file, a string starting with "--" (flags),
 * or a preset name.  kind_hint is used by flag strings to choose between
 * create_model and create_classifier (a preset or file says it itself). */
int adm_config_parse(const char *spec, adm_kind kind_hint, adm_config *cfg);
/* A config file's text (len bytes, NUL-terminated), already read: (a) or (b). */
int adm_config_parse_text(const char *text, size_t len, adm_kind kind_hint, adm_config *cfg);
int adm_config_parse_kv(const char *text, adm_config *cfg);              /* (a) */
int adm_config_parse_flags(const char *flags, adm_kind kind, adm_config *cfg); /* (b) */
int adm_config_preset(const char *name, adm_config *cfg);                /* (c) */

/* Preset table: names, and the README flags each carries. */
typedef struct { const char *name; adm_kind kind; const char *flags; const char *file; } adm_preset;
extern const adm_preset adm_presets[];

/* Check a config against a checkpoint: every missing, unexpected or
 * mis-shaped tensor is listed (one per line) in the error message. */
int adm_config_validate(const adm_config *cfg, const adm_tensor_set *weights);

/* Infer what the shapes reveal; what they cannot say is written to
 * unknown (human-readable, e.g. "num_heads, attention order, schedule"). */
int adm_config_infer(const adm_tensor_set *weights, adm_config *cfg, char *unknown, size_t unknown_len);

/* Write cfg as key=value lines (the config.txt format). */
int adm_config_format(const adm_config *cfg, char *buf, size_t len);

/* Derived helpers. */
int adm_config_heads(const adm_config *cfg, int channels, int upsample);  /* heads of an attention block */
/* Channels of level i: int(channel_mult[i] * model_channels), as the reference computes them. */
int adm_config_channels(const adm_config *cfg, int level);

/* (The tensors a config implies: adm_network_params, network.h.)
 * Like adm_config_validate, but writes the whole report (one problem a
 * line, however many) to report; returns the number of problems, -1 on error. */
int adm_config_check(const adm_config *cfg, const adm_tensor_set *weights, char *report, size_t len);

#endif
