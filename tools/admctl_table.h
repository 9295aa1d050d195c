/* admctl_table.h — admctl's tables (status, list, model list, model
 * presets, eval --list) through libsmartcols, as util-linux's lsblk and
 * findmnt print theirs: aligned columns for people, `--raw` for scripts
 * (one row a line, cells separated by one space, blanks and other unsafe
 * bytes inside a cell written as \x20-style escapes so awk's fields are the
 * columns), `--noheadings` without the header line. */
#ifndef ADM_ADMCTL_TABLE_H
#define ADM_ADMCTL_TABLE_H
#include <stdio.h>

/* The two options every table command takes. */
typedef struct {
    int raw, noheadings;
} admctl_table_opts;

/* Their help lines. */
#define ADMCTL_TABLE_HELP \
    "  --raw         the table for scripts: unaligned, one space between cells,\n" \
    "                blanks inside a cell written as \\x20\n" \
    "  --noheadings  the table without its header line\n"

/* If argv[i] is --raw or --noheadings, set it in *o and return 1. */
int admctl_table_flag(char **argv, int i, admctl_table_opts *o);
/* Either option given (the caller keeps prose off stdout then). */
int admctl_table_plain(const admctl_table_opts *o);

typedef struct admctl_table admctl_table;
/* A table printed to f (opts NULL: aligned, with headings).  NULL when out
 * of memory (message printed). */
admctl_table *admctl_table_new(FILE *f, const admctl_table_opts *o);
/* Columns, left to right: the header name, right-aligned (numbers) or
 * not.  Each is as wide as its widest cell, never cut.  0, or -1 when out
 * of memory. */
#define ADMCTL_COL_RIGHT 1
int admctl_table_column(admctl_table *t, const char *name, int flags);
/* A new row; then admctl_table_cell fills its columns (printf-style; a
 * column left out, or given an empty text, is written "-" so that --raw
 * keeps every field).  0, or -1 when out of memory. */
int admctl_table_row(admctl_table *t);
int admctl_table_cell(admctl_table *t, int column, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print the table (when it has rows, or always when `always`) and free
 * it: ADMCTL_OK, or ADMCTL_FAIL with the message printed when a call
 * before failed or the output did. */
int admctl_table_print(admctl_table *t, int always);
/* Free without printing. */
void admctl_table_free(admctl_table *t);
#endif
