# lib.sh — sourced by the shell tests (tests/t_*.sh, tests/daemon_common.sh):
# the result lines tests/run.sh counts, in one place.
#   pass NAME / fail NAME WHY   one "PASS name" / "FAIL name: why" line
#   check NAME COMMAND...       PASS when the command succeeds, else FAIL with the command
# For scripts that drive admctl ($A) with a scratch folder $tmp:
#   run ARGS...                 admctl ARGS, stdout in $tmp/o, stderr in $tmp/e; sets rc
#   ok NAME / bad NAME WHY      result lines; bad also shows $tmp/o and $tmp/e
#   expect_fail NAME TEXT ARGS...  `admctl $CMD $DEV ARGS...` must fail cleanly: exit
#                               status non-zero and below 128 (no signal), "admctl:"
#                               and TEXT on stderr
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "$*"; fi; }

run() { "$A" "$@" > "$tmp/o" 2> "$tmp/e"; rc=$?; }
ok() { pass "$1"; }
bad() { fail "$1" "$2"; [ -f "$tmp/o" ] && sed 's/^/    out: /' "$tmp/o"; [ -f "$tmp/e" ] && sed 's/^/    err: /' "$tmp/e"; }

expect_fail() {
  name=$1 want=$2; shift 2
  "$A" $CMD $DEV "$@" > "$tmp/o" 2> "$tmp/e"
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "^admctl: " "$tmp/e" && grep -q -- "$want" "$tmp/e"; then
    echo "PASS $name"
  else
    echo "FAIL $name (exit $rc, wanted '$want'):"; cat "$tmp/e"
  fi
}
