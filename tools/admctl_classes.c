/* admctl_classes.c — --class by number or by name, and class names in
 * admctl's output (admctl_classes.h). */
#include "admctl_classes.h"
#include "admctl_spool.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int admctl_classes_numeric(const char *spec) {
    if (!strcmp(spec, "random")) return 1;
    int digits = 0;
    for (const char *p = spec; *p; p++) {
        if (*p >= '0' && *p <= '9') digits++;
        else if (*p != '-' && *p != ',' && *p != ' ' && *p != '\t') return 0;
    }
    return digits > 0;
}

/* One piece of a comma-separated list: a number or a name. */
static int resolve_piece(const char *piece, const adm_labels *l, const char *model, int *klass) {
    if (admctl_classes_numeric(piece)) {
        int c[2];
        int n = admctl_parse_classes(piece, c, 2);
        if (n != 1) return n < 0 ? -1 : adm_error("class list: '%s' is not one class", piece);
        *klass = c[0];
        return 0;
    }
    return adm_labels_find(l, piece, model, klass) == 0 ? 0 : -1;
}

int admctl_resolve_classes(const char *spec, const adm_labels *l, const char *model, int *classes, int max) {
    if (admctl_classes_numeric(spec)) return admctl_parse_classes(spec, classes, max);
    int rc = adm_labels_find(l, spec, model, &classes[0]);
    if (rc == 0) return 1;
    if (rc == -1 || !strchr(spec, ',')) return -1;
    /* no class is called all of it: a list "tabby, tiger cat, 281" */
    char err[1024];
    snprintf(err, sizeof err, "%s", adm_last_error());
    char *copy = strdup(spec);
    if (!copy) return adm_error("out of memory");
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t') tok++;
        if (!*tok) continue;
        if (n >= max) { free(copy); return adm_error("class list '%.80s': more than %d classes", spec, max); }
        if (resolve_piece(tok, l, model, &classes[n]) != 0) {
            /* the list reading failed too: say what the list's piece met */
            adm_error_prefix("class list '%.80s' (no class is called all of it)", spec);
            free(copy);
            return -1;
        }
        n++;
    }
    free(copy);
    if (n == 0) return adm_error("%s", err);
    return n;
}

int admctl_resolve_class(const char *spec, const adm_labels *l, const char *model, int *klass) {
    int c[2];
    if (admctl_classes_numeric(spec)) {
        int n = admctl_parse_classes(spec, c, 2);
        if (n < 0) return -1;
        if (n != 1) return adm_error("'%s': give one class here, not a list", spec);
        *klass = c[0];
        return 0;
    }
    return adm_labels_find(l, spec, model, klass) == 0 ? 0 : -1;
}

int admctl_load_labels(adm_spool *s, const char *model, adm_labels *l) {
    memset(l, 0, sizeof *l);
    char *text = NULL;
    if (adm_spool_model_labels(s, model, &text) != 0) return -1;
    int rc = adm_labels_parse(text, l);
    free(text);
    return rc;
}

void admctl_class_text(const adm_labels *l, int klass, char *out, size_t n) {
    const char *name = adm_labels_name(l, klass);
    if (klass < 0) snprintf(out, n, "random");
    else if (name) snprintf(out, n, "%d (%s)", klass, name);
    else snprintf(out, n, "%d", klass);
}
