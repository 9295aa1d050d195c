#!/bin/sh
# t_daemon_disk.sh — a full output disk pauses the queue: with the output
# root on a small tmpfs filled to the brim, admd puts the job back in the
# queue without spending an attempt, stops claiming and says why (admctl
# status, the log), retrying after a growing delay; no job fails and no
# partial file stays.  Once space is freed it resumes by itself and
# completes every job.  Needs root (mount); SKIP otherwise.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
FULL=$T/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=256k tmpfs "$FULL" 2>/dev/null; then
  echo "SKIP disk_full (cannot mount a tmpfs here: not root or no permission)"
  exit 0
fi
trap 'umount "$FULL" 2>/dev/null; cleanup' EXIT
# Fill it up completely.
dd if=/dev/zero of="$FULL/filler" bs=1k count=1024 2>/dev/null
check tmpfs_is_full [ "$(df -k "$FULL" | awk 'NR==2 {print $4}')" = 0 ]

start_admd "$T/admd.log" --output-root "$FULL" || { fail daemon_start "$(cat "$T/admd.log")"; exit 1; }
q "INSERT INTO jobs(model, count, respacing) VALUES ('a0', 2, '4');
   INSERT INTO jobs(model, count, respacing) VALUES ('a0', 2, '4');
   INSERT INTO jobs(model, count, respacing, outdir) VALUES ('a0', 1, '4', 'sub/dir');"
check full_disk_pauses wait_for 120 grep -q "claiming paused for 2 s: job 1: .*No space left on device" "$T/admd.log"
grep "claiming paused" "$T/admd.log" | head -1 | sed 's/^/  /'
check pause_requeues_without_attempt sh -c "sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state || ' ' || attempts FROM jobs WHERE id = 1\" | grep -qx 'queued 0\\|running 1'"
if [ -x "$ADMCTL" ]; then
  "$ADMCTL" status --db "$DB" > "$T/status.out" 2>&1
  sed -n 's/^paused/  paused/p' "$T/status.out"
  check status_says_why grep -q "^paused: worker .*No space left on device" "$T/status.out"
fi
# It keeps retrying (2 s, 4 s, ...) and nothing fails meanwhile.
check retries_while_full wait_for 30 sh -c "[ \$(grep -c 'claiming resumed' '$T/admd.log') -ge 2 ]"
check no_job_failed [ "$(q "SELECT count(*) FROM jobs WHERE state IN ('failed', 'dead') OR attempts > 1")" = 0 ]
check no_partial_files [ -z "$(find "$FULL" -type f ! -name filler)" ]
check daemon_still_running kill -0 "$ADMD_PID"

# Space returns: the daemon resumes on its own and completes everything.
rm "$FULL/filler"
t0=$(date +%s)
check resumes_and_completes wait_for 180 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM jobs WHERE state = 'done'\") = 3 ]"
echo "  all 3 jobs done $(( $(date +%s) - t0 )) s after space was freed"
check zero_failed [ "$(q "SELECT count(*) FROM jobs WHERE state <> 'done'")" = 0 ]
for j in 1 2 3; do check "outputs_intact_job$j" outputs_intact $j; done
check pause_row_gone [ "$(q "SELECT count(*) FROM pauses")" = 0 ]
check no_temp_files no_orphans "$FULL"
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"
check exit0 [ $? = 0 ]
