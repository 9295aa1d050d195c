/* labels.h — a model's class names: the text the spool keeps
 * (models.labels: one name per line, line k = class k), the label files
 * people give (`admctl model add --labels FILE`), the built-in lists (the
 * 1000 ImageNet names of models/imagenet/imagenet_classes.txt, the MNIST
 * digits of models/mnist/mnist_classes.txt, both embedded at build time),
 * and finding a class by name.
 *
 * A label file: UTF-8 text, one name per line; lines starting with '#'
 * are comments, surrounding blanks and a CR are dropped, blank lines at the
 * end are ignored; every other line must hold a name (at most
 * ADM_LABEL_MAX bytes, no control characters).  ImageNet's names list
 * synonyms separated by ", " ("Pembroke, Pembroke Welsh corgi"); the
 * first part is the short name (sheets use it).
 *
 * Finding a class (adm_labels_find), in order, the first rule that matches
 * anything decides:
 *   1. the whole name, exactly;
 *   2. the whole name or one of its synonyms, ignoring case;
 *   3. a part of the name (substring), ignoring case.
 * One class: found.  Several: an error listing them (ambiguous).  None: an
 * error saying so, with the closest-looking hint the list allows.
 */
#ifndef ADM_LABELS_H
#define ADM_LABELS_H
#include <stddef.h>

#define ADM_LABEL_MAX 256              /* bytes of one name */
#define ADM_LABELS_MAX_TEXT 1048576    /* the schema's limit on models.labels */

typedef struct {
    int n;              /* names */
    char **name;        /* name[k]: class k (points into text) */
    char *text;         /* one allocation holding every name */
} adm_labels;

/* A label file's text (see above) as the spool keeps it: names joined by
 * '\n', malloc'd into *out.  what names the source in errors ("FILE").
 * *n_out (may be NULL): the number of names. */
int adm_labels_normalize(const char *text, const char *what, char **out, int *n_out);
/* Read and normalise a label file. */
int adm_labels_read_file(const char *path, char **out, int *n_out);

/* Split the spool's text (NULL or "": no names, n = 0) into l. */
int adm_labels_parse(const char *text, adm_labels *l);
void adm_labels_free(adm_labels *l);
/* Class k's name, or NULL (no list, or k outside it). */
const char *adm_labels_name(const adm_labels *l, int k);
/* The short name: the part before the first ", " (the whole name when
 * there is none), at most n - 1 bytes, into out; "" when class k has none. */
void adm_labels_short(const adm_labels *l, int k, char *out, size_t n);

/* Line k of the spool's text without parsing the rest (the PNG chunks of
 * one image): 0 with the name in out (cut to n - 1 bytes), -1 when there
 * is no line k (nothing set as error). */
int adm_labels_line(const char *text, int k, char *out, size_t n);

/* The class called `query` (rules above): 0 with *klass; -1 with the
 * error when no list or several classes match ("'x' matches N classes of
 * model M: 263 '...', 264 '...'"), -2 when none does ("no class of model
 * M is called 'x'").  model names the list's model in the messages. */
int adm_labels_find(const adm_labels *l, const char *query, const char *model, int *klass);

/* The built-in lists as the spool keeps them ("imagenet": 1000 names,
 * "mnist": the digits zero..nine), malloc'd (free()); NULL with the error
 * for another name. */
char *adm_labels_builtin(const char *which);
/* The built-in list a model of num_classes classes gets when it is given
 * none: "imagenet" for 1000, else NULL. */
const char *adm_labels_default(int num_classes);

#endif
