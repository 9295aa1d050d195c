/* cmd_submit.c — `admctl submit`: queue a job (one per class when given a
 * class list) and print its id.  The same INSERT as the sqlite3 CLI's; the
 * schema's checks and triggers judge it.  The options are parsed in
 * admctl_submit_args.c, shared with `admctl fleet submit`. */
#include "admctl.h"
#include "admctl_json.h"
#include "admctl_spool.h"
#include "admctl_submit_args.h"
#include "util.h"
#include <stdint.h>
#include <stdio.h>

int cmd_submit(int argc, char **argv) {
    if (admctl_wants_help(argc, argv)) { admctl_submit_usage(stdout, 0); return ADMCTL_OK; }
    admctl_submit_args a;
    int parsed = admctl_submit_parse(argc, argv, 0, &a);
    if (parsed != ADMCTL_OK) return parsed;
    adm_spool *s = admctl_spool_open(a.db, 0);
    if (!s) return ADMCTL_FAIL;
    if (admctl_submit_classes(&a, s) != ADMCTL_OK) { adm_spool_close(s); return ADMCTL_FAIL; }
    adm_spool_request r = a.r;
    int rc = ADMCTL_OK;
    json_object *ids = a.json ? json_object_new_array() : NULL;
    for (int k = 0; k < a.n_classes; k++) {
        int64_t id;
        r.klass = a.classes[k];
        if (adm_spool_submit_stages(s, &r, &a.st, &id) != 0) { rc = admctl_fail("%s", adm_last_error()); break; }
        if (ids) json_object_array_add(ids, json_object_new_int64(id));
        else printf("%lld\n", (long long)id);
    }
    if (ids) {   /* the ids that were queued, even when a later class failed */
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "ids", ids);
        json_object_object_add(doc, "seed", r.seed >= 0 ? json_object_new_int64(r.seed) : NULL);
        int prc = admctl_json_print(doc);
        if (rc == ADMCTL_OK) rc = prc;
    }
    adm_spool_close(s);
    return rc;
}
