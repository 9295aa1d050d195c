/* spool_models.c — the models table: register, look up, list, remove, the
 * facts the daemon learns when it loads a model (hashes, sizes), and the
 * model's class names (models.labels, schema 006). */
#include "spool_internal.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>

void adm_spool_model_init(adm_spool_model *m) {
    memset(m, 0, sizeof *m);
    m->image_size = m->channels = m->num_classes = -1;
    strcpy(m->default_sampler, "ddpm");
    strcpy(m->default_respacing, "50");
    m->default_scale = 0;
    m->default_steps = 20;
}

void spool_row_model(sqlite3_stmt *st, adm_spool_model *m) {
    adm_spool_model_init(m);
    spool_col_text(st, 0, m->name, sizeof m->name);
    spool_col_text(st, 1, m->unet_path, sizeof m->unet_path);
    spool_col_text(st, 2, m->unet_config, sizeof m->unet_config);
    spool_col_text(st, 3, m->classifier_path, sizeof m->classifier_path);
    spool_col_text(st, 4, m->classifier_config, sizeof m->classifier_config);
    spool_col_text(st, 5, m->unet_sha256, sizeof m->unet_sha256);
    spool_col_text(st, 6, m->classifier_sha256, sizeof m->classifier_sha256);
    m->image_size = spool_col_int(st, 7, -1);
    m->channels = spool_col_int(st, 8, -1);
    m->num_classes = spool_col_int(st, 9, -1);
    spool_col_text(st, 10, m->default_sampler, sizeof m->default_sampler);
    spool_col_text(st, 11, m->default_respacing, sizeof m->default_respacing);
    m->default_scale = spool_col_double(st, 12, 0);
    spool_col_text(st, 13, m->created_at, sizeof m->created_at);
    m->default_steps = spool_col_int(st, 14, 20);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int v) {
    if (v < 0) sqlite3_bind_null(st, i);
    else sqlite3_bind_int(st, i, v);
}

int adm_spool_model_add(adm_spool *s, const adm_spool_model *m, int replace) {
    const char *sql_insert =
        "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, "
        "unet_sha256, classifier_sha256, image_size, channels, num_classes, default_sampler, "
        "default_respacing, default_scale, default_steps) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";
    const char *sql_upsert =
        "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, "
        "unet_sha256, classifier_sha256, image_size, channels, num_classes, default_sampler, "
        "default_respacing, default_scale, default_steps) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
        "ON CONFLICT (name) DO UPDATE SET unet_path = excluded.unet_path, "
        "unet_config = excluded.unet_config, classifier_path = excluded.classifier_path, "
        "classifier_config = excluded.classifier_config, unet_sha256 = excluded.unet_sha256, "
        "classifier_sha256 = excluded.classifier_sha256, image_size = excluded.image_size, "
        "channels = excluded.channels, num_classes = excluded.num_classes, "
        "default_sampler = excluded.default_sampler, default_respacing = excluded.default_respacing, "
        "default_scale = excluded.default_scale, default_steps = excluded.default_steps";
    sqlite3_stmt *st;
    if (spool_prepare(s, replace ? sql_upsert : sql_insert, &st) != 0) return -1;
    spool_bind_text(st, 1, m->name);
    spool_bind_text(st, 2, m->unet_path);
    spool_bind_text(st, 3, m->unet_config);
    spool_bind_text(st, 4, m->classifier_path);
    spool_bind_text(st, 5, m->classifier_config);
    spool_bind_text(st, 6, m->unet_sha256);
    spool_bind_text(st, 7, m->classifier_sha256);
    bind_int_or_null(st, 8, m->image_size);
    bind_int_or_null(st, 9, m->channels);
    bind_int_or_null(st, 10, m->num_classes);
    spool_bind_text(st, 11, m->default_sampler[0] ? m->default_sampler : "ddpm");
    spool_bind_text(st, 12, m->default_respacing[0] ? m->default_respacing : "50");
    sqlite3_bind_double(st, 13, m->default_scale);
    sqlite3_bind_int(st, 14, m->default_steps > 0 ? m->default_steps : 20);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return adm_error("model '%s' already exists in %s", m->name, s->path);
    if (rc != SQLITE_DONE) return adm_error("model '%s': %s", m->name, sqlite3_errmsg(s->db));
    return 0;
}

int adm_spool_model_get(adm_spool *s, const char *name, adm_spool_model *m) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT " SPOOL_MODEL_COLUMNS " FROM models WHERE name = ?1", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) spool_row_model(st, m);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return adm_error("unknown model '%s' in %s", name, s->path);
    return spool_fail(s, "read model");
}

static void row_model(sqlite3_stmt *st, void *item) { spool_row_model(st, item); }

int adm_spool_model_list(adm_spool *s, adm_spool_model **models, int *n) {
    *models = NULL; *n = 0;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT " SPOOL_MODEL_COLUMNS " FROM models ORDER BY name", &st) != 0) return -1;
    void *items;
    int rc = spool_collect(s, st, sizeof **models, row_model, &items, n, "list models");
    *models = items;
    return rc;
}

int adm_spool_model_remove(adm_spool *s, const char *name) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "DELETE FROM models WHERE name = ?1", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("model '%s': %s", name, sqlite3_errmsg(s->db));
    if (sqlite3_changes(s->db) == 0) return adm_error("unknown model '%s' in %s", name, s->path);
    return 0;
}

int adm_spool_model_set_info(adm_spool *s, const char *name, const char *unet_sha256,
                             const char *classifier_sha256, int image_size, int channels,
                             int num_classes) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE models SET unet_sha256 = coalesce(?2, unet_sha256), "
                         "classifier_sha256 = coalesce(?3, classifier_sha256), "
                         "image_size = coalesce(?4, image_size), channels = coalesce(?5, channels), "
                         "num_classes = coalesce(?6, num_classes) WHERE name = ?1", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    spool_bind_text(st, 2, unet_sha256);
    spool_bind_text(st, 3, classifier_sha256);
    bind_int_or_null(st, 4, image_size);
    bind_int_or_null(st, 5, channels);
    bind_int_or_null(st, 6, num_classes);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("model '%s': %s", name, sqlite3_errmsg(s->db));
    return 0;
}

int adm_spool_model_labels(adm_spool *s, const char *name, char **labels) {
    *labels = NULL;
    sqlite3_stmt *st;
    if (spool_prepare(s, "SELECT labels FROM models WHERE name = ?1", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t && *t && !(*labels = strdup(t))) ret = adm_error("out of memory for the class names of model '%s'", name);
    } else if (rc == SQLITE_DONE) {
        ret = adm_error("unknown model '%s' in %s", name, s->path);
    } else if (rc != SQLITE_ROW) {
        ret = spool_fail(s, "read class names");
    }
    sqlite3_finalize(st);
    return ret;
}

int adm_spool_model_set_labels(adm_spool *s, const char *name, const char *labels) {
    sqlite3_stmt *st;
    if (spool_prepare(s, "UPDATE models SET labels = ?2 WHERE name = ?1", &st) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    spool_bind_text(st, 2, labels);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return adm_error("model '%s': class names: %s", name, sqlite3_errmsg(s->db));
    if (sqlite3_changes(s->db) == 0) return adm_error("unknown model '%s' in %s", name, s->path);
    return 0;
}
