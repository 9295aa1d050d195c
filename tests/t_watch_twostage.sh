#!/bin/sh
# t_watch_twostage.sh — `admctl watch` of a two-stage job (base model, then
# an upsampler) through a real admd on a real spool, with the random-weight
# reference models (unet_c 16x16 as the base, 100 steps; superres_a 16 -> 32
# as the upsampler, 25 steps; one image a pass).  A watch on an 80-column
# pseudo-terminal (script(1)) and one on a pipe follow it: the stage is
# named ("stage 1/2", then "stage 2/2"), the fraction spans both stages in
# image-steps (so stage 1 never shows more than 100/125 = 80%, and its
# recorded images count), it never goes back, and no line wraps.  (Before,
# stage 1 showed its steps as if they were the whole job's, at 0%.)
. tests/daemon_common.sh
need "$ADMCTL"
command -v script > /dev/null || { fail watch_twostage "script(1) missing (bsdutils)"; exit 1; }
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
UPCFG=$(pwd)/tests/data/twostage/superres_a_16.config.txt
q "INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('c', '$R/unet_c/model.pt', '$R/unet_c/config.txt', '100');
   INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('up', '$R/superres_a/model.pt', '$UPCFG', '25');"
A=$ADMCTL
id=$("$A" submit --db "$DB" --model c --upsampler up --count 4 --seed 3 2> "$T/e")
check twostage_submitted [ "$id" = 1 ]

script -qec "stty cols 80; $A watch 1 --db $DB --interval 0.1" /dev/null > "$T/tty80" 2>&1 &
w80=$!
"$A" watch 1 --db "$DB" --interval 0.1 > "$T/pipe" 2>&1 &
wp=$!
sleep 0.5
# shellcheck disable=SC2086
if ! "$ADMD" --db "$DB" --drain --batch 1 --progress-interval 0.05 $DEVICE_ARGS > "$T/d.log" 2>&1; then
  fail watch_twostage_daemon "$(tail -3 "$T/d.log")"
  "$A" cancel 1 --db "$DB" > /dev/null 2>&1     # the watches end with the job
fi
wait $w80; r80=$?; wait $wp; rp=$?
check watch_twostage_exit_status [ "$r80$rp" = 00 ]

tr '\r' '\n' < "$T/tty80" | sed 's/\x1b\[K//g' | grep -v '^$' > "$T/l80"
# the bar lines: "job 1 [##..] NN% stage S/2 step ..."
check watch_twostage_stage1_named grep -q 'job 1 \[[#.]*\] *[0-9]*% stage 1/2 step [0-9]*/100 img [0-9]/4 ' "$T/l80"
check watch_twostage_stage2_named grep -q 'job 1 \[[#.]*\] *[0-9]*% stage 2/2 step [0-9]*/25 img [0-9]+1/4 ' "$T/l80"
check watch_twostage_stage1_at_most_80 awk '/\] .* stage 1\/2 / { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p)
  if (p + 0 > 80) { print "stage 1 shown as " p "%: " $0; bad = 1 } } END { exit bad }' "$T/l80"
check watch_twostage_stage2_from_80 awk '/\] .* stage 2\/2 / { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p)
  if (p + 0 < 80) { print "stage 2 shown as " p "%: " $0; bad = 1 } } END { exit bad }' "$T/l80"
# stage-1 images count while stage 1 runs: 1 of 4 done is 20% of the job
check watch_twostage_stage1_images_count awk '/ stage 1\/2 .* img [1-3]\/4 / { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p)
  if (p + 0 >= 20) seen = 1 } END { exit !seen }' "$T/l80"
check watch_twostage_monotonic awk '/\] .*%/ { p = $0; sub(/%.*/, "", p); sub(/.*\] */, "", p)
  if (p + 0 < last) { print "went back to " p "%: " $0; bad = 1 } last = p + 0 } END { exit bad }' "$T/l80"
check watch_twostage_never_wraps awk 'length($0) > 79 { print "too wide: " length($0) ": " $0; bad = 1 } END { exit bad }' "$T/l80"
check watch_twostage_done grep -q 'job 1 done: 4/4 images' "$T/l80"
check watch_twostage_pipe sh -c "grep -q 'job 1 running: stage 1/2, [0-9]*%, step [0-9]*/100, stage-1 images [0-9] done of 4' '$T/pipe' &&
  grep -q 'job 1 running: stage 2/2, [0-9]*%, step' '$T/pipe' && grep -q 'job 1 done: 4/4 images' '$T/pipe'"
if [ -n "$VERBOSE" ]; then cat "$T/l80" "$T/pipe"; fi
