/* config.c — ADM model configurations: defaults, the three spellings
 * (key=value file, guided-diffusion flags, presets), the state-dict layout
 * a config implies, validation against a checkpoint and inference from one.
 *
 * The flag mapping follows guided-diffusion's script_util.py exactly:
 *   create_model:      channel_mult by image size when not given
 *                      (512: 0.5,1,1,2,2,4,4  256: 1,1,2,2,4,4  128: 1,1,2,3,4  64: 1,2,3,4),
 *                      attention_ds = image_size // res for each --attention_resolutions,
 *                      in_channels 3, out_channels 3 or 6 (learn_sigma),
 *                      num_classes 1000 when --class_cond.
 *   sr_create_model:   channel_mult by large_size (512, 256: 1,1,2,2,4,4  64: 1,2,3,4),
 *                      SuperResModel (its first conv sees 2 * in_channels).
 *   create_classifier: EncoderUNetModel, channel_mult by image size, num_head_channels 64,
 *                      out_channels 1000, the --classifier_* flags.
 * Extras where the README has no flag: --in_channels, --num_classes (and for
 * classifiers --channel_mult, --classifier_num_head_channels).
 */
#include "config.h"
#include "network.h"
#include "util.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- presets: the released checkpoints with the flags of the README ---- */

#define CLS_FLAGS "--classifier_attention_resolutions 32,16,8 --classifier_width 128 " \
                  "--classifier_pool attention --classifier_resblock_updown True --classifier_use_scale_shift_norm True"
#define LSUN_FLAGS "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 --dropout 0.1 " \
                   "--image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 " \
                   "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"

const adm_preset adm_presets[] = {
    {"64x64", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --dropout 0.1 "
     "--image_size 64 --learn_sigma True --noise_schedule cosine --num_channels 192 --num_head_channels 64 "
     "--num_res_blocks 3 --resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True",
     "64x64_diffusion.pt"},
    {"128x128", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 128 "
     "--learn_sigma True --noise_schedule linear --num_channels 256 --num_heads 4 --num_res_blocks 2 --resblock_updown True "
     "--use_fp16 True --use_scale_shift_norm True", "128x128_diffusion.pt"},
    {"256x256", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 256 "
     "--learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 "
     "--resblock_updown True --use_fp16 True --use_scale_shift_norm True", "256x256_diffusion.pt"},
    {"256x256_uncond", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 "
     "--image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 "
     "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True", "256x256_diffusion_uncond.pt"},
    {"512x512", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 512 "
     "--learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 "
     "--resblock_updown True --use_fp16 False --use_scale_shift_norm True", "512x512_diffusion.pt"},
    {"64_256", ADM_KIND_SUPERRES, "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --large_size 256 "
     "--small_size 64 --learn_sigma True --noise_schedule linear --num_channels 192 --num_heads 4 --num_res_blocks 2 "
     "--resblock_updown True --use_fp16 True --use_scale_shift_norm True", "64_256_upsampler.pt"},
    {"128_512", ADM_KIND_SUPERRES, "--attention_resolutions 32,16 --class_cond True --diffusion_steps 1000 --large_size 512 "
     "--small_size 128 --learn_sigma True --noise_schedule linear --num_channels 192 --num_head_channels 64 "
     "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True", "128_512_upsampler.pt"},
    {"lsun_bedroom", ADM_KIND_UNET, LSUN_FLAGS, "lsun_bedroom.pt"},
    {"lsun_cat", ADM_KIND_UNET, LSUN_FLAGS, "lsun_cat.pt"},
    {"lsun_horse", ADM_KIND_UNET, LSUN_FLAGS, "lsun_horse.pt"},
    {"lsun_horse_nodropout", ADM_KIND_UNET, "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 "
     "--dropout 0.0 --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 "
     "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True", "lsun_horse_nodropout.pt"},
    {"64x64_classifier", ADM_KIND_CLASSIFIER, "--image_size 64 --classifier_depth 4 " CLS_FLAGS, "64x64_classifier.pt"},
    {"128x128_classifier", ADM_KIND_CLASSIFIER, "--image_size 128 --classifier_depth 2 " CLS_FLAGS " --classifier_use_fp16 True",
     "128x128_classifier.pt"},
    {"256x256_classifier", ADM_KIND_CLASSIFIER, "--image_size 256 --classifier_depth 2 " CLS_FLAGS " --classifier_use_fp16 True",
     "256x256_classifier.pt"},
    {"512x512_classifier", ADM_KIND_CLASSIFIER, "--image_size 512 --classifier_depth 2 " CLS_FLAGS " --classifier_use_fp16 True",
     "512x512_classifier.pt"},
    {NULL, 0, NULL, NULL},
};

/* ---- defaults ---------------------------------------------------------- */

/* The constructor defaults of UNetModel / SuperResModel / EncoderUNetModel;
 * the arguments without a default are left 0 and must be given. */
void adm_config_defaults(adm_config *cfg, adm_kind kind) {
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    int mult[4] = {1, 2, 4, 8};
    for (int i = 0; i < 4; i++) cfg->channel_mult[i] = mult[i];
    cfg->n_levels = 4;
    cfg->num_heads = 1;
    cfg->num_head_channels = -1;
    cfg->num_heads_upsample = -1;
    cfg->conv_resample = 1;
    snprintf(cfg->pool, sizeof cfg->pool, "adaptive");
    cfg->diffusion_steps = 1000;
    snprintf(cfg->noise_schedule, sizeof cfg->noise_schedule, "linear");
    cfg->learn_sigma = -1;           /* -1: derive from out_channels at the end */
}

int adm_config_channels(const adm_config *cfg, int level) {
    if (level < 0 || level >= cfg->n_levels) return 0;
    return cfg->channel_mult[level] * cfg->model_channels + (cfg->channel_mult_half[level] ? cfg->model_channels / 2 : 0);
}

int adm_config_heads(const adm_config *cfg, int channels, int upsample) {
    if (cfg->num_head_channels == -1) {
        int h = upsample && cfg->num_heads_upsample != -1 ? cfg->num_heads_upsample : cfg->num_heads;
        if (h <= 0 || channels % h) return adm_error("attention with %d channels cannot have %d heads", channels, h);
        return h;
    }
    if (cfg->num_head_channels <= 0 || channels % cfg->num_head_channels)
        return adm_error("q,k,v channels %d is not divisible by num_head_channels %d", channels, cfg->num_head_channels);
    return channels / cfg->num_head_channels;
}

/* ---- small parsers ----------------------------------------------------- */

static int parse_int(const char *key, const char *v, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (end == v || *end || x < -1000000 || x > 1000000) return adm_error("%s: not an integer: '%s'", key, v);
    *out = (int)x;
    return 0;
}

static int parse_bool(const char *key, const char *v, int *out) {
    static const char *yes[] = {"1", "true", "True", "yes", "t", "y", "TRUE"}, *no[] = {"0", "false", "False", "no", "f", "n", "FALSE"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) if (strcmp(v, yes[i]) == 0) { *out = 1; return 0; }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) if (strcmp(v, no[i]) == 0) { *out = 0; return 0; }
    return adm_error("%s: boolean value expected, got '%s'", key, v);
}

/* "1,2,4" (or "0.5,1,...", allow_half) into a list. */
static int parse_list(const char *key, const char *v, int *out, int *half, int *n, int allow_half) {
    *n = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '(' || *p == '[') p++;
        if (!*p || *p == ')' || *p == ']') break;
        char *end;
        double x = strtod(p, &end);
        if (end == p) return adm_error("%s: bad list '%s'", key, v);
        if (*n >= ADM_MAX_LEVELS) return adm_error("%s: more than %d entries", key, ADM_MAX_LEVELS);
        int ix = (int)x;
        if (x < 0 || x > 1e6) return adm_error("%s: bad value in '%s'", key, v);
        if (x != ix) {
            if (!allow_half || x - ix != 0.5) return adm_error("%s: '%s' must hold integers%s", key, v, allow_half ? " or halves" : "");
            if (half) half[*n] = 1;
        } else if (half) half[*n] = 0;
        out[(*n)++] = ix;
        p = end;
        while (*p == ' ' || *p == ')' || *p == ']') p++;
        if (*p == ',') p++;
        else if (*p) return adm_error("%s: bad list '%s'", key, v);
    }
    if (*n == 0) return adm_error("%s: empty list", key);
    return 0;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k])) k++;
    memmove(s, s + k, n - k + 1);
}

/* Checks after parsing, and the learn_sigma default. */
static int config_finish(adm_config *cfg) {
    if (cfg->image_size <= 0 && cfg->kind != ADM_KIND_UNET) return adm_error("image_size missing");
    if (cfg->image_size < 0 || cfg->image_size > 65536) return adm_error("image_size %d out of range", cfg->image_size);
    if (cfg->small_size < 0 || cfg->small_size > cfg->image_size)
        return adm_error("small_size %d: want 1..image_size (%d)", cfg->small_size, cfg->image_size);
    if (cfg->small_size > 0 && cfg->kind != ADM_KIND_SUPERRES) return adm_error("small_size is for super-resolution models");
    if (cfg->in_channels <= 0) return adm_error("in_channels missing");
    if (cfg->model_channels <= 0) return adm_error("model_channels missing");
    if (cfg->out_channels <= 0) return adm_error("out_channels missing");
    if (cfg->num_res_blocks < 0) return adm_error("num_res_blocks must be >= 0");
    if (cfg->n_levels <= 0) return adm_error("channel_mult missing");
    for (int i = 0; i < cfg->n_levels; i++)
        if (adm_config_channels(cfg, i) <= 0) return adm_error("channel_mult gives level %d no channels", i);
    if (cfg->num_classes < 0) return adm_error("num_classes must be >= 0");
    if (cfg->num_heads <= 0 && cfg->num_head_channels == -1) return adm_error("num_heads must be > 0");
    if (cfg->kind == ADM_KIND_CLASSIFIER) {
        static const char *pools[] = {"attention", "adaptive", "spatial", "spatial_v2"};
        int ok = 0;
        for (int i = 0; i < 4; i++) ok |= strcmp(cfg->pool, pools[i]) == 0;
        if (!ok) return adm_error("unknown classifier pool '%s' (attention, adaptive, spatial, spatial_v2)", cfg->pool);
        if (strcmp(cfg->pool, "attention") == 0 && cfg->num_head_channels == -1)
            return adm_error("the attention pool needs num_head_channels");
        if (cfg->learn_sigma < 0) cfg->learn_sigma = 0;
    } else if (cfg->learn_sigma < 0) cfg->learn_sigma = cfg->out_channels == 2 * cfg->in_channels;
    if (strcmp(cfg->noise_schedule, "linear") && strcmp(cfg->noise_schedule, "cosine"))
        return adm_error("unknown noise_schedule '%s' (linear, cosine)", cfg->noise_schedule);
    if (cfg->diffusion_steps <= 0) return adm_error("diffusion_steps must be > 0");
    return 0;
}

/* ---- (a) key=value ------------------------------------------------------ */

int adm_config_parse_kv(const char *text, adm_config *cfg) {
    /* The three classes share their defaults, so kind= may come on any line. */
    adm_kind kind = (unsigned)cfg->kind <= ADM_KIND_CLASSIFIER ? cfg->kind : ADM_KIND_UNET;
    adm_config_defaults(cfg, kind);
    int lineno = 0, have_attn = 0;
    const char *p = text;
    while (*p) {
        char line[1024];
        size_t n = strcspn(p, "\n");
        lineno++;
        if (n >= sizeof line) return adm_error("line %d too long", lineno);
        memcpy(line, p, n); line[n] = 0;
        p += n + (p[n] == '\n');
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        trim(line);
        if (!line[0]) continue;
        char *eq = strchr(line, '=');
        if (!eq) return adm_error("line %d: expected key=value: '%s'", lineno, line);
        *eq = 0;
        char *key = line, *val = eq + 1;
        trim(key); trim(val);
        int rc = 0, tmp;
        if (!strcmp(key, "kind")) {
            if (!strcmp(val, "unet")) cfg->kind = ADM_KIND_UNET;
            else if (!strcmp(val, "superres")) cfg->kind = ADM_KIND_SUPERRES;
            else if (!strcmp(val, "classifier")) cfg->kind = ADM_KIND_CLASSIFIER;
            else rc = adm_error("kind=%s is not a model (unet, superres, classifier)", val);
        } else if (!strcmp(key, "image_size")) rc = parse_int(key, val, &cfg->image_size);
        else if (!strcmp(key, "in_channels")) rc = parse_int(key, val, &cfg->in_channels);
        else if (!strcmp(key, "model_channels")) rc = parse_int(key, val, &cfg->model_channels);
        else if (!strcmp(key, "out_channels")) rc = parse_int(key, val, &cfg->out_channels);
        else if (!strcmp(key, "num_res_blocks")) rc = parse_int(key, val, &cfg->num_res_blocks);
        else if (!strcmp(key, "attention_resolutions")) {
            have_attn = 1;
            if (!strcmp(val, "") || !strcmp(val, "none") || !strcmp(val, "()")) cfg->n_attention_ds = 0;
            else rc = parse_list(key, val, cfg->attention_ds, NULL, &cfg->n_attention_ds, 0);
        } else if (!strcmp(key, "channel_mult"))
            rc = parse_list(key, val, cfg->channel_mult, cfg->channel_mult_half, &cfg->n_levels, 1);
        else if (!strcmp(key, "num_classes")) {
            if (!strcmp(val, "none") || !strcmp(val, "None") || !strcmp(val, "")) cfg->num_classes = 0;
            else rc = parse_int(key, val, &cfg->num_classes);
        } else if (!strcmp(key, "num_heads")) rc = parse_int(key, val, &cfg->num_heads);
        else if (!strcmp(key, "num_head_channels")) rc = parse_int(key, val, &cfg->num_head_channels);
        else if (!strcmp(key, "num_heads_upsample")) rc = parse_int(key, val, &cfg->num_heads_upsample);
        else if (!strcmp(key, "use_scale_shift_norm")) rc = parse_bool(key, val, &cfg->use_scale_shift_norm);
        else if (!strcmp(key, "resblock_updown")) rc = parse_bool(key, val, &cfg->resblock_updown);
        else if (!strcmp(key, "use_new_attention_order")) rc = parse_bool(key, val, &cfg->use_new_attention_order);
        else if (!strcmp(key, "conv_resample")) rc = parse_bool(key, val, &cfg->conv_resample);
        else if (!strcmp(key, "use_fp16")) rc = parse_bool(key, val, &cfg->use_fp16);
        else if (!strcmp(key, "pool")) {
            if (strlen(val) >= sizeof cfg->pool) rc = adm_error("pool: unknown '%s'", val);
            else snprintf(cfg->pool, sizeof cfg->pool, "%s", val);
        } else if (!strcmp(key, "diffusion_steps")) rc = parse_int(key, val, &cfg->diffusion_steps);
        else if (!strcmp(key, "noise_schedule")) {
            if (strlen(val) >= sizeof cfg->noise_schedule) rc = adm_error("noise_schedule: unknown '%s'", val);
            else snprintf(cfg->noise_schedule, sizeof cfg->noise_schedule, "%s", val);
        } else if (!strcmp(key, "learn_sigma")) rc = parse_bool(key, val, &cfg->learn_sigma);
        else if (!strcmp(key, "small_size")) rc = parse_int(key, val, &cfg->small_size);
        else if (!strcmp(key, "dims")) {
            rc = parse_int(key, val, &tmp);
            if (!rc && tmp != 2) rc = adm_error("dims=%d: only 2-d models are supported", tmp);
        }
        /* Settings that do not change the computation at inference. */
        else if (!strcmp(key, "dropout") || !strcmp(key, "use_checkpoint") || !strcmp(key, "checkpoint_style")) continue;
        else rc = adm_error("unknown key '%s'", key);
        if (rc) return adm_error_prefix("line %d", lineno);
    }
    if (!have_attn) return adm_error("attention_resolutions missing");
    return config_finish(cfg);
}

/* ---- (b) guided-diffusion flags ----------------------------------------- */

typedef struct {
    int image_size, num_channels, num_res_blocks, num_heads, num_heads_upsample, num_head_channels;
    char attention_resolutions[64], channel_mult[64];
    int class_cond, use_scale_shift_norm, resblock_updown, use_fp16, use_new_attention_order, learn_sigma;
    int diffusion_steps; char noise_schedule[16];
    int large_size, small_size, have_large;
    int classifier_use_fp16, classifier_width, classifier_depth, classifier_use_scale_shift_norm,
        classifier_resblock_updown, classifier_num_head_channels;
    char classifier_attention_resolutions[64], classifier_pool[16];
    int in_channels, num_classes;
} gd_flags;

/* Flags of the sampling/training scripts that do not describe the network. */
static const char *gd_ignored[] = {
    "dropout", "use_checkpoint", "timestep_respacing", "use_kl", "predict_xstart", "rescale_timesteps",
    "rescale_learned_sigmas", "batch_size", "num_samples", "use_ddim", "clip_denoised", "model_path",
    "classifier_path", "classifier_scale", "base_samples", "iterations", "anneal_lr", "lr", "save_interval",
    "weight_decay", "data_dir", "microbatch", "ema_rate", "log_interval", "resume_checkpoint", "fp16_scale_growth",
    "schedule_sampler", "noised", "val_data_dir", "eval_interval", NULL,
};

static int str_opt(const char *key, const char *v, char *dst, size_t n) {
    if (strlen(v) >= n) return adm_error("--%s: value too long", key);
    snprintf(dst, n, "%s", v);
    return 0;
}

static int gd_set(gd_flags *f, const char *key, const char *v) {
#define I(name) if (!strcmp(key, #name)) return parse_int("--" #name, v, &f->name)
#define B(name) if (!strcmp(key, #name)) return parse_bool("--" #name, v, &f->name)
#define S(name) if (!strcmp(key, #name)) return str_opt(#name, v, f->name, sizeof f->name)
    I(image_size); I(num_channels); I(num_res_blocks); I(num_heads); I(num_heads_upsample); I(num_head_channels);
    S(attention_resolutions); S(channel_mult);
    B(class_cond); B(use_scale_shift_norm); B(resblock_updown); B(use_fp16); B(use_new_attention_order); B(learn_sigma);
    I(diffusion_steps); S(noise_schedule); I(small_size);
    if (!strcmp(key, "large_size")) { f->have_large = 1; return parse_int("--large_size", v, &f->large_size); }
    B(classifier_use_fp16); I(classifier_width); I(classifier_depth); B(classifier_use_scale_shift_norm);
    B(classifier_resblock_updown); I(classifier_num_head_channels);
    S(classifier_attention_resolutions); S(classifier_pool);
    I(in_channels); I(num_classes);
#undef I
#undef B
#undef S
    for (int i = 0; gd_ignored[i]; i++) if (!strcmp(key, gd_ignored[i])) return 0;
    return adm_error("unknown flag --%s", key);
}

/* channel_mult of script_util's tables (large: the super-resolution table). */
static int gd_mult_table(int size, int sr, adm_config *cfg) {
    static const int m512[] = {0, 1, 1, 2, 2, 4, 4}, m256[] = {1, 1, 2, 2, 4, 4}, m128[] = {1, 1, 2, 3, 4}, m64[] = {1, 2, 3, 4};
    const int *m; int n;
    memset(cfg->channel_mult_half, 0, sizeof cfg->channel_mult_half);
    if (size == 512 && sr) { m = m256; n = 6; }
    else if (size == 512) { m = m512; n = 7; cfg->channel_mult_half[0] = 1; }
    else if (size == 256) { m = m256; n = 6; }
    else if (size == 128 && !sr) { m = m128; n = 5; }
    else if (size == 64) { m = m64; n = 4; }
    else return adm_error("unsupported %s size: %d (give --channel_mult)", sr ? "large" : "image", size);
    memcpy(cfg->channel_mult, m, (size_t)n * sizeof *m);
    cfg->n_levels = n;
    return 0;
}

/* attention_ds = [image_size // int(res) for res in flag.split(",")] */
static int gd_attention(const char *flag, int size, adm_config *cfg) {
    int res[ADM_MAX_LEVELS], n;
    if (parse_list("--attention_resolutions", flag, res, NULL, &n, 0) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (res[i] <= 0) return adm_error("--attention_resolutions: bad resolution %d", res[i]);
        cfg->attention_ds[i] = size / res[i];
    }
    cfg->n_attention_ds = n;
    return 0;
}

int adm_config_parse_flags(const char *flags, adm_kind kind, adm_config *cfg) {
    gd_flags f = {
        .image_size = 64, .num_channels = 128, .num_res_blocks = 2, .num_heads = 4, .num_heads_upsample = -1,
        .num_head_channels = -1, .attention_resolutions = "16,8", .channel_mult = "", .use_scale_shift_norm = 1,
        .diffusion_steps = 1000, .noise_schedule = "linear", .large_size = 256, .small_size = 64,
        .classifier_width = 128, .classifier_depth = 2, .classifier_attention_resolutions = "32,16,8",
        .classifier_use_scale_shift_norm = 1, .classifier_resblock_updown = 1, .classifier_pool = "attention",
        .classifier_num_head_channels = 64, .in_channels = 3, .num_classes = -1,
    };
    /* Tokenise: --key value | --key=value */
    char buf[4096];
    if (strlen(flags) >= sizeof buf) return adm_error("flags too long");
    snprintf(buf, sizeof buf, "%s", flags);
    char *save = NULL, *tok = strtok_r(buf, " \t\r\n", &save);
    while (tok) {
        if (strncmp(tok, "--", 2) != 0) return adm_error("expected a --flag, got '%s'", tok);
        char *key = tok + 2, *val = strchr(key, '=');
        if (val) *val++ = 0;
        else if (!(val = strtok_r(NULL, " \t\r\n", &save))) return adm_error("--%s needs a value", key);
        if (gd_set(&f, key, val) != 0) return -1;
        tok = strtok_r(NULL, " \t\r\n", &save);
    }
    if (f.have_large && kind != ADM_KIND_CLASSIFIER) kind = ADM_KIND_SUPERRES;
    adm_config_defaults(cfg, kind);
    cfg->in_channels = f.in_channels;
    cfg->diffusion_steps = f.diffusion_steps;
    if (str_opt("noise_schedule", f.noise_schedule, cfg->noise_schedule, sizeof cfg->noise_schedule)) return -1;
    if (kind == ADM_KIND_CLASSIFIER) {                      /* create_classifier */
        cfg->image_size = f.image_size;
        if (f.channel_mult[0]) {
            if (parse_list("--channel_mult", f.channel_mult, cfg->channel_mult, NULL, &cfg->n_levels, 0)) return -1;
        } else if (gd_mult_table(f.image_size, 0, cfg)) return -1;
        if (gd_attention(f.classifier_attention_resolutions, f.image_size, cfg)) return -1;
        cfg->model_channels = f.classifier_width;
        cfg->out_channels = f.num_classes > 0 ? f.num_classes : 1000;
        cfg->num_res_blocks = f.classifier_depth;
        cfg->use_fp16 = f.classifier_use_fp16;
        cfg->num_head_channels = f.classifier_num_head_channels;
        cfg->use_scale_shift_norm = f.classifier_use_scale_shift_norm;
        cfg->resblock_updown = f.classifier_resblock_updown;
        if (str_opt("classifier_pool", f.classifier_pool, cfg->pool, sizeof cfg->pool)) return -1;
        cfg->learn_sigma = f.learn_sigma;
    } else {                                                /* create_model / sr_create_model */
        int sr = kind == ADM_KIND_SUPERRES, size = sr ? f.large_size : f.image_size;
        cfg->image_size = size;
        cfg->small_size = sr ? f.small_size : 0;
        if (f.channel_mult[0] && !sr) {
            if (parse_list("--channel_mult", f.channel_mult, cfg->channel_mult, NULL, &cfg->n_levels, 0)) return -1;
        } else if (gd_mult_table(size, sr, cfg)) return -1;
        if (gd_attention(f.attention_resolutions, size, cfg)) return -1;
        cfg->model_channels = f.num_channels;
        cfg->learn_sigma = f.learn_sigma;
        cfg->out_channels = f.learn_sigma ? 2 * f.in_channels : f.in_channels;
        cfg->num_res_blocks = f.num_res_blocks;
        cfg->num_classes = f.class_cond || f.num_classes > 0 ? (f.num_classes > 0 ? f.num_classes : 1000) : 0;
        cfg->use_fp16 = f.use_fp16;
        cfg->num_heads = f.num_heads;
        cfg->num_head_channels = f.num_head_channels;
        cfg->num_heads_upsample = f.num_heads_upsample;
        cfg->use_scale_shift_norm = f.use_scale_shift_norm;
        cfg->resblock_updown = f.resblock_updown;
        cfg->use_new_attention_order = sr ? 0 : f.use_new_attention_order;   /* sr_create_model does not pass it */
    }
    return config_finish(cfg);
}

/* ---- (c) presets and the dispatcher ------------------------------------- */

int adm_config_preset(const char *name, adm_config *cfg) {
    for (const adm_preset *p = adm_presets; p->name; p++)
        if (!strcmp(name, p->name) || !strcmp(name, p->file)) {
            if (adm_config_parse_flags(p->flags, p->kind, cfg) != 0) return adm_error_prefix("preset %s", p->name);
            return 0;
        }
    char list[512] = ""; size_t o = 0;
    for (const adm_preset *p = adm_presets; p->name && o < sizeof list - 32; p++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", p->name);
    return adm_error("unknown preset '%s' (presets: %s)", name, list);
}

int adm_config_parse_text(const char *text, size_t len, adm_kind kind_hint, adm_config *cfg) {
    if (memchr(text, 0, len)) return adm_error("not a text config file");
    const char *t = text;
    while (isspace((unsigned char)*t)) t++;
    cfg->kind = kind_hint;
    return !strncmp(t, "--", 2) ? adm_config_parse_flags(t, kind_hint, cfg) : adm_config_parse_kv(t, cfg);
}

int adm_config_parse(const char *spec, adm_kind kind_hint, adm_config *cfg) {
    const char *s = spec;
    while (isspace((unsigned char)*s)) s++;
    if (!strncmp(s, "--", 2)) return adm_config_parse_flags(s, kind_hint, cfg);
    struct stat st;
    if (stat(spec, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return adm_error("%s: not a regular file", spec);
        uint8_t *text; size_t len;
        if (adm_read_file(spec, &text, &len) != 0) return -1;
        int rc = adm_config_parse_text((const char *)text, len, kind_hint, cfg);
        free(text);
        return rc ? adm_error_prefix("%s", spec) : 0;
    }
    if (strchr(spec, '/')) return adm_error("%s: no such config file", spec);
    return adm_config_preset(spec, cfg);
}

/* ---- validation --------------------------------------------------------- */

static void shape_str(char *b, size_t n, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(b, n, "[");
    for (int d = 0; d < ndim && o < n; d++) o += (size_t)snprintf(b + o, n - o, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (o < n) snprintf(b + o, n - o, "]");
}

int adm_config_check(const adm_config *cfg, const adm_tensor_set *w, char *report, size_t len) {
    adm_param_spec *ps; int n, problems = 0;
    size_t o = 0;
    if (len) report[0] = 0;
    if (adm_network_params(cfg, &ps, &n) != 0) return -1;
    char *seen = calloc((size_t)w->n + 1, 1);
    if (!seen) { free(ps); return adm_error("out of memory"); }
#define LINE(...) do { problems++; if (o < len) o += (size_t)snprintf(report + o, len - o, __VA_ARGS__); } while (0)
    for (int i = 0; i < n; i++) {
        int j = -1;
        for (int k = 0; k < w->n; k++) if (w->t[k].name && !strcmp(w->t[k].name, ps[i].name)) { j = k; break; }
        char want[96], got[96];
        shape_str(want, sizeof want, ps[i].ndim, ps[i].shape);
        if (j < 0) { LINE("missing: %s %s\n", ps[i].name, want); continue; }
        seen[j] = 1;
        const adm_tensor *t = &w->t[j];
        int same = t->ndim == ps[i].ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == ps[i].shape[d];
        if (!same) { shape_str(got, sizeof got, t->ndim, t->shape); LINE("shape: %s is %s, config needs %s\n", ps[i].name, got, want); }
        else if (t->dtype != ADM_F32 && t->dtype != ADM_F16 && t->dtype != ADM_BF16 && t->dtype != ADM_F64)
            LINE("dtype: %s is %s, not a float type\n", ps[i].name, adm_dtype_name(t->dtype));
    }
    for (int k = 0; k < w->n; k++)
        if (!seen[k]) { char got[96]; shape_str(got, sizeof got, w->t[k].ndim, w->t[k].shape);
                        LINE("unexpected: %s %s\n", w->t[k].name ? w->t[k].name : "(unnamed)", got); }
#undef LINE
    if (o >= len && len > 16) snprintf(report + len - 16, 16, "...\n");
    free(seen); free(ps);
    return problems;
}

int adm_config_validate(const adm_config *cfg, const adm_tensor_set *w) {
    char report[8192];
    int problems = adm_config_check(cfg, w, report, sizeof report);
    if (problems < 0) return -1;
    if (problems == 0) return 0;
    /* The message lists every problem that fits (adm_config_check gives all). */
    for (char *p = report; *p; p++) if (*p == '\n' && p[1]) *p = ';';
    size_t rl = strlen(report);
    if (rl && report[rl - 1] == '\n') report[rl - 1] = 0;
    return adm_error("config does not match the checkpoint (%d problem%s): %s", problems, problems == 1 ? "" : "s", report);
}

/* ---- inference from shapes ---------------------------------------------- */

static const adm_tensor *find(const adm_tensor_set *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const adm_tensor *find(const adm_tensor_set *w, const char *fmt, ...) {
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return adm_tensors_find(w, name);
}

/* Does the weight list match cfg exactly (names and shapes)? */
static int matches(const adm_config *cfg, const adm_tensor_set *w) {
    char r[16];
    return adm_config_check(cfg, w, r, sizeof r) == 0;
}

int adm_config_infer(const adm_tensor_set *w, adm_config *cfg, char *unknown, size_t unknown_len) {
    const adm_tensor *te = adm_tensors_find(w, "time_embed.0.weight"), *conv = adm_tensors_find(w, "input_blocks.0.0.weight");
    if (!te || te->ndim != 2 || !conv || conv->ndim != 4)
        return adm_error("not an ADM checkpoint (no time_embed.0.weight / input_blocks.0.0.weight)");
    int is_unet = adm_tensors_find(w, "output_blocks.0.0.in_layers.0.weight") != NULL;
    adm_config_defaults(cfg, is_unet ? ADM_KIND_UNET : ADM_KIND_CLASSIFIER);
    cfg->model_channels = (int)te->shape[1];
    int conv_in = (int)conv->shape[1], mc = cfg->model_channels;
    const adm_tensor *le = adm_tensors_find(w, "label_emb.weight");
    cfg->num_classes = le && le->ndim == 2 ? (int)le->shape[0] : 0;

    /* Count input blocks and find the attention blocks and resampling style. */
    int nin = 1;
    while (find(w, "input_blocks.%d.0.in_layers.0.weight", nin) || find(w, "input_blocks.%d.0.op.weight", nin)) nin++;
    int conv_down = 0, conv_up = 0;
    for (int i = 1; i < nin; i++) if (find(w, "input_blocks.%d.0.op.weight", i)) conv_down = 1;
    for (int i = 0; find(w, "output_blocks.%d.0.in_layers.0.weight", i); i++)
        if (find(w, "output_blocks.%d.1.conv.weight", i) || find(w, "output_blocks.%d.2.conv.weight", i)) conv_up = 1;
    const adm_tensor *emb1 = adm_tensors_find(w, "middle_block.0.emb_layers.1.weight"),
                     *mo = adm_tensors_find(w, "middle_block.0.out_layers.3.weight");
    if (!emb1 || !mo) return adm_error("not an ADM checkpoint (no middle_block)");
    cfg->use_scale_shift_norm = emb1->shape[0] == 2 * mo->shape[0];

    if (is_unet) {
        const adm_tensor *o = adm_tensors_find(w, "out.2.weight");
        if (!o || o->ndim != 4) return adm_error("not an ADM UNet (no out.2.weight)");
        cfg->out_channels = (int)o->shape[0];
        /* SuperResModel's first conv sees [x, upsampled low_res]: 2 * in_channels. */
        int oc = cfg->out_channels;
        if (conv_in == 2 * oc || (conv_in == oc && conv_in % 2 == 0 && (conv_in / 2 == 3 || conv_in / 2 == 1))) {
            cfg->kind = ADM_KIND_SUPERRES; cfg->in_channels = conv_in / 2;
        } else cfg->in_channels = conv_in;
        cfg->learn_sigma = cfg->out_channels == 2 * cfg->in_channels;
    } else {
        cfg->in_channels = conv_in;
        cfg->learn_sigma = 0;
        const adm_tensor *pe = adm_tensors_find(w, "out.2.positional_embedding");
        if (pe) { snprintf(cfg->pool, sizeof cfg->pool, "attention");
                  const adm_tensor *c = adm_tensors_find(w, "out.2.c_proj.weight"); cfg->out_channels = c ? (int)c->shape[0] : 0; }
        else if (find(w, "out.3.weight") && find(w, "out.3.weight")->ndim == 4) {
            snprintf(cfg->pool, sizeof cfg->pool, "adaptive"); cfg->out_channels = (int)find(w, "out.3.weight")->shape[0]; }
        else if (find(w, "out.3.weight")) {
            snprintf(cfg->pool, sizeof cfg->pool, "spatial_v2"); cfg->out_channels = (int)find(w, "out.3.weight")->shape[0]; }
        else if (find(w, "out.2.weight")) {
            snprintf(cfg->pool, sizeof cfg->pool, "spatial"); cfg->out_channels = (int)find(w, "out.2.weight")->shape[0]; }
        else return adm_error("not an ADM classifier (unknown output head)");
    }

    /* Try each split of the nin-1 input blocks into L levels of num_res_blocks
     * ResBlocks plus L-1 downsamples; keep the one whose layout matches exactly. */
    int found = 0;
    for (int nrb = 1; nrb <= nin && !found; nrb++) {
        if (nin % (nrb + 1)) continue;
        int L = nin / (nrb + 1);
        if (L < 1 || L > ADM_MAX_LEVELS) continue;
        adm_config c = *cfg;
        c.num_res_blocks = nrb; c.n_levels = L; c.n_attention_ds = 0;
        int ok = 1;
        for (int lv = 0; lv < L && ok; lv++) {
            const adm_tensor *t = find(w, "input_blocks.%d.0.out_layers.3.weight", lv * (nrb + 1) + 1);
            if (!t) { ok = 0; break; }
            int oc = (int)t->shape[0];
            c.channel_mult[lv] = oc / mc; c.channel_mult_half[lv] = (oc % mc) != 0;
            if (find(w, "input_blocks.%d.1.norm.weight", lv * (nrb + 1) + 1)) c.attention_ds[c.n_attention_ds++] = 1 << lv;
        }
        if (!ok) continue;
        for (int updown = 0; updown <= 1 && !found; updown++) {
            c.resblock_updown = updown;
            c.conv_resample = updown ? 1 : (conv_down || conv_up || L == 1);
            if (!is_unet && !strcmp(c.pool, "attention")) {
                const adm_tensor *pe = adm_tensors_find(w, "out.2.positional_embedding");
                int64_t s2 = pe->shape[1] - 1, sp = 0;
                while ((sp + 1) * (sp + 1) <= s2) sp++;
                c.image_size = (int)(sp << (L - 1));
                const adm_tensor *qp = adm_tensors_find(w, "out.2.qkv_proj.weight");
                (void)qp;
                c.num_head_channels = 64;     /* any value keeps the shapes; unknown */
            }
            if (matches(&c, w)) { *cfg = c; found = 1; }
        }
    }
    if (!found) return adm_error("cannot infer a configuration: the tensors do not form an ADM %s layout",
                                 is_unet ? "UNet" : "classifier");
    if (cfg->kind == ADM_KIND_CLASSIFIER && strcmp(cfg->pool, "attention")) cfg->image_size = 0;
    if (unknown && unknown_len) {
        snprintf(unknown, unknown_len, "%snum_heads/num_head_channels, attention order (legacy or new), "
                 "noise schedule and diffusion steps%s",
                 cfg->kind != ADM_KIND_CLASSIFIER || strcmp(cfg->pool, "attention") ? "image_size, " : "",
                 cfg->kind == ADM_KIND_SUPERRES ? " (super-resolution guessed from the first conv's input channels)" : "");
    }
    return 0;
}

/* ---- formatting --------------------------------------------------------- */

int adm_config_format(const adm_config *cfg, char *buf, size_t len) {
    static const char *kinds[] = {"unet", "superres", "classifier"};
    char attn[128] = "", mult[128] = "";
    size_t o = 0;
    for (int i = 0; i < cfg->n_attention_ds && o < sizeof attn; i++)
        o += (size_t)snprintf(attn + o, sizeof attn - o, "%s%d", i ? "," : "", cfg->attention_ds[i]);
    o = 0;
    for (int i = 0; i < cfg->n_levels && o < sizeof mult; i++)
        o += (size_t)snprintf(mult + o, sizeof mult - o, cfg->channel_mult_half[i] ? "%s%d.5" : "%s%d", i ? "," : "", cfg->channel_mult[i]);
    char classes[32];
    if (cfg->num_classes > 0) snprintf(classes, sizeof classes, "%d", cfg->num_classes);
    else snprintf(classes, sizeof classes, "none");
    int n = snprintf(buf, len,
        "kind=%s\nimage_size=%d\nin_channels=%d\nmodel_channels=%d\nout_channels=%d\nnum_res_blocks=%d\n"
        "attention_resolutions=%s\nchannel_mult=%s\n%s%s%s"
        "num_heads=%d\nnum_head_channels=%d\nnum_heads_upsample=%d\nuse_scale_shift_norm=%d\nresblock_updown=%d\n"
        "use_new_attention_order=%d\nconv_resample=%d\nuse_fp16=%d\n%s%s%s"
        "diffusion_steps=%d\nnoise_schedule=%s\nlearn_sigma=%d\n",
        (unsigned)cfg->kind < 3 ? kinds[cfg->kind] : "?", cfg->image_size, cfg->in_channels, cfg->model_channels,
        cfg->out_channels, cfg->num_res_blocks, attn, mult,
        cfg->kind == ADM_KIND_CLASSIFIER ? "" : "num_classes=", cfg->kind == ADM_KIND_CLASSIFIER ? "" : classes,
        cfg->kind == ADM_KIND_CLASSIFIER ? "" : "\n",
        cfg->num_heads, cfg->num_head_channels, cfg->num_heads_upsample, cfg->use_scale_shift_norm, cfg->resblock_updown,
        cfg->use_new_attention_order, cfg->conv_resample, cfg->use_fp16,
        cfg->kind == ADM_KIND_CLASSIFIER ? "pool=" : "", cfg->kind == ADM_KIND_CLASSIFIER ? cfg->pool : "",
        cfg->kind == ADM_KIND_CLASSIFIER ? "\n" : "",
        cfg->diffusion_steps, cfg->noise_schedule, cfg->learn_sigma > 0);
    if (n < 0 || (size_t)n >= len) return adm_error("config text does not fit in %zu bytes", len);
    if (cfg->small_size > 0) {
        int m = snprintf(buf + n, len - (size_t)n, "small_size=%d\n", cfg->small_size);
        if (m < 0 || (size_t)m >= len - (size_t)n) return adm_error("config text does not fit in %zu bytes", len);
    }
    return 0;
}
