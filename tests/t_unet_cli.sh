#!/bin/sh
# t_unet_cli.sh — `admctl unet` on the reference data: good runs (output
# written, activations dumped, same bytes twice, SuperResModel with
# --low-res) and bad inputs (mismatched config, missing file, wrong shapes,
# wrong labels): a clear one-line error and a non-zero exit, never a crash.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- ${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
DEV="$*"

CMD=unet
. tests/lib.sh    # expect_fail NAME TEXT ARGS... (admctl unet $DEV ARGS...)

if [ ! -x "$A" ]; then echo "FAIL unet_cli: $A not built"; exit 1; fi

C=$R/unet_c
if "$A" unet $DEV --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/t.npy \
     --out "$tmp/out1.npy" --dump-dir "$tmp/dump" > "$tmp/o" 2> "$tmp/e" &&
   "$A" unet $DEV --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/t.npy \
     --out "$tmp/out2.npy" >> "$tmp/o" 2>> "$tmp/e" &&
   [ "$(wc -c < "$tmp/out1.npy")" -eq "$(wc -c < $C/out.npy)" ] &&
   cmp -s "$tmp/out1.npy" "$tmp/out2.npy" &&
   [ -s "$tmp/dump/act/middle_block.npy" ] && [ -s "$tmp/dump/act/output_blocks.3.npy" ]; then
  echo "PASS unet_cli_good_run"
  cat "$tmp/o"
else
  echo "FAIL unet_cli_good_run:"; cat "$tmp/o" "$tmp/e"; ls -R "$tmp"
fi

S=$R/superres_a
if "$A" unet $DEV --checkpoint $S/model.pt --config $S/config.txt --x $S/x.npy --t $S/t.npy --y $S/y.npy \
     --low-res $S/low_res.npy --out "$tmp/sr.npy" > "$tmp/o" 2> "$tmp/e" &&
   [ "$(wc -c < "$tmp/sr.npy")" -eq "$(wc -c < $S/out.npy)" ]; then
  echo "PASS unet_cli_superres"
else
  echo "FAIL unet_cli_superres:"; cat "$tmp/o" "$tmp/e"
fi

U=$R/unet_a
expect_fail unet_cli_mismatched_config "match" \
  --checkpoint $C/model.pt --config $U/config.txt --x $C/x.npy --t $C/t.npy --y $U/y.npy --out "$tmp/x.npy"
expect_fail unet_cli_missing_checkpoint "$tmp/nope.pt" \
  --checkpoint "$tmp/nope.pt" --config $C/config.txt --x $C/x.npy --t $C/t.npy --out "$tmp/x.npy"
expect_fail unet_cli_missing_x "$tmp/nope.npy" \
  --checkpoint $C/model.pt --config $C/config.txt --x "$tmp/nope.npy" --t $C/t.npy --out "$tmp/x.npy"
expect_fail unet_cli_x_channels "x must be float32 \[B, 3, H, W\]" \
  --checkpoint $C/model.pt --config $C/config.txt --x $U/out.npy --t $C/t.npy --out "$tmp/x.npy"
expect_fail unet_cli_t_shape "t must be a float or int vector" \
  --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/x.npy --out "$tmp/x.npy"
expect_fail unet_cli_labels_unconditional "unconditional" \
  --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/t.npy --y $U/y.npy --out "$tmp/x.npy"
expect_fail unet_cli_labels_missing "class-conditional" \
  --checkpoint $U/model.pt --config $U/config.txt --x $U/x.npy --t $U/t.npy --out "$tmp/x.npy"
expect_fail unet_cli_low_res_missing "low-res" \
  --checkpoint $S/model.pt --config $S/config.txt --x $S/x.npy --t $S/t.npy --y $S/y.npy --out "$tmp/x.npy"
expect_fail unet_cli_bad_config "$tmp/nope.txt" \
  --checkpoint $C/model.pt --config "$tmp/nope.txt" --x $C/x.npy --t $C/t.npy --out "$tmp/x.npy"
expect_fail unet_cli_bad_device "device" \
  --device "no-such-device-xyz" --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/t.npy --out "$tmp/x.npy"
# a bare number is a device index, never a name substring ("1" would match "avx512")
expect_fail unet_cli_device_index_out_of_range "there are only" \
  --device 99 --checkpoint $C/model.pt --config $C/config.txt --x $C/x.npy --t $C/t.npy --out "$tmp/x.npy"

"$A" unet --checkpoint $C/model.pt > /dev/null 2> "$tmp/e"
rc=$?
if [ $rc -eq 2 ] && grep -q "required" "$tmp/e"; then echo "PASS unet_cli_usage"; else echo "FAIL unet_cli_usage (exit $rc)"; cat "$tmp/e"; fi
