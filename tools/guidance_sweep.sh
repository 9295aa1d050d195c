#!/bin/sh
# guidance_sweep.sh — issue 14's figure in miniature: FID, precision, recall, IS and
# classifier accuracy of the MNIST pair against models/mnist/ref_batch_mnist32.npz at
# several guidance scales, with as many samples as time allows.
#
# Samples in rounds of CHUNK images per scale (`admctl sample --first-index`: image k
# depends only on (seed, k), so the images of round r are the same whatever the round
# size), and after every round evaluates each scale on all its images so far, appending
# one row per scale to $OUT/sweep.tsv.  Every scale always has the same images (same
# x_T, classes i % 10): stop it at any time and the last complete round is a fair
# comparison.  Re-running resumes after the last complete round.
#
# usage: sh tools/guidance_sweep.sh
# Environment: SAMPLER (default dpm++2m), STEPS (default 10; dpm* network passes, or
#   the ddpm/ddim respacing), SCALES (default "0 1 2 4 10"), CHUNK (default 100, a
#   multiple of 10), MAXN (default 2000), SEED (default 1), BATCH (default 50),
#   OUT (default build/guidance_sweep), BUILD (default build; may hold only admctl),
#   NICE (default 19).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SAMPLER=${SAMPLER:-dpm++2m}
STEPS=${STEPS:-10}
SCALES=${SCALES:-0 1 2 4 10}
CHUNK=${CHUNK:-100}
MAXN=${MAXN:-2000}
SEED=${SEED:-1}
BATCH=${BATCH:-50}
OUT=${OUT:-build/guidance_sweep}
NICE=${NICE:-19}
M=models/mnist
REF=$M/ref_batch_mnist32.npz
ADMCTL=$BUILD/admctl
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
export ADMD_MODELS="${ADMD_MODELS:-$(pwd)/models}"   # eval --classifier mnist, wherever BUILD is
mkdir -p "$OUT" "$POCL_CACHE_DIR" "$ADMD_CACHE_DIR"
[ -x "$ADMCTL" ] || { echo "guidance_sweep: build $ADMCTL first (make)" >&2; exit 1; }
[ $((CHUNK % 10)) -eq 0 ] || { echo "guidance_sweep: CHUNK must be a multiple of 10" >&2; exit 1; }
case $SAMPLER in
  ddpm) args="--sampler ddpm --respacing $STEPS" ;;
  ddim) args="--sampler ddim --respacing ddim$STEPS" ;;
  dpm3s) args="--sampler dpm3s --steps $STEPS --skip logsnr" ;;
  dpm++*) args="--sampler $SAMPLER --steps $STEPS --thresholding dynamic" ;;
  *) echo "guidance_sweep: unknown sampler $SAMPLER" >&2; exit 1 ;;
esac

Y="$OUT/y$CHUNK.npy"
python3 - "$Y.$$" "$CHUNK" <<'PY'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
hdr = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }" % n
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1"))
    f.write(struct.pack("<%dq" % n, *[i % 10 for i in range(n)]))
PY
mv "$Y.$$" "$Y"

TSV="$OUT/sweep.tsv"
[ -f "$TSV" ] || printf 'series\tscale\timages\tcpu_s\tms_per_image_pass\tfid\tsfid\tinception_score\tprecision\trecall\trecognised\n' > "$TSV"
first=$(cat "$OUT/rounds_done" 2>/dev/null || echo 0)
while [ "$first" -lt "$MAXN" ]; do
  n=$((first + CHUNK))
  for s in $SCALES; do
    d="$OUT/s$s"; mkdir -p "$d/png"
    echo "guidance_sweep: scale $s images $first..$((n - 1)) ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S %e' -o "$d/time.$first" nice -n "$NICE" "$ADMCTL" sample \
      --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
      --classifier $M/classifier.safetensors --classifier-config $M/classifier.config.txt \
      $args --scale "$s" --seed "$SEED" --first-index "$first" --count "$CHUNK" --batch "$BATCH" --y "$Y" \
      --out "$d/final.$first.npy" --png-dir "$d/png" > "$d/sample.log" 2>&1
    nice -n "$NICE" "$ADMCTL" classifier --checkpoint $M/classifier.safetensors --config $M/classifier.config.txt \
      --x "$d/final.$first.npy" --t 0 --logits "$d/logits.$first.npy" > "$d/classifier.log" 2>&1
    python3 tools/npy_accuracy.py "$d/logits.$first.npy" > "$d/acc.$first"
  done
  for s in $SCALES; do
    d="$OUT/s$s"
    nice -n "$NICE" "$ADMCTL" eval "$REF" "$d/png" --classifier mnist --json --no-record > "$d/eval.$n.json" 2> "$d/eval.log"
    python3 - "$d" "$SAMPLER $STEPS" "$s" "$n" "$STEPS" >> "$TSV" <<'PY'
import glob, json, sys
d, series, scale, n, passes = sys.argv[1:]
cpu = sum(sum(float(v) for v in open(f).read().split()[-3:-1]) for f in glob.glob(d + "/time.*"))
hits = sum(int(open(f).read().split()[0]) for f in glob.glob(d + "/acc.*"))
ev = json.load(open("%s/eval.%s.json" % (d, n)))
assert ev["sample_count"] == int(n), (ev["sample_count"], n)
ms = 1000.0 * cpu / (int(n) * int(passes))
f = lambda k: "%.4f" % ev[k] if ev.get(k) is not None else "NA"
print("\t".join([series, scale, n, "%.1f" % cpu, "%.1f" % ms, f("fid"), f("sfid"), f("inception_score"),
                 f("precision"), f("recall"), "%d/%s" % (hits, n)]))
PY
    tail -1 "$TSV"
  done
  first=$n
  echo "$first" > "$OUT/rounds_done"
done
