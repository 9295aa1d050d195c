#!/bin/sh
# run.sh — make check-oclgrind: admd's kernels under Oclgrind, a strict
# OpenCL simulator that reports reads of uninitialised memory, data races,
# out-of-bounds accesses and API misuse (OCLGRIND_UNINITIALIZED,
# OCLGRIND_DATA_RACES, OCLGRIND_CHECK_API), i.e. what a GPU driver would
# not forgive.  Oclgrind is reached through an OCL_ICD_VENDORS folder made
# here (Oclgrind + the system's other ICDs, PoCL being the reference
# device), never a system-wide change.
#
# Each program below runs with ADMD_TEST_DEVICE=Oclgrind and its own
# OCLGRIND_LOG; it passes when its own PASS/FAIL lines say so AND its log
# is empty: any Oclgrind report fails the run.  The canary (canary.c)
# must produce the reports it plants, which proves the scan works.
#
# Programs: tiny_nets (UNet both attention orders, scale-shift norm,
# ResBlock and conv up/down, SuperRes, classifier forward and input
# gradient, noise, DDPM/DDIM steps; compared with PoCL).  A new kernel
# is covered once it calls it; OCLGRIND_PROGRAMS="prog ..." adds programs
# (test_ops is not one: its error-path tests misuse the API on purpose).  Prints "N passed, N failed"; exit status 1 on any failure.
BUILD=${BUILD:-build}
set -u
lib=""
for f in /usr/lib/oclgrind/liboclgrind-rt-icd.so /usr/lib/*/oclgrind/liboclgrind-rt-icd.so; do
  [ -f "$f" ] && { lib=$f; break; }
done
if [ -z "$lib" ]; then
  echo "FAIL check-oclgrind: Oclgrind is not installed (sh tools/deps.sh installs the Debian package oclgrind)"
  echo "0 passed, 1 failed"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/vendors"
echo "$lib" > "$tmp/vendors/oclgrind.icd"
for f in /etc/OpenCL/vendors/*.icd; do
  [ -f "$f" ] && ! grep -q oclgrind "$f" && cp "$f" "$tmp/vendors/"
done
export OCL_ICD_VENDORS="$tmp/vendors"
export OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1
export ADMD_TEST_DEVICE=Oclgrind ADM_DEVICE=Oclgrind ADMD_REF_DEVICE=${ADMD_REF_DEVICE:-Portable}
export ADMD_BACKEND=own ADMD_QUICK=1     # admd's own kernels (CLBlast's are not ours to check)
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}" ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
pass=0; fail=0

# the canary: the scan must see each planted fault
OCLGRIND_LOG="$tmp/canary.log" timeout 300 "$BUILD/tests/oclgrind/canary" > "$tmp/canary.out" 2>&1
for want in "Uninitialized value" "data race" "Invalid read"; do
  if grep -q "$want" "$tmp/canary.log" 2>/dev/null; then
    echo "PASS oclgrind_scan_catches '$want'"; pass=$((pass + 1))
  else
    echo "FAIL oclgrind_scan_catches '$want': the canary's log lacks it"; cat "$tmp/canary.out"; fail=$((fail + 1))
  fi
done

for prog in "$BUILD/tests/oclgrind/tiny_nets" ${OCLGRIND_PROGRAMS:-}; do
  name=$(basename "$prog")
  echo "== $prog (under Oclgrind)"
  start=$(date +%s)
  OCLGRIND_LOG="$tmp/$name.log" timeout 600 "$prog" > "$tmp/$name.out" 2>&1
  rc=$?
  cat "$tmp/$name.out"
  p=$(grep -c '^PASS ' "$tmp/$name.out"); f=$(grep -c '^FAIL ' "$tmp/$name.out")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $name (exit status $rc)"; f=1; fi
  if [ -s "$tmp/$name.log" ]; then
    n=$(grep -c -E 'Uninitialized|data race|Invalid (read|write)|FATAL|error|Error' "$tmp/$name.log")
    echo "FAIL ${name}_oclgrind_clean: $n Oclgrind report(s); the first:"
    head -40 "$tmp/$name.log" | sed 's/^/    /'
    f=$((f + 1))
  else
    echo "PASS ${name}_oclgrind_clean"; p=$((p + 1))
  fi
  pass=$((pass + p)); fail=$((fail + f))
  echo "   ($(( $(date +%s) - start )) s)"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
