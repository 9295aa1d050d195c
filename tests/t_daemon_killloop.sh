#!/bin/sh
# t_daemon_killloop.sh — progress survives crashes: admd is started and
# killed with SIGKILL every 1-4 s until a 5-image job is done.  Each device
# pass's images are recorded as it ends (--pass-seconds keeps passes
# short), and a kill of a worker whose pid is gone on this host costs no
# attempt, so even max_attempts 1 completes: every image exactly once,
# intact, no stray or temporary file.  (The bound that still ends a crash
# loop is tested in test_spool.)
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
q "INSERT INTO jobs(model, count, respacing, seed, max_attempts) VALUES ('a0', 5, '10', 31, 1)"
kills=0; midjob=0
end=$(( $(date +%s) + 300 ))
while ! state_is 1 done && [ "$(date +%s)" -lt "$end" ] && ! state_is 1 dead; do
  "$ADMD" --db "$DB" $DEVICE_ARGS --pass-seconds 1 >> "$T/loop.log" 2>&1 &
  pid=$!
  PIDS="$PIDS $pid"
  # 1.0 to 4.0 s, shorter (0.5 to 1.9 s) until one kill has hit the job mid-run
  if [ $midjob -eq 0 ]; then
    sleep "$(( $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 2 )).$(( 5 + $(od -An -tu1 -N1 /dev/urandom | tr -d ' ') % 5 ))"
  else
    sleep "$(( 1 + $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 3 )).$(( $(od -An -tu1 -N1 /dev/urandom | tr -d ' ') % 10 ))"
  fi
  state_is 1 running && running=1 || running=0
  if kill -9 "$pid" 2>/dev/null; then
    kills=$((kills + 1)); midjob=$((midjob + running))
  fi
  wait "$pid" 2>/dev/null
done
echo "  $kills SIGKILLs ($midjob while the job ran); job: $(q "SELECT state || ', ' || images_done || ' images, attempts ' || attempts || ', crashes in a row ' || crashes FROM jobs WHERE id = 1")"
check killloop_job_done state_is 1 done
check killloop_was_killed [ "$midjob" -ge 1 ]
check killloop_no_attempt_lost [ "$(q "SELECT attempts FROM jobs WHERE id = 1")" = 1 ]
check killloop_outputs_once [ "$(q "SELECT count(*) || ' ' || count(DISTINCT idx) || ' ' || min(idx) || ' ' || max(idx) FROM outputs WHERE job_id = 1")" = "5 5 0 4" ]
check killloop_outputs_intact outputs_intact 1
check killloop_passes_short [ "$(q "SELECT batch FROM provenance WHERE job_id = 1")" -le 4 ]
check killloop_crash_logged grep -q "reclaimed 1 job" "$T/loop.log"
# the last daemon cleans up what killed ones left behind
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/last.log" 2>&1
check killloop_no_temp_files no_orphans "$T/outputs"
check killloop_no_unrecorded_files [ -z "$(unrecorded_files "$T/outputs")" ]
