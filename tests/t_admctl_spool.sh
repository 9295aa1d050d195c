#!/bin/sh
# t_admctl_spool.sh — admctl's spool commands against a real SQLite spool,
# no daemon: init (default model registered and hashed), model add/list/rm
# with the reference checkpoints, submit (good and bad requests), list,
# status, show, cancel, watch of an ended job, a job inserted with the
# sqlite3 CLI, --help everywhere, and the exit codes (0 ok, 1 failure,
# 2 usage) with error messages that name the problem.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/sp/spool.db

. tests/lib.sh    # ok, bad, run (admctl into $tmp/o, $tmp/e)
# expect NAME CODE TEXT ARGS...: exit status CODE and TEXT in stdout+stderr
expect() {
  name=$1 code=$2 want=$3; shift 3
  run "$@"
  if [ $rc -eq "$code" ] && cat "$tmp/o" "$tmp/e" | grep -q -- "$want"; then ok "$name"
  else bad "$name" "exit $rc (wanted $code), wanted text '$want'"; fi
}

if [ ! -x "$A" ]; then echo "FAIL admctl_spool: $A not built"; exit 1; fi

# ---- --help for every command: exit 0, a usage line on stdout
helpfail=""
for c in init model submit list status watch cancel retry prune metrics show sheet sweep convert; do
  "$A" $c --help > "$tmp/o" 2>&1 || helpfail="$helpfail $c(exit)"
  grep -q "^usage: admctl $c" "$tmp/o" || helpfail="$helpfail $c(text)"
done
if [ -z "$helpfail" ]; then ok admctl_help_everywhere; else bad admctl_help_everywhere "$helpfail"; fi
expect admctl_unknown_command 2 "unknown command" frobnicate
expect admctl_no_spool 1 "no spool there" list --db "$tmp/nowhere/x.db"

# ---- init: database created, mnist registered with the right hashes
expect admctl_init 0 "created spool" init --db "$DB"
# under umask 007 a new spool is group-writable (0660), as the systemd setup needs
(umask 007; "$A" init --no-model --db "$tmp/g/spool.db" > /dev/null 2>&1)
mode=$(stat -c %a "$tmp/g/spool.db" 2>/dev/null)
if [ "$mode" = 660 ]; then ok admctl_init_umask_group_writable; else bad admctl_init_umask_group_writable "mode '$mode', wanted 660"; fi
run model list --db "$DB"
unet=$(awk '$1 == "unet" {print $2; exit}' "$tmp/o")
sha=$(awk '$1 == "sha256" {print $2; exit}' "$tmp/o")
if [ $rc -eq 0 ] && [ -f "$unet" ] && [ "$sha" = "$(sha256sum "$unet" | cut -d' ' -f1)" ] &&
   grep -q "^mnist" "$tmp/o" && grep -q "classifier  /" "$tmp/o"; then
  ok admctl_init_registers_mnist
else bad admctl_init_registers_mnist "unet '$unet' sha '$sha'"; fi
expect admctl_init_again 0 "already registered, kept" init --db "$DB"

# ---- model add / list / rm
expect admctl_model_add_check 0 "model ref_a" model add ref_a --db "$DB" --unet $R/unet_a/model.pt \
  --config $R/unet_a/config.txt --classifier $R/classifier_a/model.pt --classifier-config $R/classifier_a/config.txt --check
expect admctl_model_add_mismatch 1 "does not match\|mismatch\|missing\|shape" model add bad_b --db "$DB" \
  --unet $R/unet_b/model.pt --config $R/unet_a/config.txt --check
expect admctl_model_add_duplicate 1 "already exists" model add ref_a --db "$DB" --unet $R/unet_a/model.pt --config $R/unet_a/config.txt
expect admctl_model_add_missing_file 1 "nothere.pt" model add x --db "$DB" --unet "$tmp/nothere.pt" --config $R/unet_a/config.txt
expect admctl_model_add_unknown_preset 1 "unknown preset" model add x --db "$DB" --preset 65x65
expect admctl_model_add_preset_file 1 "64x64_diffusion.pt" model add x --db "$DB" --preset 64x64 --dir "$tmp"
expect admctl_model_add_usage 2 "exactly one of" model add x --db "$DB" --unet $R/unet_a/model.pt
expect admctl_model_presets 0 "256x256_classifier" model presets
expect admctl_model_rm 0 "removed model ref_a" model rm ref_a --db "$DB"
expect admctl_model_rm_unknown 1 "unknown model" model rm ref_a --db "$DB"
expect admctl_model_bad_action 2 "unknown action" model frob --db "$DB"

# ---- submit: ids printed, class lists, the schema's checks
run submit --db "$DB" --model mnist --class 3 --count 2 --scale 4 --seed 7
if [ $rc -eq 0 ] && [ "$(cat "$tmp/o")" = "1" ]; then ok admctl_submit_prints_id; else bad admctl_submit_prints_id "exit $rc"; fi
run submit --db "$DB" --model mnist --class 0-9 --scale 1 --seed 42
if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/o")" -eq 10 ] && [ "$(tail -1 "$tmp/o")" = "11" ]; then
  ok admctl_submit_class_list
else bad admctl_submit_class_list "exit $rc"; fi
expect admctl_submit_bad_class 1 "jobs.class" submit --db "$DB" --model mnist --class 10
expect admctl_submit_bad_count 1 "jobs.count" submit --db "$DB" --model mnist --count 0
expect admctl_submit_bad_scale 1 "jobs.scale" submit --db "$DB" --model mnist --scale -1
expect admctl_submit_bad_respacing 1 "jobs.respacing" submit --db "$DB" --model mnist --respacing fast
expect admctl_submit_bad_sampler 1 "jobs.sampler" submit --db "$DB" --model mnist --sampler euler
expect admctl_submit_escape 1 "jobs.outdir" submit --db "$DB" --model mnist --outdir ../../etc
expect admctl_submit_unknown_model 1 "unknown model" submit --db "$DB" --model nope
expect admctl_submit_no_model 2 "model is required" submit --db "$DB"
expect admctl_submit_bad_number 2 "expected a number" submit --db "$DB" --model mnist --count lots
expect admctl_submit_bad_option 2 "unexpected argument" submit --db "$DB" --model mnist --colour red
expect fleet_submit_one_stage 2 "one-stage jobs" fleet submit --nats nats://127.0.0.1:1 --model mnist --upsampler up
expect admctl_submit_bad_attempts 2 "max-attempts" submit --db "$DB" --model mnist --max-attempts 0
expect admctl_submit_fractional_count 2 "whole number" submit --db "$DB" --model mnist --count 2.5

# ---- a job inserted with the sqlite3 CLI is a job like any other
if command -v sqlite3 > /dev/null; then
  printf '.timeout 5000\nINSERT INTO jobs(model, class, count, scale) VALUES ('"'"'mnist'"'"', 5, 3, 2.0);\n' | sqlite3 "$DB" 2> "$tmp/e"
  run show 12 --db "$DB"
  if [ $rc -eq 0 ] && grep -q "class       5" "$tmp/o" && grep -q "count       3" "$tmp/o"; then ok admctl_sees_sqlite3_insert
  else bad admctl_sees_sqlite3_insert "exit $rc"; fi
else echo "SKIP admctl_sees_sqlite3_insert (no sqlite3 CLI)"; fi

# ---- list / status / show
run list --db "$DB"
if [ $rc -eq 0 ] && [ "$(grep -c queued "$tmp/o")" -eq 12 ] && head -1 "$tmp/o" | grep -q "JOB  STATE"; then ok admctl_list
else bad admctl_list "exit $rc"; fi
run list --db "$DB" --state done
if [ $rc -eq 0 ] && grep -q "no jobs in state done" "$tmp/o"; then ok admctl_list_state; else bad admctl_list_state "exit $rc"; fi
expect admctl_list_bad_state 2 "one of queued" list --db "$DB" --state sleeping
run status --db "$DB"
if [ $rc -eq 0 ] && grep -q "12 queued, 0 running" "$tmp/o" && grep -q "queue position 1$" "$tmp/o" &&
   grep -q "queue position 12$" "$tmp/o"; then ok admctl_status_queue
else bad admctl_status_queue "exit $rc"; fi
expect admctl_status_job 0 "queue position 2" status 2 --db "$DB"
run show 1 --db "$DB"
if [ $rc -eq 0 ] && grep -q "job 1: queued" "$tmp/o" && grep -q "seed        7" "$tmp/o" &&
   grep -q "scale       4" "$tmp/o" && grep -q "outputs (0)" "$tmp/o"; then ok admctl_show
else bad admctl_show "exit $rc"; fi
expect admctl_show_unknown 1 "no job 99" show 99 --db "$DB"
expect admctl_show_not_a_number 2 "not a job id" show abc --db "$DB"

# ---- cancel, and watch of an ended job
expect admctl_cancel 0 "cancelled job 2" cancel 2 --db "$DB"
expect admctl_cancel_again 1 "job 2" cancel 2 --db "$DB"
expect admctl_status_after_cancel 0 "11 queued, 0 running, 0 done, 0 failed, 1 cancelled" status --db "$DB"
expect admctl_watch_cancelled 1 "job 2 cancelled" watch 2 --db "$DB"
expect admctl_watch_unknown 1 "no job 77" watch 77 --db "$DB"
expect admctl_watch_usage 2 "which job" watch --db "$DB"
# a pipe gets plain lines, no terminal escapes
"$A" watch 3 --db "$DB" --interval 0.1 > "$tmp/o" 2> "$tmp/e" &
wp=$!
sleep 1
"$A" cancel 3 --db "$DB" > /dev/null 2>&1
wait $wp; rc=$?
if [ $rc -eq 1 ] && grep -q "job 3 queued: queue position" "$tmp/o" && grep -q "job 3 cancelled" "$tmp/o" &&
   ! grep -q "$(printf '\033')" "$tmp/o"; then ok admctl_watch_pipe
else bad admctl_watch_pipe "exit $rc"; fi

# ---- model rm refused while jobs are queued
expect admctl_model_rm_in_use 1 "queued or running" model rm mnist --db "$DB"

# a daemon-chosen seed (up to 2^63-1) can be given back exactly
run submit --db "$DB" --model mnist --seed 9007199254740993
id=$(cat "$tmp/o")
got=$(sqlite3 "$DB" "SELECT seed FROM jobs WHERE id = '$id'" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$got" = 9007199254740993 ]; then ok admctl_submit_seed_64bit; else bad admctl_submit_seed_64bit "exit $rc, seed '$got'"; fi
"$A" cancel --db "$DB" "$id" > /dev/null 2>&1
exit 0
