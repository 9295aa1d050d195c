#!/bin/sh
# t_daemon_owner.sh — the ownership rule of schema/002_ownership.sql, from
# the sqlite3 CLI beside a real admd: every change to a daemon-owned job
# column and every write to outputs/provenance is refused with a reason
# naming the column or table; cancel, requeue and priority still work; the
# daemon still runs jobs (claim, progress, outputs, provenance); admctl
# audit notices a done job whose recorded images were tampered with (here
# by a user who dropped a trigger: the rule stops mistakes, not a group
# member determined to rewrite the file, and audit is the check after).
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
check schema_version_2 [ "$(q "PRAGMA user_version")" -ge 2 ]

# Job 1 runs to done; job 2 stays queued for the UPDATE tests.
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 2, '4', 5)"
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/a.log" 2>&1
check daemon_writes_owned_columns [ "$(q "SELECT state || ' ' || images_done || ' ' || attempts FROM jobs WHERE id = 1")" = "done 2 1" ]
check daemon_writes_outputs [ "$(q "SELECT count(*) FROM outputs WHERE job_id = 1")" = 2 ]
check daemon_writes_provenance [ "$(q "SELECT count(*) FROM provenance WHERE job_id = 1")" = 1 ]
q "INSERT INTO jobs(model, count, respacing, seed) VALUES ('a0', 2, '4', 6)"

# refuse NAME WANT SQL: the CLI's statement fails, naming WANT, and changes nothing.
refuse() {
  name=$1 want=$2 sql=$3
  before=$(q "SELECT group_concat(j, '|') FROM (SELECT json_array(id, state, attempts, worker, lease_until, step, total_steps,
      images_done, created_at, started_at, updated_at, finished_at, error) AS j FROM jobs ORDER BY id)")
  nout=$(q "SELECT count(*) || sum(length(sha256)) || group_concat(path) FROM outputs")
  nprov=$(q "SELECT count(*) || group_concat(device_name) FROM provenance")
  if q "$sql" > "$T/out" 2> "$T/err"; then fail "refuse_$name" "accepted: $sql"; return; fi
  if ! grep -q -- "$want" "$T/err"; then fail "refuse_$name" "message lacks '$want': $(cat "$T/err")"; return; fi
  after=$(q "SELECT group_concat(j, '|') FROM (SELECT json_array(id, state, attempts, worker, lease_until, step, total_steps,
      images_done, created_at, started_at, updated_at, finished_at, error) AS j FROM jobs ORDER BY id)")
  if [ "$before" != "$after" ] || [ "$nout" != "$(q "SELECT count(*) || sum(length(sha256)) || group_concat(path) FROM outputs")" ] ||
     [ "$nprov" != "$(q "SELECT count(*) || group_concat(device_name) FROM provenance")" ]; then
    fail "refuse_$name" "refused, but the spool changed: $sql"; return
  fi
  pass "refuse_$name"
}
refuse images_done   "jobs.images_done is owned by the daemon" "UPDATE jobs SET images_done = 1 WHERE id = 2"
refuse images_done_done "images_done" "UPDATE jobs SET images_done = 1 WHERE id = 1"
refuse attempts      "jobs.attempts is owned by the daemon"    "UPDATE jobs SET attempts = 7 WHERE id = 2"
refuse worker        "jobs.worker is owned by the daemon"      "UPDATE jobs SET worker = 'me:1:x' WHERE id = 2"
refuse lease_until   "jobs.lease_until is owned by the daemon" "UPDATE jobs SET lease_until = '9999-01-01 00:00:00.000' WHERE id = 2"
refuse step          "jobs.step and jobs.total_steps"          "UPDATE jobs SET step = 3, total_steps = 4 WHERE id = 2"
refuse error         "jobs.error is owned by the daemon"       "UPDATE jobs SET error = 'x' WHERE id = 1"
refuse finished_at   "finished_at are owned by the daemon"     "UPDATE jobs SET finished_at = '2000-01-01 00:00:00.000' WHERE id = 1"
refuse started_at    "started_at, updated_at"                  "UPDATE jobs SET started_at = NULL WHERE id = 1"
refuse created_at    "jobs.created_at"                         "UPDATE jobs SET created_at = '2000-01-01 00:00:00.000' WHERE id = 2"
refuse id            "jobs.id is owned by the daemon"          "UPDATE jobs SET id = 50 WHERE id = 2"
refuse crashes       "jobs.crashes is owned by the daemon"     "UPDATE jobs SET crashes = 9 WHERE id = 2"
refuse crashes_insert "jobs.crashes is set by the daemon"      "INSERT INTO jobs(model, crashes) VALUES ('a0', 1)"
refuse pause_insert  "pauses: rows are written by the daemon only" "INSERT INTO pauses(worker, reason) VALUES ('x:1:y', 'forged')"
refuse state_running "jobs.state: users may only cancel"       "UPDATE jobs SET state = 'running', worker = 'x:1:y', lease_until = '9999-01-01 00:00:00.000' WHERE id = 2"
refuse state_done    "jobs.state"                              "UPDATE jobs SET state = 'done' WHERE id = 2"
refuse out_insert    "outputs: rows are written by the daemon only" \
  "INSERT INTO outputs(job_id, idx, seed, noise_algorithm, path, bytes, sha256, seconds)
   VALUES (2, 0, 6, 'x', '/tmp/x.png', 1, '$(printf '%064d' 0)', 0)"
refuse out_insert_nojob "outputs" \
  "INSERT INTO outputs(job_id, idx, seed, noise_algorithm, path, bytes, sha256, seconds)
   VALUES (999, 0, 6, 'x', '/tmp/x.png', 1, '$(printf '%064d' 0)', 0)"
refuse out_update    "outputs: rows are written by the daemon only" "UPDATE outputs SET sha256 = '$(printf '%064d' 1)' WHERE job_id = 1"
refuse out_delete    "outputs: rows of an existing job go only with the job" "DELETE FROM outputs WHERE job_id = 1 AND idx = 1"
refuse prov_insert   "provenance: rows are written by the daemon only" "INSERT INTO provenance(job_id) VALUES (2)"
refuse prov_insert_nojob "provenance" "INSERT INTO provenance(job_id) VALUES (999)"
refuse prov_update   "provenance: rows are written by the daemon only" "UPDATE provenance SET device_name = 'forged' WHERE job_id = 1"
refuse prov_delete   "provenance: the row of an existing job goes only with the job" "DELETE FROM provenance WHERE job_id = 1"

# ---- what users may do ----
check priority_change q "UPDATE jobs SET priority = 7 WHERE id = 2"
check request_change_while_queued q "UPDATE jobs SET count = 3, seed = 9 WHERE id = 2"
check cancel_allowed q "UPDATE jobs SET state = 'cancelled' WHERE id = 2"
check cancel_sets_finished [ "$(q "SELECT state || ' ' || (finished_at IS NOT NULL) FROM jobs WHERE id = 2")" = "cancelled 1" ]
check requeue_allowed q "UPDATE jobs SET state = 'queued' WHERE id = 2"
check requeue_resets [ "$(q "SELECT state || ' ' || attempts || ' ' || (finished_at IS NULL) FROM jobs WHERE id = 2")" = "queued 0 1" ]
if [ -x "$ADMCTL" ]; then
  q "INSERT INTO jobs(model, count, respacing) VALUES ('a0', 1, '4')"
  check admctl_cancel "$ADMCTL" cancel --db "$DB" 3
  check admctl_cancelled [ "$(q "SELECT state FROM jobs WHERE id = 3")" = cancelled ]
  check delete_ended_job q "PRAGMA foreign_keys = ON; DELETE FROM jobs WHERE id = 3"
fi

# ---- the daemon still runs the job the user edited ----
start_admd "$T/b.log" || { fail daemon_start "$(cat "$T/b.log")"; exit 1; }
check daemon_runs_job wait_for 120 state_is 2 done
check daemon_job_outputs [ "$(q "SELECT count(*) || ' ' || min(seed) FROM outputs WHERE job_id = 2")" = "3 9" ]
check daemon_job_intact outputs_intact 2
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"

# ---- audit: a done job must have exactly `count` recorded images ----
if [ -x "$ADMCTL" ]; then
  "$ADMCTL" audit --db "$DB" 1 --files-only > "$T/audit1.out" 2>&1
  check audit_whole_job_ok [ $? = 0 ]
  # A determined group member can drop a trigger (see 002_ownership.sql); audit notices the result.
  q "DROP TRIGGER outputs_delete_owner; DELETE FROM outputs WHERE job_id = 1 AND idx = 1"
  "$ADMCTL" audit --db "$DB" 1 --files-only > "$T/audit2.out" 2>&1; rc=$?
  sed 's/^/  /' "$T/audit2.out" | grep INCOMPLETE
  check audit_detects_missing_record sh -c "[ $rc = 1 ] && grep -q 'done, but 1 image recorded .* for count 2.*INCOMPLETE' '$T/audit2.out'"
fi
