#!/bin/sh
# t_admctl_tables.sh — admctl's tables (libsmartcols) and its progress bars
# for big files, against a real SQLite spool with the real admctl:
#  - status, list, model list, model presets and eval --list with --raw
#    (one row a line, one space between cells, blanks inside a cell as
#    \x20: awk's fields are the columns) and --noheadings (no header line);
#    the default tables aligned (each column starts where its header does);
#    prose (the counts, "no jobs") kept off stdout under --raw;
#  - convert and model add (--check: reading; without: hashing) draw a bar
#    on a pseudo-terminal (script(1)) and end with one line on a pipe.
BUILD=${ADM_BUILD:-build}
A=$BUILD/admctl
R=tests/data/reference
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DB=$tmp/spool.db
. tests/lib.sh    # ok, bad, run (admctl into $tmp/o, $tmp/e), check

[ -x "$A" ] || { echo "FAIL admctl_tables: $A not built"; exit 1; }
command -v script > /dev/null || { echo "FAIL admctl_tables: script(1) missing (bsdutils)"; exit 1; }

"$A" init --db "$DB" > /dev/null 2>&1 || { echo "FAIL tables_init: admctl init"; exit 1; }
"$A" submit --db "$DB" --model mnist --class 0-2 --count 2 --scale 4 --seed 7 > /dev/null 2>&1
"$A" submit --db "$DB" --model mnist --sampler dpm++2m --steps 10 > /dev/null 2>&1    # STEPS "10 time_uniform", SEED (daemon)
"$A" cancel 2 --db "$DB" > /dev/null 2>&1

# ---- list
run list --raw --db "$DB"
check list_raw_header [ "$(head -1 "$tmp/o")" = "JOB STATE MODEL CLASS COUNT SCALE SAMP STEPS SEED PROGRESS" ]
check list_raw_ten_fields awk 'NF != 10 { print "fields: " NF ": " $0; bad = 1 } END { exit bad || NR != 5 }' "$tmp/o"
check list_raw_cells awk 'NR > 1 { row[$1] = $2 " " $4 " " $8 " " $9 " " $10 }
  END { exit !(row[4] == "queued rnd 10\\x20time_uniform (daemon) queue\\x20position\\x203" &&
               row[2] == "cancelled 1 25 7 0/2\\x20images" && row[1] == "queued 0 25 7 queue\\x20position\\x201") }' "$tmp/o"
run list --raw --noheadings --db "$DB"
check list_raw_noheadings sh -c "[ \$(wc -l < '$tmp/o') = 4 ] && ! grep -q JOB '$tmp/o' && [ \"\$(awk '{print \$1}' '$tmp/o' | tr '\n' ' ')\" = '4 3 2 1 ' ]"
run list --noheadings --db "$DB"
check list_noheadings sh -c "[ \$(wc -l < '$tmp/o') = 4 ] && ! grep -q 'JOB' '$tmp/o' && grep -q 'queue position 3$' '$tmp/o'"
# the default table is aligned: every row's STATE, MODEL and PROGRESS start under their headers
run list --db "$DB"
check list_aligned awk 'NR == 1 { s = index($0, "STATE"); m = index($0, "MODEL"); p = index($0, "PROGRESS"); next }
  { if (substr($0, s, 1) == " " || substr($0, s - 1, 1) != " " || substr($0, m, 5) != "mnist" ||
        substr($0, p - 1, 1) != " " || substr($0, p, 1) == " ") { print "misaligned: " $0; bad = 1 } }
  END { exit bad || NR != 5 }' "$tmp/o"
run list --raw --state done --db "$DB"
check list_raw_empty sh -c "[ $rc = 0 ] && [ ! -s '$tmp/o' ] && grep -q 'no jobs in state done' '$tmp/e'"
run list --json --raw --db "$DB"
check list_json_raw_usage sh -c "[ $rc = 2 ] && grep -q 'not both' '$tmp/e'"

# ---- status: rows on stdout, the counts on stderr
run status --raw --db "$DB"
check status_raw_rows_only sh -c "[ $rc = 0 ] && [ \"\$(head -1 '$tmp/o' | cut -d' ' -f1-2)\" = 'JOB STATE' ] &&
  [ \"\$(awk 'NR > 1 {print \$1 \":\" \$10}' '$tmp/o' | tr '\n' ' ')\" = '1:queue\\x20position\\x201 3:queue\\x20position\\x202 4:queue\\x20position\\x203 ' ] &&
  ! grep -q 'queued,' '$tmp/o' && grep -q '3 queued, 0 running, 0 done, 0 failed, 1 cancelled, 0 dead' '$tmp/e'"
run status --noheadings --db "$DB"
check status_noheadings sh -c "[ \$(wc -l < '$tmp/o') = 3 ] && ! grep -q 'JOB\|queued,' '$tmp/o'"
run status 3 --raw --noheadings --db "$DB"
check status_job_raw [ "$(awk '{print $1, $2, $4, $10}' "$tmp/o")" = '3 queued 2 queue\x20position\x202' ]
run status --db "$DB"
check status_default_prose sh -c "grep -q '3 queued, 0 running' '$tmp/o' && grep -q '^JOB  STATE' '$tmp/o' && grep -q 'queue position 3$' '$tmp/o'"

# ---- model list and presets
"$A" model add ref_a --db "$DB" --unet $R/unet_a/model.pt --config $R/unet_a/config.txt > /dev/null 2>&1
run model list --raw --db "$DB"
sha=$(sha256sum $R/unet_a/model.pt | cut -d' ' -f1)
check model_list_raw_header [ "$(head -1 "$tmp/o")" = "NAME SAMPLER STEPS SCALE SIZE CHANNELS CLASSES UNET UNET-CONFIG UNET-SHA256 CLASSIFIER CLASSIFIER-CONFIG CLASSIFIER-SHA256 NAMES" ]
check model_list_raw_rows awk -v sha="$sha" 'NF != 14 { bad = 1 } $1 == "ref_a" { ok = $10 == sha && $11 == "-" && $13 == "-" && $2 == "ddpm" && $8 ~ /\/unet_a\/model.pt$/ && $14 == "-" }
  $1 == "mnist" { m = $11 ~ /classifier/ && length($13) == 64 && $5 == 32 && $7 == 10 && $14 == 10 } END { exit bad || !ok || !m }' "$tmp/o"
run model list --noheadings --db "$DB"
check model_list_noheadings sh -c "[ \$(wc -l < '$tmp/o') = 2 ] && ! grep -q NAME '$tmp/o'"
run model list --db "$DB"
check model_list_default_blocks grep -q "^  sha256      $sha" "$tmp/o"
run model presets --raw --noheadings
check model_presets_raw awk '$1 == "256x256_classifier" { ok = $2 == "classifier" && NF == 3 } END { exit !ok }' "$tmp/o"
run model presets --flags --raw
check model_presets_flags_raw awk 'NR == 1 { h = $0 == "PRESET KIND FILE FLAGS" } $1 == "64x64" { ok = NF == 4 && $4 ~ /^--attention_resolutions\\x20/ } END { exit !h || !ok }' "$tmp/o"

# ---- eval --list
run eval --list --raw --db "$DB"
check eval_list_raw_empty sh -c "[ $rc = 0 ] && [ ! -s '$tmp/o' ] && grep -q 'no evaluations yet' '$tmp/e'"
z=$(printf '%064d' 0)
sqlite3 "$DB" "INSERT INTO evaluations (reference, reference_sha256, reference_count, samples, sample_count, feature_net,
  feature_sha256, device, fid, inception_score, precision, recall) VALUES ('ref batch.npz', '$z', 10, 'jobs 1,3', 10,
  'classifier mnist at t=0', '$z', 'cpu', 12.5, 3.25, 0.5, 0.25)" 2> "$tmp/e"
run eval --list --raw --db "$DB"
check eval_list_raw awk 'NR == 1 { h = $1 == "ID" && $12 == "SAMPLE-SET" } NR == 2 { ok = NF == 12 && $3 == "12.500" && $4 == "n/a" &&
  $9 == "classifier\\x20mnist\\x20at\\x20t=0" && $10 == "ref\\x20batch.npz" && $11 == "computed" && $12 == "jobs\\x201,3" }
  END { exit !h || !ok || NR != 2 }' "$tmp/o"
run eval --list --noheadings --db "$DB"
check eval_list_noheadings sh -c "[ \$(wc -l < '$tmp/o') = 1 ] && grep -q 'classifier mnist at t=0  ref batch.npz' '$tmp/o'"
run eval REF --raw --db "$DB"
check eval_raw_needs_list sh -c "[ $rc = 2 ] && grep -q 'go with --list' '$tmp/e'"

# ---- progress: convert and model add draw a bar on a terminal, one line on a pipe
lines() { tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -v '^$'; }
script -qec "stty cols 80; $A convert $R/unet_a/model.pt $tmp/u16.safetensors --fp16" /dev/null > "$tmp/tty" 2>&1
lines "$tmp/tty" > "$tmp/l"
check convert_bar_tty sh -c "grep -q '^reading model.pt \[#*\] 100% 8.1/8.1 MB' '$tmp/l' && grep -q '^to fp16 \[#*\] 100% 8.0/8.0 MB' '$tmp/l' &&
  grep -q 'writing $tmp/u16.safetensors (4.0 MB)' '$tmp/l' && grep -q '307 tensors, 8.0 MB of data' '$tmp/l'"
check convert_bar_fits awk 'length($0) > 79 && !/tensors, / { print "too wide: " $0; bad = 1 } END { exit bad }' "$tmp/l"
run convert $R/unet_a/model.pt "$tmp/u32.safetensors"
check convert_pipe sh -c "[ $rc = 0 ] && [ \$(wc -l < '$tmp/o') = 1 ] && grep -q '^reading model.pt .* 100% 8.1/8.1 MB' '$tmp/e' &&
  ! grep -q \"\$(printf '\\033')\" '$tmp/e' && ! grep -q 'to fp16\|writing' '$tmp/e'"
run convert "$tmp/nothere.pt" "$tmp/x.safetensors"
check convert_missing_no_bar sh -c "[ $rc = 1 ] && grep -q 'nothere.pt' '$tmp/e' && ! grep -q reading '$tmp/e'"
script -qec "stty cols 80; $A model add chk --db $DB --unet $R/unet_a/model.pt --config $R/unet_a/config.txt --check" /dev/null > "$tmp/tty" 2>&1
lines "$tmp/tty" > "$tmp/l"
check model_add_check_bar grep -q '^reading model.pt \[#*\] 100% 8.1/8.1 MB' "$tmp/l"
check model_add_check_sha [ "$(sqlite3 "$DB" "SELECT unet_sha256 FROM models WHERE name = 'chk'")" = "$sha" ]
script -qec "stty cols 80; $A model add hsh --db $DB --unet $R/unet_a/model.pt --config $R/unet_a/config.txt" /dev/null > "$tmp/tty" 2>&1
lines "$tmp/tty" > "$tmp/l"
check model_add_hash_bar sh -c "grep -q '^hashing model.pt \[#*\] 100% 8.1/8.1 MB' '$tmp/l' && ! grep -q '^reading' '$tmp/l'"
run model add bad --db "$DB" --unet $R/unet_b/model.pt --config $R/unet_a/config.txt --check
check model_add_check_fails_clean sh -c "[ $rc = 1 ] && grep -q '^admctl: ' '$tmp/e' && grep -q 'reading model.pt .* 100%' '$tmp/e'"
