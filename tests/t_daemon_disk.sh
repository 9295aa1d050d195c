#!/bin/sh
# t_daemon_disk.sh — a full output disk: a job whose folder is a tiny full
# tmpfs fails with a clear "No space left on device" error, leaves no file
# behind, and the daemon carries on with the next job.  Needs root (mount);
# SKIP otherwise.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
FULL=$T/outputs/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=64k tmpfs "$FULL" 2>/dev/null; then
  echo "SKIP disk_full (cannot mount a tmpfs here: not root or no permission)"
  exit 0
fi
trap 'umount "$FULL" 2>/dev/null; cleanup' EXIT
# Fill it up completely.
dd if=/dev/zero of="$FULL/filler" bs=1k count=1024 2>/dev/null
check tmpfs_is_full [ "$(df -k "$FULL" | awk 'NR==2 {print $4}')" = 0 ]

start_admd "$T/admd.log" || { fail daemon_start "$(cat "$T/admd.log")"; exit 1; }
q "INSERT INTO jobs(model, count, respacing, outdir) VALUES ('a0', 2, '4', 'full');
   INSERT INTO jobs(model, count, respacing) VALUES ('a0', 1, '4');"
check full_disk_job_fails wait_for 120 state_is 1 failed
err=$(q "SELECT error FROM jobs WHERE id = 1")
echo "  error: $err"
check error_is_clear sh -c "echo '$err' | grep -q 'No space left on device'"
check error_names_file sh -c "echo '$err' | grep -q 'job1-0000.png'"
check failed_job_has_provenance [ "$(q "SELECT count(*) FROM provenance WHERE job_id = 1")" = 1 ]
check no_output_rows [ "$(q "SELECT count(*) FROM outputs WHERE job_id = 1")" = 0 ]
check no_partial_files [ -z "$(find "$FULL" -type f ! -name filler)" ]
check daemon_carries_on wait_for 120 state_is 2 done
check daemon_still_running kill -0 "$ADMD_PID"
check next_job_intact outputs_intact 2
check failure_logged_as_error grep -q "^<3>job 1: failed" "$T/admd.log"
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"
check exit0_after_failure [ $? = 0 ]
