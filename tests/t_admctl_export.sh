#!/bin/sh
# t_admctl_export.sh — `admctl export --npz` on jobs a real admd ran on the
# MNIST model: arr_0 uint8 N x 32 x 32 x C and arr_1 int64 labels, pixels
# equal to the recorded PNGs (decoded by python-free means: admctl eval of
# the file against the same images' folder gives FID 0 to the printed 4 decimals), labels the jobs'
# classes, and bad requests refused by name.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
D=$BUILD/admd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
DEV=${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
. tests/lib.sh
CMD=export DEV=

"$A" init --db "$DB" > /dev/null 2>&1 || { fail export_init init; exit 1; }
"$A" submit --db "$DB" --model mnist --class 3,8 --count 2 --respacing 5 --seed 4 > /dev/null 2>&1
"$A" submit --db "$DB" --model mnist --class 1 --count 1 --respacing 5 --seed 4 > /dev/null 2>&1
# shellcheck disable=SC2086
"$D" --db "$DB" --drain $DEV > "$tmp/d.log" 2>&1 || { fail export_daemon "$(tail -3 "$tmp/d.log")"; exit 1; }
"$A" submit --db "$DB" --model mnist --class 1 --count 1 > /dev/null 2>&1      # job 4 stays queued

run export --npz 1-2 "$tmp/s.npz" --db "$DB"
check export_runs sh -c "[ $rc = 0 ] && grep -q 'wrote .*: 4 images of 32x32x' '$tmp/o'"
# the members, read back by admctl's own npz reader through inspect-like eval bookkeeping:
# unzip -l names them; the .npy headers give dtype and shape
if command -v unzip > /dev/null; then
  unzip -p "$tmp/s.npz" arr_0.npy | head -c 128 > "$tmp/h0"; unzip -p "$tmp/s.npz" arr_1.npy | head -c 128 > "$tmp/h1"
  check export_arr0_header sh -c "grep -q \"'descr': '|u1'\" '$tmp/h0' && grep -q \"'shape': (4, 32, 32, [13],\\{0,1\\})\" '$tmp/h0'"
  check export_arr1_header sh -c "grep -q \"'descr': '<i8'\" '$tmp/h1' && grep -q \"'shape': (4,)\" '$tmp/h1'"
  # labels: 3, 3, 8, 8 as little-endian int64 after the 128-byte header
  labels=$(unzip -p "$tmp/s.npz" arr_1.npy | od -An -tu8 -j128 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
  check export_labels [ "$labels" = "3 3 8 8" ]
else
  fail export_members "unzip missing (tools/deps.sh)"
fi
# the pixels are the PNGs': against a folder of the same PNGs, FID is 0
mkdir -p "$tmp/png"
for p in $("$A" show 1 2 --paths --db "$DB"); do cp "$p" "$tmp/png/"; done
"$A" eval "$tmp/s.npz" "$tmp/png" > "$tmp/ev" 2> "$tmp/eve"
fid=$(sed -n 's/^FID *//p' "$tmp/ev")
check export_pixels_equal_pngs awk -v f="$fid" 'BEGIN { exit !(f != "" && f + 0 < 1e-3 && f + 0 > -1e-3) }'
[ -n "$fid" ] || cat "$tmp/eve"
run export --npz 2 3 "$tmp/t.npz" --db "$DB"
labels=$(unzip -p "$tmp/t.npz" arr_1.npy 2>/dev/null | od -An -tu8 -j128 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
check export_order_kept sh -c "[ $rc = 0 ] && [ '$labels' = '8 8 1' ]"
run export --npz --state done "$tmp/u.npz" --db "$DB"
check export_state sh -c "[ $rc = 0 ] && grep -q ': 5 images' '$tmp/o'"

expect_fail export_queued_job "job 4 is queued, not done" --npz 4 "$tmp/x.npz" --db "$DB"
expect_fail export_needs_format "say the format: --npz" 1 "$tmp/x.npz" --db "$DB"
expect_fail export_needs_out "where to?" --npz 1 --db "$DB"
expect_fail export_no_job "no job 99" --npz 99 "$tmp/x.npz" --db "$DB"
check export_nothing_left_on_failure [ ! -e "$tmp/x.npz" ]

# audit shows progress (stderr; a log gets the first and the last line) and still checks out
"$A" audit 1 --db "$DB" > "$tmp/au" 2> "$tmp/aue"; rc=$?
check audit_progress sh -c "[ $rc = 0 ] && grep -q 'regenerating .*100% 10/10 steps' '$tmp/aue' && grep -q 'regenerated identically' '$tmp/au'"
[ $rc = 0 ] || cat "$tmp/au" "$tmp/aue"
