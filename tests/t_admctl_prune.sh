#!/bin/sh
# t_admctl_prune.sh — admctl's id lists, retry and prune on a real spool
# whose PNGs a real admd wrote: the list parser (3, 3,5, 5-9, --state) in
# cancel / retry / show, prune's conditions (--older-than, --state,
# --keep-last, JOBS, --keep-files, --dry-run, --vacuum), and prune killed in
# the middle (strace injects SIGKILL at the commit's first write and at the
# 4th unlink): the spool never names a missing file, every left-over file
# is listed in prune_pending, and the next prune removes them.
. tests/daemon_common.sh
need "$ADMCTL"
A=$ADMCTL
OUT=$T/outputs

# consistent: every outputs row names an existing file, and every PNG on disk
# is named by an outputs row or waits in prune_pending
consistent() {
  q "SELECT path FROM outputs" | while read -r p; do [ -f "$p" ] || { echo "row names missing $p"; exit 1; }; done || return 1
  find "$OUT" -type f -name '*.png' | sort > "$T/files.txt"
  q "SELECT path FROM outputs UNION SELECT path FROM prune_pending ORDER BY 1" | sort > "$T/known.txt"
  [ -z "$(comm -23 "$T/files.txt" "$T/known.txt")" ] || { echo "unknown files:"; comm -23 "$T/files.txt" "$T/known.txt"; return 1; }
}
expect() {  # NAME CODE TEXT ARGS...
  name=$1 code=$2 want=$3; shift 3
  "$A" "$@" --db "$DB" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc -eq "$code" ] && cat "$T/o" "$T/e" | grep -q -- "$want"; then pass "$name"
  else fail "$name" "exit $rc (wanted $code), wanted '$want'"; sed 's/^/    /' "$T/o" "$T/e"; fi
}


make_spool || { echo "FAIL prune_spool: admd could not create the spool"; exit 1; }
q "INSERT INTO models (name, unet_path, unet_config) VALUES ('gone', '$T/missing.pt', '$R/unet_a/config.txt')"
# jobs 1-3 end first; jobs 4-6 at least a second later (--older-than tells them apart);
# 7-9 fail (their model file is missing); 10 stays queued; 11 is cancelled
for k in 1 2 3; do q "INSERT INTO jobs (model, class, count, scale, respacing, seed) VALUES ('a', $k, 3, 1.0, '2', $k)"; done
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/drain1.log" 2>&1
t1=$(date +%s.%N)
sleep 1.2
for k in 4 5 6; do q "INSERT INTO jobs (model, class, count, scale, respacing, seed) VALUES ('a', $k, 3, 1.0, '2', $k)"; done
for k in 7 8 9; do q "INSERT INTO jobs (model, count, scale, respacing, max_attempts) VALUES ('gone', 1, 0, '2', 1)"; done
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/drain2.log" 2>&1
if [ "$(q "SELECT count(*) FROM outputs")" = 18 ] && [ "$(q "SELECT group_concat(state) FROM jobs")" = \
     "done,done,done,done,done,done,failed,failed,failed" ]; then
  pass prune_setup_daemon_wrote_18_pngs
else fail prune_setup_daemon_wrote_18_pngs "$(q "SELECT group_concat(state) FROM jobs") $(tail -3 "$T/drain2.log")"; exit 1; fi
# --older-than "$(old)": ended before t1 + 0.5 s, i.e. jobs 1-3 (jobs 4-6 started 1.2 s after t1)
old() { awk -v t1="$t1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.3fs", now - t1 - 0.5 }'; }

# ---- metrics (Prometheus text format) on the spool the daemon just filled
"$A" metrics --db "$DB" > "$T/m.prom" 2> "$T/e"
metric() { awk -v k="$1" '$1 == k {print $2}' "$T/m.prom"; }
check metrics_jobs_done [ "$(metric 'admd_jobs{state="done"}')" = 6 ] && [ "$(metric 'admd_jobs{state="failed"}')" = 3 ]
check metrics_images [ "$(metric admd_images)" = 18 ]
check metrics_rate_and_busy awk -v r="$(metric 'admd_images_per_second{window_seconds="600"}')" \
  -v b="$(metric 'admd_device_busy_ratio{window_seconds="600"}')" 'BEGIN { exit !(r > 0 && b > 0 && b <= 1) }'
# every sample line is NAME{LABELS} NUMBER and has HELP and TYPE lines before it
check metrics_format awk '
  /^# HELP / { help[$3] = 1; next } /^# TYPE / { if ($4 != "gauge" && $4 != "counter") exit 1; type[$3] = 1; next }
  { if ($0 !~ /^[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[0-9.e+-]+$/) exit 1; n = $1; sub(/\{.*/, "", n); if (!help[n] || !type[n]) exit 1 }
  END { if (NR < 20) exit 1 }' "$T/m.prom"
q "INSERT INTO jobs (model, class, count, respacing) VALUES ('a', 1, 1, '2')"
q "INSERT INTO jobs (model, class, count, respacing) VALUES ('a', 1, 1, '2')"
sleep 1
"$A" metrics --db "$DB" --out "$T/admd.prom" --window 60 2> "$T/e"
check metrics_out_file_queue_age awk '$1 == "admd_queue_age_seconds" { found = 1; if ($2 < 0.9 || $2 > 60) exit 1 } END { exit !found }' "$T/admd.prom"
check metrics_out_no_tmp_left [ ! -e "$T/admd.prom.tmp" ]
expect metrics_bad_window 2 "window" metrics --window 0
expect cancel_one 0 "cancelled job 11" cancel 11

# ---- id lists
expect ids_bad_range 2 "bad range" cancel 5-3
expect ids_bad_text 2 "not a job id" cancel 3,,4
expect ids_zero 2 "not a job id" show 0
expect ids_unknown_state 1 "expected queued, running" cancel --state finished
"$A" show 1,2 4-5 --paths --db "$DB" > "$T/o" 2> "$T/e"
check ids_show_list_paths [ "$(wc -l < "$T/o")" = 12 ]
"$A" show 2-3 2 --db "$DB" > "$T/o" 2> "$T/e"
check ids_show_dedupes [ "$(grep -c '^job ' "$T/o")" = 2 ]
expect ids_show_state 0 "job 8: failed" show --state failed

# ---- retry
expect retry_done_refused 1 "cannot requeue job 1: it is done" retry 1
expect retry_one 0 "requeued job 7" retry 7
check retry_attempts_reset [ "$(q "SELECT state || attempts || coalesce(error, '-') FROM jobs WHERE id = 7")" = "queued0-" ]
expect retry_state_failed 0 "requeued job 9" retry --state failed
check retry_state_all_queued [ "$(q "SELECT count(*) FROM jobs WHERE id IN (7,8,9) AND state = 'queued'")" = 3 ]
expect cancel_list 0 "cancelled job 9" cancel 7-9
check cancel_list_all [ "$(q "SELECT count(*) FROM jobs WHERE id IN (7,8,9) AND state = 'cancelled'")" = 3 ]

# ---- prune: refusals and --dry-run
expect prune_needs_condition 2 "say what to prune" prune
expect prune_bad_age 2 "older-than" prune --older-than 3 days
expect prune_bad_state 1 "ended jobs only" prune --state queued
expect prune_queued_job 1 "job 10 is queued" prune 10
before=$(q "SELECT count(*) FROM jobs")
expect prune_dry_run 0 "would prune 3 jobs with 9 images" prune --older-than "$(old)" --dry-run
check prune_dry_run_changes_nothing [ "$(q "SELECT count(*) FROM jobs")" = "$before" ] && [ "$(find "$OUT" -name '*.png' | wc -l)" = 18 ]

# ---- prune killed in the middle
if command -v strace > /dev/null 2>&1; then
  # (a) at the first write of the delete transaction: nothing changes
  strace -f -qq -o /dev/null -e trace=pwrite64,write -e inject=pwrite64:signal=KILL:when=1 \
    "$A" prune --older-than "$(old)" --db "$DB" > "$T/o" 2>&1
  rc=$?
  if [ $rc = 137 ] && [ "$(q "SELECT count(*) FROM jobs WHERE id <= 3")" = 3 ] &&
     [ "$(q "SELECT count(*) FROM prune_pending")" = 0 ] && [ "$(find "$OUT" -name '*.png' | wc -l)" = 18 ]; then
    pass prune_killed_in_transaction_changes_nothing
  else fail prune_killed_in_transaction_changes_nothing "exit $rc, jobs 1-3: $(q "SELECT count(*) FROM jobs WHERE id <= 3")"; fi
  check prune_killed_in_transaction_consistent consistent
  # (b) at the 4th unlink: rows gone, 3 files unlinked, 6 files pending
  strace -f -qq -o /dev/null -e trace=unlink,unlinkat -e inject=unlink,unlinkat:signal=KILL:when=4 \
    "$A" prune --older-than "$(old)" --db "$DB" > "$T/o" 2>&1
  rc=$?
  pending=$(q "SELECT count(*) FROM prune_pending")
  if [ $rc = 137 ] && [ "$(q "SELECT count(*) FROM jobs WHERE id <= 3")" = 0 ] &&
     [ "$(q "SELECT count(*) FROM outputs WHERE job_id <= 3")" = 0 ] && [ "$pending" -ge 6 ] &&
     [ "$(find "$OUT" -name '*.png' | wc -l)" = 15 ]; then
    pass prune_killed_between_unlinks
  else fail prune_killed_between_unlinks "exit $rc, pending $pending, files $(find "$OUT" -name '*.png' | wc -l)"; fi
  check prune_killed_between_unlinks_consistent consistent
  expect prune_resume 0 "finishing an interrupted prune" prune --resume
  check prune_resume_done [ "$(q "SELECT count(*) FROM prune_pending")" = 0 ] && [ "$(find "$OUT" -name '*.png' | wc -l)" = 9 ]
  check prune_job_folders_removed [ ! -d "$OUT/job-1" ] && [ ! -d "$OUT/job-3" ] && [ -d "$OUT/job-4" ]
else
  echo "SKIP prune_killed: strace is not installed (tools/deps.sh installs it)"
  expect prune_older_than 0 "pruned 3 jobs, removed 9 files" prune --older-than "$(old)"
fi
check prune_after_kills_consistent consistent

# ---- prune: --keep-last, JOBS, --keep-files, --vacuum
expect prune_keep_last 0 "pruned 1 job, removed 3 files" prune --state done --keep-last 2
check prune_keep_last_kept_newest [ "$(q "SELECT group_concat(id) FROM jobs WHERE state = 'done' ORDER BY id")" = "5,6" ]
expect prune_job_keep_files 0 "pruned 1 job, removed 0 files" prune 5 --keep-files
check prune_keep_files_files_stay [ "$(find "$OUT/job-5" -name '*.png' | wc -l)" = 3 ] && [ "$(q "SELECT count(*) FROM jobs WHERE id = 5")" = 0 ]
# admd's start-up clean-up (image files no outputs row records) leaves them alone:
# it looks only at jobs the spool still has (a copy of the spool, its queue cancelled)
cp "$DB" "$T/copy.db"
sqlite3 "$T/copy.db" "UPDATE jobs SET state = 'cancelled' WHERE state = 'queued'"
"$ADMD" --db "$T/copy.db" --output-root "$OUT" --drain $DEVICE_ARGS > "$T/copy.log" 2>&1
check prune_keep_files_survive_admd_start [ "$(find "$OUT/job-5" -name '*.png' | wc -l)" = 3 ]
rm -rf "$OUT/job-5"
expect prune_state_vacuum 0 "vacuumed" prune --state cancelled --vacuum
# 11 is cancelled too, but the newest job stays: ids are never handed out again
check prune_state_only_cancelled [ "$(q "SELECT group_concat(id) FROM jobs ORDER BY id")" = "6,10,11" ]
expect prune_newest_kept 0 "pruned 0 jobs" prune 11
q "INSERT INTO jobs (model, class, count, respacing) VALUES ('a', 1, 1, '2')"
check prune_ids_not_reused [ "$(q "SELECT max(id) FROM jobs")" = 12 ]
check prune_final_consistent consistent
