#!/bin/sh
# t_admctl_watch.sh — `admctl watch` tells the truth and fits the terminal:
# a real admd runs a 4-image MNIST job whose first pass is one image (then
# the other three), while two watches follow it on pseudo-terminals of 80
# and 40 columns (script(1), stty cols).  Every redraw is at most columns-1
# wide (so it never wraps and scrolls), the percentage never goes back, it
# stays at or below 25% while only the first one-image pass runs (the old
# bar showed 100% at the end of it), and the pass's images are shown; a
# watch on a pipe gets plain lines with the same fraction.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
D=$BUILD/admd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
DEV=${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
. tests/lib.sh

for b in "$A" "$D"; do [ -x "$b" ] || { echo "FAIL admctl_watch: $b not built"; exit 1; }; done
if ! command -v script > /dev/null; then echo "FAIL admctl_watch: script(1) missing (bsdutils)"; exit 1; fi

"$A" init --db "$DB" > /dev/null 2>&1 || { fail watch_init "admctl init"; exit 1; }
"$A" submit --db "$DB" --model mnist --class 3 --count 4 --respacing 20 --seed 1 > /dev/null 2>&1 || fail watch_submit submit

script -qec "stty cols 80; $A watch 1 --db $DB --interval 0.1" /dev/null > "$tmp/tty80" 2>&1 &
w80=$!
script -qec "stty cols 40; $A watch 1 --db $DB --interval 0.1" /dev/null > "$tmp/tty40" 2>&1 &
w40=$!
"$A" watch 1 --db "$DB" --interval 0.1 > "$tmp/pipe" 2>&1 &
wp=$!
sleep 1
# shellcheck disable=SC2086
if ! "$D" --db "$DB" --drain --pass-seconds 86400 $DEV > "$tmp/d.log" 2>&1; then
  fail watch_daemon "$(tail -3 "$tmp/d.log")"
  "$A" cancel 1 --db "$DB" > /dev/null 2>&1     # the watches end with the job
fi
wait $w80; r80=$?; wait $w40; r40=$?; wait $wp; rp=$?
check watch_exit_status [ "$r80$r40$rp" = 000 ]

# every redraw, one per line: split at CR and LF, drop the erase sequence
lines() { tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -v '^$'; }
lines "$tmp/tty80" > "$tmp/l80"; lines "$tmp/tty40" > "$tmp/l40"
n=$(grep -c ' step ' "$tmp/l80")
check watch_saw_progress [ "$n" -ge 5 ]
check watch_80_never_wraps awk 'length($0) > 79 { print "too wide: " length($0) ": " $0; bad = 1 } END { exit bad }' "$tmp/l80"
check watch_40_never_wraps awk 'length($0) > 39 { print "too wide: " length($0) ": " $0; bad = 1 } END { exit bad }' "$tmp/l40"
check watch_80_has_bar grep -q 'job 1 \[#*\.*\] *[0-9]*% step [0-9]*/20 img ' "$tmp/l80"
check watch_done_line grep -q 'job 1 done: 4/4 images' "$tmp/l80"
# the fraction: never backwards; at most 25% while the one-image first pass runs
check watch_first_pass_honest awk '/ img 0\+1\/4 / { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p); seen = 1
  if (p + 0 > 25) { print "first pass shown as " p "%: " $0; bad = 1 } } END { exit bad || !seen }' "$tmp/l80"
check watch_pass_shown grep -q ' img 1+3/4 ' "$tmp/l80"
check watch_monotonic awk '/%/ { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p)
  if (p + 0 < last) { print "went back to " p "%: " $0; bad = 1 } last = p + 0 } END { exit bad }' "$tmp/l80"
# a pipe: plain lines, the same honest fraction
check watch_pipe_plain sh -c "! grep -q \"\$(printf '\\033')\" '$tmp/pipe' && grep -q 'job 1 running: [0-9]*%, step' '$tmp/pipe' &&
  grep -q 'job 1 done: 4/4 images' '$tmp/pipe'"
check watch_pipe_first_pass_honest awk '/images 0 done, 1 in this pass/ { p = $0; sub(/%.*/, "", p); sub(/.*running: /, "", p)
  if (p + 0 > 25) bad = 1 } END { exit bad }' "$tmp/pipe"
