# daemon_common.sh — sourced by tests/t_daemon_*.sh: a fresh spool in a
# temp folder with the small random-weight reference models registered,
# and helpers to start admd, wait for conditions and query with the sqlite3
# CLI.  Everything runs a real admd process on a real SQLite file.
. tests/programs.sh    # ADMD, ADMCTL, DEVICE_ARGS, caches, need; pass, fail, check
R=$(pwd)/tests/data/reference

T=$(mktemp -d /tmp/admd-test.XXXXXX)
DB=$T/spool.db
PIDS=""
cleanup() {
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$KEEP_T" ] || rm -rf "$T"
}
trap cleanup EXIT

need "$ADMD" sqlite3

q() { sqlite3 -cmd ".timeout 10000" "$DB" "$@"; }

# A spool with models a (unet_a + classifier_a, 32x32 RGB, 10 classes) and
# a0 (unet_a, no classifier).  admd creates and migrates the file.
make_spool() {
  "$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/init.log" 2>&1 || { cat "$T/init.log"; return 1; }
  q "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes)
     VALUES ('a', '$R/unet_a/model.pt', '$R/unet_a/config.txt', '$R/classifier_a/model.pt',
             '$R/classifier_a/config.txt', 10);
     INSERT INTO models (name, unet_path, unet_config) VALUES ('a0', '$R/unet_a/model.pt', '$R/unet_a/config.txt');"
}

# start_admd LOG ARGS...: admd in the background; PID in $ADMD_PID; waits for "ready".
start_admd() {
  log=$1; shift
  "$ADMD" --db "$DB" $DEVICE_ARGS "$@" > "$log" 2>&1 &
  ADMD_PID=$!
  PIDS="$PIDS $ADMD_PID"
  wait_for 60 grep -q "ready:" "$log"
}

# stop_admd: SIGTERM the admd of start_admd and wait for it; rc: its exit
# status, secs: whole seconds it took.
stop_admd() {
  t0=$(date +%s)
  kill -TERM "$ADMD_PID"; wait "$ADMD_PID"; rc=$?
  secs=$(( $(date +%s) - t0 ))
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds.
wait_for() {
  limit=$1; shift
  end=$(( $(date +%s) + limit ))
  while ! "$@" 2>/dev/null; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.1
  done
  return 0
}

state_is() { [ "$(q "SELECT state FROM jobs WHERE id = $1")" = "$2" ]; }
step_at_least() { [ "$(q "SELECT step FROM jobs WHERE id = $1 AND state = 'running'")" -ge "$2" ] 2>/dev/null; }
# all_done: no job queued or running.
all_done() { [ "$(q "SELECT count(*) FROM jobs WHERE state IN ('queued','running')")" = 0 ]; }

# outputs_intact JOB: every recorded PNG exists, has the recorded sha256, decodes
# (admctl audit --files-only), and the count equals jobs.count.
outputs_intact() {
  job=$1
  [ "$(q "SELECT count(*) FROM outputs WHERE job_id = $job")" = "$(q "SELECT count FROM jobs WHERE id = $job")" ] || return 1
  q "SELECT path || ' ' || sha256 FROM outputs WHERE job_id = $job" | while read -r path sha; do
    [ "$(sha256sum "$path" | cut -d' ' -f1)" = "$sha" ] || { echo "sha mismatch: $path"; exit 1; }
  done || return 1
  if [ -x "$ADMCTL" ]; then "$ADMCTL" audit --db "$DB" "$job" --files-only > "$T/audit.out" 2>&1 || { cat "$T/audit.out"; return 1; }; fi
  return 0
}

# no_orphans DIR: no temp files left anywhere under DIR.
no_orphans() { [ -z "$(find "$1" -name '.*.tmp-*' 2>/dev/null)" ]; }

# Files under DIR that no outputs row names.
unrecorded_files() {
  find "$1" -type f -name '*.png' | sort > "$T/files.txt"
  q "SELECT path FROM outputs ORDER BY path" | sort > "$T/rows.txt"
  comm -23 "$T/files.txt" "$T/rows.txt"
}
