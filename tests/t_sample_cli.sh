#!/bin/sh
# t_sample_cli.sh — `admctl sample` end to end on the reference models
# (unet_a guided by classifier_a): a replay of recorded noise, Philox
# sampling that is deterministic and independent of batching (image 1 of a
# 2-image run has the same PNG bytes as image 1 sampled alone), and bad
# arguments: a clear "admctl:" error and a non-zero exit, never a crash.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- ${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
DEV="$*"
M="--unet $R/unet_a/model.pt --unet-config $R/unet_a/config.txt --classifier $R/classifier_a/model.pt
   --classifier-config $R/classifier_a/config.txt --noise-schedule cosine"

CMD=sample
. tests/lib.sh    # expect_fail NAME TEXT ARGS... (admctl sample $DEV ARGS...)

if [ ! -x "$A" ]; then echo "FAIL sample_cli: $A not built"; exit 1; fi

T=$R/traj_ddim10_guided
if "$A" sample $DEV $M --respacing ddim10 --sampler ddim --scale 3 --y $T/y.npy --x-T $T/x_T.npy \
     --noise $T/noise.npy --out "$tmp/final.npy" --png-dir "$tmp/png" > "$tmp/o" 2> "$tmp/e" &&
   [ "$(wc -c < "$tmp/final.npy")" -eq "$(wc -c < $T/final.npy)" ] &&
   [ -s "$tmp/png/sample_00000.png" ] && [ -s "$tmp/png/sample_00001.png" ]; then
  echo "PASS sample_cli_replay"
else
  echo "FAIL sample_cli_replay:"; cat "$tmp/o" "$tmp/e"
fi

P="--respacing 10 --sampler ddpm --scale 2 --seed 77"
if "$A" sample $DEV $M $P --count 2 --batch 2 --out "$tmp/a.npy" --png-dir "$tmp/a" > "$tmp/o" 2> "$tmp/e" &&
   "$A" sample $DEV $M $P --count 2 --batch 2 --out "$tmp/a2.npy" >> "$tmp/o" 2>> "$tmp/e" &&
   "$A" sample $DEV $M $P --first-index 1 --count 1 --out "$tmp/b.npy" --png-dir "$tmp/b" >> "$tmp/o" 2>> "$tmp/e" &&
   cmp -s "$tmp/a.npy" "$tmp/a2.npy" && cmp -s "$tmp/a/sample_00001.png" "$tmp/b/sample_00001.png"; then
  echo "PASS sample_cli_seed_reproducible"
else
  echo "FAIL sample_cli_seed_reproducible:"; cat "$tmp/o" "$tmp/e"; ls -l "$tmp" "$tmp/a" "$tmp/b"
fi

expect_fail sample_cli_no_unet "--unet is required" --respacing 10 --sampler ddpm --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail sample_cli_bad_sampler "unknown sampler" $M --respacing 10 --sampler euler --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail sample_cli_bad_respacing "ddim7x" $M --respacing ddim7x --sampler ddim --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail sample_cli_scale_needs_classifier "needs --classifier" --unet $R/unet_a/model.pt \
  --unet-config $R/unet_a/config.txt --respacing 10 --sampler ddpm --scale 1 --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail sample_cli_bad_class "outside" $M --respacing 10 --sampler ddpm --class 10 --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail sample_cli_noise_steps "steps" $M --respacing 25 --sampler ddpm --y $T/y.npy --x-T $T/x_T.npy \
  --noise $T/noise.npy --out "$tmp/x.npy"
expect_fail sample_cli_missing_file "nothere" $M --respacing 10 --sampler ddpm --y $tmp/nothere.npy --seed 1 --count 2 --out "$tmp/x.npy"
expect_fail sample_cli_bad_eta "eta" $M --respacing ddim10 --sampler ddim --eta 2 --seed 1 --count 1 --out "$tmp/x.npy"

# Super-resolution (superres_a, the upsamplers' network): the reference's
# DDIM 10 replay from its uint8 low-resolution images, final within 2e-3.
S=$R/traj_superres_ddim10
U="--unet $R/superres_a/model.pt --unet-config $R/superres_a/config.txt --noise-schedule cosine"
if "$A" sample $DEV $U --respacing ddim10 --sampler ddim --y $S/y.npy --x-T $S/x_T.npy --noise $S/noise.npy \
     --low-res $S/low_res_uint8.npy --out "$tmp/sr.npy" --png-dir "$tmp/sr" > "$tmp/o" 2> "$tmp/e" &&
   "$A" compare "$tmp/sr.npy" $S/final.npy --tol 2e-3 >> "$tmp/o" 2>> "$tmp/e" &&
   "$A" sample $DEV $U --respacing ddim10 --sampler ddim --y $S/y.npy --x-T $S/x_T.npy --noise $S/noise.npy \
     --low-res $S/low_res.npy --out "$tmp/sr2.npy" >> "$tmp/o" 2>> "$tmp/e" &&
   cmp -s "$tmp/sr.npy" "$tmp/sr2.npy" && [ -s "$tmp/sr/sample_00001.png" ]; then
  echo "PASS sample_cli_superres_replay"
else
  echo "FAIL sample_cli_superres_replay:"; cat "$tmp/o" "$tmp/e"
fi
# Philox: stage 2's stream (--stage 2) differs from stage 1's, each reproducible
if "$A" sample $DEV $U --respacing 5 --sampler ddpm --y $S/y.npy --seed 3 --count 2 --low-res $S/low_res.npy \
     --stage 2 --out "$tmp/s2a.npy" > "$tmp/o" 2> "$tmp/e" &&
   "$A" sample $DEV $U --respacing 5 --sampler ddpm --y $S/y.npy --seed 3 --count 2 --low-res $S/low_res.npy \
     --stage 2 --out "$tmp/s2b.npy" >> "$tmp/o" 2>> "$tmp/e" &&
   "$A" sample $DEV $U --respacing 5 --sampler ddpm --y $S/y.npy --seed 3 --count 2 --low-res $S/low_res.npy \
     --out "$tmp/s1.npy" >> "$tmp/o" 2>> "$tmp/e" &&
   cmp -s "$tmp/s2a.npy" "$tmp/s2b.npy" && ! cmp -s "$tmp/s1.npy" "$tmp/s2a.npy"; then
  echo "PASS sample_cli_superres_stage_stream"
else
  echo "FAIL sample_cli_superres_stage_stream:"; cat "$tmp/o" "$tmp/e"
fi
expect_fail sample_cli_superres_needs_low_res "give --low-res" $U --respacing ddim10 --sampler ddim --y $S/y.npy \
  --x-T $S/x_T.npy --noise $S/noise.npy --out "$tmp/x.npy"
expect_fail sample_cli_low_res_base_model "only for super-resolution" $M --respacing ddim10 --sampler ddim --scale 3 \
  --y $T/y.npy --x-T $T/x_T.npy --noise $T/noise.npy --low-res $S/low_res.npy --out "$tmp/x.npy"
expect_fail sample_cli_low_res_shape "want float32 or uint8" $U --respacing ddim10 --sampler ddim --y $S/y.npy \
  --x-T $S/x_T.npy --noise $S/noise.npy --low-res $S/y.npy --out "$tmp/x.npy"
expect_fail sample_cli_low_res_batch "want float32 or uint8 \[3" $U --respacing 5 --sampler ddpm --class 1 \
  --seed 1 --count 3 --low-res $S/low_res.npy --out "$tmp/x.npy"
