#!/bin/sh
# run.sh — run every test program (build/tests/test_*) and every shell test
# (tests/t_*.sh), count their PASS/FAIL lines, print "N passed, N failed".
# A program that dies without printing FAIL counts as one failure.
# TESTS=pattern limits the run to matching names.
BUILD=${BUILD:-build}
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
export ADM_BUILD="$BUILD"
mkdir -p "$POCL_CACHE_DIR" "$ADMD_CACHE_DIR"
log=$(mktemp); pass=0; fail=0; skip=0
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
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $t (exit status $rc)"; f=1; fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  echo "   ($(( $(date +%s) - start )) s)"
done
rm -f "$log"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
