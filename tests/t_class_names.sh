#!/bin/sh
# t_class_names.sh — class names end to end on a real SQLite spool: `admctl
# init` gives mnist the digits' names; `model add` gives a 1000-class model
# (the 64x64 preset on a stand-in file) the ImageNet names, takes --labels
# FILE (its count checked) and --no-labels; `model show/list` print them;
# `submit --class "Pembroke Welsh Corgi"` finds 263, an ambiguous or unknown
# name fails with the candidates and a non-zero exit, numbers and lists keep
# working; a real admd job asked for "seven" (one-job path and --batch pool)
# writes PNGs whose adm:class-name chunk (read back by a PNG chunk parser
# that checks every CRC) says so, and `show`, `show --json`, `sheet`,
# `audit`, `sweep`, `generate` and `sample` use the name.
. tests/daemon_common.sh
need "$ADMCTL" python3
A=$ADMCTL
tmp=$T
M=$(pwd)/models/mnist
export ADMD_DB="$DB"

run init
check names_init [ $rc = 0 ]
check names_mnist_registered [ "$(q "SELECT labels FROM models WHERE name = 'mnist'" | tr '\n' ,)" = "zero,one,two,three,four,five,six,seven,eight,nine," ]
# an old spool's mnist without names gets them from the next init, and keeps other settings
q "UPDATE models SET labels = NULL, default_scale = 3 WHERE name = 'mnist'"
run init
check names_init_adds_to_old_spool sh -c "[ $rc = 0 ] && grep -q 'class names zero..nine added' '$tmp/o' &&
  [ \"\$(sqlite3 '$DB' \"SELECT default_scale, substr(labels, 1, 8) FROM models WHERE name = 'mnist'\")\" = '3.0|zero
one' ]"

# a 1000-class model: ImageNet's names by default
echo stand-in > "$T/unet.pt"
run model add im64 --preset 64x64 --unet "$T/unet.pt"
check names_imagenet_default sh -c "[ $rc = 0 ] && grep -q 'class names 1000' '$tmp/o' &&
  [ \"\$(sqlite3 '$DB' \"SELECT length(labels) - length(replace(labels, char(10), '')) + 1 FROM models WHERE name = 'im64'\")\" = 1000 ]"
run model show im64
check names_model_show sh -c "[ $rc = 0 ] && grep -q '^    263  Pembroke, Pembroke Welsh corgi$' '$tmp/o' &&
  grep -q '^      0  tench, Tinca tinca$' '$tmp/o' && grep -q '^    999  toilet tissue' '$tmp/o'"
run model show im64 --json
check names_model_show_json sh -c "[ $rc = 0 ] && python3 -c \"import json,sys; d=json.load(open('$tmp/o')); n=d['class_names']; sys.exit(not (len(n) == 1000 and n[263] == 'Pembroke, Pembroke Welsh corgi'))\""
run model list
check names_model_list sh -c "[ $rc = 0 ] && grep -q 'names       1000: tench, goldfish' '$tmp/o' && grep -q 'names       10: zero, one, two' '$tmp/o'"
run model list --json
check names_model_list_json python3 -c "import json,sys; d={m['name']: m['class_names'] for m in json.load(open('$tmp/o'))}; sys.exit(not (d['mnist'][7] == 'seven' and len(d['im64']) == 1000))"

# --labels FILE: comments and blanks, the count checked against the model's classes
printf '# my names\n%s\n' $(seq 0 998 | sed 's/^/thing-/') > "$T/999.txt"
run model add bad --preset 64x64 --unet "$T/unet.pt" --labels "$T/999.txt"
check names_labels_count_checked sh -c "[ $rc = 1 ] && grep -q '999.txt has 999 class names, the model has 1000 classes' '$tmp/e' &&
  [ -z \"\$(sqlite3 '$DB' \"SELECT name FROM models WHERE name = 'bad'\")\" ]"
printf 'thing-999\n\n' >> "$T/999.txt"
run model add own --preset 64x64 --unet "$T/unet.pt" --labels "$T/999.txt"
check names_labels_file sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT substr(labels, 1, 15) FROM models WHERE name = 'own'\")\" = 'thing-0
thing-1' ]"
run model add plain --preset 64x64 --unet "$T/unet.pt" --no-labels
check names_no_labels sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT labels IS NULL FROM models WHERE name = 'plain'\")\" = 1 ]"
run model labels plain "$T/999.txt"
check names_model_labels_set sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT labels IS NOT NULL FROM models WHERE name = 'plain'\")\" = 1 ]"
run model labels plain --none
check names_model_labels_none sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT labels IS NULL FROM models WHERE name = 'plain'\")\" = 1 ]"

# submit by name: the paper's spelling, a synonym, numbers as before, a list of names
run submit --model im64 --class "Pembroke Welsh Corgi" --count 1
check names_submit_corgi sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT class FROM jobs WHERE id = $(cat "$tmp/o")\")\" = 263 ]"
run submit --model im64 --class tiger
check names_submit_synonym sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT class FROM jobs WHERE id = $(cat "$tmp/o")\")\" = 292 ]"
run submit --model im64 --class 207
check names_submit_number sh -c "[ $rc = 0 ] && [ \"\$(sqlite3 '$DB' \"SELECT class FROM jobs WHERE id = $(cat "$tmp/o")\")\" = 207 ]"
run submit --model im64 --class "tabby, tiger cat, 207" --json
check names_submit_list python3 -c "import json,sqlite3,sys; ids=json.load(open('$tmp/o'))['ids']; c=[sqlite3.connect('$DB').execute('SELECT class FROM jobs WHERE id = ?', (i,)).fetchone()[0] for i in ids]; sys.exit(c != [281, 282, 207])"
jobs=$(q "SELECT count(*) FROM jobs")
CMD=submit
expect_fail names_ambiguous "matches 2 classes of model im64: 263 'Pembroke, Pembroke Welsh corgi', 264 'Cardigan, Cardigan Welsh corgi'" --model im64 --class corgi
expect_fail names_same_name "134 'crane', 517 'crane'" --model im64 --class crane
expect_fail names_unknown "no class of model im64 is called 'corgy'" --model im64 --class corgy
expect_fail names_model_without_names "model plain has no class names" --model plain --class corgi
check names_nothing_queued_by_failures [ "$(q "SELECT count(*) FROM jobs")" = "$jobs" ]
CMD=

# a real job asked for by name, through admd
run submit --model mnist --class seven --count 2 --respacing 3 --seed 5 --scale 2
check names_submit_seven [ $rc = 0 ]
id=$(cat "$tmp/o")
run submit --model mnist --count 2 --respacing 3 --seed 5 --scale 2
rid=$(cat "$tmp/o")
q "UPDATE jobs SET state = 'cancelled' WHERE model <> 'mnist'"
"$ADMD" --db "$DB" --drain $DEVICE_ARGS > "$T/admd.log" 2>&1
check names_job_done [ "$(q "SELECT group_concat(state) FROM jobs WHERE id IN ($id, $rid)")" = "done,done" ]
# every chunk of the PNG, CRCs checked: tEXt key=value lines
chunks() {
  python3 - "$1" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
i = 8
while i < len(d):
    n, = struct.unpack('>I', d[i:i + 4]); t = d[i + 4:i + 8]; body = d[i + 8:i + 8 + n]
    crc, = struct.unpack('>I', d[i + 8 + n:i + 12 + n])
    assert crc == zlib.crc32(t + body) & 0xffffffff, 'bad CRC'
    if t == b'tEXt':
        k, v = body.split(b'\0', 1); print(k.decode('latin-1') + '=' + v.decode('latin-1'))
    i += 12 + n
EOF
}
p0=$(q "SELECT path FROM outputs WHERE job_id = $id AND idx = 0")
chunks "$p0" > "$T/chunks" 2>&1
check names_png_chunk sh -c "grep -qx 'adm:class=7' '$T/chunks' && grep -qx 'adm:class-name=seven' '$T/chunks' &&
  [ \"\$(grep -A1 -x 'adm:class=7' '$T/chunks' | tail -1)\" = 'adm:class-name=seven' ]"
# random classes: each image's own name
for k in 0 1; do
  c=$(q "SELECT class FROM outputs WHERE job_id = $rid AND idx = $k")
  want=$(q "SELECT labels FROM models WHERE name = 'mnist'" | sed -n "$((c + 1))p")
  chunks "$(q "SELECT path FROM outputs WHERE job_id = $rid AND idx = $k")" > "$T/chunks$k"
  check "names_png_chunk_random_$k" grep -qx "adm:class-name=$want" "$T/chunks$k"
done
# admd's pool (--batch): two jobs of the model in one pass, each image with its own class's name
run submit --model mnist --class "seven, two" --count 1 --respacing 3 --seed 5 --scale 2 --json
pids=$(python3 -c "import json; print(','.join(str(i) for i in json.load(open('$tmp/o'))['ids']))")
"$ADMD" --db "$DB" --drain --batch 4 $DEVICE_ARGS > "$T/admd-pool.log" 2>&1
check names_pool_jobs_done [ "$(q "SELECT group_concat(state) FROM jobs WHERE id IN ($pids)")" = "done,done" ]
for j in $(echo "$pids" | tr , ' '); do
  c=$(q "SELECT class FROM outputs WHERE job_id = $j AND idx = 0")
  want=$(q "SELECT labels FROM models WHERE name = 'mnist'" | sed -n "$((c + 1))p")
  chunks "$(q "SELECT path FROM outputs WHERE job_id = $j AND idx = 0")" > "$T/pchunks"
  check "names_pool_png_chunk_$c" grep -qx "adm:class-name=$want" "$T/pchunks"
done
run show "$id"
check names_show sh -c "[ $rc = 0 ] && grep -q '^  class       7 (seven)$' '$tmp/o' && grep -q 'class 7 (seven), 2 image' '$tmp/o' &&
  grep -q '^     0  class 7   (seven) ' '$tmp/o'"
run show "$id" --json
check names_show_json python3 -c "import json,sys; j=json.load(open('$tmp/o'))[0]; sys.exit(not (j['class_name'] == 'seven' and [o['class_name'] for o in j['outputs']] == ['seven', 'seven']))"
run sheet "$id" "$rid" --out "$T/sheet.png"
check names_sheet sh -c "[ $rc = 0 ] && [ -s '$T/sheet.png' ]"
run audit "$id" "$rid" $DEVICE_ARGS
check names_audit_identical sh -c "[ $rc = 0 ] && [ \$(grep -c 'identical bytes' '$tmp/o') = 4 ]"
# the model's names changed later: the files keep theirs, and audit still checks them byte for byte
run model labels mnist "$T/999.txt"
check names_labels_count_checked_on_set sh -c "[ $rc = 1 ] && grep -q 'the model has 10 classes' '$tmp/e'"
printf 'null\neins\nzwei\ndrei\nvier\nfuenf\nsechs\nsieben\nacht\nneun\n' > "$T/de.txt"
run model labels mnist "$T/de.txt"
run audit "$id" $DEVICE_ARGS
check names_audit_after_rename sh -c "[ $rc = 0 ] && [ \$(grep -c 'identical bytes' '$tmp/o') = 2 ]"
run show "$id"
check names_show_renamed grep -q '^  class       7 (sieben)$' "$tmp/o"

# sweep: --class by name, the class named in the chart's title
last=$(q "SELECT max(id) FROM jobs")
run sweep --model mnist --scales 0,2 --count 1 --class sieben --respacing 3 --seed 2 --drain --out-dir "$T/sw" $DEVICE_ARGS
check names_sweep sh -c "[ $rc = 0 ] && grep -q 'chart: $T/sw/sweep.png (mnist, class 7 (sieben): guidance sweep)' '$tmp/o' &&
  [ \"\$(sqlite3 '$DB' \"SELECT group_concat(DISTINCT class) FROM jobs WHERE id > $last\")\" = 7 ]"

# generate: a name, the same image as admd's (bar the job number) with the same chunk
run generate -m mnist -c sieben -n 1 -s 5 --steps 3 --scale 2 -o "$T/g" $DEVICE_ARGS
chunks "$T/g/000000.png" > "$T/gchunks" 2>&1
check names_generate sh -c "[ $rc = 0 ] && grep -qx 'adm:class=7' '$T/gchunks' && grep -qx 'adm:class-name=sieben' '$T/gchunks'"
CMD=generate
expect_fail names_generate_unknown "no class of model mnist is called 'elf'" -m mnist -c elf -n 1 --steps 2 -o "$T/g2"
CMD=

# sample (checkpoint files, no spool): --class by name from --labels FILE, admd:class-name in its PNGs
run sample --unet "$M/unet.safetensors" --unet-config "$M/unet.config.txt" --sampler ddpm --respacing 2 \
  --seed 1 --count 1 --class sieben --labels "$T/de.txt" --out "$T/s.npy" --png-dir "$T/sp" $DEVICE_ARGS
chunks "$T/sp/sample_00000.png" > "$T/schunks" 2>&1
check names_sample sh -c "[ $rc = 0 ] && grep -qx 'admd:class=7' '$T/schunks' && grep -qx 'admd:class-name=sieben' '$T/schunks'"
CMD=sample
expect_fail names_sample_without_names "has no class names" --unet "$M/unet.safetensors" --unet-config "$M/unet.config.txt" \
  --sampler ddpm --respacing 2 --seed 1 --count 1 --class sieben --out "$T/s2.npy"
CMD=
