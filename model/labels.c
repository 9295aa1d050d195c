/* labels.c — a model's class names: label files, the spool's text, the
 * built-in ImageNet and MNIST lists, finding a class by name (labels.h). */
#include "labels.h"
#include "util.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* models/imagenet/imagenet_classes.txt, models/mnist/mnist_classes.txt */
extern const adm_embedded_file adm_label_sources[];

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Append one name (checked) to the output buffer. */
static int add_name(char *out, size_t *len, const char *s, size_t n, const char *what, int line) {
    if (n > ADM_LABEL_MAX)
        return adm_error("%s line %d: a class name is at most %d bytes (this one has %zu)", what, line, ADM_LABEL_MAX, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return adm_error("%s line %d: control character 0x%02x in a class name", what, line, (unsigned char)s[i]);
    if (*len) out[(*len)++] = '\n';
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = 0;
    return 0;
}

int adm_labels_normalize(const char *text, const char *what, char **out, int *n_out) {
    size_t cap = strlen(text) + 1;
    char *buf = adm_malloc(cap);
    if (!buf) return -1;
    buf[0] = 0;
    size_t len = 0;
    int names = 0, line = 0, blank_line = 0;       /* blank_line: the first blank line not yet followed by nothing */
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        line++;
        const char *s = p, *e = p + n;
        while (s < e && is_blank(*s)) s++;
        while (e > s && is_blank(e[-1])) e--;
        p = eol ? eol + 1 : p + n;
        if (s < e && *s == '#') continue;
        if (s == e) { if (!blank_line) blank_line = line; continue; }
        if (blank_line) {
            free(buf);
            return adm_error("%s line %d: empty line between class names (class %d would have no name)", what,
                             blank_line, names);
        }
        if (add_name(buf, &len, s, (size_t)(e - s), what, line) != 0) { free(buf); return -1; }
        names++;
    }
    if (names == 0) { free(buf); return adm_error("%s: no class names in it", what); }
    if (len > ADM_LABELS_MAX_TEXT) { free(buf); return adm_error("%s: more than %d bytes of class names", what, ADM_LABELS_MAX_TEXT); }
    *out = buf;
    if (n_out) *n_out = names;
    return 0;
}

int adm_labels_read_file(const char *path, char **out, int *n_out) {
    uint8_t *data;
    size_t len;
    if (adm_read_untrusted(path, 4 * (size_t)ADM_LABELS_MAX_TEXT, &data, &len, NULL) != 0) return -1;
    if (memchr(data, 0, len)) { free(data); return adm_error("%s: a NUL byte: not a text file of class names", path); }
    int rc = adm_labels_normalize((const char *)data, path, out, n_out);
    free(data);
    return rc;
}

int adm_labels_parse(const char *text, adm_labels *l) {
    memset(l, 0, sizeof *l);
    if (!text || !*text) return 0;
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == '\n';
    l->text = strdup(text);
    l->name = adm_calloc((size_t)n, sizeof *l->name);
    if (!l->text || !l->name) { adm_labels_free(l); return adm_error("out of memory for %d class names", n); }
    char *p = l->text;
    for (int k = 0; k < n; k++) {
        l->name[k] = p;
        char *eol = strchr(p, '\n');
        if (eol) { *eol = 0; p = eol + 1; }
    }
    l->n = n;
    return 0;
}

void adm_labels_free(adm_labels *l) {
    free(l->name);
    free(l->text);
    memset(l, 0, sizeof *l);
}

const char *adm_labels_name(const adm_labels *l, int k) {
    return l && k >= 0 && k < l->n && l->name[k][0] ? l->name[k] : NULL;
}

void adm_labels_short(const adm_labels *l, int k, char *out, size_t n) {
    const char *s = adm_labels_name(l, k);
    if (!s) s = "";
    const char *comma = strstr(s, ", ");
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    snprintf(out, n, "%.*s", (int)len, s);
}

int adm_labels_line(const char *text, int k, char *out, size_t n) {
    if (!text || !*text || k < 0) return -1;
    const char *p = text;
    for (int i = 0; i < k; i++) {
        p = strchr(p, '\n');
        if (!p) return -1;
        p++;
    }
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len == 0) return -1;
    snprintf(out, n, "%.*s", (int)len, p);
    return 0;
}

/* ---- finding a class by name ---- */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* ASCII case-insensitive comparison of s[0..n) with q (all of it). */
static int same_nocase(const char *s, size_t n, const char *q) {
    size_t i = 0;
    for (; i < n && q[i]; i++) if (lower(s[i]) != lower(q[i])) return 0;
    return i == n && !q[i];
}

static int contains_nocase(const char *s, const char *q) {
    size_t m = strlen(q);
    for (; *s; s++) if (same_nocase(s, strnlen(s, m), q)) return 1;
    return m == 0;
}

/* Rule 2: the whole name or one of its ", "-separated synonyms. */
static int synonym_match(const char *name, const char *q) {
    if (same_nocase(name, strlen(name), q)) return 1;
    for (const char *p = name;;) {
        const char *comma = strstr(p, ", ");
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (same_nocase(p, n, q)) return 1;
        if (!comma) return 0;
        p = comma + 2;
    }
}

static int rule_matches(int rule, const char *name, const char *q) {
    if (rule == 1) return !strcmp(name, q);
    if (rule == 2) return synonym_match(name, q);
    return contains_nocase(name, q);
}

/* "'q' matches N classes of model M: 263 (Pembroke, ...), ..." */
static int ambiguous(const adm_labels *l, int rule, const char *q, const char *model, int count) {
    char list[760];
    size_t len = 0;
    int shown = 0;
    list[0] = 0;
    for (int k = 0; k < l->n && len < sizeof list - 120; k++) {
        if (!rule_matches(rule, l->name[k], q)) continue;
        int w = snprintf(list + len, sizeof list - len, "%s%d '%.60s%s'", shown ? ", " : "", k, l->name[k],
                         strlen(l->name[k]) > 60 ? "..." : "");
        if (w > 0) len += (size_t)w < sizeof list - len ? (size_t)w : sizeof list - len - 1;
        shown++;
    }
    if (shown < count) snprintf(list + len, sizeof list - len, " and %d more", count - shown);
    return adm_error("class '%.80s' matches %d classes of model %s: %s (give the number, or more of the name)", q,
                     count, model, list);
}

int adm_labels_find(const adm_labels *l, const char *query, const char *model, int *klass) {
    if (!l || l->n == 0)
        return adm_error("model %s has no class names: give the class as a number (admctl model labels %s FILE adds names)",
                         model, model);
    while (is_blank(*query)) query++;
    char q[ADM_LABEL_MAX + 1];
    snprintf(q, sizeof q, "%s", query);
    for (size_t n = strlen(q); n > 0 && is_blank(q[n - 1]);) q[--n] = 0;
    if (!q[0]) return adm_error("an empty class name");
    for (int rule = 1; rule <= 3; rule++) {
        int count = 0, found = -1;
        for (int k = 0; k < l->n; k++)
            if (rule_matches(rule, l->name[k], q)) { count++; if (found < 0) found = k; }
        if (count == 1) { *klass = found; return 0; }
        if (count > 1) return ambiguous(l, rule, q, model, count);
    }
    adm_error("no class of model %s is called '%.80s' or has it in its name (%d classes; admctl model show %s "
              "lists them)", model, q, l->n, model);
    return -2;
}

/* ---- the built-in lists ---- */

char *adm_labels_builtin(const char *which) {
    char file[64];
    snprintf(file, sizeof file, "%s_classes.txt", which);
    for (const adm_embedded_file *f = adm_label_sources; f->name; f++) {
        if (strcmp(f->name, file) != 0) continue;
        char *out;
        if (adm_labels_normalize(f->text, f->name, &out, NULL) != 0) return NULL;
        return out;
    }
    adm_error("no built-in class names called '%s' (there are imagenet and mnist)", which);
    return NULL;
}

const char *adm_labels_default(int num_classes) {
    return num_classes == 1000 ? "imagenet" : NULL;
}
