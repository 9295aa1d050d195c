/* admctl.h — shared by admctl's subcommands (tools/cmd_*.c).
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand name) returning an exit status: 0 ok, 1 failure, 2 usage. */
#ifndef ADM_ADMCTL_H
#define ADM_ADMCTL_H
#include <stdio.h>

#define ADMCTL_OK 0
#define ADMCTL_FAIL 1
#define ADMCTL_USAGE 2

/* Print "admctl: <msg>" to stderr (printf-style); returns ADMCTL_FAIL. */
int admctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option helper: if argv[*i] is `name` (takes a value) store the next
 * argument in *val and advance *i.  Also accepts --name=value. */
int admctl_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* If argv[*i] is the flag `name`, set *flag = 1. */
int admctl_flag(char **argv, int i, const char *name, int *flag);

/* Is "-h"/"--help" among the arguments? */
int admctl_wants_help(int argc, char **argv);


/* `admctl bench --classifier X` is handled by tools/cmd_classifier.c. */
int admctl_bench_classifier(int argc, char **argv);
#endif
