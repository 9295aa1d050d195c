#!/bin/sh
# run.sh — run every test program (build/tests/test_*) and every shell test
# (tests/t_*.sh), count their PASS/FAIL lines, print "N passed, N failed".
# A program that dies without printing FAIL counts as one failure.
# TESTS=pattern limits the run to matching names.  ADMD_STRICT_SKIPS=1 (CI)
# turns every SKIP that tests/may_skip does not allow into a FAIL line.
BUILD=${BUILD:-build}
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
export ADM_BUILD="$BUILD"
mkdir -p "$POCL_CACHE_DIR" "$ADMD_CACHE_DIR"
log=$(mktemp); skipped=$(mktemp); pass=0; fail=0; skip=0
for t in "$BUILD"/tests/test_* tests/t_*.sh; do
  [ -e "$t" ] || continue
  case "$t" in *.dSYM|*.o) continue;; esac
  [ -n "$TESTS" ] && ! basename "$t" | grep -q "$TESTS" && continue
  echo "== $t"
  start=$(date +%s)
  if [ "${t%.sh}" != "$t" ]; then sh "$t" > "$log" 2>&1; else "$t" > "$log" 2>&1; fi
  rc=$?
  cat "$log"
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
  grep '^SKIP ' "$log" | awk '{ print $2 }' >> "$skipped"
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $t (exit status $rc)"; f=1; fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  echo "   ($(( $(date +%s) - start )) s)"
done
rm -f "$log"
# A skip is allowed when tests/may_skip lists its name as "env", or as
# "quick" and this is an ADMD_QUICK run.
if [ "${ADMD_STRICT_SKIPS:-0}" = 1 ]; then
  for name in $(cat "$skipped"); do
    when=$(awk -v n="$name" '$1 == n { print $2 }' tests/may_skip)
    if [ "$when" = env ] || { [ "$when" = quick ] && [ -n "$ADMD_QUICK" ] && [ "$ADMD_QUICK" != 0 ]; }; then continue; fi
    echo "FAIL $name: skipped, and tests/may_skip does not allow it${when:+ (only under ADMD_QUICK)}"
    fail=$((fail + 1)); skip=$((skip - 1))
  done
fi
rm -f "$skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
