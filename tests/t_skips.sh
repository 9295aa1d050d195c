#!/bin/sh
# t_skips.sh — tests/run.sh's summary and its skip rule: "N passed, N
# failed, N skipped"; with ADMD_STRICT_SKIPS=1 a SKIP that tests/may_skip
# does not allow becomes a FAIL (and a non-zero exit), a "quick" skip is
# allowed only under ADMD_QUICK, an "env" skip always.  Runs run.sh on a
# fake build folder holding one test program that skips three cases.
. tests/lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/tests"
cat > "$T/tests/test_fake_skips" <<'EOS'
#!/bin/sh
echo "PASS fake_ok"
echo "SKIP not_listed_anywhere"
echo "SKIP fresh_clone (ADMD_QUICK)"
echo "SKIP disk_full (not root)"
EOS
chmod +x "$T/tests/test_fake_skips"
go() { env -u ADMD_QUICK -u ADMD_STRICT_SKIPS "$@" BUILD="$T" TESTS=test_fake_skips sh tests/run.sh > "$T/out" 2>&1; }

go; rc=$?
check skips_counted_exit [ $rc -eq 0 ]
check skips_counted grep -q '^1 passed, 0 failed, 3 skipped$' "$T/out"
go ADMD_STRICT_SKIPS=1; rc=$?
check skips_strict_fails [ $rc -ne 0 ]
check skips_strict_names grep -q '^FAIL not_listed_anywhere: skipped, and tests/may_skip does not allow it$' "$T/out"
check skips_strict_quick grep -q '^FAIL fresh_clone: skipped, .*only under ADMD_QUICK' "$T/out"
check skips_strict_env_ok sh -c "! grep -q '^FAIL disk_full' '$T/out'"
check skips_strict_summary grep -q '^1 passed, 2 failed, 1 skipped$' "$T/out"
go ADMD_STRICT_SKIPS=1 ADMD_QUICK=1
check skips_quick_allowed grep -q '^1 passed, 1 failed, 2 skipped$' "$T/out"
