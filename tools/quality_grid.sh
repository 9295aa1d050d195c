#!/bin/sh
# quality_grid.sh — issue 13's measurement: quality per network pass on the MNIST pair.
#
# For each configuration (sampler, steps, guidance scale, seed) samples N images with
# `admctl sample` (classes i % 10, x_T from the seed: every configuration with the same
# seed starts from the same noises and classes), then judges them with `admctl eval`
# against models/mnist/ref_batch_mnist32.npz (the model's classifier at t = 0 as the
# feature network: FID, sFID, IS, precision, recall) and with the classifier's argmax
# (accuracy).  The cost is the sampling process's CPU time (user + sys, /usr/bin/time),
# divided by images and network passes: CPU time is what the work costs, wall time on
# the shared machine only measures the other users.
#
# One TSV row per configuration is appended to $OUT/grid.tsv as soon as it is done,
# so a run cut short keeps what it finished; a configuration whose row exists is skipped
# (re-running resumes).
#
# usage: sh tools/quality_grid.sh [CONFIG ...]
#   CONFIG = sampler:steps:scale[:seed]   e.g. ddpm:250:4  dpm++2m:10:0  ddim:25:4:2
#   (default: the whole grid of issue 13 at scales 0 and 4, plus DDPM 250 with seed 2)
# Environment: N (images per configuration, default 50), BATCH (default 25),
#   OUT (default build/quality_grid), BUILD (default build), SEED (default 1),
#   NICE (default 19).  BUILD may be a folder holding only a copy of admctl, so that
#   rebuilding the tree during a long run does not pull the binary from under it.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-50}
BATCH=${BATCH:-25}
OUT=${OUT:-build/quality_grid}
SEED=${SEED:-1}
NICE=${NICE:-19}
M=models/mnist
REF=$M/ref_batch_mnist32.npz
ADMCTL=$BUILD/admctl
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
# the embedded default model (eval --classifier mnist) from this tree, wherever BUILD is
export ADMD_MODELS="${ADMD_MODELS:-$(pwd)/models}"
mkdir -p "$OUT" "$POCL_CACHE_DIR" "$ADMD_CACHE_DIR"
[ -x "$ADMCTL" ] || { echo "quality_grid: build $ADMCTL first (make)" >&2; exit 1; }

if [ $# -eq 0 ]; then
  set --
  for s in 4 0; do
    for st in 8 10 15 20 25; do set -- "$@" "dpm++2m:$st:$s"; done
    set -- "$@" "ddpm:250:$s" "ddpm:250:$s:2" "ddim:25:$s" "ddim:50:$s" "ddpm:50:$s"
    for st in 8 10 15 20 25; do set -- "$@" "dpm++3m:$st:$s"; done
    for st in 8 10 15 20 25; do set -- "$@" "dpm3s:$st:$s"; done
    set -- "$@" "ddpm:100:$s"
  done
fi

# the labels: int64 [N], i % 10
Y="$OUT/y$N.npy"
python3 - "$Y.$$" "$N" <<'PY'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
hdr = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }" % n
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1"))
    f.write(struct.pack("<%dq" % n, *[i % 10 for i in range(n)]))
PY
mv "$Y.$$" "$Y"

TSV="$OUT/grid.tsv"
[ -f "$TSV" ] || printf 'series\tsampler\tsettings\tpasses\tscale\tseed\timages\tcpu_s\tms_per_image_pass\tfid\tsfid\tinception_score\tprecision\trecall\trecognised\n' > "$TSV"

for cfg in "$@"; do
  IFS=: read -r sampler steps scale seed <<EOC
$cfg
EOC
  seed=${seed:-$SEED}
  name="${sampler}_${steps}_s${scale}_seed${seed}_n$N"
  if awk -F'\t' -v n="$name" '$1 == n {f = 1} END {exit !f}' "$OUT/done.txt" 2>/dev/null; then
    echo "quality_grid: $name done already"; continue
  fi
  case $sampler in
    ddpm) args="--sampler ddpm --respacing $steps"; settings="respacing $steps"; passes=$steps ;;
    ddim) args="--sampler ddim --respacing ddim$steps"; settings="respacing ddim$steps eta 0"; passes=$steps ;;
    dpm3s) args="--sampler dpm3s --steps $steps --skip logsnr"; settings="logsnr"; passes=$steps ;;
    dpm++*) args="--sampler $sampler --steps $steps --thresholding dynamic"; settings="time_uniform dynamic"; passes=$steps ;;
    *) echo "quality_grid: unknown sampler $sampler" >&2; exit 1 ;;
  esac
  d="$OUT/$name"
  echo "quality_grid: $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  # a finished sampling run (its time recorded) is kept: only the judging is redone
  if [ -s "$d/time.txt" ] && grep -q '^wrote ' "$d/sample.log" 2>/dev/null; then
    echo "quality_grid: $name: samples kept from an earlier run"
  else
    rm -rf "$d"; mkdir -p "$d/png"
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S %e' -o "$d/time.txt" nice -n "$NICE" "$ADMCTL" sample \
      --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
      --classifier $M/classifier.safetensors --classifier-config $M/classifier.config.txt \
      $args --scale "$scale" --seed "$seed" --count "$N" --batch "$BATCH" --y "$Y" \
      --out "$d/final.npy" --png-dir "$d/png" > "$d/sample.log" 2>&1 || rm -f "$d/time.txt"
  fi
  if [ ! -s "$d/time.txt" ] ||
   ! nice -n "$NICE" "$ADMCTL" eval "$REF" "$d/png" --classifier mnist --json --no-record > "$d/eval.json" 2> "$d/eval.log" ||
   ! nice -n "$NICE" "$ADMCTL" classifier --checkpoint $M/classifier.safetensors --config $M/classifier.config.txt \
    --x "$d/final.npy" --t 0 --logits "$d/logits.npy" > "$d/classifier.log" 2>&1; then
    echo "quality_grid: $name failed (see $d/*.log)" >&2; continue
  fi
  acc=$(python3 tools/npy_accuracy.py "$d/logits.npy")
  python3 - "$d" "$name" "$sampler" "$settings" "$passes" "$scale" "$seed" "$N" "$acc" >> "$TSV" <<'PY'
import json, sys
d, name, sampler, settings, passes, scale, seed, n, acc = sys.argv[1:]
u, s, e = (float(v) for v in open(d + "/time.txt").read().split()[-3:])
ev = json.load(open(d + "/eval.json"))
cpu = u + s
ms = 1000.0 * cpu / (int(n) * int(passes))
hits, total = acc.split()
f = lambda k: "%.4f" % ev[k] if ev.get(k) is not None else "NA"
print("\t".join([name, sampler, settings, passes, scale, seed, n, "%.1f" % cpu, "%.1f" % ms,
                 f("fid"), f("sfid"), f("inception_score"), f("precision"), f("recall"),
                 "%s/%s" % (hits, total)]))
PY
  echo "$name" >> "$OUT/done.txt"
  tail -1 "$TSV"
done
