#!/bin/sh
# t_admctl_convert.sh — `admctl convert`: the shipped fp16 model files are
# exactly what convert makes from the original .pt checkpoints (so anyone
# can re-derive them), conversions keep every tensor's name and shape,
# fp32 -> fp32 is lossless (the inspect listings agree), a converted file
# converts again, and bad inputs get a one-line error and the right exit.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
M=models/mnist
O=tests/data/mnist        # the original fp32 .pt checkpoints of the embedded model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; [ -f "$tmp/e" ] && sed 's/^/    err: /' "$tmp/e"; }
# listing FILE: "shape name" lines (dtype dropped) from admctl inspect
listing() { "$A" inspect "$1" 2>/dev/null | awk '$2 ~ /^\[/ {print $2, $3}'; }

if [ ! -x "$A" ]; then echo "FAIL admctl_convert: $A not built"; exit 1; fi

# the embedded model: shipped .safetensors == convert --fp16 of the original .pt
for net in unet classifier; do
  if "$A" convert $O/$net.pt "$tmp/$net.safetensors" --fp16 > "$tmp/o" 2> "$tmp/e" &&
     cmp -s "$tmp/$net.safetensors" $M/$net.safetensors; then
    ok convert_reproduces_$net; sed 's/^/  /' "$tmp/o"
  else bad convert_reproduces_$net "differs from $M/$net.safetensors"; fi
done

# names and shapes survive; the file is about half the size
C=$R/classifier_a/model.pt
if "$A" convert $C "$tmp/c16.safetensors" --fp16 > "$tmp/o" 2> "$tmp/e" &&
   [ -n "$(listing $C)" ] && [ "$(listing $C)" = "$(listing "$tmp/c16.safetensors")" ] &&
   "$A" inspect "$tmp/c16.safetensors" | grep -q "^f16 "; then
  ok convert_fp16_keeps_tensors
else bad convert_fp16_keeps_tensors "listing differs"; fi
# fp32 -> safetensors -> safetensors: lossless both times (identical bytes the second time)
U=$R/unet_c/model.pt
if "$A" convert $U "$tmp/u32.safetensors" > /dev/null 2> "$tmp/e" &&
   "$A" convert "$tmp/u32.safetensors" "$tmp/u32b.safetensors" > /dev/null 2>> "$tmp/e" &&
   cmp -s "$tmp/u32.safetensors" "$tmp/u32b.safetensors" &&
   [ "$(listing $U)" = "$(listing "$tmp/u32.safetensors")" ] &&
   ! "$A" inspect "$tmp/u32.safetensors" | grep -q "^f16 "; then
  ok convert_fp32_roundtrip
else bad convert_fp32_roundtrip "not lossless"; fi

# errors
expect() {
  name=$1 code=$2 want=$3; shift 3
  "$A" convert "$@" > "$tmp/o" 2> "$tmp/e"; rc=$?
  if [ $rc -eq "$code" ] && grep -q -- "$want" "$tmp/e"; then ok "$name"; else bad "$name" "exit $rc, wanted $code and '$want'"; fi
}
echo "not a checkpoint" > "$tmp/junk.pt"
expect convert_missing_input 1 "nothere.pt" "$tmp/nothere.pt" "$tmp/x.safetensors"
expect convert_junk_input 1 "junk.pt" "$tmp/junk.pt" "$tmp/x.safetensors"
expect convert_bad_output 1 "nodir" $C "$tmp/nodir/x.safetensors"
expect convert_usage 2 "usage" $C
expect convert_bad_option 2 "unknown option" $C "$tmp/x.safetensors" --fp8
[ ! -e "$tmp/x.safetensors" ] && ok convert_no_partial_output || bad convert_no_partial_output "x.safetensors left behind"
exit 0
