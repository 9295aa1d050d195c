#!/bin/sh
# demo.sh — `make demo`: from a fresh Debian 12 checkout to pictures.
#
# Installs missing Debian packages (tools/deps.sh), builds admd and admctl,
# creates a spool under ./demo/ with the embedded MNIST model registered,
# submits every digit 0-9 at guidance scales 0 and 4 (same seed), runs
# `admd --drain` until the queue is empty, and draws a contact sheet.
#
# Environment: BUILD (build folder, default build), DEMO_DIR (default demo),
# DEMO_SCALES (default "0 4"), DEMO_SEED (default 42), ADMD_DEVICE (OpenCL
# device for admd, default: its own choice).
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DEMO=${DEMO_DIR:-demo}
SCALES=${DEMO_SCALES:-0 4}
SEED=${DEMO_SEED:-42}
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/admd/pocl}"
export ADMD_CACHE_DIR="${ADMD_CACHE_DIR:-$HOME/.cache/admd}"
mkdir -p "$POCL_CACHE_DIR" "$ADMD_CACHE_DIR"
start=$(date +%s)

echo "== 1/5 Debian packages (tools/deps.sh)"
sh tools/deps.sh

echo "== 2/5 build"
make -j2 BUILD="$BUILD" "$BUILD/admd" "$BUILD/admctl" >/dev/null
ADMCTL="$BUILD/admctl"
ADMD="$BUILD/admd"
DB="$DEMO/spool.db"

echo "== 3/5 a fresh spool: $DB"
rm -rf "$DEMO"
"$ADMCTL" init --db "$DB"

echo "== 4/5 jobs: digits 0-9 at guidance scales $SCALES (seed $SEED)"
ids=""
for s in $SCALES; do
  new=$("$ADMCTL" submit --db "$DB" --model mnist --class 0-9 --scale "$s" --seed "$SEED")
  ids="$ids $(echo $new)"
done
"$ADMCTL" status --db "$DB" | head -1

echo "== 5/5 admd --drain (runs every queued job, then exits)"
t0=$(date +%s)
if [ -n "$ADMD_DEVICE" ]; then "$ADMD" --db "$DB" --drain --device "$ADMD_DEVICE"; else "$ADMD" --db "$DB" --drain; fi
t1=$(date +%s)

# every job must be done
bad=$("$ADMCTL" list --db "$DB" --limit 0 | awk 'NR > 1 && $2 != "done"' | wc -l)
if [ "$bad" -ne 0 ]; then
  "$ADMCTL" list --db "$DB" --limit 0
  echo "demo: $bad job(s) did not finish (see admctl show JOB --db $DB)" >&2
  exit 1
fi

# shellcheck disable=SC2086
"$ADMCTL" sheet --db "$DB" --cols 10 --out "$DEMO/sheet.png" \
  --title "admd demo: digits 0-9, guidance scales $(echo $SCALES | sed 's/ / and /g')" $ids
first=$(echo $ids | cut -d' ' -f1)
png=$("$ADMCTL" show --db "$DB" --paths "$first" | head -1)
n=$(for j in $ids; do "$ADMCTL" show --db "$DB" --paths "$j"; done | wc -l)

echo
echo "Made $n PNGs in $((t1 - t0)) s of sampling ($(( $(date +%s) - start )) s in all)."
echo "  images:         $(dirname "$(dirname "$png")")/job-*/   (e.g. $png)"
echo "  contact sheet:  $DEMO/sheet.png"
echo "  the spool:      $ADMCTL list --db $DB    |    $ADMCTL show $first --db $DB"
echo "                  sqlite3 $DB 'SELECT * FROM results'"
