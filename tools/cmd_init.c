/* cmd_init.c — `admctl init`: create a spool (the SQLite database with
 * every migration applied) and register the embedded default model
 * "mnist" in it, with the sha256 of its files and its class names (the
 * digits zero..nine, models/mnist/mnist_classes.txt). */
#include "admctl.h"
#include "admctl_spool.h"
#include "config.h"
#include "labels.h"
#include "util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: admctl init [--db PATH] [--no-model | --force-model]\n"
        "\n"
        "Create the spool database at PATH (its folder is created too), or bring an\n"
        "existing one up to date, and register the embedded default model 'mnist'\n"
        "(a class-conditional MNIST ADM with its noisy classifier).\n"
        ADMCTL_DB_HELP
        "  --no-model    do not register the default model\n"
        "  --force-model register it again even if the spool has a model 'mnist'\n"
        "environment: ADMD_MODELS=DIR  where mnist/ lives (default: next to admctl)\n");
}

/* mkdir -p of the folder holding path. */
static int make_parent(const char *path) {
    char dir[ADM_SPOOL_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    return adm_mkdir_p(dir, 0775);
}

/* The digits' names for model mnist (kept when it has names already, unless force). */
static int default_names(adm_spool *s, int force) {
    char *have = NULL;
    if (adm_spool_model_labels(s, "mnist", &have) != 0) return -1;
    int keep = have && !force;
    free(have);
    if (keep) return 0;
    char *names = adm_labels_builtin("mnist");
    if (!names) return -1;
    int rc = adm_spool_model_set_labels(s, "mnist", names);
    free(names);
    if (rc == 0 && !force) printf("model mnist: class names zero..nine added\n");
    return rc;
}

/* Register the embedded model, hashing its files.  An existing "mnist"
 * (perhaps with defaults someone tuned) is kept unless force is set; it
 * gets the digits' names if it has none (a spool made before them). */
static int register_default(adm_spool *s, int force) {
    char dir[ADM_SPOOL_PATH];
    adm_spool_model m;
    if (!force && adm_spool_model_get(s, "mnist", &m) == 0) {
        printf("model mnist: already registered, kept (--force-model registers it afresh)\n");
        return m.num_classes == 10 || m.num_classes < 0 ? default_names(s, 0) : 0;
    }
    if (!admctl_default_model_dir(dir, sizeof dir) || admctl_default_model(dir, &m) != 0) return -1;
    /* the sizes let the schema check a job's class at INSERT time */
    adm_config cfg;
    if (adm_config_parse(m.unet_config, ADM_KIND_UNET, &cfg) != 0) return adm_error_prefix("%s", m.unet_config);
    if (adm_sha256_file(m.unet_path, m.unet_sha256) != 0) return -1;
    if (adm_sha256_file(m.classifier_path, m.classifier_sha256) != 0) return -1;
    if (adm_spool_model_add(s, &m, 1) != 0) return -1;
    if (adm_spool_model_set_info(s, m.name, m.unet_sha256, m.classifier_sha256, cfg.image_size, cfg.in_channels,
                                 cfg.num_classes) != 0 ||
        default_names(s, 1) != 0)
        return -1;
    printf("model mnist: %s (sha256 %.16s...)\n             classifier %s (sha256 %.16s...)\n", m.unet_path,
           m.unet_sha256, m.classifier_path, m.classifier_sha256);
    return 0;
}

int cmd_init(int argc, char **argv) {
    const char *db = NULL;
    int no_model = 0, force = 0;
    if (admctl_wants_help(argc, argv)) { usage(stdout); return ADMCTL_OK; }
    for (int i = 1; i < argc; i++) {
        if (admctl_opt(argc, argv, &i, "--db", &db) || admctl_flag(argv, i, "--no-model", &no_model) ||
            admctl_flag(argv, i, "--force-model", &force))
            continue;
        usage(stderr);
        admctl_fail("init: unexpected argument '%s'", argv[i]);
        return ADMCTL_USAGE;
    }
    if (!db || !*db) db = getenv(ADMCTL_DB_ENV);
    if (!db || !*db) db = ADMCTL_DB_SYSTEM;
    int existed = access(db, F_OK) == 0;
    if (!existed && make_parent(db) != 0) return admctl_fail("%s", adm_last_error());
    adm_spool *s = admctl_spool_open(db, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE);
    if (!s) return ADMCTL_FAIL;
    printf("%s %s (schema version %d)\n", existed ? "spool up to date:" : "created spool", adm_spool_path(s),
           adm_spool_schema_version(s));
    int rc = ADMCTL_OK;
    if (!no_model && register_default(s, force) != 0) rc = admctl_fail("registering the default model: %s", adm_last_error());
    adm_spool_close(s);
    if (rc == ADMCTL_OK)
        printf("next: admctl submit --db %s --model mnist --class 7   then: admd --db %s --drain\n", db, db);
    return rc;
}
