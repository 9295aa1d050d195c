#!/bin/sh
# t_inspect.sh — `admctl inspect` as a person uses it: the listing, the
# inferred config, validation with --config, --tensor --out, and the exit
# status and one-line error for each kind of bad input.
B=${ADM_BUILD:-build}
A="$B/admctl"
D=tests/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x "$A" ] || { echo "FAIL t_inspect (no $A)"; exit 1; }

ok() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; }

# run NAME EXPECTED_STATUS -- command...: stdout in $T/out, stderr in $T/err
run() {
  name=$1; want=$2; shift 3
  "$@" > "$T/out" 2> "$T/err"; got=$?
  if [ "$got" -ne "$want" ]; then bad "$name" "exit $got, wanted $want; stderr: $(head -c 300 "$T/err")"; return 1; fi
  return 0
}
has() { grep -q -- "$2" "$T/$1"; }

# 1. Listing + totals + inferred config (unet_a: flat fp32 checkpoint)
if run list 0 -- "$A" inspect "$D/reference/unet_a/model.pt" &&
   has out "^f32   \[128,32\] *time_embed.0.weight" && has out "307 tensors, 2008742 parameters" &&
   has out "class-conditional     yes, 10 classes" && has out "ResBlock up/down" &&
   has out "channel_mult          1,2,2" && has out "cannot infer .*num_heads" && [ ! -s "$T/err" ]; then ok inspect_list
else bad inspect_list "$(head -c 300 "$T/out")"; fi

# 1b. The layers of the inferred config (its network description): the skip
# concatenated in each output block, the resolution, up/down ResBlocks;
# the classifier's list ends with the middle block.
if run layers 0 -- "$A" inspect "$D/reference/unet_a/model.pt" --brief &&
   has out "^layers (33," && has out "^  input_blocks.3.0 *ResBlock *32 -> 32 *at 1/1, down$" &&
   has out "^  output_blocks.5.0 *ResBlock *64+32 -> 64 *at 1/2$" && has out "^  output_blocks.5.2 *ResBlock *64 -> 64 *at 1/2, up$" &&
   run layers 0 -- "$A" inspect "$D/reference/classifier_a/model.pt" --brief &&
   has out "^  middle_block.2 *ResBlock" && ! has out "^  output_blocks"; then ok inspect_layers
else bad inspect_layers "$(grep -A40 '^layers' "$T/out" | head -c 600)"; fi

# 2. Each reference checkpoint validates against its config.txt (exit 0)
all=1
for c in unet_a unet_a_f16 unet_b unet_c superres_a classifier_a; do
  run "validate_$c" 0 -- "$A" inspect "$D/reference/$c/model.pt" --brief --config "$D/reference/$c/config.txt" &&
    has out "matches the checkpoint" || { all=0; bad "validate_$c" "$(tail -3 "$T/out")"; }
done
[ $all = 1 ] && ok inspect_validate_reference

# 3. The half checkpoint says f16; superres and classifier are recognised
run kinds 0 -- "$A" inspect "$D/reference/unet_a_f16/model.pt" --brief && has out "307 f16" &&
  run kinds 0 -- "$A" inspect "$D/reference/superres_a/model.pt" --brief && has out "SuperResModel" &&
  run kinds 0 -- "$A" inspect "$D/reference/classifier_a/model.pt" --brief && has out "EncoderUNetModel" &&
  has out "pool                  attention" && ok inspect_kinds || bad inspect_kinds "$(head -5 "$T/out")"

# 4. A wrong config: exit 1, every problem named
if run mismatch 1 -- "$A" inspect "$D/reference/unet_b/model.pt" --brief --config "$D/reference/unet_a/config.txt" &&
   has out "problems" && has out "unexpected: " && has out "missing: " && has out "shape: " &&
   has err "does not match config"; then ok inspect_mismatch
else bad inspect_mismatch "$(tail -5 "$T/out")"; fi

# 5. Presets and README flags as --config
run preset 1 -- "$A" inspect "$D/reference/unet_a/model.pt" --brief --config 64x64 && has out "problems" &&
  run flags 0 -- "$A" inspect "$D/reference/unet_c/model.pt" --brief --config \
    "--image_size 16 --num_channels 32 --num_res_blocks 1 --channel_mult 1,2 --attention_resolutions 8 --use_scale_shift_norm False" &&
  ok inspect_config_spellings || bad inspect_config_spellings "$(tail -3 "$T/out")"

# 6. --tensor --out writes .npy; the bytes are the tensor's (compare with the sha list)
if run tensor 0 -- "$A" inspect "$D/reference/unet_c/model.pt" --tensor out.2.weight --out "$T/w.npy" &&
   [ -s "$T/w.npy" ] && has out "wrote"; then
  want=$(grep '^out.2.weight ' "$D/pt/unet_c.sha256" | cut -d' ' -f4)
  # .npy: 128-byte header for this shape (magic+len+dict padded to 64 multiple)
  hl=$(od -An -tu2 -j8 -N2 "$T/w.npy" | tr -d ' ')
  got=$(tail -c +$((10 + hl + 1)) "$T/w.npy" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] && ok inspect_tensor_npy || bad inspect_tensor_npy "sha $got != $want"
else bad inspect_tensor_npy "$(cat "$T/err")"; fi
run tensor_missing 1 -- "$A" inspect "$D/reference/unet_c/model.pt" --tensor nope --out "$T/x.npy" &&
  has err "no tensor named 'nope'" && ok inspect_tensor_missing || bad inspect_tensor_missing "$(cat "$T/err")"

# 7. Bad inputs: exit 1, one line on stderr naming the file and the problem
allbad=1
check_bad() {  # file pattern
  if run "bad $1" 1 -- "$A" inspect "$1" && [ "$(wc -l < "$T/err")" -eq 1 ] && has err "$1" && has err "$2"; then :; else
    allbad=0; bad "inspect_bad $1" "$(cat "$T/err")"; fi
}
check_bad "$D/pt/bad/truncated.pt" "zip"
check_bad "$D/pt/bad/corrupt_zip.pt" "zip"
check_bad "$D/pt/bad/bad_opcode.pt" "unknown pickle opcode"
check_bad "$D/pt/bad/global_os_system.pt" "os.system"
check_bad "$D/pt/bad/short_storage.pt" "holds 20 bytes"
check_bad "$D/pt/bad/absurd_shape.pt" "absurd"
check_bad "$D/pt/bad/size_overflow.pt" "overflow"
check_bad "$D/pt/bad/noncontiguous.pt" "non-contiguous"
check_bad "$D/pt/bad/empty.pt" "empty"
check_bad "$D/pt" "directory"
check_bad "$D/pt/nonexistent.pt" "No such file"
[ $allbad = 1 ] && ok inspect_bad_inputs

# 8. Usage errors: exit 2
run usage 2 -- "$A" inspect && run usage 2 -- "$A" inspect a b && run usage 2 -- "$A" inspect x --tensor y &&
  run usage 2 -- "$A" inspect x --frobnicate && ok inspect_usage || bad inspect_usage "see above"
run help 0 -- "$A" inspect --help && has out "usage: admctl inspect" && ok inspect_help || bad inspect_help "no usage"

# 9. safetensors input
run st 0 -- "$A" inspect "$D/pt/small.safetensors" && has out "13 tensors" && has out "bf16" &&
  ok inspect_safetensors || bad inspect_safetensors "$(tail -3 "$T/out")"
exit 0
