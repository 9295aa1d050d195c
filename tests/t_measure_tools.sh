#!/bin/sh
# t_measure_tools.sh — the measurement scripts behind docs/quality_passes.tsv and
# docs/mnist_eval_sweep.tsv, on a few images: tools/quality_grid.sh writes one row per
# configuration (10 images, the eval's numbers, the classifier's accuracy, CPU time)
# and resumes without redoing a finished one; tools/guidance_sweep.sh evaluates rounds;
# tools/npy_border.py, tools/npy_accuracy.py and tools/npz_subset.py on known inputs.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
[ -x "$A" ] || { echo "FAIL measure_tools: $A not built"; exit 1; }

# ---- npy helpers on synthetic arrays
python3 - "$tmp" <<'PY'
import struct, sys
def npy(path, descr, shape, fmt, vals):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1") + struct.pack("<%d%s" % (len(vals), fmt), *vals))
d = sys.argv[1]
# image 0 all -1 (black), image 1 all +1 (white): border means 0 and 255
npy(d + "/x.npy", "<f4", (2, 1, 8, 8), "f", [-1.0] * 64 + [1.0] * 64)
# logits [3, 10]: rows 0 and 2 argmax at their label i % 10, row 1 not
rows = []
for i, best in enumerate((0, 7, 2)):
    rows += [1.0 if k == best else 0.0 for k in range(10)]
npy(d + "/l.npy", "<f4", (3, 10), "f", rows)
PY
check npy_border [ "$(python3 tools/npy_border.py "$tmp/x.npy")" = "$(printf '127.50\t255.00')" ]
check npy_accuracy [ "$(python3 tools/npy_accuracy.py "$tmp/l.npy")" = "$(printf '2\t3')" ]
check npz_subset sh -c "python3 tools/npz_subset.py models/mnist/ref_batch_mnist32.npz 20 '$tmp/r20.npz' | grep -q '20 of 10000 images' &&
  '$A' eval models/mnist/ref_batch_mnist32.npz '$tmp/r20.npz' --classifier mnist --json --no-record 2> /dev/null | jq -e '.sample_count == 20' > /dev/null"

# ---- the grid script: one configuration, then a resume that skips it
out=$(N=10 BATCH=10 OUT="$tmp/g" BUILD="$BUILD" NICE=0 sh tools/quality_grid.sh dpm++2m:2:4 2>&1)
row=$(tail -n +2 "$tmp/g/grid.tsv")
if [ "$(echo "$row" | wc -l)" = 1 ] && echo "$row" | awk -F'\t' '$1 == "dpm++2m_2_s4_seed1_n10" && $4 == 2 && $5 == 4 && $7 == 10 &&
     $8 > 0 && $10 > 0 && $13 >= 0 && $13 <= 1 && $15 ~ /^[0-9]+\/10$/ {ok = 1} END {exit !ok}'
then ok quality_grid_row; else bad quality_grid_row "row '$row'; $out"; fi
out=$(N=10 BATCH=10 OUT="$tmp/g" BUILD="$BUILD" NICE=0 sh tools/quality_grid.sh dpm++2m:2:4 2>&1)
if echo "$out" | grep -q "done already" && [ "$(tail -n +2 "$tmp/g/grid.tsv" | wc -l)" = 1 ]; then ok quality_grid_resume
else bad quality_grid_resume "$out"; fi
# a configuration whose judging did not finish (no done.txt line) keeps its samples
sha=$(sha256sum < "$tmp/g/dpm++2m_2_s4_seed1_n10/final.npy")
: > "$tmp/g/done.txt"; head -1 "$tmp/g/grid.tsv" > "$tmp/g/grid.1" && mv "$tmp/g/grid.1" "$tmp/g/grid.tsv"
out=$(N=10 BATCH=10 OUT="$tmp/g" BUILD="$BUILD" NICE=0 sh tools/quality_grid.sh dpm++2m:2:4 2>&1)
if echo "$out" | grep -q "samples kept" && [ "$(tail -n +2 "$tmp/g/grid.tsv" | wc -l)" = 1 ] &&
   [ "$(sha256sum < "$tmp/g/dpm++2m_2_s4_seed1_n10/final.npy")" = "$sha" ]; then ok quality_grid_keeps_samples
else bad quality_grid_keeps_samples "$out"; fi
out=$(N=10 BATCH=10 OUT="$tmp/g" BUILD="$BUILD" NICE=0 sh tools/quality_grid.sh euler:2:4 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "unknown sampler euler"; then ok quality_grid_bad_sampler; else bad quality_grid_bad_sampler "$out"; fi

# ---- the guidance sweep: two rounds of 10 at one scale
out=$(SCALES=0 STEPS=2 CHUNK=10 MAXN=20 BATCH=10 OUT="$tmp/s" BUILD="$BUILD" NICE=0 sh tools/guidance_sweep.sh 2>&1)
if [ "$(cut -f3 "$tmp/s/sweep.tsv" | tail -n +2 | tr '\n' ' ')" = "10 20 " ] && [ "$(cat "$tmp/s/rounds_done")" = 20 ] &&
   [ "$(ls "$tmp/s/s0/png" | wc -l)" = 20 ]
then ok guidance_sweep_rounds; else bad guidance_sweep_rounds "$out"; fi
