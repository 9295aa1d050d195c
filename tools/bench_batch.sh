#!/bin/sh
# bench_batch.sh — what continuous batching (admd --batch N) buys on this
# machine: the MNIST pair, DDPM with RESPACING steps (default 25), scale 2,
# 12 images made five ways, each in a fresh spool with admd --drain:
#   12 one-image jobs, --batch 12     the pool: all twelve share every pass
#   one 12-image job, --batch 12      the same passes from one job
#   one 12-image job, no --batch      the one-job path (first pass 1 image, then 11)
#   12 one-image jobs, --batch 1      the pool, one image at a time
#   12 one-image jobs, no --batch     the one-job path, job after job (admd before the pool)
# Wall time is the spool's: first job started to last job finished (kernel
# compilation and model loading before the first claim are left out; the
# model load is in it).  Passes are network evaluations of the device:
# the pool's from admd's "pool:" lines, the one-job path's counted as steps
# times device passes.  Prints a Markdown table and the load average
# before and after (other work on the machine slows every row).
#
#   tools/bench_batch.sh [--device D] [--respacing N] [--keep]
#   env: ADM_BUILD (default build)
set -u
BUILD=${ADM_BUILD:-build}
ADMD=$BUILD/admd
RESP=25 DEV="" KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --device) DEV="--device $2"; shift 2;;
    --respacing) RESP=$2; shift 2;;
    --keep) KEEP=1; shift;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "bench_batch.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
case $RESP in ''|*[!0-9]*) echo "bench_batch.sh: --respacing needs a whole number" >&2; exit 2;; esac
for b in "$ADMD" sqlite3; do
  if [ ! -x "$b" ] && ! command -v "$b" > /dev/null 2>&1; then echo "bench_batch.sh: $b missing (make first)" >&2; exit 1; fi
done
M=$(pwd)/models/mnist
[ -f "$M/unet.safetensors" ] || { echo "bench_batch.sh: run from the repository root (models/mnist)" >&2; exit 1; }
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}" ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
T=$(mktemp -d /tmp/admd-bench.XXXXXX)
[ "$KEEP" = 1 ] || trap 'rm -rf "$T"' EXIT

# run NAME JOBS(1|12) BATCH(0: none): one row
run() {
  name=$1 jobs=$2 batch=$3
  d=$T/$name; mkdir -p "$d"; db=$d/spool.db
  "$ADMD" --db "$db" --drain $DEV > "$d/init.log" 2>&1 || { cat "$d/init.log" >&2; exit 1; }
  sql="INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes)
       VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '$M/classifier.safetensors', '$M/classifier.config.txt', 10);"
  if [ "$jobs" = 1 ]; then
    sql="$sql INSERT INTO jobs (model, count, respacing, scale, seed) VALUES ('mnist', 12, '$RESP', 2.0, 7);"
  else
    i=0; while [ $i -lt 12 ]; do
      sql="$sql INSERT INTO jobs (model, class, count, respacing, scale, seed) VALUES ('mnist', $((i % 10)), 1, '$RESP', 2.0, $((7 + i)));"
      i=$((i + 1))
    done
  fi
  sqlite3 "$db" "$sql"
  opt=""; [ "$batch" -gt 0 ] && opt="--batch $batch"
  "$ADMD" --db "$db" --drain $DEV $opt > "$d/admd.log" 2>&1 || { echo "bench_batch.sh: admd failed, see $d/admd.log" >&2; exit 1; }
  wall=$(sqlite3 "$db" "SELECT printf('%.1f', (julianday(max(finished_at)) - julianday(min(started_at))) * 86400) FROM jobs")
  done_n=$(sqlite3 "$db" "SELECT count(*) FROM outputs")
  if [ "$batch" -gt 0 ]; then
    passes=$(sed -n 's/^pool: .* in \([0-9]*\) passes.*/\1/p' "$d/admd.log" | awk '{ s += $1 } END { print s }')
  elif [ "$jobs" = 1 ]; then
    passes=$((RESP * $(sqlite3 "$db" "SELECT CASE WHEN batch >= 12 THEN 1 ELSE 2 END FROM provenance")))
  else
    passes=$((RESP * 12))
  fi
  rate=$(awk -v n="$done_n" -v w="$wall" 'BEGIN { printf "%.2f", (w > 0 ? n / w : 0) }')
  per=$(awk -v n="$done_n" -v p="$passes" -v r="$RESP" 'BEGIN { printf "%.1f", (p > 0 ? n * r / p : 0) }')
  printf '| %s | %s | %s | %s | %s |\n' "$4" "$wall" "$passes" "$per" "$rate"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; DDPM $RESP steps, scale 2, 12 images each row"
echo
echo "| run | wall s | passes | images per pass | images/s |"
echo "|---|---|---|---|---|"
run pool12 12 12 "12 one-image jobs, \`--batch 12\`"
run one12 1 12 "one 12-image job, \`--batch 12\`"
run onejob 1 0 "one 12-image job, no \`--batch\` (one-job path)"
run pool1 12 1 "12 one-image jobs, \`--batch 1\`"
run serial 12 0 "12 one-image jobs, no \`--batch\` (one-job path)"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$KEEP" = 1 ] && echo "spools and logs kept in $T"
exit 0
