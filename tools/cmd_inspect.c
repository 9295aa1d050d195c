/* cmd_inspect.c — `admctl inspect FILE`: what a checkpoint holds.
 *
 * Lists every tensor (dtype, shape, name) with the total parameter count
 * and size, in the spirit of `unzip -l`; then the model kind and the
 * configuration the shapes imply, what the shapes cannot say, and the
 * layers of that configuration (its description, network.h).  With
 * --config the checkpoint is also validated against a configuration (every
 * missing, unexpected or mis-shaped tensor named); with --tensor NAME
 * --out T.npy one tensor is written as .npy. */
#include "admctl.h"
#include "config.h"
#include "network.h"
#include "npy.h"
#include "tensor.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl inspect FILE [--config SPEC] [--kind unet|classifier] [--brief]\n"
        "                           [--tensor NAME --out T.npy]\n"
        "\n"
        "FILE       a torch .pt checkpoint or .safetensors file\n"
        "--config   also validate against SPEC: a key=value file, a MODEL_FLAGS string\n"
        "           (\"--image_size 64 ...\") or a preset name (admctl model presets)\n"
        "--kind     how a flag string is read (default: the inferred kind)\n"
        "--brief    skip the tensor list\n"
        "--tensor   write tensor NAME to --out as .npy (bf16 is written as f32)\n");
}

static const char *kind_name(adm_kind k) {
    return k == ADM_KIND_CLASSIFIER ? "noisy classifier (EncoderUNetModel)"
         : k == ADM_KIND_SUPERRES ? "super-resolution UNet (SuperResModel)" : "diffusion UNet (UNetModel)";
}

static void shape_text(const adm_tensor *t, char *b, size_t n) {
    size_t o = (size_t)snprintf(b, n, "[");
    for (int d = 0; d < t->ndim && o < n; d++) o += (size_t)snprintf(b + o, n - o, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    if (o < n) snprintf(b + o, n - o, "]");
}

static void print_inferred(const adm_config *c, const char *unknown) {
    printf("\nmodel: %s\n", kind_name(c->kind));
    printf("  in_channels           %d%s\n", c->in_channels, c->kind == ADM_KIND_SUPERRES ? " (+ the upsampled low-res image)" : "");
    if (c->kind == ADM_KIND_CLASSIFIER) {
        printf("  classes (out)         %d\n", c->out_channels);
        printf("  pool                  %s\n", c->pool);
    } else {
        printf("  out_channels          %d\n", c->out_channels);
        printf("  learned sigma         %s\n", c->learn_sigma ? "yes (out = 2 x in: eps and variance)" : "no");
        if (c->num_classes) printf("  class-conditional     yes, %d classes\n", c->num_classes);
        else printf("  class-conditional     no\n");
    }
    printf("  model_channels        %d\n", c->model_channels);
    printf("  channel_mult          ");
    for (int i = 0; i < c->n_levels; i++) printf(c->channel_mult_half[i] ? "%s%d.5" : "%s%d", i ? "," : "", c->channel_mult[i]);
    printf("\n  num_res_blocks        %d\n", c->num_res_blocks);
    printf("  scale-shift norm      %s\n", c->use_scale_shift_norm ? "yes" : "no (embedding added)");
    printf("  up/down sampling      %s\n", c->resblock_updown ? "ResBlock up/down" : c->conv_resample ? "conv resampling" : "no parameters (pool / nearest)");
    printf("  attention at          ");
    if (!c->n_attention_ds) printf("middle block only");
    for (int i = 0; i < c->n_attention_ds; i++) {
        if (c->image_size) printf("%s%dx%d", i ? ", " : "", c->image_size / c->attention_ds[i], c->image_size / c->attention_ds[i]);
        else printf("%s1/%d", i ? ", " : "", c->attention_ds[i]);
    }
    printf(" (downsample rates");
    for (int i = 0; i < c->n_attention_ds; i++) printf("%s%d", i ? "," : " ", c->attention_ds[i]);
    printf(c->n_attention_ds ? ") and the middle block\n" : ")\n");
    if (c->image_size) printf("  image_size            %d\n", c->image_size);
    printf("  cannot infer          %s\n", unknown);
}

/* The description's layers: name, kind, channels (in [+ skip] -> out), the
 * resolution of the input (1/ds when the image size is unknown). */
static void print_layers(const adm_config *c) {
    adm_network net;
    if (adm_network_describe(c, &net) != 0) { printf("\nlayers: %s\n", adm_last_error()); return; }
    printf("\nlayers (%d, the description the loader, arena plan and forward follow):\n", net.n);
    for (int i = 0; i < net.n; i++) {
        const adm_layer *l = &net.l[i];
        char ch[48], at[32];
        if (l->skip) snprintf(ch, sizeof ch, "%d+%d -> %d", l->cin - l->skip, l->skip, l->cout);
        else snprintf(ch, sizeof ch, "%d -> %d", l->cin, l->cout);
        if (c->image_size) snprintf(at, sizeof at, "%dx%d", c->image_size / l->ds, c->image_size / l->ds);
        else snprintf(at, sizeof at, "1/%d", l->ds);
        printf("  %-20s %-15s %-16s at %s%s\n", l->name, adm_layer_kind_name(l->kind), ch, at,
               l->kind == ADM_LAYER_RES && l->up ? ", up" : l->kind == ADM_LAYER_RES && l->down ? ", down" :
               (l->kind == ADM_LAYER_UP || l->kind == ADM_LAYER_DOWN) && !l->use_conv ? ", no conv" : "");
    }
    adm_network_free(&net);
}

int cmd_inspect(int argc, char **argv) {
    const char *file = NULL, *config = NULL, *tensor = NULL, *out = NULL, *kind = NULL;
    int brief = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--config", &config) || admctl_opt(argc, argv, &i, "--tensor", &tensor) ||
            admctl_opt(argc, argv, &i, "--out", &out) || admctl_opt(argc, argv, &i, "--kind", &kind) ||
            admctl_flag(argv, i, "--brief", &brief)) continue;
        if (argv[i][0] == '-' && argv[i][1]) { admctl_fail("inspect: unknown option %s", argv[i]); usage(stderr); return ADMCTL_USAGE; }
        if (file) { admctl_fail("inspect: one FILE only"); return ADMCTL_USAGE; }
        file = argv[i];
    }
    if (!file) { usage(stderr); return ADMCTL_USAGE; }
    if ((tensor != NULL) != (out != NULL)) { admctl_fail("inspect: --tensor and --out go together"); return ADMCTL_USAGE; }
    if (kind && strcmp(kind, "unet") && strcmp(kind, "classifier") && strcmp(kind, "superres")) {
        admctl_fail("inspect: --kind must be unet, superres or classifier"); return ADMCTL_USAGE;
    }

    adm_tensor_set s;
    if (adm_tensors_load(file, &s) != 0) return admctl_fail("%s", adm_last_error());
    int rc = ADMCTL_OK;

    if (tensor) {
        const adm_tensor *t = adm_tensors_find(&s, tensor);
        if (!t) { rc = admctl_fail("%s: no tensor named '%s'", file, tensor); goto done; }
        int wr;
        if (t->dtype == ADM_BF16) {
            float *f = adm_tensor_f32_copy(t);
            wr = f ? adm_npy_write(out, ADM_F32, t->ndim, t->shape, f) : -1;
            free(f);
        } else wr = adm_npy_write(out, t->dtype, t->ndim, t->shape, t->data);
        if (wr != 0) { rc = admctl_fail("%s", adm_last_error()); goto done; }
        char sh[128]; shape_text(t, sh, sizeof sh);
        printf("wrote %s: %s %s %s\n", out, tensor, t->dtype == ADM_BF16 ? "f32 (from bf16)" : adm_dtype_name(t->dtype), sh);
        goto done;
    }

    /* The listing. */
    int64_t params = 0, per_dtype[ADM_DTYPE_COUNT] = {0};
    size_t bytes = 0;
    if (!brief) printf("%-5s %-18s %s\n", "dtype", "shape", "name");
    for (int i = 0; i < s.n; i++) {
        const adm_tensor *t = &s.t[i];
        char sh[128]; shape_text(t, sh, sizeof sh);
        if (!brief) printf("%-5s %-18s %s\n", adm_dtype_name(t->dtype), sh, t->name ? t->name : "");
        params += adm_tensor_numel(t); bytes += t->nbytes;
        if ((unsigned)t->dtype < ADM_DTYPE_COUNT) per_dtype[t->dtype]++;
    }
    printf("%s%d tensors, %lld parameters, %zu bytes (%.1f MiB):", brief ? "" : "\n", s.n, (long long)params, bytes,
           bytes / 1048576.0);
    for (int d = 0; d < ADM_DTYPE_COUNT; d++)
        if (per_dtype[d]) printf(" %lld %s", (long long)per_dtype[d], adm_dtype_name((adm_dtype)d));
    printf("\n");

    adm_config inf;
    char unknown[256];
    int inferred = adm_config_infer(&s, &inf, unknown, sizeof unknown) == 0;
    if (inferred) {
        print_inferred(&inf, unknown);
        print_layers(&inf);
        char text[2048];
        if (adm_config_format(&inf, text, sizeof text) == 0) {
            printf("\nas key=value (the unknowns at their defaults):\n");
            for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) printf("  %s\n", line);
        }
    } else printf("\nmodel: not recognised as an ADM network (%s)\n", adm_last_error());

    if (config) {
        adm_config cfg;
        adm_kind k = kind ? (!strcmp(kind, "classifier") ? ADM_KIND_CLASSIFIER : !strcmp(kind, "superres") ? ADM_KIND_SUPERRES : ADM_KIND_UNET)
                          : inferred ? inf.kind : ADM_KIND_UNET;
        if (adm_config_parse(config, k, &cfg) != 0) { rc = admctl_fail("config %s: %s", config, adm_last_error()); goto done; }
        size_t len = 1 << 20;
        char *report = malloc(len);
        if (!report) { rc = admctl_fail("out of memory"); goto done; }
        int n = adm_config_check(&cfg, &s, report, len);
        if (n < 0) rc = admctl_fail("config %s: %s", config, adm_last_error());
        else if (n == 0) printf("\nconfig %s: matches the checkpoint (%d tensors)\n", config, s.n);
        else {
            printf("\nconfig %s: %d problem%s\n", config, n, n == 1 ? "" : "s");
            for (char *line = strtok(report, "\n"); line; line = strtok(NULL, "\n")) printf("  %s\n", line);
            rc = admctl_fail("%s does not match config %s (%d problem%s)", file, config, n, n == 1 ? "" : "s");
        }
        free(report);
    }
done:
    adm_tensors_free(&s);
    return rc;
}
