#!/bin/sh
# t_dpm_spool.sh — the DPM-Solver samplers through the spool (migration
# 003): a version-1 spool with a job migrates (its rows kept, the widened
# sampler check in force); sqlite3 INSERTs of dpm jobs get their defaults
# filled and bad ones are refused naming the column; admctl submit takes
# --steps/--skip/--thresholding; a real `admd --drain` runs a guided
# dpm++2m job (provenance and PNG text chunks record steps, skip and
# thresholding; `admctl audit` regenerates identical bytes); `admctl
# sample` runs dpm3s from --x-T and refuses mixed options; `admctl chart`
# draws a table (and names a missing column or a bad number); the views
# (007) and --json show steps, skip and thresholding; `model add --steps`.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
D=$BUILD/admd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
DEV=${ADMD_TEST_DEVICE:+--device "$ADMD_TEST_DEVICE"}
. tests/lib.sh

if ! command -v sqlite3 > /dev/null; then echo "SKIP dpm_spool (no sqlite3 shell)"; exit 0; fi
for b in "$A" "$D"; do [ -x "$b" ] || { echo "FAIL dpm_spool: $b not built"; exit 1; }; done

# ---- a version-1 spool with a model and a job migrates
sqlite3 "$tmp/old.db" < schema/001_init.sql
sqlite3 "$tmp/old.db" "PRAGMA user_version = 1;
  INSERT INTO models (name, unet_path, unet_config) VALUES ('m', 'u.pt', 'c.txt');
  INSERT INTO jobs (model, class, count, sampler, respacing) VALUES ('m', 1, 2, 'ddim', 'ddim10');"
if "$A" init --db "$tmp/old.db" --no-model > "$tmp/o" 2> "$tmp/e" &&
   [ "$(sqlite3 "$tmp/old.db" "SELECT sampler || ' ' || respacing || ' ' || count FROM jobs WHERE id = 1")" = "ddim ddim10 2" ] &&
   sqlite3 "$tmp/old.db" "INSERT INTO jobs (model, count, sampler, steps) VALUES ('m', 1, 'dpm++3m', 5)" &&
   [ "$(sqlite3 "$tmp/old.db" "PRAGMA integrity_check")" = "ok" ]; then ok dpm_migrate_v1
else bad dpm_migrate_v1 "migration or insert failed"; fi

# ---- sqlite3 INSERTs: defaults filled, bad rows named
"$A" init --db "$DB" > /dev/null 2> "$tmp/e" || { bad dpm_init "init failed"; exit 1; }
row() { sqlite3 "$DB" "$1" 2>&1; }
out=$(row "INSERT INTO jobs (model, class, count, sampler, steps) VALUES ('mnist', 3, 1, 'dpm++2m', 4);
           SELECT steps || ' ' || skip || ' ' || thresholding FROM jobs WHERE id = last_insert_rowid();")
if [ "$out" = "4 time_uniform dynamic" ]; then ok dpm_insert_defaults; else bad dpm_insert_defaults "got '$out'"; fi
out=$(row "INSERT INTO jobs (model, count, sampler, skip) VALUES ('mnist', 1, 'dpm3s', 'logsnr');
           SELECT steps || ' ' || skip || ' ' || thresholding FROM jobs WHERE id = last_insert_rowid();")
if [ "$out" = "20 logsnr none" ]; then ok dpm3s_insert_defaults; else bad dpm3s_insert_defaults "got '$out'"; fi
out=$(row "INSERT INTO jobs (model, count, sampler) VALUES ('mnist', 1, 'ddim');
           SELECT coalesce(steps, 'NULL') || ' ' || respacing FROM jobs WHERE id = last_insert_rowid();")
if [ "$out" = "NULL 25" ]; then ok ddim_insert_no_steps; else bad ddim_insert_no_steps "got '$out'"; fi
refuse() {   # refuse NAME SQL TEXT: the INSERT fails and the message has TEXT
  out=$(row "$2")
  case "$out" in *"$3"*) ok "$1";; *) bad "$1" "got '$out'";; esac
}
refuse dpm_bad_sampler "INSERT INTO jobs (model, count, sampler) VALUES ('mnist', 1, 'dpm++4m')" \
  "jobs.sampler must be ddpm, ddim, dpm++2m, dpm++3m or dpm3s"
refuse dpm_bad_steps "INSERT INTO jobs (model, count, sampler, steps) VALUES ('mnist', 1, 'dpm++2m', 0)" "jobs.steps must be"
refuse dpm_bad_skip "INSERT INTO jobs (model, count, sampler, skip) VALUES ('mnist', 1, 'dpm++2m', 'cosine')" "jobs.skip must be"
refuse dpm_bad_thresholding "INSERT INTO jobs (model, count, sampler, thresholding) VALUES ('mnist', 1, 'dpm++2m', 'static')" \
  "jobs.thresholding must be"
refuse dpm3s_dynamic "INSERT INTO jobs (model, count, sampler, thresholding) VALUES ('mnist', 1, 'dpm3s', 'dynamic')" \
  "needs a data-prediction sampler"
refuse dpm_steps_on_ddpm "INSERT INTO jobs (model, count, sampler, steps) VALUES ('mnist', 1, 'ddpm', 10)" \
  "are for the dpm samplers"
refuse dpm3m_two_steps "INSERT INTO jobs (model, count, sampler, steps) VALUES ('mnist', 1, 'dpm++3m', 2)" \
  "must be at least 3 for dpm++3m"
refuse dpm_model_default "UPDATE models SET default_sampler = 'dpm4'" "models.default_sampler must be ddpm, ddim, dpm++2m"

# ---- the views (007) show steps/skip/thresholding for dpm jobs, respacing for ddpm/ddim
out=$(row "SELECT id || ':' || sampler || ':' || coalesce(respacing, '-') || ':' || coalesce(steps, '-') || ':' ||
                  coalesce(skip, '-') || ':' || coalesce(thresholding, '-') FROM job_status ORDER BY id")
want=$(printf '1:dpm++2m:-:4:time_uniform:dynamic\n2:dpm3s:-:20:logsnr:none\n3:ddim:25:-:-:-')
if [ "$out" = "$want" ]; then ok dpm_view_job_status; else bad dpm_view_job_status "got '$out'"; fi
out=$(row "SELECT id || ':' || coalesce(respacing, '-') || ':' || coalesce(steps, '-') || ':' || coalesce(skip, '-') FROM queue ORDER BY id")
want=$(printf '1:-:4:time_uniform\n2:-:20:logsnr\n3:25:-:-')
if [ "$out" = "$want" ]; then ok dpm_view_queue; else bad dpm_view_queue "got '$out'"; fi

# ---- --json: steps, skip and thresholding for dpm jobs (respacing and eta null), the reverse for ddim
if command -v jq > /dev/null 2>&1; then
  run status 1 --db "$DB" --json
  if [ $rc -eq 0 ] && jq -e '.steps == 4 and .skip == "time_uniform" and .thresholding == "dynamic" and
                             .respacing == null and .eta == null' "$tmp/o" > /dev/null
  then ok dpm_json_job; else bad dpm_json_job "exit $rc"; fi
  run list --db "$DB" --json
  if [ $rc -eq 0 ] && jq -e '[.jobs[] | select(.id == 3)][0] | .steps == null and .skip == null and .respacing == "25" and .eta == 0' \
       "$tmp/o" > /dev/null
  then ok ddim_json_job; else bad ddim_json_job "exit $rc"; fi
else echo "FAIL dpm_json_job: jq is not installed (tools/deps.sh installs it)"; fi

# ---- admctl model add --steps: the default passes of a dpm default sampler
run model add m3 --db "$DB" --config models/mnist/unet.config.txt --unet models/mnist/unet.safetensors \
  --sampler dpm++3m --steps 12
if [ $rc -eq 0 ] && [ "$(row "SELECT default_sampler || ' ' || default_steps FROM models WHERE name = 'm3'")" = "dpm++3m 12" ]
then ok model_add_steps; else bad model_add_steps "exit $rc"; fi
run model list --db "$DB"
if [ $rc -eq 0 ] && grep -q "sampler dpm++3m, 12 steps, scale 0" "$tmp/o"; then ok model_list_steps; else bad model_list_steps "exit $rc"; fi
if command -v jq > /dev/null 2>&1; then
  run model list --db "$DB" --json
  if [ $rc -eq 0 ] && jq -e '[.[] | select(.name == "m3")][0].default_steps == 12' "$tmp/o" > /dev/null
  then ok model_json_steps; else bad model_json_steps "exit $rc"; fi
fi
out=$(row "INSERT INTO jobs (model, count) VALUES ('m3', 1);
           SELECT sampler || ' ' || steps || ' ' || skip || ' ' || thresholding FROM jobs WHERE id = last_insert_rowid();")
if [ "$out" = "dpm++3m 12 time_uniform dynamic" ]; then ok model_default_steps_job; else bad model_default_steps_job "got '$out'"; fi
refuse dpm_respacing "INSERT INTO jobs (model, count, respacing) VALUES ('m3', 1, '10')" \
  "jobs.respacing is for ddpm and ddim"
run submit --db "$DB" --model m3 --count 1 --respacing 10
out=$(row "SELECT sampler || ' ' || respacing || ' ' || coalesce(steps, 'NULL') FROM jobs WHERE id = $(cat "$tmp/o")")
if [ $rc -eq 0 ] && [ "$out" = "ddpm 10 NULL" ]; then ok submit_respacing_dpm_default; else bad submit_respacing_dpm_default "got '$out'"; fi
CMD="model add"
expect_fail model_add_steps0 "--steps '0' is not a whole number from 1 to 1000" m4 --db "$DB" \
  --config models/mnist/unet.config.txt --unet models/mnist/unet.safetensors --sampler dpm++2m --steps 0
expect_fail model_add_steps_text "--steps '1x'" m4 --db "$DB" \
  --config models/mnist/unet.config.txt --unet models/mnist/unet.safetensors --sampler dpm++2m --steps 1x
sqlite3 "$DB" "UPDATE jobs SET state = 'cancelled' WHERE state = 'queued'"

# ---- admctl submit, then a real daemon
CMD=submit
expect_fail dpm_submit_steps0 "jobs.steps must be" --db "$DB" --model mnist --sampler dpm++2m --steps 0
expect_fail dpm_submit_skip "jobs.skip must be" --db "$DB" --model mnist --sampler dpm++2m --skip uniform
run submit --db "$DB" --model mnist --class 7 --count 2 --scale 4 --seed 5 --sampler dpm++2m --steps 4 --skip logsnr
id=$(cat "$tmp/o")
if [ $rc -eq 0 ] && [ -n "$id" ]; then ok dpm_submit; else bad dpm_submit "exit $rc"; exit 1; fi
# shellcheck disable=SC2086
if "$D" --db "$DB" --drain $DEV > "$tmp/d.log" 2>&1; then ok dpm_drain
else echo "FAIL dpm_drain:"; cat "$tmp/d.log"; exit 1; fi
out=$(sqlite3 "$DB" "SELECT j.state || ' ' || p.sampler || ' ' || p.steps || ' ' || p.skip || ' ' || p.thresholding || ' ' || j.total_steps
                     FROM jobs j JOIN provenance p ON p.job_id = j.id WHERE j.id = $id")
if [ "$out" = "done dpm++2m 4 logsnr dynamic 4" ]; then ok dpm_provenance; else bad dpm_provenance "got '$out'"; fi
png=$(sqlite3 "$DB" "SELECT path FROM outputs WHERE job_id = $id AND idx = 0")
if grep -aq "adm:steps" "$png" && grep -aq "logsnr" "$png" && grep -aq "adm:thresholding" "$png" &&
   ! grep -aq "adm:respacing" "$png"; then ok dpm_png_chunks; else bad dpm_png_chunks "$png lacks the dpm text chunks"; fi
run audit "$id" --db "$DB" $DEV
if [ $rc -eq 0 ] && [ "$(grep -c "identical bytes" "$tmp/o")" -eq 2 ] && grep -q "4 steps logsnr" "$tmp/o"; then ok dpm_audit
else bad dpm_audit "exit $rc"; fi
run show "$id" --db "$DB"
if [ $rc -eq 0 ] && grep -q "dpm++2m 4 steps logsnr, thresholding dynamic" "$tmp/o"; then ok dpm_show; else bad dpm_show "exit $rc"; fi
if command -v jq > /dev/null 2>&1; then
  run show "$id" --db "$DB" --json
  if [ $rc -eq 0 ] && jq -e '.[0].provenance | .steps == 4 and .skip == "logsnr" and .thresholding == "dynamic" and .engine != null' \
       "$tmp/o" > /dev/null
  then ok dpm_json_provenance; else bad dpm_json_provenance "exit $rc"; fi
fi

# ---- admctl sample: dpm3s from a recorded x_T; option mix-ups refused
M=models/mnist
"$A" sample --unet $M/unet.safetensors --unet-config $M/unet.config.txt --sampler ddim --respacing 3 --seed 1 --count 1 \
  --class 2 --out "$tmp/xt.npy" $DEV > /dev/null 2>&1   # any [1, 1, 32, 32] float32 array will do as x_T
run sample --unet $M/unet.safetensors --unet-config $M/unet.config.txt --sampler dpm3s --steps 3 --skip time_quadratic \
  --x-T "$tmp/xt.npy" --class 2 --out "$tmp/s.npy" $DEV
if [ $rc -eq 0 ] && grep -q "wrote $tmp/s.npy \[1, 1, 32, 32\]" "$tmp/o"; then ok dpm_sample_x_T; else bad dpm_sample_x_T "exit $rc"; fi
CMD=sample
expect_fail dpm_sample_respacing "not --respacing" --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
  --sampler dpm++2m --steps 5 --respacing 10 --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail dpm_sample_no_steps "--steps is required" --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
  --sampler dpm++3m --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail dpm_sample_steps_ddim "are for the dpm samplers" --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
  --sampler ddim --respacing 10 --steps 5 --seed 1 --count 1 --out "$tmp/x.npy"
expect_fail dpm_sample_3s_dynamic "data-prediction" --unet $M/unet.safetensors --unet-config $M/unet.config.txt \
  --sampler dpm3s --steps 5 --thresholding dynamic --seed 1 --count 1 --class 1 --out "$tmp/x.npy"

# ---- admctl chart: the docs' passes chart from a table
printf 'sampler\tpasses\taccuracy\nddpm\t50\t0.9\nddpm\t250\t1\ndpm++2m\t10\t0.95\ndpm++2m\t15\t1\n' > "$tmp/t.tsv"
run chart "$tmp/t.tsv" --x passes --y accuracy --series sampler --y-min 0 --y-max 1 --out "$tmp/c.png"
if [ $rc -eq 0 ] && grep -q "2 series, 4 x values" "$tmp/o" && [ "$(od -An -tu1 -j16 -N8 "$tmp/c.png" | awk '{print $3*256+$4, $7*256+$8}')" = "720 420" ]
then ok chart_render; else bad chart_render "exit $rc"; fi
CMD=chart
expect_fail chart_no_column "no column 'nope'" "$tmp/t.tsv" --x nope --y accuracy --series sampler --out "$tmp/c.png"
printf 'sampler\tpasses\taccuracy\nddpm\tfifty\t0.9\n' > "$tmp/bad.tsv"
expect_fail chart_bad_number "row 2: passes is not a number" "$tmp/bad.tsv" --x passes --y accuracy --series sampler --out "$tmp/c.png"
