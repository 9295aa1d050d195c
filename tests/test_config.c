/* test_config.c — model configurations: the reference's config.txt files
 * against their checkpoints (validation and inference), the README flag
 * mapping and presets, formatting round trips, and bad configs. */
#include "check.h"
#include "config.h"
#include "network.h"
#include "util.h"
#include <unistd.h>

static const char *cases[][2] = {
    {"reference/unet_a/config.txt", "reference/unet_a/model.pt"},
    {"reference/unet_a_f16/config.txt", "reference/unet_a_f16/model.pt"},
    {"reference/unet_b/config.txt", "reference/unet_b/model.pt"},
    {"reference/unet_c/config.txt", "reference/unet_c/model.pt"},
    {"reference/superres_a/config.txt", "reference/superres_a/model.pt"},
    {"reference/classifier_a/config.txt", "reference/classifier_a/model.pt"},
    {"../../models/mnist/unet.config.txt", "mnist/unet.pt"},
    {"../../models/mnist/classifier.config.txt", "mnist/classifier.pt"},
};

/* The fields shapes determine must agree. */
static int same_shape_fields(const adm_config *a, const adm_config *b, int with_image_size) {
    int ok = a->kind == b->kind && a->in_channels == b->in_channels && a->model_channels == b->model_channels
          && a->out_channels == b->out_channels && a->num_res_blocks == b->num_res_blocks && a->n_levels == b->n_levels
          && a->n_attention_ds == b->n_attention_ds && a->use_scale_shift_norm == b->use_scale_shift_norm
          && a->resblock_updown == b->resblock_updown && a->learn_sigma == b->learn_sigma
          && (a->kind == ADM_KIND_CLASSIFIER ? strcmp(a->pool, b->pool) == 0 : a->num_classes == b->num_classes)
          && (!with_image_size || a->image_size == b->image_size);
    for (int i = 0; ok && i < a->n_levels; i++)
        ok = a->channel_mult[i] == b->channel_mult[i] && a->channel_mult_half[i] == b->channel_mult_half[i];
    for (int i = 0; ok && i < a->n_attention_ds; i++) {          /* as sets */
        int f = 0;
        for (int j = 0; j < b->n_attention_ds; j++) f |= a->attention_ds[i] == b->attention_ds[j];
        ok = f;
    }
    return ok;
}

static void test_reference_configs_validate_and_infer(void) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char pc[512], pm[512]; adm_config cfg, inf; adm_tensor_set w; char unknown[256];
        test_path(pc, sizeof pc, cases[i][0]); test_path(pm, sizeof pm, cases[i][1]);
        if (access(pm, R_OK) != 0) { printf("  (absent: %s)\n", pm); continue; }
        CHECK(adm_config_parse(pc, ADM_KIND_UNET, &cfg) == 0, "%s: %s", pc, adm_last_error());
        CHECK(adm_tensors_load(pm, &w) == 0, "%s", adm_last_error());
        CHECK(adm_config_validate(&cfg, &w) == 0, "%s: %s", pc, adm_last_error());
        CHECK(adm_config_infer(&w, &inf, unknown, sizeof unknown) == 0, "%s: %s", pm, adm_last_error());
        int with_size = inf.kind == ADM_KIND_CLASSIFIER;
        CHECK(same_shape_fields(&cfg, &inf, with_size), "%s: inferred config differs", pm);
        CHECK(strstr(unknown, "num_heads") && strstr(unknown, "attention order") && strstr(unknown, "schedule"),
              "unknown list: %s", unknown);
        /* The layout is the reference's state dict, in its order. */
        adm_param_spec *ps; int np, order = 0;
        CHECK(adm_network_params(&cfg, &ps, &np) == 0 && np == w.n, "%s: %d tensors, config has %d", pm, w.n, np);
        for (int k = 0; k < np && k < w.n; k++) order += strcmp(ps[k].name, w.t[k].name) != 0;
        CHECK(order == 0, "%s: %d tensors out of the reference's order", pm, order);
        free(ps);
        /* The inferred config validates against its own checkpoint. */
        CHECK(adm_config_validate(&inf, &w) == 0, "%s: %s", pm, adm_last_error());
        adm_tensors_free(&w);
    }
}

static void test_reference_values(void) {
    char p[512]; adm_config c;
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_a/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_UNET && c.image_size == 32 && c.model_channels == 32 && c.out_channels == 6, "unet_a basics");
    CHECK(c.n_attention_ds == 2 && c.attention_ds[0] == 2 && c.attention_ds[1] == 4, "attention ds");
    CHECK(c.num_classes == 10 && c.learn_sigma == 1 && c.use_new_attention_order == 1 && c.resblock_updown == 1, "flags");
    CHECK(adm_config_heads(&c, 64, 0) == 4 && adm_config_heads(&c, 64, 1) == 4, "heads by num_head_channels 16");
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_b/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(adm_config_heads(&c, 64, 0) == 4 && c.use_new_attention_order == 0, "unet_b: 4 heads, legacy");
    CHECK(adm_config_heads(&c, 30, 0) < 0, "30 channels in 4 heads refused");
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_c/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.num_classes == 0 && c.learn_sigma == 0 && c.use_scale_shift_norm == 0 && c.resblock_updown == 0 && c.conv_resample == 1, "unet_c");
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/classifier_a/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_CLASSIFIER && !strcmp(c.pool, "attention") && c.out_channels == 10, "classifier_a");
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/superres_a/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_SUPERRES && c.in_channels == 3, "superres_a");
}

/* The README's MNIST flags + the two extras give unet.config.txt. */
static void test_flags_match_mnist_config(void) {
    char p[512]; adm_config a, b;
    if (access(test_path(p, sizeof p, "../../models/mnist/unet.config.txt"), R_OK) != 0) SKIP("no models/mnist");
    REQUIRE(adm_config_parse(p, ADM_KIND_UNET, &a) == 0, "%s", adm_last_error());
    REQUIRE(adm_config_parse("--image_size 32 --class_cond True --learn_sigma True --noise_schedule cosine --diffusion_steps 1000 "
                             "--num_channels 64 --num_res_blocks 2 --channel_mult 1,2,2 --attention_resolutions 16,8 "
                             "--num_head_channels 32 --resblock_updown True --use_scale_shift_norm True --in_channels 1 "
                             "--num_classes 10", ADM_KIND_UNET, &b) == 0, "%s", adm_last_error());
    CHECK(same_shape_fields(&a, &b, 1), "flags differ from config");
    CHECK(b.num_head_channels == 32 && !strcmp(b.noise_schedule, "cosine") && b.diffusion_steps == 1000, "diffusion");
    CHECK(b.attention_ds[0] == 2 && b.attention_ds[1] == 4, "16,8 at 32 -> ds 2,4");
}

/* Presets reproduce the README: spot-check each kind exactly. */
static void test_presets(void) {
    adm_config c;
    int n = 0;
    for (const adm_preset *p = adm_presets; p->name; p++, n++) {
        CHECK(adm_config_preset(p->name, &c) == 0, "%s: %s", p->name, adm_last_error());
        CHECK(c.kind == p->kind, "%s kind", p->name);
        adm_param_spec *ps; int np;
        CHECK(adm_network_params(&c, &ps, &np) == 0 && np > 100, "%s params", p->name);
        free(ps);
    }
    CHECK(n >= 15, "%d presets", n);
    REQUIRE(adm_config_parse("64x64", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    int m64[] = {1, 2, 3, 4};
    CHECK(c.image_size == 64 && c.model_channels == 192 && c.num_res_blocks == 3 && c.n_levels == 4 &&
          !memcmp(c.channel_mult, m64, sizeof m64) && c.num_classes == 1000 && c.out_channels == 6 &&
          c.num_head_channels == 64 && c.use_new_attention_order == 1 && !strcmp(c.noise_schedule, "cosine") &&
          c.resblock_updown && c.use_scale_shift_norm && c.use_fp16, "64x64");
    CHECK(c.n_attention_ds == 3 && c.attention_ds[0] == 2 && c.attention_ds[1] == 4 && c.attention_ds[2] == 8, "64x64 attn");
    REQUIRE(adm_config_parse("128x128", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.num_heads == 4 && c.num_head_channels == -1 && c.n_levels == 5 && c.channel_mult[3] == 3 &&
          c.attention_ds[0] == 4 && !strcmp(c.noise_schedule, "linear") && c.use_new_attention_order == 0, "128x128");
    REQUIRE(adm_config_parse("512x512", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.n_levels == 7 && c.channel_mult_half[0] == 1 && c.channel_mult[0] == 0 && adm_config_channels(&c, 0) == 128 &&
          adm_config_channels(&c, 6) == 1024 && c.use_fp16 == 0 && c.attention_ds[0] == 16, "512x512: 0.5 multiplier");
    REQUIRE(adm_config_parse("256x256_uncond", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.num_classes == 0 && c.n_levels == 6 && c.attention_ds[0] == 8, "uncond");
    REQUIRE(adm_config_parse("128_512", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_SUPERRES && c.image_size == 512 && c.n_levels == 6 && c.channel_mult[0] == 1 &&
          c.n_attention_ds == 2 && c.attention_ds[0] == 16 && c.attention_ds[1] == 32 && c.model_channels == 192, "128_512");
    REQUIRE(adm_config_parse("64_256", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_SUPERRES && c.num_heads == 4 && c.num_classes == 1000, "64_256");
    REQUIRE(adm_config_parse("lsun_horse", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.num_classes == 0 && c.model_channels == 256, "lsun");
    REQUIRE(adm_config_parse("64x64_classifier", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_CLASSIFIER && c.num_res_blocks == 4 && c.model_channels == 128 && c.out_channels == 1000 &&
          c.num_head_channels == 64 && !strcmp(c.pool, "attention") && c.resblock_updown && c.use_scale_shift_norm, "64 cls");
    REQUIRE(adm_config_parse("256x256_classifier.pt", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.image_size == 256 && c.num_res_blocks == 2 && c.n_levels == 6, "by file name");
    /* The released 256x256 classifier's attention pool: 256 / 32 = 8 -> 65 positions, 512 channels (mult 4). */
    adm_param_spec *ps; int np; int seen = 0;
    REQUIRE(adm_network_params(&c, &ps, &np) == 0, "%s", adm_last_error());
    for (int i = 0; i < np; i++)
        if (!strcmp(ps[i].name, "out.2.positional_embedding")) { seen = 1; CHECK(ps[i].shape[0] == 512 && ps[i].shape[1] == 65, "pe shape"); }
    CHECK(seen, "positional embedding");
    free(ps);
}

/* Parameter counts of the presets' networks, in millions, as the paper
 * (Dhariwal & Nichol 2021, table of model sizes) gives them. */
static void test_preset_parameter_counts(void) {
    static const struct { const char *name; int millions; } want[] = {
        {"64x64", 296}, {"128x128", 422}, {"256x256", 554}, {"512x512", 559}, {"64_256", 312}, {"128_512", 309},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        adm_config c; adm_param_spec *ps; int n; int64_t total = 0;
        REQUIRE(adm_config_preset(want[i].name, &c) == 0 && adm_network_params(&c, &ps, &n) == 0, "%s", adm_last_error());
        for (int k = 0; k < n; k++) {
            int64_t e = 1;
            for (int d = 0; d < ps[k].ndim; d++) e *= ps[k].shape[d];
            total += e;
        }
        free(ps);
        CHECK((total + 500000) / 1000000 == want[i].millions, "%s: %lld parameters", want[i].name, (long long)total);
    }
}

static void test_flag_mapping_rules(void) {
    adm_config c;
    REQUIRE(adm_config_parse_flags("--image_size 256 --attention_resolutions 32,16,8", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.attention_ds[0] == 8 && c.attention_ds[1] == 16 && c.attention_ds[2] == 32, "image_size // res");
    CHECK(c.num_heads == 4 && c.model_channels == 128 && c.out_channels == 3 && c.num_classes == 0 && c.use_scale_shift_norm == 1,
          "model_and_diffusion_defaults");
    CHECK(adm_config_parse_flags("--image_size 48", ADM_KIND_UNET, &c) != 0 && strstr(adm_last_error(), "unsupported image size"), "48");
    CHECK(adm_config_parse_flags("--image_size 64 --bogus 1", ADM_KIND_UNET, &c) != 0 && strstr(adm_last_error(), "--bogus"), "unknown flag");
    CHECK(adm_config_parse_flags("--class_cond maybe", ADM_KIND_UNET, &c) != 0 && strstr(adm_last_error(), "boolean"), "bool");
    CHECK(adm_config_parse_flags("--image_size", ADM_KIND_UNET, &c) != 0, "missing value");
    REQUIRE(adm_config_parse_flags("--image_size 128 --classifier_depth 3 --num_classes 10", ADM_KIND_CLASSIFIER, &c) == 0, "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_CLASSIFIER && c.num_res_blocks == 3 && c.out_channels == 10 && c.n_levels == 5, "classifier extras");
    REQUIRE(adm_config_parse_flags("--image_size 64 --class_cond True --learn_sigma True --in_channels 1", ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    CHECK(c.in_channels == 1 && c.out_channels == 2 && c.num_classes == 1000, "in_channels extra");
}

static void test_format_roundtrip(void) {
    const char *names[] = {"512x512", "64x64_classifier", "64_256", "unet_c"};
    char p[512];
    for (int i = 0; i < 4; i++) {
        adm_config a, b; char text[2048];
        const char *spec = i == 3 ? test_path(p, sizeof p, "reference/unet_c/config.txt") : names[i];
        REQUIRE(adm_config_parse(spec, ADM_KIND_UNET, &a) == 0, "%s", adm_last_error());
        REQUIRE(adm_config_format(&a, text, sizeof text) == 0, "%s", adm_last_error());
        b.kind = ADM_KIND_UNET;
        REQUIRE(adm_config_parse_kv(text, &b) == 0, "%s: %s\n%s", names[i], adm_last_error(), text);
        CHECK(memcmp(&a, &b, sizeof a) == 0, "%s: round trip differs:\n%s", names[i], text);
    }
}

static void test_validation_names_every_problem(void) {
    char p[512]; adm_config c; adm_tensor_set w;
    REQUIRE(adm_config_parse(test_path(p, sizeof p, "reference/unet_b/config.txt"), ADM_KIND_UNET, &c) == 0, "%s", adm_last_error());
    REQUIRE(adm_tensors_load(test_path(p, sizeof p, "reference/unet_b/model.pt"), &w) == 0, "%s", adm_last_error());
    c.num_classes = 0;                                  /* label_emb.weight becomes unexpected */
    c.out_channels = 3;                                 /* out.2 mis-shaped */
    CHECK(adm_config_validate(&c, &w) != 0, "accepted");
    const char *e = adm_last_error();
    CHECK(strstr(e, "unexpected: label_emb.weight [10,128]") != NULL, "%s", e);
    CHECK(strstr(e, "shape: out.2.weight is [6,32,3,3], config needs [3,32,3,3]") != NULL, "%s", e);
    CHECK(strstr(e, "(3 problems)") != NULL, "%s", e);
    c.num_res_blocks = 2;                               /* many missing blocks: the full report has them all */
    char report[65536];
    int n = adm_config_check(&c, &w, report, sizeof report);
    CHECK(n > 20, "%d problems", n);
    int lines = 0;
    for (char *q = report; *q; q++) lines += *q == '\n';
    CHECK(lines == n, "report has %d lines for %d problems", lines, n);
    CHECK(strstr(report, "missing: output_blocks.8.0.in_layers.0.weight") != NULL, "%s", report);
    adm_tensors_free(&w);
}

static void test_bad_configs(void) {
    adm_config c;
    c.kind = ADM_KIND_UNET;
    CHECK(adm_config_parse_kv("kind=unet\nimage_size=32\nbogus=1\n", &c) != 0 && strstr(adm_last_error(), "bogus"), "unknown key");
    c.kind = ADM_KIND_UNET;   /* kind= on any line, indented, after other keys */
    REQUIRE(adm_config_parse_kv("image_size=32\nin_channels=3\nmodel_channels=32\nout_channels=10\nnum_res_blocks=1\n"
                                "attention_resolutions=2\nchannel_mult=1,2\nnum_head_channels=16\n  kind = classifier\npool=attention\n", &c) == 0,
            "%s", adm_last_error());
    CHECK(c.kind == ADM_KIND_CLASSIFIER, "kind on a later line");
    CHECK(adm_config_parse_kv("kind=trajectory\n", &c) != 0 && strstr(adm_last_error(), "trajectory"), "not a model");
    CHECK(adm_config_parse_kv("kind=unet\nimage_size=32\nin_channels=3\nmodel_channels=32\nout_channels=3\nnum_res_blocks=1\nchannel_mult=1\n", &c) != 0
          && strstr(adm_last_error(), "attention_resolutions"), "missing key");
    CHECK(adm_config_parse_kv("image_size=abc\n", &c) != 0 && strstr(adm_last_error(), "line 1"), "bad int: %s", adm_last_error());
    CHECK(adm_config_parse_kv("kind=classifier\nimage_size=32\nin_channels=3\nmodel_channels=32\nout_channels=3\nnum_res_blocks=1\n"
                              "attention_resolutions=2\nchannel_mult=1,2\npool=attention\n", &c) != 0
          && strstr(adm_last_error(), "num_head_channels"), "attention pool needs head channels: %s", adm_last_error());
    CHECK(adm_config_parse("no_such_preset", ADM_KIND_UNET, &c) != 0 && strstr(adm_last_error(), "256x256_classifier"), "preset list");
    CHECK(adm_config_parse("/nonexistent/config.txt", ADM_KIND_UNET, &c) != 0 && strstr(adm_last_error(), "/nonexistent"), "missing file");
    char p[512];
    CHECK(adm_config_parse(test_path(p, sizeof p, "reference/traj_ddpm10_guided/config.txt"), ADM_KIND_UNET, &c) != 0
          && strstr(adm_last_error(), "config.txt"), "trajectory config names the file: %s", adm_last_error());
}

int main(void) {
    RUN(test_reference_configs_validate_and_infer);
    RUN(test_reference_values);
    RUN(test_flags_match_mnist_config);
    RUN(test_presets);
    RUN(test_preset_parameter_counts);
    RUN(test_flag_mapping_rules);
    RUN(test_format_roundtrip);
    RUN(test_validation_names_every_problem);
    RUN(test_bad_configs);
    CHECK_EXIT();
}
