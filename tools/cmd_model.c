/* cmd_model.c — `admctl model add|list|show|labels|rm|presets`: the models
 * table.
 *
 * A model is a UNet checkpoint with its configuration (a key=value file,
 * a MODEL_FLAGS string, or the preset name of a released OpenAI
 * checkpoint), optionally a noisy classifier for guidance, and its class
 * names (model/labels.h; a 1000-class model gets ImageNet's by default).
 * `add` checks the configuration parses, makes paths absolute and records
 * the sha256 of every file (the daemon re-checks them at load). */
#include "admctl.h"
#include "admctl_classes.h"
#include "admctl_json.h"
#include "admctl_spool.h"
#include "admctl_table.h"
#include "config.h"
#include "tensor.h"
#include "util.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl model add NAME (--preset P | --config SPEC) [--unet FILE]\n"
        "                        [--classifier FILE] [--classifier-preset P | --classifier-config SPEC]\n"
        "                        [--dir DIR] [--sampler S] [--respacing R] [--steps N] [--scale S]\n"
        "                        [--labels FILE | --no-labels] [--replace] [--check] [--db PATH]\n"
        "       admctl model list [--json | --raw | --noheadings] [--db PATH]\n"
        "       admctl model show NAME [--json] [--db PATH]\n"
        "       admctl model labels NAME (FILE | --none) [--db PATH]\n"
        "       admctl model rm NAME [--db PATH]\n"
        "       admctl model presets [--flags] [--raw | --noheadings]\n"
        "\n"
        "add       register a checkpoint.  With a preset, --unet defaults to DIR/<the\n"
        "          released file name> (DIR: --dir, default .), likewise the classifier\n"
        "          with --classifier-preset.  SPEC: a key=value file or a MODEL_FLAGS\n"
        "          string (\"--image_size 64 ...\").  Every file is hashed (sha256).\n"
        "          --check also loads the checkpoints and validates them against the config.\n"
        "          The defaults for jobs that leave them out: --sampler (ddpm, ddim, dpm++2m,\n"
        "          dpm++3m or dpm3s; default ddpm), --respacing (ddpm/ddim; default 50),\n"
        "          --steps (dpm* network passes, 1..1000; default 20), --scale (default 1\n"
        "          with a classifier, else 0).\n"
        "          --labels FILE: the class names, one per line, line k = class k ('#'\n"
        "          lines are comments); a model with 1000 classes gets the ImageNet names\n"
        "          unless --labels or --no-labels says otherwise.  Jobs may then ask for\n"
        "          --class \"Pembroke Welsh Corgi\".\n"
        "list      the registered models, a block each; --raw / --noheadings: a row\n"
        "          each (NAME SAMPLER STEPS SCALE SIZE CHANNELS CLASSES UNET UNET-CONFIG\n"
        "          UNET-SHA256 CLASSIFIER CLASSIFIER-CONFIG CLASSIFIER-SHA256 NAMES; \"-\"\n"
        "          for none; NAMES: how many class names it has)\n"
        ADMCTL_TABLE_HELP
        "show      one model, with all its class names\n"
        "labels    set (FILE) or remove (--none) a registered model's class names\n"
        "rm        remove a model (refused while queued or running jobs use it)\n"
        "presets   the released OpenAI checkpoints admd knows, and their files\n"
        "          (--flags: and the README's MODEL_FLAGS)\n"
        ADMCTL_DB_HELP);
}

static const adm_preset *find_preset(const char *name) {
    for (const adm_preset *p = adm_presets; p->name; p++)
        if (!strcmp(p->name, name)) return p;
    return NULL;
}

static int list_presets(int flags, const admctl_table_opts *topt) {
    admctl_table *t = admctl_table_new(stdout, topt);
    if (!t) return ADMCTL_FAIL;
    admctl_table_column(t, "PRESET", 0);
    admctl_table_column(t, "KIND", 0);
    admctl_table_column(t, "FILE", 0);
    if (flags) admctl_table_column(t, "FLAGS", 0);
    for (const adm_preset *p = adm_presets; p->name; p++) {
        admctl_table_row(t);
        admctl_table_cell(t, 0, "%s", p->name);
        admctl_table_cell(t, 1, "%s", p->kind == ADM_KIND_CLASSIFIER ? "classifier"
                                      : p->kind == ADM_KIND_SUPERRES ? "superres" : "unet");
        admctl_table_cell(t, 2, "%s", p->file ? p->file : "-");
        if (flags) admctl_table_cell(t, 3, "%s", p->flags ? p->flags : "-");
    }
    return admctl_table_print(t, 1);
}

/* A config spec as stored: a file becomes an absolute path; flags and
 * preset names stay as they are.  Checks that it parses. */
static int resolve_config(const char *spec, adm_kind kind, char *out, size_t len, adm_config *cfg) {
    char abs[PATH_MAX];
    if (spec[0] != '-' && !find_preset(spec) && access(spec, F_OK) == 0) {
        if (!realpath(spec, abs)) return adm_error("%s: %s", spec, strerror(errno));
        spec = abs;
    }
    if (strlen(spec) >= len) return adm_error("config '%.40s...' is too long", spec);
    if (adm_config_parse(spec, kind, cfg) != 0) return adm_error_prefix("config '%s'", spec);
    snprintf(out, len, "%s", spec);
    return 0;
}

static int resolve_file(const char *path, char *out, size_t len) {
    char abs[PATH_MAX];
    if (!realpath(path, abs)) return adm_error("%s: %s", path, strerror(errno));
    if (strlen(abs) >= len) return adm_error("%s: path too long", path);
    snprintf(out, len, "%s", abs);
    return 0;
}

/* --check: load the checkpoint (a progress bar on stderr; its sha256 into
 * sha256 on the way) and validate it against its config. */
static int check_weights(const char *path, const adm_config *cfg, char sha256[65]) {
    adm_tensor_set set;
    if (admctl_tensors_load(path, &set, sha256) != 0) return -1;
    int rc = adm_config_validate(cfg, &set);
    adm_tensors_free(&set);
    if (rc == 0) return 0;
    /* the list of problems can be long: the first few tell the story */
    char msg[640];
    snprintf(msg, sizeof msg, "%s", adm_last_error());
    if (strlen(adm_last_error()) >= sizeof msg - 1) strcpy(msg + sizeof msg - 48, " ... (admctl inspect shows the checkpoint)");
    return adm_error("%s: %s", path, msg);
}

/* A label file, checked against the model's number of classes (< 0: not known). */
static int read_labels(const char *path, int num_classes, char **labels) {
    int n = 0;
    if (num_classes == 0) return adm_error("%s: the model is unconditional: it has no classes to name", path);
    if (adm_labels_read_file(path, labels, &n) != 0) return -1;
    if (num_classes > 0 && n != num_classes) {
        free(*labels);
        *labels = NULL;
        return adm_error("%s has %d class name%s, the model has %d classes", path, n, n == 1 ? "" : "s", num_classes);
    }
    return 0;
}

static int model_add(int argc, char **argv) {
    const char *db = NULL, *name = NULL, *preset = NULL, *config = NULL, *unet = NULL, *classifier = NULL;
    const char *cpreset = NULL, *cconfig = NULL, *dir = ".", *sampler = NULL, *respacing = NULL, *scale = NULL;
    const char *steps = NULL, *labels_file = NULL;
    int replace = 0, check = 0, no_labels = 0;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_opt(argc, argv, &i, "--preset", &preset) ||
            admctl_opt(argc, argv, &i, "--config", &config) || admctl_opt(argc, argv, &i, "--unet", &unet) ||
            admctl_opt(argc, argv, &i, "--classifier", &classifier) ||
            admctl_opt(argc, argv, &i, "--classifier-preset", &cpreset) ||
            admctl_opt(argc, argv, &i, "--classifier-config", &cconfig) || admctl_opt(argc, argv, &i, "--dir", &dir) ||
            admctl_opt(argc, argv, &i, "--sampler", &sampler) || admctl_opt(argc, argv, &i, "--respacing", &respacing) ||
            admctl_opt(argc, argv, &i, "--steps", &steps) ||
            admctl_opt(argc, argv, &i, "--scale", &scale) || admctl_flag(argv, i, "--replace", &replace) ||
            admctl_flag(argv, i, "--check", &check) || admctl_opt(argc, argv, &i, "--labels", &labels_file) ||
            admctl_flag(argv, i, "--no-labels", &no_labels))
            continue;
        if (argv[i][0] != '-' && !name) { name = argv[i]; continue; }
        usage(stderr);
        admctl_fail("model add: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!name) { usage(stderr); admctl_fail("model add: give the model a NAME"); return ADMCTL_USAGE; }
    if (!!preset == !!config) {
        usage(stderr);
        admctl_fail("model add: give exactly one of --preset or --config");
        return ADMCTL_USAGE;
    }
    if (cpreset && cconfig) { admctl_fail("model add: --classifier-preset and --classifier-config exclude each other"); return ADMCTL_USAGE; }
    if (labels_file && no_labels) { admctl_fail("model add: --labels and --no-labels exclude each other"); return ADMCTL_USAGE; }

    adm_spool_model m;
    adm_spool_model_init(&m);
    if (strlen(name) >= sizeof m.name) return admctl_fail("model name '%s' is longer than %d characters", name, (int)sizeof m.name - 1);
    snprintf(m.name, sizeof m.name, "%s", name);

    char path[PATH_MAX + 256];
    adm_config ucfg, ccfg;
    if (preset) {
        const adm_preset *p = find_preset(preset);
        if (!p) return admctl_fail("unknown preset '%s' (see admctl model presets)", preset);
        if (p->kind == ADM_KIND_CLASSIFIER) return admctl_fail("preset '%s' is a classifier: use --classifier-preset", preset);
        if (!unet) { snprintf(path, sizeof path, "%s/%s", dir, p->file); unet = path; }
        config = preset;
    }
    if (!unet) return admctl_fail("model add: --unet FILE is needed with --config");
    if (resolve_file(unet, m.unet_path, sizeof m.unet_path) != 0 ||
        resolve_config(config, ADM_KIND_UNET, m.unet_config, sizeof m.unet_config, &ucfg) != 0)
        return admctl_fail("%s", adm_last_error());
    if (ucfg.kind == ADM_KIND_CLASSIFIER) return admctl_fail("config '%s' describes a classifier, not a UNet", config);

    char cpath[PATH_MAX + 256];
    if (cpreset) {
        const adm_preset *p = find_preset(cpreset);
        if (!p) return admctl_fail("unknown preset '%s' (see admctl model presets)", cpreset);
        if (p->kind != ADM_KIND_CLASSIFIER) return admctl_fail("preset '%s' is not a classifier", cpreset);
        if (!classifier) { snprintf(cpath, sizeof cpath, "%s/%s", dir, p->file); classifier = cpath; }
        cconfig = cpreset;
    }
    if (classifier && !cconfig) return admctl_fail("model add: --classifier needs --classifier-preset or --classifier-config");
    if (cconfig && !classifier) return admctl_fail("model add: a classifier config without --classifier FILE");
    if (classifier) {
        if (resolve_file(classifier, m.classifier_path, sizeof m.classifier_path) != 0 ||
            resolve_config(cconfig, ADM_KIND_CLASSIFIER, m.classifier_config, sizeof m.classifier_config, &ccfg) != 0)
            return admctl_fail("%s", adm_last_error());
        if (ccfg.kind != ADM_KIND_CLASSIFIER) return admctl_fail("config '%s' does not describe a classifier", cconfig);
        m.default_scale = 1.0;
    }
    if (sampler) snprintf(m.default_sampler, sizeof m.default_sampler, "%s", sampler);
    if (respacing) snprintf(m.default_respacing, sizeof m.default_respacing, "%s", respacing);
    if (steps) {
        char *end;
        errno = 0;
        long v = strtol(steps, &end, 10);
        if (*end || end == steps || errno || v < 1 || v > 1000)
            return admctl_fail("--steps '%s' is not a whole number from 1 to 1000 (network passes of the dpm samplers)",
                               steps);
        m.default_steps = (int)v;
    }
    if (scale) {
        char *end;
        m.default_scale = strtod(scale, &end);
        if (*end || end == scale || !isfinite(m.default_scale) || m.default_scale < 0)
            return admctl_fail("--scale '%s' is not a number >= 0", scale);
    }
    /* the class names: given, ImageNet's for 1000 classes, or none (--replace keeps the old ones) */
    char *labels = NULL;
    int set_labels = labels_file || no_labels;
    if (labels_file && read_labels(labels_file, ucfg.num_classes, &labels) != 0) return admctl_fail("%s", adm_last_error());
    if (!set_labels && adm_labels_default(ucfg.num_classes)) {
        if (!(labels = adm_labels_builtin(adm_labels_default(ucfg.num_classes)))) return admctl_fail("%s", adm_last_error());
        set_labels = 1;
    }
    /* --check hashes what it reads; else the files are only hashed (with a bar: big files take seconds) */
    int bad;
    if (check)
        bad = check_weights(m.unet_path, &ucfg, m.unet_sha256) != 0 ||
              (classifier && check_weights(m.classifier_path, &ccfg, m.classifier_sha256) != 0);
    else
        bad = admctl_sha256_file(m.unet_path, m.unet_sha256) != 0 ||
              (classifier && admctl_sha256_file(m.classifier_path, m.classifier_sha256) != 0);
    if (bad) {
        free(labels);
        return admctl_fail("%s", adm_last_error());
    }

    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) { free(labels); return ADMCTL_FAIL; }
    int rc = ADMCTL_OK;
    if (adm_spool_model_add(s, &m, replace) != 0 ||
        adm_spool_model_set_info(s, m.name, m.unet_sha256, classifier ? m.classifier_sha256 : NULL, ucfg.image_size,
                                 ucfg.in_channels, ucfg.num_classes) != 0 ||
        (set_labels && adm_spool_model_set_labels(s, m.name, labels) != 0))
        rc = admctl_fail("%s", adm_last_error());
    adm_spool_close(s);
    if (rc == ADMCTL_OK) {
        printf("model %s: %s (sha256 %.16s...)\n", m.name, m.unet_path, m.unet_sha256);
        if (classifier) printf("  classifier %s (sha256 %.16s...)\n", m.classifier_path, m.classifier_sha256);
        if (labels) {
            adm_labels l;
            if (adm_labels_parse(labels, &l) == 0) {
                printf("  class names %d (%s%s)\n", l.n, labels_file ? labels_file : "ImageNet's",
                       labels_file ? "" : ", from the npm package @tensorflow-models/mobilenet");
                adm_labels_free(&l);
            }
        }
    }
    free(labels);
    return rc;
}

/* A model's block of `model list`. */
static void print_model(const adm_spool_model *m) {
    printf("%s\n  unet        %s\n  config      %s\n  sha256      %s\n", m->name, m->unet_path, m->unet_config,
           m->unet_sha256[0] ? m->unet_sha256 : "(not hashed yet)");
    if (m->classifier_path[0])
        printf("  classifier  %s\n  config      %s\n  sha256      %s\n", m->classifier_path, m->classifier_config,
               m->classifier_sha256[0] ? m->classifier_sha256 : "(not hashed yet)");
    else
        printf("  classifier  none (no guidance)\n");
    if (!strncmp(m->default_sampler, "dpm", 3))
        printf("  defaults    sampler %s, %d steps, scale %g", m->default_sampler, m->default_steps,
               m->default_scale);
    else
        printf("  defaults    sampler %s, respacing %s, scale %g", m->default_sampler, m->default_respacing,
               m->default_scale);
    if (m->image_size > 0) printf("; %dx%d, %d channel(s), %d classes", m->image_size, m->image_size, m->channels, m->num_classes);
    printf("\n");
}

/* "  names       1000: tench, goldfish, great white shark, ..." */
static void print_names_line(adm_spool *s, const char *name) {
    adm_labels l;
    if (admctl_load_labels(s, name, &l) != 0) { printf("  names       (%s)\n", adm_last_error()); return; }
    if (l.n == 0) { printf("  names       none (classes are numbers; admctl model labels %s FILE adds names)\n", name); return; }
    char line[160];
    size_t len = (size_t)snprintf(line, sizeof line, "%d:", l.n);
    int k = 0;
    for (; k < l.n && len < 60; k++) {
        char sh[64];
        adm_labels_short(&l, k, sh, sizeof sh);
        len += (size_t)snprintf(line + len, sizeof line - len, "%s %s", k ? "," : "", sh);
    }
    printf("  names       %s%s\n", line, k < l.n ? ", ..." : "");
    adm_labels_free(&l);
}

/* A model's JSON object with its class names ("class_names": [...] or null). */
static json_object *json_model(adm_spool *s, const adm_spool_model *m) {
    json_object *o = admctl_json_model(m);
    adm_labels l;
    if (o && admctl_load_labels(s, m->name, &l) == 0) {
        json_object_object_add(o, "class_names", admctl_json_class_names(&l));
        adm_labels_free(&l);
    }
    return o;
}

/* model list --raw / --noheadings: a row per model. */
static int model_table(adm_spool *s, const adm_spool_model *ms, int n, const admctl_table_opts *topt) {
    static const char *cols[] = {"NAME", "SAMPLER", "STEPS", "SCALE", "SIZE", "CHANNELS", "CLASSES", "UNET", "UNET-CONFIG",
                                 "UNET-SHA256", "CLASSIFIER", "CLASSIFIER-CONFIG", "CLASSIFIER-SHA256", "NAMES"};
    admctl_table *t = admctl_table_new(stdout, topt);
    if (!t) return ADMCTL_FAIL;
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        admctl_table_column(t, cols[k], (k >= 2 && k <= 6) || k == 13 ? ADMCTL_COL_RIGHT : 0);
    for (int k = 0; k < n; k++) {
        const adm_spool_model *m = &ms[k];
        admctl_table_row(t);
        admctl_table_cell(t, 0, "%s", m->name);
        admctl_table_cell(t, 1, "%s", m->default_sampler);
        /* ddpm/ddim: the respacing; the DPM-Solver samplers: their passes */
        if (!strncmp(m->default_sampler, "dpm", 3)) admctl_table_cell(t, 2, "%d", m->default_steps);
        else admctl_table_cell(t, 2, "%s", m->default_respacing);
        admctl_table_cell(t, 3, "%g", m->default_scale);
        if (m->image_size > 0) {
            admctl_table_cell(t, 4, "%d", m->image_size);
            admctl_table_cell(t, 5, "%d", m->channels);
            admctl_table_cell(t, 6, "%d", m->num_classes);
        }
        admctl_table_cell(t, 7, "%s", m->unet_path);
        admctl_table_cell(t, 8, "%s", m->unet_config);
        admctl_table_cell(t, 9, "%s", m->unet_sha256);
        admctl_table_cell(t, 10, "%s", m->classifier_path);
        admctl_table_cell(t, 11, "%s", m->classifier_config);
        admctl_table_cell(t, 12, "%s", m->classifier_sha256);
        adm_labels l;
        if (admctl_load_labels(s, m->name, &l) != 0) {
            admctl_table_free(t);
            return admctl_fail("%s", adm_last_error());
        }
        if (l.n > 0) admctl_table_cell(t, 13, "%d", l.n);
        adm_labels_free(&l);
    }
    return admctl_table_print(t, 0);
}

static int model_list(int argc, char **argv) {
    const char *db = NULL;
    int json = 0;
    admctl_table_opts topt = {0};
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--json", &json) ||
            admctl_table_flag(argv, i, &topt))
            continue;
        usage(stderr);
        admctl_fail("model list: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (json && admctl_table_plain(&topt)) { admctl_fail("model list: --json or a table option, not both"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    adm_spool_model *ms = NULL;
    int n = 0;
    if (adm_spool_model_list(s, &ms, &n) != 0) {
        adm_spool_close(s);
        return admctl_fail("%s", adm_last_error());
    }
    if (json) {
        json_object *arr = json_object_new_array();
        for (int k = 0; k < n; k++) json_object_array_add(arr, json_model(s, &ms[k]));
        free(ms);
        adm_spool_close(s);
        return admctl_json_print(arr);
    }
    if (admctl_table_plain(&topt)) {
        int rc = model_table(s, ms, n, &topt);
        free(ms);
        adm_spool_close(s);
        return rc;
    }
    if (n == 0) printf("no models (add one with: admctl model add NAME --preset P)\n");
    for (int k = 0; k < n; k++) {
        print_model(&ms[k]);
        if (ms[k].num_classes != 0) print_names_line(s, ms[k].name);
    }
    free(ms);
    adm_spool_close(s);
    return ADMCTL_OK;
}

/* One model's block as `list` prints it, then every class name. */
static int model_show(int argc, char **argv) {
    const char *db = NULL, *name = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--json", &json)) continue;
        if (argv[i][0] != '-' && !name) { name = argv[i]; continue; }
        usage(stderr);
        admctl_fail("model show: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!name) { usage(stderr); admctl_fail("model show: which model?"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    adm_spool_model m;
    adm_labels l;
    if (adm_spool_model_get(s, name, &m) != 0 || admctl_load_labels(s, name, &l) != 0) {
        adm_spool_close(s);
        return admctl_fail("%s", adm_last_error());
    }
    int rc = ADMCTL_OK;
    if (json) {
        json_object *o = admctl_json_model(&m);
        if (o) json_object_object_add(o, "class_names", admctl_json_class_names(&l));
        rc = admctl_json_print(o);
    } else {
        print_model(&m);
        print_names_line(s, name);
        for (int k = 0; k < l.n; k++) printf("  %5d  %s\n", k, l.name[k]);
    }
    adm_labels_free(&l);
    adm_spool_close(s);
    return rc;
}

/* `model labels NAME FILE|--none` */
static int model_labels(int argc, char **argv) {
    const char *db = NULL, *name = NULL, *file = NULL;
    int none = 0;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--none", &none)) continue;
        if (argv[i][0] != '-' && !name) { name = argv[i]; continue; }
        if (argv[i][0] != '-' && !file) { file = argv[i]; continue; }
        usage(stderr);
        admctl_fail("model labels: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!name || !file == !none) { usage(stderr); admctl_fail("model labels: give NAME and a FILE of class names, or --none"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    adm_spool_model m;
    char *labels = NULL;
    int rc = ADMCTL_OK;
    if (adm_spool_model_get(s, name, &m) != 0 || (file && read_labels(file, m.num_classes, &labels) != 0) ||
        adm_spool_model_set_labels(s, name, labels) != 0)
        rc = admctl_fail("%s", adm_last_error());
    else if (labels)
        printf("model %s: class names from %s\n", name, file);
    else
        printf("model %s: no class names (classes are numbers)\n", name);
    free(labels);
    adm_spool_close(s);
    return rc;
}

static int model_rm(int argc, char **argv) {
    const char *db = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db)) continue;
        if (argv[i][0] != '-' && !name) { name = argv[i]; continue; }
        usage(stderr);
        admctl_fail("model rm: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!name) { usage(stderr); admctl_fail("model rm: which model?"); return ADMCTL_USAGE; }
    adm_spool *s = admctl_spool_open(db, 0);
    if (!s) return ADMCTL_FAIL;
    int rc = adm_spool_model_remove(s, name) == 0 ? ADMCTL_OK : admctl_fail("%s", adm_last_error());
    adm_spool_close(s);
    if (rc == ADMCTL_OK) printf("removed model %s\n", name);
    return rc;
}

int cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ADMCTL_USAGE : ADMCTL_OK;
    }
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    if (!strcmp(argv[1], "add")) return model_add(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return model_list(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return model_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "labels")) return model_labels(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rm") || !strcmp(argv[1], "remove")) return model_rm(argc - 1, argv + 1);
    if (!strcmp(argv[1], "presets")) {
        int flags = 0;
        admctl_table_opts topt = {0};
        for (int i = 2; i < argc; i++)
            if (!admctl_flag(argv, i, "--flags", &flags) && !admctl_table_flag(argv, i, &topt)) {
                admctl_fail("model presets: unexpected argument '%s'", argv[i]);
                return ADMCTL_USAGE;
            }
        return list_presets(flags, &topt);
    }
    usage(stderr);
    admctl_fail("model: unknown action '%s' (add, list, show, labels, rm, presets)", argv[1]);
    return ADMCTL_USAGE;
}
