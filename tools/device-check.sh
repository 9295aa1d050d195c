#!/bin/sh
# device-check.sh — one command, no questions: is this GPU (or accelerator)
# right and how fast is it?  On the first non-CPU OpenCL device (or
# --device D) it runs, with the GPU paths (ADMD_BACKEND=auto: the engine
# per shape chosen by measurement; ADMD_STEP=device: the device-resident
# sampler) even where the device also calls itself a CPU:
#   1. the self-test (admctl devices),
#   2. parity against the reference outputs of the PyTorch code
#      (tests/data/reference): unet_a, unet_c, classifier_a (logits and
#      input gradient), the guided trajectory traj_ddim10_guided (replayed
#      noise through the device-resident sampler),
#   3. admctl bench at 64x64, 128x128, 256x256: UNet forward, classifier
#      gradient, a whole guided step, each at batch 1 and at the best batch
#      of a few tried, and the engine chosen per shape,
# then writes one JSON file (--out, default device-check.json) and prints a
# short table.  Exit status 0 when every check passed, 1 otherwise.
#
#   tools/device-check.sh [--device D] [--out FILE] [--small]
#                         [--parity LIST] [--sizes LIST]
#
# --small: the reference unet_a / classifier_a shapes instead of the
# 64..256 presets, one iteration (PoCL: about a minute once the caches are
# warm).  --parity unet_a,unet_c,classifier_a,traj (the default; "none")
# and --sizes 64x64,128x128,256x256 (the default; "small" with --small;
# "none") choose parts, e.g. for a simulator such as Oclgrind, where one
# UNet forward of the 16x16 unet_c takes minutes.  ADMCTL (default build/admctl) and
# ADM_TEST_DATA (default tests/data) say where the binary and data are.
set -u
ADMCTL=${ADMCTL:-build/admctl}
DATA=${ADM_TEST_DATA:-tests/data}/reference
DEVICE= OUT=device-check.json SMALL=0 PARITY=unet_a,unet_c,classifier_a,traj SIZES=
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=${2:?--device needs a value}; shift 2;;
    --device=*) DEVICE=${1#--device=}; shift;;
    --out) OUT=${2:?--out needs a value}; shift 2;;
    --out=*) OUT=${1#--out=}; shift;;
    --small) SMALL=1; shift;;
    --parity) PARITY=${2:?--parity needs a value}; shift 2;;
    --parity=*) PARITY=${1#--parity=}; shift;;
    --sizes) SIZES=${2:?--sizes needs a value}; shift 2;;
    --sizes=*) SIZES=${1#--sizes=}; shift;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "device-check: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
wants() { case ",$PARITY," in *",$1,"*) return 0;; esac; return 1; }
[ -x "$ADMCTL" ] || { echo "device-check: $ADMCTL not found: run make first" >&2; exit 1; }
[ -d "$DATA" ] || { echo "device-check: reference data $DATA not found" >&2; exit 1; }
export ADMD_BACKEND="${ADMD_BACKEND:-auto}" ADMD_STEP="${ADMD_STEP:-device}"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
start=$(date +%s)
ok=1
json="$work/json"; : > "$json"
emit() { printf '%s\n' "$1" >> "$json"; }   # one JSON value per line, joined at the end

# ---- 1. the device ---------------------------------------------------------
"$ADMCTL" devices --no-test > "$work/devices.txt" 2>&1 || { cat "$work/devices.txt" >&2; exit 1; }
if [ -z "$DEVICE" ]; then
  # "  device P:D: NAME" then "    type T, ...": the first whose type is not just CPU
  DEVICE=$(awk '/^  device [0-9]+:[0-9]+:/ { id = $2; sub(/:$/, "", id) }
                /^    type / && id != "" { t = $2; sub(/,$/, "", t); if (t != "CPU") { print id; exit } id = "" }' \
           "$work/devices.txt")
  [ -n "$DEVICE" ] || { echo "device-check: no GPU or accelerator found (admctl devices); use --device D to check a CPU" >&2; exit 1; }
fi
name=$(awk -v d="$DEVICE" '$1 == "device" && $2 == d":" { $1 = ""; $2 = ""; sub(/^  /, ""); print; exit }' "$work/devices.txt")
[ -n "$name" ] || name=$DEVICE
echo "device-check on device $DEVICE ($name), engine $ADMD_BACKEND, sampler steps on the $ADMD_STEP$( [ $SMALL = 1 ] && echo ', small configs')"

# ---- 2. self-test -----------------------------------------------------------
selftest=FAIL
if "$ADMCTL" devices > "$work/selftest.txt" 2>&1; then selftest=PASS; else ok=0; fi
emit "\"selftest\":\"$selftest\""

# ---- 3. parity --------------------------------------------------------------
parity_rows=
# parity NAME TOL OUT.npy REF.npy: admctl compare's JSON line into the file
parity() {
  if [ -f "$3" ] && "$ADMCTL" compare "$3" "$4" --tol "$2" > "$work/cmp.txt" 2>&1; then r=PASS; else r=FAIL; ok=0; fi
  e=$(sed -n 's/.*"max_abs":\([^,]*\),.*/\1/p' "$work/cmp.txt")
  emit "\"parity_$1\":{\"max_abs\":${e:-null},\"tol\":$2,\"result\":\"$r\"}"
  parity_rows="$parity_rows$(printf '  %-28s %-10s %s' "$1" "${e:-error}" "$r")
"
}
for u in unet_a unet_c; do
  wants "$u" || continue
  y=; [ -f "$DATA/$u/y.npy" ] && y="--y $DATA/$u/y.npy"
  # shellcheck disable=SC2086
  "$ADMCTL" unet --device "$DEVICE" --checkpoint "$DATA/$u/model.pt" --config "$DATA/$u/config.txt" \
    --x "$DATA/$u/x.npy" --t "$DATA/$u/t.npy" $y --out "$work/$u.npy" > "$work/$u.log" 2>&1
  parity "$u" 1e-4 "$work/$u.npy" "$DATA/$u/out.npy"
done
c=$DATA/classifier_a
if wants classifier_a; then
"$ADMCTL" classifier --device "$DEVICE" --checkpoint "$c/model.pt" --config "$c/config.txt" --x "$c/x.npy" \
  --t "$c/t.npy" --y "$c/y.npy" --logits "$work/logits.npy" --grad "$work/grad.npy" > "$work/cls.log" 2>&1
parity classifier_a_logits 1e-4 "$work/logits.npy" "$c/logits.npy"
parity classifier_a_grad 1e-4 "$work/grad.npy" "$c/grad.npy"
fi
if wants traj; then
tr=$DATA/traj_ddim10_guided
scale=$(sed -n 's/^classifier_scale=//p' "$tr/config.txt")
"$ADMCTL" sample --device "$DEVICE" --unet "$DATA/unet_a/model.pt" --unet-config "$DATA/unet_a/config.txt" \
  --classifier "$c/model.pt" --classifier-config "$c/config.txt" --sampler ddim --respacing ddim10 \
  --scale "${scale:-3}" --noise-schedule "$(sed -n 's/^noise_schedule=//p' "$tr/config.txt")" \
  --y "$tr/y.npy" --x-T "$tr/x_T.npy" --noise "$tr/noise.npy" --out "$work/traj.npy" > "$work/traj.log" 2>&1
parity traj_ddim10_guided 2e-3 "$work/traj.npy" "$tr/final.npy"
fi

# ---- 4. benchmarks ------------------------------------------------------------
if [ $SMALL = 1 ]; then
  sizes="small"; batches="1,2"; iters=1
else
  sizes="64x64 128x128 256x256"; batches="1,4,16"; iters=3
fi
[ -n "$SIZES" ] && sizes=$(echo "$SIZES" | tr ',' ' ')
[ "$sizes" = none ] && sizes=
bench_rows=
# best BENCH FIELD: "batch ms" of the lowest FIELD per image among the JSON lines
best() {
  sed -n "s/.*\"bench\":\"$1\".*\"batch\":\([0-9]*\),.*\"$2\":\([0-9.]*\).*/\1 \2/p" "$work/bench.txt" |
    awk '{ per = $2 / $1; if (best == "" || per < best) { best = per; line = $0 } } END { print line }'
}
for s in $sizes; do
  if [ "$s" = small ]; then ucfg=$DATA/unet_a/config.txt; ccfg=$c/config.txt; label=small
  else ucfg=$s; ccfg=${s}_classifier; label=$s; fi
  : > "$work/bench.txt"
  "$ADMCTL" bench "$ucfg" --device "$DEVICE" --batch "$batches" --iters "$iters" >> "$work/bench.txt" 2>&1 || ok=0
  "$ADMCTL" bench --classifier "$ccfg" --device "$DEVICE" --batch "$batches" --iters "$iters" >> "$work/bench.txt" 2>&1 || ok=0
  "$ADMCTL" bench "$ucfg" --step "$ccfg" --device "$DEVICE" --batch "$batches" --iters "$iters" >> "$work/bench.txt" 2>&1 || ok=0
  # every JSON line of this size, as one array
  emit "\"bench_$label\":[$(grep '^{' "$work/bench.txt" | paste -sd, -)]"
  u1=$(sed -n 's/.*"bench":"unet".*"batch":1,.*"ms_per_forward":\([0-9.]*\).*/\1/p' "$work/bench.txt")
  c1=$(sed -n 's/.*"bench":"classifier".*"batch":1,.*"ms_forward_backward":\([0-9.]*\).*/\1/p' "$work/bench.txt")
  s1=$(sed -n 's/.*"bench":"step".*"batch":1,.*"ms_per_step":\([0-9.]*\).*/\1/p' "$work/bench.txt")
  ub=$(best unet ms_per_forward); cb=$(best classifier ms_forward_backward); sb=$(best step ms_per_step)
  # distinct shapes used, counted per chosen engine
  engs=$(sed -n 's/.*"engine":"\([a-z]*\)","shape":"\([^"]*\)".*"used":1.*/\1 \2/p' "$work/bench.txt" | sort -u |
         awk '{ n[$1]++ } END { for (e in n) { printf "%s%s %d", sep, e, n[e]; sep = ", " } }')
  bench_rows="$bench_rows$(printf '  %-8s %9s %-14s %9s %-14s %9s %-14s %s' "$label" "${u1:-fail}" "(${ub:-})" \
    "${c1:-fail}" "(${cb:-})" "${s1:-fail}" "(${sb:-})" "${engs:-$ADMD_BACKEND}")
"
  [ -n "$u1" ] && [ -n "$c1" ] && [ -n "$s1" ] || ok=0
done

# ---- 5. the JSON file and the table ---------------------------------------------
secs=$(( $(date +%s) - start ))
result=$( [ $ok = 1 ] && echo PASS || echo FAIL )
esc_name=$(printf '%s' "$name" | sed 's/\\/\\\\/g; s/"/\\"/g')
{
  printf '{"device":"%s","device_spec":"%s","backend":"%s","step":"%s","small":%s,"seconds":%d,"result":"%s"' \
    "$esc_name" "$DEVICE" "$ADMD_BACKEND" "$ADMD_STEP" "$( [ $SMALL = 1 ] && echo true || echo false)" "$secs" "$result"
  while IFS= read -r l; do printf ',%s' "$l"; done < "$json"
  printf '}\n'
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT" || { echo "device-check: cannot write $OUT" >&2; exit 1; }

echo "self-test: $selftest"
echo "parity against the PyTorch reference:        max |err|  result"
printf '%s' "$parity_rows"
echo "bench, ms at batch 1 (best batch: B ms per pass); engines used per shape:"
printf '  %-8s %9s %-14s %9s %-14s %9s %-14s %s\n' size unet "" classifier "" "guided step" "" engines
printf '%s' "$bench_rows"
echo "$result in $secs s; JSON: $OUT"
[ $ok = 1 ]
