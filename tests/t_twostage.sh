#!/bin/sh
# t_twostage.sh — two-stage jobs (base model, then an upsampler) through a
# real admd on a real spool, with the random-weight reference models:
# unet_c (16x16, unconditional) as the base, superres_a (16 -> 32,
# class-conditional) as the upsampler.  The job is killed with SIGKILL
# after stage 1 and resumes without redoing or losing a stage-1 image;
# both stages' images, seeds, timings and model hashes are recorded; the
# schema refuses bad stage columns by name; a job naming a base model as
# its upsampler fails while the daemon keeps running.
. tests/daemon_common.sh
make_spool || { fail spool_create "admd could not create the spool"; exit 1; }
UPCFG=$(pwd)/tests/data/twostage/superres_a_16.config.txt
q "INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('c', '$R/unet_c/model.pt', '$R/unet_c/config.txt', '5');
   INSERT INTO models (name, unet_path, unet_config, default_respacing) VALUES ('up', '$R/superres_a/model.pt', '$UPCFG', '10');"
A=$ADMCTL

# ---- the schema and admctl submit ----
id=$("$A" submit --db "$DB" --model c --upsampler up --up-respacing 25 --count 3 --seed 5 2>"$T/e")
check submit_two_stage [ "$id" = 1 ]
check stage_defaults_filled [ "$(q "SELECT up_sampler || ' ' || up_respacing || ' ' || up_eta || ' ' || stage1_done FROM jobs WHERE id = 1")" = "ddpm 25 0.0 0" ]
"$A" submit --db "$DB" --model c --upsampler nosuch > /dev/null 2> "$T/e"
check unknown_upsampler_refused grep -q "jobs.upsampler: unknown model" "$T/e"
"$A" submit --db "$DB" --model c --up-respacing 10 > /dev/null 2> "$T/e"
check up_columns_need_upsampler grep -q "need jobs.upsampler" "$T/e"
"$A" submit --db "$DB" --model c --upsampler up --up-steps 10 > /dev/null 2> "$T/e"
check up_steps_for_dpm_only grep -q "jobs.up_steps is for the dpm samplers" "$T/e"
"$A" submit --db "$DB" --model c --upsampler up --up-eta 2 > /dev/null 2> "$T/e"
check up_eta_checked grep -q "jobs.up_eta must be" "$T/e"
q "UPDATE jobs SET stage1_done = 1 WHERE id = 1" 2> "$T/e"
check stage1_done_owned grep -q "jobs.stage1_done is owned by the daemon" "$T/e"
check nothing_else_queued [ "$(q "SELECT count(*) FROM jobs")" = 1 ]

# ---- stage 1, SIGKILL after it, resume ----
start_admd "$T/a1.log" --batch 1 --lease 30 || { fail daemon_start "$(cat "$T/a1.log")"; exit 1; }
first=$ADMD_PID
wait_for 180 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT stage1_done FROM jobs WHERE id = 1') -ge 3 ]"
kill -9 "$first"; wait "$first" 2>/dev/null
killed_at=$(q "SELECT state || ' ' || stage1_done || ' ' || images_done FROM jobs WHERE id = 1")
echo "  killed at (state, stage1_done, images_done): $killed_at"
check killed_after_stage1 [ "$(q "SELECT stage1_done FROM jobs WHERE id = 1")" = 3 ]
check killed_before_stage2_ended [ "$(q "SELECT images_done < 3 FROM jobs WHERE id = 1")" = 1 ]
q "SELECT idx, sha256, created_at, path FROM stage_outputs WHERE job_id = 1 ORDER BY idx" > "$T/s1_before"
ls -l --time-style=full-iso "$T"/outputs/job-1/job1-s1-*.png > "$T/s1_files_before"
check stage1_recorded [ "$(wc -l < "$T/s1_before")" = 3 ]
"$ADMD" --db "$DB" --drain --batch 1 $DEVICE_ARGS > "$T/a2.log" 2>&1; rc=$?
check resume_exit0 [ "$rc" = 0 ]
check resumed_done [ "$(q "SELECT state || ' ' || stage1_done || ' ' || images_done FROM jobs WHERE id = 1")" = "done 3 3" ]
q "SELECT idx, sha256, created_at, path FROM stage_outputs WHERE job_id = 1 ORDER BY idx" > "$T/s1_after"
ls -l --time-style=full-iso "$T"/outputs/job-1/job1-s1-*.png > "$T/s1_files_after"
check stage1_not_redone cmp -s "$T/s1_before" "$T/s1_after"
check stage1_files_untouched cmp -s "$T/s1_files_before" "$T/s1_files_after"
check no_stage1_sampling_on_resume sh -c "! grep -q 'stage 1:' '$T/a2.log'"
check stage2_logged grep -q "stage 2: .* with upsampler up (16x16 -> 32x32)" "$T/a2.log"
check final_images_recorded [ "$(q "SELECT count(*) || ' ' || min(idx) || ' ' || max(idx) FROM outputs WHERE job_id = 1")" = "3 0 2" ]
check pngs_intact outputs_intact 1
# both stages in the provenance: models, hashes, samplers, timings
prov=$(q "SELECT model, upsampler, length(unet_sha256), length(up_unet_sha256), up_sampler, up_respacing, up_image_size,
                 stage1_steps_s >= 0, stage2_steps_s > 0, image_size FROM provenance WHERE job_id = 1")
echo "  provenance: $prov"
check provenance_both_stages [ "$prov" = "c|up|64|64|ddpm|25|32|1|1|16" ]
check upsampler_hash_registered [ "$(q "SELECT length(unet_sha256) FROM models WHERE name = 'up'")" = 64 ]
# the final PNG: 32x32, says both stages; stage-1 PNG: 16x16, stage 1
"$A" show --db "$DB" 1 > "$T/show1" 2>&1
check show_ok [ $? = 0 ]
check show_both_stages grep -q "upsampler *up, ddpm 25" "$T/show1"
check show_side_by_side [ "$(grep -c "stage 1 .*job1-s1-000[0-2].png" "$T/show1") $(grep -c "stage 2 .*job1-000[0-2].png" "$T/show1")" = "3 3" ]
"$A" show --db "$DB" 1 --json > "$T/show1.json" 2>&1
check show_json_stages sh -c "grep -q '\"upsampler\": \"up\"' '$T/show1.json' && grep -q '\"stage1_outputs\"' '$T/show1.json'"

"$A" sheet --db "$DB" 1 --out "$T/sheet1.png" > "$T/sheet1" 2>&1
check sheet_both_stages grep -q "sheet1.png: 6 image(s)" "$T/sheet1"

# ---- audit: stage 1, stage 2 and the chain regenerate identically ----
"$A" audit --db "$DB" 1 > "$T/audit1" 2>&1; rc=$?
grep -E "audit:|stage" "$T/audit1" | sed 's/^/  /'
check audit_two_stage [ "$rc" = 0 ]
check audit_both_stages grep -q "audit: 9 of 9 images regenerated identically (stage 1, stage 2 and the chain)" "$T/audit1"
# a changed stage-1 file is seen by the stage-2 audit
s1=$(q "SELECT path FROM stage_outputs WHERE job_id = 1 AND idx = 1")
cp "$s1" "$T/s1.bak"; printf 'x' >> "$s1"
"$A" audit --db "$DB" 1 --stage 2 > "$T/audit2" 2>&1; rc=$?
check audit_sees_changed_stage1 [ "$rc" = 1 ]
check audit_names_changed_stage1 grep -q "changed since it was recorded" "$T/audit2"
cp "$T/s1.bak" "$s1"
"$A" audit --db "$DB" 1 --stage chain --output 2 > "$T/audit3" 2>&1
check audit_chain_one_image grep -q "audit: 1 of 1 image regenerated identically (chain)" "$T/audit3"

# ---- a wrong upsampler fails its job; the daemon keeps running ----
start_admd "$T/b1.log" --batch 1 || { fail daemon_start "$(cat "$T/b1.log")"; exit 1; }
q "INSERT INTO jobs (model, upsampler, count, seed) VALUES ('c', 'c', 1, 1)"
wait_for 120 state_is 2 failed
check base_as_upsampler_fails [ "$(q "SELECT error FROM jobs WHERE id = 2")" = "jobs.upsampler c is not a super-resolution model" ]
q "INSERT INTO jobs (model, count, seed) VALUES ('up', 1, 1)"
wait_for 120 state_is 3 failed
check upsampler_alone_fails grep -q "is a super-resolution model" "$T/b1.log"
q "INSERT INTO jobs (model, upsampler, up_sampler, up_steps, count, seed) VALUES ('c', 'up', 'dpm++2m', 4, 2, 9)"
wait_for 180 state_is 4 done
check daemon_kept_running kill -0 "$ADMD_PID"
check dpm_stage2_done [ "$(q "SELECT count(*) FROM outputs WHERE job_id = 4")" = 2 ]
stop_admd
# the default cache held both models: each loaded once by this daemon
check cache_holds_both [ "$(grep -c "model c: loaded" "$T/b1.log") $(grep -c "model up: loaded" "$T/b1.log")" = "1 1" ]

# ---- a cache too small for both: each stage evicts the other model, jobs still done ----
q "INSERT INTO jobs (model, upsampler, count, seed) VALUES ('c', 'up', 2, 21); INSERT INTO jobs (model, upsampler, count, seed) VALUES ('c', 'up', 1, 22)"
"$ADMD" --db "$DB" --drain --cache-mb 1 $DEVICE_ARGS > "$T/c1.log" 2>&1; rc=$?
check small_cache_jobs_done [ "$rc $(q "SELECT group_concat(state) FROM jobs WHERE id IN (5, 6)")" = "0 done,done" ]
# stage 1 of job 5: one pass of 2 images, its time split evenly over them
check stage1_pass_time_split [ "$(q "SELECT count(*) || ' ' || count(DISTINCT seconds) || ' ' || (min(seconds) > 0) FROM stage_outputs WHERE job_id = 5")" = "2 1 1" ]
check small_cache_reloads [ "$(grep -c "model c: loaded" "$T/c1.log") $(grep -c "model up: loaded" "$T/c1.log")" = "2 2" ]

# ---- prune takes the stage-1 files along ----
s1files=$(q "SELECT count(*) FROM stage_outputs WHERE job_id = 1")
"$A" prune --db "$DB" --state done,failed > "$T/prune" 2>&1
# (the newest job, 6, stays: prune never lets a job id be reused)
check prune_two_stage [ "$(q "SELECT count(*) FROM stage_outputs WHERE job_id <> 6") $(q "SELECT group_concat(id) FROM jobs")" = "0 6" ]
check prune_stage1_files_gone [ -z "$(find "$T/outputs" -name 'job*-s1-*.png' ! -name 'job6-*')" ] && check prune_stage1_counted [ "$s1files" = 3 ]
