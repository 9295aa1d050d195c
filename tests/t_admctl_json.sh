#!/bin/sh
# t_admctl_json.sh — `--json` on status, list, show, submit, model list and
# bench: stdout is exactly one JSON document (jq parses all of it), prose
# goes to stderr, and text with quotes, backslashes, control characters and
# UTF-8 (a model config, an outdir) comes back unchanged.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
. tests/lib.sh
# jqok FILE FILTER [ARGS]: FILE holds JSON (not empty) for which FILTER is true
jqok() { f=$1; shift; [ -s "$f" ] && jq -e "$@" "$f" > /dev/null; }
if ! command -v jq > /dev/null 2>&1; then echo "SKIP admctl_json: jq is not installed (tools/deps.sh installs it)"; exit 0; fi

"$A" init --no-model --db "$DB" > /dev/null 2>&1 || { echo "FAIL json_init"; exit 1; }
R=$(pwd)/tests/data/reference
weird=$(printf 'q"uote b\\\\slash\ttab\001ctl caf\303\251\nline2')
sqlite3 "$DB" "INSERT INTO models (name, unet_path, unet_config, classifier_path, classifier_config, num_classes)
  VALUES ('m', '$R/unet_a/model.pt', '$(printf '%s' "$weird" | sed "s/'/''/g")', '$R/classifier_a/model.pt', '$R/classifier_a/config.txt', 10)"

"$A" model list --json --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_model_list_escapes jqok "$tmp/o" --arg v "$weird" '.[0].name == "m" and .[0].unet_config == $v and .[0].image_size == null'

"$A" submit --json --model m --class 0-2 --seed 9 --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_submit jqok "$tmp/o" '.ids == [1, 2, 3] and .seed == 9'
"$A" submit --json --model m --class 1 --outdir 'out"dir' --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_submit_daemon_seed jqok "$tmp/o" '.ids == [4] and .seed == null'
"$A" submit --json --model m --class 0,99 --seed 1 --db "$DB" > "$tmp/o" 2> "$tmp/e"; rc=$?
check json_submit_partial_failure sh -c "[ $rc = 1 ] && [ -s '$tmp/o' ] && jq -e '.ids == [5]' '$tmp/o' > /dev/null && grep -q 'jobs.class' '$tmp/e'"

"$A" list --json --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_list jqok "$tmp/o" '(.jobs | length) == 5 and .jobs[0].id == 5 and .jobs[1].outdir == "out\"dir" and .jobs[4].class == 0'
"$A" cancel 5 --db "$DB" > /dev/null
"$A" status --json --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_status jqok "$tmp/o" '.counts.queued == 4 and .counts.cancelled == 1 and (.queue | length) == 4 and .queue[0].queue_position == 1 and .running == []'
"$A" status 2 --json --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_status_job jqok "$tmp/o" '.id == 2 and .state == "queued" and .seed == 9'
"$A" show 1-2 --json --db "$DB" > "$tmp/o" 2> "$tmp/e"
check json_show jqok "$tmp/o" 'length == 2 and .[0].provenance == null and .[0].outputs == [] and .[1].id == 2'
"$A" show 99 --json --db "$DB" > "$tmp/o" 2> "$tmp/e"; rc=$?
check json_show_missing_fails sh -c "[ $rc = 1 ] && [ ! -s '$tmp/o' ] && grep -q 'no job 99' '$tmp/e'"

# bench: the prose (device line, per-op times) on stderr, one array on stdout
"$A" bench --json --config models/mnist/unet.config.txt --iters 1 --batch 1,2 > "$tmp/o" 2> "$tmp/e"; rc=$?
if [ $rc = 0 ] && jq -e 'length == 2 and .[0].bench == "unet" and .[1].batch == 2 and .[0].ms_per_forward > 0 and (.[0].device | type) == "string"' \
     "$tmp/o" > /dev/null && grep -q "^device " "$tmp/e" && grep -q "ms/forward" "$tmp/e"; then
  pass json_bench
else fail json_bench "exit $rc"; sed 's/^/    /' "$tmp/o" "$tmp/e" | head -20; fi
# without --json: the JSON line of each result still parses
"$A" bench --config models/mnist/unet.config.txt --iters 1 > "$tmp/o" 2> "$tmp/e"
check json_bench_line sh -c "grep '^{' '$tmp/o' | jq -e '.bench == \"unet\"' > /dev/null"
