/* admctl_table.c — admctl's tables through libsmartcols: aligned for
 * people, --raw and --noheadings for scripts.  See admctl_table.h. */
#include "admctl.h"
#include "admctl_table.h"
#include <libsmartcols.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct admctl_table {
    struct libscols_table *tb;
    struct libscols_line *row;   /* the row being filled */
    int rows, failed;
};

int admctl_table_flag(char **argv, int i, admctl_table_opts *o) {
    return admctl_flag(argv, i, "--raw", &o->raw) || admctl_flag(argv, i, "--noheadings", &o->noheadings);
}

int admctl_table_plain(const admctl_table_opts *o) { return o && (o->raw || o->noheadings); }

admctl_table *admctl_table_new(FILE *f, const admctl_table_opts *o) {
    /* the cells are UTF-8: in a UTF-8 locale libsmartcols counts their
     * columns and prints them as they are (in "C" it would escape them) */
    setlocale(LC_CTYPE, "");
    admctl_table *t = calloc(1, sizeof *t);
    if (t) t->tb = scols_new_table();
    if (!t || !t->tb) {
        free(t);
        admctl_fail("out of memory for a table");
        return NULL;
    }
    scols_table_set_stream(t->tb, f);
    if (o && o->raw) scols_table_enable_raw(t->tb, 1);
    else scols_table_set_column_separator(t->tb, "  ");    /* admctl's tables always had two */
    if (o && o->noheadings) scols_table_enable_noheadings(t->tb, 1);
    return t;
}

int admctl_table_column(admctl_table *t, const char *name, int flags) {
    /* no width hint: libsmartcols uses one only when the line has room to spare */
    if (!scols_table_new_column(t->tb, name, 0, flags & ADMCTL_COL_RIGHT ? SCOLS_FL_RIGHT : 0)) {
        t->failed = 1;
        return -1;
    }
    return 0;
}

int admctl_table_row(admctl_table *t) {
    t->row = scols_table_new_line(t->tb, NULL);
    if (!t->row) { t->failed = 1; return -1; }
    /* every cell "-" until filled: a cell left out must not shift a script's fields */
    for (size_t k = 0; k < scols_table_get_ncols(t->tb); k++)
        if (scols_line_set_data(t->row, k, "-") != 0) { t->failed = 1; return -1; }
    t->rows++;
    return 0;
}

int admctl_table_cell(admctl_table *t, int column, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!buf[0]) snprintf(buf, sizeof buf, "-");   /* an empty cell would shift a script's fields */
    if (!t->row || scols_line_set_data(t->row, (size_t)column, buf) != 0) { t->failed = 1; return -1; }
    return 0;
}

int admctl_table_print(admctl_table *t, int always) {
    if (!t) return ADMCTL_FAIL;
    int rc = ADMCTL_OK;
    if (t->failed) rc = admctl_fail("out of memory while making a table");
    else if ((t->rows > 0 || always) && scols_print_table(t->tb) != 0) rc = admctl_fail("printing a table failed");
    FILE *f = scols_table_get_stream(t->tb);
    if (rc == ADMCTL_OK && f && (fflush(f) != 0 || ferror(f))) rc = admctl_fail("writing a table failed");
    admctl_table_free(t);
    return rc;
}

void admctl_table_free(admctl_table *t) {
    if (!t) return;
    scols_unref_table(t->tb);
    free(t);
}
