#!/bin/sh
# run.sh — build and run the libFuzzer targets (tests/fuzz/fuzz_*.c).
#
#   sh tests/fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR holds libadm.a built with clang and -fsanitize=fuzzer-no-link,
# address,undefined (`make fuzz` does both steps).  Each target runs for
# SECONDS over tests/fuzz/corpus/<target>/ (new inputs go to the ignored
# tests/fuzz/work/<target>/); crashing inputs are written to
# tests/fuzz/work/ as crash-*, to be fixed and then kept in
# tests/fuzz/crashes/ as regressions.  Finally every file in
# tests/fuzz/crashes/ and the corpus is replayed through every target.
# Exit status: non-zero when a target crashed or a regression failed.
set -u
BUILD=${1:-build-fuzz}
SECS=${2:-30}
CC=${FUZZ_CC:-clang}
[ -f "$BUILD/libadm.a" ] || { echo "run.sh: $BUILD/libadm.a missing (make fuzz builds it)" >&2; exit 2; }
mkdir -p "$BUILD/fuzz" tests/fuzz/work
LIBS="$(pkg-config --libs libzip libcrypto) -lm -pthread"
status=0
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c); target=${name#fuzz_}
  bin="$BUILD/fuzz/$name"
  $CC -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -Ibase -Imodel -Itests/fuzz \
      "$src" "$BUILD/libadm.a" $LIBS -o "$bin" || { echo "run.sh: cannot build $name" >&2; exit 2; }
  mkdir -p "tests/fuzz/work/$target" "tests/fuzz/corpus/$target"
  echo "== $name: ${SECS}s over tests/fuzz/corpus/$target"
  if [ "$SECS" -gt 0 ]; then
    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
           -artifact_prefix="tests/fuzz/work/$target-" "tests/fuzz/work/$target" "tests/fuzz/corpus/$target" \
           > "tests/fuzz/work/$target.log" 2>&1
    rc=$?
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^(#[0-9]+ *DONE)" "tests/fuzz/work/$target.log"
    if [ $rc -ne 0 ]; then
      echo "run.sh: $name FOUND A CRASH (log: tests/fuzz/work/$target.log)"; grep -m5 -E "ERROR|SUMMARY|Test unit written" "tests/fuzz/work/$target.log"
      status=1
    fi
  fi
  # Regressions: every kept crash and every corpus file, run once each.
  files=$(ls tests/fuzz/crashes/* "tests/fuzz/corpus/$target"/* 2>/dev/null)
  if [ -n "$files" ]; then
    # shellcheck disable=SC2086
    if ! "$bin" -runs=1 $files > "tests/fuzz/work/$target.replay.log" 2>&1; then
      echo "run.sh: $name fails on a regression input (log: tests/fuzz/work/$target.replay.log)"; status=1
    else
      echo "   replayed $(echo "$files" | wc -w) regression/corpus inputs: ok"
    fi
  fi
done
exit $status
