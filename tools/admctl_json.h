/* admctl_json.h — `--json` for admctl's spool commands (json-c): jobs,
 * outputs, provenance and models as JSON objects, and printing one JSON
 * document on stdout (prose goes to stderr).  json-c escapes every string
 * as JSON requires; NULL columns become null. */
#ifndef ADM_ADMCTL_JSON_H
#define ADM_ADMCTL_JSON_H
#include "labels.h"
#include "spool.h"
#include <json-c/json.h>

json_object *admctl_json_job(const adm_spool_job *j);
json_object *admctl_json_output(const adm_spool_output *o);
json_object *admctl_json_provenance(const adm_spool_provenance *p);
json_object *admctl_json_model(const adm_spool_model *m);
/* A model's class names as an array (index = class), null when it has none. */
json_object *admctl_json_class_names(const adm_labels *l);
/* Text, or null for "" (a NULL column). */
json_object *admctl_json_text(const char *s);
/* Print o (pretty) and a newline on stdout, then release it: ADMCTL_OK, or
 * ADMCTL_FAIL when o is NULL (out of memory) or stdout fails. */
int admctl_json_print(json_object *o);
#endif
