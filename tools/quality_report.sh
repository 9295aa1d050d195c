#!/bin/sh
# quality_report.sh — tables and charts for docs/ from the runs of
# tools/quality_grid.sh and tools/guidance_sweep.sh:
#   docs/quality_passes.tsv        the grid's rows, series = "sampler s=scale"
#   docs/quality_passes_fid.png    FID (classifier features) against network passes
#   docs/quality_passes_precision.png  precision against network passes
#   docs/quality_passes_border.png the background grain (tools/npy_border.py) against passes
#   docs/mnist_eval_sweep.tsv      the guidance sweep's last complete round
#   docs/mnist_eval_sweep.png      precision, recall (against all 10,000 digits and
#                                  against as many digits as samples) and accuracy
#                                  against the scale
#   docs/mnist_eval_sweep_fid.png  FID against the scale
# and prints both tables as markdown on stdout.
# usage: sh tools/quality_report.sh [GRID_DIR [SWEEP_DIR]]
set -e
cd "$(dirname "$0")/.."
GRID=${1:-build/quality_grid}
SWEEP=${2:-build/guidance_sweep}
A=${BUILD:-build}/admctl
if [ -f "$GRID/grid.tsv" ]; then
  # background grain of every configuration (tools/npy_border.py)
  for n in $(cut -f1 "$GRID/grid.tsv" | tail -n +2); do
    printf '%s\t%s\n' "$n" "$(python3 tools/npy_border.py "$GRID/$n/final.npy")"
  done > "$GRID/border.tsv"
  python3 - "$GRID/grid.tsv" docs/quality_passes.tsv "$GRID/border.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
border = {l.split("\t")[0]: l.rstrip("\n").split("\t")[1] for l in open(sys.argv[3])}
head, body = rows[0] + ["border_grey"], [r + [border[r[0]]] for r in rows[1:]]
ix = {k: i for i, k in enumerate(head)}
out = open(sys.argv[2], "w")
out.write("\t".join(["series"] + head[1:]) + "\n")
order = {"ddpm": 0, "ddim": 1, "dpm++2m": 2, "dpm++3m": 3, "dpm3s": 4}
body.sort(key=lambda r: (-float(r[ix["scale"]]), order.get(r[ix["sampler"]], 9), int(r[ix["seed"]]), int(r[ix["passes"]])))
for r in body:
    s = "%s s=%s" % (r[ix["sampler"]], r[ix["scale"]])
    if r[ix["seed"]] != "1": s += " seed %s" % r[ix["seed"]]
    out.write("\t".join([s] + r[1:]) + "\n")
out.close()
print("| sampler | passes | scale | seed | images | FID | sFID | precision | recall | IS | recognised | border grey | CPU ms / image / pass | CPU s / image |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in body:
    n, cpu = int(r[ix["images"]]), float(r[ix["cpu_s"]])
    print("| %s | %s | %s | %s | %d | %.1f | %.1f | %.3f | %.3f | %.2f | %s | %.1f | %s | %.2f |" % (
        r[ix["sampler"]] + ("" if r[ix["sampler"]] not in ("dpm3s",) else " (logsnr)"), r[ix["passes"]], r[ix["scale"]],
        r[ix["seed"]], n, float(r[ix["fid"]]), float(r[ix["sfid"]]), float(r[ix["precision"]]), float(r[ix["recall"]]),
        float(r[ix["inception_score"]]), r[ix["recognised"]], float(r[ix["border_grey"]]), r[ix["ms_per_image_pass"]], cpu / n))
PY
  # the floor: real digits, as many as each configuration's samples, against the whole batch
  n=$(sed -n 2p "$GRID/grid.tsv" | cut -f7)
  python3 tools/npz_subset.py models/mnist/ref_batch_mnist32.npz "$n" "$GRID/real$n.npz" > /dev/null
  "$A" eval models/mnist/ref_batch_mnist32.npz "$GRID/real$n.npz" --classifier mnist --json --no-record 2> /dev/null |
    python3 -c 'import json, sys; e = json.load(sys.stdin); print("| real MNIST digits (every %gth of the batch) | - | - | - | %d | %.1f | %.1f | %.3f | %.3f | %.2f | - | 0.0 | - | - |" % (10000 / e["sample_count"], e["sample_count"], e["fid"], e["sfid"], e["precision"], e["recall"], e["inception_score"]))'
  # the charts: one line per sampler and scale (seed 1; the repeats are in the table)
  awk -F'\t' 'NR == 1 || $6 == 1' docs/quality_passes.tsv > "$GRID/chart.tsv"
  "$A" chart "$GRID/chart.tsv" --x passes --y fid --series series --out docs/quality_passes_fid.png \
    --y-min 0 --y-max 25 --title "MNIST: FID (classifier features) vs passes (cut at 25)" --x-label "network passes" > /dev/null
  "$A" chart "$GRID/chart.tsv" --x passes --y precision --series series --out docs/quality_passes_precision.png \
    --title "MNIST: precision vs network passes" --x-label "network passes" > /dev/null
  "$A" chart "$GRID/chart.tsv" --x passes --y border_grey --series series --out docs/quality_passes_border.png \
    --title "MNIST: background grain (border grey) vs passes" --x-label "network passes" > /dev/null
fi
if [ -f "$SWEEP/sweep.tsv" ]; then
  python3 - "$SWEEP/sweep.tsv" docs/mnist_eval_sweep.tsv "$SWEEP/long.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
head, body = rows[0], rows[1:]
ix = {k: i for i, k in enumerate(head)}
# the last round every scale finished
per = {}
for r in body: per.setdefault(r[ix["scale"]], []).append(int(r[ix["images"]]))
n = min(max(v) for v in per.values())
last = [r for r in body if int(r[ix["images"]]) == n]
last.sort(key=lambda r: float(r[ix["scale"]]))
with open(sys.argv[2], "w") as f:
    f.write("\t".join(head) + "\n")
    for r in last: f.write("\t".join(r) + "\n")
with open(sys.argv[3], "w") as f:
    f.write("measure\tscale\tvalue\n")
    for r in last:
        h, t = r[ix["recognised"]].split("/")
        for k, v in (("precision", r[ix["precision"]]), ("recall", r[ix["recall"]]), ("accuracy", int(h) / int(t))):
            f.write("%s\t%s\t%s\n" % (k, r[ix["scale"]], v))
        f.write("FID\t%s\t%s\n" % (r[ix["scale"]], r[ix["fid"]]))
print("\n%s, %d images per scale\n" % (last[0][ix["series"]], n))
print("| scale | " + " | ".join(r[ix["scale"]] for r in last) + " |")
print("|---|" + "---|" * len(last))
for k, lab, fmt in (("fid", "FID (classifier features)", "%.2f"), ("sfid", "sFID", "%.2f"), ("precision", "precision", "%.3f"),
                    ("recall", "recall", "%.3f"), ("inception_score", "IS (classifier softmax)", "%.2f")):
    print("| %s | " % lab + " | ".join(fmt % float(r[ix[k]]) for r in last) + " |")
print("| recognised | " + " | ".join(r[ix["recognised"]] for r in last) + " |")
PY
  # recall needs sets of equal size: against all 10,000 digits the k = 3 balls of a few
  # hundred samples cover nearly every reference.  Precision and recall of the first n
  # images of each scale against n digits taken evenly from the batch:
  n=$(sed -n 2p docs/mnist_eval_sweep.tsv | cut -f3)
  python3 tools/npz_subset.py models/mnist/ref_batch_mnist32.npz "$n" "$SWEEP/real$n.npz" > /dev/null
  printf 'scale\tprecision_n\trecall_n\n' > "$SWEEP/balanced.tsv"
  for s in $(cut -f2 docs/mnist_eval_sweep.tsv | tail -n +2); do
    rm -rf "$SWEEP/first"; mkdir -p "$SWEEP/first"
    for f in $(ls "$SWEEP/s$s/png" | sort | head -n "$n"); do ln -s "$(cd "$SWEEP" && pwd)/s$s/png/$f" "$SWEEP/first/$f"; done
    "$A" eval "$SWEEP/real$n.npz" "$SWEEP/first" --classifier mnist --json --no-record 2> /dev/null |
      python3 -c 'import json, sys; e = json.load(sys.stdin); print("%s\t%.4f\t%.4f" % (sys.argv[1], e["precision"], e["recall"]))' "$s" \
      >> "$SWEEP/balanced.tsv"
  done
  python3 - "$SWEEP/balanced.tsv" "$SWEEP/long.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
print("| precision, %s vs %s digits | " % ("n", "n") + " | ".join(r[1] for r in rows) + " |")
print("| recall, n vs n digits | " + " | ".join(r[2] for r in rows) + " |")
with open(sys.argv[2], "a") as f:
    for r in rows:
        f.write("precision (n vs n)\t%s\t%s\n" % (r[0], r[1]))
        f.write("recall (n vs n)\t%s\t%s\n" % (r[0], r[2]))
PY
  grep -v '^FID' "$SWEEP/long.tsv" > "$SWEEP/pr.tsv"
  { head -1 "$SWEEP/long.tsv"; grep '^FID' "$SWEEP/long.tsv"; } > "$SWEEP/fid.tsv"
  "$A" chart "$SWEEP/pr.tsv" --x scale --y value --series measure --y-min 0 --y-max 1 --out docs/mnist_eval_sweep.png \
    --title "MNIST: precision, recall, accuracy vs scale" --x-label "guidance scale" > /dev/null
  "$A" chart "$SWEEP/fid.tsv" --x scale --y value --series measure --out docs/mnist_eval_sweep_fid.png \
    --title "MNIST: FID (classifier features) vs scale" --x-label "guidance scale" > /dev/null
fi
