#!/bin/sh
# run.sh — make check-oclgrind: admd's kernels under Oclgrind, a strict
# OpenCL simulator that reports reads of uninitialised memory, data races,
# out-of-bounds accesses and API misuse (OCLGRIND_UNINITIALIZED,
# OCLGRIND_DATA_RACES, OCLGRIND_CHECK_API), i.e. what a GPU driver would
# not forgive.  Oclgrind is reached through an OCL_ICD_VENDORS folder made
# here (Oclgrind + the system's other ICDs, PoCL being the reference
# device), never a system-wide change.
#
# Each case runs in its own Oclgrind process with its own OCLGRIND_LOG
# (Oclgrind stops logging after 1000 reports, so one case's reports could
# hide another's); a case passes when its PASS/FAIL lines say so AND its
# log is empty: any Oclgrind report fails the run.
#
# Programs: canary.c must produce the reports it plants (proves the scan
# works); slot_reuse.c must show Oclgrind's slot-reuse fault with a plain
# release and none with adm_cl_release (proves the workaround is needed and
# works); tiny_nets.c's cases (UNet both attention orders, scale-shift
# norm, ResBlock and conv up/down, SuperRes, classifier forward and input
# gradient with both heads, every convolution layout, the eval/Inception
# kernels, noise, DDPM/DDIM steps) against PoCL.  Coverage: every kernel of
# kernels/kernel_list.h must have run under Oclgrind in some case, else
# FAIL oclgrind_covers_every_kernel names the missing ones (a new kernel
# needs a case).  OCLGRIND_CASES="name ..." runs only those cases (no
# coverage check then).  Prints "N passed, N failed, N skipped"; exit
# status 1 on any failure.
BUILD=${BUILD:-build}
set -u
lib=""
for f in /usr/lib/oclgrind/liboclgrind-rt-icd.so /usr/lib/*/oclgrind/liboclgrind-rt-icd.so; do
  [ -f "$f" ] && { lib=$f; break; }
done
if [ -z "$lib" ]; then
  echo "FAIL check-oclgrind: Oclgrind is not installed (sh tools/deps.sh installs the Debian package oclgrind)"
  echo "0 passed, 1 failed, 0 skipped"
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

# case [environment]: ADMD_TILES nv=2 reaches the conv3x3_rows1 layout
cases="unet_a_like unet_c_like superres classifier classifier_spatial conv conv:ADMD_TILES=8,2,16,8 backward_ops eval_ops noise step"
[ -n "${OCLGRIND_CASES:-}" ] && cases=$OCLGRIND_CASES
: > "$tmp/kernels_run"
# one_run NAME COMMAND...: run under Oclgrind with its own log; count its
# PASS/FAIL lines plus one for the log (empty: PASS NAME_oclgrind_clean)
one_run() {
  name=$1; shift
  echo "== $name (under Oclgrind)"
  start=$(date +%s)
  OCLGRIND_LOG="$tmp/$name.log" timeout 600 "$@" > "$tmp/$name.out" 2>&1
  rc=$?
  grep -v '^KERNELS RUN' "$tmp/$name.out"
  grep '^KERNELS RUN' "$tmp/$name.out" | tr ' ' '\n' | sed 1,2d >> "$tmp/kernels_run"
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
}

# Oclgrind's fault behind adm_cl_release: there with a plain release, gone with it
OCLGRIND_LOG="$tmp/slot_plain.log" timeout 300 "$BUILD/tests/oclgrind/slot_reuse" plain > "$tmp/slot_plain.out" 2>&1
n=$(grep -c 'Uninitialized value' "$tmp/slot_plain.log" 2>/dev/null)
if [ "${n:-0}" -gt 0 ]; then
  echo "PASS oclgrind_slot_reuse_fault_present ($n false reports with a plain clReleaseMemObject: adm_cl_release's workaround is needed)"; pass=$((pass + 1))
else
  echo "FAIL oclgrind_slot_reuse_fault_present: no report with a plain release (a fixed Oclgrind? then adm_cl_release's workaround can go)"; cat "$tmp/slot_plain.out"; fail=$((fail + 1))
fi
one_run slot_reuse "$BUILD/tests/oclgrind/slot_reuse"

for c in $cases; do
  case_name=${c%%:*}; env_set=""
  [ "$c" != "$case_name" ] && env_set=${c#*:}
  label=$case_name; [ -n "$env_set" ] && label="${case_name}_$(echo "$env_set" | tr -c 'A-Za-z0-9\n' _)"
  [ -n "$env_set" ] && echo "   ($env_set)"
  one_run "$label" env $env_set "$BUILD/tests/oclgrind/tiny_nets" "$case_name"
done

if [ -z "${OCLGRIND_CASES:-}" ]; then
  missing=$("$BUILD/tests/oclgrind/tiny_nets" --kernels | while read -r k; do
    grep -qx "$k" "$tmp/kernels_run" || printf ' %s' "$k"; done)
  total=$("$BUILD/tests/oclgrind/tiny_nets" --kernels | wc -l)
  if [ -z "$missing" ]; then
    echo "PASS oclgrind_covers_every_kernel (all $total kernels of kernels/kernel_list.h ran under Oclgrind)"; pass=$((pass + 1))
  else
    echo "FAIL oclgrind_covers_every_kernel: never run under Oclgrind:$missing"; fail=$((fail + 1))
  fi
fi
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
