#!/bin/sh
# t_daemon_crash.sh — admd under fire: kill -9 mid-job then restart (the job
# completes exactly once, resumes after its recorded images, no orphan or
# unrecorded files, every PNG matches its sha256 and regenerates to the same
# bytes); an unrecorded final file is removed at start-up; SIGTERM mid-job
# (requeued, exit 0 within seconds); a job cancelled
# while running stops at its next step; expired leases of a hung worker
# are reaped (requeued, or dead after max_attempts).
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }

# ---- kill -9 in the middle of a job, then restart ----
# (100 steps: --batch 1 runs the pool, whose passes on this small model are
# quick enough that 25 steps let a loaded machine's polling miss the job)
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 3, '100', 77)"
start_admd "$T/a1.log" --batch 1 --lease 30 || { fail daemon_start "$(cat "$T/a1.log")"; exit 1; }
first=$ADMD_PID
# after the first image is recorded, a few steps into the second
wait_for 180 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT images_done FROM jobs WHERE id = 1') -ge 1 ]"
wait_for 60 step_at_least 1 2
kill -9 "$first"; wait "$first" 2>/dev/null
done_before=$(q "SELECT images_done FROM jobs WHERE id = 1")
check kill9_left_job_running [ "$(q "SELECT state FROM jobs WHERE id = 1")" = running ]
echo "  killed at image $done_before of 3"
# an orphaned temp file as a crash mid-write would leave
host=$(hostname | tr ':' '_')
orphan="$T/outputs/job-1/.job1-0002.png.tmp-$host-$first"
echo partial > "$orphan"
"$ADMD" --db "$DB" --drain --batch 1 $DEVICE_ARGS > "$T/a2.log" 2>&1; rc=$?
check restart_drain_exit0 [ "$rc" = 0 ]
check reclaimed_dead_worker grep -q "reclaimed 1 job" "$T/a2.log"
check orphan_removed [ ! -e "$orphan" ]
check orphan_cleanup_logged grep -q "removed 1 orphaned temp file" "$T/a2.log"
# the kill did not count as an attempt (its pid is gone on this host), but as a crash
check job_done_once [ "$(q "SELECT state || ' ' || attempts || ' ' || images_done FROM jobs WHERE id = 1")" = "done 1 3" ]
check outputs_exactly_once [ "$(q "SELECT count(*) || ' ' || count(DISTINCT idx) || ' ' || min(idx) || ' ' || max(idx) FROM outputs WHERE job_id = 1")" = "3 3 0 2" ]
check batch_option_recorded [ "$(q "SELECT batch FROM provenance WHERE job_id = 1")" = 1 ]
check engine_recorded [ -n "$(q "SELECT engine FROM provenance WHERE job_id = 1")" ]
check resumed_after_recorded grep -q "3 images from $done_before" "$T/a2.log"
check no_orphan_files no_orphans "$T/outputs"
check no_unrecorded_files [ -z "$(unrecorded_files "$T/outputs")" ]
check pngs_intact outputs_intact 1
if [ -x "$ADMCTL" ] && [ -z "$ADMD_QUICK" ]; then
  "$ADMCTL" audit --db "$DB" 1 > "$T/audit1.out" 2>&1; rc=$?
  cat "$T/audit1.out" | grep -E "image|audit:"
  check resumed_images_regenerate_identically [ "$rc" = 0 ]
fi

# ---- SIGTERM mid-job: back in the queue, exit 0 within seconds ----
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 2, '100', 78)"   # long enough that a quick pool cannot finish before the SIGTERM
start_admd "$T/b1.log" --batch 1 || { fail daemon_start "$(cat "$T/b1.log")"; exit 1; }
wait_for 120 step_at_least 2 2
stop_admd
echo "  SIGTERM mid-job: exit $rc after ${secs} s"
check sigterm_exit0 [ "$rc" = 0 ]
check sigterm_within_seconds [ "$secs" -le 10 ]
check sigterm_requeued [ "$(q "SELECT state || ' ' || attempts || ' ' || coalesce(worker, '-') FROM jobs WHERE id = 2")" = "queued 0 -" ]
check sigterm_logged grep -q "back in the queue" "$T/b1.log"
"$ADMD" --db "$DB" --drain --batch 1 $DEVICE_ARGS > "$T/b2.log" 2>&1
check requeued_job_completes [ "$(q "SELECT state || ' ' || attempts FROM jobs WHERE id = 2")" = "done 1" ]
check requeued_outputs_intact outputs_intact 2

# ---- cancel a running job: it stops at its next step, the daemon carries on ----
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 3, '50', 79)"
start_admd "$T/c1.log" --batch 1 --progress-interval 0.2 || { fail daemon_start "$(cat "$T/c1.log")"; exit 1; }
wait_for 120 step_at_least 3 2
t0=$(date +%s)
q "UPDATE jobs SET state = 'cancelled' WHERE id = 3"
check cancel_stops_job wait_for 20 grep -q "job 3: stopped: cancelled" "$T/c1.log"
echo "  cancel honoured after $(( $(date +%s) - t0 )) s"
check cancelled_state [ "$(q "SELECT state FROM jobs WHERE id = 3 AND finished_at IS NOT NULL")" = cancelled ]
check cancelled_not_finished [ "$(q "SELECT images_done < count FROM jobs WHERE id = 3")" = 1 ]
q "INSERT INTO jobs(model, count, respacing) VALUES ('a0', 1, '4')"
check daemon_carries_on_after_cancel wait_for 120 state_is 4 done

# ---- a sqlite3 shell holding the write lock for 8 s (longer than the busy
# timeout) in the middle of a job: the daemon waits, warns, and completes ----
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 2, '25', 80)"
wait_for 120 step_at_least 5 3
(echo "BEGIN IMMEDIATE;"; sleep 8; echo "COMMIT;") | sqlite3 "$DB"
check locked_job_completes wait_for 120 state_is 5 done
check lock_warned grep -q "^warning: .*locked" "$T/c1.log"
check locked_job_intact outputs_intact 5

# ---- expired leases of a worker that stopped answering (SIGSTOP: its pid
# lives, so only the lease frees its job; each expiry costs an attempt) ----
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"
q "INSERT INTO jobs(model, count, respacing, max_attempts) VALUES ('a0', 1, '60', 1)"
# A final image file nobody recorded (a crash between its rename and its
# record would leave it) of cancelled job 3, beside a file of the user's:
# start-up removes the first only.
d3=$T/outputs/job-3
stray="$d3/job3-$(printf '%04d' "$(q "SELECT images_done FROM jobs WHERE id = 3")").png"
cp "$T/outputs/job-4/job4-0000.png" "$stray"; echo mine > "$d3/notes.txt"
touch -d '1 minute ago' "$stray" "$d3/notes.txt"
start_admd "$T/d0.log" --lease 2 --progress-interval 0.2 || { fail daemon_start "$(cat "$T/d0.log")"; exit 1; }
check unrecorded_file_removed [ ! -e "$stray" ]
check unrecorded_removal_logged grep -q "removed 1 unrecorded image file" "$T/d0.log"
check user_file_kept [ -e "$d3/notes.txt" ]
check recorded_files_kept outputs_intact 4
hung=$ADMD_PID
wait_for 120 step_at_least 6 1
kill -STOP "$hung"
sleep 2.5
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/d1.log" 2>&1
check lease_exhausted_dead [ "$(q "SELECT state FROM jobs WHERE id = 6")" = dead ]
check dead_error_names_worker sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 6' | grep -q ':$hung:'"
check reap_logged grep -q "expired leases: 0 jobs requeued, 1 dead" "$T/d1.log"
kill -CONT "$hung"
check hung_worker_lets_go wait_for 30 grep -q "job 6: stopped: cancelled or taken over" "$T/d0.log"
q "INSERT INTO jobs(model, count, respacing, max_attempts) VALUES ('a0', 1, '60', 3)"
wait_for 120 step_at_least 7 1
kill -STOP "$hung"
sleep 2.5
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/d2.log" 2>&1
check lease_retry_done [ "$(q "SELECT state || ' ' || attempts FROM jobs WHERE id = 7")" = "done 2" ]
check reap_requeue_logged grep -q "expired leases: 1 job requeued, 0 dead" "$T/d2.log"
kill -9 "$hung"
