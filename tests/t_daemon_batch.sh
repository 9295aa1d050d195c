#!/bin/sh
# t_daemon_batch.sh — admd --batch N (daemon/lib_pool.c): the one-stage jobs
# of one model share device passes.  Real admd processes, real SQLite files,
# the MNIST pair (models/mnist), small step counts:
#   bits        the same six jobs (DDPM, DDIM with eta, DPM-Solver++ 2M,
#               DPM-Solver 3S; guided and not; fixed and drawn classes) give
#               the same PNG sha256s with --batch 1, with --batch 12 mixed
#               with three other jobs (two of them ahead in the queue), and
#               on the one-job path; `admctl audit` regenerates pooled images
#   provenance  batch_min/batch_max/passes/passes_shared as the runs were
#   started     12 one-image jobs under --batch 12 --drain all start before
#               the first finishes (their recorded times), in 5 shared passes
#   order       a job of another model at the head of the queue waits for the
#               pool to drain, and so does the job behind it
#   lease       a pass longer than the 1 s lease: a second worker reaping
#               every 0.5 s never steals the live job (the heartbeat thread)
#   cancel      cancelling one job mid-pool leaves the others intact; a job
#               whose image cannot be written fails alone
#   status      `admctl status` shows the pool's images/s
#   SIGTERM     every job of the pool back in the queue, no attempt spent
. tests/daemon_common.sh
M=$(pwd)/models/mnist
if [ ! -f "$M/unet.safetensors" ]; then fail batch_mnist_model "models/mnist/unet.safetensors missing"; exit 1; fi
need "$ADMCTL"

check batch_heartbeat_bounds sh -c "'$ADMD' --db '$T/x.db' --heartbeat 0.01 2>&1 | grep -q 'heartbeat must be' &&
  '$ADMD' --db '$T/x.db' --lease 10 --heartbeat 10 2>&1 | grep -q 'heartbeat must be'"

# new_spool NAME: an empty spool in $T/NAME with the MNIST pair as 'mnist'; sets DB.
new_spool() {
  mkdir -p "$T/$1"; DB=$T/$1/spool.db
  "$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/$1/init.log" 2>&1 || { cat "$T/$1/init.log"; return 1; }
  q "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes, default_respacing)
     VALUES ('mnist', '$M/unet.safetensors', '$M/unet.config.txt', '$M/classifier.safetensors', '$M/classifier.config.txt', 10, '5')"
}
# the six jobs whose bits are compared (ids 1-6 in every spool: adm:job is in the PNG)
the_set() {
  q "INSERT INTO jobs (model, class, count, sampler, respacing, steps, scale, eta, seed) VALUES
     ('mnist', 3, 2, 'ddpm', '5', NULL, 2.0, NULL, 11),
     ('mnist', NULL, 3, 'ddim', 'ddim5', NULL, 0, 0.5, 12),
     ('mnist', 7, 1, 'dpm++2m', NULL, 4, 2.0, NULL, 13),
     ('mnist', 1, 1, 'dpm3s', NULL, 6, 0, NULL, 14),
     ('mnist', 5, 2, 'ddpm', '8', NULL, 4.0, NULL, 15),
     ('mnist', 9, 1, 'ddim', 'ddim4', NULL, 1.0, 0, 16)"
}
hashes() { sqlite3 "$T/$1/spool.db" "SELECT job_id || ' ' || idx || ' ' || sha256 FROM outputs WHERE job_id <= 6 ORDER BY job_id, idx"; }
drain() { name=$1; shift; t0=$(date +%s); "$ADMD" --db "$DB" --drain $DEVICE_ARGS "$@" > "$T/$name/admd.log" 2>&1; rc=$?
          echo "  $name: admd --drain $* took $(( $(date +%s) - t0 )) s; $(grep '^pool:' "$T/$name/admd.log" | tail -1)"; }

# ---- bits: --batch 1, --batch 12 among other jobs, the one-job path
new_spool one || { fail batch_spool "admd could not create the spool"; exit 1; }
the_set; drain one --batch 1
check batch1_drain_ok [ "$rc" = 0 ]
new_spool mixed || exit 1
the_set
q "INSERT INTO jobs (model, class, count, respacing, scale, seed, priority) VALUES ('mnist', 2, 4, '3', 2.0, 21, 5);
   INSERT INTO jobs (model, class, count, sampler, steps, seed, priority) VALUES ('mnist', 4, 3, 'dpm++2m', 5, 22, -1);
   INSERT INTO jobs (model, class, count, sampler, respacing, scale, seed, priority) VALUES ('mnist', 0, 2, 'ddim', 'ddim6', 1.0, 23, 5)"
drain mixed --batch 12
check batch12_drain_ok [ "$rc" = 0 ]
new_spool alone || exit 1
the_set; drain alone
hashes one > "$T/h1"; hashes mixed > "$T/h12"; hashes alone > "$T/h0"
check batch_all_recorded [ "$(wc -l < "$T/h1")" = 10 ]
check batch1_vs_batch12_same_sha256 cmp -s "$T/h1" "$T/h12"
check batch_pool_vs_one_job_path_same_sha256 cmp -s "$T/h1" "$T/h0"
DB=$T/mixed/spool.db
check batch12_all_done [ "$(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = 9 ]
intact_all() { for j in "$@"; do outputs_intact "$j" || { echo "  job $j"; return 1; }; done; }
check batch12_outputs_intact intact_all 1 2 3 4 5 6 7 8 9
"$ADMCTL" audit --db "$DB" 1 3 4 6 > "$T/audit.out" 2>&1; arc=$?
grep "^audit:" "$T/audit.out" | sed 's/^/  /'
check batch_audit_pooled_images sh -c "[ $arc = 0 ] && grep -q '4 of 4 jobs check out' '$T/audit.out'"

# ---- provenance: alone at --batch 1 (passes = images x evaluations, none shared), shared at 12
DB=$T/one/spool.db
check batch1_provenance [ "$(q "SELECT group_concat(x, ', ') FROM (SELECT batch_min || '-' || batch_max || ' ' || passes || ' ' ||
                                 passes_shared AS x FROM provenance WHERE job_id IN (1, 3, 5) ORDER BY job_id)")" = "1-1 10 0, 1-1 4 0, 1-1 16 0" ]
DB=$T/mixed/spool.db
check batch12_provenance [ "$(q "SELECT count(*) FROM provenance WHERE batch_max BETWEEN 2 AND 12 AND batch_min >= 1
                                  AND passes_shared >= 1 AND passes >= passes_shared AND batch = batch_max")" = 9 ]
check batch12_job1_passes [ "$(q "SELECT passes FROM provenance WHERE job_id = 1")" -ge 5 ]
DB=$T/alone/spool.db
check batch_one_job_path_no_pool_provenance [ "$(q "SELECT count(*) FROM provenance WHERE passes IS NULL")" = 6 ]

# ---- started: 12 one-image jobs all start before the first finishes
new_spool twelve || exit 1
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do q "INSERT INTO jobs (model, class, count, seed) VALUES ('mnist', $((i % 10)), 1, $((100 + i)))"; done
drain twelve --batch 12
check batch_twelve_done [ "$rc $(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = "0 12" ]
echo "  last start $(q "SELECT max(started_at) FROM jobs"), first finish $(q "SELECT min(finished_at) FROM jobs")"
check batch_twelve_all_started_before_first_finished [ "$(q "SELECT max(started_at) < min(finished_at) FROM jobs")" = 1 ]
check batch_twelve_shared_passes [ "$(q "SELECT count(*) FROM provenance WHERE batch_min = 12 AND batch_max = 12 AND passes = 5 AND passes_shared = 5")" = 12 ]
check batch_show_pool_line sh -c "'$ADMCTL' show --db '$DB' 1 | grep -q '^  pool        5 device passes of 12 to 12 images, 5 of them shared with other jobs'"
check batch_show_json_pool sh -c "'$ADMCTL' show --db '$DB' --json 1 | jq -e '.[0].provenance.passes == 5 and .[0].provenance.batch_max == 12 and .[0].provenance.passes_shared == 5' > /dev/null"
check batch_twelve_rate_row_gone [ "$(q "SELECT count(*) FROM worker_rates")" = 0 ]
rates_refused() { out=$(sqlite3 "$DB" "INSERT INTO worker_rates (worker) VALUES ('x')" 2>&1); [ $? != 0 ] && echo "$out" | grep -q 'written by the daemon only'; }
check batch_rates_daemon_only rates_refused

# ---- queue order: a job of another model at the head of the queue stops the pool from
# claiming (the job behind it waits too); it runs once the pool has drained
new_spool models || exit 1
q "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes)
     SELECT 'mnist2', unet_path, unet_config, classifier_path, classifier_config, num_classes FROM models WHERE name = 'mnist';
   INSERT INTO jobs (model, class, count, seed) VALUES ('mnist', 1, 1, 61), ('mnist2', 2, 1, 62), ('mnist', 3, 1, 63)"
drain models --batch 12
check batch_models_all_done [ "$rc $(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = "0 3" ]
check batch_models_not_shared [ "$(q "SELECT group_concat(passes_shared) FROM provenance")" = "0,0,0" ]
# (>=: on a quick device the next claim can fall in the same millisecond as the finish)
check batch_models_queue_order [ "$(q "SELECT (SELECT started_at FROM jobs WHERE id = 2) >= (SELECT finished_at FROM jobs WHERE id = 1)
                                      AND (SELECT started_at FROM jobs WHERE id = 3) >= (SELECT finished_at FROM jobs WHERE id = 2)")" = 1 ]

# ---- lease: passes longer than the 1 s lease, a second worker reaping every 0.5 s
new_spool lease || exit 1
q "INSERT INTO jobs (model, class, count, respacing, scale, seed) VALUES ('mnist', 6, 48, '3', 2.0, 31)"
start_admd "$T/lease/a.log" --batch 48 --lease 1 --heartbeat 0.25 || { fail batch_lease_start "$(cat "$T/lease/a.log")"; exit 1; }
first=$ADMD_PID
wait_for 60 state_is 1 running
"$ADMD" --db "$DB" $DEVICE_ARGS --lease 1 --poll 0.2 > "$T/lease/b.log" 2>&1 &
second=$!; PIDS="$PIDS $second"
wait_for 30 grep -q "ready:" "$T/lease/b.log"
wait_for 60 step_at_least 1 1
status_shows_rate() { "$ADMCTL" status --db "$DB" > "$T/status.out" 2>&1 && grep -q "^pool: worker .*:$first:.* images/s" "$T/status.out"; }
check batch_status_images_per_s wait_for 30 status_shows_rate
grep "^pool:" "$T/status.out" | sed 's/^/  /'
wait_for 180 state_is 1 done
stop_admd; kill -TERM "$second"; wait "$second"
echo "  job: $(q "SELECT state || ', attempts ' || attempts || ', worker ' || worker FROM jobs WHERE id = 1");" \
     "mean pass $(q "SELECT round(steps_s / passes, 2) FROM provenance WHERE job_id = 1") s, lease 1 s"
check batch_lease_job_done state_is 1 done
check batch_lease_pass_longer_than_lease [ "$(q "SELECT steps_s / passes > 1.0 FROM provenance WHERE job_id = 1")" = 1 ]
check batch_lease_not_stolen [ "$(q "SELECT attempts FROM jobs WHERE id = 1")" = 1 ]
check batch_lease_second_worker_idle sh -c "! grep -q 'expired leases\|job 1: started' '$T/lease/b.log'"
check batch_lease_outputs_once [ "$(q "SELECT count(*) || ' ' || count(DISTINCT idx) FROM outputs WHERE job_id = 1")" = "48 48" ]
check batch_lease_worker_first [ "$(q "SELECT count(*) FROM provenance WHERE job_id = 1 AND worker LIKE '%:$first:%'")" = 1 ]

# ---- cancel one job, one job's image cannot be written: the others go on
new_spool cancel || exit 1
q "INSERT INTO jobs (model, class, count, respacing, scale, seed) VALUES ('mnist', 1, 4, '20', 2.0, 41), ('mnist', 2, 4, '20', 2.0, 42);
   INSERT INTO jobs (model, class, count, respacing, scale, seed, outdir) VALUES ('mnist', 3, 4, '20', 2.0, 43, 'gone')"
start_admd "$T/cancel/a.log" --batch 12 --drain || { fail batch_cancel_start "$(cat "$T/cancel/a.log")"; exit 1; }
wait_for 120 step_at_least 2 3
"$ADMCTL" cancel --db "$DB" 2 > /dev/null 2>&1
rm -rf "$T/cancel/outputs/gone" && echo "not a folder" > "$T/cancel/outputs/gone"
wait "$ADMD_PID"
check batch_cancel_state state_is 2 cancelled
check batch_cancel_dropped grep -q "job 2: stopped: cancelled" "$T/cancel/a.log"
check batch_cancel_others_done state_is 1 done
check batch_cancel_others_intact outputs_intact 1
check batch_failed_image_fails_its_job sh -c "[ \"\$(sqlite3 '$DB' \"SELECT state FROM jobs WHERE id = 3\")\" = failed ] &&
  sqlite3 '$DB' \"SELECT error FROM jobs WHERE id = 3\" | grep -q 'image 0'"
check batch_cancel_shared [ "$(q "SELECT passes_shared >= 3 AND passes = 20 FROM provenance WHERE job_id = 1")" = 1 ]

# ---- SIGTERM: every job of the pool back in the queue, attempt not counted
new_spool term || exit 1
q "INSERT INTO jobs (model, class, count, respacing, seed) VALUES ('mnist', 4, 3, '40', 51), ('mnist', 8, 3, '40', 52)"
start_admd "$T/term/a.log" --batch 6 || { fail batch_term_start "$(cat "$T/term/a.log")"; exit 1; }
wait_for 120 step_at_least 2 2
stop_admd
check batch_term_exit0 [ "$rc" = 0 ]
check batch_term_requeued [ "$(q "SELECT group_concat(state || ' ' || attempts, ', ') FROM jobs")" = "queued 0, queued 0" ]
check batch_term_no_heartbeat_left [ "$(q "SELECT count(*) FROM worker_rates")" = 0 ]
