#!/bin/sh
# t_admd_options.sh — admd's command line (getopt_long: --opt=value, short
# options, -V, --, errors with status 2), ADMD_DB, and the cache folder:
# $XDG_CACHE_HOME/admd and $CACHE_DIRECTORY are used, a folder writable by
# others is refused, and with no cache variable at all admd and admctl eval
# run uncached — nothing is written to a shared /tmp folder.
BUILD=${ADM_BUILD:-build}
D=$BUILD/admd
A=$BUILD/admctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh

"$A" init --db "$T/s.db" > /dev/null 2>&1 || fail init "admctl init"

# ---- options ----
check version_long sh -c "'$D' --version | grep -q '^admd [0-9]'"
check version_short sh -c "'$D' -V | grep -q '^admd [0-9]'"
check help_short sh -c "'$D' -h | grep -q -- '--db PATH'"
# err NAME TEXT ARGS...: exit 2 and TEXT on stderr
err() { n=$1 want=$2; shift 2; "$D" "$@" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc = 2 ] && grep -q -- "$want" "$T/e"; then pass "$n"; else fail "$n" "exit $rc: $(cat "$T/e")"; fi; }
err unknown_long "unknown option '--bogus'" --db "$T/s.db" --bogus
err unknown_short "unknown option '-x'" --db "$T/s.db" -x
err missing_value "needs a value" --db
err stray_argument "unexpected argument 'extra'" --db "$T/s.db" extra
err after_dashdash "unexpected argument '--drain'" --db "$T/s.db" -- --drain
err bad_number "needs a number, not '5s'" --db "$T/s.db" --lease=5s
env -u ADMD_DB "$D" > /dev/null 2> "$T/e"; rc=$?
check no_db_env_usage sh -c "[ $rc = 2 ] && grep -q usage: '$T/e'"

# --opt=value and short options; ADMD_DB names the spool; --db wins over it
"$D" --db="$T/s.db" -v --poll=0.5 --drain > "$T/o" 2>&1
check db_equals sh -c "grep -q 'spool $T/s.db' '$T/o' && grep -q 'queue empty: drained' '$T/o'"
ADMD_DB="$T/s.db" "$D" --drain > "$T/o" 2>&1
check admd_db_env sh -c "grep -q 'spool $T/s.db' '$T/o'"
"$A" init --db "$T/t.db" > /dev/null 2>&1
ADMD_DB="$T/s.db" "$D" -d "$T/t.db" --drain > "$T/o" 2>&1
check db_option_over_env grep -q "spool $T/t.db" "$T/o"

# ---- the cache folder ----
# XDG_CACHE_HOME (ADMD_CACHE_DIR unset): compiled kernels land in $XDG/admd
env -u ADMD_CACHE_DIR XDG_CACHE_HOME="$T/xdg" "$D" --db "$T/s.db" --drain > "$T/o" 2>&1
check cache_xdg sh -c "ls '$T/xdg/admd'/prog-*.bin > /dev/null 2>&1"
# systemd's CACHE_DIRECTORY (first of a list) before XDG_CACHE_HOME
mkdir -p "$T/sd1"
env -u ADMD_CACHE_DIR CACHE_DIRECTORY="$T/sd1:$T/sd2" XDG_CACHE_HOME="$T/xdg2" "$D" --db "$T/s.db" --drain > "$T/o" 2>&1
check cache_directory sh -c "ls '$T/sd1'/prog-*.bin > /dev/null 2>&1 && [ ! -e '$T/xdg2' ] && [ ! -e '$T/sd2' ]"
# a cache folder others may write to is not trusted: no binary loaded or written
mkdir -p "$T/open" && chmod 777 "$T/open"
ADMD_CACHE_DIR="$T/open" "$D" --db "$T/s.db" --drain > "$T/o" 2>&1; rc=$?
check cache_world_writable_refused sh -c "[ $rc = 0 ] && grep -q 'writable by others' '$T/o' && ! ls '$T/open'/prog-* > /dev/null 2>&1"
# no HOME, no cache variable: uncached, and nothing under /tmp/.cache
before=$(ls -d /tmp/.cache 2>/dev/null)
env -u ADMD_CACHE_DIR -u XDG_CACHE_HOME -u CACHE_DIRECTORY -u HOME "$D" --db "$T/s.db" --drain > "$T/o" 2>&1; rc=$?
check no_cache_runs sh -c "[ $rc = 0 ] && grep -q 'no cache folder' '$T/o' && grep -q 'queue empty: drained' '$T/o'"
check no_tmp_cache sh -c "[ -n '$before' ] || [ ! -e /tmp/.cache/admd ]"
# admctl eval skips its feature cache cleanly (the numbers still come)
env -u ADMD_CACHE_DIR -u XDG_CACHE_HOME -u CACHE_DIRECTORY -u HOME "$A" eval tests/data/eval/ref_mnist_500.npz \
  tests/data/eval/digits_png > "$T/o" 2> "$T/e"; rc=$?
check eval_uncached sh -c "[ $rc = 0 ] && grep -q '^FID ' '$T/o' && grep -q 'features not cached: no cache folder' '$T/e'"
check no_tmp_cache_eval sh -c "[ -n '$before' ] || [ ! -e /tmp/.cache/admd ]"
