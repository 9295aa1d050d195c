#!/bin/sh
# t_admctl_daemon.sh — admctl with a real admd on the embedded MNIST model:
# jobs submitted, `admd --drain` runs them, then watch (exit 0 for a done
# job), show (provenance and outputs whose sha256 matches the files), sheet
# (a PNG with the right size), and a small sweep with --drain (chart,
# sheets and table written; accuracy measured by the classifier).
# Short respacing (10 steps) keeps it to seconds on a 2-core CPU.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
D=$BUILD/admd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
DEV=${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}

. tests/lib.sh    # ok, bad, run (admctl into $tmp/o, $tmp/e)
# png_size FILE: "W H" from the IHDR chunk
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}'; }

for b in "$A" "$D"; do
  if [ ! -x "$b" ]; then echo "FAIL admctl_daemon: $b not built"; exit 1; fi
done

"$A" init --db "$DB" > /dev/null 2> "$tmp/e" || { bad admctl_daemon_init "init failed"; exit 1; }
run submit --db "$DB" --model mnist --class 3,8 --count 2 --scale 4 --seed 11 --respacing 10
ids=$(cat "$tmp/o" | tr '\n' ' ')
if [ $rc -ne 0 ] || [ "$ids" != "1 2 " ]; then bad admctl_daemon_submit "ids '$ids'"; exit 1; fi

# shellcheck disable=SC2086
if "$D" --db "$DB" --drain $DEV > "$tmp/d.log" 2>&1; then ok admctl_daemon_drain
else echo "FAIL admctl_daemon_drain:"; cat "$tmp/d.log"; exit 1; fi

run watch 1 --db "$DB"
if [ $rc -eq 0 ] && grep -q "job 1 done: 2/2 images" "$tmp/o"; then ok admctl_watch_done; else bad admctl_watch_done "exit $rc"; fi

# on a terminal the line is redrawn in place (carriage return + erase), then the final state
if command -v script > /dev/null; then
  script -qec "$A watch 1 --db $DB" /dev/null > "$tmp/tty" 2>&1; rc=$?
  if [ $rc -eq 0 ] && grep -q "$(printf '\r\033\[K')job 1 done: 2/2 images" "$tmp/tty"; then ok admctl_watch_tty
  else bad admctl_watch_tty "exit $rc: $(od -c "$tmp/tty" | head -3)"; fi
else echo "SKIP admctl_watch_tty (no script(1))"; fi

run show 2 --db "$DB"
if [ $rc -eq 0 ] && grep -q "job 2: done" "$tmp/o" && grep -q "^provenance" "$tmp/o" && grep -q "device" "$tmp/o" &&
   grep -q "outputs (2)" "$tmp/o" && grep -q "class 8" "$tmp/o"; then ok admctl_show_done
else bad admctl_show_done "exit $rc"; fi

# every recorded path exists, and its sha256 is the recorded one
run show 1 --db "$DB"
shaok=1
for p in $("$A" show 1 --db "$DB" --paths) $("$A" show 2 --db "$DB" --paths); do
  [ -f "$p" ] || shaok=0
  sha=$(sha256sum "$p" | cut -c1-16)
  grep -q "sha256 $sha" "$tmp/o" || "$A" show 2 --db "$DB" | grep -q "sha256 $sha" || shaok=0
done
if [ $shaok -eq 1 ] && [ "$("$A" show 1 --db "$DB" --paths | wc -l)" -eq 2 ]; then ok admctl_show_paths_sha
else bad admctl_show_paths_sha "a path or sha256 does not match"; fi

# sheet: 4 images of 32x32 at zoom 2 in 4 columns: 4*(64+6)+6 = 286 wide
run sheet 1 2 --db "$DB" --out "$tmp/sheet.png"
if [ $rc -eq 0 ] && [ -s "$tmp/sheet.png" ] && [ "$(png_size "$tmp/sheet.png")" = "286 121" ] && grep -q "4 image" "$tmp/o"; then
  ok admctl_sheet
else bad admctl_sheet "exit $rc, size $(png_size "$tmp/sheet.png" 2>/dev/null)"; fi
# many cells (jobs repeated): the cell arrays grow while images load (ASan run: no stale pointers)
run sheet 1 2 1 2 1 2 1 2 --db "$DB" --out "$tmp/sheet8.png" --cols 4
if [ $rc -eq 0 ] && grep -q "16 image" "$tmp/o" && [ "$(png_size "$tmp/sheet8.png")" = "286 394" ]; then ok admctl_sheet_many
else bad admctl_sheet_many "exit $rc, size $(png_size "$tmp/sheet8.png" 2>/dev/null)"; fi
run sheet 1 --db "$DB" --out "$tmp/nodir/sheet.png"
if [ $rc -eq 1 ] && grep -q "nodir" "$tmp/e"; then ok admctl_sheet_bad_out; else bad admctl_sheet_bad_out "exit $rc"; fi
# --jobs: judge finished jobs as they are (what the fresh-clone test does with the demo)
# shellcheck disable=SC2086
run sweep --db "$DB" --jobs 1-2 --out-dir "$tmp/judge" $DEV
if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/judge/sweep.tsv")" -eq 2 ] && grep -q "^4	1-2	4	" "$tmp/judge/sweep.tsv" &&
   [ -s "$tmp/judge/sheet-scale-4.png" ]; then ok admctl_sweep_judge_jobs; cat "$tmp/o"
else bad admctl_sweep_judge_jobs "exit $rc"; fi
# --ref: FID, precision, recall per scale against a reference batch, stored in evaluations
# shellcheck disable=SC2086
run sweep --db "$DB" --jobs 1-2 --out-dir "$tmp/judge2" --ref tests/data/eval/ref_mnist_500.npz $DEV
if [ $rc -eq 0 ] && head -1 "$tmp/judge2/sweep.tsv" | grep -q "fid" && grep -q "precision" "$tmp/o" &&
   [ "$(sqlite3 "$DB" "SELECT count(*) FROM evaluations WHERE samples = 'jobs 1,2' AND sample_count = 4")" = 1 ]; then
  ok admctl_sweep_ref_eval
else bad admctl_sweep_ref_eval "exit $rc"; fi
run sweep --db "$DB" --jobs 1,99
if [ $rc -eq 1 ] && grep -q "no job 99" "$tmp/e"; then ok admctl_sweep_judge_unknown; else bad admctl_sweep_judge_unknown "exit $rc"; fi

# a missing PNG is marked on the sheet and named on stderr, exit 1
rm -f "$("$A" show 2 --db "$DB" --paths | head -1)"
run sheet 2 --db "$DB" --out "$tmp/sheet2.png"
if [ $rc -eq 1 ] && [ -s "$tmp/sheet2.png" ] && grep -q "job 2 image 0" "$tmp/e"; then ok admctl_sheet_missing_png
else bad admctl_sheet_missing_png "exit $rc"; fi

# a small sweep: 2 scales, 4 images each, admd started by admctl
if [ -n "$ADMD_QUICK" ]; then
  echo "SKIP admctl_sweep (ADMD_QUICK)"
else
  # shellcheck disable=SC2086
  run sweep --db "$DB" --model mnist --scales 0,4 --count 4 --class 7 --respacing 10 --seed 3 --drain \
      --out-dir "$tmp/sw" --timeout 600 $DEV
  if [ $rc -eq 0 ] && [ -s "$tmp/sw/sweep.png" ] && [ -s "$tmp/sw/sheet-scale-0.png" ] &&
     [ -s "$tmp/sw/sheet-scale-4.png" ] && [ "$(wc -l < "$tmp/sw/sweep.tsv")" -eq 3 ] &&
     [ "$(png_size "$tmp/sw/sweep.png")" = "600 360" ]; then
    ok admctl_sweep
    cat "$tmp/o"
  else bad admctl_sweep "exit $rc"; fi
  # same seed, same class: at scale 4 the classifier must recognise the 7s
  acc4=$(awk -F'\t' '$1 == "4" {print $5}' "$tmp/sw/sweep.tsv")
  if [ -n "$acc4" ] && awk -v a="$acc4" 'BEGIN {exit !(a >= 0.75)}'; then ok admctl_sweep_accuracy
  else bad admctl_sweep_accuracy "accuracy at scale 4: '$acc4'"; fi
fi
expect_usage() {
  run "$@"
  if [ $rc -eq 2 ]; then ok "admctl_$1_usage"; else bad "admctl_$1_usage" "exit $rc"; fi
}
expect_usage sweep --db "$DB" --model mnist
run sweep --db "$DB" --model nope --scales 1
if [ $rc -eq 1 ] && grep -q "unknown model" "$tmp/e"; then ok admctl_sweep_unknown_model; else bad admctl_sweep_unknown_model "exit $rc"; fi
exit 0
