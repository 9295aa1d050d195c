/* admctl_classes.h — classes as people give and read them: --class takes
 * numbers ("3", "0-9", "1,4,7", "random") or a model's class names
 * ("Pembroke Welsh Corgi", "seven"; model/labels.h says how a name is
 * found), and admctl shows the names beside the numbers. */
#ifndef ADM_ADMCTL_CLASSES_H
#define ADM_ADMCTL_CLASSES_H
#include "labels.h"
#include "spool.h"
#include <stddef.h>

/* spec is class numbers or "random" (digits, '-', ',' and blanks only):
 * admctl_parse_classes takes it; anything else is a name. */
int admctl_classes_numeric(const char *spec);
/* --class spec for `model` with names l (may have none): numbers as
 * admctl_parse_classes; else one name, or when no class is called the
 * whole spec, a comma-separated list of names and numbers ("tabby, tiger
 * cat").  Returns the count, or -1 + error. */
int admctl_resolve_classes(const char *spec, const adm_labels *l, const char *model, int *classes, int max);
/* One class (no lists): 0 with *klass (-1 for "random"), -1 + error. */
int admctl_resolve_class(const char *spec, const adm_labels *l, const char *model, int *klass);
/* The class names of a registered model into l (l->n = 0: none); -1 + error. */
int admctl_load_labels(adm_spool *s, const char *model, adm_labels *l);
/* "263 (Pembroke, Pembroke Welsh corgi)", or "263" without a name, "random"
 * for -1. */
void admctl_class_text(const adm_labels *l, int klass, char *out, size_t n);
#endif
