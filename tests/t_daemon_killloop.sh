#!/bin/sh
# t_daemon_killloop.sh — progress survives crashes: admd is started and
# killed with SIGKILL again and again until a 20-image job is done.  Each
# kill lands while the job runs: once the spool shows the new daemon
# running it with step progress, the kill comes 0.5 to 1.9 s later (so it
# hits passes, image records and heartbeats at random points; the job is
# long enough that the first kill always finds it running).  The images
# in flight are recorded as they end (--pass-seconds 0.25 keeps them few),
# and a kill of a worker whose pid is gone on this host costs no attempt,
# so even max_attempts 1 completes: every image exactly once, intact, no
# stray or temporary file.  (The bound that still ends a crash loop is
# tested in test_spool.)
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
q "INSERT INTO jobs(model, count, respacing, seed, max_attempts) VALUES ('a0', 20, '25', 31, 1)"
kills=0; midjob=0
end=$(( $(date +%s) + 400 ))
# the job is this daemon's (worker host:pid:...) and it has written step progress
runs_it() { [ "$(q "SELECT count(*) FROM jobs WHERE id = 1 AND state = 'running' AND worker LIKE '%:$1:%' AND step > 0")" = 1 ]; }
while ! state_is 1 done && [ "$(date +%s)" -lt "$end" ] && ! state_is 1 dead; do
  "$ADMD" --db "$DB" $DEVICE_ARGS --pass-seconds 0.25 >> "$T/loop.log" 2>&1 &
  pid=$!
  PIDS="$PIDS $pid"
  # wait (at most 90 s: start-up, reclaim) until it runs the job with progress, or the job ended
  waited=0
  until runs_it "$pid" || state_is 1 done || state_is 1 dead || ! kill -0 "$pid" 2>/dev/null || [ $waited -ge 450 ]; do
    sleep 0.2; waited=$((waited + 1))
  done
  sleep "$(( $(od -An -tu1 -N1 /dev/urandom | tr -d ' ') % 2 )).$(( 5 + $(od -An -tu1 -N1 /dev/urandom | tr -d ' ') % 5 ))"
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
check killloop_outputs_once [ "$(q "SELECT count(*) || ' ' || count(DISTINCT idx) || ' ' || min(idx) || ' ' || max(idx) FROM outputs WHERE job_id = 1")" = "20 20 0 19" ]
check killloop_outputs_intact outputs_intact 1
check killloop_passes_short [ "$(q "SELECT batch FROM provenance WHERE job_id = 1")" -le 4 ]
check killloop_crash_logged grep -q "reclaimed 1 job" "$T/loop.log"
# the last daemon cleans up what killed ones left behind
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/last.log" 2>&1
check killloop_no_temp_files no_orphans "$T/outputs"
check killloop_no_unrecorded_files [ -z "$(unrecorded_files "$T/outputs")" ]
