#!/bin/sh
# t_device_check.sh — `make device-check` (tools/device-check.sh) runs to
# its JSON file on the devices this machine has, each reached through an
# OCL_ICD_VENDORS folder this test makes (never a system-wide change):
#   PoCL alone: no GPU or accelerator -> a clear refusal without --device;
#     with --device 0:0 --small: self-test, the parity checks, the small
#     benchmarks (engine per shape measured: ADMD_BACKEND=auto, sampler
#     steps on the device) -> PASS and a valid JSON file with them;
#   Oclgrind alone (it reports GPU and accelerator types besides CPU, so
#     it is "the first non-CPU device"): found without --device, self-test
#     and JSON (+ unet_c parity outside ADMD_QUICK: minutes in a simulator),
#     sampler steps on the device, admd's own kernels (ADMD_BACKEND=own:
#     timing CLBlast's engines in a simulator takes minutes per shape).
# ADMD_QUICK: PoCL checks unet_c and classifier_a only, no benchmarks.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$A" ]; then echo "FAIL device_check: $A not built"; exit 1; fi
pocl=/etc/OpenCL/vendors/pocl.icd
# the JSON file: valid, with RESULT and KEY present (sqlite3's JSON functions)
json() { sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2')"; }

mkdir -p "$tmp/pocl" "$tmp/oclgrind"
if [ -f "$pocl" ]; then
  cp "$pocl" "$tmp/pocl/"
  OCL_ICD_VENDORS=$tmp/pocl ADMCTL=$A sh tools/device-check.sh --small --out "$tmp/none.json" > "$tmp/o" 2> "$tmp/e"; rc=$?
  refused() { [ $rc -ne 0 ] && grep -q "no GPU or accelerator found" "$tmp/e" && [ ! -e "$tmp/none.json" ]; }
  check pocl_only_refused_without_device refused
  if [ -n "$ADMD_QUICK" ]; then opts="--parity unet_c,classifier_a --sizes none"; else opts=; fi
  # shellcheck disable=SC2086
  OCL_ICD_VENDORS=$tmp/pocl ADMCTL=$A sh tools/device-check.sh --device 0:0 --small $opts --out "$tmp/pocl.json" > "$tmp/o" 2>&1; rc=$?
  sed 's/^/    /' "$tmp/o"
  passed() { [ $rc -eq 0 ] && grep -q "^PASS in" "$tmp/o"; }
  check pocl_small_pass passed
  check pocl_json_valid [ "$(sqlite3 :memory: "SELECT json_valid(readfile('$tmp/pocl.json'))")" = 1 ]
  check pocl_json_result [ "$(json "$tmp/pocl.json" '$.result') $(json "$tmp/pocl.json" '$.selftest')" = "PASS PASS" ]
  check pocl_json_parity [ "$(json "$tmp/pocl.json" '$.parity_unet_c.result') $(json "$tmp/pocl.json" '$.parity_classifier_a_grad.result')" = "PASS PASS" ]
  if [ -z "$ADMD_QUICK" ]; then
    check pocl_json_traj [ "$(json "$tmp/pocl.json" '$.parity_traj_ddim10_guided.result')" = PASS ]
    # the small bench array has the three kinds and the engine chosen per shape
    kinds=$(sqlite3 :memory: "SELECT group_concat(k) FROM (SELECT DISTINCT coalesce(json_extract(value, '$.bench'),
              'engine') AS k FROM json_each(json_extract(readfile('$tmp/pocl.json'), '$.bench_small')) ORDER BY k)")
    check pocl_json_bench [ "$kinds" = "classifier,engine,step,unet" ]
  fi
else
  echo "SKIP device_check_pocl ($pocl not installed)"
fi

if [ -f /usr/lib/oclgrind/liboclgrind-rt-icd.so ]; then
  echo /usr/lib/oclgrind/liboclgrind-rt-icd.so > "$tmp/oclgrind/oclgrind.icd"
  if [ -n "$ADMD_QUICK" ]; then par=none; else par=unet_c; fi
  # own kernels: measuring CLBlast's engines in a simulator takes minutes per shape
  OCL_ICD_VENDORS=$tmp/oclgrind ADMD_BACKEND=own ADMCTL=$A sh tools/device-check.sh --small --parity $par --sizes none \
    --out "$tmp/oclgrind.json" > "$tmp/o" 2>&1; rc=$?
  sed 's/^/    /' "$tmp/o"
  check oclgrind_found_as_non_cpu grep -q "device-check on device 0:0 (Oclgrind Simulator)" "$tmp/o"
  check oclgrind_pass [ "$rc $(json "$tmp/oclgrind.json" '$.result')" = "0 PASS" ]
  [ -n "$ADMD_QUICK" ] || check oclgrind_unet_c_parity [ "$(json "$tmp/oclgrind.json" '$.parity_unet_c.result')" = PASS ]
else
  echo "SKIP device_check_oclgrind (oclgrind not installed)"
fi
