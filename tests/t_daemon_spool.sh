#!/bin/sh
# t_daemon_spool.sh — the spool from the sqlite3 CLI with a running admd:
# every bad INSERT is rejected with a message naming the column; a job with
# defaults from the model row; jobs inserted while the daemon runs all
# complete (woken by inotify, not by the slow poll); priority order; the
# views; SIGHUP reloads; SIGTERM when idle exits 0; a newer schema is refused.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }

# ---- bad INSERTs: each fails at once, naming the column ----
reject() {
  name=$1 want=$2 sql=$3
  if q "$sql" > "$T/out" 2> "$T/err"; then fail "reject_$name" "accepted: $sql"; return; fi
  if grep -q -- "$want" "$T/err"; then pass "reject_$name"; else fail "reject_$name" "message lacks '$want': $(cat "$T/err")"; fi
}
reject count_negative  "jobs.count"       "INSERT INTO jobs(model, count) VALUES ('a', -1)"
reject count_huge      "jobs.count"       "INSERT INTO jobs(model, count) VALUES ('a', 100000000)"
reject count_text      "jobs.count"       "INSERT INTO jobs(model, count) VALUES ('a', 'four')"
reject scale_inf       "jobs.scale"       "INSERT INTO jobs(model, scale) VALUES ('a', 1e999)"
reject scale_neg_inf   "jobs.scale"       "INSERT INTO jobs(model, scale) VALUES ('a', -1e999)"
reject scale_negative  "jobs.scale"       "INSERT INTO jobs(model, scale) VALUES ('a', -2)"
reject model_unknown   "jobs.model"       "INSERT INTO jobs(model) VALUES ('nosuch')"
reject class_outside   "jobs.class"       "INSERT INTO jobs(model, class) VALUES ('a', 10)"
reject class_negative  "jobs.class"       "INSERT INTO jobs(model, class) VALUES ('a', -3)"
reject sampler_unknown "jobs.sampler"     "INSERT INTO jobs(model, sampler) VALUES ('a', 'euler')"
reject respacing_word  "jobs.respacing"   "INSERT INTO jobs(model, respacing) VALUES ('a', 'fast')"
reject respacing_ddim  "jobs.respacing"   "INSERT INTO jobs(model, respacing) VALUES ('a', 'ddim')"
reject respacing_list  "jobs.respacing"   "INSERT INTO jobs(model, respacing) VALUES ('a', '10,,20')"
reject outdir_parent   "jobs.outdir"      "INSERT INTO jobs(model, outdir) VALUES ('a', '../escape')"
reject outdir_inner    "jobs.outdir"      "INSERT INTO jobs(model, outdir) VALUES ('a', 'x/../../escape')"
reject outdir_absolute "jobs.outdir"      "INSERT INTO jobs(model, outdir) VALUES ('a', '/etc')"
reject eta_range       "jobs.eta"         "INSERT INTO jobs(model, eta) VALUES ('a', 3)"
reject seed_negative   "jobs.seed"        "INSERT INTO jobs(model, seed) VALUES ('a', -1)"
reject no_classifier   "jobs.scale"       "INSERT INTO jobs(model, scale) VALUES ('a0', 1.0)"
reject own_state       "jobs.state"       "INSERT INTO jobs(model, state) VALUES ('a', 'done')"
reject own_attempts    "jobs.attempts"    "INSERT INTO jobs(model, attempts) VALUES ('a', 1)"
reject own_worker      "jobs.worker"      "INSERT INTO jobs(model, worker) VALUES ('a', 'me')"
reject own_progress    "jobs.step"        "INSERT INTO jobs(model, step) VALUES ('a', 3)"
reject own_error       "jobs.error"       "INSERT INTO jobs(model, error) VALUES ('a', 'x')"
reject own_images      "jobs.images_done" "INSERT INTO jobs(model, images_done) VALUES ('a', 1)"
reject model_name      "models.name"      "INSERT INTO models(name, unet_path, unet_config) VALUES ('bad name!', 'x', 'y')"
reject model_scale     "models.default_scale" "INSERT INTO models(name, unet_path, unet_config, default_scale) VALUES ('b', 'x', 'y', 2)"
check no_rows_from_bad_inserts [ "$(q "SELECT count(*) FROM jobs")" = 0 ]

# ---- the README's insert, with defaults from the model row ----
q "UPDATE models SET default_respacing = '4' WHERE name IN ('a', 'a0')"
q "INSERT INTO jobs(model, class, count, scale) VALUES ('a', 3, 1, 2.0)"
check insert_defaults [ "$(q "SELECT sampler || ' ' || respacing || ' ' || eta || ' ' || state FROM jobs WHERE id = 1")" = "ddpm 4 0.0 queued" ]
check queue_view [ "$(q "SELECT position || ' ' || id FROM queue")" = "1 1" ]
check done_is_final_state_rule sh -c "! sqlite3 '$DB' \"UPDATE jobs SET state = 'done' WHERE id = 1\" 2>/dev/null"

# ---- a running daemon; jobs inserted while it runs ----
start_admd "$T/admd.log" --poll 30 || { fail daemon_start "$(cat "$T/admd.log")"; exit 1; }
check first_job_done wait_for 120 state_is 1 done
# Inserted while it runs (the 30 s fallback poll is too slow to explain a quick pickup).
t0=$(date +%s)
q "BEGIN; INSERT INTO jobs(model, count, seed) VALUES ('a0', 2, 11);
   INSERT INTO jobs(model, class, count, seed, outdir, priority) VALUES ('a0', 5, 1, 12, 'named/dir', 5); COMMIT;"
q "INSERT INTO jobs(model, count, sampler, respacing, eta) VALUES ('a0', 1, 'ddim', 'ddim4', 0.5)"
check inserted_jobs_all_complete wait_for 180 all_done
elapsed=$(( $(date +%s) - t0 ))
echo "  3 jobs inserted while running: all done in ${elapsed} s"
check woken_without_poll [ "$(q "SELECT count(*) FROM jobs WHERE id = 2 AND started_at < datetime(created_at, '+25 seconds')")" = 1 ]
check all_states_done [ "$(q "SELECT group_concat(state) FROM jobs")" = "done,done,done,done" ]
for j in 1 2 3 4; do check "outputs_intact_job$j" outputs_intact $j; done
check priority_order [ "$(q "SELECT count(*) FROM jobs a, jobs b WHERE a.id = 3 AND b.id = 2 AND a.started_at < b.started_at")" = 1 ]
check outdir_used [ -f "$T/outputs/named/dir/job3-0000.png" ]
check class_recorded [ "$(q "SELECT class FROM outputs WHERE job_id = 3")" = 5 ]
check random_classes_in_range [ "$(q "SELECT count(*) FROM outputs WHERE job_id = 2 AND class BETWEEN 0 AND 9")" = 2 ]
check seed_recorded [ "$(q "SELECT seed FROM outputs WHERE job_id = 2 LIMIT 1")" = 11 ]
check daemon_chose_seed [ -n "$(q "SELECT seed FROM jobs WHERE id = 1 AND seed IS NOT NULL")" ]
check provenance_complete [ "$(q "SELECT count(*) FROM provenance WHERE device_name <> '' AND driver_version <> '' AND opencl_version <> ''
    AND admd_version <> '' AND length(kernel_hash) = 64 AND clblast_version <> '' AND length(unet_sha256) = 64
    AND sampler <> '' AND respacing <> '' AND noise_algorithm <> '' AND steps_s > 0 AND total_s > 0")" = 4 ]
check model_hash_filled [ "$(q "SELECT length(unet_sha256) || length(classifier_sha256) || image_size || channels FROM models WHERE name = 'a'")" = "6464323" ]
check results_view [ "$(q "SELECT count(*) FROM results")" = 5 ]
check png_provenance_chunk grep -q "adm:seed" "$T/outputs/job-2/job2-0000.png"
check ddim_job_recorded [ "$(q "SELECT sampler || ' ' || respacing || ' ' || eta FROM provenance WHERE job_id = 4")" = "ddim ddim4 0.5" ]
check model_cached_across_jobs [ "$(grep -c 'model a0: loaded' "$T/admd.log")" = 1 ]
# not the journal (no JOURNAL_STREAM): plain lines, no "<N>" priority prefixes
check log_plain_without_journal sh -c "! grep -q '^<[0-9]>' '$T/admd.log' && grep -q '^job 1: started (model' '$T/admd.log'"

# ---- audit notices tampering: a swapped file, a missing file ----
if [ -x "$ADMCTL" ]; then
  "$ADMCTL" audit --db "$DB" 2 > "$T/audit-ok.out" 2>&1
  check audit_clean_job [ $? = 0 ]
  cp "$T/outputs/job-2/job2-0000.png" "$T/saved.png"
  cp "$T/outputs/job-2/job2-0001.png" "$T/outputs/job-2/job2-0000.png"
  "$ADMCTL" audit --db "$DB" 2 --files-only > "$T/audit-f.out" 2>&1; rc=$?
  check audit_files_detects_swap sh -c "[ $rc = 1 ] && grep -q 'image 0: .*sha256 DIFFERS' '$T/audit-f.out'"
  "$ADMCTL" audit --db "$DB" 2 > "$T/audit-d.out" 2>&1; rc=$?
  grep "image 0" "$T/audit-d.out" | tail -1 | sed 's/^/ /'
  check audit_detects_pixel_difference sh -c "[ $rc = 1 ] && grep -q 'image 0: regenerated identical to the record, but the file differs from it: max pixel difference [1-9]' '$T/audit-d.out' && grep -q 'image 1: identical bytes' '$T/audit-d.out'"
  rm "$T/outputs/job-2/job2-0001.png"
  "$ADMCTL" audit --db "$DB" 2 --output 1 --files-only > "$T/audit-m.out" 2>&1; rc=$?
  check audit_detects_missing sh -c "[ $rc = 1 ] && grep -q 'MISSING' '$T/audit-m.out'"
  "$ADMCTL" audit --db "$DB" 99 > "$T/audit-n.out" 2>&1; rc=$?
  check audit_unknown_job sh -c "[ $rc = 1 ] && grep -q 'no job 99' '$T/audit-n.out'"
else
  echo "SKIP audit ($ADMCTL not built)"
fi

# ---- jobs the schema cannot judge fail with a clear error; the daemon carries on ----
q "INSERT INTO models (name, unet_path, unet_config) VALUES ('gone', '$T/no-such-file.pt', '$R/unet_a/config.txt');
   INSERT INTO models (name, unet_path, unet_config) VALUES ('a2', '$R/unet_a/model.pt', '$R/unet_a/config.txt');"
q "INSERT INTO jobs(model, respacing) VALUES ('gone', '4');
   INSERT INTO jobs(model, respacing) VALUES ('a0', '5000');
   INSERT INTO jobs(model, class, respacing) VALUES ('a2', 12, '4');"
check bad_jobs_end wait_for 60 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM jobs WHERE id IN (5,6,7) AND state = 'failed'\") = 3 ]"
check missing_file_error sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 5' | grep -q 'no-such-file.pt'"
echo "  job 6 error: $(q "SELECT error FROM jobs WHERE id = 6")"
check respacing_error_recorded [ -n "$(q "SELECT error FROM jobs WHERE id = 6 AND length(error) > 10")" ]
check class_checked_after_load sh -c "sqlite3 '$DB' 'SELECT error FROM jobs WHERE id = 7' | grep -q 'jobs.class 12'"
check num_classes_learned [ "$(q "SELECT num_classes FROM models WHERE name = 'a2'")" = 10 ]
reject class_after_learning "jobs.class" "INSERT INTO jobs(model, class) VALUES ('a2', 12)"
check daemon_alive_after_failures kill -0 "$ADMD_PID"
before=$(q "SELECT finished_at FROM jobs WHERE id = 6")
check failed_job_requeue_accepted q "UPDATE jobs SET state = 'queued' WHERE id = 6"
check requeued_job_runs_again wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state FROM jobs WHERE id = 6 AND finished_at > '$before'\")\" = failed ]"

# ---- SIGHUP drops the model cache; the daemon carries on ----
kill -HUP "$ADMD_PID"
check sighup_logged wait_for 10 grep -q "SIGHUP" "$T/admd.log"
q "INSERT INTO jobs(model, count, seed) VALUES ('a0', 1, 13)"
check job_after_sighup wait_for 120 state_is 8 done
check model_reloaded_after_sighup [ "$(grep -c 'model a0: loaded' "$T/admd.log")" = 2 ]

# ---- SIGTERM while idle: exit 0 at once ----
t0=$(date +%s)
kill -TERM "$ADMD_PID"; wait "$ADMD_PID"; rc=$?
check sigterm_idle_exit0 [ "$rc" = 0 ]
check sigterm_idle_quick [ $(( $(date +%s) - t0 )) -le 5 ]

# ---- a database from a newer admd is refused ----
q "PRAGMA user_version = 999"
"$ADMD" --db "$DB" --drain > "$T/newer.log" 2>&1; rc=$?
check newer_schema_refused sh -c "[ $rc -ne 0 ] && grep -q 'newer' '$T/newer.log'"
